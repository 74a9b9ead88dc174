/**
 * Wires the visibility module (temporal-server/visibility, owned by the visibility helper; see CONTRACT) into
 * the server: the per-namespace search attribute registry with an in-process cache of each namespace's types
 * (the engine decodes synchronously inside transactions), ListWorkflowExecutions / CountWorkflowExecutions
 * compiled to SQL over `executions`, and the OperatorService calls.
 */
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment -- protobuf messages and pg rows are dynamically shaped (Msg); fields are checked where they are read */
import type { Pool } from 'pg';
import { TemporalServiceError } from './errors';
import { messageFromJson, msToTimestamp, type Msg } from './proto';
import { quoteIdent } from './schema';
import {
  compileVisibilityQuery,
  createSearchAttributeRegistry,
  customAttributeIndexStatements,
  decodeSearchAttributes,
  encodeExecutionStatusGroupValue,
  encodeSearchAttributes,
  visibilityIndexStatements,
  VisibilityError,
  type IndexedValueType,
} from './visibility';
import type { VisibilityHooks } from './workflow-service';

export interface Visibility extends VisibilityHooks {
  /** Loads (once) the namespace's registered types so that decodeSync can run inside a transaction. */
  ensureTypes(namespace: string): Promise<Record<string, IndexedValueType>>;
  decodeSync(namespace: string, indexedFields: Record<string, Msg>): Record<string, unknown>;
  encodeSync(namespace: string, values: Record<string, unknown>): Record<string, Msg>;
}

/** VisibilityError → the gRPC status it names; anything else is rethrown unchanged. */
export function toServiceError(err: unknown): unknown {
  if (err instanceof VisibilityError) return new TemporalServiceError(err.grpcStatus, err.message);
  return err;
}

async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toServiceError(err);
  }
}

export async function createVisibility(pool: Pool, schema: string, now: () => number): Promise<Visibility> {
  const registry = createSearchAttributeRegistry(pool, schema);
  await registry.ensureSchema();
  for (const sql of visibilityIndexStatements(schema)) await pool.query(sql);
  const cache = new Map<string, Record<string, IndexedValueType>>();
  const executions = `${quoteIdent(schema)}.executions`;

  const ensureTypes = async (namespace: string): Promise<Record<string, IndexedValueType>> => {
    let types = cache.get(namespace);
    if (!types) {
      types = await registry.list(namespace);
      cache.set(namespace, types);
    }
    return types;
  };

  const typesSync = (namespace: string): Record<string, IndexedValueType> => cache.get(namespace) ?? {};

  /**
   * Indexes the namespace's Int and Double attributes (also those registered before this index existed: products
   * register their attributes at every start). A new index needs ANALYZE before the planner has its statistics.
   */
  const indexRangeAttributes = async (types: Record<string, IndexedValueType>): Promise<void> => {
    let created = false;
    for (const index of customAttributeIndexStatements(schema, types)) {
      const { rows } = await pool.query<{ found: string | null }>('SELECT to_regclass($1)::text AS found', [
        `${quoteIdent(schema)}.${quoteIdent(index.name)}`,
      ]);
      if (rows[0]?.found) continue;
      try {
        await pool.query(index.sql);
        created = true;
      } catch (err) {
        // Another registration created it between the check and here (IF NOT EXISTS does not cover that race).
        const code = (err as { code?: string }).code;
        if (code !== '23505' && code !== '42P07') throw err;
      }
    }
    if (created) await pool.query(`ANALYZE ${executions}`);
  };

  const compile = async (namespace: string, query: string, operation: 'list' | 'count') => {
    const types = await ensureTypes(namespace);
    try {
      return compileVisibilityQuery(query, { customAttributes: types, firstParam: 2, now: new Date(now()), operation });
    } catch (err) {
      throw toServiceError(err);
    }
  };

  return {
    ensureTypes,
    decodeSync: (namespace, indexedFields) => {
      try {
        return decodeSearchAttributes(indexedFields, typesSync(namespace));
      } catch (err) {
        throw toServiceError(err);
      }
    },
    encodeSync: (namespace, values) => encodeSearchAttributes(values, typesSync(namespace)),

    async list(namespace, query, pageSize, token) {
      const q = await compile(namespace, query, 'list');
      const offset = token ? Number(token.toString()) || 0 : 0;
      const types = await ensureTypes(namespace);
      const { rows } = await pool.query(
        `SELECT workflow_id, run_id, workflow_type, task_queue, status, start_time, execution_time, close_time,
                search_attributes, history_length, state->'memo' AS memo, state->'parent' AS parent,
                state->>'firstRunId' AS first_run_id, state->'root' AS root
           FROM ${executions} WHERE namespace = $1 AND (${q.where})
           ORDER BY ${q.orderBy} LIMIT ${pageSize + 1} OFFSET ${offset}`,
        [namespace, ...q.params],
      );
      const page = rows.slice(0, pageSize);
      return {
        executions: page.map((r) => ({
          execution: { workflowId: r.workflow_id, runId: r.run_id },
          type: { name: r.workflow_type },
          startTime: msToTimestamp((r.start_time as Date).getTime()),
          closeTime: r.close_time ? msToTimestamp((r.close_time as Date).getTime()) : undefined,
          status: r.status,
          historyLength: Number(r.history_length),
          executionTime: msToTimestamp((r.execution_time as Date).getTime()),
          memo: r.memo ? messageFromJson('temporal.api.common.v1.Memo', r.memo as Msg) : { fields: {} },
          searchAttributes: {
            indexedFields: encodeSearchAttributes(r.search_attributes as Record<string, unknown>, types),
          },
          taskQueue: r.task_queue,
          parentExecution: r.parent ? { workflowId: r.parent.workflowId, runId: r.parent.runId } : undefined,
          rootExecution: r.root ?? { workflowId: r.workflow_id, runId: r.run_id },
          firstRunId: r.first_run_id ?? r.run_id,
        })),
        nextPageToken: rows.length > pageSize ? Buffer.from(String(offset + pageSize)) : Buffer.alloc(0),
      };
    },

    async count(namespace, query) {
      const q = await compile(namespace, query, 'count');
      if (q.groupBy === 'ExecutionStatus') {
        const { rows } = await pool.query(
          `SELECT status, count(*)::bigint AS n FROM ${executions} WHERE namespace = $1 AND (${q.where}) GROUP BY status ORDER BY status`,
          [namespace, ...q.params],
        );
        const groups = rows.map((r) => ({
          groupValues: [encodeExecutionStatusGroupValue(Number(r.status))],
          count: Number(r.n),
        }));
        return { count: groups.reduce((sum, g) => sum + g.count, 0), groups };
      }
      const { rows } = await pool.query(
        `SELECT count(*)::bigint AS n FROM ${executions} WHERE namespace = $1 AND (${q.where})`,
        [namespace, ...q.params],
      );
      return { count: Number(rows[0]?.n ?? 0) };
    },

    addSearchAttributes: (namespace, attrs) =>
      guard(async () => {
        await registry.add(namespace, attrs);
        cache.delete(namespace);
        await indexRangeAttributes(await ensureTypes(namespace));
      }),
    removeSearchAttributes: (namespace, names) =>
      guard(async () => {
        await registry.remove(namespace, names);
        cache.delete(namespace);
        await ensureTypes(namespace);
      }),
    listSearchAttributes: (namespace) => guard(() => registry.list(namespace)),
  };
}
