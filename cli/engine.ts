/**
 * The case engine for one-shot commands: the record store (see database.ts) and a Temporal client for
 * TEMPORAL_ADDRESS, or for the embedded server of the `throughcare up` running on this DATA_DIR.
 */
import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import type { CommandContext } from './context';
import { CommandFailure, EXIT } from './context';
import { withStore } from './database';
import type { CaseEngine } from '../engine';
import { readRuntimeInfo } from '../runtime/discovery';

export async function withCaseEngine<T>(
  { config, logger }: CommandContext,
  fn: (engine: CaseEngine) => Promise<T>,
): Promise<T> {
  const address = config.temporal.address ?? (await readRuntimeInfo(config.dataDir))?.temporalAddress;
  if (!address) {
    throw new CommandFailure(
      'Throughcare is not running: start it with `npm start` (or set TEMPORAL_ADDRESS to a Temporal frontend)',
    );
  }
  const connection = await Connection.connect({ address, connectTimeout: '5s' });
  try {
    const client = new Client({ connection, namespace: config.temporal.namespace });
    return await withStore(config, logger, (store) =>
      fn({ store, client, taskQueue: config.temporal.taskQueue, logger }),
    );
  } finally {
    await connection.close();
  }
}

/**
 * Parses a `--vars`/`--data` option as a JSON object, naming the option when it is not one. The value is the
 * JSON itself, `@FILE` to read it from a file, or `-` to read it from standard input (a long form does not
 * fit in a shell argument).
 */
export function parseJsonObject(option: string, value: string | undefined): Record<string, unknown> {
  if (value === undefined) return {};
  const text = readOptionText(option, value);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CommandFailure(`${option} must be a JSON object: ${(error as Error).message}`, EXIT.usage);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new CommandFailure(`${option} must be a JSON object`, EXIT.usage);
  return parsed as Record<string, unknown>;
}

function readOptionText(option: string, value: string): string {
  const file = value === '-' ? 0 : value.startsWith('@') ? value.slice(1) : undefined;
  if (file === undefined) return value;
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    const from = file === 0 ? 'standard input' : file;
    throw new CommandFailure(`${option}: cannot read ${from}: ${(error as NodeJS.ErrnoException).message}`, EXIT.usage);
  }
}
