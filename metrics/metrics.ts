/**
 * Prometheus metrics of one running product, in a registry of its own (not prom-client's global one), so that a
 * process, or a test, can hold several. Database- and engine-backed gauges are read when scraped (`collect()`),
 * each source bounded by a short timeout: a slow database fails the scrape fast (503) rather than hanging it.
 * Labels hold pathway ids, statuses, task queue names, activity and error types: never anything about a person.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { silentLogger, type Logger } from '../log';
import {
  readClusterBacklog,
  readPathwayRuns,
  readStoreSnapshot,
  type MetricsSources,
  type StoreSnapshot,
} from './sources';

/** What the worker calls on each failed activity attempt (see `recordActivityFailure`). */
export interface ActivityFailureRecorder {
  /**
   * Counts one failed attempt of an activity in `throughcare_activity_failures_total`. `activityType` is the
   * activity's registered name; `errorType` a stable type, never a message (an ApplicationFailure's `type`, else
   * the error's name: worker/activity-failures.ts). Cheap and synchronous: the worker's activity interceptor calls it.
   */
  recordActivityFailure(activityType: string, errorType: string): void;
}

export interface MetricsOptions {
  /** What to read from now: called at each scrape, so sources can be added as the product starts. */
  readonly sources: () => MetricsSources;
  readonly namespace: string;
  /** The task queue the workers poll: its backlog is listed even when empty. */
  readonly taskQueue: string;
  /**
   * The schema of the embedded Temporal-compatible server's tables, in the record store's database, when it is the
   * engine in use: timer lag and task backlog are then read from them. Undefined with a Temporal cluster.
   */
  readonly embeddedTemporalSchema?: string;
  /** When set, a scrape must send it as a bearer token (METRICS_TOKEN). */
  readonly token?: string;
  /** How long each source may take at a scrape; default 2000 ms. */
  readonly timeoutMs?: number;
  /** prom-client's default process and Node.js metrics; default true. */
  readonly defaultMetrics?: boolean;
  readonly logger?: Logger;
}

export interface Metrics extends ActivityFailureRecorder {
  readonly registry: Registry;
  /** The Content-Type of `scrape()`'s text. */
  readonly contentType: string;
  readonly token: string | undefined;
  /** The text exposition of every metric now; rejects when a source fails or does not answer in time. */
  scrape(): Promise<string>;
}

/** A source failed or was too slow: the scrape fails as a whole (the API answers 503). */
export class MetricsUnavailableError extends Error {
  override readonly name = 'MetricsUnavailableError';
}

const DEFAULT_TIMEOUT_MS = 2_000;
/** Distinct (activity type, error type) pairs kept; beyond it, new error types count as `other`. */
const MAX_FAILURE_SERIES = 500;
// gRPC status codes with which an engine says it cannot answer a request at all (an older Temporal cluster).
const GRPC_INVALID_ARGUMENT = 3;
const GRPC_UNIMPLEMENTED = 12;

