import type { Command } from 'commander';
import { startThroughcare } from '../../runtime';
import { commandContext, runUntilSignal } from '../context';

export function registerUp(program: Command): void {
  program
    .command('up')
    .description(
      'Run the whole product in one process: the embedded defaults that are not configured away (PostgreSQL, the Temporal-compatible server, the Spine sandbox), the worker and the HTTP server. Ctrl-C stops it cleanly.',
    )
    .action(async () => {
      const { config, logger } = commandContext();
      const running = await startThroughcare(config, logger);
      await runUntilSignal(logger, () => running.stop());
      logger.info('stopped');
      logger.flush();
    });
}
