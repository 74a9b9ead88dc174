/**
 * The database part of `throughcare up`: the PostgreSQL named by DATABASE_URL, or an embedded one under
 * DATA_DIR/postgres. Either way it is checked with a real query before anything else starts on it.
 */
import path from 'node:path';
import { Pool } from 'pg';
import { redactUrl, type Config } from '../../config';
import { DependencyUnavailableError } from '../../domain/errors';
import type { Logger } from '../../log';
import { migrateDatabase } from '../../store';
import { startEmbeddedPostgres } from '../../store/embedded-postgres';
import type { StartedPart } from '../part';

export interface StartedDatabase extends StartedPart {
  readonly url: string;
}

export async function startDatabase(config: Config, logger: Logger): Promise<StartedDatabase> {
  const log = logger.child({ component: 'database' });
  const embedded =
    config.databaseUrl === undefined
      ? await startEmbeddedPostgres({ dir: path.join(config.dataDir, 'postgres'), logger: log })
      : undefined;
  const url = config.databaseUrl ?? embedded!.url;
  const pool = new Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 5_000 });
  // An idle client that loses its connection emits 'error'; without a listener that would crash the process.
  pool.on('error', (error) => log.warn({ err: error }, 'database connection lost'));
  const stop = async () => {
    await pool.end();
    await embedded?.stop();
  };
  try {
    await pool.query('SELECT 1');
  } catch (cause) {
    await stop();
    throw new DependencyUnavailableError(`Cannot reach PostgreSQL at ${redactUrl(url)}: ${(cause as Error).message}`, {
      cause,
    });
  }
  try {
    const { applied } = await migrateDatabase(url, log);
    log.info(
      { applied: applied.length },
      applied.length ? `applied ${applied.length} migration(s)` : 'database schema is up to date',
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    location: embedded
      ? `embedded PostgreSQL on 127.0.0.1:${embedded.port} (data in ${path.join(config.dataDir, 'postgres')})`
      : redactUrl(url),
    check: async () => {
      await pool.query('SELECT 1');
    },
    stop,
  };
}
