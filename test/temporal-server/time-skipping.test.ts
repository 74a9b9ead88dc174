import { Worker } from '@temporalio/worker';
import { installQuietRuntime } from '../support/sdk-runtime';
import type { EmbeddedTestWorkflowEnvironment } from '../../temporal-server';
import { useFreshDatabase } from '../support/database';
import * as activities from './conformance.activities';
import { startTestWorkflowEnvironmentProcess } from './support';

const db = useFreshDatabase('temporal_skip');

describe('time skipping', () => {
  let testEnv: EmbeddedTestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;

  beforeAll(async () => {
    installQuietRuntime('ERROR');
    // As users run it: `bin/throughcare.js temporal-server --time-skipping` in a child process.
    testEnv = await startTestWorkflowEnvironmentProcess(db.url);
    worker = await Worker.create({
      connection: testEnv.nativeConnection,
      taskQueue: 'skip',
      workflowsPath: require.resolve('./workflows/conformance.workflows'),
      activities,
    });
    running = worker.run();
    // Warm the worker's workflow isolate so the timing below measures the server, not the first bundle load.
    await testEnv.client.workflow.execute('sleepFor', { taskQueue: 'skip', workflowId: 'warm-up', args: [1] });
  });

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await testEnv?.teardown();
  });

  it('fires a 13-week timer in well under a second of real time', async () => {
    const before = await testEnv.currentTimeMs();
    const started = Date.now();
    const result = await testEnv.client.workflow.execute('longSleep', { taskQueue: 'skip', workflowId: 'long-sleep' });
    expect(result).toBe('woke after 13 weeks');
    expect(Date.now() - started).toBeLessThan(1000);
    expect((await testEnv.currentTimeMs()) - before).toBeGreaterThanOrEqual(91 * 24 * 3600 * 1000);
  });

  it('still skips to a 13-week timer after a workflow has continued as new', async () => {
    // A pathway continues as new when its history grows long, then waits weeks for its next review: a workflow
    // task that cannot complete would keep the server busy, and time would never skip again.
    const chain = await testEnv.client.workflow.execute('countdown', {
      taskQueue: 'skip',
      workflowId: 'skip-continue-as-new',
      args: [2],
    });
    expect(chain).toBe('done at run with input 0, continued from another run');
    const before = await testEnv.currentTimeMs();
    const result = await testEnv.client.workflow.execute('longSleep', {
      taskQueue: 'skip',
      workflowId: 'long-sleep-after-continue-as-new',
    });
    expect(result).toBe('woke after 13 weeks');
    expect((await testEnv.currentTimeMs()) - before).toBeGreaterThanOrEqual(91 * 24 * 3600 * 1000);
  });

  it('runs activities between skipped timers', async () => {
    const result = await testEnv.client.workflow.execute('greetAndSleep', {
      taskQueue: 'skip',
      workflowId: 'skip-greet',
      args: ['skipper', 7 * 24 * 3600 * 1000],
    });
    expect(result).toBe(`Hello, skipper! after ${7 * 24 * 3600 * 1000}ms`);
  });

  it('advances virtual time with env.sleep', async () => {
    const before = await testEnv.currentTimeMs();
    const started = Date.now();
    await testEnv.sleep('2 days');
    expect((await testEnv.currentTimeMs()) - before).toBeGreaterThanOrEqual(2 * 24 * 3600 * 1000);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('does not skip time while the lock is held and nothing awaits a result', async () => {
    const handle = await testEnv.client.workflow.start('sleepFor', {
      taskQueue: 'skip',
      workflowId: 'locked-sleep',
      args: [3600_000],
    });
    await new Promise((r) => setTimeout(r, 300));
    const desc = await handle.describe();
    expect(desc.status.name).toBe('RUNNING');
    expect(await handle.result()).toBe(3600_000);
  });
});
