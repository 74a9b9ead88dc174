/**
 * `npm run bench:temporal`: the embedded Temporal-compatible server under load, through the official SDK.
 *
 * The server runs in its own process (`throughcare temporal-server`) so its CPU and memory are measured
 * apart from the worker's. Phase 1 runs many concurrent workflows (start, one activity, one short timer,
 * complete) and reports throughput, start-to-result latency and CPU per workflow on each side. Phase 2
 * parks many workflows on a one-hour timer and reports the server's resident memory.
 *
 * Options: --workflows N (phase 1, default 2000), --concurrency N (default 200), --waiting N (phase 2,
 * default 10000). DATABASE_URL selects the PostgreSQL; otherwise an embedded one (durable settings) is used.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { Client as PgClient } from 'pg';
import { createLogger } from '../log';
import { startEmbeddedPostgres } from '../store/embedded-postgres';
import * as activities from './activities';

const TASK_QUEUE = 'bench';
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
async function processCpuSeconds(pid: number): Promise<number> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

async function residentMegabytes(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) =>
    Number(/\s(\d+) kB/.exec(status.split('\n').find((l) => l.startsWith(key)) ?? '')?.[1] ?? NaN);
  return { rss: kb('VmRSS:') / 1024, peak: kb('VmHWM:') / 1024 };
}

function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Runs `task` for each index with at most `limit` in flight. */
async function pool(count: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

async function startServer(databaseUrl: string): Promise<{ address: string; pid: number; stop(): Promise<void> }> {
  const bin = path.resolve(__dirname, '..', 'bin', 'throughcare.js');
  const child = spawn(
    process.execPath,
    [bin, 'temporal-server', '--address', '127.0.0.1:0', '--database-url', databaseUrl],
    {
      env: { ...process.env, LOG_LEVEL: 'warn', LOG_FORMAT: 'json' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /listening on (\S+)/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`temporal-server exited (${code}) before listening:\n${out}`)));
  });
  return {
    address,
    pid: child.pid!,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

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
  const logger = createLogger({ level: 'warn', pretty: false });
  Runtime.install({ logger: new DefaultLogger('WARN') });

  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'throughcare-bench-'));
  await fs.chmod(tmp, 0o755);
  const embedded = process.env.DATABASE_URL
    ? undefined
    : await startEmbeddedPostgres({ dir: tmp, logger, database: 'bench' });
  const databaseUrl = process.env.DATABASE_URL ?? embedded!.url;
  const pg = new PgClient({ connectionString: databaseUrl });
  await pg.connect();
  const postgresVersion = (await pg.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version;
  await pg.end();

  const server = await startServer(databaseUrl);
  const client = new Client({ connection: await Connection.connect({ address: server.address }) });
  const worker = await Worker.create({
    connection: await NativeConnection.connect({ address: server.address }),
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
    const workerCpu0 = ownCpuSeconds();
    const t0 = performance.now();
    await pool(workflows, concurrency, async (i) => {
      const started = performance.now();
      const result: unknown = await client.workflow.execute('oneActivityOneTimer', {
        taskQueue: TASK_QUEUE,
        workflowId: `bench-${run}-${i}`,
        args: [`wf-${i}`],
      });
      if (result !== `wf-${i}`) throw new Error(`workflow ${i} returned ${String(result)}`);
      latencies.push(performance.now() - started);
    });
    const seconds = (performance.now() - t0) / 1000;
    const serverCpu = (await processCpuSeconds(server.pid)) - serverCpu0;
    const workerCpu = ownCpuSeconds() - workerCpu0;
    latencies.sort((a, b) => a - b);

    const memoryBefore = await residentMegabytes(server.pid);
    await pool(waiting, concurrency, async (i) => {
      await client.workflow.start('waitOnTimer', { taskQueue: TASK_QUEUE, workflowId: `wait-${run}-${i}` });
    });
    await waitUntilIdle(server.pid);
    const sample = await client.workflow.getHandle(`wait-${run}-${waiting - 1}`).fetchHistory();
    const timerStarted = sample.events?.some((e) => e.timerStartedEventAttributes) ?? false;
    const memoryWaiting = await residentMegabytes(server.pid);

    return {
      workflows,
      concurrency,
      workflowsPerSecond: workflows / seconds,
      latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
      cpuSecondsPerWorkflow: { server: serverCpu / workflows, workerAndClient: workerCpu / workflows },
      serverToWorkerCpuRatio: serverCpu / workerCpu,
      waiting: {
        workflows: waiting,
        lastOneHasTimer: timerStarted,
        serverRssMb: memoryWaiting.rss,
        serverPeakRssMb: memoryWaiting.peak,
        serverRssBeforeMb: memoryBefore.rss,
      },
    };
  });

  await server.stop();
  await embedded?.stop();
  await fs.rm(tmp, { recursive: true, force: true });

  const machine = {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    postgres: postgresVersion,
    date: new Date().toISOString().slice(0, 10),
  };
  const report = { machine, ...results };
  await fs.mkdir(path.join(__dirname, 'results'), { recursive: true });
  await fs.writeFile(path.join(__dirname, 'results', 'temporal.json'), JSON.stringify(report, null, 2) + '\n');

  const f = (n: number, d = 1) => n.toFixed(d);
  process.stdout.write(
    [
      `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GiB, Node ${machine.node}, PostgreSQL ${machine.postgres}, ${machine.date}`,
      '',
      '| measure | result | target |',
      '| --- | --- | --- |',
      `| workflows per second (${workflows} workflows, ${concurrency} in flight) | ${f(results.workflowsPerSecond)} | ≥ 100 |`,
      `| start-to-result latency p50 / p99 | ${f(results.latencyMs.p50, 0)} ms / ${f(results.latencyMs.p99, 0)} ms | |`,
      `| server CPU per workflow | ${f(results.cpuSecondsPerWorkflow.server * 1000, 2)} ms | below the worker's |`,
      `| worker (+ client) CPU per workflow | ${f(results.cpuSecondsPerWorkflow.workerAndClient * 1000, 2)} ms | |`,
      `| server CPU ÷ worker CPU | ${f(results.serverToWorkerCpuRatio, 2)} | < 1 |`,
      `| server memory with ${waiting} workflows waiting on a timer | ${f(results.waiting.serverRssMb, 0)} MB (peak ${f(results.waiting.serverPeakRssMb, 0)} MB; ${f(results.waiting.serverRssBeforeMb, 0)} MB before) | < 300 MB |`,
      '',
    ].join('\n'),
  );
}

main().then(
  // The SDK's native runtime keeps the event loop alive after the work is done.
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench:temporal failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
