/**
 * Shared set-up for the embedded Temporal server's tests: a quiet SDK runtime and a server + worker per file.
 * The server runs either in the test's process or, as users run it, as `bin/throughcare.js temporal-server` in a
 * child process: jest compiles `import()` to `require`, so only the child process catches what breaks under tsx.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { runCli, type CliProcess } from '../support/cli-process';
import { installQuietRuntime } from '../support/sdk-runtime';
import {
  createTestWorkflowEnvironment,
  startTemporalServer,
  type EmbeddedTestWorkflowEnvironment,
  type TemporalServer,
  type TemporalServerOptions,
} from '../../temporal-server';
import * as activities from './conformance.activities';

/** The one line `throughcare temporal-server` prints on stdout once it accepts calls. */
const LISTENING = /Temporal-compatible server listening on (\S+)/;
const STOP_GRACE_MS = 15_000;

export interface ServerProcessOptions {
  databaseUrl: string;
  /** host:port; default 127.0.0.1:0 (a free port). */
  address?: string;
  timeSkipping?: boolean;
}

/** `bin/throughcare.js temporal-server` running as a child process. */
export interface ServerProcess {
  /** Where it listens, from the line it prints. */
  readonly address: string;
  readonly cli: CliProcess;
  /** kill -9, then waits for the exit: nothing is stopped cleanly. */
  kill(): Promise<void>;
  /** SIGTERM (what Ctrl-C or a service manager sends), then waits for the exit; fails unless it stops cleanly. */
  stop(): Promise<void>;
}

function hasExited(cli: CliProcess): boolean {
  return cli.child.exitCode !== null || cli.child.signalCode !== null;
}

/** Sends `signal` and waits for the exit; after STOP_GRACE_MS kills it and fails, so no process outlives a test. */
async function signalAndWait(cli: CliProcess, signal: NodeJS.Signals): Promise<number | string> {
  if (hasExited(cli)) return cli.exited();
  cli.child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const status = await Promise.race([
    cli.exited(),
    new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), STOP_GRACE_MS))),
  ]);
  clearTimeout(timer);
  if (status !== undefined) return status;
  cli.child.kill('SIGKILL');
  await cli.exited();
  throw new Error(`the server did not exit within ${STOP_GRACE_MS} ms of ${signal}:\n${cli.output()}`);
}

/** Starts `bin/throughcare.js temporal-server` as a child process and waits until it listens. */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const args = [
    'temporal-server',
    '--address',
    options.address ?? '127.0.0.1:0',
    '--database-url',
    options.databaseUrl,
  ];
  if (options.timeSkipping) args.push('--time-skipping');
  // Warnings and errors only: the output is kept in memory for the failure messages.
  const cli = runCli(args, { LOG_LEVEL: 'warn' });
  let address: string;
  try {
    address = (await cli.waitFor(LISTENING))[1]!;
  } catch (err) {
    await signalAndWait(cli, 'SIGKILL');
    throw err;
  }
  return {
    address,
    cli,
    kill: async () => {
      await signalAndWait(cli, 'SIGKILL');
    },
    stop: async () => {
      const status = await signalAndWait(cli, 'SIGTERM');
      if (status !== 0) throw new Error(`the server exited with ${status} after SIGTERM:\n${cli.output()}`);
    },
  };
}

/**
 * The time-skipping test environment on `bin/throughcare.js temporal-server --time-skipping` in a child
 * process; teardown closes the connections, then stops the process.
 */
export async function startTestWorkflowEnvironmentProcess(
  databaseUrl: string,
): Promise<EmbeddedTestWorkflowEnvironment> {
  const server = await startServerProcess({ databaseUrl, timeSkipping: true });
  let env: EmbeddedTestWorkflowEnvironment;
  try {
    env = await createTestWorkflowEnvironment({ address: server.address });
  } catch (err) {
    await server.stop();
    throw err;
  }
  return {
    ...env,
    teardown: async () => {
      await env.teardown();
      await server.stop();
    },
  };
}

export type ServerAndWorkerOptions = { taskQueue?: string; workerOptions?: Partial<WorkerOptions> } & (
  | ({ childProcess?: false } & Omit<TemporalServerOptions, 'address'>)
  /** The server as users run it: `bin/throughcare.js temporal-server` in a child process. */
  | ({ childProcess: true } & Omit<ServerProcessOptions, 'address'>)
);

export interface ServerAndWorker {
  /** Where the server listens. */
  address: string;
  /** The server object, when it runs in the test's process. */
  server?: TemporalServer;
  /** The child process, when it runs as `bin/throughcare.js temporal-server`. */
  serverProcess?: ServerProcess;
  connection: Connection;
  nativeConnection: NativeConnection;
  client: Client;
  worker: Worker;
  taskQueue: string;
  newWorker(options?: Partial<WorkerOptions>): Promise<{ worker: Worker; stop(): Promise<void> }>;
  /** Shuts the main worker down (it sends ShutdownWorker for its sticky queue) and starts a fresh one. */
  restartWorker(): Promise<void>;
  stop(): Promise<void>;
}

export const workflowsPath = require.resolve('./workflows/conformance.workflows');

interface RunningServer {
  address: string;
  server?: TemporalServer;
  serverProcess?: ServerProcess;
  stop(): Promise<void>;
}

async function startServer(options: ServerAndWorkerOptions): Promise<RunningServer> {
  if (options.childProcess) {
    const serverProcess = await startServerProcess({
      databaseUrl: options.databaseUrl,
      timeSkipping: options.timeSkipping,
    });
    return { address: serverProcess.address, serverProcess, stop: () => serverProcess.stop() };
  }
  const { taskQueue: _q, workerOptions: _w, childProcess: _c, ...serverOptions } = options;
  const server = await startTemporalServer({ address: '127.0.0.1:0', ...serverOptions });
  return { address: server.address, server, stop: () => server.stop() };
}

export async function startServerAndWorker(options: ServerAndWorkerOptions): Promise<ServerAndWorker> {
  // The server's tests provoke activity failures on purpose: only errors are worth printing.
  installQuietRuntime('ERROR');
  const started = await startServer(options);
  try {
    return await connectWorker(started, options.taskQueue ?? 'conformance', options.workerOptions);
  } catch (err) {
    await started.stop();
    throw err;
  }
}

async function connectWorker(
  started: RunningServer,
  taskQueue: string,
  workerOptions: Partial<WorkerOptions> | undefined,
): Promise<ServerAndWorker> {
  const { address } = started;
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const nativeConnection = await NativeConnection.connect({ address });
  const newWorker = async (extra: Partial<WorkerOptions> = {}): Promise<{ worker: Worker; stop(): Promise<void> }> => {
    const worker = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowsPath,
      activities,
      ...workerOptions,
      ...extra,
    });
    const running = worker.run();
    return {
      worker,
      stop: async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running;
      },
    };
  };
  let main = await newWorker();
  const result: ServerAndWorker = {
    address,
    server: started.server,
    serverProcess: started.serverProcess,
    connection,
    nativeConnection,
    client,
    worker: main.worker,
    taskQueue,
    newWorker,
    restartWorker: async () => {
      await main.stop();
      main = await newWorker();
      result.worker = main.worker;
    },
    stop: async () => {
      await main.stop();
      await nativeConnection.close();
      await connection.close();
      await started.stop();
    },
  };
  return result;
}
