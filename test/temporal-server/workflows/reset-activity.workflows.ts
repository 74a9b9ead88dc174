/**
 * Workflows for the ResetActivity tests (`../reset-activity.test.ts`, which implements the activities): each
 * waits on an activity whose retry backoff is an hour, so only a reset can bring its next attempt in time.
 */
import { proxyActivities, type RetryPolicy } from '@temporalio/workflow';

export interface ResetActivities {
  /** Fails its first call; later calls return their attempt (after the test releases them, if it holds them). */
  flaky(key: string): Promise<number>;
  /** The same under another activity type. */
  otherFlaky(key: string): Promise<number>;
  /**
   * Fails its first call with a 10 ms retry delay; the second heartbeats until it is cancelled; the third returns
   * its attempt and the heartbeat details it was given.
   */
  heartbeatsUntilReset(key: string): Promise<{ attempt: number; details: unknown }>;
}

const hourly: RetryPolicy = { initialInterval: '1h', backoffCoefficient: 1 };
const { flaky, otherFlaky, heartbeatsUntilReset } = proxyActivities<ResetActivities>({
  startToCloseTimeout: '1m',
  heartbeatTimeout: '10s',
  retry: hourly,
});

export async function retriesHourly(key: string): Promise<number> {
  return flaky(key);
}

export async function threeRetryingHourly(a: string, b: string, c: string): Promise<number[]> {
  return Promise.all([flaky(a), flaky(b), otherFlaky(c)]);
}

export async function heartbeatsHourly(key: string): Promise<{ attempt: number; details: unknown }> {
  return heartbeatsUntilReset(key);
}

/** The activity on `taskQueue`, which a second worker serves: a test can leave the activity without a worker. */
export async function retriesHourlyOn(taskQueue: string, key: string): Promise<number> {
  const { flaky: flakyThere } = proxyActivities<ResetActivities>({
    taskQueue,
    startToCloseTimeout: '1m',
    retry: hourly,
  });
  return flakyThere(key);
}
