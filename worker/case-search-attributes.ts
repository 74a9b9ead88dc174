/**
 * The custom search attributes every case workflow keeps (its stuck signals, workflows/pathway/stuck-signals.ts),
 * which a namespace must have registered before a case runs: an upsert of an unregistered attribute fails the
 * workflow task, and the case would stop. The embedded server registers them at start (`searchAttributes`); on a
 * Temporal cluster `registerCaseSearchAttributes` adds them through the OperatorService when the product starts,
 * and says what to run when the connection may not.
 */
import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { STUCK_SIGNAL_TYPES } from '../workflows/pathway/stuck-signals';

const IVT = temporal.api.enums.v1.IndexedValueType;
const INDEXED_TYPES: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  KEYWORD: IVT.INDEXED_VALUE_TYPE_KEYWORD,
  KEYWORD_LIST: IVT.INDEXED_VALUE_TYPE_KEYWORD_LIST,
  TEXT: IVT.INDEXED_VALUE_TYPE_TEXT,
  INT: IVT.INDEXED_VALUE_TYPE_INT,
  DOUBLE: IVT.INDEXED_VALUE_TYPE_DOUBLE,
  BOOL: IVT.INDEXED_VALUE_TYPE_BOOL,
  DATETIME: IVT.INDEXED_VALUE_TYPE_DATETIME,
};

/** The case attributes by name and IndexedValueType, as OperatorService AddSearchAttributes takes them. */
export const CASE_SEARCH_ATTRIBUTES: Readonly<Record<string, temporal.api.enums.v1.IndexedValueType>> =
  Object.fromEntries(Object.entries(STUCK_SIGNAL_TYPES).map(([name, type]) => [name, INDEXED_TYPES[type]!]));

/** The Temporal CLI command that registers them, for an operator whose connection may not. */
export function registerCommand(namespace: string): string {
  const flags = Object.entries(STUCK_SIGNAL_TYPES)
    .map(
      ([name, type]) =>
        `--name ${name} --type ${type === 'KEYWORD_LIST' ? 'KeywordList' : type[0] + type.slice(1).toLowerCase()}`,
    )
    .join(' ');
  return `temporal operator search-attribute create --namespace ${namespace} ${flags}`;
}

/** Registers the ones missing in the namespace; refuses to go on (with the command to run) when it cannot. */
export async function registerCaseSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  try {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    const missing = Object.entries(CASE_SEARCH_ATTRIBUTES).filter(([name]) => customAttributes?.[name] === undefined);
    if (missing.length === 0) return;
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(missing) });
  } catch (error) {
    throw new Error(
      `Could not register the case search attributes in Temporal namespace "${namespace}" ` +
        `(${error instanceof Error ? error.message : String(error)}). Cases cannot run without them: ` +
        `register them once with: ${registerCommand(namespace)}`,
      { cause: error },
    );
  }
}
