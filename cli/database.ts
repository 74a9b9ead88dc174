/**
 * Which PostgreSQL a one-shot command (migrate, pathway, case, ...) talks to: DATABASE_URL when set; else
 * the embedded one that a running `throughcare up` serves from DATA_DIR; else the embedded one started
 * just for this command and stopped after it.
 */
import path from 'node:path';
import type { Config } from '../config';
import type { Logger } from '../log';
import { runningEmbeddedPostgresUrl, startEmbeddedPostgres } from '../store/embedded-postgres';

export async function withDatabase<T>(
  config: Config,
  logger: Logger,
  fn: (databaseUrl: string) => Promise<T>,
): Promise<T> {
  if (config.databaseUrl) return fn(config.databaseUrl);
  const dir = path.join(config.dataDir, 'postgres');
  const running = await runningEmbeddedPostgresUrl(dir);
  if (running) return fn(running);
  const embedded = await startEmbeddedPostgres({ dir, logger: logger.child({ component: 'database' }) });
  try {
    return await fn(embedded.url);
  } finally {
    await embedded.stop();
  }
}
