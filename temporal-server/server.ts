/**
 * Composition root of the embedded Temporal server: PostgreSQL pool and schema, clock, services, gRPC binding.
 */
/* eslint-disable @typescript-eslint/no-unsafe-argument -- protobuf messages and pg rows are dynamically shaped (Msg); fields are checked where they are read */
import { Server } from '@grpc/grpc-js';
import { Pool } from 'pg';
import type { Logger } from 'pino';
import { silentLogger } from '../log';
import { SkippingClock, WallClock } from './clock';
import { addProtoService, bindServer, type Handler } from './grpc';
import { ensureSchema } from './schema';
import { WorkflowService } from './workflow-service';
import { LISTED_SYSTEM_SEARCH_ATTRIBUTES } from './visibility';
import { createVisibility } from './visibility-wiring';

export interface TemporalServerOptions {
  /** host:port; default 127.0.0.1:7233; port 0 picks a free port. */
  address?: string;
  databaseUrl: string;
  /** PostgreSQL schema for the server's tables; default `temporal`. */
  schema?: string;
  /** Serve TestService with a virtual clock that skips to the next timer when nothing is in flight. */
  timeSkipping?: boolean;
  /** With time skipping: the virtual clock's time at start (default now); it may be in the past. */
  timeSkippingStartsAt?: Date;
  logger?: Logger;
  /** Connections in the server's pool; default 20. */
  poolSize?: number;
  /**
   * Custom search attributes to register in the `default` namespace at start (as the Temporal CLI's dev server takes
   * `--search-attribute`), by name and IndexedValueType; ones already registered with the same type are kept.
   */
  searchAttributes?: Readonly<Record<string, number>>;
}

export interface TemporalServer {
  /** The bound address, host:port, for Connection.connect / NativeConnection.connect. */
  readonly address: string;
  /**
   * With time skipping: sets the virtual clock to `at`, back as well as forward, once no workflow is running
   * (refused otherwise). For work that shares nothing with what ran before, such as the next pathway simulation.
   */
  restartClock(at: Date): Promise<void>;
  stop(): Promise<void>;
}

