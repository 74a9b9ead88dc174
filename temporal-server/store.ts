/**
 * The transaction unit of the server. Nothing is locked in PostgreSQL while a transition is worked out: the runs
 * it touches come from the run cache (or one plain read), it mutates their JSON state and appends events in
 * memory, and one statement writes everything (runs, events, tasks, timers and deletions), which PostgreSQL
 * applies atomically. Every run row carries a version; the write applies only if each run it changes is still at
 * the version that was read, and otherwise the transition is worked out again from fresh state. This is
 * optimistic concurrency, as Temporal's own persistence conditions each write on the run's version, and it makes
 * a transition one round trip instead of BEGIN, locking reads, writes and COMMIT; under load, transitions that
 * queue up share one (TransitionWriter). In the process, transitions of one run take turns (RunTurns), so they
 * do not race each other for its version. Wake-ups run after the write.
 */
/* eslint-disable @typescript-eslint/no-unsafe-assignment -- protobuf messages and pg rows are dynamically shaped (Msg); fields are checked where they are read */
import { createHash, randomUUID } from 'node:crypto';
import type { Pool, QueryConfig } from 'pg';
import type { Clock } from './clock';
import { encodeEvent, eventAttributesField, msToTimestamp, type Msg, type WorkflowStatus } from './proto';
import { quoteIdent } from './schema';
import { VOLATILE_TIMER_KINDS, type RunState } from './state';

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

/** The columns of an `executions` row that a Run carries as they are, whatever form its JSON is in. */
interface RunColumns {
  namespace: string;
  workflowId: string;
  runId: string;
  workflowType: string;
  taskQueue: string;
  status: WorkflowStatus;
  requestId: string | null;
  version: number;
}

/**
 * A run's latest events, contiguous up to its last one, kept with its cached row: the next sticky workflow
 * task needs only the events after the last one the worker saw, and a closed run's result is its last event,
 * so neither has to be read back from the database.
 */
export interface EventTail {
  readonly firstId: number;
  readonly events: readonly Buffer[];
}

/** Tails longer than this start at a later event: a longer read goes to the database. */
const MAX_TAIL_EVENTS = 64;

/** Events `from` to `to` (inclusive, cut at the tail's end) when the tail reaches back to `from`; else undefined. */
export function tailEvents(tail: EventTail | undefined, from: number, to: number): Buffer[] | undefined {
  if (!tail || tail.firstId > from) return undefined;
  return tail.events.slice(from - tail.firstId, to - tail.firstId + 1);
}

/**
 * Copies of `buffers` that can be kept: encoded events are slices of Node's shared 8 KB allocation pool, and a
 * kept slice would pin its whole slab. One unpooled buffer per transition holds them all.
 */
function keepable(buffers: Buffer[]): Buffer[] {
  const whole = Buffer.allocUnsafeSlow(buffers.reduce((n, b) => n + b.length, 0));
  let at = 0;
  return buffers.map((b) => {
    b.copy(whole, at);
    at += b.length;
    return whole.subarray(at - b.length, at);
  });
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
  /** The row's version when it was read (0 for a new run); the write applies only over this version. */
  readonly version: number;
  requestId: string | null;
  readonly newEvents: NewEvent[] = [];
  dirty = false;
  /**
   * Set on a new run started without first looking for other runs of its workflow id: the write inserts it only
   * if there are none, and otherwise fails the attempt, which then looks (see Engine.startWorkflow).
   */
  assumedFirstOfId = false;
  /** The committed events this run ended with when it was read, when the cache had them. */
  readonly tail: EventTail | undefined;

  constructor(
    row: RunColumns & { state: RunState; searchAttributes: Record<string, unknown>; isNew: boolean; tail?: EventTail },
  ) {
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
    this.version = row.version;
    this.tail = row.tail;
  }

  /** The run's events as committed once this transition is written: its tail (when known) and its new events. */
  tailAfterWrite(): EventTail {
    const firstNew = this.newEvents[0]?.id ?? this.state.nextEventId;
    const known = this.isNew ? { firstId: 1, events: [] } : this.tail;
    const contiguous = known && known.firstId + known.events.length === firstNew;
    const before = contiguous ? known.events : [];
    const firstId = contiguous ? known.firstId : firstNew;
    // Keep what the next sticky task reads (everything after the last started workflow task), within a bound;
    // only the new events that stay are copied.
    const total = before.length + this.newEvents.length;
    const drop = Math.max(0, this.state.lastWftStartedId + 1 - firstId, total - MAX_TAIL_EVENTS);
    const fresh = this.newEvents.slice(Math.max(0, drop - before.length)).map((e) => e.bytes);
    return { firstId: firstId + drop, events: [...before.slice(drop), ...keepable(fresh)] };
  }

  get isRunning(): boolean {
    return this.status === 1;
  }

  get execution(): Msg {
    return { workflowId: this.workflowId, runId: this.runId };
  }
}

