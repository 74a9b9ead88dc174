/**
 * Where the metrics' numbers come from, read at scrape time: the record store (cases, worklist tasks), the embedded
 * Temporal-compatible server's tables when it is the engine in use (timers, queued tasks), and the Temporal frontend
 * through the SDK (workflow runs by execution status, task-queue backlog on a cluster). Only ids, statuses, counts
 * and ages are read: nothing about a person.
 */
import type { Knex } from '@mikro-orm/knex';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Store } from '../store';

/** What `/metrics` reads from; each is added once it has started (`throughcare up` listens before any has). */
export interface MetricsSources {
  /** The record store: cases, worklist tasks and its connection pool. */
  readonly store?: Store;
  /** A client of the Temporal frontend the worker polls. */
  readonly client?: Client;
}

export interface StoreSnapshot {
  /** Cases by pathway and record-store status, every known pathway with both statuses (0 when none). */
  readonly cases: { pathway: string; status: string; count: number }[];
  /** Open worklist tasks and those past their due date, by pathway, every known pathway (0 when none). */
  readonly tasks: { pathway: string; open: number; overdue: number }[];
  /** Read from the embedded server's tables; undefined when it is not the engine in use (or not started yet). */
  readonly embedded?: {
    /** Durable timers due and not yet fired, and how long the oldest of them is overdue, in seconds. */
    readonly dueTimers: number;
    readonly oldestDueTimerSeconds: number;
    /** Tasks queued and not yet picked up by a worker, by task queue and kind. */
    readonly backlog: { taskQueue: string; kind: 'workflow' | 'activity'; count: number }[];
  };
}

export interface SnapshotOptions {
  /** Schema of the embedded server's tables when it is the engine in use; undefined with a Temporal cluster. */
  readonly embeddedSchema: string | undefined;
  readonly namespace: string;
  /** Listed with 0 when nothing is queued on it, so an alert on its backlog sees a value, not an absence. */
  readonly taskQueue: string;
  /** How long any one statement may run (PostgreSQL's statement_timeout for this read). */
  readonly timeoutMs: number;
  readonly now: number;
}

// The statuses the cases table allows (its check constraint).
const CASE_STATUSES = ['open', 'closed'];
// The embedded server's task kinds (its TaskKind: 1 workflow, 2 activity).
const TASK_KINDS: Record<number, 'workflow' | 'activity'> = { 1: 'workflow', 2: 'activity' };

/**
 * Reads everything the database holds for one scrape in one short read-only transaction, each statement bounded
 * by `statement_timeout` so a slow database cancels the read instead of holding a connection.
 */
export async function readStoreSnapshot(store: Store, options: SnapshotOptions): Promise<StoreSnapshot> {
  const knex = store.orm.em.getConnection().getKnex();
  return knex.transaction(async (trx) => {
    await trx.raw('set transaction read only');
    await trx.raw(`select set_config('statement_timeout', ?, true)`, [String(Math.max(1, options.timeoutMs))]);
    // The record store, not the workflow engine's visibility, for cases: it is ours on any deployment (a Temporal
    // cluster included), it knows the pathway of every case (the PathwayId search attribute only exists on cases
    // started since it was added), and open/closed is the status people see. How runs ended is counted from
    // Temporal's visibility (throughcare_pathway_runs), which says failed or terminated where this cannot.
    const cases = (
      await trx.raw<{ rows: { pathway_id: string; status: string; n: number }[] }>(
        `select c.pathway_id, c.status, count(*)::int as n from cases c group by c.pathway_id, c.status`,
      )
    ).rows;
    const tasks = (
      await trx.raw<{ rows: { pathway_id: string; open: number; overdue: number }[] }>(
        `select c.pathway_id, count(*)::int as open, (count(*) filter (where t.due_at < now()))::int as overdue
           from worklist_tasks t join cases c on c.id = t.case_id
          where t.status = 'open'
          group by c.pathway_id`,
      )
    ).rows;
    const deployed = (
      await trx.raw<{ rows: { pathway_id: string }[] }>(`select distinct pathway_id from pathway_versions`)
    ).rows;
    const pathways = [...new Set([...deployed, ...cases, ...tasks].map((r) => r.pathway_id))].sort();
    const caseCount = new Map(cases.map((r) => [`${r.pathway_id}\u0000${r.status}`, r.n]));
    const taskCount = new Map(tasks.map((r) => [r.pathway_id, r]));
    return {
      cases: pathways.flatMap((pathway) =>
        CASE_STATUSES.map((status) => ({ pathway, status, count: caseCount.get(`${pathway}\u0000${status}`) ?? 0 })),
      ),
      tasks: pathways.map((pathway) => ({
        pathway,
        open: taskCount.get(pathway)?.open ?? 0,
        overdue: taskCount.get(pathway)?.overdue ?? 0,
      })),
      embedded: options.embeddedSchema === undefined ? undefined : await readEmbedded(trx, options),
    };
  });
}

