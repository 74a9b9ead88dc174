import type { Command } from 'commander';
import { startSpineSandbox } from '../../spine-sandbox';
import { commandContext, print, runUntilSignal } from '../context';

export function registerSpineSandbox(program: Command): void {
  program
    .command('spine-sandbox')
    .description(
      'Run the local NHS Spine sandbox on its own: PDS and SCR FHIR R4 endpoints with the public sandbox test patients (see spine-sandbox/README.md). Prints its base URL.',
    )
    .option('--port <n>', 'port to listen on (0 picks a free one)', '9090')
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .action(async (options: { port: string; host: string }) => {
      const port = Number(options.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new Error(`--port must be an integer from 0 to 65535 (got "${options.port}")`);
      const { logger } = commandContext();
      const sandbox = await startSpineSandbox({
        port,
        host: options.host,
        logger: logger.child({ component: 'spine-sandbox' }),
      });
      print(`Spine sandbox listening on ${sandbox.baseUrl}`);
      await runUntilSignal(logger, () => sandbox.stop());
    });
}
