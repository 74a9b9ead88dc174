// Written by hand, as web-sessions is: no entity maps this table (engine/worklist-views.ts reads and writes it with
// knex), so the schema diff neither sees it nor wants to drop it.
import { Migration } from '@mikro-orm/migrations';

/**
 * Saved worklist views: a person's named worklist filters (the `/worklist` query string as a flat map of its known
 * parameters), kept on the server so they follow the person to any desk, and shared with everyone working in one
 * of their settings when they choose. One name per owner: saving the same name again replaces the query and the
 * sharing. These are preferences, not clinical records, so unlike the append-only tables the owner deletes a view
 * outright (nothing about a person's care is lost or rewritten; a view holds no data, only how to look for it).
 */
export class Migration20261207180000_saved_worklist_views extends Migration {
  override up(): void {
    this.addSql(
      `create table "saved_worklist_views" (` +
        `"id" uuid not null default gen_random_uuid(), ` +
        `"owner_subject" text not null, ` +
        `"owner_name" text null, ` +
        `"name" text not null, ` +
        `"query" jsonb not null, ` +
        `"shared_setting" text null, ` +
        `"created_at" timestamptz not null default now(), ` +
        `constraint "saved_worklist_views_pkey" primary key ("id"), ` +
        `constraint "saved_worklist_views_owner_name_unique" unique ("owner_subject", "name"), ` +
        `constraint "saved_worklist_views_name_length" check (char_length("name") between 1 and 80), ` +
        `constraint "saved_worklist_views_query_object" check (jsonb_typeof("query") = 'object'));`,
    );
    // Views shared with a setting, for everyone else working there.
    this.addSql(
      `create index "saved_worklist_views_shared_setting" on "saved_worklist_views" ("shared_setting") where "shared_setting" is not null;`,
    );
  }

  override down(): void {
    this.addSql(`drop table if exists "saved_worklist_views" cascade;`);
  }
}
