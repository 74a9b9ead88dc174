/**
 * Transitions that race on one run (a burst of timers firing, a storm of signals, a worker completing a task
 * meanwhile) must each be applied, never dropped. Turns on runs (RunTurns) make them apply one after another; a
 * transition that still loses its version check is worked out again from fresh state, and if it never wins its
 * caller is told to try again.
 */
import { Pool } from 'pg';
import { WallClock } from '../../temporal-server/clock';
import { GrpcCode, TemporalServiceError } from '../../temporal-server/errors';
import { ensureSchema } from '../../temporal-server/schema';
import type { RunState } from '../../temporal-server/state';
import {
  RunCache,
  runTransaction,
  TaskKind,
  TransitionConflictError,
  TransitionWriter,
  Tx,
  type Run,
} from '../../temporal-server/store';
import { WorkflowService } from '../../temporal-server/workflow-service';
import type { Visibility } from '../../temporal-server/visibility-wiring';
import { silentLogger } from '../../log';
import { useFreshDatabase } from '../support/database';

const db = useFreshDatabase('temporal_racing_transitions');
const SCHEMA = 'temporal';
const WORKFLOW_EXECUTION_STARTED = 1;
const WORKFLOW_EXECUTION_SIGNALED = 26;

describe('transitions racing on one run', () => {
  let pool: Pool;

  beforeAll(async () => {
    pool = new Pool({ connectionString: db.url, max: 8 });
    await ensureSchema(pool, SCHEMA);
  });
  afterAll(() => pool.end());

  /** The server's transaction unit, as WorkflowService.transact calls it, on a writer and cache of its own. */
  function transitions(): { cache: RunCache; run<T>(fn: (tx: Tx) => Promise<T>): Promise<T> } {
    const cache = new RunCache();
    const writer = new TransitionWriter(pool, SCHEMA);
    const clock = new WallClock();
    return { cache, run: (fn) => runTransaction(pool, writer, clock, cache, fn, () => undefined) };
  }

  async function startRun(workflowId: string): Promise<string> {
    const tx = new Tx(pool, SCHEMA, new WallClock(), new RunCache());
    const now = Date.now();
    const state = { nextEventId: 1, historySizeBytes: 0, lastWftStartedId: 0, startTime: now, executionTime: now };
    const run = tx.createRun({
      namespace: 'default',
      workflowId,
      workflowType: 'type',
      taskQueue: 'queue',
      state: state as RunState,
      requestId: null,
    });
    tx.addEvent(run, WORKFLOW_EXECUTION_STARTED, {});
    tx.addTask(run, TaskKind.Workflow, 'queue', 1);
    await new TransitionWriter(pool, SCHEMA).write(tx);
    return run.runId;
  }

  async function signal(tx: Tx, runId: string, name: string): Promise<Run> {
    const run = (await tx.loadRun('default', runId))!;
    tx.addEvent(run, WORKFLOW_EXECUTION_SIGNALED, { signalName: name });
    return run;
  }

  /** Another process's write, out of turn: any copy of the run read before is now stale. */
  async function writeOutOfTurn(runId: string): Promise<void> {
    await pool.query('UPDATE temporal.executions SET version = version + 1 WHERE run_id = $1', [runId]);
  }

  async function rowOf(runId: string): Promise<{ version: number; historyLength: number }> {
    const { rows } = await pool.query('SELECT version, history_length FROM temporal.executions WHERE run_id = $1', [
      runId,
    ]);
    const row = rows[0] as { version: string; history_length: string };
    return { version: Number(row.version), historyLength: Number(row.history_length) };
  }

  async function eventsOf(runId: string): Promise<number> {
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM temporal.history_events WHERE run_id = $1', [
      runId,
    ]);
    return (rows[0] as { n: number }).n;
  }

  it('applies every one of many transitions that arrive together on one run, each at its first attempt', async () => {
    // Given a run, and forty transitions on it that start at once (as when its timers fall due together)
    const runId = await startRun('burst');
    const { cache, run } = transitions();
    const attempts: number[] = [];

    // When each signals the run
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        run(async (tx) => {
          await signal(tx, runId, `s${i}`);
          attempts.push(tx.attempt);
        }),
      ),
    );

    // Then all forty are written, one after another, none of them having read a run another had changed
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(await rowOf(runId)).toEqual({ version: 40, historyLength: 41 });
    expect(await eventsOf(runId)).toBe(41);
    expect(Math.max(...attempts)).toBe(1);
    expect(cache.turns.held).toBe(0);
  });

  it('works a conflicting transition out again from the run as it now stands', async () => {
    // Given a transition that reads a run, which is then written out of turn before its write
    const runId = await startRun('out-of-turn');
    const { cache, run } = transitions();
    const seen: number[] = [];

    // When it writes
    await run(async (tx) => {
      const read = await signal(tx, runId, 'late');
      seen.push(read.version);
      if (tx.attempt === 1) await writeOutOfTurn(runId);
    });

    // Then its first attempt conflicted, and the second read the new version and was written
    expect(seen).toEqual([0, 1]);
    expect(await rowOf(runId)).toEqual({ version: 2, historyLength: 2 });
    expect(cache.turns.held).toBe(0);
  });

  it('holds every run a conflicted transition touched while it is worked out again', async () => {
    // Given a transition on two runs whose first attempt loses the race for the second run
    const [parent, child] = [await startRun('turn-parent'), await startRun('turn-child')];
    const { cache, run } = transitions();
    let others: Promise<void> | undefined;
    const order: string[] = [];

    // When it is worked out again while another transition wants the second run
    await run(async (tx) => {
      await signal(tx, parent, 'both');
      await signal(tx, child, 'both');
      if (tx.attempt === 1) {
        await writeOutOfTurn(child);
        return;
      }
      others = run(async (other) => {
        await signal(other, child, 'after');
        order.push('other read the second run');
      });
      // Give the other transition every chance to read the run before this one is written.
      await new Promise((resolve) => setTimeout(resolve, 50));
      order.push('retry worked out');
    });
    await others;

    // Then the other waited for the retry's turn on the second run, and both were written
    expect(order).toEqual(['retry worked out', 'other read the second run']);
    expect(await rowOf(parent)).toEqual({ version: 1, historyLength: 2 });
    expect(await rowOf(child)).toEqual({ version: 3, historyLength: 3 });
    expect(cache.turns.held).toBe(0);
  });

  it('gives a run back to the next transition when one fails for another reason', async () => {
    // Given a transition that reads a run and then fails
    const runId = await startRun('failing');
    const { cache, run } = transitions();
    const failing = run(async (tx) => {
      await signal(tx, runId, 'never');
      throw new Error('not found');
    });

    // When the next transition on the run follows
    await expect(failing).rejects.toThrow('not found');
    await run((tx) => signal(tx, runId, 'next'));

    // Then it is written
    expect(await rowOf(runId)).toEqual({ version: 1, historyLength: 2 });
    expect(cache.turns.held).toBe(0);
  });

  it('tells the caller to try again when a transition never wins, and writes nothing of it', async () => {
    // Given a run that is written out of turn every time a transition has read it
    const runId = await startRun('hopeless');
    const { cache, run } = transitions();
    const hopeless = (tx: Tx): Promise<void> => signal(tx, runId, 'lost').then(() => writeOutOfTurn(runId));

    // When the transition runs out of attempts
    const err = (await run(hopeless).catch((e: unknown) => e)) as TransitionConflictError;

    // Then it fails as a conflict the caller must retry, with nothing written and no turn held
    expect(err).toBeInstanceOf(TransitionConflictError);
    expect(err.attempts).toBe(25);
    expect(await eventsOf(runId)).toBe(1);
    expect(cache.turns.held).toBe(0);

    // And the server answers it as UNAVAILABLE, which the SDK retries
    const service = new WorkflowService(pool, SCHEMA, new WallClock(), silentLogger, {} as Visibility);
    const answered = await service.transact(hopeless).catch((e: unknown) => e);
    expect(answered).toBeInstanceOf(TemporalServiceError);
    expect((answered as TemporalServiceError).code).toBe(GrpcCode.UNAVAILABLE);
  });
});
