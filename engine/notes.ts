/**
 * Contemporaneous notes for the API and screens: a case's or a person's notes, newest first, keyset paged, each
 * with the note that amends it (if any) so that an original is always shown with "amended by"; appending a
 * note; and amending one, which appends a new note pointing at the one it corrects. Notes are never changed or
 * deleted (the database refuses it: store/migrations, append-only records); writes go through the record
 * activities, which audit them in the same transaction.
 */
import { randomUUID } from 'node:crypto';
import { createRecordActivities } from '../activities/records';
import { ConflictError } from '../domain/errors';
import type { Logger } from '../log';
import type { Store } from '../store';
import { isRestrictedPatient } from './case-list';
import { knexOf, settingsOfCases } from './case-settings';
import { encodeCursor, type Page } from './paging';
import {
  UUID_PATTERN,
  actorFor,
  decodeInstantCursor,
  fromRecordFailure,
  settingsOfPatient,
  type RecordWriter,
} from './record-writer';

export interface NoteItem {
  readonly noteId: string;
  readonly patientId: string;
  readonly caseId: string | null;
  readonly body: string;
  /** A staff id (with the name the staff directory gives it), or `system:pathway` for what the pathway wrote. */
  readonly author: { readonly id: string; readonly role: string; readonly name: string | null };
  readonly writtenAt: string;
  /** The note this one corrects, and why. */
  readonly amends: string | null;
  readonly amendmentReason: string | null;
  /** The note that corrects this one: the original stays as it was written, shown with it. */
  readonly amendedBy: { readonly noteId: string; readonly writtenAt: string } | null;
  /** The settings the note belongs to: its case's, or for a note about the person, those of all their cases. */
  readonly settings: string[];
}

export interface NoteListQuery {
  /** Only notes of cases belonging to one of these settings (ODS codes), and notes about the person itself. */
  readonly scope: readonly string[];
  readonly caseId?: string;
  readonly patientId?: string;
  readonly limit: number;
  readonly cursor?: string;
}

interface NoteRow {
  id: string;
  patient_id: string;
  case_id: string | null;
  body: string;
  author_id: string;
  author_role: string;
  author_name: string | null;
  written_at: Date;
  /** written_at as PostgreSQL's full-precision text: the cursor must not lose its microseconds. */
  written_key: string;
  amends_id: string | null;
  amendment_reason: string | null;
  amended_by_id: string | null;
  amended_by_at: Date | null;
}

function selectNotes(store: Store) {
  const knex = knexOf(store);
  return (
    knex('notes as n')
      .leftJoin('notes as a', 'a.amends_id', 'n.id')
      // Authors are staff ids, or `system:pathway`: compared as text, so the latter simply finds no one.
      .joinRaw('left join staff as st on st.id::text = n.author_id')
      .select<NoteRow[]>(
        'n.id',
        'n.patient_id',
        'n.case_id',
        'n.body',
        'n.author_id',
        'n.author_role',
        'st.display_name as author_name',
        'n.written_at',
        knex.raw(`to_json(n.written_at)#>>'{}' as written_key`),
        'n.amends_id',
        'n.amendment_reason',
        'a.id as amended_by_id',
        'a.written_at as amended_by_at',
      )
  );
}

async function toItems(store: Store, rows: readonly NoteRow[]): Promise<NoteItem[]> {
  const caseSettings = await settingsOfCases(store, [...new Set(rows.flatMap((r) => (r.case_id ? [r.case_id] : [])))]);
  const patientSettings = new Map<string, string[]>();
  for (const patientId of new Set(rows.filter((r) => !r.case_id).map((r) => r.patient_id)))
    patientSettings.set(patientId, await settingsOfPatient(store, patientId));
  return rows.map((r) => ({
    noteId: r.id,
    patientId: r.patient_id,
    caseId: r.case_id,
    body: r.body,
    author: { id: r.author_id, role: r.author_role, name: r.author_name },
    writtenAt: new Date(r.written_at).toISOString(),
    amends: r.amends_id,
    amendmentReason: r.amendment_reason,
    amendedBy:
      r.amended_by_id && r.amended_by_at
        ? { noteId: r.amended_by_id, writtenAt: new Date(r.amended_by_at).toISOString() }
        : null,
    settings: (r.case_id ? caseSettings.get(r.case_id) : patientSettings.get(r.patient_id)) ?? [],
  }));
}

