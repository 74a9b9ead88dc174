/**
 * Indexes that serve the SQL the List Filter compiler writes. The core owns `executions` and decides whether
 * to create them; they are listed here because their shapes follow from the compiler's output. The default
 * order (namespace, start_time DESC, run_id) is left out: the core's schema already indexes it.
 */

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

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