export function createMetrics(options: MetricsOptions): Metrics {
  const registry = new Registry();
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const logger = options.logger ?? silentLogger;
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });

  // Registered first: the registry collects in registration order, so the pool is read before this scrape's own
  // query takes a connection from it.
  const poolGauge = (name: string, help: string, read: (pool: PoolView) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['pool'],
      registers: [registry],
      collect() {
        this.reset();
        const pool = recordStorePool(options.sources());
        if (pool) this.set({ pool: 'record_store' }, read(pool));
      },
    });
  poolGauge(
    'throughcare_db_pool_connections',
    'Connections the record store’s PostgreSQL pool holds open, in use or idle.',
    (p) => p.numUsed() + p.numFree(),
  );
  poolGauge('throughcare_db_pool_idle_connections', 'Idle connections in the record store’s pool.', (p) => p.numFree());
  poolGauge(
    'throughcare_db_pool_waiting_requests',
    'Queries waiting for a connection of the record store’s pool (all its connections are in use).',
    (p) => p.numPendingAcquires(),
  );
  poolGauge('throughcare_db_pool_max_connections', 'The most connections the record store’s pool opens.', (p) => p.max);

  // One database read serves every gauge of a scrape (and of scrapes that overlap it).
  let reading: Promise<StoreSnapshot | undefined> | undefined;
  const snapshot = (): Promise<StoreSnapshot | undefined> => {
    const store = options.sources().store;
    if (!store) return Promise.resolve(undefined);
    reading ??= readStoreSnapshot(store, {
      embeddedSchema: options.embeddedTemporalSchema,
      namespace: options.namespace,
      taskQueue: options.taskQueue,
      timeoutMs,
      now: Date.now(),
    }).finally(() => {
      reading = undefined;
    });
    return withTimeout(reading, timeoutMs, 'the record store database');
  };

  new Gauge({
    name: 'throughcare_cases',
    help: 'Cases by pathway and status (open or closed) in the record store.',
    labelNames: ['pathway', 'status'],
    registers: [registry],
    async collect() {
      const snap = await snapshot();
      this.reset();
      for (const c of snap?.cases ?? []) this.set({ pathway: c.pathway, status: c.status }, c.count);
    },
  });
  new Gauge({
    name: 'throughcare_tasks_open',
    help: 'Open worklist tasks by pathway.',
    labelNames: ['pathway'],
    registers: [registry],
    async collect() {
      const snap = await snapshot();
      this.reset();
      for (const t of snap?.tasks ?? []) this.set({ pathway: t.pathway }, t.open);
    },
  });
  new Gauge({
    name: 'throughcare_tasks_overdue',
    help: 'Open worklist tasks past their due date, by pathway.',
    labelNames: ['pathway'],
    registers: [registry],
    async collect() {
      const snap = await snapshot();
      this.reset();
      for (const t of snap?.tasks ?? []) this.set({ pathway: t.pathway }, t.overdue);
    },
  });
  new Gauge({
    name: 'throughcare_temporal_timers_due',
    help:
      'Durable timers due and not yet fired. Embedded Temporal-compatible server only (read from its tables); ' +
      'absent with a Temporal cluster, whose own metrics report timer latency.',
    // A label, so that with no figure there is no sample (an unlabelled gauge always shows one, 0).
    labelNames: ['namespace'],
    registers: [registry],
    async collect() {
      const embedded = (await snapshot())?.embedded;
      this.reset();
      if (embedded) this.set({ namespace: options.namespace }, embedded.dueTimers);
    },
  });
  new Gauge({
    name: 'throughcare_temporal_timer_lag_seconds',
    help:
      'How late the most overdue durable timer is (now minus its due time; 0 when none is due): how late timers ' +
      'fire. Embedded Temporal-compatible server only (read from its tables); absent with a Temporal cluster.',
    labelNames: ['namespace'],
    registers: [registry],
    async collect() {
      const embedded = (await snapshot())?.embedded;
      this.reset();
      if (embedded) this.set({ namespace: options.namespace }, embedded.oldestDueTimerSeconds);
    },
  });

  // The cluster cannot answer DescribeTaskQueue with stats or a grouped count: stop asking (logged once).
  let clusterBacklogUnsupported = false;
  new Gauge({
    name: 'throughcare_temporal_task_queue_backlog',
    help:
      'Workflow and activity tasks queued and not yet picked up by a worker, by task queue and kind. From the ' +
      'embedded server’s tables when it is in use; from DescribeTaskQueue statistics (approximate) on a Temporal ' +
      'cluster that reports them.',
    labelNames: ['task_queue', 'kind'],
    registers: [registry],
    async collect() {
      let backlog: { taskQueue: string; kind: string; count: number }[] | undefined;
      if (options.embeddedTemporalSchema !== undefined) backlog = (await snapshot())?.embedded?.backlog;
      else {
        const client = options.sources().client;
        if (client && !clusterBacklogUnsupported) {
          backlog = await unlessUnsupported(
            withTimeout(
              readClusterBacklog(client, options.namespace, options.taskQueue, Date.now() + timeoutMs),
              timeoutMs,
              'the Temporal frontend',
            ),
            () => {
              clusterBacklogUnsupported = true;
              logger.warn('the Temporal frontend gives no task queue statistics: no backlog metric');
            },
          );
        }
      }
      this.reset();
      for (const b of backlog ?? []) this.set({ task_queue: b.taskQueue, kind: b.kind }, b.count);
    },
  });

  let pathwayRunsUnsupported = false;
  new Gauge({
    name: 'throughcare_pathway_runs',
    help:
      'Pathway workflow runs (cases and the child pathways they call) by Temporal execution status, counted by ' +
      'the engine’s visibility store: how runs ended, failed or terminated included.',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const client = options.sources().client;
      let runs: { status: string; count: number }[] | undefined;
      if (client && !pathwayRunsUnsupported) {
        runs = await unlessUnsupported(
          withTimeout(readPathwayRuns(client, Date.now() + timeoutMs), timeoutMs, 'the Temporal frontend'),
          () => {
            pathwayRunsUnsupported = true;
            logger.warn('the Temporal frontend cannot count runs by execution status: no pathway runs metric');
          },
        );
      }
      this.reset();
      for (const r of runs ?? []) this.set({ status: r.status }, r.count);
    },
  });

  const failures = new Counter({
    name: 'throughcare_activity_failures_total',
    help: 'Failed activity attempts by activity type and error type (each attempt counts, retried or not).',
    labelNames: ['activity_type', 'error_type'],
    registers: [registry],
  });
  const failureSeries = new Set<string>();

  return {
    registry,
    contentType: registry.contentType,
    token: options.token,
    async scrape() {
      try {
        return await registry.metrics();
      } catch (error) {
        logger.warn({ err: error }, 'metrics scrape failed');
        throw error;
      }
    },
    recordActivityFailure(activityType, errorType) {
      const activity = labelValue(activityType);
      let error = labelValue(errorType);
      const key = `${activity}\u0000${error}`;
      if (!failureSeries.has(key)) {
        if (failureSeries.size >= MAX_FAILURE_SERIES) error = 'other';
        else failureSeries.add(key);
      }
      failures.inc({ activity_type: activity, error_type: error });
    },
  };
}