/**
 * The embedded server's own tables, read by SQL because it answers DescribeTaskQueue with UNIMPLEMENTED and no
 * Temporal API reports timer lag. It fires a durable timer by deleting its row and takes a task off its queue by
 * deleting its row, so rows past due are timers late to fire and rows in `tasks` are tasks no worker has taken.
 * Sticky workflow tasks (already meant for one worker) are kept in memory and not counted.
 */
async function readEmbedded(trx: Knex.Transaction, options: SnapshotOptions): Promise<StoreSnapshot['embedded']> {
  const schema = `"${options.embeddedSchema!.replace(/"/g, '""')}"`;
  const present = (
    await trx.raw<{ rows: { timers: string | null; tasks: string | null }[] }>(
      `select to_regclass(?) as timers, to_regclass(?) as tasks`,
      [`${schema}.timers`, `${schema}.tasks`],
    )
  ).rows[0];
  // Not created yet: the server starts after the record store.
  if (!present?.timers || !present.tasks) return undefined;
  const timers = (
    await trx.raw<{ rows: { due: number; oldest: string | null }[] }>(
      `select count(*)::int as due, min(fire_at)::text as oldest from ${schema}.timers where namespace = ? and fire_at <= ?`,
      [options.namespace, options.now],
    )
  ).rows[0];
  const queued = (
    await trx.raw<{ rows: { task_queue: string; kind: number; n: number }[] }>(
      `select task_queue, kind, count(*)::int as n from ${schema}.tasks where namespace = ? group by task_queue, kind`,
      [options.namespace],
    )
  ).rows;
  const backlog = new Map<string, { taskQueue: string; kind: 'workflow' | 'activity'; count: number }>();
  for (const kind of ['workflow', 'activity'] as const)
    backlog.set(`${options.taskQueue}\u0000${kind}`, { taskQueue: options.taskQueue, kind, count: 0 });
  for (const row of queued) {
    const kind = TASK_KINDS[row.kind];
    if (kind) backlog.set(`${row.task_queue}\u0000${kind}`, { taskQueue: row.task_queue, kind, count: row.n });
  }
  const oldest = timers?.oldest === null || timers?.oldest === undefined ? undefined : Number(timers.oldest);
  return {
    dueTimers: timers?.due ?? 0,
    oldestDueTimerSeconds: oldest === undefined ? 0 : Math.max(0, options.now - oldest) / 1000,
    backlog: [...backlog.values()],
  };
}

/** The workflow type every case (and every child pathway it calls) runs as: engine/case-engine.ts WORKFLOW_TYPE. */
const PATHWAY_WORKFLOW_TYPE = 'runPathway';
/** Temporal's execution statuses as List Filters spell them, each listed (0 when none). */
const EXECUTION_STATUSES = ['Running', 'Completed', 'Failed', 'Canceled', 'Terminated', 'ContinuedAsNew', 'TimedOut'];

/**
 * Pathway runs by execution status, from the engine's visibility store (`CountWorkflowExecutions` with GROUP BY
 * ExecutionStatus): the same query on the embedded server and a Temporal cluster with SQL or Elasticsearch
 * visibility. Counts case workflows and the child pathways they call. Undefined when the engine cannot group counts.
 */
export async function readPathwayRuns(
  client: Client,
  deadline: number,
): Promise<{ status: string; count: number }[] | undefined> {
  const counted = await client.withDeadline(deadline, () =>
    client.workflow.count(`WorkflowType = "${PATHWAY_WORKFLOW_TYPE}" GROUP BY ExecutionStatus`),
  );
  const byStatus = new Map(EXECUTION_STATUSES.map((status) => [status, 0]));
  for (const group of counted.groups) {
    const status = group.groupValues.map(String).join(',');
    byStatus.set(status, (byStatus.get(status) ?? 0) + group.count);
  }
  return [...byStatus].map(([status, count]) => ({ status, count }));
}

/**
 * A Temporal cluster's own backlog figures for one task queue (`DescribeTaskQueue` with `reportStats`, Temporal
 * 1.25 and later): approximate, as the cluster counts them.
 */
export async function readClusterBacklog(
  client: Client,
  namespace: string,
  taskQueue: string,
  deadline: number,
): Promise<{ taskQueue: string; kind: 'workflow' | 'activity'; count: number }[]> {
  const { TaskQueueType, TaskQueueKind } = temporal.api.enums.v1;
  const types = [
    ['workflow', TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW],
    ['activity', TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY],
  ] as const;
  return Promise.all(
    types.map(async ([kind, taskQueueType]) => {
      const response = await client.withDeadline(deadline, () =>
        client.workflowService.describeTaskQueue({
          namespace,
          taskQueue: { name: taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
          taskQueueType,
          reportStats: true,
        }),
      );
      const count = response.stats?.approximateBacklogCount;
      return { taskQueue, kind, count: count === null || count === undefined ? 0 : Number(count.toString()) };
    }),
  );
}
