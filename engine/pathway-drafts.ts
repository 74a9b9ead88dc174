/**
 * The pathway designer's back end: drafts of BPMN saved on the server, published as new versions through the
 * ordinary deploy (its lint gate), and each version's history with how many cases run it now.
 *
 * A draft is a working copy, not a record: it is changed in place and discarded at will. Each save names the
 * revision it changes and makes the next one, so of two people saving the same draft the second is refused (a
 * ConflictError) instead of silently overwriting the first. Lint findings never block saving a draft, only
 * publishing it. Publishing removes the draft: the version it became is the immutable record of what was deployed,
 * by whom, when and why (its change note), and a draft kept after it would be a second, editable copy of that
 * version inviting changes that no longer lead anywhere. A draft saved again while it was being published is kept.
 */
import { compilePathway, PathwayCompileError, type CompiledPathway, type LintFinding } from '../bpmn';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors';
import { PathwayDraftSchema, PathwayVersionSchema, StaffSchema, type PathwayDraft, type Store } from '../store';
import type { CaseEngine } from './case-engine';
import { installedLintOptions } from './lint-options';
import { installationQuery, quoteListFilterValue } from './ops-queries';
import {
  deployPathway,
  getPathwayVersion,
  listPathwayVersions,
  type DeployedPathway,
  type PathwayVersionSummary,
} from './pathways';

/** The longest change note a version records. */
export const CHANGE_NOTE_MAX = 2_000;

