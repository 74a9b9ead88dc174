// The tables as createMigration writes them from incident.entity.ts, and by hand the append-only triggers
// (triggers are not part of the entity schemas).
import { Migration } from '@mikro-orm/migrations';

/**
 * Incidents and their resolutions: what failed in a case's pathway with nothing to catch it, and how a person
 * (or the end of the case) resolved it. Both append-only, as the clinical record is: the function that refuses
 * UPDATE, DELETE and TRUNCATE is the one `append-only-records` created.
 */
export class Migration20261207050000_incidents extends Migration {
  override up(): void {
    this.addSql(
      `create table "incidents" ("id" varchar(255) not null, "case_id" uuid not null, "workflow_id" varchar(255) not null, "process_id" varchar(255) not null, "element_id" varchar(255) not null, "element_name" varchar(255) null, "instance_id" varchar(255) not null, "kind" text check ("kind" in ('activityFailed', 'childFailed', 'enteringFailed', 'leavingFailed')) not null, "task_type" varchar(255) null, "called_process_id" varchar(255) null, "error_code" varchar(255) not null, "message" text not null, "attempts" int null, "retryable" boolean null, "raised_at" timestamptz not null, "recorded_at" timestamptz not null default now(), constraint "incidents_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "incidents_case_id_index" on "incidents" ("case_id");`);
    this.addSql(`create index "incidents_raised_at_index" on "incidents" ("raised_at");`);
    this.addSql(
      `create table "incident_resolutions" ("id" uuid not null, "incident_id" varchar(255) not null, "outcome" text check ("outcome" in ('retried', 'skipped', 'cancelled')) not null, "reason" text null, "corrected_variables" text[] not null default '{}', "resolved_by" varchar(255) not null, "completion_id" varchar(255) null, "resolved_at" timestamptz not null, constraint "incident_resolutions_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "incident_resolutions" add constraint "incident_resolutions_incident_id_unique" unique ("incident_id");`,
    );
    this.addSql(
      `alter table "incidents" add constraint "incidents_case_id_foreign" foreign key ("case_id") references "cases" ("id") on update cascade;`,
    );
    this.addSql(
      `alter table "incident_resolutions" add constraint "incident_resolutions_incident_id_foreign" foreign key ("incident_id") references "incidents" ("id") on update cascade;`,
    );
    for (const table of ['incidents', 'incident_resolutions']) {
      this.addSql(
        `create trigger ${table}_refuse_update_delete before update or delete on "${table}" for each row execute function throughcare_refuse_change();`,
      );
      this.addSql(
        `create trigger ${table}_refuse_truncate before truncate on "${table}" for each statement execute function throughcare_refuse_change();`,
      );
    }
  }

  override down(): void {
    this.addSql(`drop table if exists "incident_resolutions" cascade;`);
    this.addSql(`drop table if exists "incidents" cascade;`);
  }
}
