import type { Command } from 'commander';
import { startThroughcare } from '../../runtime';
import { commandContext } from '../context';

export function registerUp(program: Command): void {
  program
    .command('up')
    .description(
      'Run the whole product in one process: the embedded defaults that are not configured away (PostgreSQL, ...) and the HTTP server. Ctrl-C stops it cleanly.',
    )
    .action(async () => {
      const { config, logger } = commandContext();
      const running = await startThroughcare(config, logger);
      await new Promise<void>((resolve) => {
        let stopping = false;
        const onSignal = (signal: NodeJS.Signals) => {
          if (stopping) {
            logger.warn({ signal }, 'second signal: exiting without waiting for a clean stop');
            process.exit(130);
          }
          stopping = true;
          logger.info({ signal }, 'stopping (press Ctrl-C again to force)');
          running.stop().then(resolve, (error: unknown) => {
            logger.error({ err: error }, 'error while stopping');
            resolve();
          });
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      });
      logger.info('stopped');
      logger.flush();
    });
}
