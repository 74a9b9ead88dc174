/**
 * The search attribute vocabulary shared by the query compiler, the payload codec and the registry:
 * Temporal's indexed value types (the proto enum numbers), the system attributes that map onto columns
 * of `executions`, the predefined ones the SDK writes itself, and the names no namespace may register.
 */
import { temporal } from '@temporalio/proto';

export type IndexedValueType = temporal.api.enums.v1.IndexedValueType;

const IVT = temporal.api.enums.v1.IndexedValueType;

/** Proto enum numbers by short name, as Temporal's CLI and UI spell them. */
export const IndexedValueTypes = {
  Text: IVT.INDEXED_VALUE_TYPE_TEXT,
  Keyword: IVT.INDEXED_VALUE_TYPE_KEYWORD,
  Int: IVT.INDEXED_VALUE_TYPE_INT,
  Double: IVT.INDEXED_VALUE_TYPE_DOUBLE,
  Bool: IVT.INDEXED_VALUE_TYPE_BOOL,
  Datetime: IVT.INDEXED_VALUE_TYPE_DATETIME,
  KeywordList: IVT.INDEXED_VALUE_TYPE_KEYWORD_LIST,
} as const;
export type IndexedValueTypeName = keyof typeof IndexedValueTypes;

/** The proto's zero value: never a valid registered type. */
export const UNSPECIFIED_INDEXED_VALUE_TYPE = IVT.INDEXED_VALUE_TYPE_UNSPECIFIED;

const TYPE_NAMES = new Map<number, IndexedValueTypeName>(
  Object.entries(IndexedValueTypes).map(([name, value]) => [value, name as IndexedValueTypeName]),
);

/** 'Keyword' for 2 and so on; the payload metadata `type` and Temporal's error messages use these names. */
export function indexedValueTypeName(type: number): IndexedValueTypeName | undefined {
  return TYPE_NAMES.get(type);
}

export function isIndexedValueType(type: unknown): type is IndexedValueType {
  return typeof type === 'number' && TYPE_NAMES.has(type);
}

/**
 * Reads the payload metadata `type`: PascalCase as the SDKs write it ("KeywordList"), or the proto name
 * ("INDEXED_VALUE_TYPE_KEYWORD_LIST") that some older clients send.
 */
export function parseIndexedValueTypeName(name: string): IndexedValueType | undefined {
  if (Object.hasOwn(IndexedValueTypes, name)) return IndexedValueTypes[name as IndexedValueTypeName];
  const byProtoName = Object.entries(IndexedValueTypes).find(([short]) => protoName(short) === name);
  return byProtoName?.[1];
}

/** 'KeywordList' → 'INDEXED_VALUE_TYPE_KEYWORD_LIST'. */
function protoName(short: string): string {
  return `INDEXED_VALUE_TYPE_${short.replace(/(?<=[a-z])(?=[A-Z])/g, '_').toUpperCase()}`;
}

/** System attributes are columns of `executions`; every namespace has them and none may redefine them. */
export const SYSTEM_SEARCH_ATTRIBUTES: Readonly<Record<string, IndexedValueType>> = Object.freeze({
  WorkflowId: IndexedValueTypes.Keyword,
  RunId: IndexedValueTypes.Keyword,
  WorkflowType: IndexedValueTypes.Keyword,
  ExecutionStatus: IndexedValueTypes.Keyword,
  StartTime: IndexedValueTypes.Datetime,
  ExecutionTime: IndexedValueTypes.Datetime,
  CloseTime: IndexedValueTypes.Datetime,
  TaskQueue: IndexedValueTypes.Keyword,
});

/** The column of `executions` behind each system attribute. */
export const SYSTEM_SEARCH_ATTRIBUTE_COLUMNS: Readonly<Record<string, string>> = Object.freeze({
  WorkflowId: 'workflow_id',
  RunId: 'run_id',
  WorkflowType: 'workflow_type',
  ExecutionStatus: 'status',
  StartTime: 'start_time',
  ExecutionTime: 'execution_time',
  CloseTime: 'close_time',
  TaskQueue: 'task_queue',
});

/**
 * Predefined attributes are written by the SDK or the server rather than registered by users, and are
 * stored in `search_attributes` beside the custom ones. The SDK's `patched()` upserts
 * `TemporalChangeVersion`, so the server must accept it without registration (Temporal lists it among the
 * system attributes too).
 */
export const PREDEFINED_SEARCH_ATTRIBUTES: Readonly<Record<string, IndexedValueType>> = Object.freeze({
  TemporalChangeVersion: IndexedValueTypes.KeywordList,
});

/**
 * What ListSearchAttributes reports as `systemAttributes`: the column-backed attributes and the predefined
 * ones, all of which a query may use.
 */
export const LISTED_SYSTEM_SEARCH_ATTRIBUTES: Readonly<Record<string, IndexedValueType>> = Object.freeze({
  ...SYSTEM_SEARCH_ATTRIBUTES,
  ...PREDEFINED_SEARCH_ATTRIBUTES,
});

/**
 * Custom attributes a Temporal dev server registers without being asked. `temporal server start-dev` registers
 * only those passed with `--search-attribute` (the SDK's test environment passes its own list), so there are
 * none: the embedded server starts with an empty registry too.
 */
export const DEFAULT_CUSTOM_SEARCH_ATTRIBUTES: Readonly<Record<string, IndexedValueType>> = Object.freeze({});

/** Temporal's other system and predefined names: not queryable here, but still never registrable. */
const TEMPORAL_SYSTEM_NAMES = [
  'NamespaceId',
  'HistoryLength',
  'HistorySizeBytes',
  'ExecutionDuration',
  'StateTransitionCount',
  'ParentWorkflowId',
  'ParentRunId',
  'RootWorkflowId',
  'RootRunId',
  'BinaryChecksums',
  'BuildIds',
  'BatcherNamespace',
  'BatcherUser',
  'Memo',
  'MemoEncoding',
  'VisibilityTaskKey',
  'ScheduleId',
];

const RESERVED_NAMES = new Set([
  ...Object.keys(SYSTEM_SEARCH_ATTRIBUTES),
  ...Object.keys(PREDEFINED_SEARCH_ATTRIBUTES),
  ...TEMPORAL_SYSTEM_NAMES,
]);

/** Temporal reserves every name starting with "Temporal" for itself. */
const RESERVED_PREFIX = 'Temporal';

export function isReservedSearchAttributeName(name: string): boolean {
  return RESERVED_NAMES.has(name) || name.startsWith(RESERVED_PREFIX);
}

/**
 * Names the registry accepts: a letter, then letters, digits or underscores, at most 64 characters. The
 * compiler writes registered names into SQL as quoted literals, so this pattern is also what keeps them
 * harmless there.
 */
export const SEARCH_ATTRIBUTE_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** Execution status names as queries spell them, with their proto numbers (the `executions.status` column). */
export const EXECUTION_STATUSES: Readonly<Record<string, number>> = Object.freeze({
  Unspecified: 0,
  Running: 1,
  Completed: 2,
  Failed: 3,
  Canceled: 4,
  Terminated: 5,
  ContinuedAsNew: 6,
  TimedOut: 7,
  Paused: 8,
});

const STATUS_NAMES = new Map(Object.entries(EXECUTION_STATUSES).map(([name, code]) => [code, name]));

export function executionStatusName(code: number): string | undefined {
  return STATUS_NAMES.get(code);
}
