/**
 * The case engine for one-shot commands: the record store (see database.ts) and a Temporal client for
 * TEMPORAL_ADDRESS, or for the embedded server of the `throughcare up` running on this DATA_DIR.
 */
import { Client, Connection } from '@temporalio/client';
import type { CommandContext } from './context';
import { CommandFailure } from './context';
import { withStore } from './database';
import type { CaseEngine } from '../engine/cases';
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

/** Parses a `--vars`/`--data` option as a JSON object, naming the option when it is not one. */
export function parseJsonObject(option: string, text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CommandFailure(`${option} must be a JSON object: ${(error as Error).message}`, 2);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new CommandFailure(`${option} must be a JSON object`, 2);
  return value as Record<string, unknown>;
}
