/**
 * Migrations against a real PostgreSQL: applied once however often the start-up runs them, in agreement
 * with the entities, and new ones generated from the difference between entities and database.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { silentLogger } from '../../log';
import {
  createMigration,
  migrateDatabase,
  openStore,
  pendingMigrations,
  PendingMigrationsError,
  schemaDifferences,
} from '../../store';
import { MIGRATIONS } from '../../store/migrations';
import { useFreshDatabase } from '../support/database';

const db = useFreshDatabase('migrate');
const allMigrations = MIGRATIONS.map((m) => ('name' in m ? m.name : ''));

async function appliedRows(url: string): Promise<string[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>('select name from mikro_orm_migrations order by id');
    return rows.map((r) => r.name);
  } finally {
    await client.end();
  }
}

describe('migrateDatabase', () => {
  it('lists every migration as pending on a fresh database', async () => {
    expect(await pendingMigrations(db.url)).toEqual(allMigrations);
  });

  it('applies each migration once when run twice, even concurrently', async () => {
    const [first, second] = await Promise.all([
      migrateDatabase(db.url, silentLogger),
      migrateDatabase(db.url, silentLogger),
    ]);
    expect([...first.applied, ...second.applied]).toEqual(allMigrations);

    const third = await migrateDatabase(db.url, silentLogger);

    expect(third.applied).toEqual([]);
    expect(await appliedRows(db.url)).toEqual(allMigrations);
    expect(await pendingMigrations(db.url)).toEqual([]);
  });

  it('leaves no difference between the entities and the migrated schema', async () => {
    expect(await schemaDifferences(db.url)).toEqual([]);
  });

  it('never proposes to drop tables other parts keep in the same database', async () => {
    // given the embedded Temporal server's tables in their own schema, and a stray table in public
    const client = new Client({ connectionString: db.url });
    await client.connect();
    await client.query('create schema temporal_like; create table temporal_like.executions (id text primary key)');
    await client.query('create table someone_elses (id int primary key)');
    await client.end();

    expect(await schemaDifferences(db.url)).toEqual([]);
  });
});

describe('openStore', () => {
  it('reports healthy while connected and unhealthy after close', async () => {
    const store = await openStore(db.url);
    expect(await store.isHealthy()).toBe(true);
    await store.close();
    expect(await store.isHealthy()).toBe(false);
  });
});

describe('createMigration', () => {
  const other = useFreshDatabase('create_migration');
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'throughcare-migrations-'));
    const index = await readFile(path.join(__dirname, '../../store/migrations/index.ts'), 'utf8');
    await writeFile(path.join(dir, 'index.ts'), index);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses to diff against a database with pending migrations', async () => {
    await expect(createMigration(other.url, 'too-early', { dir })).rejects.toBeInstanceOf(PendingMigrationsError);
  });

  it('writes nothing when the entities and the database agree', async () => {
    await migrateDatabase(other.url, silentLogger);
    expect(await createMigration(other.url, 'nothing', { dir })).toBeUndefined();
  });

  it('writes and registers a migration for what the database lacks', async () => {
    // given a database that lost a column the Setting entity declares
    const client = new Client({ connectionString: other.url });
    await client.connect();
    await client.query('alter table settings drop column name');
    await client.end();

    // when
    const created = await createMigration(other.url, 'restore-setting-name', { dir });

    // then
    expect(created?.name).toMatch(/^\d{14}-restore-setting-name$/);
    expect(created?.statements).toEqual([expect.stringContaining('add column "name" varchar(255) not null')]);
    const source = await readFile(created!.file, 'utf8');
    expect(source).toContain(`export class ${created!.className} extends Migration`);
    const index = await readFile(path.join(dir, 'index.ts'), 'utf8');
    expect(index).toContain(`import { ${created!.className} } from './${created!.name}.migration';`);
    expect(index).toContain(`{ name: '${created!.name}', class: ${created!.className} },`);
  });

  it('rejects a name that is not kebab-case', async () => {
    await expect(createMigration(other.url, 'Bad Name', { dir })).rejects.toMatchObject({
      code: 'INVALID_MIGRATION_NAME',
    });
  });
});
