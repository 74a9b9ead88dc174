/**
 * Converts search attributes between the Payloads clients and workflows send (`json/plain`, with a
 * `type` metadata entry such as "KeywordList", as the SDKs write them) and the plain JSON values the core
 * stores in `executions.search_attributes`. The registered type decides how a value is read, as in
 * Temporal's server; the metadata type is only a hint.
 */
import type { temporal } from '@temporalio/proto';
import { normaliseRfc3339 } from './rfc3339';
import {
  executionStatusName,
  IndexedValueTypes,
  PREDEFINED_SEARCH_ATTRIBUTES,
  SYSTEM_SEARCH_ATTRIBUTES,
  UNSPECIFIED_INDEXED_VALUE_TYPE,
  indexedValueTypeName,
  type IndexedValueType,
} from './search-attribute-types';
import { BadSearchAttributesError } from './visibility.errors';

export type SearchAttributePayload = temporal.api.common.v1.IPayload;

/** A stored value: string (Keyword, Text, Datetime as ISO 8601), string[] (KeywordList), number or boolean. */
export type SearchAttributeValue = string | string[] | number | boolean;

/** Temporal's defaults (dynamic config `limit.searchAttributes*`), which keep one execution's row small. */
export interface SearchAttributeLimits {
  readonly maxKeys: number;
  readonly maxValueBytes: number;
  readonly maxTotalBytes: number;
}

export const DEFAULT_SEARCH_ATTRIBUTE_LIMITS: SearchAttributeLimits = Object.freeze({
  maxKeys: 100,
  maxValueBytes: 2 * 1024,
  maxTotalBytes: 40 * 1024,
});

const JSON_PLAIN = 'json/plain';
const BINARY_NULL = 'binary/null';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads the `indexedFields` of a start request, an upsert command or a continue-as-new. `types` is the
 * namespace's custom attributes; `TemporalChangeVersion`, which the SDK's `patched()` writes, is accepted
 * without registration.
 *
 * A value of `null` in the result means "remove this attribute" (an upsert sends a JSON null, or an empty
 * list, for that); apply it with {@link applySearchAttributeUpdate}.
 *
 * @throws BadSearchAttributesError for a system, unknown or malformed attribute.
 */
export function decodeSearchAttributes(
  indexedFields: Readonly<Record<string, SearchAttributePayload>> | null | undefined,
  types: Readonly<Record<string, IndexedValueType>>,
  limits: SearchAttributeLimits = DEFAULT_SEARCH_ATTRIBUTE_LIMITS,
): Record<string, SearchAttributeValue | null> {
  const entries = Object.entries(indexedFields ?? {});
  if (entries.length > limits.maxKeys) {
    throw new BadSearchAttributesError(
      `number of search attributes ${entries.length} exceeds limit ${limits.maxKeys}`,
      entries[limits.maxKeys]![0],
    );
  }
  const decoded: Record<string, SearchAttributeValue | null> = {};
  let totalSize = 0;
  for (const [name, payload] of entries) {
    const size = payload.data?.length ?? 0;
    if (size > limits.maxValueBytes) {
      throw new BadSearchAttributesError(
        `search attribute ${name} value size ${size} exceeds size limit ${limits.maxValueBytes}`,
        name,
      );
    }
    totalSize += size;
    if (totalSize > limits.maxTotalBytes) {
      throw new BadSearchAttributesError(
        `total size of search attributes exceeds size limit ${limits.maxTotalBytes}`,
        name,
      );
    }
    decoded[name] = decodeOne(name, payload, attributeType(name, types));
  }
  return decoded;
}

/**
 * Encodes stored values for DescribeWorkflowExecution and ListWorkflowExecutions, as Temporal's server does:
 * `json/plain` with the attribute's type in the metadata. Attributes no longer registered, and nulls, are
 * left out rather than failing the whole answer.
 */
export function encodeSearchAttributes(
  values: Readonly<Record<string, unknown>>,
  types: Readonly<Record<string, IndexedValueType>>,
): Record<string, SearchAttributePayload> {
  const encoded: Record<string, SearchAttributePayload> = {};
  for (const [name, value] of Object.entries(values)) {
    if (value === null || value === undefined) continue;
    const type = own(PREDEFINED_SEARCH_ATTRIBUTES, name) ?? own(types, name);
    const typeName = type === undefined ? undefined : indexedValueTypeName(type);
    if (!typeName) continue;
    encoded[name] = {
      metadata: { encoding: encoder.encode(JSON_PLAIN), type: encoder.encode(typeName) },
      data: encoder.encode(JSON.stringify(value)),
    };
  }
  return encoded;
}

/**
 * The group value of a CountWorkflowExecutions group under `GROUP BY ExecutionStatus`: the status name as a
 * Keyword ("Running"), as Temporal's server encodes it.
 */
