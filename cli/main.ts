/**
 * The `throughcare` command line. Each command lives in cli/commands/ and registers itself here; every
 * command has `--help`. Failures print one clear message (no stack trace) and set the exit status.
 */
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config';
import { ThroughcareError, ValidationError, type FieldProblem } from '../domain/errors';
import { problemOf } from './api-client';
import { CommandFailure, EXIT, print } from './context';
import type * as Case from './commands/case';
import type * as Config from './commands/config';
import type * as DevToken from './commands/dev-token';
import type * as Incident from './commands/incident';
import type * as Migrate from './commands/migrate';
import type * as Pathway from './commands/pathway';
import type * as SpineSandbox from './commands/spine-sandbox';
import type * as Staff from './commands/staff';
import type * as Task from './commands/task';
import type * as TemporalServer from './commands/temporal-server';
import type * as Up from './commands/up';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { version } = require('../package.json') as { version: string };

/**
 * The commands in the order help lists them. Each one's module is loaded only when it runs (or for help), so
 * `throughcare temporal-server` does not carry MikroORM, the API and the worker: about 35 MB less resident.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const COMMANDS: Record<string, () => (program: Command) => void> = {
  up: () => (require('./commands/up') as typeof Up).registerUp,
  config: () => (require('./commands/config') as typeof Config).registerConfig,
  migrate: () => (require('./commands/migrate') as typeof Migrate).registerMigrate,
  pathway: () => (require('./commands/pathway') as typeof Pathway).registerPathway,
  'spine-sandbox': () => (require('./commands/spine-sandbox') as typeof SpineSandbox).registerSpineSandbox,
  'temporal-server': () => (require('./commands/temporal-server') as typeof TemporalServer).registerTemporalServer,
  case: () => (require('./commands/case') as typeof Case).registerCase,
  task: () => (require('./commands/task') as typeof Task).registerTask,
  incident: () => (require('./commands/incident') as typeof Incident).registerIncident,
  staff: () => (require('./commands/staff') as typeof Staff).registerStaff,
  'dev-token': () => (require('./commands/dev-token') as typeof DevToken).registerDevToken,
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** The program with `commandName` alone when it names a command, else with every command (help, typos). */
export function buildProgram(commandName?: string): Command {
  const program = new Command('throughcare')
    .description('Throughcare: health and justice care journeys as durable workflows')
    .version(version)
    // The program's own options (--version, --help) only before a command name, so `case start --version 1`
    // reaches the command's option instead of printing the program's version.
    .enablePositionalOptions()
    .showHelpAfterError()
    .exitOverride();
  const names = commandName !== undefined && commandName in COMMANDS ? [commandName] : Object.keys(COMMANDS);
  for (const name of names) COMMANDS[name]!()(program);
  return program;
}

/**
 * Runs one command line and resolves with its exit status. With `--json`, a failure is one JSON object on
 * stdout (`{ "error": { code, message, problems? } }`), so a script reads stdout alone either way.
 */
export async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  try {
    await buildProgram(argv[2]).parseAsync(argv);
    // A command that reports a failure without throwing (lint found errors) sets process.exitCode itself.
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    const failure = describeFailure(error);
    if (json) {
      // A failure the API answered carries its problem document (RFC 9457) as well.
      const problem = problemOf(error);
      print(
        JSON.stringify({
          error: {
            code: failure.code,
            message: failure.message,
            problems: failure.problems,
            ...(problem ? { problem } : {}),
          },
        }),
      );
    } else {
      const lines = (failure.problems ?? []).map((p) => `\n  - ${p.pointer || '(body)'}: ${p.detail}`);
      process.stderr.write(`throughcare: ${failure.message}${lines.join('')}\n`);
    }
    return failure.exitCode;
  }
}

interface Failure {
  code: string;
  message: string;
  problems?: readonly FieldProblem[];
  exitCode: number;
}

function describeFailure(error: unknown): Failure {
  if (error instanceof ValidationError)
    return { code: error.code, message: error.message, problems: error.problems, exitCode: EXIT.failure };
  if (error instanceof CommandFailure)
    return {
      code: error.exitCode === EXIT.usage ? 'USAGE' : 'FAILED',
      message: error.message,
      ...(error.problems ? { problems: error.problems } : {}),
      exitCode: error.exitCode,
    };
  if (error instanceof ConfigError) return { code: 'CONFIGURATION', message: error.message, exitCode: EXIT.usage };
  if (error instanceof ThroughcareError) return { code: error.code, message: error.message, exitCode: EXIT.failure };
  return { code: 'FAILED', message: (error as Error).message, exitCode: EXIT.failure };
}

/** The entry point `bin/throughcare.js` calls, however it was reached (npx, npm link, a global install). */
export function runCli(argv: string[]): void {
  void main(argv).then((code) => {
    process.exitCode = code;
  });
}
