/**
 * The RPC handlers of WorkflowService, OperatorService and TestService over the engine, plus the durable timer
 * loop (one process-wide setTimeout armed at the earliest timer row) and the long-poll plumbing. Handlers take
 * and return plain protobuf objects; grpc.ts does the wire.
 */
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument -- protobuf messages and pg rows are dynamically shaped (Msg); fields are checked where they are read */
import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';
import type { Clock } from './clock';
import { SkippingClock } from './clock';
import { Engine, retryPolicyToProto, type StartParams } from './engine';
import { invalidArgument, notFound, TemporalServiceError, GrpcCode, unimplemented } from './errors';
import { Notifier } from './notifier';
import {
  decodeEvent,
  durationToMs,
  EventType,
  HistoryEventFilterType,
  messageFromJson,
  messageToJson,
  msToDuration,
  msToTimestamp,
  packAny,
  PendingActivityState,
  positiveMs,
  QueryResultType,
  RawHistory,
  timestampToMs,
  UpdateStage,
  type Msg,
} from './proto';
import { inTransaction, quoteIdent } from './schema';
import {
  prepared,
  RunCache,
  runTransaction,
  TransitionConflictError,
  TransitionWriter,
  tailEvents,
  TaskKind,
  Tx,
  type EventTail,
  type QueuedTask,
  type Run,
} from './store';
import { TaskQueues } from './task-queues';
import { TimerKind, VOLATILE_TIMER_KINDS, type ActivityState, type RunState } from './state';
import { VolatileTimers, type VolatileTimer } from './volatile-timers';
import type { Visibility } from './visibility-wiring';
import { assertResettable, resetWorkflow } from './reset';

export interface CallContext {
  /** Absolute wall-clock deadline of the call in ms, if the client set one. */
  deadline?: number;
  isCancelled(): boolean;
  /** Resolves when the client cancels the call (a long poll then stops waiting at once). */
  cancelled?: Promise<void>;
}

export interface VisibilityHooks {
  list(namespace: string, query: string, pageSize: number, token: Buffer | undefined): Promise<Msg>;
  count(namespace: string, query: string): Promise<Msg>;
  addSearchAttributes(namespace: string, attrs: Record<string, number>): Promise<void>;
  removeSearchAttributes(namespace: string, names: string[]): Promise<void>;
  listSearchAttributes(namespace: string): Promise<Record<string, number>>;
}

const TASK_POLL_CAP_MS = 60_000;
const HISTORY_POLL_CAP_MS = 20_000;
const UPDATE_WAIT_CAP_MS = 20_000;
const QUERY_DEFAULT_TIMEOUT_MS = 30_000;
const POLL_RECHECK_MS = 10_000;
const TIMER_BATCH = 256;
/** Events in one poll response; the worker pages through the rest (the history RPC's page size matches). */
const POLL_HISTORY_PAGE = 1000;
const TIMER_CONCURRENCY = 8;
const TIMER_RETRY_MS = 1_000;
const SCHEMA_CLAIM_WAIT_MS = 15_000;
const FIRST_ANALYZE_AFTER_WRITES = 500;
const MAX_ANALYZE_AFTER_WRITES = 1_000_000;

interface TaskToken {
  k: 'w' | 'a' | 'q';
  n: string;
  r: string;
  w: string;
  s: number;
  t?: number;
  a?: number;
  q?: string;
}

function encodeToken(t: TaskToken): Buffer {
  return Buffer.from(JSON.stringify(t));
}
function decodeToken(b: Buffer | Uint8Array | undefined): TaskToken {
  try {
    const t = JSON.parse(Buffer.from(b ?? []).toString()) as TaskToken;
    if (!t || typeof t.r !== 'string') throw new Error('bad token');
    return t;
  } catch {
    throw invalidArgument('Error deserializing task token');
  }
}

interface LegacyQuery {
  id: string;
  namespace: string;
  runId: string;
  query: Msg;
}

interface QueryWaiter {
  resolve: (r: Msg) => void;
  reject: (e: Error) => void;
}

