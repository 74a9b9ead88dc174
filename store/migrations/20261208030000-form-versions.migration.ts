// Written by hand, as createMigration would from form-version.entity.ts, with the append-only triggers.
import { Migration } from '@mikro-orm/migrations';

/**
 * Installed forms, each version immutable (as pathway versions are): answers name the version they were checked
 * against, so a version must stay what it was.
 */
export class Migration20261208030000_form_versions extends Migration {
  override up(): void {
    this.addSql(
      `create table "form_versions" ("form_id" varchar(64) not null, "version" int not null, "title" varchar(255) not null, "schema" json not null, "examples" json not null, "digest" varchar(64) not null, "source" text check ("source" in ('shipped', 'designer')) not null, "installed_by" varchar(255) not null, "installed_at" timestamptz not null default now(), "change_note" text null, constraint "form_versions_pkey" primary key ("form_id", "version"), constraint form_versions_version_positive check (version >= 1), constraint form_versions_form_id_format check (form_id ~ '^[a-z0-9]+(-[a-z0-9]+)*$'));`,
    );
    this.addSql(
      `create trigger form_versions_refuse_update_delete before update or delete on "form_versions" for each row execute function throughcare_refuse_change();`,
    );
    this.addSql(
      `create trigger form_versions_refuse_truncate before truncate on "form_versions" for each statement execute function throughcare_refuse_change();`,
    );
  }

  override down(): void {
    this.addSql(`drop table if exists "form_versions" cascade;`);
  }
}
