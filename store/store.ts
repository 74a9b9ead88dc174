/**
 * The running record store: one MikroORM instance per process, and an EntityManager per request or
 * activity (`fork()`), so that no identity map is shared between units of work.
 */
import { MikroORM } from '@mikro-orm/core';
import { type Migrator } from '@mikro-orm/migrations';
import { type EntityManager, type PostgreSqlDriver } from '@mikro-orm/postgresql';
import { silentLogger, type Logger } from '../log';
import { buildOrmOptions } from './orm-config';

export type StoreEntityManager = EntityManager;

export interface Store {
  readonly orm: MikroORM<PostgreSqlDriver>;
  /** A fresh EntityManager for one unit of work (a request, an activity execution). */
  fork(): StoreEntityManager;
  /** True when the database answers a query now. */
  isHealthy(): Promise<boolean>;
  /** Names of the migrations this database still lacks (empty when its schema matches the code). */
  pendingMigrations(): Promise<string[]>;
  close(): Promise<void>;
}

/** Connects to the database. Does not migrate: call `migrateDatabase` first (the CLI does at start). */
export async function openStore(databaseUrl: string, logger: Logger = silentLogger): Promise<Store> {
  const orm = await MikroORM.init<PostgreSqlDriver>(buildOrmOptions(databaseUrl, logger));
  return {
    orm,
    fork: () => orm.em.fork(),
    isHealthy: async () => {
      try {
        await orm.em.getConnection().execute('select 1');
        return true;
      } catch (error) {
        logger.warn({ err: error }, 'database health check failed');
        return false;
      }
    },
    pendingMigrations: async () => (await orm.getMigrator<Migrator>().getPendingMigrations()).map((m) => m.name),
    close: () => orm.close(true),
  };
}
