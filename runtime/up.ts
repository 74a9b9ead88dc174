/**
 * `throughcare up`: the whole product in one process. The HTTP server starts first so that `/health`
 * answers and `/ready` shows progress while the rest starts; then each embedded default that is not
 * configured away, in dependency order. Shutdown runs the other way: stop taking requests, then stop each
 * part in reverse, so nothing is cut off while something above it still uses it.
 */
import type http from 'node:http';
import { Client, Connection } from '@temporalio/client';
import type { AddressInfo } from 'node:net';
import { createApp, type ApiDependencies } from '../api';
import { createHttpServer } from '../api/http-server';
import type { Config } from '../config';
import { formRegistryOf, type CaseEngine } from '../engine';
import { resumeBulkOperations } from '../engine/ops-bulk';
import type { Logger } from '../log';
import { createMetrics, type MetricsSources } from '../metrics';
import { startDatabase } from './parts/database';
import { hasIdentityProvider, startIdentity } from './parts/identity';
import { startSpine } from './parts/spine';
import { createConfiguredSpineClient } from './parts/spine-client';
import { startTemporal } from './parts/temporal';
import { startWorkerPart } from './parts/worker';
import { deployShippedPathways, ensureDemoSettings } from './default-content';
import { removeRuntimeInfo, writeRuntimeInfo } from './discovery';
import { PATHWAYS } from '../pathways';
import { createSimulator, siblingDatabaseUrl } from '../simulation';
import { openStore } from '../store';
import type { StartedPart } from './part';
import { Readiness } from './readiness';

export interface RunningThroughcare {
  readonly url: string;
  readonly readiness: Readiness;
  stop(): Promise<void>;
}

/** Start-up was stopped by a shutdown signal; the parts that had started have been stopped again. */
export class StartInterruptedError extends Error {
  override readonly name = 'StartInterruptedError';
}

