/**
 * Notes: a case's or a person's notes, newest first; append one; amend one (a new note pointing at the one it
 * corrects, which stays as it was and is shown "amended by"). Ops see that notes exist and when, never their
 * bodies. Reads are audited per note shown (or per case or person when there are none); writes are audited by
 * the record store in the same transaction as the note, with who, role, setting, operation and request.
 */
import { addNote, amendNote, checkedNhsNumber, findNote, findPatient, listNotes, type NoteItem } from '../../engine';
import { NotFoundError } from '../../domain/errors';
import { WITHHELD, authorize, type Decision, type View } from '../policy';
import {
  actorOf,
  caseIdParam,
  decide,
  decideOnCase,
  nhsNumberParam,
  pageOf,
  requireRole,
  withQueryPointers,
  type AuditEntry,
  type RouteContext,
  type RouteSpec,
} from './operation';
import { PARAMETER_SCHEMAS } from './schemas';

const noteIdParam = { noteId: PARAMETER_SCHEMAS.uuid };

/** A note as the person may see it: without its words (and why it was amended) unless they may see clinical content. */
function shown(note: NoteItem, view: View) {
  const { settings: _settings, patientId: _patientId, ...rest } = note;
  if (view.clinicalContent) return rest;
  return { ...rest, body: WITHHELD, amendmentReason: rest.amendmentReason === null ? null : WITHHELD };
}

/** Who writes: the signed-in person, allowed through the decision's setting, for its purpose. */
function writerOf(ctx: RouteContext, decision: Decision & { allowed: true }) {
  return { ...actorOf(ctx, decision), purpose: decision.purpose };
}

/** A page of notes, each asked of the policy again; audited per note shown, or once for the record when none are. */
async function notePage(
  ctx: RouteContext,
  query: Parameters<typeof listNotes>[1],
  decision: Decision & { allowed: true },
  record: Pick<AuditEntry, 'entityType' | 'entityId' | 'patientId'>,
) {
  const page = await withQueryPointers(() => listNotes(ctx.engine.store, query));
  const visible = page.items.flatMap((note) => {
    const allowed = authorize(ctx.principal, 'note.list', { settings: note.settings });
    return allowed.allowed ? [{ note, allowed }] : [];
  });
  await ctx.audit(
    visible.length > 0
      ? visible.map(({ note, allowed }) => ({
          decision: allowed,
          action: 'read' as const,
          operation: 'note.list' as const,
          entityType: 'Note',
          entityId: note.noteId,
          patientId: note.patientId,
        }))
      : [{ decision, action: 'read', operation: 'note.list', ...record, reason: 'listed its notes: none shown' }],
  );
  return {
    body: {
      items: visible.map(({ note, allowed }) => shown(note, allowed.view)),
      nextCursor: page.nextCursor,
    },
  };
}

export const NOTE_ROUTES: readonly RouteSpec[] = [
  {
    method: 'get',
    path: '/cases/{caseId}/notes',
    operationId: 'listCaseNotes',
    summary: 'A case’s notes, newest first, each original shown with the note that amends it',
    tag: 'notes',
    action: 'note.list',
    patientData: true,
    params: caseIdParam,
    query: 'NoteListQuery',
    success: { status: 200, schema: 'NotePage', description: 'a page of notes' },
    async handle(ctx) {
      const { found, decision } = await decideOnCase(ctx, 'note.list');
      return notePage(
        ctx,
        {
          scope: found.settings,
          caseId: found.caseId,
          ...pageOf(ctx.query),
        },
        decision,
        { entityType: 'Case', entityId: found.caseId, patientId: found.patientId },
      );
    },
  },
  {
    method: 'get',
    path: '/patients/{nhsNumber}/notes',
    operationId: 'listPatientNotes',
    summary: 'A person’s notes in the settings you work in (of their cases there, and about them), newest first',
    tag: 'notes',
    action: 'note.list',
    patientData: true,
    params: nhsNumberParam,
    query: 'NoteListQuery',
    success: { status: 200, schema: 'NotePage', description: 'a page of notes' },
    async handle(ctx) {
      const nhsNumber = checkedNhsNumber(ctx.params['nhsNumber']!, '/path/nhsNumber');
      requireRole(ctx.principal, 'note.list');
      const notFound = 'No record of this person in the settings you work in';
      const patient = await findPatient(ctx.engine.store, nhsNumber);
      if (!patient) throw new NotFoundError(notFound);
      const decision = decide(
        ctx.principal,
        'note.list',
        { settings: patient.settings, restricted: patient.restricted },
        notFound,
      );
      return notePage(
        ctx,
        {
          // Notes of the person's cases in one's own settings only: another setting's case stays its own.
          scope: ctx.principal.settings,
          patientId: patient.patientId,
          ...pageOf(ctx.query),
        },
        decision,
        { entityType: 'Patient', entityId: patient.patientId, patientId: patient.patientId },
      );
    },
  },
  {
    method: 'post',
    path: '/cases/{caseId}/notes',
    operationId: 'addCaseNote',
    summary: 'Append a note to a case, written by you',
    tag: 'notes',
    action: 'note.create',
    patientData: true,
    params: caseIdParam,
    body: 'AddNoteRequest',
    success: { status: 201, schema: 'Note', description: 'the note, as recorded' },
    async handle(ctx) {
      const { found, decision } = await decideOnCase(ctx, 'note.create');
      const note = await addNote(ctx.engine.store, ctx.engine.logger, {
        caseId: found.caseId,
        body: ctx.body['body'] as string,
        writer: writerOf(ctx, decision),
      });
      return { status: 201, body: shown(note, decision.view) };
    },
  },
  {
    method: 'post',
    path: '/notes/{noteId}/amendments',
    operationId: 'amendNote',
    summary: 'Amend a note: a new note by you that points at the one it corrects, which stays as it was',
    tag: 'notes',
    action: 'note.create',
    patientData: true,
    params: noteIdParam,
    body: 'AmendNoteRequest',
    success: { status: 201, schema: 'Note', description: 'the amendment, as recorded' },
    async handle(ctx) {
      requireRole(ctx.principal, 'note.create');
      const noteId = ctx.params['noteId']!;
      const original = await findNote(ctx.engine.store, noteId);
      if (!original) throw new NotFoundError(`No note ${noteId}`);
      const decision = decide(
        ctx.principal,
        'note.create',
        { settings: original.settings, restricted: original.restricted },
        `No note ${noteId}`,
      );
      const amendment = await amendNote(ctx.engine.store, ctx.engine.logger, {
        noteId,
        body: ctx.body['body'] as string,
        reason: ctx.body['reason'] as string,
        writer: writerOf(ctx, decision),
      });
      return { status: 201, body: shown(amendment, decision.view) };
    },
  },
];
