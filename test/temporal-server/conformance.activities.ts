/**
 * Activities for the embedded Temporal server's tests: real code run by the real worker.
 */
import { ApplicationFailure, Context, CancelledFailure } from '@temporalio/activity';

const attempts = new Map<string, number>();

export function greet(name: string): Promise<string> {
  return Promise.resolve(`Hello, ${name}!`);
}

export async function failTimes(failures: number, key: string): Promise<number> {
  await Promise.resolve();
  const n = (attempts.get(key) ?? 0) + 1;
  attempts.set(key, n);
  if (n <= failures) throw ApplicationFailure.retryable(`failure ${n} of ${key}`, 'Flaky');
  return Context.current().info.attempt;
}

export async function failNonRetryable(): Promise<void> {
  await Promise.resolve();
  throw ApplicationFailure.nonRetryable('do not retry me', 'Fatal');
}

export async function slowHeartbeat(steps: number): Promise<string> {
  const info = Context.current().info;
  const start = (info.heartbeatDetails as number | undefined) ?? 0;
  for (let i = start; i < steps; i++) {
    Context.current().heartbeat(i + 1);
    if (info.attempt === 1 && i === 1) throw ApplicationFailure.retryable('crash mid-way', 'Crash');
    await Context.current().sleep(20);
  }
  return `finished at attempt ${info.attempt} resuming from ${start}`;
}

export async function neverFinishes(): Promise<void> {
  for (;;) {
    try {
      await Context.current().sleep(100);
      Context.current().heartbeat();
    } catch (err) {
      if (err instanceof CancelledFailure) throw err;
      throw err;
    }
  }
}

export async function sleepsSilently(ms: number): Promise<void> {
  await Context.current().sleep(ms);
}

export async function slowly(ms: number): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return `slept ${ms}`;
}