export async function startThroughcare(
  config: Config,
  logger: Logger,
  signal?: AbortSignal,
): Promise<RunningThroughcare> {
  const readiness = new Readiness();
  readiness.declare('database', config.databaseUrl === undefined);
  readiness.declare('spine', config.spine.baseUrl === undefined);
  readiness.declare('temporal', config.temporal.address === undefined);
  readiness.declare('worker', true);
  readiness.declare('pathways', true);
  if (hasIdentityProvider(config)) readiness.declare('identity', config.oidc.issuerUrl === undefined);

  // /api/v1 answers 503 until the database and the identity provider are there.
  let api: ApiDependencies | undefined;
  // /metrics reads each source once it has started; the embedded engine's tables are in the same database.
  let metricsSources: MetricsSources = {};
  const metrics = createMetrics({
    sources: () => metricsSources,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    embeddedTemporalSchema: config.temporal.address === undefined ? 'temporal' : undefined,
    token: config.metrics.token,
    logger: logger.child({ component: 'metrics' }),
  });
  const server = await listen(createApp({ readiness, logger, api: () => api, metrics }), config.host, config.port);
  const { port } = server.address() as AddressInfo;
  const url = localUrl(config.host, port);
  logger.info({ url }, `HTTP server listening on ${url} (readiness at ${url}/ready)`);

  // Everything to stop on shutdown, in start order; `reported` parts are the ones /ready shows.
  const started: { name: string; part: StartedPart; reported: boolean }[] = [];
  const startPart = async <T extends StartedPart>(name: string, start: () => Promise<T>): Promise<T> => {
    if (signal?.aborted) throw new StartInterruptedError(`start-up interrupted before ${name}`);
    try {
      const part = await start();
      started.push({ name, part, reported: true });
      readiness.markUp(name, part.location, part.check);
      logger.info({ part: name, location: part.location }, `${name}: ${part.location}`);
      return part;
    } catch (error) {
      readiness.markDown(name, (error as Error).message);
      throw error;
    }
  };

  const stop = async () => {
    await closeServer(server);
    await removeRuntimeInfo(config.dataDir);
    for (const { name, part, reported } of started.reverse()) {
      try {
        await part.stop();
        if (reported) readiness.markStopped(name);
      } catch (error) {
        logger.error({ err: error, part: name }, 'failed to stop cleanly');
      }
    }
  };

  try {
    const database = await startPart('database', () => startDatabase(config, logger));
    const store = await openStore(database.url, logger);
    started.push({
      name: 'record store',
      part: { location: 'record store', stop: () => store.close() },
      reported: false,
    });
    metricsSources = { store };
    const undeployed = await deployShippedPathways(store, logger);
    if (undeployed.length === 0) readiness.markUp('pathways', `${PATHWAYS.length} shipped pathways deployed`);
    else
      readiness.markDown(
        'pathways',
        undeployed.map(({ pathwayId, reason }) => `${pathwayId} not deployed: ${reason}`).join('; '),
      );
    if (config.nodeEnv === 'development') await ensureDemoSettings(store);
    const startIdentityPart = () => startIdentity(config, { store, httpUrl: url, databaseUrl: database.url }, logger);
    api = hasIdentityProvider(config) ? await startPart('identity', startIdentityPart) : await startIdentityPart();
    const spine = await startPart('spine', () => startSpine(config, logger));
    // The API's PDS search asks the same Spine as the worker.
    const spineClient = await createConfiguredSpineClient(config, spine.baseUrl, logger);
    if (api) api = { ...api, spine: () => spineClient };
    const temporal = await startPart('temporal', () => startTemporal(config, database.url, logger));
    await startPart('worker', () =>
      startWorkerPart(
        config,
        { store, temporalAddress: temporal.address, spineBaseUrl: spine.baseUrl, activityFailures: metrics },
        logger,
      ),
    );
    // The API's case engine (cases, tasks: what the CLI sends): a client of the frontend the worker polls.
    const connection = await Connection.connect({ address: temporal.address });
    started.push({
      name: 'API workflow client',
      part: { location: temporal.address, stop: () => connection.close() },
      reported: false,
    });
    const engine: CaseEngine = {
      store,
      client: new Client({ connection, namespace: config.temporal.namespace }),
      taskQueue: config.temporal.taskQueue,
      logger,
    };
    // Simulations run in a scratch database of their own, set up on the first one (start-up is not slowed).
    const simulator = createSimulator({
      databaseUrl: config.simulationDatabaseUrl ?? siblingDatabaseUrl(database.url),
      ...(config.simulationDatabaseUrl ? {} : { createFrom: database.url }),
      forms: () => formRegistryOf(store).latest(),
      logger,
    });
    started.push({
      name: 'pathway simulator',
      part: { location: 'pathway simulator', stop: () => simulator.close() },
      reported: false,
    });
    if (api) api = { ...api, engine: () => engine, simulator: () => simulator };
    metricsSources = { ...metricsSources, client: engine.client };
    // Bulk operations a stop or crash interrupted go on with their cases still pending.
    await resumeBulkOperations(engine);
    await writeRuntimeInfo(config.dataDir, {
      pid: process.pid,
      httpUrl: url,
      temporalAddress: temporal.address,
      spineBaseUrl: spine.baseUrl,
    });
  } catch (error) {
    await stop();
    throw error;
  }
  const { ready } = await readiness.report();
  if (ready) logger.info({ url }, `Throughcare is ready at ${url}`);
  else logger.error({ url }, `Throughcare started at ${url} but is not ready: ${url}/ready says what is missing`);
  return { url, readiness, stop };
}

/** The address people use for a server bound to `host` (`localhost` for the loopback or every interface). */
export function localUrl(host: string, port: number): string {
  return `http://${host === '127.0.0.1' || host === '0.0.0.0' ? 'localhost' : host}:${port}`;
}

function listen(app: http.RequestListener, host: string, port: number): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    const server = createHttpServer(app);
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`Port ${port} on ${host} is already in use; set PORT to a free port`)
          : error,
      );
    });
    server.listen(port, host, () => resolve(server));
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Idle keep-alive connections would hold close() open; requests in flight still finish.
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 5_000).unref();
  });
}
