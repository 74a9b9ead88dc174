/**
 * Workflows the embedded Temporal server is tested with. Deterministic code only: it runs in the SDK sandbox.
 */
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
  ParentClosePolicy,
} from '@temporalio/workflow';
import type * as activities from '../conformance.activities';

const { greet, failTimes, slowHeartbeat, neverFinishes, failNonRetryable } = proxyActivities<typeof activities>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '50ms', backoffCoefficient: 2, maximumInterval: '200ms', maximumAttempts: 5 },
});
const { greet: localGreet } = proxyLocalActivities<typeof activities>({ startToCloseTimeout: '10s' });

export async function greetAndSleep(name: string, sleepMs: number): Promise<string> {
  const greeting = await greet(name);
  await sleep(sleepMs);
  return `${greeting} after ${sleepMs}ms`;
}

export async function sleepFor(ms: number): Promise<number> {
  await sleep(ms);
  return ms;
}

export async function retryingActivity(failures: number, key: string): Promise<number> {
  return failTimes(failures, key);
}

export async function nonRetryable(): Promise<string> {
  try {
    await failNonRetryable();
    return 'no error';
  } catch (err) {
    return `caught: ${(err as { cause?: Error }).cause?.message ?? (err as Error).message}`;
  }
}

export async function exhaustRetries(key: string): Promise<string> {
  try {
    await failTimes(100, key);
    return 'no error';
  } catch (err) {
    return `caught after retries: ${(err as { cause?: Error }).cause?.message ?? ''}`;
  }
}

export const addSignal = defineSignal<[number]>('add');
export const doneSignal = defineSignal('done');
export const totalQuery = defineQuery<number>('total');
export const setTotalUpdate = defineUpdate<number, [number]>('setTotal');

export async function accumulator(): Promise<number> {
  let total = 0;
  let done = false;
  setHandler(addSignal, (n) => {
    total += n;
  });
  setHandler(doneSignal, () => {
    done = true;
  });
  setHandler(totalQuery, () => total);
  setHandler(
    setTotalUpdate,
    (n) => {
      const previous = total;
      total = n;
      return previous;
    },
    {
      validator: (n) => {
        if (n < 0) throw new Error('total must not be negative');
      },
    },
  );
  await condition(() => done);
  return total;
}

export async function cancellableSleep(): Promise<string> {
  try {
    await sleep('1 day');
    return 'slept';
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => greet('cleanup'));
      throw err;
    }
    throw err;
  }
}

export async function cancelActivity(): Promise<string> {
  try {
    await CancellationScope.withTimeout(500, () => neverFinishes());
    return 'finished';
  } catch (err) {
    return isCancellation(err) ? 'activity cancelled' : `other: ${(err as Error).message}`;
  }
}

export async function heartbeatingActivity(): Promise<string> {
  return slowHeartbeat(3);
}

export function childWorkflow(name: string): Promise<string> {
  return Promise.resolve(`child says hi to ${name}`);
}

export async function parentWorkflow(name: string): Promise<string> {
  const result = await executeChild(childWorkflow, { args: [name], workflowId: `${workflowInfo().workflowId}-child` });
  return `parent got: ${result}`;
}

/** Starts a child and closes at once, leaving the child to its parent close policy. */
export async function parentLeavesChild(policy: 'TERMINATE' | 'REQUEST_CANCEL' | 'ABANDON'): Promise<string> {
  const child = await startChild(waitForCancelOrDone, {
    workflowId: `${workflowInfo().workflowId}-child`,
    parentClosePolicy: ParentClosePolicy[policy],
  });
  return child.workflowId;
}

export async function signalOther(targetId: string): Promise<string> {
  await getExternalWorkflowHandle(targetId).signal(addSignal, 5);
  await getExternalWorkflowHandle(targetId).signal(doneSignal);
  return 'sent';
}

export async function cancelOther(targetId: string): Promise<string> {
  await getExternalWorkflowHandle(targetId).cancel();
  return 'cancel sent';
}

export async function countdown(n: number): Promise<string> {
  if (n > 0) await continueAsNew<typeof countdown>(n - 1);
  return `done at run with input ${n}, continued from ${workflowInfo().continuedFromExecutionRunId ? 'another run' : 'nothing'}`;
}

export async function patchedWorkflow(): Promise<string> {
  if (patched('my-change')) {
    return `new path: ${await localGreet('local')}`;
  }
  return 'old path';
}

export async function upserts(): Promise<string> {
  upsertSearchAttributes({ CustomKeywordField: ['hello'] });
  upsertMemo({ note: 'remember me' });
  await sleep(10);
  return 'upserted';
}

