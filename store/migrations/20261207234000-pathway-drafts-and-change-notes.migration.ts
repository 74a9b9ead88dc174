// Written by hand, as createMigration would from pathway-draft.entity.ts and pathway-version.entity.ts (`change_note`).
import { Migration } from '@mikro-orm/migrations';

/**
 * The designer's drafts (changed in place, each save the next revision; not clinical records, so without the
 * append-only triggers), and the change note a published version records. Versions deployed before have none.
 */
export class Migration20261207234000_pathway_drafts_and_change_notes extends Migration {
  override up(): void {
    this.addSql(
      `create table "pathway_drafts" ("id" uuid not null, "pathway_id" varchar(255) not null, "name" varchar(255) not null, "bpmn_xml" text not null, "based_on_version" int null, "revision" int not null default 1, "created_at" timestamptz not null default now(), "created_by" varchar(255) not null, "updated_at" timestamptz not null default now(), "updated_by" varchar(255) not null, constraint "pathway_drafts_pkey" primary key ("id"), constraint pathway_drafts_revision_positive check (revision >= 1));`,
    );
    this.addSql(`create index "pathway_drafts_updated_at" on "pathway_drafts" ("updated_at");`);
    this.addSql(`alter table "pathway_versions" add column "change_note" text null;`);
  }

  override down(): void {
    this.addSql(`alter table "pathway_versions" drop column "change_note";`);
    this.addSql(`drop table if exists "pathway_drafts" cascade;`);
  }
}