/** Label values from callers are kept short and plain, so a surprising value cannot flood the exposition. */
function labelValue(value: string): string {
  return value.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 100) || 'unknown';
}

/** The parts of a tarn pool (the record store's, under knex) the gauges read. */
interface PoolView {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
  readonly max: number;
}

function recordStorePool(sources: MetricsSources): PoolView | undefined {
  const client = sources.store?.orm.em.getConnection().getKnex().client as { pool?: PoolView } | undefined;
  return client?.pool;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new MetricsUnavailableError(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The reading's result; undefined (after `onUnsupported`) when the engine says it cannot answer such a request. */
async function unlessUnsupported<T>(reading: Promise<T>, onUnsupported: () => void): Promise<T | undefined> {
  try {
    return await reading;
  } catch (error) {
    const code = grpcCode(error);
    if (code !== GRPC_UNIMPLEMENTED && code !== GRPC_INVALID_ARGUMENT) throw error;
    onUnsupported();
    return undefined;
  }
}

/** The gRPC status code of an error from the Temporal client, which may wrap the gRPC error as its cause. */
function grpcCode(error: unknown): number | undefined {
  for (let e = error, depth = 0; typeof e === 'object' && e !== null && depth < 5; depth++) {
    const { code, cause } = e as { code?: unknown; cause?: unknown };
    if (typeof code === 'number') return code;
    e = cause;
  }
  return undefined;
}
