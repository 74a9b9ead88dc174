/**
 * Schema migrations without the MikroORM CLI: apply pending ones (at every start, safely), list them, and
 * generate a new one from the difference between the entities and an up-to-date database.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MikroORM } from '@mikro-orm/core';
import { type Migrator } from '@mikro-orm/migrations';
import { type PostgreSqlDriver } from '@mikro-orm/postgresql';
import { Client } from 'pg';
import { silentLogger, type Logger } from '../log';
import { PendingMigrationsError, StoreError } from './errors';
import { buildOrmOptions, MIGRATIONS_DIR } from './orm-config';

/** Any constant works; it only has to be the same for every process that migrates this database. */
const MIGRATION_LOCK_KEY = 727_001;

async function withOrm<T>(
  databaseUrl: string,
  logger: Logger,
  fn: (orm: MikroORM<PostgreSqlDriver>) => Promise<T>,
  ignoreSchemas: string[] = [],
) {
  const options = buildOrmOptions(databaseUrl, logger);
  const orm = await MikroORM.init<PostgreSqlDriver>({
    ...options,
    pool: { min: 0, max: 2 },
    schemaGenerator: { ...options.schemaGenerator, ignoreSchema: ignoreSchemas },
  });
  try {
    return await fn(orm);
  } finally {
    await orm.close(true);
  }
}

/**
 * Schemas other than `public` in the database: other parts (the embedded Temporal server) keep their tables
 * there. The entities live in `public`, so a schema diff must not see those, or it would drop them.
 */
async function foreignSchemas(databaseUrl: string): Promise<string[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(
      `select nspname as name from pg_namespace
       where nspname <> 'public' and nspname <> 'information_schema' and nspname not like 'pg\\_%'`,
    );
    return rows.map((r) => r.name);
  } finally {
    await client.end();
  }
}

/**
 * Applies every pending migration in one transaction and returns their names (empty when there were none).
 * Safe to call at every start and from several processes at once: a PostgreSQL advisory lock makes the
 * second caller wait, after which it finds nothing pending.
 */
export async function migrateDatabase(databaseUrl: string, logger: Logger): Promise<{ applied: string[] }> {
  const lock = new Client({ connectionString: databaseUrl });
  // An idle client whose server goes away emits 'error'; unhandled, that would end the process.
  lock.on('error', (error) => logger.warn({ err: error }, 'migration lock connection lost'));
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    return await withOrm(databaseUrl, logger, async (orm) => {
      const migrator = orm.getMigrator<Migrator>();
      migrator.on('migrating', ({ name }) => logger.info({ migration: name }, 'applying migration'));
      const applied = (await migrator.up()).map((m) => m.name);
      if (applied.length > 0) logger.info({ applied }, 'database migrated');
      else logger.debug('database schema is up to date');
      return { applied };
    });
  } finally {
    // Closing the session releases the advisory lock even if the unlock below never runs.
    await lock.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.end();
  }
}

/** Names of the migrations not yet applied to the database, in the order they would run. */
export async function pendingMigrations(databaseUrl: string, logger: Logger = silentLogger): Promise<string[]> {
  return withOrm(databaseUrl, logger, async (orm) =>
    (await orm.getMigrator<Migrator>().getPendingMigrations()).map((m) => m.name),
  );
}

/**
 * SQL the entities need that the database does not have yet. Empty when entities and migrations agree:
 * a test asserts that, so an entity change without its migration fails the build.
 */
export async function schemaDifferences(databaseUrl: string, logger: Logger = silentLogger): Promise<string[]> {
  return withOrm(
    databaseUrl,
    logger,
    async (orm) => {
      const { up } = await orm.getSchemaGenerator().getUpdateSchemaMigrationSQL({ wrap: false, dropTables: false });
      return up
        .split(/;\n/)
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
    },
    await foreignSchemas(databaseUrl),
  );
}

export interface CreatedMigration {
  /** Migration name as recorded in the database, e.g. `20261122021500-add-referrals`. */
  name: string;
  /** Absolute path of the new file. */
  file: string;
  className: string;
  statements: string[];
}

export interface CreateMigrationOptions {
  logger?: Logger;
  /** Folder to write to and whose `index.ts` lists the migrations; store/migrations/ unless a test says otherwise. */
  dir?: string;
}

/**
 * Writes a TypeScript migration for the difference between the entities and the database at `databaseUrl`
 * (which must have every existing migration applied), and registers it in the folder's `index.ts`.
 * Returns undefined when there is nothing to migrate. `name` is kebab-case: `add-referrals`.
 */
export async function createMigration(
  databaseUrl: string,
  name: string,
  options: CreateMigrationOptions = {},
): Promise<CreatedMigration | undefined> {
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(name)) {
    throw new StoreError(
      `Migration name must be kebab-case, like add-referrals: ${name}`,
      'INVALID_MIGRATION_NAME',
      false,
    );
  }
  const logger = options.logger ?? silentLogger;
  const dir = options.dir ?? MIGRATIONS_DIR;
  const ignoreSchemas = await foreignSchemas(databaseUrl);
  return withOrm(
    databaseUrl,
    logger,
    async (orm) => {
      const migrator = orm.getMigrator<Migrator>();
      const pending = (await migrator.getPendingMigrations()).map((m) => m.name);
      // A diff against a database that lacks earlier migrations would repeat them in the new one.
      if (pending.length > 0) throw new PendingMigrationsError(pending);
      const result = await migrator.createMigration(dir, false, false, name.replace(/-/g, '_'));
      if (!result.fileName) return undefined;
      const module = result.fileName.replace(/\.ts$/, '');
      const migrationName = module.replace(/\.migration$/, '');
      const timestamp = migrationName.slice(0, 14);
      const className = `Migration${timestamp}_${name.replace(/-/g, '_')}`;
      await registerMigration(dir, module, migrationName, className);
      const file = path.join(dir, result.fileName);
      logger.info({ migration: migrationName, file }, 'migration created');
      return { name: migrationName, file, className, statements: result.diff.up.filter((s) => s.length > 0) };
    },
    ignoreSchemas,
  );
}

async function registerMigration(dir: string, module: string, migrationName: string, className: string) {
  const indexFile = path.join(dir, 'index.ts');
  const source = await readFile(indexFile, 'utf8');
  const importLine = `import { ${className} } from './${module}';`;
  const entryLine = `  { name: '${migrationName}', class: ${className} },`;
  const updated = source
    .replace('// </migration-imports>', `${importLine}\n// </migration-imports>`)
    .replace('  // </migration-list>', `${entryLine}\n  // </migration-list>`);
  if (updated === source)
    throw new StoreError(`Cannot find the migration markers in ${indexFile}`, 'MIGRATION_INDEX_BROKEN', false);
  await writeFile(indexFile, updated);
}
