/**
 * worker/: runs the pathway workflows and their activities against a Temporal frontend. The workflow code
 * is bundled from workflows/ (deterministic, sandboxed); activities are the functions built by
 * `createActivities(deps)` in activities/, registered under their persisted names.
 */
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type LogLevel as SdkLogLevel,
  type NativeConnectionOptions,
} from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import type { Logger } from '../log';
import { reportActivityFailures } from './activity-failures';

export interface StartWorkerOptions {
  readonly address: string;
  readonly namespace: string;
  readonly taskQueue: string;
  readonly activities: Record<string, (...args: never[]) => Promise<unknown>>;
  readonly logger: Logger;
  /** Told of every failed activity attempt (the metrics' failure counter). */
  readonly onActivityFailure?: (activityType: string, errorType: string) => void;
}

export interface RunningWorker {
  readonly location: string;
  readonly check: () => Promise<void>;
  stop(): Promise<void>;
}

export const WORKFLOWS_PATH = require.resolve('../workflows');

let runtimeInstalled = false;

/** Sends the SDK's own logs (worker state, workflow `log` calls) into pino. Once per process. */
export function forwardSdkLogs(logger: Logger): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const sdk = logger.child({ component: 'temporal-sdk' });
  const level: SdkLogLevel = logger.isLevelEnabled('debug') ? 'DEBUG' : 'INFO';
  Runtime.install({
    // The process owns its signals: `throughcare up` stops HTTP, then the worker, then what is beneath.
    shutdownSignals: [],
    logger: new DefaultLogger(level, ({ level: entryLevel, message, meta }) => {
      const fields = meta ?? {};
      switch (entryLevel) {
        case 'TRACE':
        case 'DEBUG':
          return sdk.debug(fields, message);
        case 'INFO':
          return sdk.info(fields, message);
        case 'WARN':
          return sdk.warn(fields, message);
        case 'ERROR':
          return sdk.error(fields, message);
      }
    }),
  });
}

/**
 * The worker's connection options. The SDK gzips every request by default, which pays over a network; on the
 * loopback interface, where the embedded server always is, it only spends CPU at both ends.
 */
export function workerConnectionOptions(address: string): NativeConnectionOptions {
  const host = address.slice(0, address.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '::1' || /^127\./.test(host);
  return loopback ? { address, grpcCompression: { codec: 'none' } } : { address };
}

export async function startWorker(options: StartWorkerOptions): Promise<RunningWorker> {
  const log = options.logger.child({ component: 'worker' });
  forwardSdkLogs(options.logger);
  const connection = await NativeConnection.connect(workerConnectionOptions(options.address));
  // A client of its own, to tell cases which of their activities keep failing (worker/activity-failures.ts).
  const clientConnection = await Connection.connect({ address: options.address });
  const client = new Client({ connection: clientConnection, namespace: options.namespace });
  log.info({ taskQueue: options.taskQueue }, 'bundling pathway workflows (takes a few seconds)');
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities: options.activities,
    interceptors: {
      activity: [
        reportActivityFailures({
          client,
          logger: log,
          ...(options.onActivityFailure ? { onFailure: options.onActivityFailure } : {}),
        }),
      ],
    },
  });
  const running = worker.run();
  let failure: unknown;
  running.catch((error: unknown) => {
    failure = error;
    log.error({ err: error }, 'worker stopped with an error');
  });
  return {
    location: `worker polling task queue "${options.taskQueue}" in namespace "${options.namespace}"`,
    check: () => {
      const state = worker.getState();
      if (failure || state !== 'RUNNING') return Promise.reject(new Error(`worker is ${state.toLowerCase()}`));
      return Promise.resolve();
    },
    stop: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
      await connection.close();
      await clientConnection.close();
    },
  };
}
