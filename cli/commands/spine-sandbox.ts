import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { FAULTS_PATH, FaultValidationError, startSpineSandbox, type SandboxFaultEntry } from '../../spine-sandbox';
import { CommandFailure, commandContext, EXIT, print, runUntilSignal } from '../context';

/** The list of faults in FILE (spine-sandbox/README.md), parsed but not yet checked: the sandbox checks it. */
function readFaults(file: string): SandboxFaultEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CommandFailure(`--faults: cannot read ${file}: ${(error as Error).message}`, EXIT.usage);
  }
  try {
    return JSON.parse(text) as SandboxFaultEntry[];
  } catch (error) {
    throw new CommandFailure(`--faults: ${file} is not JSON: ${(error as Error).message}`, EXIT.usage);
  }
}

export function registerSpineSandbox(program: Command): void {
  program
    .command('spine-sandbox')
    .description(
      'Run the local NHS Spine sandbox on its own: PDS and SCR FHIR R4 endpoints with the public sandbox test patients (see spine-sandbox/README.md). Prints its base URL.',
    )
    .option('--port <n>', 'port to listen on (0 picks a free one)', '9090')
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .option(
      '--faults <file>',
      `start with the faults in this JSON file: a list of {"nhsNumber", "kind", ...} (change them later at ${FAULTS_PATH})`,
    )
    .action(async (options: { port: string; host: string; faults?: string }) => {
      const port = Number(options.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new Error(`--port must be an integer from 0 to 65535 (got "${options.port}")`);
      const faults = options.faults === undefined ? undefined : readFaults(options.faults);
      const { logger } = commandContext();
      let sandbox;
      try {
        sandbox = await startSpineSandbox({
          port,
          host: options.host,
          logger: logger.child({ component: 'spine-sandbox' }),
          faults,
        });
      } catch (error) {
        if (error instanceof FaultValidationError)
          throw new CommandFailure(`--faults: ${options.faults ?? ''}: ${error.message}`, EXIT.usage);
        throw error;
      }
      print(`Spine sandbox listening on ${sandbox.baseUrl}`);
      if (faults) print(`Faults set: ${sandbox.listFaults().length} (GET ${sandbox.baseUrl}${FAULTS_PATH} lists them)`);
      await runUntilSignal(logger, () => sandbox.stop());
    });
}
