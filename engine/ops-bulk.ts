/**
 * Bulk actions on cases, done as operators need them done: a preview freezes the exact cases a query matches now
 * (their workflow and run ids, in order); applying acts on exactly those, never on "whatever matches now", one case
 * at a time, recording each case's outcome as it goes, so progress can be shown and a crash resumes where it
 * stopped; cancelling stops before the next case. Every preview, apply and cancel is in the operations log.
 *
 * Actions: `retry` (retry the case's failing activities now, and its open incidents), `cancel` (end the case with a
 * reason, as `case terminate` does).
 */
import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError, ThroughcareError, ValidationError } from '../domain/errors';
import type { CaseEngine } from './case-engine';
import { knexOf } from './case-settings';
import { terminateCase } from './case-termination';
import { listIncidents } from './incidents';
import { logOpsAction, opsListQuery, refusedQuery, retryFailingActivities, type OpsActor } from './ops';
import { childWorkflowsCondition, isCaseWorkflowId, type OpsThresholds, type OpsView } from './ops-queries';
import { completeTask } from './tasks';

export const BULK_ACTIONS = ['retry', 'cancel'] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];

/** The most cases one bulk action may touch: beyond it, narrow the query (a preview is read and checked by a person). */
export const MAX_BULK_CASES = 1_000;

export interface BulkPreviewRequest {
  readonly action: BulkAction;
  readonly settings: readonly string[];
  readonly view?: OpsView;
  readonly query?: string;
  readonly thresholds?: OpsThresholds;
  /** Required to cancel: kept with each case. */
  readonly reason?: string;
}

export type BulkStatus = 'previewed' | 'running' | 'cancelled' | 'completed';
export type BulkCaseOutcome = 'pending' | 'succeeded' | 'failed' | 'skipped';

export interface BulkOperation {
  readonly id: string;
  readonly action: BulkAction;
  readonly reason: string | null;
  /** The full query the preview ran (scope included). */
  readonly query: string;
  readonly settings: string[];
  readonly createdBy: string;
  readonly createdByName: string | null;
  readonly createdAt: string;
  readonly status: BulkStatus;
  readonly appliedBy: string | null;
  readonly appliedAt: string | null;
  readonly finishedAt: string | null;
  readonly progress: Record<BulkCaseOutcome, number> & { readonly total: number };
  readonly cases: {
    readonly caseId: string;
    readonly workflowId: string;
    readonly runId: string;
    readonly outcome: BulkCaseOutcome;
    readonly detail: string | null;
    readonly doneAt: string | null;
  }[];
}

interface OperationRow {
  id: string;
  action: BulkAction;
  parameters: { reason?: string };
  query: string;
  settings: string[];
  created_by: string;
  created_by_name: string | null;
  created_at: Date;
  status: BulkStatus;
  applied_by: string | null;
  applied_at: Date | null;
  finished_at: Date | null;
}

interface CaseRow {
  position: number;
  case_id: string;
  workflow_id: string;
  run_id: string;
  outcome: BulkCaseOutcome;
  detail: string | null;
  done_at: Date | null;
}

const iso = (value: Date | null) => (value ? new Date(value).toISOString() : null);

/** Freezes the cases the query matches now: the preview a person checks before applying. */
export async function previewBulkOperation(
  engine: CaseEngine,
  request: BulkPreviewRequest,
  actor: OpsActor,
): Promise<BulkOperation> {
  if (!BULK_ACTIONS.includes(request.action))
    throw new ValidationError(`Unknown bulk action '${String(request.action)}'`, [
      { pointer: '/action', detail: `must be one of ${BULK_ACTIONS.join(', ')}` },
    ]);
  const reason = request.reason?.trim() ?? '';
  if (request.action === 'cancel' && reason === '')
    throw new ValidationError('A reason is required to cancel cases', [
      { pointer: '/reason', detail: 'say why these cases end here: it is kept with each case and its tasks' },
    ]);
  if (!request.view && !request.query?.trim())
    throw new ValidationError('Say which cases: a view or a query', [
      { pointer: '/query', detail: 'choose a view or write a query; a bulk action never runs on every case' },
    ]);
  const query = opsListQuery(request);
  const matched: { workflowId: string; runId: string }[] = [];
  try {
    for await (const info of engine.client.workflow.list({ query })) {
      matched.push({ workflowId: info.workflowId, runId: info.runId });
      if (matched.length > MAX_BULK_CASES) break;
    }
  } catch (error) {
    throw refusedQuery(error, query, request.query);
  }
  // Child pathways act with their case (retry resets their activities; cancel ends the case itself).
  const cases = matched.filter((m) => isCaseWorkflowId(m.workflowId));
  if (cases.length > MAX_BULK_CASES)
    throw new ValidationError(`More than ${MAX_BULK_CASES} cases match: narrow the query`, [
      { pointer: '/query', detail: `matches more than ${MAX_BULK_CASES} cases` },
    ]);
  if (cases.length === 0) throw new ConflictError('No case matches: there is nothing to act on');
  const id = randomUUID();
  const knex = knexOf(engine.store);
  await knex.transaction(async (trx) => {
    await trx('ops_bulk_operations').insert({
      id,
      action: request.action,
      parameters: JSON.stringify(request.action === 'cancel' ? { reason } : {}),
      query,
      settings: [...request.settings],
      created_by: actor.id,
      created_by_name: actor.name ?? null,
    });
    await trx('ops_bulk_operation_cases').insert(
      cases.map((c, position) => ({
        operation_id: id,
        position,
        case_id: c.workflowId.slice('case-'.length),
        workflow_id: c.workflowId,
        run_id: c.runId,
      })),
    );
  });
  await logOpsAction(engine, actor, {
    action: `bulk-${request.action}.preview`,
    caseIds: cases.map((c) => c.workflowId.slice('case-'.length)),
    outcome: 'previewed',
    bulkOperationId: id,
    detail: { query },
  });
  return getBulkOperation(engine, id, request.settings);
}