export function encodeExecutionStatusGroupValue(status: number): SearchAttributePayload {
  const name = executionStatusName(status);
  if (name === undefined) throw new RangeError(`Unknown workflow execution status ${status}`);
  return {
    metadata: { encoding: encoder.encode(JSON_PLAIN), type: encoder.encode('Keyword') },
    data: encoder.encode(JSON.stringify(name)),
  };
}

/** Applies decoded values to the stored ones: null removes an attribute, anything else replaces it. */
export function applySearchAttributeUpdate(
  current: Readonly<Record<string, unknown>>,
  update: Readonly<Record<string, SearchAttributeValue | null>>,
): Record<string, unknown> {
  const next: Record<string, unknown> = { ...current };
  for (const [name, value] of Object.entries(update)) {
    if (value === null) delete next[name];
    else next[name] = value;
  }
  return next;
}

function attributeType(name: string, types: Readonly<Record<string, IndexedValueType>>): IndexedValueType {
  if (Object.hasOwn(SYSTEM_SEARCH_ATTRIBUTES, name)) {
    throw new BadSearchAttributesError(`${name} attribute can't be set in SearchAttributes`, name);
  }
  const type = own(PREDEFINED_SEARCH_ATTRIBUTES, name) ?? own(types, name);
  if (type === undefined) {
    throw new BadSearchAttributesError(`search attribute ${name} is not defined`, name);
  }
  return type;
}

function decodeOne(name: string, payload: SearchAttributePayload, type: IndexedValueType): SearchAttributeValue | null {
  const encoding = readText(name, payload.metadata?.encoding);
  if (encoding === BINARY_NULL) return null;
  if (encoding !== JSON_PLAIN) {
    throw new BadSearchAttributesError(
      `search attribute ${name}: unsupported encoding ${encoding ?? '(none)'}, expected ${JSON_PLAIN}`,
      name,
    );
  }
  const text = readText(name, payload.data) ?? '';
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new BadSearchAttributesError(`search attribute ${name}: value is not valid JSON`, name, { cause });
  }
  return decodeValue(name, raw, type);
}

function decodeValue(name: string, raw: unknown, type: IndexedValueType): SearchAttributeValue | null {
  const typeName = indexedValueTypeName(type) ?? String(type);
  const invalid = () =>
    new BadSearchAttributesError(
      `invalid value for search attribute ${name} of type ${typeName}: ${truncate(JSON.stringify(raw))}`,
      name,
    );
  if (raw === null) return null;
  if (type === IndexedValueTypes.KeywordList) {
    const list = typeof raw === 'string' ? [raw] : raw;
    if (!Array.isArray(list) || !list.every((item): item is string => typeof item === 'string' && isStorable(item))) {
      throw invalid();
    }
    // Temporal treats an empty list as no value, which removes the attribute.
    return list.length === 0 ? null : list;
  }
  let value: unknown = raw;
  if (Array.isArray(raw)) {
    // Older clients wrap every value in a list; one element is that value, none is a removal.
    if (raw.length === 0) return null;
    if (raw.length > 1) {
      throw new BadSearchAttributesError(
        `invalid value for search attribute ${name} of type ${typeName}: list of values not allowed`,
        name,
      );
    }
    value = raw[0];
  }
  switch (type) {
    case IndexedValueTypes.Keyword:
    case IndexedValueTypes.Text:
      if (typeof value === 'string' && isStorable(value)) return value;
      break;
    case IndexedValueTypes.Int:
      if (Number.isInteger(value)) return value as number;
      break;
    case IndexedValueTypes.Double:
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      break;
    case IndexedValueTypes.Bool:
      if (typeof value === 'boolean') return value;
      break;
    case IndexedValueTypes.Datetime: {
      const normalised = typeof value === 'string' ? normaliseRfc3339(value) : undefined;
      // Stored in UTC so that every value reads back the way the SDK wrote it (Date#toJSON).
      if (normalised) return new Date(normalised).toISOString();
      break;
    }
    case UNSPECIFIED_INDEXED_VALUE_TYPE:
      break;
  }
  throw invalid();
}

function readText(name: string, bytes: Uint8Array | null | undefined): string | undefined {
  if (!bytes) return undefined;
  try {
    return decoder.decode(bytes);
  } catch {
    throw new BadSearchAttributesError(`search attribute ${name}: payload is not valid UTF-8`, name);
  }
}

/** PostgreSQL's jsonb cannot hold the NUL character. */
function isStorable(text: string): boolean {
  return !text.includes('\u0000');
}

function own<T>(record: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(record, name) ? record[name] : undefined;
}

function truncate(text: string | undefined): string {
  if (text === undefined) return 'undefined';
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}