export function failsAlways(): Promise<void> {
  return Promise.reject(ApplicationFailure.nonRetryable('workflow failed on purpose', 'Purpose'));
}

export function workflowRetries(): Promise<number> {
  const { attempt } = workflowInfo();
  if (attempt < 3) return Promise.reject(ApplicationFailure.retryable(`attempt ${attempt}`));
  return Promise.resolve(attempt);
}

export async function manyTimers(count: number): Promise<number> {
  const timers: Promise<void>[] = [];
  for (let i = 0; i < count; i++) timers.push(sleep(100 + i));
  await Promise.all(timers);
  return count;
}

export async function longSleep(): Promise<string> {
  await sleep('91 days');
  return 'woke after 13 weeks';
}

const { neverFinishes: neverFinishesNoRetry } = proxyActivities<typeof activities>({
  startToCloseTimeout: '300ms',
  retry: { maximumAttempts: 1 },
});
const { sleepsSilently: neverHeartbeats } = proxyActivities<typeof activities>({
  startToCloseTimeout: '10s',
  heartbeatTimeout: '300ms',
  retry: { maximumAttempts: 1 },
});
const { greet: greetNowhere } = proxyActivities<typeof activities>({
  taskQueue: 'no-worker-here',
  scheduleToStartTimeout: '300ms',
  startToCloseTimeout: '10s',
});
const { greet: greetNowhereClose } = proxyActivities<typeof activities>({
  taskQueue: 'no-worker-here',
  scheduleToCloseTimeout: '300ms',
});

function describeTimeout(err: unknown): string {
  const cause = (err as { cause?: { timeoutType?: number; name?: string } }).cause;
  return `${cause?.name ?? 'unknown'}:${cause?.timeoutType ?? '?'}`;
}

export async function activityTimeout(
  kind: 'startToClose' | 'heartbeat' | 'scheduleToStart' | 'scheduleToClose',
): Promise<string> {
  try {
    if (kind === 'startToClose') await neverFinishesNoRetry();
    else if (kind === 'heartbeat') await neverHeartbeats(8000); // long enough to outlive a server restart (restart.test.ts)
    else if (kind === 'scheduleToStart') await greetNowhere('nobody');
    else await greetNowhereClose('nobody');
    return 'no timeout';
  } catch (err) {
    return describeTimeout(err);
  }
}

export async function waitForCancelOrDone(): Promise<string> {
  let done = false;
  setHandler(doneSignal, () => {
    done = true;
  });
  try {
    await condition(() => done);
    return 'done';
  } catch (err) {
    if (isCancellation(err)) return 'cancelled';
    throw err;
  }
}

const { greet: quickGreet } = proxyActivities<typeof activities>({
  startToCloseTimeout: '3s',
  retry: { initialInterval: '100ms', maximumInterval: '500ms' },
});

/** Used by the kill -9 test: activity, timer, activity, with short timeouts so lost tasks come back quickly. */
export async function survivesRestart(name: string, sleepMs: number): Promise<string> {
  const a = await quickGreet(name);
  await sleep(sleepMs);
  const b = await quickGreet(`${name} again`);
  return `${a} | ${b}`;
}

const { slowly } = proxyLocalActivities<typeof activities>({ startToCloseTimeout: '10s' });

/** Completes in the same task that runs a slow local activity: a signal arriving meanwhile is unhandled. */
export async function countsSignalsSlowly(): Promise<number> {
  let count = 0;
  setHandler(addSignal, (n) => {
    count += n;
  });
  await condition(() => count > 0);
  await slowly(800);
  return count;
}

export async function parentWaitsForChild(): Promise<number> {
  return executeChild(accumulator, {
    workflowId: `${workflowInfo().workflowId}-child`,
    parentClosePolicy: ParentClosePolicy.ABANDON,
  });
}

export const applyOnceUpdate = defineUpdate<string, [string]>('applyOnce');
export const releaseSignal = defineSignal('release');

/**
 * Counts how often its update handler runs. The handler is accepted at once and completes only when `release`
 * arrives, so a test can send the same update id again while it is admitted, accepted or completed: each
 * repeat must attach to the first update, never run the handler again. Returns the number of handler runs.
 */
export async function updateOnce(): Promise<number> {
  let runs = 0;
  let released = false;
  let done = false;
  setHandler(applyOnceUpdate, async (label) => {
    runs += 1;
    const run = runs;
    await condition(() => released);
    return `${label}#${run}`;
  });
  setHandler(releaseSignal, () => {
    released = true;
  });
  setHandler(doneSignal, () => {
    done = true;
  });
  await condition(() => done);
  return runs;
}
