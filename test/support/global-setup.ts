/**
 * One PostgreSQL for the whole test run: the one named by DATABASE_URL when set, otherwise an embedded,
 * throw-away cluster. Test files get their own database from it (see database.ts), so no test depends
 * on another's leftovers. The admin URL reaches the test workers through the environment.
 */
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import { startEmbeddedPostgres, type RunningPostgres } from '../../store/embedded-postgres';
import { createLogger } from '../../log';

declare global {
  var __throughcareTestPostgres: { running?: RunningPostgres; dir?: string } | undefined;
}

export default async function globalSetup(): Promise<void> {
  if (process.env.DATABASE_URL) {
    process.env.THROUGHCARE_TEST_ADMIN_URL = process.env.DATABASE_URL;
    return;
  }
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'throughcare-test-pg-'));
  await fs.chmod(dir, 0o755);
  const logger = createLogger({ level: (process.env.LOG_LEVEL as 'warn') ?? 'warn', pretty: false });
  const running = await startEmbeddedPostgres({ dir, logger, ephemeral: true, database: 'postgres' });
  globalThis.__throughcareTestPostgres = { running, dir };
  process.env.THROUGHCARE_TEST_ADMIN_URL = running.adminUrl;
}
