/** Workflows the benchmarks run. Deterministic code only: bundled into the Temporal workflow sandbox. */
import { proxyActivities, sleep } from '@temporalio/workflow';
import type * as activities from './activities';

const { echo } = proxyActivities<typeof activities>({ startToCloseTimeout: '30 seconds' });

/** The unit of work: start, one activity, one short timer, complete. */
export async function oneActivityOneTimer(input: string): Promise<string> {
  const echoed = await echo(input);
  await sleep('100 milliseconds');
  return echoed;
}

/** Parks on a long timer, for measuring what waiting workflows cost the server. */
export async function waitOnTimer(): Promise<void> {
  await sleep('1 hour');
}
