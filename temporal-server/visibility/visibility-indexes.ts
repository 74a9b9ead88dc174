/**
 * Indexes that serve the SQL the List Filter compiler writes. The core owns `executions` and decides whether
 * to create them; they are listed here because their shapes follow from the compiler's output. The default
 * order (namespace, start_time DESC, run_id) is left out: the core's schema already indexes it.
 */
import { createHash } from 'node:crypto';
import { customAttributeValueSql } from './query-compiler';
import { IndexedValueTypes, type IndexedValueType } from './search-attribute-types';

/** DDL (idempotent) for indexes on `<schema>.executions`; `schema` is quoted as an identifier. */
export function visibilityIndexStatements(schema: string): string[] {
  const table = `${quoteIdentifier(schema)}.executions`;
  return [
    // Equality and IN on Keyword, KeywordList and Bool custom attributes compile to `search_attributes @> $n`.
    `CREATE INDEX IF NOT EXISTS executions_search_attributes_idx ON ${table} USING gin (search_attributes jsonb_path_ops)`,
    // text_pattern_ops lets `WorkflowId STARTS_WITH 'case-'` (a LIKE prefix) use the index whatever the collation.
    `CREATE INDEX IF NOT EXISTS executions_namespace_workflow_id_idx ON ${table} (namespace, workflow_id text_pattern_ops)`,
    `CREATE INDEX IF NOT EXISTS executions_namespace_workflow_type_idx ON ${table} (namespace, workflow_type)`,
    `CREATE INDEX IF NOT EXISTS executions_namespace_status_idx ON ${table} (namespace, status)`,
    `CREATE INDEX IF NOT EXISTS executions_namespace_close_time_idx ON ${table} (namespace, close_time)`,
  ];
}

/**
 * DDL (idempotent) for one index per registered Int or Double attribute, on the expression the compiler reads, as
 * Temporal's SQL visibility indexes each custom column: range conditions (`FailingAttempts >= 2`) cannot use the GIN
 * index. The index is not partial, so ANALYZE gathers statistics on the expression and the planner knows how rare a
 * value is (it ignores a partial index's). Datetime attributes are left out: their text-to-timestamptz cast depends
 * on the session's time zone, so PostgreSQL refuses it in an index.
 */
export function customAttributeIndexStatements(
  schema: string,
  attributes: Readonly<Record<string, IndexedValueType>>,
): { readonly name: string; readonly sql: string }[] {
  const table = `${quoteIdentifier(schema)}.executions`;
  return Object.entries(attributes)
    .filter(([, type]) => type === IndexedValueTypes.Int || type === IndexedValueTypes.Double)
    .map(([attribute, type]) => {
      // Names are case-sensitive and up to 64 characters, identifiers at most 63: a hash keeps each index's own.
      const digest = createHash('sha256').update(`${type}:${attribute}`).digest('hex').slice(0, 10);
      const name = `executions_sa_${attribute.toLowerCase().slice(0, 30)}_${digest}`;
      const sql =
        `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(name)} ON ${table} ` +
        `(namespace, ${customAttributeValueSql(attribute, type)})`;
      return { name, sql };
    });
}

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