/** A bulk operation with each case's outcome; not found outside the settings it was made in. */
export async function getBulkOperation(
  engine: CaseEngine,
  id: string,
  settings: readonly string[],
): Promise<BulkOperation> {
  const knex = knexOf(engine.store);
  const row = /^[0-9a-f-]{36}$/i.test(id)
    ? await knex('ops_bulk_operations').where({ id }).first<OperationRow | undefined>()
    : undefined;
  // Made in settings the person does not all work in: as if it did not exist.
  if (!row || !row.settings.every((code) => settings.includes(code)))
    throw new NotFoundError(`No bulk operation ${id}`);
  const cases = await knex('ops_bulk_operation_cases')
    .where({ operation_id: id })
    .orderBy('position')
    .select<CaseRow[]>('position', 'case_id', 'workflow_id', 'run_id', 'outcome', 'detail', 'done_at');
  const progress = { total: cases.length, pending: 0, succeeded: 0, failed: 0, skipped: 0 };
  for (const c of cases) progress[c.outcome] += 1;
  return {
    id: row.id,
    action: row.action,
    reason: row.parameters.reason ?? null,
    query: row.query,
    settings: row.settings,
    createdBy: row.created_by,
    createdByName: row.created_by_name,
    createdAt: new Date(row.created_at).toISOString(),
    status: row.status,
    appliedBy: row.applied_by,
    appliedAt: iso(row.applied_at),
    finishedAt: iso(row.finished_at),
    progress,
    cases: cases.map((c) => ({
      caseId: c.case_id,
      workflowId: c.workflow_id,
      runId: c.run_id,
      outcome: c.outcome,
      detail: c.detail,
      doneAt: iso(c.done_at),
    })),
  };
}

/** Recent bulk operations of the person's settings, newest first. */
export async function listBulkOperations(
  engine: CaseEngine,
  settings: readonly string[],
  limit = 20,
): Promise<Omit<BulkOperation, 'cases'>[]> {
  const knex = knexOf(engine.store);
  const rows = await knex('ops_bulk_operations')
    .whereRaw('settings <@ ?::text[]', [[...settings]])
    .orderBy('created_at', 'desc')
    .limit(limit)
    .select<OperationRow[]>('*');
  const operations = await Promise.all(rows.map((row) => getBulkOperation(engine, row.id, settings)));
  return operations.map(({ cases: _cases, ...operation }) => operation);
}

/**
 * Starts applying a previewed operation to its frozen cases and returns at once (202): the cases are worked through
 * in the background by `runBulkOperation`, and the operation's progress is read with `getBulkOperation`.
 */
export async function applyBulkOperation(
  engine: CaseEngine,
  id: string,
  settings: readonly string[],
  actor: OpsActor,
): Promise<BulkOperation> {
  await getBulkOperation(engine, id, settings);
  const knex = knexOf(engine.store);
  const started = await knex('ops_bulk_operations')
    .where({ id, status: 'previewed' })
    .update({ status: 'running', applied_by: actor.id, applied_at: knex.fn.now() });
  if (started === 0) {
    const current = await getBulkOperation(engine, id, settings);
    throw new ConflictError(`Bulk operation ${id} is ${current.status}: only a previewed one can be applied`);
  }
  await logOpsAction(engine, actor, {
    action: `bulk.apply`,
    caseIds: [],
    outcome: 'started',
    bulkOperationId: id,
  });
  void runBulkOperation(engine, id, actor).catch((error: unknown) =>
    engine.logger.error({ err: error, bulkOperationId: id }, 'bulk operation stopped; it resumes at the next start'),
  );
  return getBulkOperation(engine, id, settings);
}

