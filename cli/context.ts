/**
 * What every command needs: the validated configuration and a logger. A configuration problem ends the
 * command with exit status 2 and a message naming each variable at fault.
 */
import { ConfigError, loadConfig, type Config } from '../config';
import { createLogger, type Logger } from '../log';

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export class CommandFailure extends Error {
  override readonly name = 'CommandFailure';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
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
