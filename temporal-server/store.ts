/**
 * The transaction unit of the server: every state transition loads the runs it touches FOR UPDATE, mutates
 * their JSON state and appends events in memory, then `flush` writes rows (events, execution, timers, tasks)
 * in the same PostgreSQL transaction. Wake-ups (pollers, history waiters, the timer loop) run after COMMIT.
 */
/* eslint-disable @typescript-eslint/no-unsafe-assignment -- protobuf messages and pg rows are dynamically shaped (Msg); fields are checked where they are read */
import { createHash, randomUUID } from 'node:crypto';
import type { Pool, PoolClient, QueryConfig } from 'pg';
import type { Clock } from './clock';
import { encodeEvent, eventAttributesField, msToTimestamp, type Msg, type WorkflowStatus } from './proto';
import { quoteIdent } from './schema';
import type { RunState } from './state';

const statementNames = new Map<string, string>();

/**
 * A named statement, which PostgreSQL parses and plans once per connection instead of on every call: planning
 * was more of the database's CPU than executing on the hot path. Only for SQL whose text comes from a fixed set
 * (each distinct text stays prepared on every pooled connection).
 */
export function prepared(text: string, values: unknown[] = []): QueryConfig {
  let name = statementNames.get(text);
  if (!name) {
    name = `tc_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return { name, text, values };
}

export const TaskKind = { Workflow: 1, Activity: 2 } as const;

export interface NewEvent {
  id: number;
  bytes: Buffer;
}

export class Run {
  readonly namespace: string;
  readonly workflowId: string;
  readonly runId: string;
  readonly workflowType: string;
  readonly taskQueue: string;
  status: WorkflowStatus;
  state: RunState;
  searchAttributes: Record<string, unknown>;
  readonly isNew: boolean;
  requestId: string | null;
  readonly newEvents: NewEvent[] = [];
  dirty = false;

  constructor(row: {
    namespace: string;
    workflowId: string;
    runId: string;
    workflowType: string;
    taskQueue: string;
    status: WorkflowStatus;
    state: RunState;
    searchAttributes: Record<string, unknown>;
    requestId: string | null;
    isNew: boolean;
  }) {
    this.namespace = row.namespace;
    this.workflowId = row.workflowId;
    this.runId = row.runId;
    this.workflowType = row.workflowType;
    this.taskQueue = row.taskQueue;
    this.status = row.status;
    this.state = row.state;
    this.searchAttributes = row.searchAttributes;
    this.requestId = row.requestId;
    this.isNew = row.isNew;
  }

  get isRunning(): boolean {
    return this.status === 1;
  }

  get execution(): Msg {
    return { workflowId: this.workflowId, runId: this.runId };
  }
}

interface PendingTask {
  namespace: string;
  queue: string;
  kind: number;
  runId: string;
  ref: number;
  attempt: number;
}

interface PendingTimer {
  fireAt: number;
  namespace: string;
  runId: string;
  kind: string;
  ref: string;
  seq: number;
  holdsLock: boolean;
}

export interface TxHooks {
  onCommit(tx: Tx): void;
}

export class Tx {
  readonly runs = new Map<string, Run>();
  readonly tasks: PendingTask[] = [];
  readonly timers: PendingTimer[] = [];
  readonly afterCommit: Array<() => void> = [];
  readonly now: number;

  constructor(
    readonly client: PoolClient,
    readonly schema: string,
    clock: Clock,
  ) {
    this.now = clock.now();
  }

  private table(name: string): string {
    return `${quoteIdent(this.schema)}.${name}`;
  }

  /** Whether BEGIN has been sent; a transaction that only flushes needs none (its one statement is atomic). */
  begun = false;

  /** Runs a statement in the transaction, as a prepared statement (see `prepared`). */
  async query(sql: string, params: unknown[] = []): Promise<{ rows: Msg[]; rowCount: number | null }> {
    if (!this.begun) {
      await this.client.query('BEGIN');
      this.begun = true;
    }
    const r = await this.client.query(prepared(sql, params));
    return { rows: r.rows as Msg[], rowCount: r.rowCount };
  }

  private static key(namespace: string, runId: string): string {
    return `${namespace}\u0000${runId}`;
  }

  async loadRun(namespace: string, runId: string): Promise<Run | undefined> {
    const cached = this.runs.get(Tx.key(namespace, runId));
    if (cached) return cached;
    const { rows } = await this.query(
      `SELECT workflow_id, run_id, workflow_type, task_queue, status, state, search_attributes, request_id
         FROM ${this.table('executions')} WHERE namespace = $1 AND run_id = $2 FOR UPDATE`,
      [namespace, runId],
    );
    const row = rows[0];
    if (!row) return undefined;
    return this.adoptRun(namespace, row);
  }

  /** The columns adoptRun needs, for statements that lock a run while doing something else. */
  static readonly RUN_COLUMNS =
    'e.workflow_id, e.run_id, e.workflow_type, e.task_queue, e.status, e.state, e.search_attributes, e.request_id';

  /** Registers a run row locked FOR UPDATE by a combined statement. */
  adoptRun(namespace: string, row: Msg): Run {
    const cached = this.runs.get(Tx.key(namespace, String(row.run_id)));
    if (cached) return cached;
    const run = new Run({
      namespace,
      workflowId: row.workflow_id,
      runId: row.run_id,
      workflowType: row.workflow_type,
      taskQueue: row.task_queue,
      status: row.status,
      state: row.state,
      searchAttributes: row.search_attributes,
      requestId: row.request_id,
      isNew: false,
    });
    this.runs.set(Tx.key(namespace, run.runId), run);
    return run;
  }

  /** The newest run of a workflow id (or the given run), locked. */
  async loadCurrentRun(namespace: string, workflowId: string, runId?: string): Promise<Run | undefined> {
    if (runId) {
      const run = await this.loadRun(namespace, runId);
      return run && run.workflowId === workflowId ? run : undefined;
    }
    for (const run of this.runs.values()) {
      if (run.namespace === namespace && run.workflowId === workflowId && run.isNew) return run;
    }
    for (let i = 0; i < 3; i++) {
      const { rows } = await this.query(
        `SELECT run_id FROM ${this.table('executions')} WHERE namespace = $1 AND workflow_id = $2 ORDER BY seq DESC LIMIT 1`,
        [namespace, workflowId],
      );
      if (!rows[0]) return undefined;
      const run = await this.loadRun(namespace, rows[0].run_id as string);
      if (run && (run.isRunning || !run.state.newExecutionRunId)) return run;
      if (run && run.state.newExecutionRunId) {
        const next = await this.loadRun(namespace, run.state.newExecutionRunId);
        if (next) return next;
      }
    }
    return undefined;
  }

  createRun(init: {
    namespace: string;
    workflowId: string;
    runId?: string;
    workflowType: string;
    taskQueue: string;
    state: RunState;
    requestId: string | null;
  }): Run {
    const run = new Run({
      ...init,
      runId: init.runId ?? randomUUID(),
      status: 1,
      searchAttributes: {},
      isNew: true,
    });
    run.dirty = true;
    this.runs.set(Tx.key(run.namespace, run.runId), run);
    return run;
  }

  /** Appends an event to the run's history now; returns its id. startedEventId -1 means "the previous event". */
  addEvent(run: Run, eventType: number, attributes: Msg): number {
    const id = run.state.nextEventId++;
    if (attributes.startedEventId === -1) attributes.startedEventId = id - 1;
    const field = eventAttributesField[eventType];
    if (!field) throw new Error(`unknown event type ${eventType}`);
    const event: Msg = { eventId: id, eventTime: msToTimestamp(this.now), eventType, [field]: attributes };
    const bytes = encodeEvent(event);
    run.state.historySizeBytes += bytes.length;
    run.newEvents.push({ id, bytes });
    run.dirty = true;
    return id;
  }

  addTask(run: Run, kind: number, queue: string, ref: number, attempt = 1): void {
    this.tasks.push({ namespace: run.namespace, queue, kind, runId: run.runId, ref, attempt });
  }

  addTimer(run: Run, kind: string, ref: string | number, fireAt: number, seq = 0, holdsLock = false): void {
    this.timers.push({ fireAt, namespace: run.namespace, runId: run.runId, kind, ref: String(ref), seq, holdsLock });
  }

  /** Timer deletions, applied in the flush statement: (run, kind, ref or '' for any ref). */
  private readonly timerDeletes: Array<{ runId: string; kind: string; ref: string }> = [];
  private readonly timerIdDeletes: string[] = [];
  private readonly taskDeletes: Array<{ runId: string; kind: number; ref: number }> = [];

  /**
   * Drops timers of a run. Applied with SKIP LOCKED in the flush, so a timer being fired concurrently never
   * blocks us (the firing transaction re-validates against the run state and finds it stale).
   */
  deleteTimers(run: Run, kinds: string[], ref?: string | number): Promise<void> {
    const r = ref === undefined ? undefined : String(ref);
    this.timers.splice(
      0,
      this.timers.length,
      ...this.timers.filter(
        (t) => !(t.runId === run.runId && kinds.includes(t.kind) && (r === undefined || t.ref === r)),
      ),
    );
    if (!run.isNew) for (const kind of kinds) this.timerDeletes.push({ runId: run.runId, kind, ref: r ?? '' });
    return Promise.resolve();
  }

  deleteTimerById(id: string): void {
    this.timerIdDeletes.push(id);
  }

  deleteAllTimersAndTasks(run: Run): Promise<void> {
    this.timers.splice(0, this.timers.length, ...this.timers.filter((t) => t.runId !== run.runId));
    this.tasks.splice(0, this.tasks.length, ...this.tasks.filter((t) => t.runId !== run.runId));
    if (!run.isNew) {
      this.timerDeletes.push({ runId: run.runId, kind: '*', ref: '' });
      this.taskDeletes.push({ runId: run.runId, kind: 0, ref: 0 });
    }
    return Promise.resolve();
  }

  deleteTasks(run: Run, kind: number, ref?: number): Promise<void> {
    this.tasks.splice(
      0,
      this.tasks.length,
      ...this.tasks.filter((t) => !(t.runId === run.runId && t.kind === kind && (ref === undefined || t.ref === ref))),
    );
    if (!run.isNew) this.taskDeletes.push({ runId: run.runId, kind, ref: ref ?? 0 });
    return Promise.resolve();
  }

  /** Events of a run with id > after, including events appended in this transaction. */
  async readEvents(run: Run, after: number, upTo = Number.MAX_SAFE_INTEGER): Promise<Buffer[]> {
    const out: Buffer[] = [];
    const firstNew = run.newEvents[0]?.id ?? run.state.nextEventId;
    if (after + 1 < firstNew && !run.isNew) {
      const { rows } = await this.query(
        `SELECT data FROM ${this.table('history_events')} WHERE run_id = $1 AND event_id > $2 AND event_id < $3 AND event_id <= $4 ORDER BY event_id`,
        [run.runId, after, firstNew, upTo],
      );
      for (const r of rows) out.push(r.data as Buffer);
    }
    for (const e of run.newEvents) if (e.id > after && e.id <= upTo) out.push(e.bytes);
    return out;
  }

  async readEvent(run: Run, eventId: number): Promise<Buffer | undefined> {
    const fresh = run.newEvents.find((e) => e.id === eventId);
    if (fresh) return fresh.bytes;
    const { rows } = await this.query(
      `SELECT data FROM ${this.table('history_events')} WHERE run_id = $1 AND event_id = $2`,
      [run.runId, eventId],
    );
    return rows[0]?.data as Buffer | undefined;
  }

  /**
   * Writes everything in ONE statement (data-modifying CTEs): new and changed runs, events, tasks, timers and
   * the deletions. A transaction is then BEGIN, its reads, this, COMMIT: few round trips on the hot path.
   */
  async flush(): Promise<void> {
    const inserts = [...this.runs.values()].filter((r) => r.dirty && r.isNew);
    const updates = [...this.runs.values()].filter((r) => r.dirty && !r.isNew);
    const events = [...this.runs.values()].flatMap((r) => r.newEvents.map((e) => ({ runId: r.runId, ...e })));
    const parts: string[] = [];
    const params: unknown[] = [];
    const p = (v: unknown): string => {
      params.push(v);
      return `$${params.length}`;
    };
    const close = (r: Run): Date | null => (r.state.closeTime ? new Date(r.state.closeTime) : null);
    if (updates.length > 0) {
      parts.push(`upd_exec AS (UPDATE ${this.table('executions')} e SET status = u.status, close_time = u.close_time,
          search_attributes = u.sa, history_length = u.hl, state = u.state, sticky_queue = u.sticky
        FROM unnest(${p(updates.map((r) => r.namespace))}::text[], ${p(updates.map((r) => r.runId))}::text[],
          ${p(updates.map((r) => r.status))}::smallint[], ${p(updates.map(close))}::timestamptz[],
          ${p(updates.map((r) => JSON.stringify(r.searchAttributes)))}::jsonb[],
          ${p(updates.map((r) => r.state.nextEventId - 1))}::bigint[],
          ${p(updates.map((r) => JSON.stringify(r.state)))}::jsonb[],
          ${p(updates.map((r) => r.state.sticky?.name ?? null))}::text[]) AS u(ns, run_id, status, close_time, sa, hl, state, sticky)
        WHERE e.namespace = u.ns AND e.run_id = u.run_id RETURNING 1)`);
    }
    // Runs closed in this transaction are updated before new runs of the same workflow id are inserted (the
    // reference to upd_exec orders the two), so the one-running-run index never sees both as running.
    if (inserts.length > 0) {
      parts.push(`ins_exec AS (INSERT INTO ${this.table('executions')} (namespace, workflow_id, run_id, workflow_type,
          task_queue, status, start_time, execution_time, close_time, search_attributes, history_length, request_id, state, sticky_queue)
        SELECT * FROM unnest(${p(inserts.map((r) => r.namespace))}::text[], ${p(inserts.map((r) => r.workflowId))}::text[],
          ${p(inserts.map((r) => r.runId))}::text[], ${p(inserts.map((r) => r.workflowType))}::text[],
          ${p(inserts.map((r) => r.taskQueue))}::text[], ${p(inserts.map((r) => r.status))}::smallint[],
          ${p(inserts.map((r) => new Date(r.state.startTime)))}::timestamptz[],
          ${p(inserts.map((r) => new Date(r.state.executionTime)))}::timestamptz[],
          ${p(inserts.map(close))}::timestamptz[], ${p(inserts.map((r) => JSON.stringify(r.searchAttributes)))}::jsonb[],
          ${p(inserts.map((r) => r.state.nextEventId - 1))}::bigint[], ${p(inserts.map((r) => r.requestId))}::text[],
          ${p(inserts.map((r) => JSON.stringify(r.state)))}::jsonb[],
          ${p(inserts.map((r) => r.state.sticky?.name ?? null))}::text[])
        ${updates.length > 0 ? 'WHERE (SELECT count(*) FROM upd_exec) >= 0' : ''})`);
    }
    if (events.length > 0) {
      parts.push(`ins_events AS (INSERT INTO ${this.table('history_events')} (run_id, event_id, data)
        SELECT * FROM unnest(${p(events.map((e) => e.runId))}::text[], ${p(events.map((e) => e.id))}::bigint[],
          ${p(events.map((e) => e.bytes))}::bytea[]))`);
    }
    if (this.tasks.length > 0) {
      const t = this.tasks;
      parts.push(`ins_tasks AS (INSERT INTO ${this.table('tasks')} (namespace, task_queue, kind, run_id, ref, attempt)
        SELECT * FROM unnest(${p(t.map((x) => x.namespace))}::text[], ${p(t.map((x) => x.queue))}::text[],
          ${p(t.map((x) => x.kind))}::smallint[], ${p(t.map((x) => x.runId))}::text[], ${p(t.map((x) => x.ref))}::bigint[],
          ${p(t.map((x) => x.attempt))}::int[]))`);
    }
    if (this.timers.length > 0) {
      const t = this.timers;
      parts.push(`ins_timers AS (INSERT INTO ${this.table('timers')} (fire_at, namespace, run_id, kind, ref, seq, holds_lock)
        SELECT * FROM unnest(${p(t.map((x) => Math.round(x.fireAt)))}::bigint[], ${p(t.map((x) => x.namespace))}::text[],
          ${p(t.map((x) => x.runId))}::text[], ${p(t.map((x) => x.kind))}::text[], ${p(t.map((x) => x.ref))}::text[],
          ${p(t.map((x) => x.seq))}::bigint[], ${p(t.map((x) => x.holdsLock))}::boolean[]))`);
    }
    if (this.timerIdDeletes.length > 0) {
      parts.push(
        `del_timer_ids AS (DELETE FROM ${this.table('timers')} WHERE id = ANY(${p(this.timerIdDeletes)}::bigint[]))`,
      );
    }
    if (this.timerDeletes.length > 0) {
      const d = this.timerDeletes;
      parts.push(`del_timers AS (DELETE FROM ${this.table('timers')} WHERE id IN (
        SELECT t.id FROM ${this.table('timers')} t
          JOIN unnest(${p(d.map((x) => x.runId))}::text[], ${p(d.map((x) => x.kind))}::text[], ${p(d.map((x) => x.ref))}::text[])
            AS d(run_id, kind, ref) ON t.run_id = d.run_id
          WHERE (d.kind = '*' OR t.kind = d.kind) AND (d.ref = '' OR t.ref = d.ref)
          FOR UPDATE OF t SKIP LOCKED))`);
    }
    if (this.taskDeletes.length > 0) {
      const d = this.taskDeletes;
      parts.push(`del_tasks AS (DELETE FROM ${this.table('tasks')} WHERE id IN (
        SELECT t.id FROM ${this.table('tasks')} t
          JOIN unnest(${p(d.map((x) => x.runId))}::text[], ${p(d.map((x) => x.kind))}::smallint[],
            ${p(d.map((x) => x.ref))}::bigint[]) AS d(run_id, kind, ref) ON t.run_id = d.run_id
          WHERE (d.kind = 0 OR t.kind = d.kind) AND (d.ref = 0 OR t.ref = d.ref)
          FOR UPDATE OF t SKIP LOCKED))`);
    }
    if (parts.length === 0) return;
    // Without a prior read the flush is the transaction's only statement, atomic by itself.
    await this.client.query(prepared(`WITH ${parts.join(',\n')} SELECT 1`, params));
  }
}

const RETRYABLE_PG_CODES = new Set(['40001', '40P01', '23505']);

/** Runs fn in one transaction, retrying on deadlock/serialisation/unique races (which a retry resolves). */
export async function runTransaction<T>(
  pool: Pool,
  schema: string,
  clock: Clock,
  fn: (tx: Tx) => Promise<T>,
  onCommit: (tx: Tx) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    let released = false;
    try {
      const tx = new Tx(client, schema, clock);
      const result = await fn(tx);
      await tx.flush();
      if (tx.begun) await client.query('COMMIT');
      client.release();
      released = true;
      onCommit(tx);
      for (const cb of tx.afterCommit) cb();
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined); // a no-op warning when nothing was begun
      const code = (err as { code?: string }).code;
      if (!released) {
        client.release();
        released = true;
      }
      if (code && RETRYABLE_PG_CODES.has(code) && attempt < 5) continue;
      throw err;
    }
  }
}
