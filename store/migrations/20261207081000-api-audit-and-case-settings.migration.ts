// The columns and table as createMigration writes them from audit-event.entity.ts and case-setting.entity.ts,
// and by hand the append-only triggers and the backfill of the settings existing cases were opened in.
import { Migration } from '@mikro-orm/migrations';

/**
 * For the HTTP API: audit events name the person's OIDC subject, the setting through which the access was
 * allowed and the API operation; `case_settings` lists the settings a case belongs to (opened in, handed over
 * to), which scopes who may see it. Append-only, as the audit trail is.
 */
export class Migration20261207081000_api_audit_and_case_settings extends Migration {
  override up(): void {
    this.addSql(
      `alter table "audit_events" add column "actor_subject" varchar(255) null, add column "setting_ods_code" varchar(16) null, add column "operation" varchar(64) null;`,
    );
    this.addSql(
      `create table "case_settings" ("case_id" uuid not null, "setting_id" uuid not null, "reason" text check ("reason" in ('opened', 'handed-over')) not null, "recorded_at" timestamptz not null default now(), "recorded_by" varchar(255) not null, constraint "case_settings_pkey" primary key ("case_id", "setting_id"));`,
    );
    this.addSql(`create index "case_settings_setting_id_index" on "case_settings" ("setting_id");`);
    this.addSql(
      `alter table "case_settings" add constraint "case_settings_case_id_foreign" foreign key ("case_id") references "cases" ("id") on update cascade;`,
    );
    this.addSql(
      `alter table "case_settings" add constraint "case_settings_setting_id_foreign" foreign key ("setting_id") references "settings" ("id") on update cascade;`,
    );
    this.addSql(
      `insert into "case_settings" ("case_id", "setting_id", "reason", "recorded_at", "recorded_by") select "id", "setting_id", 'opened', "opened_at", 'system:migration' from "cases";`,
    );
    this.addSql(
      `create trigger case_settings_refuse_update_delete before update or delete on "case_settings" for each row execute function throughcare_refuse_change();`,
    );
    this.addSql(
      `create trigger case_settings_refuse_truncate before truncate on "case_settings" for each statement execute function throughcare_refuse_change();`,
    );
  }

  override down(): void {
    this.addSql(`drop table if exists "case_settings" cascade;`);
    this.addSql(
      `alter table "audit_events" drop column "actor_subject", drop column "setting_ods_code", drop column "operation";`,
    );
  }
}
