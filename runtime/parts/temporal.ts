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
  // 7233 can be taken between the check and the bind (another process starting too): then take any port.
  const server = (await isPortFree(DEFAULT_PORT)) ? await start(DEFAULT_PORT).catch(() => start(0)) : await start(0);
  const connection = await Connection.connect({ address: server.address });
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
