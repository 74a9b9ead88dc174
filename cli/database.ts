/**
 * Which PostgreSQL a one-shot command (migrate, pathway, case, ...) talks to: DATABASE_URL when set; else
 * the embedded one that a running `throughcare up` serves from DATA_DIR; else the embedded one started
 * just for this command and stopped after it.
 */
import path from 'node:path';
import type { Config } from '../config';
import type { Logger } from '../log';
import { openStore, type Store } from '../store';
import { runningEmbeddedPostgresUrl, startEmbeddedPostgres } from '../store/embedded-postgres';
import { CommandFailure } from './context';

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

/** Opens the record store for one command, refusing a database whose schema is behind the code. */
export function withStore<T>(config: Config, logger: Logger, fn: (store: Store) => Promise<T>): Promise<T> {
  return withDatabase(config, logger, async (url) => {
    const store = await openStore(url, logger);
    try {
      const pending = await store.pendingMigrations();
      if (pending.length > 0) {
        throw new CommandFailure(
          `The database has ${pending.length} pending migration(s); run \`throughcare migrate\` first`,
        );
      }
      return await fn(store);
    } finally {
      await store.close();
    }
  });
}
