import type { Command } from 'commander';
import { createMigration, migrateDatabase, pendingMigrations } from '../../store';
import { withDatabase } from '../database';
import { commandContext, print } from '../context';

interface Options {
  status?: boolean;
  create?: string;
  json?: boolean;
}

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description(
      'Apply pending database migrations (npm start does this too). Uses DATABASE_URL, else the embedded PostgreSQL under DATA_DIR (the running one if `throughcare up` is running).',
    )
    .option('--status', 'list pending migrations without applying them')
    .option(
      '--create <name>',
      'write a new migration (kebab-case name) from the difference between the entities and the database',
    )
    .option('--json', 'print JSON')
    .action(async (options: Options) => {
      const { config, logger } = commandContext();
      type Outcome =
        | { kind: 'status'; pending: string[] }
        | { kind: 'created'; file: string | null }
        | { kind: 'applied'; applied: string[] };
      const outcome = await withDatabase(config, logger, async (url): Promise<Outcome> => {
        if (options.status) return { kind: 'status', pending: await pendingMigrations(url, logger) };
        if (options.create) {
          await migrateDatabase(url, logger);
          const created = await createMigration(url, options.create, { logger });
          return { kind: 'created', file: created?.file ?? null };
        }
        return { kind: 'applied', ...(await migrateDatabase(url, logger)) };
      });
      if (options.json) return print(JSON.stringify(outcome, null, 2));
      const list = (names: string[]) => names.map((m) => `  ${m}`).join('\n');
      switch (outcome.kind) {
        case 'status':
          return print(
            outcome.pending.length ? `Pending migrations:\n${list(outcome.pending)}` : 'No pending migrations.',
          );
        case 'created':
          return print(
            outcome.file ? `Created ${outcome.file}` : 'The entities match the database; no migration needed.',
          );
        case 'applied':
          return print(
            outcome.applied.length
              ? `Applied ${outcome.applied.length} migration(s):\n${list(outcome.applied)}`
              : 'Database is up to date.',
          );
      }
    });
}
