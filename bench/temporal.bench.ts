/**
 * `npm run bench:temporal`: the embedded Temporal-compatible server under load, through the official SDK.
 *
 * Phase 1 runs many concurrent workflows (start, one activity, one short timer, complete) and reports
 * throughput, start-to-result latency and CPU per workflow on each side. Phase 2 parks many workflows on
 * a one-hour timer and reports the server's resident memory.
 *
 * Options: --workflows N (phase 1, default 2000), --concurrency N (default 200), --waiting N (phase 2,
 * default 10000). DATABASE_URL selects the PostgreSQL; otherwise an embedded one (durable settings).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import * as activities from './activities';
import {
  describeMachine,
  option,
  ownCpuSeconds,
  percentile,
  postgresCpuSeconds,
  pool,
  processCpuSeconds,
  residentMegabytes,
  runBenchmark,
  startBenchEngine,
} from './support';

const TASK_QUEUE = 'bench';

async function waitUntilIdle(pid: number): Promise<void> {
  // The server is done with the backlog when it has used under 5% of a core for two seconds running.
  let quiet = 0;
  while (quiet < 2) {
    const before = await processCpuSeconds(pid);
    await new Promise((r) => setTimeout(r, 1000));
    quiet = (await processCpuSeconds(pid)) - before < 0.05 ? quiet + 1 : 0;
  }
}

async function main(): Promise<void> {
  const workflows = option('workflows', 2000);
  const concurrency = option('concurrency', 200);
  const waiting = option('waiting', 10_000);
  const { database, server, client, worker, stop } = await startBenchEngine({
    databaseName: 'bench',
    taskQueue: TASK_QUEUE,
    workflowsPath: require.resolve('./workflows'),
    activities,
  });
  const run = `${Date.now()}`;

  const results = await worker.runUntil(async () => {
    // Warm up: the first workflows pay for bundle loading, JIT and connection set-up.
    await pool(50, 25, async (i) => {
      await client.workflow.execute('oneActivityOneTimer', {
        taskQueue: TASK_QUEUE,
        workflowId: `warm-${run}-${i}`,
        args: ['x'],
      });
    });

    const latencies: number[] = [];
    const serverCpu0 = await processCpuSeconds(server.pid);
    const postgresCpu0 = await postgresCpuSeconds();
    const workerCpu0 = ownCpuSeconds();
    const t0 = performance.now();
    await pool(workflows, concurrency, async (i) => {
      const started = performance.now();
      const result: unknown = await client.workflow.execute('oneActivityOneTimer', {
        taskQueue: TASK_QUEUE,
        workflowId: `bench-${run}-${i}`,
        args: [`wf-${i}`],
        // The first workflow task comes back in the start response (eager start) instead of through a poll.
        requestEagerStart: true,
      });
      if (result !== `wf-${i}`) throw new Error(`workflow ${i} returned ${String(result)}`);
      latencies.push(performance.now() - started);
    });
    const seconds = (performance.now() - t0) / 1000;
    const serverCpu = (await processCpuSeconds(server.pid)) - serverCpu0;
    const workerCpu = ownCpuSeconds() - workerCpu0;
    const postgresCpu = (await postgresCpuSeconds()) - postgresCpu0;
    latencies.sort((a, b) => a - b);

    const memoryBefore = await residentMegabytes(server.pid);
    await pool(waiting, concurrency, async (i) => {
      await client.workflow.start('waitOnTimer', { taskQueue: TASK_QUEUE, workflowId: `wait-${run}-${i}` });
    });
    await waitUntilIdle(server.pid);
    const sample = await client.workflow.getHandle(`wait-${run}-${waiting - 1}`).fetchHistory();
    const lastOneHasTimer = sample.events?.some((e) => e.timerStartedEventAttributes) ?? false;
    const memoryWaiting = await residentMegabytes(server.pid);

    return {
      workflows,
      concurrency,
      workflowsPerSecond: workflows / seconds,
      latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
      cpuSecondsPerWorkflow: {
        server: serverCpu / workflows,
        workerAndClient: workerCpu / workflows,
        postgres: database.embedded ? postgresCpu / workflows : undefined,
      },
      serverToWorkerCpuRatio: serverCpu / workerCpu,
      waiting: {
        workflows: waiting,
        lastOneHasTimer,
        serverRssMb: memoryWaiting.rss,
        serverPeakRssMb: memoryWaiting.peak,
        serverRssBeforeMb: memoryBefore.rss,
      },
    };
  });

  await stop();

  const machine = describeMachine(database.postgresVersion);
  await fs.mkdir(path.join(__dirname, 'results'), { recursive: true });
  await fs.writeFile(
    path.join(__dirname, 'results', 'temporal.json'),
    JSON.stringify({ machine, ...results }, null, 2) + '\n',
  );

  const f = (n: number, d = 1) => n.toFixed(d);
  process.stdout.write(
    [
      `Machine: ${machine}`,
      '',
      '| measure | result | target |',
      '| --- | --- | --- |',
      `| workflows per second (${workflows} workflows, ${concurrency} in flight) | ${f(results.workflowsPerSecond)} | ≥ 100 |`,
      `| start-to-result latency p50 / p99 | ${f(results.latencyMs.p50, 0)} ms / ${f(results.latencyMs.p99, 0)} ms | |`,
      `| server CPU per workflow | ${f(results.cpuSecondsPerWorkflow.server * 1000, 2)} ms | below the worker's |`,
      `| worker (+ client) CPU per workflow | ${f(results.cpuSecondsPerWorkflow.workerAndClient * 1000, 2)} ms | |`,
      `| PostgreSQL CPU per workflow | ${results.cpuSecondsPerWorkflow.postgres === undefined ? 'not measured (DATABASE_URL)' : `${f(results.cpuSecondsPerWorkflow.postgres * 1000, 2)} ms`} | |`,
      `| server CPU ÷ worker CPU | ${f(results.serverToWorkerCpuRatio, 2)} | < 1 |`,
      `| server memory with ${waiting} workflows waiting on a timer${results.waiting.lastOneHasTimer ? '' : ' (timers not yet started!)'} | ${f(results.waiting.serverRssMb, 0)} MB (peak ${f(results.waiting.serverPeakRssMb, 0)} MB; ${f(results.waiting.serverRssBeforeMb, 0)} MB before) | < 300 MB |`,
      '',
    ].join('\n'),
  );
}

runBenchmark('bench:temporal', main);
