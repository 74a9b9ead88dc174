import type { Command } from 'commander';
import { startThroughcare, StartInterruptedError } from '../../runtime';
import { aborted, commandContext, shutdownSignal } from '../context';

export function registerUp(program: Command): void {
  program
    .command('up')
    .description(
      'Run the whole product in one process: the embedded defaults that are not configured away (PostgreSQL, the Temporal-compatible server, the Spine sandbox), the worker and the HTTP server. Ctrl-C stops it cleanly.',
    )
    .action(async () => {
      const { config, logger } = commandContext();
      // Listen before starting anything: Ctrl-C while PostgreSQL or the worker is still starting must stop
      // what has started, not leave it running.
      const signal = shutdownSignal(logger);
      try {
        const running = await startThroughcare(config, logger, signal);
        await aborted(signal);
        await running.stop();
      } catch (error) {
        if (!(error instanceof StartInterruptedError)) throw error;
        logger.info('start-up interrupted; everything that had started is stopped');
      }
      logger.info('stopped');
      logger.flush();
    });
}
