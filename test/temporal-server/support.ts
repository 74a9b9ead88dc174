/**
 * Shared set-up for the embedded Temporal server's tests: a quiet SDK runtime and a server + worker per file.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { installQuietRuntime } from '../support/sdk-runtime';
import { startTemporalServer, type TemporalServer, type TemporalServerOptions } from '../../temporal-server';
import * as activities from './conformance.activities';

export interface ServerAndWorker {
  server: TemporalServer;
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

export async function startServerAndWorker(
  options: Omit<TemporalServerOptions, 'address'> & { taskQueue?: string; workerOptions?: Partial<WorkerOptions> },
): Promise<ServerAndWorker> {
  // The server's tests provoke activity failures on purpose: only errors are worth printing.
  installQuietRuntime('ERROR');
  const taskQueue = options.taskQueue ?? 'conformance';
  const server = await startTemporalServer({ address: '127.0.0.1:0', ...options });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const newWorker = async (extra: Partial<WorkerOptions> = {}): Promise<{ worker: Worker; stop(): Promise<void> }> => {
    const worker = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowsPath,
      activities,
      ...options.workerOptions,
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
    server,
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
      await server.stop();
    },
  };
  return result;
}