/** Stops a running (or previewed) operation before its next case; cases already done stay done. */
export async function cancelBulkOperation(
  engine: CaseEngine,
  id: string,
  settings: readonly string[],
  actor: OpsActor,
): Promise<BulkOperation> {
  await getBulkOperation(engine, id, settings);
  const knex = knexOf(engine.store);
  const cancelled = await knex('ops_bulk_operations')
    .where({ id })
    .whereIn('status', ['previewed', 'running'])
    .update({ status: 'cancelled', finished_at: knex.fn.now() });
  if (cancelled === 0) {
    const current = await getBulkOperation(engine, id, settings);
    throw new ConflictError(`Bulk operation ${id} is already ${current.status}`);
  }
  await logOpsAction(engine, actor, { action: 'bulk.cancel', caseIds: [], outcome: 'cancelled', bulkOperationId: id });
  return getBulkOperation(engine, id, settings);
}

/** What one case's action did: `skipped` when there was nothing to do (no longer failing, already closed). */
async function actOnCase(
  engine: CaseEngine,
  operation: OperationRow,
  c: CaseRow,
  actor: OpsActor,
): Promise<{ outcome: BulkCaseOutcome; detail: string }> {
  const handle = engine.client.workflow.getHandle(c.workflow_id, c.run_id);
  const described = await handle.describe();
  if (described.status.name !== 'RUNNING')
    return { outcome: 'skipped', detail: `the case is ${described.status.name.toLowerCase()}` };
  if (operation.action === 'cancel') {
    await terminateCase(engine, c.case_id, {
      reason: operation.parameters.reason ?? 'cancelled by ops',
      terminatedBy: actor.id,
      role: 'ops',
    });
    return { outcome: 'succeeded', detail: 'cancelled' };
  }
  // retry: the failing activities of the case and its child pathways now, then its open incidents.
  const retried: string[] = [];
  const workflows = [c.workflow_id];
  for await (const child of engine.client.workflow.list({
    query: `${childWorkflowsCondition(c.workflow_id)} AND ExecutionStatus = 'Running'`,
  }))
    workflows.push(child.workflowId);
  for (const workflowId of workflows) {
    try {
      retried.push(...(await retryFailingActivities(engine, workflowId)).map((a) => `activity ${a}`));
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
    }
  }
  for (const incident of await listIncidents(engine, { caseId: c.case_id, open: true })) {
    await completeTask(engine, {
      taskId: incident.incidentId,
      data: { action: 'retry', reason: `bulk retry ${operation.id}` },
      completedBy: actor.id,
      completionId: `${operation.id}:${incident.incidentId}`,
    });
    retried.push(`incident at ${incident.elementId}`);
  }
  return retried.length > 0
    ? { outcome: 'succeeded', detail: `retried ${retried.join(', ')}` }
    : { outcome: 'skipped', detail: 'nothing was failing any more' };
}

/**
 * Works through the pending cases of a running operation, in order, each outcome recorded once; stops when the
 * operation is cancelled. Safe to run again after a crash: it continues with the cases still pending.
 */
export async function runBulkOperation(engine: CaseEngine, id: string, actor: OpsActor): Promise<void> {
  const knex = knexOf(engine.store);
  for (;;) {
    const operation = await knex('ops_bulk_operations').where({ id }).first<OperationRow | undefined>();
    if (!operation || operation.status !== 'running') return;
    const next = await knex('ops_bulk_operation_cases')
      .where({ operation_id: id, outcome: 'pending' })
      .orderBy('position')
      .first<CaseRow | undefined>();
    if (!next) {
      await knex('ops_bulk_operations').where({ id, status: 'running' }).update({
        status: 'completed',
        finished_at: knex.fn.now(),
      });
      const done = await knex('ops_bulk_operation_cases')
        .where({ operation_id: id })
        .select<{ case_id: string; outcome: BulkCaseOutcome }[]>('case_id', 'outcome');
      await logOpsAction(engine, actor, {
        action: `bulk-${operation.action}.apply`,
        caseIds: done.map((d) => d.case_id),
        outcome: 'completed',
        bulkOperationId: id,
        detail: Object.fromEntries(
          (['succeeded', 'failed', 'skipped'] as const).map((o) => [o, done.filter((d) => d.outcome === o).length]),
        ),
      });
      return;
    }
    let result: { outcome: BulkCaseOutcome; detail: string };
    try {
      result = await actOnCase(engine, operation, next, actor);
    } catch (error) {
      result = {
        outcome: 'failed',
        detail: error instanceof ThroughcareError || error instanceof Error ? error.message : String(error),
      };
    }
    await knex('ops_bulk_operation_cases')
      .where({ operation_id: id, position: next.position, outcome: 'pending' })
      .update({ outcome: result.outcome, detail: result.detail.slice(0, 1000), done_at: knex.fn.now() });
  }
}

/** Resumes operations a stop or crash left running (at start). */
export async function resumeBulkOperations(engine: CaseEngine): Promise<void> {
  const running = await knexOf(engine.store)('ops_bulk_operations')
    .where({ status: 'running' })
    .select<{ id: string; applied_by: string; settings: string[] }[]>('id', 'applied_by', 'settings');
  for (const operation of running) {
    void runBulkOperation(engine, operation.id, { id: operation.applied_by, settings: operation.settings }).catch(
      (error: unknown) =>
        engine.logger.error({ err: error, bulkOperationId: operation.id }, 'bulk operation could not resume'),
    );
  }
}
