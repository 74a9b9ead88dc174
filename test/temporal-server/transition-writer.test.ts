/**
 * Transitions that queue up behind a write in flight go to PostgreSQL together, in one statement. Each must
 * still apply or fail on its own: a conflict on one run fails only the transition that made it, and a
 * transition that changes several runs applies whole or not at all.
 */
import { Pool } from 'pg';
import { WallClock } from '../../temporal-server/clock';
import { ensureSchema } from '../../temporal-server/schema';
import { TimerKind, type RunState } from '../../temporal-server/state';
import { RunCache, TaskKind, TransitionWriter, Tx, type Run } from '../../temporal-server/store';
import { useFreshDatabase } from '../support/database';

const db = useFreshDatabase('temporal_transition_writer');
const SCHEMA = 'temporal';
const WORKFLOW_EXECUTION_STARTED = 1;
const WORKFLOW_EXECUTION_SIGNALED = 26;

describe('writing transitions together', () => {
  let pool: Pool;
  /** Statements the writer sent, counted at the pool. */
  let writes = 0;

  beforeAll(async () => {
    pool = new Pool({ connectionString: db.url, max: 4 });
    await ensureSchema(pool, SCHEMA);
    const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
    (pool as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = (...args) => {
      const config = args[0] as { text?: unknown };
      if (typeof config.text === 'string' && config.text.startsWith('WITH')) writes++;
      return query(...args);
    };
  });
  afterAll(() => pool.end());

  /** A transition on its own cache, so that what it reads comes from the database. */
  const transition = (): Tx => new Tx(pool, SCHEMA, new WallClock(), new RunCache());

  function startRun(tx: Tx, workflowId: string, runId?: string): Run {
    const now = Date.now();
    const state = { nextEventId: 1, historySizeBytes: 0, lastWftStartedId: 0, startTime: now, executionTime: now };
    const run = tx.createRun({
      namespace: 'default',
      workflowId,
      ...(runId ? { runId } : {}),
      workflowType: 'type',
      taskQueue: 'queue',
      state: state as RunState,
      requestId: null,
    });
    tx.addEvent(run, WORKFLOW_EXECUTION_STARTED, {});
    tx.addTask(run, TaskKind.Workflow, 'queue', 1);
    return run;
  }

  /** A transition that starts a run of `workflowId`. */
  function starting(workflowId: string, runId?: string): Tx {
    const tx = transition();
    startRun(tx, workflowId, runId);
    return tx;
  }

  async function signal(tx: Tx, runId: string): Promise<Run> {
    const run = (await tx.loadRun('default', runId))!;
    tx.addEvent(run, WORKFLOW_EXECUTION_SIGNALED, { signalName: 'poke' });
    return run;
  }

  /** Another transition signals the run and is written: copies of it read before are now stale. */
  async function moveOn(writer: TransitionWriter, runId: string): Promise<void> {
    const moved = transition();
    await signal(moved, runId);
    await writer.write(moved);
  }

  async function eventsOf(runId: string): Promise<number> {
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM temporal.history_events WHERE run_id = $1', [
      runId,
    ]);
    return (rows[0] as { n: number }).n;
  }

  async function versionOf(runId: string): Promise<number> {
    const { rows } = await pool.query('SELECT version FROM temporal.executions WHERE run_id = $1', [runId]);
    return Number((rows[0] as { version: string }).version);
  }

  const outcome = (p: Promise<void>): Promise<string> =>
    p.then(
      () => 'written',
      (err: { code?: string }) => `failed ${err.code}`,
    );

  /** Writes `first` alone (it is in flight at once) and then `rest`, which wait for it and go together. */
  async function writeBehindOne(writer: TransitionWriter, first: Tx, rest: Tx[]): Promise<string[]> {
    const before = writes;
    const results = await Promise.all([first, ...rest].map((tx) => outcome(writer.write(tx))));
    return [...results, `${writes - before} statements`];
  }

  it('writes transitions that queue up in one statement, each with its own task ids', async () => {
    const writer = new TransitionWriter(pool, SCHEMA, 1);
    const txs = [transition(), transition(), transition(), transition()];
    const runs = txs.map((tx, i) => startRun(tx, `together-${i}`));

    expect(await writeBehindOne(writer, txs[0]!, txs.slice(1))).toEqual([
      'written',
      'written',
      'written',
      'written',
      '2 statements',
    ]);
    for (const run of runs) expect(await eventsOf(run.runId)).toBe(1);
    const { rows } = await pool.query('SELECT id, run_id FROM temporal.tasks');
    for (const [i, tx] of txs.entries()) {
      const stored = rows.find((r: { run_id: string }) => r.run_id === runs[i]!.runId) as { id: string };
      expect(tx.queuedTasks.map((t) => t.id)).toEqual([stored.id]);
    }
  });

  it('fails only the transition whose run moved on, and writes nothing of it', async () => {
    const writer = new TransitionWriter(pool, SCHEMA, 1);
    const setup = transition();
    const [a, b] = [startRun(setup, 'stale-a'), startRun(setup, 'stale-b')];
    await writer.write(setup);

    const stale = transition();
    await signal(stale, a.runId);
    await moveOn(writer, a.runId);
    const fresh = transition();
    await signal(fresh, b.runId);

    expect(await writeBehindOne(writer, starting('stale-c'), [stale, fresh])).toEqual([
      'written',
      'failed 40001',
      'written',
      '2 statements',
    ]);
    expect(await eventsOf(a.runId)).toBe(2);
    expect(await versionOf(a.runId)).toBe(1);
    expect(await eventsOf(b.runId)).toBe(2);
    expect(stale.written).toEqual([]);
  });

  it('writes each alone when their statement fails, and fails only the one at fault', async () => {
    const writer = new TransitionWriter(pool, SCHEMA, 1);
    const setup = starting('taken');
    await writer.write(setup);
    const takenRunId = [...setup.runs.values()][0]!.runId;

    const clash = starting('other-id', takenRunId);
    const innocent = starting('innocent');
    expect(await writeBehindOne(writer, starting('first'), [clash, innocent])).toEqual([
      'written',
      'failed 23505',
      'written',
      '4 statements',
    ]);
    expect(await eventsOf(takenRunId)).toBe(1);
  });

  it('writes a transition that changes several runs alone, and whole or not at all', async () => {
    const writer = new TransitionWriter(pool, SCHEMA, 1);
    const setup = transition();
    const [x, y] = [startRun(setup, 'multi-x'), startRun(setup, 'multi-y')];
    await writer.write(setup);

    const both = transition();
    await signal(both, x.runId);
    await signal(both, y.runId);
    await moveOn(writer, y.runId);

    expect(await writeBehindOne(writer, starting('multi-first'), [both, starting('multi-other')])).toEqual([
      'written',
      'failed 40001',
      'written',
      '3 statements',
    ]);
    expect(await eventsOf(x.runId)).toBe(1);
    expect(await versionOf(x.runId)).toBe(0);
  });

  it('deletes a timer the timer loop read only if the run it read is still current', async () => {
    const writer = new TransitionWriter(pool, SCHEMA, 1);
    const setup = starting('timer-owner');
    await writer.write(setup);
    const runId = [...setup.runs.values()][0]!.runId;

    // The timer loop can see a timer row before its run cache has the write that made it.
    const stale = transition();
    const staleRun = (await stale.loadRun('default', runId))!;
    const starter = transition();
    starter.addTimer(await signal(starter, runId), TimerKind.UserTimer, '1', Date.now() + 60_000, 2);
    await writer.write(starter);
    const { rows } = await pool.query('SELECT id FROM temporal.timers WHERE run_id = $1', [runId]);
    const timerId = String((rows[0] as { id: string }).id);

    stale.deleteTimerById(timerId, staleRun);
    expect(await outcome(writer.write(stale))).toBe('failed 40001');
    expect((await pool.query('SELECT id FROM temporal.timers WHERE run_id = $1', [runId])).rows).toHaveLength(1);
  });
});