export class WorkflowService {
  readonly engine: Engine;
  readonly notifier = new Notifier();
  private readonly legacyQueries = new Map<string, LegacyQuery[]>();
  private readonly queryWaiters = new Map<string, QueryWaiter>();
  private stopped = false;
  private loopRunning = false;
  private loopDone: Promise<void> = Promise.resolve();
  private loopAgain = false;
  private timerHandle: NodeJS.Timeout | undefined;
  private armedAt = Number.POSITIVE_INFINITY;
  private readonly namespaceId = randomUUID();
  private readonly runCache = new RunCache();
  private readonly writer: TransitionWriter;
  private readonly taskQueues = new TaskQueues();
  private readonly volatileTimers = new VolatileTimers(
    () => this.clock.now(),
    (timer) => this.fireVolatileTimer(timer),
    TIMER_RETRY_MS,
  );
  /** The session holding this server's claim on its schema (see `start`). */
  private owner: PoolClient | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
    readonly clock: Clock,
    private readonly logger: Logger,
    readonly visibility: Visibility,
  ) {
    this.engine = new Engine({
      logger,
      decodeSearchAttributes: (namespace, fields) => visibility.decodeSync(namespace, fields),
    });
    if (clock instanceof SkippingClock) clock.onChange = () => this.kick();
    this.writer = new TransitionWriter(pool, schema);
  }

  private table(name: string): string {
    return `${quoteIdent(this.schema)}.${name}`;
  }

  private writesSinceAnalyze = 0;
  private analyzeAfterWrites = FIRST_ANALYZE_AFTER_WRITES;

  /**
   * Refreshes PostgreSQL's statistics on the server's tables. The engine's statements are planned once per
   * connection (see server.ts); a plan made while a table was empty can pick any index that starts with
   * `namespace` and then read every row of the namespace. ANALYZE invalidates those plans, and they are made
   * again from real figures. It runs at start and again after 1,000, 3,000, 7,000... writes, as the tables grow.
   */
  private async analyze(): Promise<void> {
    this.writesSinceAnalyze = 0;
    this.analyzeAfterWrites = Math.min(this.analyzeAfterWrites * 2, MAX_ANALYZE_AFTER_WRITES);
    const tables = ['executions', 'history_events', 'tasks', 'timers'].map((t) => this.table(t)).join(', ');
    try {
      await this.pool.query(`ANALYZE ${tables}`);
    } catch (err) {
      this.logger.warn({ err }, 'could not ANALYZE the server tables; query plans may stay poor until autovacuum does');
    }
  }

  /** Transitions being worked out or written; time skipping waits for them (see isBusy). */
  private transitionsInFlight = 0;

  transact<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    this.transitionsInFlight++;
    const done = (): void => {
      // The last transition of a burst may have held back a time skip: let the timer loop look again.
      if (--this.transitionsInFlight === 0 && this.clock.timeSkipping) this.kick();
    };
    return runTransaction(this.pool, this.writer, this.clock, this.runCache, fn, (tx) => this.onCommit(tx))
      .catch((err: unknown) => {
        if (!(err instanceof TransitionConflictError)) throw err;
        // Turns on runs should make this impossible: something wrote a run out of turn, again and again. Nothing
        // of the transition was written; the caller is told to try again (the SDK retries UNAVAILABLE, a timer
        // fires again), so the work is delayed, never lost.
        this.logger.error(
          { err, attempts: err.attempts, runs: err.runKeys.map((k) => k.split('\u0000')[1]) },
          'a transition kept conflicting and was not written; its caller must try again',
        );
        throw new TemporalServiceError(
          GrpcCode.UNAVAILABLE,
          'the workflow changed while this call was applied; try again',
        );
      })
      .finally(done);
  }

  /**
   * Applies a written transition to what lives in memory. A transition that builds on this one can only have
   * read it after this runs (from the cache, updated just before, or from a database reply that arrives after
   * this one's), so the timers and queues see a run's transitions in order.
   */
  private onCommit(tx: Tx): void {
    if (++this.writesSinceAnalyze >= this.analyzeAfterWrites) void this.analyze();
    for (const d of tx.timerDeletes)
      if (d.kind === '*' || VOLATILE_TIMER_KINDS.has(d.kind)) this.volatileTimers.cancel(d.runId, d.kind, d.ref);
    for (const t of tx.timers) if (VOLATILE_TIMER_KINDS.has(t.kind)) this.volatileTimers.arm(t);
    for (const d of tx.taskDeletes) this.taskQueues.removeUnstored(d.runId, d.kind, d.ref);
    for (const t of tx.queuedTasks) this.queueTask(t);
    for (const run of tx.runs.values()) if (run.dirty) this.notifier.notifyRun(run.runId, !run.isRunning);
    let kick = this.clock.timeSkipping;
    for (const t of tx.timers) if (!VOLATILE_TIMER_KINDS.has(t.kind) && t.fireAt < this.armedAt) kick = true;
    if (kick) this.kick();
  }

  private queueTask(task: QueuedTask): void {
    const key = Notifier.taskKey(task.namespace, task.queue, task.kind);
    this.taskQueues.add(key, task);
    this.notifier.notifyTask(key);
  }

  /**
   * Claims the schema, recovers, loads the task queues and starts the timer loop. Sticky queues are not
   * durable, so after a restart every scheduled task waiting on one is served from its normal queue (with full
   * history) right away.
   */
  async start(): Promise<void> {
    await this.claimSchema();
    const { tasks, inFlight } = await inTransaction(this.pool, async (client) => {
      await client.query(
        `DELETE FROM ${this.table('tasks')} t USING ${this.table('executions')} e
          WHERE t.kind = 1 AND e.namespace = t.namespace AND e.run_id = t.run_id AND t.task_queue <> e.task_queue`,
      );
      await client.query(
        `INSERT INTO ${this.table('tasks')} (namespace, task_queue, kind, run_id, ref, attempt)
         SELECT namespace, task_queue, 1, run_id, (state->'wft'->>'scheduledId')::bigint,
                coalesce((state->'wft'->>'attempt')::int, 1)
           FROM ${this.table('executions')}
          WHERE status = 1 AND (state->'wft'->>'onSticky')::boolean AND NOT (state->'wft' ? 'startedId')`,
      );
      await client.query(
        `UPDATE ${this.table('executions')}
            SET sticky_queue = NULL, version = version + 1,
                state = CASE WHEN state ? 'wft' THEN jsonb_set(state - 'sticky', '{wft,onSticky}', 'false'::jsonb)
                             ELSE state - 'sticky' END
          WHERE status = 1 AND (state ? 'sticky' OR (state->'wft'->>'onSticky')::boolean)`,
      );
      const queued = await client.query<Msg>(
        `SELECT id, namespace, task_queue, kind, run_id, ref, attempt FROM ${this.table('tasks')} ORDER BY id`,
      );
      const running = await client.query<Msg>(
        `SELECT namespace, run_id, state FROM ${this.table('executions')}
          WHERE status = 1 AND (state->'wft' ? 'startedId' OR state->'activities' <> '{}'::jsonb)`,
      );
      return { tasks: queued.rows, inFlight: running.rows };
    });
    for (const r of inFlight)
      for (const timer of inFlightTimers(r.namespace as string, r.run_id as string, r.state as RunState))
        this.volatileTimers.arm(timer);
    for (const r of tasks)
      this.queueTask({
        id: String(r.id),
        namespace: r.namespace,
        queue: r.task_queue,
        kind: r.kind,
        runId: r.run_id,
        ref: Number(r.ref),
        attempt: r.attempt,
        stored: true,
      });
    await this.analyze();
    this.kick();
  }

  /**
   * Holds a session-level advisory lock on the schema for the server's lifetime: the task queues and the run
   * cache live in this process, so a second server on the same schema would hand out tasks this one cannot
   * see. A server killed a moment ago loses its lock when PostgreSQL notices its connection is gone, so the
   * claim is retried for a while before giving up.
   */
  private async claimSchema(): Promise<void> {
    const client = await this.pool.connect();
    const deadline = Date.now() + SCHEMA_CLAIM_WAIT_MS;
    for (;;) {
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [
        `temporal-server:${this.schema}`,
      ]);
      if (rows[0]?.ok) {
        this.owner = client;
        return;
      }
      if (Date.now() > deadline) {
        client.release();
        throw new Error(
          `another Temporal server is using schema "${this.schema}" of this database; stop it, or give this one its own schema`,
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Stops the timer loop and wakes every long poll; resolves once the loop's last transaction is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timerHandle) clearTimeout(this.timerHandle);
    this.notifier.wakeAllPollers();
    for (const w of this.queryWaiters.values())
      w.reject(new TemporalServiceError(GrpcCode.UNAVAILABLE, 'server stopping'));
    this.queryWaiters.clear();
    await this.loopDone;
    this.volatileTimers.clear();
    this.owner?.release(true); // closing the session gives up the schema claim
    this.owner = undefined;
  }

  // ---- timer loop -----------------------------------------------------------------------------------------

  kick(): void {
    if (this.stopped) return;
    if (this.loopRunning) {
      this.loopAgain = true;
      return;
    }
    this.loopRunning = true;
    this.loopDone = this.timerLoop()
      .catch((err: unknown) => {
        if (this.stopped) return;
        this.logger.error({ err }, 'timer loop failed; retrying');
        setTimeout(() => this.kick(), 500).unref();
      })
      .finally(() => {
        this.loopRunning = false;
        if (this.loopAgain) this.kick();
      });
  }

  private async timerLoop(): Promise<void> {
    do {
      this.loopAgain = false;
      if (this.stopped) return;
      if (this.timerHandle) clearTimeout(this.timerHandle);
      this.armedAt = Number.POSITIVE_INFINITY;
      let next: number | undefined;
      for (;;) {
        // The due timers and, in the same read, when the next one after them is due. A timer written meanwhile
        // kicks the loop (loopAgain), so a stale `next` never outlives this pass.
        const now = this.clock.now();
        const { rows } = await this.pool.query(
          prepared(
            `(SELECT id, namespace, run_id, kind, ref, seq, NULL::bigint AS next FROM ${this.table('timers')}
               WHERE fire_at <= $1 ORDER BY fire_at, id LIMIT ${TIMER_BATCH})
             UNION ALL
             SELECT NULL, NULL, NULL, NULL, NULL, NULL, min(fire_at) FROM ${this.table('timers')} WHERE fire_at > $1`,
            [now],
          ),
        );
        const after = rows.find((r) => r.id === null)?.next as string | null | undefined;
        next = after === null || after === undefined ? undefined : Number(after);
        const due = rows.filter((r) => r.id !== null);
        if (due.length === 0) break;
        let i = 0;
        let failed = false;
        await Promise.all(
          Array.from({ length: Math.min(TIMER_CONCURRENCY, due.length) }, async () => {
            while (i < due.length && !this.stopped) failed = !(await this.fireTimer(due[i++])) || failed;
          }),
        );
        // A timer that could not fire keeps its row; try it again shortly rather than at once.
        if (failed) next = Math.min(next ?? Number.POSITIVE_INFINITY, this.clock.now() + TIMER_RETRY_MS);
        if (due.length < TIMER_BATCH || this.stopped) break;
      }
      const clock = this.clock;
      if (clock instanceof SkippingClock) {
        const sleeper = clock.nextSleeper();
        const target = next === undefined ? sleeper : sleeper === undefined ? next : Math.min(next, sleeper);
        // A transition written during this pass may have added an earlier timer: look again before jumping.
        const jump = target !== undefined && target > clock.now() && !clock.isLocked() && !this.loopAgain;
        if (jump && !(await this.isBusy()) && !this.loopAgain) {
          clock.advanceTo(target);
          this.loopAgain = true;
          continue;
        }
        clock.wakeSleepers();
      }
      if (next !== undefined) {
        const delay = Math.max(0, Math.min(next - this.clock.now(), 2 ** 31 - 1));
        this.armedAt = next;
        this.timerHandle = setTimeout(() => this.kick(), delay);
        this.timerHandle.unref();
      }
    } while (this.loopAgain);
  }

  /**
   * Time skipping is held while any task is queued or in flight (the Java server's lock discipline). Part of that
   * lives in memory (sticky tasks, in-flight timeouts) and is updated once a transition is written, so a
   * transition still being written holds it too.
   */
  private async isBusy(): Promise<boolean> {
    const { rows } = await this.pool.query(
      `SELECT EXISTS (SELECT 1 FROM ${this.table('tasks')}) OR EXISTS (SELECT 1 FROM ${this.table('timers')} WHERE holds_lock) AS busy`,
    );
    return (
      rows[0]?.busy === true ||
      this.legacyQueries.size > 0 ||
      this.transitionsInFlight > 0 ||
      this.volatileTimers.holdsLock() ||
      this.taskQueues.holdsUnstored()
    );
  }

  /** Fires an in-memory timer; false when its transition failed, and VolatileTimers fires it again shortly. */
  private async fireVolatileTimer(timer: VolatileTimer): Promise<boolean> {
    try {
      await this.transact(async (tx) => {
        const run = await tx.loadRun(timer.namespace, timer.runId);
        if (run) await this.engine.fireTimer(tx, run, timer);
      });
      return true;
    } catch (err) {
      if (this.stopped) return true;
      this.logger.error({ err, runId: timer.runId, kind: timer.kind }, 'timer failed; trying again shortly');
      return false;
    }
  }

  /**
   * Fires a stored timer, a row as the timer loop read it (the engine checks it against the run's state).
   * False when it could not: the row stays for the next try.
   */
  private async fireTimer(t: Msg): Promise<boolean> {
    try {
      await this.transact(async (tx) => {
        const run = await tx.loadRun(t.namespace as string, t.run_id as string);
        tx.deleteTimerById(String(t.id), run);
        if (run)
          await this.engine.fireTimer(tx, run, { kind: t.kind as string, ref: t.ref as string, seq: Number(t.seq) });
      });
      return true;
    } catch (err) {
      this.logger.error({ err, timerId: t.id }, 'timer failed; trying again shortly');
      return false;
    }
  }

  // ---- helpers --------------------------------------------------------------------------------------------

  private requireNamespace(req: Msg): string {
    const ns = req.namespace as string | undefined;
    if (!ns) throw invalidArgument('Namespace not set on request.');
    return ns;
  }

  private async readRun(namespace: string, workflowId: string, runId?: string): Promise<Run | undefined> {
    return this.transact((tx) => tx.loadCurrentRun(namespace, workflowId, runId || undefined));
  }

  private async waitOrCancel(wait: Promise<void>, ctx: CallContext): Promise<void> {
    await (ctx.cancelled ? Promise.race([wait, ctx.cancelled]) : wait);
  }

  private pollDeadline(ctx: CallContext, cap: number): number {
    const d = ctx.deadline ?? Number.POSITIVE_INFINITY;
    return Math.min(Date.now() + cap, d - 1000);
  }

  // ---- system ---------------------------------------------------------------------------------------------

  getSystemInfo(): Msg {
    return {
      serverVersion: '1.24.0-throughcare-embedded',
      capabilities: {
        signalAndQueryHeader: true,
        internalErrorDifferentiation: false,
        activityFailureIncludeHeartbeat: true,
        supportsSchedules: false,
        encodedFailureAttributes: true,
        buildIdBasedVersioning: false,
        upsertMemo: true,
        eagerWorkflowStart: true,
        sdkMetadata: true,
        countGroupByExecutionStatus: true,
        nexus: false,
      },
    };
  }

  describeNamespace(req: Msg): Msg {
    const name = (req.namespace as string) || 'default';
    return {
      namespaceInfo: {
        name,
        state: 1,
        description: 'embedded Throughcare Temporal server',
        id: req.id || this.namespaceId,
        capabilities: { eagerWorkflowStart: true, syncUpdate: true, asyncUpdate: true, workerHeartbeats: false },
      },
      config: { workflowExecutionRetentionTtl: msToDuration(24 * 3600 * 1000) },
      isGlobalNamespace: false,
    };
  }

  // ---- start / signal / cancel / terminate ----------------------------------------------------------------

  private startParams(req: Msg): StartParams {
    const ns = this.requireNamespace(req);
    if (!req.workflowId) throw invalidArgument('WorkflowId is not set on request.');
    if (!req.workflowType?.name) throw invalidArgument('WorkflowType is not set on request.');
    if (!req.taskQueue?.name) throw invalidArgument('TaskQueue is not set on request.');
    for (const f of ['workflowExecutionTimeout', 'workflowRunTimeout', 'workflowTaskTimeout']) {
      if ((durationToMs(req[f]) ?? 0) < 0) throw invalidArgument(`Invalid ${f}.`);
    }
    const exec = positiveMs(req.workflowExecutionTimeout);
    let runTimeout = positiveMs(req.workflowRunTimeout);
    if (exec && (!runTimeout || runTimeout > exec)) runTimeout = exec;
    return {
      namespace: ns,
      workflowId: req.workflowId,
      workflowType: req.workflowType.name,
      taskQueue: req.taskQueue.name,
      input: req.input,
      header: req.header,
      memo: req.memo,
      searchAttributes: req.searchAttributes,
      retryPolicy: req.retryPolicy,
      executionTimeoutMs: exec,
      runTimeoutMs: runTimeout,
      taskTimeoutMs: positiveMs(req.workflowTaskTimeout),
      identity: req.identity,
      requestId: req.requestId || randomUUID(),
      backoffMs: positiveMs(req.workflowStartDelay),
    };
  }

  async startWorkflowExecution(req: Msg): Promise<Msg> {
    const p = this.startParams(req);
    await this.visibility.ensureTypes(p.namespace);
    if (req.cronSchedule) throw invalidArgument('CronSchedule is not supported by the embedded server.');
    return this.transact(async (tx) => {
      const { run, started } = await this.engine.startWorkflow(
        tx,
        p,
        Number(req.workflowIdReusePolicy || 0),
        Number(req.workflowIdConflictPolicy || 0),
      );
      // Eager start (requested by a client that shares its connection with a worker for this task queue): the
      // first workflow task starts now and goes back in the response instead of through the queue.
      const wft = run.state.wft;
      if (!started || !req.requestEagerExecution || !wft || wft.startedId !== undefined)
        return { runId: run.runId, started };
      await tx.deleteTasks(run, TaskKind.Workflow, wft.scheduledId);
      const eagerWorkflowTask = await this.startWorkflowTask(tx, run, false, String(req.identity ?? ''));
      return { runId: run.runId, started, eagerWorkflowTask };
    });
  }

  async signalWithStartWorkflowExecution(req: Msg): Promise<Msg> {
    const p = this.startParams(req);
    await this.visibility.ensureTypes(p.namespace);
    if (!req.signalName) throw invalidArgument('SignalName is not set on request.');
    p.signal = { signalName: req.signalName, input: req.signalInput, header: req.header, identity: req.identity };
    const { run, started } = await this.transact((tx) =>
      this.engine.startWorkflow(
        tx,
        p,
        Number(req.workflowIdReusePolicy || 0),
        Number(req.workflowIdConflictPolicy || 0),
      ),
    );
    return { runId: run.runId, started };
  }

  async signalWorkflowExecution(req: Msg): Promise<Msg> {
    const ns = this.requireNamespace(req);
    if (!req.workflowExecution?.workflowId) throw invalidArgument('WorkflowId is not set on request.');
    if (!req.signalName) throw invalidArgument('SignalName is not set on request.');
    await this.transact(async (tx) => {
      const run = await tx.loadCurrentRun(
        ns,
        req.workflowExecution.workflowId,
        req.workflowExecution.runId || undefined,
      );
      this.engine.assertRunning(run);
      if (req.requestId && run.state.requestIds.includes(`signal:${req.requestId}`)) return;
      if (req.requestId) run.state.requestIds.push(`signal:${req.requestId}`);
      this.engine.signal(tx, run, req.signalName, req.input, req.header, req.identity);
    });
    return {};
  }

  async requestCancelWorkflowExecution(req: Msg): Promise<Msg> {
    const ns = this.requireNamespace(req);
    if (!req.workflowExecution?.workflowId) throw invalidArgument('WorkflowId is not set on request.');
    await this.transact(async (tx) => {
      const run = await tx.loadCurrentRun(
        ns,
        req.workflowExecution.workflowId,
        req.workflowExecution.runId || undefined,
      );
      this.engine.assertRunning(run);
      this.engine.requestCancel(tx, run, req.reason ?? '', req.identity ?? '');
    });
    return {};
  }

  async terminateWorkflowExecution(req: Msg): Promise<Msg> {
    const ns = this.requireNamespace(req);
    if (!req.workflowExecution?.workflowId) throw invalidArgument('WorkflowId is not set on request.');
    await this.transact(async (tx) => {
      const run = await tx.loadCurrentRun(
        ns,
        req.workflowExecution.workflowId,
        req.workflowExecution.runId || undefined,
      );
      this.engine.assertRunning(run);
      await this.engine.terminate(tx, run, req.reason ?? '', req.details, req.identity ?? '');
    });
    return {};
  }

  // ---- history --------------------------------------------------------------------------------------------

  async getWorkflowExecutionHistory(req: Msg, ctx: CallContext): Promise<Msg> {
    const ns = this.requireNamespace(req);
    const exec = req.execution ?? {};
    if (!exec.workflowId) throw invalidArgument('WorkflowId is not set on request.');
    const deadline = this.pollDeadline(ctx, HISTORY_POLL_CAP_MS);
    const closeOnly = req.historyEventFilterType === HistoryEventFilterType.CloseEvent;
    const pageSize = Math.min(Number(req.maximumPageSize) || 1000, 1000);
    const tokenText = req.nextPageToken?.length ? Buffer.from(req.nextPageToken).toString() : '';
    let from = tokenText ? Number(tokenText) : 1;
    if (!Number.isFinite(from) || from < 1) from = 1;
    let runId: string | undefined = exec.runId || undefined;
    for (;;) {
      const head = await this.historyHead(ns, exec.workflowId, runId);
      runId = head.runId;
      const { running, length, tail } = head;
      if (closeOnly) {
        // A closed run's close event is its last.
        if (!running) return { history: new RawHistory(await this.historyEvents(runId, length, 1, tail)) };
        if (!req.waitNewEvent) return { history: { events: [] } };
      } else if (from <= length || !running || !req.waitNewEvent) {
        const events = await this.historyEvents(runId, from, pageSize, tail);
        const last = from + events.length - 1;
        const more = events.length === pageSize && last < length;
        const waitMore = !!req.waitNewEvent && running && !more;
        return {
          history: new RawHistory(events),
          nextPageToken: more || waitMore ? Buffer.from(String(last + 1)) : Buffer.alloc(0),
        };
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0 || ctx.isCancelled() || this.stopped) {
        return closeOnly
          ? { history: { events: [] } }
          : { history: { events: [] }, nextPageToken: Buffer.from(String(from)) };
      }
      await this.waitOrCancel(this.notifier.waitRun(runId, remaining, closeOnly), ctx);
    }
  }

  /**
   * Where a run's history stands: from the run cache when it holds the run with its latest events (a client
   * awaiting a result polls this for every workflow), else from the database.
   */
  private async historyHead(
    namespace: string,
    workflowId: string,
    runId: string | undefined,
  ): Promise<{ runId: string; running: boolean; length: number; tail?: EventTail }> {
    const known = runId ?? this.runCache.runningRunOf(namespace, workflowId);
    const cached = known ? this.runCache.get(Tx.key(namespace, known)) : undefined;
    if (cached?.tail && cached.workflowId === workflowId) {
      const { tail } = cached;
      return { runId: cached.runId, running: cached.status === 1, length: tail.firstId + tail.events.length - 1, tail };
    }
    const { rows } = await this.pool.query(
      prepared(
        runId
          ? `SELECT run_id, status, history_length FROM ${this.table('executions')} WHERE namespace = $1 AND run_id = $2 AND workflow_id = $3`
          : `SELECT run_id, status, history_length FROM ${this.table('executions')} WHERE namespace = $1 AND workflow_id = $3 AND ($2::text IS NULL) ORDER BY seq DESC LIMIT 1`,
        [namespace, runId ?? null, workflowId],
      ),
    );
    const row = rows[0];
    if (!row) throw notFound(`workflow execution not found: ${workflowId}`);
    return { runId: row.run_id as string, running: row.status === 1, length: Number(row.history_length) };
  }

  /** Up to `count` events of the run from `from` on: from its cached tail when that reaches back far enough. */
  private async historyEvents(runId: string, from: number, count: number, tail?: EventTail): Promise<Buffer[]> {
    const cached = tailEvents(tail, from, from + count - 1);
    if (cached) return cached;
    const { rows } = await this.pool.query(
      prepared(
        `SELECT data FROM ${this.table('history_events')} WHERE run_id = $1 AND event_id >= $2 ORDER BY event_id LIMIT $3`,
        [runId, from, count],
      ),
    );
    return rows.map((r) => r.data as Buffer);
  }

  // ---- workflow tasks -------------------------------------------------------------------------------------

  async pollWorkflowTaskQueue(req: Msg, ctx: CallContext): Promise<Msg> {
    const ns = this.requireNamespace(req);
    const queue = req.taskQueue?.name as string | undefined;
    if (!queue) throw invalidArgument('TaskQueue is not set on request.');
    const identity = (req.identity as string) ?? '';
    const deadline = this.pollDeadline(ctx, TASK_POLL_CAP_MS);
    const key = Notifier.taskKey(ns, queue, TaskKind.Workflow);
    for (;;) {
      if (ctx.isCancelled() || this.stopped) return {};
      const q = this.takeLegacyQuery(key);
      if (q) {
        const r = await this.legacyQueryTask(q);
        if (r) return r;
        continue;
      }
      const task = await this.claimWorkflowTask(ns, queue, identity);
      if (task && ctx.isCancelled()) {
        // The poller left while we claimed: hand the task back instead of waiting for its timeout.
        await this.unclaimTask(decodeToken(task.taskToken as Buffer));
        return {};
      }
      if (task) return task;
      const remaining = deadline - Date.now();
      if (remaining <= 0) return {};
      await this.notifier.waitTask(key, Math.min(remaining, POLL_RECHECK_MS), ctx.cancelled);
    }
  }

  /**
   * Takes tasks from the in-memory queue until one is still current, and starts it in the write that deletes
   * its row. A stale task (its run moved on) only has its row deleted. If the write fails the task goes back.
   */
  private async claimTask(
    key: string,
    start: (tx: Tx, task: QueuedTask) => Promise<Msg | 'stale'>,
  ): Promise<Msg | undefined> {
    for (;;) {
      const task = this.taskQueues.take(key);
      if (!task) return undefined;
      let response: Msg | 'stale';
      try {
        response = await this.transact((tx) => {
          tx.deleteTaskById(task);
          return start(tx, task);
        });
      } catch (err) {
        // Back at the head of its queue, and another poller waiting on the queue is told: this one fails.
        this.taskQueues.giveBack(key, task);
        this.notifier.notifyTask(key);
        throw err;
      }
      if (response !== 'stale') return response;
    }
  }

  private claimWorkflowTask(ns: string, queue: string, identity: string): Promise<Msg | undefined> {
    return this.claimTask(Notifier.taskKey(ns, queue, TaskKind.Workflow), async (tx, task) => {
      const run = await tx.loadRun(ns, task.runId);
      const wft = run?.state.wft;
      if (!run || !run.isRunning || !wft || wft.scheduledId !== task.ref || wft.startedId !== undefined) return 'stale';
      const sticky = queue !== run.taskQueue;
      if (sticky && (!wft.onSticky || run.state.sticky?.name !== queue)) return 'stale';
      if (!sticky && wft.onSticky) return 'stale';
      return this.startWorkflowTask(tx, run, sticky, identity);
    });
  }

  /**
   * Starts the run's scheduled workflow task and builds what the worker gets, from a poll or eagerly in the
   * start response: the full history on the normal queue, the events after the last completed task on a
   * sticky one.
   */
  private async startWorkflowTask(tx: Tx, run: Run, sticky: boolean, identity: string): Promise<Msg> {
    const ns = run.namespace;
    const wft = run.state.wft!;
    await tx.deleteTimers(run, ['sticky_timeout']);
    const startedId = this.engine.startWorkflowTask(tx, run, identity, randomUUID());
    const events = await tx.readEvents(run, sticky ? run.state.lastWftStartedId : 0);
    // A long full history goes out a page at a time; sdk-core fetches the rest with GetWorkflowExecutionHistory.
    const paged = !sticky && events.length > POLL_HISTORY_PAGE;
    const messages = Object.values(run.state.updates)
      .filter((u) => u.stage === 'admitted')
      .map((u) => ({
        id: `${u.id}/request`,
        protocolInstanceId: u.id,
        eventId: startedId - 1,
        body: packAny('temporal.api.update.v1.Request', messageFromJson('temporal.api.update.v1.Request', u.request)),
      }));
    return {
      taskToken: encodeToken({ k: 'w', n: ns, r: run.runId, w: run.workflowId, s: wft.scheduledId, t: startedId }),
      workflowExecution: run.execution,
      workflowType: { name: run.workflowType },
      previousStartedEventId: run.state.lastWftStartedId,
      startedEventId: startedId,
      attempt: wft.attempt,
      history: new RawHistory(paged ? events.slice(0, POLL_HISTORY_PAGE) : events),
      nextPageToken: paged ? Buffer.from(String(POLL_HISTORY_PAGE + 1)) : Buffer.alloc(0),
      workflowExecutionTaskQueue: { name: run.taskQueue, kind: 1 },
      scheduledTime: msToTimestamp(wft.scheduledTime),
      startedTime: msToTimestamp(tx.now),
      messages,
    };
  }

  private async loadForToken(tx: Tx, token: TaskToken): Promise<Run> {
    const run = await tx.loadRun(token.n, token.r);
    if (!run) throw notFound('workflow execution not found');
    if (!run.isRunning) throw notFound('workflow execution already completed');
    return run;
  }

  async respondWorkflowTaskCompleted(req: Msg): Promise<Msg> {
    const token = decodeToken(req.taskToken);
    if (token.k !== 'w') throw invalidArgument('not a workflow task token');
    await this.visibility.ensureTypes(token.n);
    const result = await this.transact(async (tx) => {
      const run = await this.loadForToken(tx, token);
      const wft = run.state.wft;
      if (!wft || wft.scheduledId !== token.s || wft.startedId !== token.t) throw notFound('Workflow task not found.');
      const completed = await this.engine.completeWorkflowTask(tx, run, req);
      const activityTasks = (completed.eagerActivities ?? []).map((e) => activityTask(run, e.act, e, tx.now));
      return { ...completed, activityTasks };
    });
    if (result.error) throw result.error;
    for (const qr of Object.entries((req.queryResults ?? {}) as Record<string, Msg>)) this.resolveQuery(qr[0], qr[1]);
    return { activityTasks: result.activityTasks };
  }

  async respondWorkflowTaskFailed(req: Msg): Promise<Msg> {
    const token = decodeToken(req.taskToken);
    if (token.k !== 'w') throw invalidArgument('not a workflow task token');
    await this.transact(async (tx) => {
      const run = await this.loadForToken(tx, token);
      const wft = run.state.wft;
      if (!wft || wft.scheduledId !== token.s || wft.startedId !== token.t) throw notFound('Workflow task not found.');
      await this.engine.failWorkflowTask(
        tx,
        run,
        EventType.WorkflowTaskFailed,
        {
          cause: req.cause ?? 0,
          failure: req.failure ?? undefined,
          identity: req.identity ?? '',
          binaryChecksum: req.binaryChecksum ?? '',
        },
        { clearSticky: true },
      );
    });
    return {};
  }

  // ---- activities -----------------------------------------------------------------------------------------

  async pollActivityTaskQueue(req: Msg, ctx: CallContext): Promise<Msg> {
    const ns = this.requireNamespace(req);
    const queue = req.taskQueue?.name as string | undefined;
    if (!queue) throw invalidArgument('TaskQueue is not set on request.');
    const identity = (req.identity as string) ?? '';
    const deadline = this.pollDeadline(ctx, TASK_POLL_CAP_MS);
    const key = Notifier.taskKey(ns, queue, TaskKind.Activity);
    for (;;) {
      if (ctx.isCancelled() || this.stopped) return {};
      const task = await this.claimActivityTask(ns, queue, identity);
      if (task && ctx.isCancelled()) {
        await this.unclaimTask(decodeToken(task.taskToken as Buffer));
        return {};
      }
      if (task) return task;
      const remaining = deadline - Date.now();
      if (remaining <= 0) return {};
      await this.notifier.waitTask(key, Math.min(remaining, POLL_RECHECK_MS), ctx.cancelled);
    }
  }

  private claimActivityTask(ns: string, queue: string, identity: string): Promise<Msg | undefined> {
    return this.claimTask(Notifier.taskKey(ns, queue, TaskKind.Activity), async (tx, task) => {
      const run = await tx.loadRun(ns, task.runId);
      const act = run?.state.activities[String(task.ref)];
      if (!run || !run.isRunning || !act || act.phase !== 'scheduled' || act.attempt !== task.attempt) return 'stale';
      const scheduledBytes = await tx.readEvent(run, act.scheduledId);
      const scheduled = scheduledBytes ? (decodeEvent(scheduledBytes).activityTaskScheduledEventAttributes ?? {}) : {};
      this.engine.startActivity(tx, run, act, identity);
      return activityTask(run, act, scheduled, tx.now);
    });
  }

  /**
   * Gives back a task whose poller disappeared before the response went out (Temporal's matching does the
   * same when a sync match fails): an activity attempt goes back to the queue; a workflow task, whose Started
   * event is already history, times out at once and is rescheduled.
   */
  private async unclaimTask(token: TaskToken): Promise<void> {
    await this.transact(async (tx) => {
      const run = await tx.loadRun(token.n, token.r);
      if (!run || !run.isRunning) return;
      if (token.k === 'a') {
        const act = run.state.activities[String(token.s)];
        if (!act || act.phase !== 'started' || act.attempt !== token.a) return;
        await tx.deleteTimers(run, ['act_st2c', 'act_hb'], act.scheduledId);
        this.engine.makeActivityAttemptReady(tx, run, act);
        return;
      }
      const wft = run.state.wft;
      if (token.k !== 'w' || !wft || wft.scheduledId !== token.s || wft.startedId !== token.t) return;
      await this.engine.failWorkflowTask(
        tx,
        run,
        EventType.WorkflowTaskTimedOut,
        { timeoutType: 1 },
        { clearSticky: true },
      );
    });
  }

  /** Finds the started activity a token or (namespace, workflowId, runId, activityId) names, in a locked run. */
  private async activityFor(tx: Tx, req: Msg, byId: boolean): Promise<{ run: Run; act: ActivityState }> {
    if (byId) {
      const ns = this.requireNamespace(req);
      if (!req.workflowId) throw invalidArgument('WorkflowId is not set on request.');
      if (!req.activityId) throw invalidArgument('ActivityId is not set on request.');
      const run = await tx.loadCurrentRun(ns, req.workflowId, req.runId || undefined);
      this.engine.assertRunning(run);
      const act = Object.values(run.state.activities).find((a) => a.activityId === req.activityId);
      if (!act) throw notFound('activity task not found');
      return { run, act };
    }
    const token = decodeToken(req.taskToken);
    if (token.k !== 'a') throw invalidArgument('not an activity task token');
    const run = await this.loadForToken(tx, token);
    const act = run.state.activities[String(token.s)];
    if (!act || act.attempt !== token.a || act.phase !== 'started') throw notFound('activity task not found');
    return { run, act };
  }

  async recordActivityTaskHeartbeat(req: Msg, byId = false): Promise<Msg> {
    return this.transact(async (tx) => {
      const { run, act } = await this.activityFor(tx, req, byId);
      act.lastHeartbeatTime = tx.now;
      if (req.details) act.heartbeatDetails = messageFromJsonSafe(req.details);
      run.dirty = true;
      // A reset attempt is told so (the SDK then cancels it and reports it failed, and the retry is attempt 1).
      return { cancelRequested: !!act.cancelRequested, activityPaused: false, activityReset: !!act.reset };
    });
  }

  async respondActivityTaskCompleted(req: Msg, byId = false): Promise<Msg> {
    await this.transact(async (tx) => {
      const { run, act } = await this.activityFor(tx, req, byId);
      await this.engine.completeActivity(tx, run, act, req.result ?? undefined, req.identity ?? '');
    });
    return {};
  }

  async respondActivityTaskFailed(req: Msg, byId = false): Promise<Msg> {
    await this.transact(async (tx) => {
      const { run, act } = await this.activityFor(tx, req, byId);
      const failure = req.failure ?? { message: 'activity failed' };
      await this.engine.failActivityAttempt(tx, run, act, failure, {
        identity: req.identity ?? '',
        heartbeatDetails: req.lastHeartbeatDetails ?? undefined,
      });
    });
    return { failures: [] };
  }

  async respondActivityTaskCanceled(req: Msg, byId = false): Promise<Msg> {
    await this.transact(async (tx) => {
      const { run, act } = await this.activityFor(tx, req, byId);
      // As Temporal: only a cancel the workflow asked for closes the activity as canceled. An attempt the SDK
      // cancelled for a reset (or that gave up on its own) must not end it; it fails or times out and retries.
      if (!act.cancelRequested)
        throw invalidArgument('unable to mark activity as canceled without activity being request canceled first');
      await this.engine.cancelActivity(tx, run, act, req.details ?? undefined, req.identity ?? '');
    });
    return {};
  }

  // ---- queries --------------------------------------------------------------------------------------------

  private takeLegacyQuery(key: string): LegacyQuery | undefined {
    const list = this.legacyQueries.get(key);
    if (!list) return undefined;
    const q = list.shift();
    if (list.length === 0) this.legacyQueries.delete(key);
    return q;
  }

  private async legacyQueryTask(q: LegacyQuery): Promise<Msg | undefined> {
    if (!this.queryWaiters.has(q.id)) return undefined;
    return this.transact(async (tx) => {
      const { rows } = await tx.query(
        `SELECT workflow_id, workflow_type, task_queue, state->'lastWftStartedId' AS last FROM ${this.table('executions')} WHERE namespace = $1 AND run_id = $2`,
        [q.namespace, q.runId],
      );
      const row = rows[0];
      if (!row) return undefined;
      const ev = await tx.query(
        `SELECT data FROM ${this.table('history_events')} WHERE run_id = $1 ORDER BY event_id LIMIT ${POLL_HISTORY_PAGE}`,
        [q.runId],
      );
      return {
        taskToken: encodeToken({ k: 'q', n: q.namespace, r: q.runId, w: row.workflow_id, s: 0, q: q.id }),
        workflowExecution: { workflowId: row.workflow_id, runId: q.runId },
        workflowType: { name: row.workflow_type },
        previousStartedEventId: Number(row.last ?? 0),
        startedEventId: 0,
        attempt: 1,
        history: new RawHistory(ev.rows.map((r) => r.data as Buffer)),
        nextPageToken:
          ev.rows.length === POLL_HISTORY_PAGE ? Buffer.from(String(POLL_HISTORY_PAGE + 1)) : Buffer.alloc(0),
        workflowExecutionTaskQueue: { name: row.task_queue, kind: 1 },
        query: q.query,
        scheduledTime: msToTimestamp(this.clock.now()),
        startedTime: msToTimestamp(this.clock.now()),
      };
    });
  }

  private resolveQuery(id: string, result: Msg): void {
    const w = this.queryWaiters.get(id);
    if (!w) return;
    this.queryWaiters.delete(id);
    w.resolve(result);
  }

  async queryWorkflow(req: Msg, ctx: CallContext): Promise<Msg> {
    const ns = this.requireNamespace(req);
    if (!req.execution?.workflowId) throw invalidArgument('WorkflowId is not set on request.');
    if (!req.query?.queryType) throw invalidArgument('QueryType is not set on request.');
    const deadline = Math.min(ctx.deadline ?? Date.now() + QUERY_DEFAULT_TIMEOUT_MS, Date.now() + 120_000);
    // A query is answered against a quiet run: wait out any workflow task that is scheduled or in flight, so the
    // answer reflects every event already accepted (strong consistency without attaching it to the task).
    for (;;) {
      const run = await this.readRun(ns, req.execution.workflowId, req.execution.runId);
      this.engine.assertFound(run);
      const rejectCondition = Number(req.queryRejectCondition ?? 0);
      // QueryRejectCondition: 2 NOT_OPEN, 3 NOT_COMPLETED_CLEANLY (1 NONE never rejects).
      if (rejectCondition === 2 && !run.isRunning) return { queryRejected: { status: run.status } };
      if (rejectCondition === 3 && !run.isRunning && run.status !== 2) return { queryRejected: { status: run.status } };
      if (run.isRunning && run.state.wft) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw new TemporalServiceError(GrpcCode.DEADLINE_EXCEEDED, 'query timed out');
        await this.notifier.waitRun(run.runId, remaining);
        continue;
      }
      const id = randomUUID();
      const key = Notifier.taskKey(ns, run.taskQueue, TaskKind.Workflow);
      const result = new Promise<Msg>((resolve, reject) => this.queryWaiters.set(id, { resolve, reject }));
      const list = this.legacyQueries.get(key) ?? [];
      list.push({ id, namespace: ns, runId: run.runId, query: req.query });
      this.legacyQueries.set(key, list);
      this.notifier.notifyTask(key);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => {
            this.queryWaiters.delete(id);
            reject(new TemporalServiceError(GrpcCode.DEADLINE_EXCEEDED, 'query timed out: no worker answered'));
          },
          Math.max(0, deadline - Date.now()),
        );
      });
      try {
        const r = await Promise.race([result, timeout]);
        if (r.completedType === QueryResultType.Failed || r.resultType === QueryResultType.Failed) {
          throw new TemporalServiceError(GrpcCode.INVALID_ARGUMENT, String(r.errorMessage ?? 'query failed'), {
            typeName: 'temporal.api.errordetails.v1.QueryFailedFailure',
            value: { failure: r.failure ?? undefined },
          });
        }
        return { queryResult: r.queryResult ?? r.answer ?? undefined };
      } finally {
        clearTimeout(timer);
      }
    }
  }

  respondQueryTaskCompleted(req: Msg): Msg {
    const token = decodeToken(req.taskToken);
    if (token.k !== 'q' || !token.q) throw invalidArgument('not a query task token');
    this.resolveQuery(token.q, req);
    return {};
  }

  // ---- updates --------------------------------------------------------------------------------------------

  async updateWorkflowExecution(req: Msg, ctx: CallContext): Promise<Msg> {
    const ns = this.requireNamespace(req);
    const exec = req.workflowExecution ?? {};
    if (!exec.workflowId) throw invalidArgument('WorkflowId is not set on request.');
    const request = req.request ?? {};
    if (!request.input?.name) throw invalidArgument('Update name is not set on request.');
    const updateId: string = request.meta?.updateId || randomUUID();
    request.meta = { ...(request.meta ?? {}), updateId };
    const stage = Number(req.waitPolicy?.lifecycleStage || UpdateStage.Accepted);
    if (stage === UpdateStage.Admitted)
      throw new TemporalServiceError(GrpcCode.PERMISSION_DENIED, 'waiting for the ADMITTED stage is not supported');
    const run = await this.transact(async (tx) => {
      const r = await tx.loadCurrentRun(ns, exec.workflowId, exec.runId || undefined);
      if (exec.firstExecutionRunId && r && r.state.firstRunId !== exec.firstExecutionRunId)
        throw notFound('workflow execution not found');
      // A closed run still answers for an update it has, as Temporal does (temporalio/temporal#6240): a client that
      // re-sends an update id (its answer was lost) after the update completed and the run closed gets the outcome.
      if (r && !r.isRunning && r.state.updates[updateId]) return r;
      this.engine.assertRunning(r);
      this.engine.admitUpdate(tx, r, request);
      return r;
    });
    return this.waitUpdate(ns, run.runId, run.workflowId, updateId, stage, ctx);
  }

  /** Update-with-start: exactly [StartWorkflow, UpdateWorkflow], started (or reused) and admitted in one transaction. */
  async executeMultiOperation(req: Msg, ctx: CallContext): Promise<Msg> {
    const ns = this.requireNamespace(req);
    const ops = (req.operations as Msg[] | undefined) ?? [];
    const startReq = ops[0]?.startWorkflow as Msg | undefined;
    const updateReq = ops[1]?.updateWorkflow as Msg | undefined;
    if (ops.length !== 2 || !startReq || !updateReq)
      throw invalidArgument('Operations must be exactly [StartWorkflow, UpdateWorkflow].');
    const p = this.startParams({ ...startReq, namespace: ns });
    await this.visibility.ensureTypes(ns);
    const request = updateReq.request ?? {};
    if (!request.input?.name) throw invalidArgument('Update name is not set on request.');
    const updateId: string = request.meta?.updateId || randomUUID();
    request.meta = { ...(request.meta ?? {}), updateId };
    const stage = Number(updateReq.waitPolicy?.lifecycleStage || UpdateStage.Accepted);
    const { run, started } = await this.transact(async (tx) => {
      const r = await this.engine.startWorkflow(
        tx,
        p,
        Number(startReq.workflowIdReusePolicy || 0),
        Number(startReq.workflowIdConflictPolicy || 0),
      );
      this.engine.admitUpdate(tx, r.run, request);
      return r;
    });
    const updateResponse = await this.waitUpdate(ns, run.runId, run.workflowId, updateId, stage, ctx);
    return { responses: [{ startWorkflow: { runId: run.runId, started } }, { updateWorkflow: updateResponse }] };
  }

  async pollWorkflowExecutionUpdate(req: Msg, ctx: CallContext): Promise<Msg> {
    const ns = this.requireNamespace(req);
    const ref = req.updateRef ?? {};
    const exec = ref.workflowExecution ?? {};
    if (!exec.workflowId || !ref.updateId) throw invalidArgument('UpdateRef is not set on request.');
    const run = await this.readRun(ns, exec.workflowId, exec.runId);
    this.engine.assertFound(run);
    if (!run.state.updates[ref.updateId]) throw notFound(`update ${ref.updateId} not found`);
    const stage = Number(req.waitPolicy?.lifecycleStage || UpdateStage.Completed);
    return this.waitUpdate(ns, run.runId, run.workflowId, ref.updateId, stage, ctx);
  }

  private async waitUpdate(
    ns: string,
    runId: string,
    workflowId: string,
    updateId: string,
    stage: number,
    ctx: CallContext,
  ): Promise<Msg> {
    const deadline = this.pollDeadline(ctx, UPDATE_WAIT_CAP_MS);
    const updateRef = { workflowExecution: { workflowId, runId }, updateId };
    for (;;) {
      const run = await this.readRun(ns, workflowId, runId);
      this.engine.assertFound(run);
      const u = run.state.updates[updateId];
      if (!u) throw notFound(`update ${updateId} not found`);
      if (u.stage === 'completed' || u.stage === 'rejected') {
        return {
          updateRef,
          outcome: messageFromJson('temporal.api.update.v1.Outcome', u.outcome ?? {}),
          stage: UpdateStage.Completed,
        };
      }
      if (u.stage === 'accepted' && stage <= UpdateStage.Accepted) return { updateRef, stage: UpdateStage.Accepted };
      if (!run.isRunning) throw notFound('workflow execution already completed');
      const remaining = deadline - Date.now();
      if (remaining <= 0 || ctx.isCancelled() || this.stopped)
        return { updateRef, stage: u.stage === 'accepted' ? UpdateStage.Accepted : UpdateStage.Admitted };
      await this.notifier.waitRun(runId, remaining);
    }
  }

  // ---- describe -------------------------------------------------------------------------------------------

  async describeWorkflowExecution(req: Msg): Promise<Msg> {
    const ns = this.requireNamespace(req);
    const exec = req.execution ?? {};
    if (!exec.workflowId) throw invalidArgument('WorkflowId is not set on request.');
    await this.visibility.ensureTypes(ns);
    const run = await this.readRun(ns, exec.workflowId, exec.runId);
    this.engine.assertFound(run);
    const s = run.state;
    const pendingActivities = Object.values(s.activities).map((a) => ({
      activityId: a.activityId,
      activityType: { name: a.activityType },
      state: a.cancelRequested
        ? PendingActivityState.CancelRequested
        : a.phase === 'started'
          ? PendingActivityState.Started
          : PendingActivityState.Scheduled,
      heartbeatDetails: a.heartbeatDetails
        ? messageFromJson('temporal.api.common.v1.Payloads', a.heartbeatDetails)
        : undefined,
      lastHeartbeatTime: a.lastHeartbeatTime ? msToTimestamp(a.lastHeartbeatTime) : undefined,
      lastStartedTime: a.startedTime ? msToTimestamp(a.startedTime) : undefined,
      attempt: a.attempt,
      maximumAttempts: a.retry.maximumAttempts,
      scheduledTime: msToTimestamp(a.attemptScheduledTime),
      expirationTime: a.scheduleToCloseMs ? msToTimestamp(a.scheduledTime + a.scheduleToCloseMs) : undefined,
      lastFailure: a.lastFailure ? messageFromJson('temporal.api.failure.v1.Failure', a.lastFailure) : undefined,
      lastWorkerIdentity: a.lastWorkerIdentity ?? '',
      nextAttemptScheduleTime: a.nextAttemptTime ? msToTimestamp(a.nextAttemptTime) : undefined,
    }));
    const pendingChildren = Object.values(s.children)
      .filter((c) => c.runId)
      .map((c) => ({
        workflowId: c.workflowId,
        runId: c.runId,
        workflowTypeName: c.workflowType,
        initiatedId: c.initiatedId,
        parentClosePolicy: c.parentClosePolicy,
      }));
    return {
      executionConfig: {
        taskQueue: { name: run.taskQueue, kind: 1 },
        workflowExecutionTimeout: msToDuration(s.executionTimeoutMs),
        workflowRunTimeout: msToDuration(s.runTimeoutMs),
        defaultWorkflowTaskTimeout: msToDuration(s.workflowTaskTimeoutMs),
      },
      workflowExecutionInfo: {
        execution: run.execution,
        type: { name: run.workflowType },
        startTime: msToTimestamp(s.startTime),
        closeTime: s.closeTime ? msToTimestamp(s.closeTime) : undefined,
        status: run.status,
        historyLength: s.nextEventId - 1,
        executionTime: msToTimestamp(s.executionTime),
        memo: s.memo ? messageFromJson('temporal.api.common.v1.Memo', s.memo) : { fields: {} },
        searchAttributes: { indexedFields: this.visibility.encodeSync(ns, run.searchAttributes) },
        taskQueue: run.taskQueue,
        parentNamespaceId: s.parent?.namespace ?? '',
        parentExecution: s.parent ? { workflowId: s.parent.workflowId, runId: s.parent.runId } : undefined,
        rootExecution: s.root ?? run.execution,
        firstRunId: s.firstRunId,
        historySizeBytes: s.historySizeBytes,
        stateTransitionCount: s.nextEventId - 1,
      },
      pendingActivities,
      pendingChildren,
      pendingWorkflowTask: s.wft
        ? {
            state: s.wft.startedId ? 2 : 1,
            scheduledTime: msToTimestamp(s.wft.scheduledTime),
            originalScheduledTime: msToTimestamp(s.wft.scheduledTime),
            startedTime: s.wft.startedTime ? msToTimestamp(s.wft.startedTime) : undefined,
            attempt: s.wft.attempt,
          }
        : undefined,
    };
  }

  // ---- activity reset -------------------------------------------------------------------------------------

  /**
   * ResetActivity (the ops console's "retry now"): resets the pending activities chosen by id, by type or all of
   * them (`matchAll`), see Engine.resetActivity. As in Temporal: NOT_FOUND for an unknown or closed run and when
   * no pending activity matches; no history event. Nothing is ever paused here, so `keepPaused` has nothing to
   * keep, and activity options are never updated, so `restoreOriginalOptions` finds them as they were.
   */
  async resetActivity(req: Msg): Promise<Msg> {
    const ns = this.requireNamespace(req);
    const exec = req.execution ?? {};
    if (!exec.workflowId) throw invalidArgument('WorkflowId is not set on request.');
    let matches: (act: ActivityState) => boolean;
    let what: string;
    if (req.id !== undefined) {
      matches = (a) => a.activityId === req.id;
      what = `with id "${String(req.id)}"`;
    } else if (req.type !== undefined) {
      matches = (a) => a.activityType === req.type;
      what = `of type "${String(req.type)}"`;
    } else if (req.matchAll === true) {
      matches = () => true;
      what = 'at all';
    } else {
      throw invalidArgument('Either Activity.Id or Activity.Type should be set on request.');
    }
    const opts = { resetHeartbeat: !!req.resetHeartbeat, jitterMs: positiveMs(req.jitter) ?? 0 };
    await this.transact(async (tx) => {
      const run = await tx.loadCurrentRun(ns, exec.workflowId, exec.runId || undefined);
      this.engine.assertRunning(run);
      const acts = Object.values(run.state.activities).filter(matches);
      if (acts.length === 0)
        throw notFound(
          `workflow execution ${String(exec.workflowId)} has no pending activity ${what} (it may have completed)`,
        );
      for (const act of acts) await this.engine.resetActivity(tx, run, act, opts);
    });
    return {};
  }

  // ---- reset ----------------------------------------------------------------------------------------------

  async resetWorkflowExecution(req: Msg): Promise<Msg> {
    const ns = this.requireNamespace(req);
    const exec = req.workflowExecution ?? {};
    if (!exec.workflowId) throw invalidArgument('WorkflowId is not set on request.');
    const run = await this.transact(async (tx) => {
      const base = await tx.loadCurrentRun(ns, exec.workflowId, exec.runId || undefined);
      assertResettable(base);
      return resetWorkflow(tx, this.engine, base, req);
    });
    return { runId: run.runId };
  }

  // ---- sticky queues --------------------------------------------------------------------------------------

  /** ShutdownWorker: the worker's sticky queue dies with it; its runs go back to the normal queue at once. */
  async shutdownWorker(req: Msg): Promise<Msg> {
    const ns = this.requireNamespace(req);
    const sticky = req.stickyTaskQueue as string | undefined;
    if (!sticky) return {};
    const { rows } = await this.pool.query(
      `SELECT run_id FROM ${this.table('executions')} WHERE status = 1 AND namespace = $1 AND sticky_queue = $2`,
      [ns, sticky],
    );
    for (const r of rows) {
      await this.transact(async (tx) => {
        const run = await tx.loadRun(ns, r.run_id as string);
        if (run && run.isRunning && run.state.sticky?.name === sticky)
          this.engine.moveWorkflowTaskToNormalQueue(tx, run);
      });
    }
    return {};
  }

  async resetStickyTaskQueue(req: Msg): Promise<Msg> {
    const ns = this.requireNamespace(req);
    const exec = req.execution ?? {};
    await this.transact(async (tx) => {
      const run = await tx.loadCurrentRun(ns, exec.workflowId, exec.runId || undefined);
      this.engine.assertRunning(run);
      this.engine.moveWorkflowTaskToNormalQueue(tx, run);
    });
    return {};
  }

  // ---- visibility -----------------------------------------------------------------------------------------

  async listWorkflowExecutions(req: Msg): Promise<Msg> {
    const ns = this.requireNamespace(req);
    const pageSize = Math.min(Number(req.pageSize) || 100, 1000);
    const token = req.nextPageToken?.length ? Buffer.from(req.nextPageToken) : undefined;
    return this.visibility.list(ns, req.query ?? '', pageSize, token);
  }

  async countWorkflowExecutions(req: Msg): Promise<Msg> {
    const ns = this.requireNamespace(req);
    return this.visibility.count(ns, req.query ?? '');
  }

  // ---- test service ---------------------------------------------------------------------------------------

  private skipping(): SkippingClock {
    if (!(this.clock instanceof SkippingClock)) throw unimplemented('TestService (time skipping is off)');
    return this.clock;
  }

  getCurrentTime(): Msg {
    return { time: msToTimestamp(this.skipping().now()) };
  }
  /**
   * Restarts the virtual clock at `at`, back as well as forward, for work that shares nothing with what ran before
   * (the pathway simulator's next run, on the day its scenario starts). Refused while any workflow is running: its
   * timers would see time go back. Not a TestService RPC (Temporal has none): called in the process only.
   */
  async restartClock(at: number): Promise<void> {
    const clock = this.skipping();
    const { rows } = await this.pool.query(
      `SELECT workflow_id FROM ${this.table('executions')} WHERE status = 1 LIMIT 1`,
    );
    if (rows.length > 0)
      throw new Error(`The clock cannot be restarted while a workflow is running (${String(rows[0]?.workflow_id)})`);
    clock.setTime(at);
    this.kick();
  }
  lockTimeSkipping(): Msg {
    this.skipping().lock();
    return {};
  }
  unlockTimeSkipping(): Msg {
    this.skipping().unlock();
    return {};
  }
  async sleep(req: Msg): Promise<Msg> {
    const clock = this.skipping();
    await clock.sleepUntil(clock.now() + (durationToMs(req.duration) ?? 0));
    return {};
  }
  async sleepUntil(req: Msg): Promise<Msg> {
    const clock = this.skipping();
    await clock.sleepUntil(timestampToMs(req.timestamp) ?? clock.now());
    return {};
  }
  async unlockTimeSkippingWithSleep(req: Msg): Promise<Msg> {
    const clock = this.skipping();
    clock.unlock();
    try {
      await clock.sleepUntil(clock.now() + (durationToMs(req.duration) ?? 0));
    } finally {
      clock.lock();
    }
    return {};
  }
}

