import { Client } from 'pg';
import { useFreshDatabase } from '../support/database';

describe('test database harness', () => {
  const db = useFreshDatabase();

  it('gives each test file its own empty database on a real PostgreSQL', async () => {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query<{ version: string; tables: string }>(
      "SELECT version(), (SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public') AS tables",
    );
    await client.end();
    expect(rows[0]?.version).toMatch(/^PostgreSQL \d+/);
    expect(Number(rows[0]?.tables)).toBe(0);
  });
});
