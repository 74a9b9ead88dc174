/**
 * What every command needs: the validated configuration and a logger. A configuration problem ends the
 * command with exit status 2 and a message naming each variable at fault.
 */
import { ConfigError, loadConfig, type Config } from '../config';
import type { FieldProblem } from '../domain/errors';
import { createLogger, type Logger } from '../log';

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export class CommandFailure extends Error {
  override readonly name = 'CommandFailure';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
    /** Each problem with the input, named by JSON Pointer into it. */
    readonly problems?: readonly FieldProblem[],
  ) {
    super(message);
  }
}

export interface CommandContext {
  config: Config;
  logger: Logger;
}

export function commandContext(): CommandContext {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) throw new CommandFailure(error.message, EXIT.usage);
    throw error;
  }
  return { config, logger: createLogger(config.log) };
}

/**
 * Handles SIGINT and SIGTERM from the moment it is called: the first aborts the returned signal (a
 * command stops cleanly, or stops starting), a second exits at once, for when a clean stop hangs.
 */
export function shutdownSignal(logger: Logger): AbortSignal {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      logger.warn({ signal }, 'second signal: exiting without waiting for a clean stop');
      process.exit(130);
    }
    logger.info({ signal }, 'stopping (press Ctrl-C again to force)');
    controller.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return controller.signal;
}

/** Resolves when `signal` is aborted. */
export function aborted(signal: AbortSignal): Promise<void> {
  return signal.aborted
    ? Promise.resolve()
    : new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** Keeps a long-running command alive until SIGINT or SIGTERM, then runs `stop` once. */
export async function runUntilSignal(logger: Logger, stop: () => Promise<void>): Promise<void> {
  await aborted(shutdownSignal(logger));
  try {
    await stop();
  } catch (error) {
    logger.error({ err: error }, 'error while stopping');
    process.exitCode = EXIT.failure;
  }
}

/** A command's result on stdout, one line (logs go to stderr). */
export function print(text: string): void {
  process.stdout.write(`${text}\n`);
}
