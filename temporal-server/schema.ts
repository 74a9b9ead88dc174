/**
 * The server's PostgreSQL schema (idempotent DDL, run on every start). One row per run in `executions`
 * (the columns the visibility compiler reads are part of its CONTRACT), history events append-only as encoded
 * HistoryEvent bytes, and timers and queued tasks as rows so that waiting workflows cost no server memory.
 */
import type { Pool, PoolClient } from 'pg';

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export async function ensureSchema(pool: Pool, schema: string): Promise<void> {
  const s = quoteIdent(schema);
  const statements = [
    `CREATE SCHEMA IF NOT EXISTS ${s}`,
    `CREATE TABLE IF NOT EXISTS ${s}.executions (
       seq bigserial NOT NULL,
       namespace text NOT NULL,
       workflow_id text NOT NULL,
       run_id text NOT NULL,
       workflow_type text NOT NULL,
       task_queue text NOT NULL,
       status smallint NOT NULL,
       start_time timestamptz NOT NULL,
       execution_time timestamptz NOT NULL,
       close_time timestamptz NULL,
       search_attributes jsonb NOT NULL DEFAULT '{}',
       history_length bigint NOT NULL DEFAULT 0,
       request_id text NULL,
       state jsonb NOT NULL,
       PRIMARY KEY (namespace, run_id)
     )`,
    `CREATE UNIQUE INDEX IF NOT EXISTS executions_one_running ON ${s}.executions (namespace, workflow_id) WHERE status = 1`,
    `CREATE INDEX IF NOT EXISTS executions_by_workflow_id ON ${s}.executions (namespace, workflow_id, seq DESC)`,
    `CREATE INDEX IF NOT EXISTS executions_by_start_time ON ${s}.executions (namespace, start_time DESC, run_id)`,
    // Every transition rewrites `state`. Keeping it out of all indexes (the sticky queue has a column of its
    // own) and leaving room on each page lets PostgreSQL update the row in place (a HOT update) instead of
    // writing a new entry into each of the table's indexes.
    `ALTER TABLE ${s}.executions ADD COLUMN IF NOT EXISTS sticky_queue text NULL`,
    // Bumped by every write of the row; a write names the version it read (optimistic concurrency, store.ts).
    `ALTER TABLE ${s}.executions ADD COLUMN IF NOT EXISTS version bigint NOT NULL DEFAULT 0`,
    `CREATE OR REPLACE FUNCTION ${s}.expect_rows(actual bigint, expected bigint) RETURNS boolean
       LANGUAGE plpgsql AS $$
       BEGIN
         IF actual <> expected THEN
           RAISE EXCEPTION 'a run changed after it was read' USING ERRCODE = 'serialization_failure';
         END IF;
         RETURN true;
       END $$`,
    `ALTER TABLE ${s}.executions SET (fillfactor = 50)`,
    `DROP INDEX IF EXISTS ${s}.executions_sticky`,
    `CREATE INDEX IF NOT EXISTS executions_by_sticky_queue ON ${s}.executions (namespace, sticky_queue) WHERE status = 1`,
    `CREATE TABLE IF NOT EXISTS ${s}.history_events (
       run_id text NOT NULL,
       event_id bigint NOT NULL,
       data bytea NOT NULL,
       PRIMARY KEY (run_id, event_id)
     )`,
    `CREATE TABLE IF NOT EXISTS ${s}.timers (
       id bigserial PRIMARY KEY,
       fire_at bigint NOT NULL,
       namespace text NOT NULL,
       run_id text NOT NULL,
       kind text NOT NULL,
       ref text NOT NULL,
       seq bigint NOT NULL DEFAULT 0,
       holds_lock boolean NOT NULL DEFAULT false
     )`,
    `CREATE INDEX IF NOT EXISTS timers_due ON ${s}.timers (fire_at)`,
    `CREATE INDEX IF NOT EXISTS timers_by_run ON ${s}.timers (run_id)`,
    `CREATE TABLE IF NOT EXISTS ${s}.tasks (
       id bigserial PRIMARY KEY,
       namespace text NOT NULL,
       task_queue text NOT NULL,
       kind smallint NOT NULL,
       run_id text NOT NULL,
       ref bigint NOT NULL,
       attempt int NOT NULL DEFAULT 1
     )`,
    `CREATE INDEX IF NOT EXISTS tasks_by_queue ON ${s}.tasks (namespace, task_queue, kind, id)`,
    `CREATE INDEX IF NOT EXISTS tasks_by_run ON ${s}.tasks (run_id)`,
  ];
  // Concurrent starts against one database would race on CREATE ... IF NOT EXISTS; serialise them.
  await inTransaction(pool, async (client) => {
    await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`temporal-server-schema:${schema}`]);
    for (const sql of statements) await client.query(sql);
  });
}

/**
 * Runs `work` in one ordinary PostgreSQL transaction, for the set-up and recovery statements that run outside the
 * server's single-statement transitions (store.ts).
 */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