/** A task row: what pollers are handed from the in-memory queues. */
export interface QueuedTask extends PendingTask {
  id: string;
}

interface PendingTask {
  namespace: string;
  queue: string;
  kind: number;
  runId: string;
  ref: number;
  attempt: number;
  /**
   * False for a workflow task on a worker's sticky queue: it lives only in memory, as sticky queues do not
   * survive a restart (WorkflowService.start serves such tasks from the normal queue).
   */
  stored: boolean;
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

export class Tx {
  readonly runs = new Map<string, Run>();
  readonly tasks: PendingTask[] = [];
  /** The tasks the write queued, with the ids PostgreSQL gave them (in the order of `tasks`). */
  readonly queuedTasks: QueuedTask[] = [];
  readonly timers: PendingTimer[] = [];
  readonly afterCommit: Array<() => void> = [];
  readonly now: number;
  /** Rows of the runs the write changed, as they now stand: the cache takes them once the write is done. */
  readonly written: CachedRun[] = [];
  /** The runs whose turn (see RunTurns) this transition holds, given back once it is written or abandoned. */
  private readonly turns: string[] = [];
  private waitingForTurn = false;
  private turnsGivenBack = false;

  constructor(
    readonly pool: Pool,
    readonly schema: string,
    clock: Clock,
    readonly cache: RunCache,
    /** 1 for a transition's first attempt; later attempts follow a conflict. */
    readonly attempt = 1,
  ) {
    this.now = clock.now();
  }

  private table(name: string): string {
    return `${quoteIdent(this.schema)}.${name}`;
  }

  /** Runs one read (a prepared statement; see `prepared`). Reads take no locks: the write checks versions. */
  async query(sql: string, params: unknown[] = []): Promise<{ rows: Msg[]; rowCount: number | null }> {
    const r = await this.pool.query(prepared(sql, params));
    return { rows: r.rows as Msg[], rowCount: r.rowCount };
  }

  static key(namespace: string, runId: string): string {
    return `${namespace}\u0000${runId}`;
  }

  /**
   * Takes the turns of `keys` in their sorted order, waiting for each: a transition worked out again after a
   * conflict holds every run it touched before it reads any. Two such transitions wait in the same order, and
   * one that waits in loadRun holds nothing, so no two can each wait for the other.
   */
  async takeTurns(keys: readonly string[]): Promise<void> {
    for (const key of [...keys].sort()) {
      if (this.turns.includes(key)) continue;
      await this.cache.turns.take(key);
      this.turns.push(key);
    }
  }

  /**
   * Takes the run's turn before reading it. Only a transition that holds no turn waits for one: one that holds
   * a turn and waited for another could wait for a transition that waits for it (a child reporting to its
   * parent while the parent terminates the child), so it reads that run without its turn, and the version
   * check catches a race (the retry then holds both, see takeTurns).
   */
  private async takeTurn(key: string): Promise<void> {
    if (this.turns.includes(key)) return;
    if (this.turns.length > 0 || this.waitingForTurn) {
      if (this.cache.turns.tryTake(key)) this.turns.push(key);
      return;
    }
    this.waitingForTurn = true;
    await this.cache.turns.take(key);
    this.waitingForTurn = false;
    // A transition abandoned while it waited gives the turn straight back.
    if (this.turnsGivenBack) this.cache.turns.give(key);
    else this.turns.push(key);
  }

  /** Gives back every turn this transition holds: once its write is in the cache and applied, or abandoned. */
  giveBackTurns(): void {
    this.turnsGivenBack = true;
    for (const key of this.turns.splice(0)) this.cache.turns.give(key);
  }

