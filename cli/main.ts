/**
 * The `throughcare` command line. Each command lives in cli/commands/ and registers itself here; every
 * command has `--help`. Failures print one clear message (no stack trace) and set the exit status.
 */
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config';
import { ValidationError } from '../domain/errors';
import { CommandFailure, EXIT } from './context';
import { registerCase } from './commands/case';
import { registerConfig } from './commands/config';
import { registerMigrate } from './commands/migrate';
import { registerPathway } from './commands/pathway';
import { registerSpineSandbox } from './commands/spine-sandbox';
import { registerTask } from './commands/task';
import { registerTemporalServer } from './commands/temporal-server';
import { registerUp } from './commands/up';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { version } = require('../package.json') as { version: string };

export function buildProgram(): Command {
  const program = new Command('throughcare')
    .description('Throughcare: health and justice care journeys as durable workflows')
    .version(version)
    .showHelpAfterError()
    .exitOverride();
  registerUp(program);
  registerConfig(program);
  registerMigrate(program);
  registerPathway(program);
  registerSpineSandbox(program);
  registerTemporalServer(program);
  registerCase(program);
  registerTask(program);
  return program;
}

async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    // A command that reports a failure without throwing (lint found errors) sets process.exitCode itself.
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (error instanceof ValidationError) {
      const lines = error.problems.map((p) => `  - ${p.pointer || '(body)'}: ${p.detail}`);
      process.stderr.write(`throughcare: ${error.message}\n${lines.join('\n')}\n`);
      return EXIT.failure;
    }
    if (error instanceof CommandFailure || error instanceof ConfigError) {
      process.stderr.write(`throughcare: ${error.message}\n`);
      return error instanceof CommandFailure ? error.exitCode : EXIT.usage;
    }
    process.stderr.write(`throughcare: ${(error as Error).message}\n`);
    return EXIT.failure;
  }
}

if (require.main === module || process.argv[1]?.endsWith('throughcare.js')) {
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