export async function startTemporalServer(options: TemporalServerOptions): Promise<TemporalServer> {
  const logger = (options.logger ?? silentLogger).child({ component: 'temporal-server' });
  const schema = options.schema ?? 'temporal';
  // The engine's statements are all prepared from a fixed set of texts (see `prepared` in store.ts) and each is a
  // keyed lookup or write. A generic plan serves them all: re-planning per call cost PostgreSQL more CPU than
  // running them. But a generic plan is made once per connection, often while the tables are still empty, when
  // a sequential scan or hash join looks cheapest, and it would then be kept as the tables grow; so the engine's
  // sessions plan with indexes and nested loops only. Visibility's queries are written by operators, so they keep
  // PostgreSQL's usual planning on a pool of their own.
  const pool = new Pool({
    connectionString: options.databaseUrl,
    max: options.poolSize ?? 20,
    options: ['plan_cache_mode=force_generic_plan', 'enable_seqscan=off', 'enable_hashjoin=off', 'enable_mergejoin=off']
      .map((setting) => `-c ${setting}`)
      .join(' '),
  });
  const visibilityPool = new Pool({ connectionString: options.databaseUrl, max: 4 });
  for (const p of [pool, visibilityPool])
    p.on('error', (err) => logger.warn({ err }, 'idle PostgreSQL connection failed'));
  const closePools = () => Promise.all([pool.end(), visibilityPool.end()]);
  const clock = options.timeSkipping ? new SkippingClock(options.timeSkippingStartsAt?.getTime()) : new WallClock();
  let visibility;
  try {
    await ensureSchema(pool, schema);
    visibility = await createVisibility(visibilityPool, schema, () => clock.now());
    if (options.searchAttributes && Object.keys(options.searchAttributes).length > 0) {
      await visibility.addSearchAttributes('default', { ...options.searchAttributes });
    }
  } catch (err) {
    await closePools();
    throw err;
  }
  const service = new WorkflowService(pool, schema, clock, logger, visibility);

  const s = service;
  const workflowHandlers: Record<string, Handler> = {
    getSystemInfo: () => s.getSystemInfo(),
    describeNamespace: (r) => s.describeNamespace(r),
    listNamespaces: () => ({ namespaces: [s.describeNamespace({ namespace: 'default' })] }),
    startWorkflowExecution: (r) => s.startWorkflowExecution(r),
    signalWithStartWorkflowExecution: (r) => s.signalWithStartWorkflowExecution(r),
    signalWorkflowExecution: (r) => s.signalWorkflowExecution(r),
    requestCancelWorkflowExecution: (r) => s.requestCancelWorkflowExecution(r),
    terminateWorkflowExecution: (r) => s.terminateWorkflowExecution(r),
    getWorkflowExecutionHistory: (r, c) => s.getWorkflowExecutionHistory(r, c),
    pollWorkflowTaskQueue: (r, c) => s.pollWorkflowTaskQueue(r, c),
    respondWorkflowTaskCompleted: (r) => s.respondWorkflowTaskCompleted(r),
    respondWorkflowTaskFailed: (r) => s.respondWorkflowTaskFailed(r),
    pollActivityTaskQueue: (r, c) => s.pollActivityTaskQueue(r, c),
    recordActivityTaskHeartbeat: (r) => s.recordActivityTaskHeartbeat(r),
    recordActivityTaskHeartbeatById: (r) => s.recordActivityTaskHeartbeat(r, true),
    respondActivityTaskCompleted: (r) => s.respondActivityTaskCompleted(r),
    respondActivityTaskCompletedById: (r) => s.respondActivityTaskCompleted(r, true),
    respondActivityTaskFailed: (r) => s.respondActivityTaskFailed(r),
    respondActivityTaskFailedById: (r) => s.respondActivityTaskFailed(r, true),
    respondActivityTaskCanceled: (r) => s.respondActivityTaskCanceled(r),
    respondActivityTaskCanceledById: (r) => s.respondActivityTaskCanceled(r, true),
    queryWorkflow: (r, c) => s.queryWorkflow(r, c),
    respondQueryTaskCompleted: (r) => s.respondQueryTaskCompleted(r),
    updateWorkflowExecution: (r, c) => s.updateWorkflowExecution(r, c),
    pollWorkflowExecutionUpdate: (r, c) => s.pollWorkflowExecutionUpdate(r, c),
    executeMultiOperation: (r, c) => s.executeMultiOperation(r, c),
    describeWorkflowExecution: (r) => s.describeWorkflowExecution(r),
    shutdownWorker: (r) => s.shutdownWorker(r),
    resetStickyTaskQueue: (r) => s.resetStickyTaskQueue(r),
    resetWorkflowExecution: (r) => s.resetWorkflowExecution(r),
    resetActivity: (r) => s.resetActivity(r),
    listWorkflowExecutions: (r) => s.listWorkflowExecutions(r),
    countWorkflowExecutions: (r) => s.countWorkflowExecutions(r),
  };
  const operatorHandlers: Record<string, Handler> = {
    addSearchAttributes: async (r) => {
      const attrs = Object.fromEntries(Object.entries((r.searchAttributes ?? {}) as Record<string, number>));
      await s.visibility.addSearchAttributes(r.namespace || 'default', attrs);
      return {};
    },
    removeSearchAttributes: async (r) => {
      await s.visibility.removeSearchAttributes(r.namespace || 'default', (r.searchAttributes ?? []) as string[]);
      return {};
    },
    listSearchAttributes: async (r) => {
      return {
        customAttributes: await s.visibility.listSearchAttributes(r.namespace || 'default'),
        systemAttributes: LISTED_SYSTEM_SEARCH_ATTRIBUTES,
        storageSchema: {},
      };
    },
  };
  const testHandlers: Record<string, Handler> = options.timeSkipping
    ? {
        lockTimeSkipping: () => s.lockTimeSkipping(),
        unlockTimeSkipping: () => s.unlockTimeSkipping(),
        sleep: (r) => s.sleep(r),
        sleepUntil: (r) => s.sleepUntil(r),
        unlockTimeSkippingWithSleep: (r) => s.unlockTimeSkippingWithSleep(r),
        getCurrentTime: () => s.getCurrentTime(),
      }
    : {};

  const server = new Server({ 'grpc.max_receive_message_length': 128 * 1024 * 1024 });
  addProtoService(server, 'temporal.api.workflowservice.v1.WorkflowService', workflowHandlers, logger);
  addProtoService(server, 'temporal.api.operatorservice.v1.OperatorService', operatorHandlers, logger);
  addProtoService(server, 'temporal.api.testservice.v1.TestService', testHandlers, logger);
  addProtoService(server, 'grpc.health.v1.Health', { check: () => ({ status: 1 }) }, logger);

  // Recover first (claim the schema, reload the task queues, re-arm in-flight timeouts), then serve: a worker's
  // retried completion must not land before the timeouts it raced are back.
  let address: string;
  try {
    await service.start();
    address = await bindServer(server, options.address ?? '127.0.0.1:7233');
  } catch (err) {
    await service.stop();
    await closePools();
    throw err;
  }
  logger.info({ address, schema, timeSkipping: !!options.timeSkipping }, 'temporal server listening');

  let stopped: Promise<void> | undefined;
  return {
    address,
    restartClock: (at) => service.restartClock(at.getTime()),
    stop: () => {
      stopped ??= (async () => {
        await service.stop();
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            server.forceShutdown();
            resolve();
          }, 2000);
          server.tryShutdown(() => {
            clearTimeout(t);
            resolve();
          });
        });
        await closePools();
      })();
      return stopped;
    },
  };
}
