/**
 * Visibility for the embedded Temporal-compatible server: the List Filter language (ListWorkflowExecutions,
 * CountWorkflowExecutions) compiled to PostgreSQL over the core's `executions` table, the per-namespace
 * search attribute registry (OperatorService), and the codec between search attribute Payloads and the
 * plain JSON values stored in `executions.search_attributes`. See README.md for the grammar.
 */
export {
  compileVisibilityQuery,
  DEFAULT_ORDER_BY,
  type CompileVisibilityQueryOptions,
  type CompiledVisibilityQuery,
} from './query-compiler';
export { parseVisibilityQuery, type ParsedQuery, type Expression, type Predicate, type Literal } from './query-parser';
export {
  DEFAULT_CUSTOM_SEARCH_ATTRIBUTES,
  EXECUTION_STATUSES,
  IndexedValueTypes,
  LISTED_SYSTEM_SEARCH_ATTRIBUTES,
  PREDEFINED_SEARCH_ATTRIBUTES,
  SEARCH_ATTRIBUTE_NAME_PATTERN,
  SYSTEM_SEARCH_ATTRIBUTE_COLUMNS,
  SYSTEM_SEARCH_ATTRIBUTES,
  UNSPECIFIED_INDEXED_VALUE_TYPE,
  executionStatusName,
  indexedValueTypeName,
  isIndexedValueType,
  isReservedSearchAttributeName,
  parseIndexedValueTypeName,
  type IndexedValueType,
  type IndexedValueTypeName,
} from './search-attribute-types';
export {
  BadSearchAttributesError,
  GrpcStatus,
  InvalidSearchAttributeDefinitionError,
  SearchAttributeAlreadyExistsError,
  SearchAttributeNotFoundError,
  VisibilityError,
  VisibilityQueryError,
  type GrpcStatusCode,
  type VisibilityErrorCode,
} from './visibility.errors';
export { customAttributeIndexStatements, visibilityIndexStatements } from './visibility-indexes';
export {
  applySearchAttributeUpdate,
  DEFAULT_SEARCH_ATTRIBUTE_LIMITS,
  decodeSearchAttributes,
  encodeExecutionStatusGroupValue,
  encodeSearchAttributes,
  type SearchAttributeLimits,
  type SearchAttributePayload,
  type SearchAttributeValue,
} from './search-attribute-codec';
export { normaliseRfc3339 } from './rfc3339';
export { createSearchAttributeRegistry, type SearchAttributeRegistry } from './search-attribute.registry';
