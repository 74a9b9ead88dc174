import { status as GrpcStatus } from '@grpc/grpc-js';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { isGrpcServiceError } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { startTemporalServer, type TemporalServer } from '../../temporal-server';
import { useFreshDatabase } from '../support/database';
import { eventually } from '../support/eventually';
import { startServerAndWorker, type ServerAndWorker } from './support';
import type { ResetActivities } from './workflows/reset-activity.workflows';

const db = useFreshDatabase('temporal_reset_activity');
const taskQueue = 'reset-activity';
const { PENDING_ACTIVITY_STATE_SCHEDULED: SCHEDULED, PENDING_ACTIVITY_STATE_STARTED: STARTED } =
  temporal.api.enums.v1.PendingActivityState;
type Describe = temporal.api.workflowservice.v1.IDescribeWorkflowExecutionResponse;
type Pending = temporal.api.workflow.v1.IPendingActivityInfo;

/** The attempts each key's activity ran, in order, as the worker saw them. */
const attempts = new Map<string, number[]>();
/** Keys whose later calls wait until the test releases them. */
const holds = new Map<string, Promise<void>>();

function recordAttempt(key: string): number[] {
  const seen = [...(attempts.get(key) ?? []), Context.current().info.attempt];
  attempts.set(key, seen);
  return seen;
}

function hold(key: string): () => void {
  let release!: () => void;
  holds.set(key, new Promise<void>((resolve) => (release = resolve)));
  return release;
}

async function flaky(key: string): Promise<number> {
  const seen = recordAttempt(key);
  if (seen.length === 1) throw ApplicationFailure.retryable(`first attempt of ${key} fails`, 'Flaky');
  await holds.get(key);
  return Context.current().info.attempt;
}

const activities: ResetActivities = {
  flaky,
  otherFlaky: flaky,
  async heartbeatsUntilReset(key) {
    const ctx = Context.current();
    const seen = recordAttempt(key);
    if (seen.length === 1)
      throw ApplicationFailure.create({ message: 'fails fast', type: 'Flaky', nextRetryDelay: '10ms' });
    if (seen.length === 2) {
      // Runs until the server tells a heartbeat it was reset: the SDK then cancels it (sleep throws).
      for (;;) {
        ctx.heartbeat('checkpoint');
        await ctx.sleep(20);
      }
    }
    return { attempt: ctx.info.attempt, details: ctx.info.heartbeatDetails ?? null };
  },
};

