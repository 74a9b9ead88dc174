import path from 'node:path';
import type { Command } from 'commander';
import { startEmbeddedPostgres } from '../../store/embedded-postgres';
import { startTemporalServer } from '../../temporal-server';
import { CASE_SEARCH_ATTRIBUTES } from '../../worker/case-search-attributes';
import { commandContext, print, runUntilSignal } from '../context';

interface Options {
  address: string;
  databaseUrl?: string;
  timeSkipping?: boolean;
}

export function registerTemporalServer(program: Command): void {
  program
    .command('temporal-server')
    .description(
      'Run the embedded Temporal-compatible server on its own (the official SDKs and CLI can connect to it). State is kept in PostgreSQL: --database-url, else DATABASE_URL, else an embedded PostgreSQL under DATA_DIR.',
    )
    .option('--address <host:port>', 'where to listen (port 0 picks a free one)', '127.0.0.1:7233')
    .option('--database-url <url>', 'PostgreSQL that holds the server state (schema "temporal")')
    .option('--time-skipping', 'serve the TestService and let time jump to the next timer when idle (tests only)')
    .action(async (options: Options) => {
      const { config, logger } = commandContext();
      const databaseUrl = options.databaseUrl ?? config.databaseUrl;
      const embedded = databaseUrl
        ? undefined
        : await startEmbeddedPostgres({
            dir: path.join(config.dataDir, 'postgres'),
            logger: logger.child({ component: 'database' }),
          });
      const server = await startTemporalServer({
        address: options.address,
        databaseUrl: databaseUrl ?? embedded!.url,
        timeSkipping: options.timeSkipping === true,
        logger: logger.child({ component: 'temporal-server' }),
        // Throughcare's cases keep these; registered as `throughcare up` registers them.
        searchAttributes: CASE_SEARCH_ATTRIBUTES,
      });
      // One plain line on stdout that scripts (and the benchmark) wait for.
      print(`Temporal-compatible server listening on ${server.address}`);
      await runUntilSignal(logger, async () => {
        await server.stop();
        await embedded?.stop();
      });
    });
}