/** Heartbeat details are kept as protobuf JSON in the run state. */
function messageFromJsonSafe(payloads: Msg): Msg {
  return messageToJson('temporal.api.common.v1.Payloads', payloads);
}

/**
 * The task a worker runs for an activity attempt, from a poll or eagerly from the workflow task that scheduled
 * it. `carried` holds what the scheduling command carried (header, input, priority).
 */
function activityTask(run: Run, act: ActivityState, carried: Msg, startedTime: number): Msg {
  return {
    taskToken: encodeToken({
      k: 'a',
      n: run.namespace,
      r: run.runId,
      w: run.workflowId,
      s: act.scheduledId,
      a: act.attempt,
    }),
    workflowNamespace: run.namespace,
    workflowType: { name: run.workflowType },
    workflowExecution: run.execution,
    activityType: { name: act.activityType },
    activityId: act.activityId,
    header: carried.header ?? undefined,
    input: carried.input ?? undefined,
    heartbeatDetails: act.heartbeatDetails
      ? messageFromJson('temporal.api.common.v1.Payloads', act.heartbeatDetails)
      : undefined,
    scheduledTime: msToTimestamp(act.scheduledTime),
    currentAttemptScheduledTime: msToTimestamp(act.attemptScheduledTime),
    startedTime: msToTimestamp(startedTime),
    attempt: act.attempt,
    scheduleToCloseTimeout: msToDuration(act.scheduleToCloseMs),
    startToCloseTimeout: msToDuration(act.startToCloseMs),
    heartbeatTimeout: msToDuration(act.heartbeatMs),
    retryPolicy: retryPolicyToProto(act.retry),
    priority: carried.priority ?? undefined,
  };
}

/** The timeouts guarding a run's started workflow and activity tasks, as they stand in its state. */
function inFlightTimers(namespace: string, runId: string, state: RunState): VolatileTimer[] {
  const timers: VolatileTimer[] = [];
  const timer = (kind: string, ref: number, seq: number, fireAt: number): void => {
    timers.push({ namespace, runId, kind, ref: String(ref), seq, fireAt, holdsLock: true });
  };
  const wft = state.wft;
  if (wft?.startedId !== undefined && wft.startedTime !== undefined)
    timer(TimerKind.WorkflowTaskTimeout, wft.scheduledId, wft.startedId, wft.startedTime + state.workflowTaskTimeoutMs);
  for (const act of Object.values(state.activities)) {
    if (act.phase !== 'started' || act.startedTime === undefined) continue;
    timer(TimerKind.ActivityStartToClose, act.scheduledId, act.attempt, act.startedTime + act.startToCloseMs);
    if (act.heartbeatMs > 0)
      timer(
        TimerKind.ActivityHeartbeat,
        act.scheduledId,
        act.attempt,
        (act.lastHeartbeatTime ?? act.startedTime) + act.heartbeatMs,
      );
  }
  return timers;
}