/** `promise`, or a failure naming `what` once `ms` have passed: a broken reset fails fast, not at jest's timeout. */
async function within<T>(promise: Promise<T>, what: string, ms = 5_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function grpcError(call: Promise<unknown>): Promise<{ code: unknown; message: string }> {
  const err: unknown = await call.then(
    () => new Error('the call succeeded'),
    (e: unknown) => e,
  );
  return { code: isGrpcServiceError(err) ? err.code : err, message: (err as Error).message };
}

describe('ResetActivity on the embedded Temporal server (official client and worker)', () => {
  let t: ServerAndWorker;
  let restarted: TemporalServer | undefined;

  beforeAll(async () => {
    t = await startServerAndWorker({
      databaseUrl: db.url,
      taskQueue,
      workerOptions: {
        workflowsPath: require.resolve('./workflows/reset-activity.workflows'),
        activities,
        // Heartbeats reach the server at once, so a reset attempt learns of it within a few ms.
        maxHeartbeatThrottleInterval: '20ms',
      },
    });
  });

  afterAll(async () => {
    await t?.stop();
    await restarted?.stop();
  });

  const describeRun = (workflowId: string): Promise<Describe> =>
    t.connection.workflowService.describeWorkflowExecution({ namespace: 'default', execution: { workflowId } });

  const resetActivity = (
    workflowId: string,
    select: { id?: string; type?: string; matchAll?: boolean },
    options: { resetHeartbeat?: boolean } = {},
  ) =>
    t.connection.workflowService.resetActivity({
      namespace: 'default',
      execution: { workflowId },
      identity: 'ops-console',
      ...select,
      ...options,
    });

  /** Waits until `count` activities of the run failed once and wait (an hour) for attempt 2. */
  const inBackoff = (workflowId: string, count = 1): Promise<Pending[]> =>
    eventually(
      `${workflowId}: ${count} activities waiting for attempt 2`,
      async () => (await describeRun(workflowId)).pendingActivities ?? [],
      (pending) =>
        pending.length === count &&
        pending.every((a) => a.attempt === 2 && !!a.nextAttemptScheduleTime && !!a.lastFailure),
      { timeoutMs: 5_000, intervalMs: 20 },
    );

  it('dispatches an activity waiting in its retry backoff at once, as attempt 1, and describe agrees', async () => {
    const workflowId = 'reset-backoff';
    const release = hold(workflowId);
    const handle = await t.client.workflow.start('retriesHourly', { taskQueue, workflowId, args: [workflowId] });
    const [waiting] = await inBackoff(workflowId);
    expect(tsToMs(waiting!.nextAttemptScheduleTime)).toBeGreaterThan(Date.now() + 50 * 60_000);
    expect(waiting!.lastFailure?.message).toBe(`first attempt of ${workflowId} fails`);
    const historyLength = String((await describeRun(workflowId)).workflowExecutionInfo?.historyLength);

    await resetActivity(workflowId, { id: waiting!.activityId! });

    // Attempt 1 is running now (held by the test), not in an hour.
    const running = await eventually(
      'the reset attempt started',
      async () => describeRun(workflowId),
      (d) => d.pendingActivities?.[0]?.state === STARTED,
      { timeoutMs: 5_000, intervalMs: 20 },
    );
    const pending = running.pendingActivities![0]!;
    expect(pending.attempt).toBe(1);
    expect(pending.nextAttemptScheduleTime).toBeFalsy();
    // Attempt 1 has no earlier attempt: the last failure goes with the count, as on Temporal.
    expect(pending.lastFailure).toBeFalsy();
    // A reset writes no history event.
    expect(String(running.workflowExecutionInfo?.historyLength)).toBe(historyLength);

    release();
    expect(await within(handle.result(), 'the workflow result')).toBe(1);
    expect(attempts.get(workflowId)).toEqual([1, 1]);
  });

  it('resets every pending activity of a type, and only those', async () => {
    const workflowId = 'reset-by-type';
    const [a, b, c] = ['a', 'b', 'c'].map((k) => `${workflowId}-${k}`) as [string, string, string];
    const handle = await t.client.workflow.start('threeRetryingHourly', { taskQueue, workflowId, args: [a, b, c] });
    await inBackoff(workflowId, 3);

    await resetActivity(workflowId, { type: 'flaky' });

    const [other] = await eventually(
      'the two flaky activities finished',
      async () => (await describeRun(workflowId)).pendingActivities ?? [],
      (pending) => pending.length === 1,
      { timeoutMs: 5_000, intervalMs: 20 },
    );
    expect(other!.activityType?.name).toBe('otherFlaky');
    expect(other!.attempt).toBe(2);
    expect(other!.state).toBe(SCHEDULED);
    expect(tsToMs(other!.nextAttemptScheduleTime)).toBeGreaterThan(Date.now() + 50 * 60_000);

    await resetActivity(workflowId, { matchAll: true });
    expect(await within(handle.result(), 'the workflow result')).toEqual([1, 1, 1]);
    for (const key of [a, b, c]) expect(attempts.get(key)).toEqual([1, 1]);
  });

  it.each([
    { resetHeartbeat: false, details: 'checkpoint' },
    { resetHeartbeat: true, details: null },
  ])(
    'resets an attempt in flight when it ends: its heartbeat is told, and the retry is attempt 1 at once (resetHeartbeat $resetHeartbeat)',
    async ({ resetHeartbeat, details }) => {
      const workflowId = `reset-running-${resetHeartbeat}`;
      const handle = await t.client.workflow.start('heartbeatsHourly', { taskQueue, workflowId, args: [workflowId] });
      const [running] = await eventually(
        'attempt 2 running and heartbeating',
        async () => (await describeRun(workflowId)).pendingActivities ?? [],
        (pending) => pending[0]?.state === STARTED && pending[0].attempt === 2 && !!pending[0].heartbeatDetails,
        { timeoutMs: 5_000, intervalMs: 20 },
      );

      await resetActivity(workflowId, { id: running!.activityId! }, { resetHeartbeat });

      // Attempt 2 goes on until a heartbeat hears of the reset; its retry (backoff an hour) is attempt 1, at once.
      expect(await within(handle.result(), 'the workflow result')).toEqual({ attempt: 1, details });
      expect(attempts.get(workflowId)).toEqual([1, 2, 1]);
    },
  );

  it('answers NOT_FOUND for an activity, type or workflow it does not know, and for a closed workflow', async () => {
    const workflowId = 'reset-errors';
    const handle = await t.client.workflow.start('retriesHourly', { taskQueue, workflowId, args: [workflowId] });
    await inBackoff(workflowId);

    const byId = await grpcError(resetActivity(workflowId, { id: 'no-such-activity' }));
    expect(byId.code).toBe(GrpcStatus.NOT_FOUND);
    expect(byId.message).toContain('no pending activity with id "no-such-activity"');
    const byType = await grpcError(resetActivity(workflowId, { type: 'noSuchType' }));
    expect(byType.code).toBe(GrpcStatus.NOT_FOUND);
    expect(byType.message).toContain('no pending activity of type "noSuchType"');
    const unknown = await grpcError(resetActivity('no-such-workflow', { matchAll: true }));
    expect(unknown.code).toBe(GrpcStatus.NOT_FOUND);
    expect(unknown.message).toContain('workflow execution not found');
    const unselected = await grpcError(resetActivity(workflowId, {}));
    expect(unselected.code).toBe(GrpcStatus.INVALID_ARGUMENT);

    // None of them touched the activity.
    expect((await describeRun(workflowId)).pendingActivities?.[0]?.attempt).toBe(2);

    await handle.terminate('done');
    const closed = await grpcError(resetActivity(workflowId, { matchAll: true }));
    expect(closed.code).toBe(GrpcStatus.NOT_FOUND);
    expect(closed.message).toContain('workflow execution already completed');
  });

  it('keeps a reset across a server restart', async () => {
    // The activity runs on a queue only a second worker serves, which is stopped before the reset: the reset
    // attempt then waits in the task queue while the server restarts.
    const workflowId = 'reset-restart';
    const elsewhere = 'reset-activity-elsewhere';
    let second = await t.newWorker({ taskQueue: elsewhere });
    const handle = await t.client.workflow.start('retriesHourlyOn', {
      taskQueue,
      workflowId,
      args: [elsewhere, workflowId],
    });
    const [waiting] = await inBackoff(workflowId);
    await second.stop();

    await resetActivity(workflowId, { id: waiting!.activityId! });
    const [queued] = (await describeRun(workflowId)).pendingActivities ?? [];
    expect(queued?.attempt).toBe(1);
    expect(queued?.state).toBe(SCHEDULED);

    await t.server!.stop();
    restarted = await startTemporalServer({ address: t.address, databaseUrl: db.url });
    second = await t.newWorker({ taskQueue: elsewhere });
    try {
      expect(await within(handle.result(), 'the workflow result after the restart', 15_000)).toBe(1);
      expect(attempts.get(workflowId)).toEqual([1, 1]);
    } finally {
      await second.stop();
    }
  });
});
