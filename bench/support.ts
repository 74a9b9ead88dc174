/**
 * What the benchmarks share: a PostgreSQL, the embedded Temporal-compatible server in its own process (so
 * its CPU and memory are measured apart from the worker's), process CPU and memory readings from /proc,
 * bounded concurrency, percentiles, and a description of the machine the figures came from.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { Client as PgClient } from 'pg';
import { createLogger } from '../log';
import { workerConnectionOptions } from '../worker';
import { startEmbeddedPostgres, type RunningPostgres } from '../store/embedded-postgres';

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

export function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
export async function processCpuSeconds(pid: number): Promise<number> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/**
 * CPU seconds used so far by every PostgreSQL process on this machine (the embedded server's postmaster and
 * backends; exited backends count through the postmaster's reaped-children time). Meaningful when the
 * benchmark's database is the only PostgreSQL running here, which is the case for the embedded default.
 */
export async function postgresCpuSeconds(): Promise<number> {
  let ticks = 0;
  for (const pid of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (!stat.includes('(postgres)')) continue;
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return ticks / CLOCK_TICKS;
}

export async function residentMegabytes(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) =>
    Number(/\s(\d+) kB/.exec(status.split('\n').find((l) => l.startsWith(key)) ?? '')?.[1] ?? NaN);
  return { rss: kb('VmRSS:') / 1024, peak: kb('VmHWM:') / 1024 };
}

export function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Runs `task` for each index with at most `limit` in flight. */
export async function pool(count: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

export interface BenchDatabase {
  readonly url: string;
  readonly postgresVersion: string;
  /** Whether it is the benchmark's own embedded PostgreSQL (whose CPU can then be measured). */
  readonly embedded: boolean;
  stop(): Promise<void>;
}

/** DATABASE_URL when set, otherwise an embedded PostgreSQL with its normal (durable) settings. */
export async function startBenchDatabase(name: string): Promise<BenchDatabase> {
  let embedded: RunningPostgres | undefined;
  let tmp: string | undefined;
  if (!process.env.DATABASE_URL) {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'throughcare-bench-'));
    await fs.chmod(tmp, 0o755);
    embedded = await startEmbeddedPostgres({
      dir: tmp,
      logger: createLogger({ level: 'warn', pretty: false }),
      database: name,
    });
  }
  const url = process.env.DATABASE_URL ?? embedded!.url;
  const pg = new PgClient({ connectionString: url });
  await pg.connect();
  const postgresVersion =
    (await pg.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version ?? '?';
  await pg.end();
  return {
    url,
    postgresVersion,
    embedded: embedded !== undefined,
    stop: async () => {
      await embedded?.stop();
      if (tmp) await fs.rm(tmp, { recursive: true, force: true });
    },
  };
}

export interface ServerProcess {
  readonly address: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** `throughcare temporal-server` in a child process on a free port. */
export async function startServerProcess(databaseUrl: string): Promise<ServerProcess> {
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

export interface BenchEngine {
  readonly database: BenchDatabase;
  readonly server: ServerProcess;
  readonly client: Client;
  readonly worker: Worker;
  /** Stops the server process and the database (the worker stops when its `runUntil` ends). */
  readonly stop: () => Promise<void>;
}

/** A database, the server in its own process, and a client and worker connected to it. */
export async function startBenchEngine(options: {
  databaseName: string;
  taskQueue: string;
  workflowsPath: string;
  activities: WorkerOptions['activities'];
}): Promise<BenchEngine> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const database = await startBenchDatabase(options.databaseName);
  const server = await startServerProcess(database.url);
  // The client shares the worker's connection, as a service that starts its own workflows would: the SDK
  // then sends its calls through sdk-core rather than grpc-js, and can ask for eager start.
  const connection = await NativeConnection.connect(workerConnectionOptions(server.address));
  const client = new Client({ connection });
  const worker = await Worker.create({
    connection,
    taskQueue: options.taskQueue,
    workflowsPath: options.workflowsPath,
    activities: options.activities,
  });
  return {
    database,
    server,
    client,
    worker,
    stop: async () => {
      await server.stop();
      await database.stop();
    },
  };
}

export function describeMachine(postgresVersion: string): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${cpu}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, PostgreSQL ${postgresVersion}, ${new Date().toISOString().slice(0, 10)}`;
}

/** Ends the process once `main` settles: the SDK's native runtime otherwise keeps the event loop alive. */
export function runBenchmark(name: string, main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${name} failed: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