  async loadRun(namespace: string, runId: string): Promise<Run | undefined> {
    const key = Tx.key(namespace, runId);
    const mine = this.runs.get(key);
    if (mine) return mine;
    await this.takeTurn(key);
    let row = this.cache.get(key);
    if (!row) {
      const { rows } = await this.query(
        `SELECT workflow_id, run_id, workflow_type, task_queue, status, state::text AS state,
                search_attributes::text AS search_attributes, request_id, version
           FROM ${this.table('executions')} WHERE namespace = $1 AND run_id = $2`,
        [namespace, runId],
      );
      const r = rows[0];
      if (!r) return undefined;
      row = this.cache.put({
        namespace,
        workflowId: r.workflow_id,
        runId: r.run_id,
        workflowType: r.workflow_type,
        taskQueue: r.task_queue,
        status: r.status,
        state: r.state,
        searchAttributes: r.search_attributes,
        requestId: r.request_id,
        version: Number(r.version),
      });
    }
    const already = this.runs.get(key);
    if (already) return already;
    const run = new Run({
      ...row,
      state: JSON.parse(row.state) as RunState,
      searchAttributes: JSON.parse(row.searchAttributes) as Record<string, unknown>,
      isNew: false,
    });
    this.runs.set(key, run);
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
    const running = this.cache.runningRunOf(namespace, workflowId);
    if (running) {
      const run = await this.loadRun(namespace, running);
      if (run?.isRunning) return run;
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
      version: 0,
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
    const stored = kind !== TaskKind.Workflow || queue === run.taskQueue;
    this.tasks.push({ namespace: run.namespace, queue, kind, runId: run.runId, ref, attempt, stored });
  }

  addTimer(run: Run, kind: string, ref: string | number, fireAt: number, seq = 0, holdsLock = false): void {
    this.timers.push({ fireAt, namespace: run.namespace, runId: run.runId, kind, ref: String(ref), seq, holdsLock });
  }

  /**
   * Timer deletions: (run, kind or '*' for every kind, ref or '' for any ref). The write applies those of stored
   * kinds; the service cancels volatile ones once the write is done.
   */
  readonly timerDeletes: Array<{ runId: string; kind: string; ref: string }> = [];
  private readonly timerIdDeletes: string[] = [];
  private readonly taskIdDeletes: string[] = [];
  /** Task deletions: (run, kind or 0 for every kind, ref or 0 for every ref), in the database and in memory. */
  readonly taskDeletes: Array<{ runId: string; kind: number; ref: number }> = [];

  /**
   * Drops timers of a run. Applied with SKIP LOCKED in the write, so a timer being fired concurrently never
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

  /**
   * Deletes a timer row that the timer loop read, whether or not it fired. The run is written back even if the
   * timer changed nothing, so that the write applies only if the run is still at the version read: the timer's
   * row can be seen before the run cache has the write that made it, and a stale copy of the run must not delete
   * a timer it does not know.
   */
  deleteTimerById(id: string, run: Run | undefined): void {
    this.timerIdDeletes.push(id);
    if (run) run.dirty = true;
  }

  /** Deletes a task row taken from the in-memory queues, whether or not it was still worth starting. */
  deleteTaskById(task: QueuedTask): void {
    if (task.stored) this.taskIdDeletes.push(task.id);
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
    const tail = run.tail && run.tail.firstId + run.tail.events.length === firstNew ? run.tail : undefined;
    const cached = after + 1 < firstNew ? tailEvents(tail, after + 1, Math.min(firstNew - 1, upTo)) : undefined;
    if (cached) {
      out.push(...cached);
    } else if (after + 1 < firstNew && !run.isNew) {
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
    const inTail = tailEvents(run.tail, eventId, eventId)?.[0];
    if (inTail) return inTail;
    const { rows } = await this.query(
      `SELECT data FROM ${this.table('history_events')} WHERE run_id = $1 AND event_id = $2`,
      [run.runId, eventId],
    );
    return rows[0]?.data as Buffer | undefined;
  }

  /** What the write applies, for the statement that carries it (see writeTransitions): taken once it is worked out. */
  writeSet(): WriteSet {
    return {
      runs: [...this.runs.values()].filter((r) => r.dirty),
      events: [...this.runs.values()].flatMap((r) => r.newEvents.map((e) => ({ runId: r.runId, ...e }))),
      tasks: this.tasks.filter((x) => x.stored),
      timers: this.timers.filter((x) => !VOLATILE_TIMER_KINDS.has(x.kind)),
      timerIdDeletes: this.timerIdDeletes,
      taskIdDeletes: this.taskIdDeletes,
      timerDeletes: this.timerDeletes.filter((x) => x.kind === '*' || !VOLATILE_TIMER_KINDS.has(x.kind)),
      taskDeletes: this.taskDeletes,
    };
  }

  /** Records what the write did: the ids of the tasks it stored, in order, and the rows the cache takes. */
  wrote(
    runs: readonly Run[],
    storedTaskIds: readonly string[],
    json: ReadonlyMap<Run, { state: string; sa: string }>,
  ): void {
    let stored = 0;
    for (const t of this.tasks) this.queuedTasks.push({ ...t, id: t.stored ? storedTaskIds[stored++]! : '' });
    for (const r of runs)
      this.written.push({
        namespace: r.namespace,
        workflowId: r.workflowId,
        runId: r.runId,
        workflowType: r.workflowType,
        taskQueue: r.taskQueue,
        status: r.status,
        state: json.get(r)!.state,
        searchAttributes: json.get(r)!.sa,
        requestId: r.requestId,
        version: r.isNew ? 0 : r.version + 1,
        tail: r.tailAfterWrite(),
      });
  }
}

interface WriteSet {
  runs: Run[];
  events: Array<NewEvent & { runId: string }>;
  tasks: PendingTask[];
  timers: PendingTimer[];
  timerIdDeletes: string[];
  taskIdDeletes: string[];
  timerDeletes: Array<{ runId: string; kind: string; ref: string }>;
  taskDeletes: Array<{ runId: string; kind: number; ref: number }>;
}

/**
 * Writes transitions in ONE statement (data-modifying CTEs): new and changed runs, events, tasks, timers and
 * deletions. Every row carries the index of its transition. A transition's writes apply only if every run it
 * changes still has the version it read (and a run it inserts as the first of its workflow id still is): the
 * statement returns the transitions that applied, and the others change nothing.
 *
 * A lone transition may change several runs, and must apply whole or not at all: its statement raises a
 * serialization failure when any run has moved on, which undoes the runs already updated. Transitions written
 * together change at most one run each (see TransitionWriter), so for them "its one run was written" is the
 * whole test.
 */
async function writeTransitions(
  pool: Pool,
  schema: string,
  writes: ReadonlyArray<{ tx: Tx; set: WriteSet }>,
): Promise<boolean[]> {
  const table = (name: string): string => `${quoteIdent(schema)}.${name}`;
  const sets = writes.map((w) => w.set);
  /** The items `pick` takes from every transition, and beside them the index of the transition of each. */
  const all = <T>(pick: (w: WriteSet) => readonly T[]): { items: T[]; tags: number[] } => {
    const items: T[] = [];
    const tags: number[] = [];
    sets.forEach((w, k) => {
      for (const x of pick(w)) {
        items.push(x);
        tags.push(k);
      }
    });
    return { items, tags };
  };
  const json = new Map<Run, { state: string; sa: string }>();
  for (const w of sets)
    for (const r of w.runs) json.set(r, { state: JSON.stringify(r.state), sa: JSON.stringify(r.searchAttributes) });
  const updates = all((w) => w.runs.filter((r) => !r.isNew));
  const inserts = all((w) => w.runs.filter((r) => r.isNew));
  const parts: string[] = [];
  const params: unknown[] = [];
  const p = (v: unknown): string => {
    params.push(v);
    return `$${params.length}`;
  };
  const ok = (alias: string): string => `${alias}.tx IN (SELECT tx FROM ok)`;
  const close = (r: Run): Date | null => (r.state.closeTime ? new Date(r.state.closeTime) : null);
  const written: string[] = [];
  if (updates.items.length > 0) {
    const u = updates.items;
    parts.push(`upd_exec AS (UPDATE ${table('executions')} e SET status = u.status, close_time = u.close_time,
          search_attributes = u.sa, history_length = u.hl, state = u.state, sticky_queue = u.sticky, version = e.version + 1
        FROM unnest(${p(u.map((r) => r.namespace))}::text[], ${p(u.map((r) => r.runId))}::text[],
          ${p(u.map((r) => r.status))}::smallint[], ${p(u.map(close))}::timestamptz[],
          ${p(u.map((r) => json.get(r)!.sa))}::jsonb[],
          ${p(u.map((r) => r.state.nextEventId - 1))}::bigint[],
          ${p(u.map((r) => json.get(r)!.state))}::jsonb[],
          ${p(u.map((r) => r.state.sticky?.name ?? null))}::text[],
          ${p(u.map((r) => r.version))}::bigint[], ${p(updates.tags)}::int[])
          AS u(ns, run_id, status, close_time, sa, hl, state, sticky, version, tx)
        WHERE e.namespace = u.ns AND e.run_id = u.run_id AND e.version = u.version RETURNING u.tx)`);
    written.push('SELECT tx FROM upd_exec');
  }
  // Runs closed in this statement are updated before new runs of the same workflow id are inserted (the
  // reference to upd_exec orders the two), so the one-running-run index never sees both as running.
  if (inserts.items.length > 0) {
    const n = inserts.items;
    const columns = `namespace, workflow_id, run_id, workflow_type, task_queue, status, start_time, execution_time,
          close_time, search_attributes, history_length, request_id, state, sticky_queue`;
    parts.push(`ins_exec AS (INSERT INTO ${table('executions')} (${columns})
        SELECT ${columns} FROM unnest(${p(n.map((r) => r.namespace))}::text[], ${p(n.map((r) => r.workflowId))}::text[],
          ${p(n.map((r) => r.runId))}::text[], ${p(n.map((r) => r.workflowType))}::text[],
          ${p(n.map((r) => r.taskQueue))}::text[], ${p(n.map((r) => r.status))}::smallint[],
          ${p(n.map((r) => new Date(r.state.startTime)))}::timestamptz[],
          ${p(n.map((r) => new Date(r.state.executionTime)))}::timestamptz[],
          ${p(n.map(close))}::timestamptz[], ${p(n.map((r) => json.get(r)!.sa))}::jsonb[],
          ${p(n.map((r) => r.state.nextEventId - 1))}::bigint[], ${p(n.map((r) => r.requestId))}::text[],
          ${p(n.map((r) => json.get(r)!.state))}::jsonb[],
          ${p(n.map((r) => r.state.sticky?.name ?? null))}::text[], ${p(n.map((r) => r.assumedFirstOfId))}::boolean[])
          AS n(${columns}, assumed_first)
        WHERE NOT (n.assumed_first AND EXISTS (SELECT 1 FROM ${table('executions')} e
                   WHERE e.namespace = n.namespace AND e.workflow_id = n.workflow_id))
          ${updates.items.length > 0 ? 'AND (SELECT count(*) FROM upd_exec) >= 0' : ''}
        RETURNING namespace, run_id)`);
    written.push(`SELECT k.tx FROM ins_exec i JOIN unnest(${p(n.map((r) => r.namespace))}::text[],
        ${p(n.map((r) => r.runId))}::text[], ${p(inserts.tags)}::int[]) AS k(namespace, run_id, tx)
        ON k.namespace = i.namespace AND k.run_id = i.run_id`);
  }
  parts.push(`written AS (${written.length > 0 ? written.join(' UNION ALL ') : 'SELECT 0 AS tx WHERE false'})`);
  parts.push(`ok AS (SELECT k.tx FROM unnest(${p(sets.map((_, k) => k))}::int[], ${p(sets.map((w) => w.runs.length))}::bigint[])
        AS k(tx, expected) WHERE k.expected = (SELECT count(*) FROM written w WHERE w.tx = k.tx))`);
  const events = all((w) => w.events);
  if (events.items.length > 0) {
    const e = events.items;
    parts.push(`ins_events AS (INSERT INTO ${table('history_events')} (run_id, event_id, data)
        SELECT x.run_id, x.event_id, x.data FROM unnest(${p(e.map((x) => x.runId))}::text[], ${p(e.map((x) => x.id))}::bigint[],
          ${p(e.map((x) => x.bytes))}::bytea[], ${p(events.tags)}::int[]) AS x(run_id, event_id, data, tx) WHERE ${ok('x')})`);
  }
  const tasks = all((w) => w.tasks);
  if (tasks.items.length > 0) {
    const t = tasks.items;
    parts.push(`ins_tasks AS (INSERT INTO ${table('tasks')} (namespace, task_queue, kind, run_id, ref, attempt)
        SELECT x.namespace, x.queue, x.kind, x.run_id, x.ref, x.attempt
          FROM unnest(${p(t.map((x) => x.namespace))}::text[], ${p(t.map((x) => x.queue))}::text[],
          ${p(t.map((x) => x.kind))}::smallint[], ${p(t.map((x) => x.runId))}::text[], ${p(t.map((x) => x.ref))}::bigint[],
          ${p(t.map((x) => x.attempt))}::int[], ${p(tasks.tags)}::int[]) AS x(namespace, queue, kind, run_id, ref, attempt, tx)
          WHERE ${ok('x')} RETURNING id)`);
  }
  const timers = all((w) => w.timers);
  if (timers.items.length > 0) {
    const t = timers.items;
    parts.push(`ins_timers AS (INSERT INTO ${table('timers')} (fire_at, namespace, run_id, kind, ref, seq, holds_lock)
        SELECT x.fire_at, x.namespace, x.run_id, x.kind, x.ref, x.seq, x.holds_lock
          FROM unnest(${p(t.map((x) => Math.round(x.fireAt)))}::bigint[], ${p(t.map((x) => x.namespace))}::text[],
          ${p(t.map((x) => x.runId))}::text[], ${p(t.map((x) => x.kind))}::text[], ${p(t.map((x) => x.ref))}::text[],
          ${p(t.map((x) => x.seq))}::bigint[], ${p(t.map((x) => x.holdsLock))}::boolean[], ${p(timers.tags)}::int[])
          AS x(fire_at, namespace, run_id, kind, ref, seq, holds_lock, tx) WHERE ${ok('x')})`);
  }
  for (const [name, target, pick] of [
    ['del_timer_ids', 'timers', (w: WriteSet) => w.timerIdDeletes],
    ['del_task_ids', 'tasks', (w: WriteSet) => w.taskIdDeletes],
  ] as const) {
    const ids = all(pick);
    if (ids.items.length === 0) continue;
    parts.push(`${name} AS (DELETE FROM ${table(target)} WHERE id IN (
        SELECT x.id FROM unnest(${p(ids.items)}::bigint[], ${p(ids.tags)}::int[]) AS x(id, tx) WHERE ${ok('x')}))`);
  }
  // Deletions by run skip rows another transaction holds: a timer being fired concurrently never blocks us
  // (the firing transition checks the run's state and finds it stale).
  const timerDeletes = all((w) => w.timerDeletes);
  if (timerDeletes.items.length > 0) {
    const d = timerDeletes.items;
    parts.push(`del_timers AS (DELETE FROM ${table('timers')} WHERE id IN (
        SELECT t.id FROM ${table('timers')} t
          JOIN unnest(${p(d.map((x) => x.runId))}::text[], ${p(d.map((x) => x.kind))}::text[], ${p(d.map((x) => x.ref))}::text[],
            ${p(timerDeletes.tags)}::int[]) AS d(run_id, kind, ref, tx) ON t.run_id = d.run_id
          WHERE (d.kind = '*' OR t.kind = d.kind) AND (d.ref = '' OR t.ref = d.ref) AND ${ok('d')}
          FOR UPDATE OF t SKIP LOCKED))`);
  }
  const taskDeletes = all((w) => w.taskDeletes);
  if (taskDeletes.items.length > 0) {
    const d = taskDeletes.items;
    parts.push(`del_tasks AS (DELETE FROM ${table('tasks')} WHERE id IN (
        SELECT t.id FROM ${table('tasks')} t
          JOIN unnest(${p(d.map((x) => x.runId))}::text[], ${p(d.map((x) => x.kind))}::smallint[],
            ${p(d.map((x) => x.ref))}::bigint[], ${p(taskDeletes.tags)}::int[]) AS d(run_id, kind, ref, tx) ON t.run_id = d.run_id
          WHERE (d.kind = 0 OR t.kind = d.kind) AND (d.ref = 0 OR t.ref = d.ref) AND ${ok('d')}
          FOR UPDATE OF t SKIP LOCKED))`);
  }
  // Raising in the final SELECT aborts the whole statement, every data-modifying CTE with it.
  const checked =
    sets.length === 1
      ? `${quoteIdent(schema)}.expect_rows((SELECT count(*) FROM written), ${p(sets[0]!.runs.length)})`
      : 'true';
  // Task ids come from one sequence in insertion order, so sorted they line up with the stored tasks of the
  // transitions that applied, in order.
  const taskIds = tasks.items.length > 0 ? '(SELECT array_agg(id ORDER BY id) FROM ins_tasks)' : 'NULL::bigint[]';
  const { rows } = await pool.query(
    prepared(
      `WITH ${parts.join(',\n')} SELECT ${checked} AS checked, (SELECT array_agg(tx) FROM ok) AS ok, ${taskIds} AS task_ids`,
      params,
    ),
  );
  const row = rows[0] as Msg;
  const applied = new Set((row.ok as number[] | null) ?? []);
  const ids = ((row.task_ids as string[] | null) ?? []).values();
  return writes.map(({ tx, set }, k) => {
    if (!applied.has(k)) return false;
    tx.wrote(
      set.runs,
      set.tasks.map(() => ids.next().value!),
      json,
    );
    return true;
  });
}

/** Conflicts a fresh attempt resolves: a run changed under us (40001) or a racing insert of the same key. */
const RETRYABLE_PG_CODES = new Set(['40001', '23505']);
const MAX_ATTEMPTS = 25;

/** The error a transition's write fails with when a run it changes has moved on: a conflict, worked out again. */
function conflict(): Error {
  return Object.assign(new Error('a run changed after it was read'), { code: '40001' });
}

/**
 * Writes transitions, several in one statement when they queue up. Under load most of a transition's cost in
 * PostgreSQL and in this process is the statement around its rows (the round trip, the plan's start, the
 * commit), so at most `maxStatements` writes are in flight and the transitions that arrive meanwhile go
 * together in the next one. A lone transition goes at once, so nothing waits when the server is quiet.
 *
 * Transitions go together only when each changes at most one run, and no two touch the same run or start the
 * same workflow id: then each applies or fails on its own (see writeTransitions). A transition that changes
 * several runs goes alone.
 */
interface WaitingWrite {
  tx: Tx;
  set: WriteSet;
  /** The runs the transition touches and the workflow ids it starts: no two in one statement share one. */
  keys: string[];
  /** Called with nothing once written, or with the error the write failed with. */
  done: (err?: Error) => void;
}

export class TransitionWriter {
  private readonly queue: WaitingWrite[] = [];
  private inFlight = 0;

  constructor(
    private readonly pool: Pool,
    readonly schemaName: string,
    /**
     * Two: on the two-core machine of bench/README.md, four or eight in flight wrote smaller batches and cost
     * PostgreSQL more CPU per workflow (more commits and WAL flushes) for no more throughput.
     */
    private readonly maxStatements = 2,
    private readonly maxBatch = 32,
  ) {}

  /** Resolves once `tx` is written; rejects with a conflict (code 40001) when a run it changes moved on. */
  write(tx: Tx): Promise<void> {
    const set = tx.writeSet();
    if (!Object.values(set).some((rows: unknown[]) => rows.length > 0)) return Promise.resolve();
    const started = set.runs.filter((r) => r.isNew).map((r) => `id\u0000${Tx.key(r.namespace, r.workflowId)}`);
    const keys = [...tx.runs.keys(), ...started];
    return new Promise((resolve, reject) => {
      this.queue.push({ tx, set, keys, done: (err) => (err === undefined ? resolve() : reject(err)) });
      this.sendWhatWaits();
    });
  }

  private sendWhatWaits(): void {
    while (this.inFlight < this.maxStatements && this.queue.length > 0) {
      this.inFlight++;
      void this.send(this.takeBatch());
    }
  }

  private async send(batch: WaitingWrite[]): Promise<void> {
    const outcomes = await this.outcomes(batch);
    // The slot is free before anyone hears back, so that a write made on hearing goes out at once.
    this.inFlight--;
    this.sendWhatWaits();
    batch.forEach((b, k) => b.done(outcomes[k]));
  }

  /** Writes `writes` in one statement; for each, undefined when written or the error it failed with. */
  private async outcomes(writes: WaitingWrite[]): Promise<Array<Error | undefined>> {
    try {
      const applied = await writeTransitions(this.pool, this.schemaName, writes);
      return applied.map((ok) => (ok ? undefined : conflict()));
    } catch (err) {
      if (writes.length === 1) return [err instanceof Error ? err : new Error(String(err))];
      // The statement changed nothing (a racing insert of the same key, say): each is written alone, and
      // whichever of them is at fault fails on its own.
      return (await Promise.all(writes.map((w) => this.outcomes([w])))).flat();
    }
  }

  /** The first waiting transition and the later ones that can go in the same statement. */
  private takeBatch(): WaitingWrite[] {
    const first = this.queue.shift()!;
    if (first.set.runs.length > 1) return [first];
    const batch = [first];
    const taken = new Set(first.keys);
    for (let i = 0; i < this.queue.length && batch.length < this.maxBatch;) {
      const next = this.queue[i]!;
      if (next.set.runs.length > 1 || next.keys.some((k) => taken.has(k))) {
        i++;
        continue;
      }
      for (const k of next.keys) taken.add(k);
      batch.push(next);
      this.queue.splice(i, 1);
    }
    return batch;
  }
}

/**
 * A transition that still conflicted after MAX_ATTEMPTS. Nothing of it was written; the work it stood for is
 * not done, so its caller must try again (an RPC answers UNAVAILABLE, which the SDK retries; a timer fires
 * again). With turns on runs (RunTurns) this should not happen: it means something writes runs out of turn.
 */
export class TransitionConflictError extends Error {
  constructor(
    readonly attempts: number,
    /** The runs the last attempt touched. */
    readonly runKeys: readonly string[],
    cause: unknown,
  ) {
    super(`a transition still conflicted after ${attempts} attempts`, { cause });
    this.name = 'TransitionConflictError';
  }
}

/**
 * Runs fn as one transition, working it out again from fresh state when its write conflicts. The turns of the
 * runs it reads (RunTurns) keep other transitions of this process off them until it is written and in the
 * cache, so a conflict is rare: a run read without its turn (the second run of a transition, see Tx.takeTurn)
 * or a cached row that was stale. A transition worked out again first takes the turns of every run it touched,
 * so only a transition reading one of them out of turn can race it again; later attempts also back off a little,
 * with jitter.
 */
export async function runTransaction<T>(
  pool: Pool,
  writer: TransitionWriter,
  clock: Clock,
  cache: RunCache,
  fn: (tx: Tx) => Promise<T>,
  onCommit: (tx: Tx) => void,
): Promise<T> {
  let touched: string[] = [];
  for (let attempt = 1; ; attempt++) {
    const tx = new Tx(pool, writer.schemaName, clock, cache, attempt);
    try {
      await tx.takeTurns(touched);
      const result = await fn(tx);
      await writer.write(tx);
      for (const row of tx.written) cache.put(row);
      onCommit(tx);
      for (const cb of tx.afterCommit) cb();
      return result;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (!code || !RETRYABLE_PG_CODES.has(code)) throw err;
      // Only the rows this attempt read: a newer one another transition put meanwhile is worth keeping.
      const read = [...tx.runs.values()].filter((r) => !r.isNew);
      for (const run of read) cache.drop(Tx.key(run.namespace, run.runId), run.version);
      touched = read.map((r) => Tx.key(r.namespace, r.runId));
      if (attempt >= MAX_ATTEMPTS) throw new TransitionConflictError(attempt, touched, err);
      if (attempt > 2) await new Promise((r) => setTimeout(r, Math.random() * attempt * 2));
    } finally {
      // After the write is in the cache and applied to what lives in memory: the next transition of these runs
      // reads what this one wrote and sees its tasks and timers.
      tx.giveBackTurns();
    }
  }
}

/**
 * Turns on runs: one transition at a time works on a run in this process, which is the only one writing its
 * schema. A transition takes a run's turn before reading it and gives it back once its write is in the run
 * cache and applied in memory, so the next one reads what the last one wrote. Without turns, the transitions
 * of a busy run (a burst of timers, a storm of signals, a worker completing a task meanwhile) all read the
 * same version and all but one failed the version check, again and again while they queued behind each other
 * for the writer, until some ran out of attempts. Temporal's history service serializes a workflow's updates
 * the same way (its workflow lock); the version check stays for what turns do not cover.
 */
export class RunTurns {
  /** Runs whose turn is taken, each with the transitions waiting for it, first come first served. */
  private readonly taken = new Map<string, Array<() => void>>();

  /** Takes the turn if it is free; false if another transition holds it. */
  tryTake(key: string): boolean {
    if (this.taken.has(key)) return false;
    this.taken.set(key, []);
    return true;
  }

  /** Takes the turn once the transitions ahead have given it back. */
  take(key: string): Promise<void> {
    const waiting = this.taken.get(key);
    if (!waiting) {
      this.taken.set(key, []);
      return Promise.resolve();
    }
    return new Promise((resolve) => waiting.push(resolve));
  }

  /** Passes the turn to the next waiting transition, or frees it. */
  give(key: string): void {
    const waiting = this.taken.get(key);
    const next = waiting?.shift();
    if (next) next();
    else this.taken.delete(key);
  }

  /** How many runs' turns are held (for tests). */
  get held(): number {
    return this.taken.size;
  }
}

/** A run row as the cache keeps it: JSON kept as text, so each transition parses its own private copy. */
export type CachedRun = RunColumns & { state: string; searchAttributes: string; tail?: EventTail };

/**
 * The rows of recently used runs, so that most transitions read nothing before they write. It holds only
 * committed rows and never goes back to an older version; a stale row costs one conflicting attempt, never a
 * wrong write, because the write checks versions. Least recently used rows leave first, which bounds memory
 * however many workflows are open.
 */
export class RunCache {
  private readonly rows = new Map<string, CachedRun>();
  /** The newest run this cache has seen of each workflow id (namespace and id as the key). */
  private readonly newestRuns = new Map<string, string>();

  /** One transition at a time on each run (see RunTurns): what makes the rows a transition reads here current. */
  readonly turns = new RunTurns();

  constructor(private readonly capacity = 1024) {}

  get(key: string): CachedRun | undefined {
    const row = this.rows.get(key);
    if (row) this.keepNewest(this.rows, key, row);
    return row;
  }

  /** Sets `key` as the most recently used entry of `map`, dropping the least recently used one when full. */
  private keepNewest<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    map.set(key, value);
    if (map.size > this.capacity) map.delete(map.keys().next().value!);
  }

  /** Keeps `row` unless a newer version is already here; returns the row the cache now holds. */
  put(row: CachedRun): CachedRun {
    const key = Tx.key(row.namespace, row.runId);
    const held = this.rows.get(key);
    if (held && held.version > row.version) return held;
    this.keepNewest(this.rows, key, row);
    if (row.status === 1) this.keepNewest(this.newestRuns, Tx.key(row.namespace, row.workflowId), row.runId);
    return row;
  }

  /** Whether the cache has seen any run of this workflow id. */
  knowsWorkflowId(namespace: string, workflowId: string): boolean {
    return this.newestRuns.has(Tx.key(namespace, workflowId));
  }

  /**
   * The running run of a workflow id, when the cache holds it. A running run is always the newest of its id
   * (a new run starts only once the last has closed), so the answer needs no database read to confirm it.
   */
  runningRunOf(namespace: string, workflowId: string): string | undefined {
    const runId = this.newestRuns.get(Tx.key(namespace, workflowId));
    const row = runId === undefined ? undefined : this.rows.get(Tx.key(namespace, runId));
    return row?.status === 1 ? runId : undefined;
  }

  /**
   * Drops a row found stale: the one held, if it is no newer than `version` (the version a conflicting
   * transition read). A newer row came from a write after that read, and dropping it would let a read still in
   * flight put back an older one.
   */
  drop(key: string, version: number): void {
    const held = this.rows.get(key);
    if (held && held.version <= version) this.rows.delete(key);
  }
}
