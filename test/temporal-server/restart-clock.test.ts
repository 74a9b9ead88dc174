/**
 * Restarting the time-skipping clock between pieces of work that share nothing (the pathway simulator's runs): the
 * server in this process, started at a given instant; its clock set back for the next workflow once none runs, and
 * refused while one does, whose timers would see time go back.
 */
import { Worker } from '@temporalio/worker';
import { createTestWorkflowEnvironment, type EmbeddedTestWorkflowEnvironment } from '../../temporal-server';
import { useFreshDatabase } from '../support/database';
import { installQuietRuntime } from '../support/sdk-runtime';
import * as activities from './conformance.activities';

const WEEK_MS = 7 * 24 * 3600 * 1000;

describe('restarting the time-skipping clock', () => {
  let testEnv: EmbeddedTestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await testEnv?.teardown();
  });
  const db = useFreshDatabase('temporal_restart_clock');

  beforeAll(async () => {
    installQuietRuntime('ERROR');
    testEnv = await createTestWorkflowEnvironment({ databaseUrl: db.url, startsAt: new Date('2027-03-01T14:10:00Z') });
    worker = await Worker.create({
      connection: testEnv.nativeConnection,
      taskQueue: 'restart-clock',
      workflowsPath: require.resolve('./workflows/conformance.workflows'),
      activities,
    });
    running = worker.run();
  });

  it('starts at the instant given, in the past of the real clock too', async () => {
    const first = await testEnv.currentTimeMs();
    expect(first - Date.parse('2027-03-01T14:10:00Z')).toBeGreaterThanOrEqual(0);
    expect(first - Date.parse('2027-03-01T14:10:00Z')).toBeLessThan(60_000);
    await testEnv.restartClock(new Date('2020-01-01T00:00:00Z'));
    expect(new Date(await testEnv.currentTimeMs()).toISOString().slice(0, 13)).toBe('2020-01-01T00');
  });

  it('refuses while a workflow runs, and sets the clock back once none does: the next workflow runs from there', async () => {
    await testEnv.restartClock(new Date('2027-03-01T00:00:00Z'));
    const sleeper = await testEnv.client.workflow.start('sleepFor', {
      taskQueue: 'restart-clock',
      workflowId: 'sleeps-a-week',
      args: [WEEK_MS],
    });
    await expect(testEnv.restartClock(new Date('2026-01-01T00:00:00Z'))).rejects.toThrow(
      'The clock cannot be restarted while a workflow is running (sleeps-a-week)',
    );
    expect(await sleeper.result()).toBe(WEEK_MS);
    expect(new Date(await testEnv.currentTimeMs()).toISOString().slice(0, 10)).toBe('2027-03-08');

    await testEnv.restartClock(new Date('2026-01-01T00:00:00Z'));
    const again = await testEnv.client.workflow.start('sleepFor', {
      taskQueue: 'restart-clock',
      workflowId: 'sleeps-a-week-earlier',
      args: [WEEK_MS],
    });
    expect(await again.result()).toBe(WEEK_MS);
    const { startTime, closeTime } = await again.describe();
    expect([startTime.toISOString().slice(0, 10), closeTime?.toISOString().slice(0, 10)]).toEqual([
      '2026-01-01',
      '2026-01-08',
    ]);
  });
});