export interface PathwayDraftSummary {
  readonly draftId: string;
  readonly pathwayId: string;
  readonly name: string;
  /** The deployed version it was started from; null when started from a file. */
  readonly basedOnVersion: number | null;
  readonly revision: number;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

export interface PathwayDraftView extends PathwayDraftSummary {
  readonly xml: string;
  /** The lint findings of the XML as saved, against this installation's task types and forms. */
  readonly findings: readonly LintFinding[];
  /** The newest deployed version of its pathway, null when none is: newer than `basedOnVersion`, someone published since. */
  readonly latestVersion: number | null;
}

/** Where a new draft starts: BPMN XML (a file), or a deployed version. */
export type DraftSource = { readonly xml: string } | { readonly pathwayId: string; readonly version: number };

/**
 * Compiles and lints XML against this installation's service task types and forms. XML that is not BPMN at all
 * (not XML, no process in it) is refused as a problem with `/xml`, not reported as a finding.
 */
export async function lintInstalledPathway(store: Store, xml: string): Promise<CompiledPathway> {
  try {
    return await compilePathway(xml, await installedLintOptions(store));
  } catch (error) {
    if (error instanceof PathwayCompileError)
      throw new ValidationError('The BPMN could not be read', [{ pointer: '/xml', detail: error.message }], {
        unprocessable: true,
      });
    throw error;
  }
}

function summaryOf(row: PathwayDraft): PathwayDraftSummary {
  return {
    draftId: row.id,
    pathwayId: row.pathwayId,
    name: row.name,
    basedOnVersion: row.basedOnVersion ?? null,
    revision: row.revision,
    createdAt: row.createdAt.toISOString(),
    createdBy: row.createdBy,
    updatedAt: row.updatedAt.toISOString(),
    updatedBy: row.updatedBy,
  };
}

async function latestVersionOf(store: Store, pathwayId: string): Promise<number | null> {
  const latest = await store
    .fork()
    .findOne(PathwayVersionSchema, { pathwayId }, { orderBy: { version: 'desc' }, fields: ['version'] });
  return latest?.version ?? null;
}

async function viewOf(store: Store, row: PathwayDraft, findings?: readonly LintFinding[]): Promise<PathwayDraftView> {
  return {
    ...summaryOf(row),
    xml: row.bpmnXml,
    findings: findings ?? (await lintInstalledPathway(store, row.bpmnXml)).findings,
    latestVersion: await latestVersionOf(store, row.pathwayId),
  };
}

/** A draft's name: the one given, else the process's name in the XML, else its id. */
const nameOf = (given: string | undefined, compiled: CompiledPathway) =>
  (given ?? compiled.ir.name ?? compiled.ir.processId).slice(0, 255);

/** Every draft, the most recently saved first, without their XML. */
export async function listPathwayDrafts(store: Store): Promise<PathwayDraftSummary[]> {
  const rows = await store.fork().find(PathwayDraftSchema, {}, { orderBy: { updatedAt: 'desc', id: 'asc' } });
  return rows.map(summaryOf);
}

export async function createPathwayDraft(
  store: Store,
  source: DraftSource,
  options: { readonly by: string; readonly name?: string },
): Promise<PathwayDraftView> {
  const from = 'xml' in source ? undefined : await getPathwayVersion(store, source.pathwayId, source.version);
  const xml = 'xml' in source ? source.xml : from!.bpmnXml;
  const compiled = await lintInstalledPathway(store, xml);
  const em = store.fork();
  const now = new Date();
  const row = em.create(PathwayDraftSchema, {
    pathwayId: compiled.ir.processId,
    name: nameOf(options.name, compiled),
    bpmnXml: xml,
    basedOnVersion: from?.version ?? null,
    revision: 1,
    createdAt: now,
    createdBy: options.by,
    updatedAt: now,
    updatedBy: options.by,
  });
  await em.flush();
  return viewOf(store, row, compiled.findings);
}

async function findDraft(store: Store, draftId: string): Promise<PathwayDraft> {
  const row = await store.fork().findOne(PathwayDraftSchema, { id: draftId });
  if (!row) throw new NotFoundError(`No pathway draft ${draftId}`);
  return row;
}

export async function getPathwayDraft(store: Store, draftId: string): Promise<PathwayDraftView> {
  return viewOf(store, await findDraft(store, draftId));
}

function staleRevision(draft: PathwayDraft, revision: number): ConflictError {
  return new ConflictError(
    `Draft ${draft.id} is at revision ${draft.revision}, not ${revision}: ${draft.updatedBy} saved it at ` +
      `${draft.updatedAt.toISOString()}. Open it again to see their changes before saving yours.`,
  );
}

/** Saves new XML over revision `revision` of a draft; a ConflictError when someone saved it since. */
export async function savePathwayDraft(
  store: Store,
  draftId: string,
  change: { readonly xml: string; readonly revision: number; readonly name?: string },
  by: string,
): Promise<PathwayDraftView> {
  const compiled = await lintInstalledPathway(store, change.xml);
  const em = store.fork();
  // The revision in the condition makes the check and the write one statement: no save can slip in between.
  const updated = await em.nativeUpdate(
    PathwayDraftSchema,
    { id: draftId, revision: change.revision },
    {
      pathwayId: compiled.ir.processId,
      bpmnXml: change.xml,
      revision: change.revision + 1,
      updatedAt: new Date(),
      updatedBy: by,
      ...(change.name !== undefined ? { name: change.name } : {}),
    },
  );
  const row = await findDraft(store, draftId);
  if (updated === 0) throw staleRevision(row, change.revision);
  return viewOf(store, row, compiled.findings);
}

/** Discards a draft (drafts are not clinical records); with `revision`, only if nobody saved it since. */
export async function discardPathwayDraft(store: Store, draftId: string, revision?: number): Promise<void> {
  const deleted = await store
    .fork()
    .nativeDelete(PathwayDraftSchema, revision === undefined ? { id: draftId } : { id: draftId, revision });
  if (deleted > 0) return;
  const row = await findDraft(store, draftId);
  throw staleRevision(row, revision!);
}

export interface PublishedDraft extends DeployedPathway {
  /** Whether the draft was removed: false when it was saved again while being published (it then holds newer work). */
  readonly draftRemoved: boolean;
}

/**
 * Publishes a draft: the ordinary deploy (a PathwayLintError, naming each element, when lint finds errors) of the
 * draft's XML as a new version recording who, when and the change note; then removes the draft. With `revision`,
 * refused (ConflictError) unless that is the revision saved, so what is published is what its publisher saw.
 * XML identical to a deployed version is refused too (ConflictError): there would be no new version to record
 * the change note with.
 */
export async function publishPathwayDraft(
  store: Store,
  draftId: string,
  request: { readonly changeNote: string; readonly revision?: number },
  by: string,
): Promise<PublishedDraft> {
  const draft = await findDraft(store, draftId);
  if (request.revision !== undefined && request.revision !== draft.revision)
    throw staleRevision(draft, request.revision);
  const changeNote = request.changeNote.trim();
  if (changeNote === '' || changeNote.length > CHANGE_NOTE_MAX)
    throw new ValidationError('Say what changed and why', [
      { pointer: '/changeNote', detail: `must be 1 to ${CHANGE_NOTE_MAX} characters, not only spaces` },
    ]);
  const lint = await installedLintOptions(store);
  await lintInstalledPathway(store, draft.bpmnXml);
  const deployed = await deployPathway(store, draft.bpmnXml, {
    ...lint,
    deployedBy: by,
    changeNote,
  });
  if (!deployed.created)
    throw new ConflictError(
      `This draft is identical to ${deployed.pathwayId} version ${deployed.version}: there is nothing new to publish`,
    );
  const removed = await store.fork().nativeDelete(PathwayDraftSchema, { id: draftId, revision: draft.revision });
  return { ...deployed, draftRemoved: removed > 0 };
}

export interface PathwayVersionHistoryEntry extends PathwayVersionSummary {
  /** The name of who deployed it in the staff directory; null when they are not in it (a script, the start-up). */
  readonly deployedByName: string | null;
  /** Cases running on this version now, across the installation (child pathway runs included). */
  readonly runningCases: number;
}

/**
 * Every version of a pathway, newest first, with who deployed it, when, the change note, and how many cases run
 * it now, counted through Temporal visibility over the case workflows of the whole installation: counts only,
 * never which cases. A call activity's run counts for the version of the pathway it calls.
 */
export async function pathwayVersionHistory(
  engine: CaseEngine,
  pathwayId: string,
): Promise<PathwayVersionHistoryEntry[]> {
  const versions = await listPathwayVersions(engine.store, pathwayId);
  if (versions.length === 0) throw new NotFoundError(`No pathway ${pathwayId} is deployed`);
  const names = await staffNamesBySubject(engine.store, [...new Set(versions.map((v) => v.deployedBy))]);
  return Promise.all(
    versions.map(async (version) => {
      const { count } = await engine.client.workflow.count(
        installationQuery(
          `PathwayId = ${quoteListFilterValue(pathwayId)} AND PathwayVersion = ${version.version} AND ExecutionStatus = 'Running'`,
        ),
      );
      return { ...version, deployedByName: names.get(version.deployedBy) ?? null, runningCases: count };
    }),
  );
}

async function staffNamesBySubject(store: Store, subjects: readonly string[]): Promise<Map<string, string>> {
  const staff = await store
    .fork()
    .find(StaffSchema, { subject: { $in: [...subjects] } }, { fields: ['subject', 'displayName'] });
  return new Map(staff.map((member) => [member.subject, member.displayName]));
}
