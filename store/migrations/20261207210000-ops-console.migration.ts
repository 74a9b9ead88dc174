// Written by hand, as saved-worklist-views is: engine/ops-bulk.ts and engine/ops-log.ts read and write these tables
// with knex, so no entity maps them.
import { Migration } from '@mikro-orm/migrations';

/**
 * The ops console's records.
 * - `ops_log`: every action ops take on cases (retry, deliver, cancel, reassign, a bulk operation applied or
 *   cancelled): who, what, which cases, the outcome. Append-only, like the audit events: the same trigger refuses
 *   UPDATE, DELETE and TRUNCATE.
 * - `ops_bulk_operations` and `ops_bulk_operation_cases`: a bulk action's preview, frozen when it is made (the exact
 *   cases, in order), and then each case's outcome as it is applied. Applying acts on these rows, never on what a
 *   query matches now; the outcome of a case is set once, from `pending`.
 * - `ops_saved_searches`: the team's saved List Filter queries, shared with a setting.
 */
export class Migration20261207210000_ops_console extends Migration {
  override up(): void {
    this.addSql(
      `create table "ops_log" (` +
        `"id" uuid not null default gen_random_uuid(), ` +
        `"occurred_at" timestamptz not null default now(), ` +
        `"actor_id" text not null, ` +
        `"actor_name" text null, ` +
        `"action" text not null, ` +
        `"case_ids" uuid[] not null default '{}', ` +
        `"bulk_operation_id" uuid null, ` +
        `"outcome" text not null, ` +
        `"detail" jsonb not null default '{}', ` +
        `"request_id" text null, ` +
        `constraint "ops_log_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "ops_log_occurred_at" on "ops_log" ("occurred_at" desc);`);
    this.addSql(
      `create trigger ops_log_refuse_update_delete before update or delete on "ops_log" for each row execute function throughcare_refuse_change();`,
    );
    this.addSql(
      `create trigger ops_log_refuse_truncate before truncate on "ops_log" for each statement execute function throughcare_refuse_change();`,
    );
    this.addSql(
      `create table "ops_bulk_operations" (` +
        `"id" uuid not null default gen_random_uuid(), ` +
        `"action" text not null, ` +
        `"parameters" jsonb not null default '{}', ` +
        `"query" text not null, ` +
        `"settings" text[] not null, ` +
        `"created_by" text not null, ` +
        `"created_by_name" text null, ` +
        `"created_at" timestamptz not null default now(), ` +
        `"status" text not null default 'previewed', ` +
        `"applied_by" text null, ` +
        `"applied_at" timestamptz null, ` +
        `"finished_at" timestamptz null, ` +
        `constraint "ops_bulk_operations_pkey" primary key ("id"), ` +
        `constraint "ops_bulk_operations_status" check ("status" in ('previewed', 'running', 'cancelled', 'completed')));`,
    );
    this.addSql(
      `create table "ops_bulk_operation_cases" (` +
        `"operation_id" uuid not null references "ops_bulk_operations" ("id"), ` +
        `"position" int not null, ` +
        `"case_id" uuid not null, ` +
        `"workflow_id" text not null, ` +
        `"run_id" text not null, ` +
        `"outcome" text not null default 'pending', ` +
        `"detail" text null, ` +
        `"done_at" timestamptz null, ` +
        `constraint "ops_bulk_operation_cases_pkey" primary key ("operation_id", "position"), ` +
        `constraint "ops_bulk_operation_cases_case" unique ("operation_id", "case_id"), ` +
        `constraint "ops_bulk_operation_cases_outcome" check ("outcome" in ('pending', 'succeeded', 'failed', 'skipped')));`,
    );
    this.addSql(
      `create index "ops_bulk_operations_running" on "ops_bulk_operations" ("created_at") where "status" = 'running';`,
    );
    this.addSql(
      `create table "ops_saved_searches" (` +
        `"id" uuid not null default gen_random_uuid(), ` +
        `"name" text not null, ` +
        `"query" text not null, ` +
        `"shared_setting" text not null, ` +
        `"created_by" text not null, ` +
        `"created_by_name" text null, ` +
        `"created_at" timestamptz not null default now(), ` +
        `constraint "ops_saved_searches_pkey" primary key ("id"), ` +
        `constraint "ops_saved_searches_name_unique" unique ("shared_setting", "name"), ` +
        `constraint "ops_saved_searches_name_length" check (char_length("name") between 1 and 80), ` +
        `constraint "ops_saved_searches_query_length" check (char_length("query") between 1 and 2000));`,
    );
  }

  override down(): void {
    this.addSql(`drop table if exists "ops_saved_searches" cascade;`);
    this.addSql(`drop table if exists "ops_bulk_operation_cases" cascade;`);
    this.addSql(`drop table if exists "ops_bulk_operations" cascade;`);
    this.addSql(`drop table if exists "ops_log" cascade;`);
  }
}