/** Notes of a case or a person in the caller's scope, newest first (written_at, then id), keyset paged. */
export async function listNotes(store: Store, query: NoteListQuery): Promise<Page<NoteItem>> {
  if (query.scope.length === 0 || (!query.caseId && !query.patientId)) return { items: [], nextCursor: null };
  const knex = knexOf(store);
  const q = selectNotes(store)
    .where((w) => {
      void w.whereNull('n.case_id').orWhereExists(
        knex('case_settings as cs')
          .join('settings as s', 's.id', 'cs.setting_id')
          .whereRaw('cs.case_id = n.case_id')
          .whereIn('s.ods_code', [...query.scope]),
      );
    })
    .orderBy([
      { column: 'n.written_at', order: 'desc' },
      { column: 'n.id', order: 'desc' },
    ])
    .limit(query.limit + 1);
  if (query.caseId) void q.where('n.case_id', query.caseId);
  if (query.patientId) void q.where('n.patient_id', query.patientId);
  if (query.cursor) {
    const [writtenAt, id] = decodeInstantCursor(query.cursor);
    void q.whereRaw('(n.written_at, n.id) < (?::timestamptz, ?::uuid)', [writtenAt, id]);
  }
  const rows = await q;
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    items: await toItems(store, page),
    nextCursor: rows.length > query.limit && last ? encodeCursor([last.written_key, last.id]) : null,
  };
}

/** One note with its settings and whether its person's record is restricted; undefined when unknown. */
export async function findNote(
  store: Store,
  noteId: string,
): Promise<(NoteItem & { readonly restricted: boolean }) | undefined> {
  if (!UUID_PATTERN.test(noteId)) return undefined;
  const row = await selectNotes(store).where('n.id', noteId).first();
  if (!row) return undefined;
  const [item] = await toItems(store, [row]);
  return { ...item!, restricted: await isRestrictedPatient(store, row.patient_id) };
}

export interface AddNoteCommand {
  readonly caseId: string;
  readonly body: string;
  /** The author, who is also the audit event's actor. */
  readonly writer: RecordWriter;
}

/** Appends a note to a case, written by the signed-in person; audited (`note.create`) with the write. */
export async function addNote(store: Store, logger: Logger, command: AddNoteCommand): Promise<NoteItem> {
  const noteId = randomUUID();
  await createRecordActivities({ store, logger })
    .addNote({
      noteId,
      caseId: command.caseId,
      body: command.body,
      author: { id: command.writer.id, role: command.writer.role },
      actor: actorFor(command.writer, 'note.create'),
    })
    .catch(fromRecordFailure);
  return (await findNote(store, noteId))!;
}

export interface AmendNoteCommand {
  /** The note being corrected: the latest version of its chain. */
  readonly noteId: string;
  readonly body: string;
  readonly reason: string;
  readonly writer: RecordWriter;
}

/**
 * Amends a note: a new note, by the signed-in person, that points at the one it corrects, which stays as it was.
 * Only the latest version of a chain can be amended (a ConflictError names it otherwise), so a chain never forks.
 */
export async function amendNote(store: Store, logger: Logger, command: AmendNoteCommand): Promise<NoteItem> {
  const original = await findNote(store, command.noteId);
  if (original?.amendedBy)
    throw new ConflictError(
      `Note ${command.noteId} was already amended by note ${original.amendedBy.noteId}: amend the latest version`,
    );
  const noteId = randomUUID();
  await createRecordActivities({ store, logger })
    .amendNote({
      noteId,
      amendsNoteId: command.noteId,
      body: command.body,
      reason: command.reason,
      author: { id: command.writer.id, role: command.writer.role },
      // The reason is kept with the note; the audit trail says only what was amended.
      actor: actorFor(command.writer, 'note.create', `amends note ${command.noteId}`),
    })
    .catch(fromRecordFailure);
  return (await findNote(store, noteId))!;
}
