/**
 * The workflow engine part of `throughcare up`: the Temporal frontend at TEMPORAL_ADDRESS, or the embedded
 * Temporal-compatible server, durable in the same PostgreSQL (its own schema). The embedded server takes
 * Temporal's usual 127.0.0.1:7233 when it is free, so Temporal's own CLI and UI find it as they would a
 * dev server.
 */
import { Connection } from '@temporalio/client';
import type { Config } from '../../config';
import type { Logger } from '../../log';
import { isPortFree } from '../../store/embedded-postgres';
import { startTemporalServer } from '../../temporal-server';
import { registerCaseSearchAttributes } from '../../worker/case-search-attributes';
import type { StartedPart } from '../part';

export interface StartedTemporal extends StartedPart {
  readonly address: string;
}

const DEFAULT_PORT = 7233;

export async function startTemporal(config: Config, databaseUrl: string, logger: Logger): Promise<StartedTemporal> {
  if (config.temporal.address) {
    const connection = await Connection.connect({ address: config.temporal.address, connectTimeout: '10s' });
    const check = async () => {
      await connection.workflowService.getSystemInfo({});
    };
    await check();
    await registerCaseSearchAttributes(connection, config.temporal.namespace);
    return {
      address: config.temporal.address,
      location: config.temporal.address,
      check,
      stop: () => connection.close(),
    };
  }
  const start = (port: number) =>
    startTemporalServer({
      address: `127.0.0.1:${port}`,
      databaseUrl,
      logger: logger.child({ component: 'temporal-server' }),
    });
  const server = await startOnDefaultPort(start, logger);
  const connection = await Connection.connect({ address: server.address });
  await registerCaseSearchAttributes(connection, config.temporal.namespace);
  return {
    address: server.address,
    location: `embedded Temporal-compatible server at ${server.address}`,
    check: async () => {
      await connection.workflowService.getSystemInfo({});
    },
    stop: async () => {
      await connection.close();
      await server.stop();
    },
  };
}

/**
 * Temporal's usual port when it is free, otherwise any free port, said in the log. 7233 can also be taken
 * between the check and the bind (another process starting at the same moment): then too, any port.
 */
async function startOnDefaultPort<T>(start: (port: number) => Promise<T>, logger: Logger): Promise<T> {
  const fallBack = (reason: string) => {
    logger.info(
      `port ${DEFAULT_PORT} ${reason}; the embedded Temporal-compatible server listens on a free port instead`,
    );
    return start(0);
  };
  if (!(await isPortFree(DEFAULT_PORT))) return fallBack('is in use');
  return start(DEFAULT_PORT).catch(() => fallBack('was taken while starting'));
}
