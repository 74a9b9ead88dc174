/**
 * A fresh database per test file on the run's shared PostgreSQL (started by global-setup.ts).
 *
 *   const db = useFreshDatabase();            // registers beforeAll / afterAll
 *   it('...', async () => { connect(db.url) });
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

function adminUrl(): string {
  const url = process.env.THROUGHCARE_TEST_ADMIN_URL;
  if (!url)
    throw new Error(
      'THROUGHCARE_TEST_ADMIN_URL is unset: run tests through jest so that global-setup starts PostgreSQL',
    );
  return url;
}

async function withAdmin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(prefix = 'test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await withAdmin((c) => c.query(`CREATE DATABASE ${c.escapeIdentifier(name)}`));
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () =>
      withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(name)} WITH (FORCE)`)).then(
        () => undefined,
      ),
  };
}

/** Creates a database before the file's tests and drops it after them. Read `.url` inside tests or hooks. */
export function useFreshDatabase(prefix?: string): { readonly url: string } {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await createTestDatabase(prefix);
  });
  afterAll(async () => {
    await db?.drop();
  });
  return {
    get url() {
      if (!db) throw new Error('useFreshDatabase().url read before beforeAll ran');
      return db.url;
    },
  };
}
