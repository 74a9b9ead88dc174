// Written by hand, as createMigration would from task-draft.entity.ts and appointment.entity.ts (`kind`), with
// the append-only triggers (not part of the entity schemas).
import { Migration } from '@mikro-orm/migrations';

/**
 * Drafts of worklist task answers, one row per save (append-only: the function that refuses UPDATE, DELETE and
 * TRUNCATE is the one `append-only-records` created); and the kind of an appointment (`gp`, `probation`...),
 * which the API books with and the pathways' appointments have.
 */
export class Migration20261207091000_task_drafts_and_appointment_kind extends Migration {
  override up(): void {
    this.addSql(
      `create table "task_drafts" ("id" uuid not null, "task_id" varchar(255) not null, "author_subject" varchar(255) not null, "author_id" varchar(255) not null, "answers" jsonb not null, "saved_at" timestamptz not null default now(), constraint "task_drafts_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "task_drafts_task_author_saved" on "task_drafts" ("task_id", "author_subject", "saved_at");`,
    );
    this.addSql(
      `alter table "task_drafts" add constraint "task_drafts_task_id_foreign" foreign key ("task_id") references "worklist_tasks" ("id") on update cascade;`,
    );
    this.addSql(
      `create trigger task_drafts_refuse_update_delete before update or delete on "task_drafts" for each row execute function throughcare_refuse_change();`,
    );
    this.addSql(
      `create trigger task_drafts_refuse_truncate before truncate on "task_drafts" for each statement execute function throughcare_refuse_change();`,
    );
    this.addSql(`alter table "appointments" add column "kind" varchar(64) null;`);
  }

  override down(): void {
    this.addSql(`alter table "appointments" drop column "kind";`);
    this.addSql(`drop table if exists "task_drafts" cascade;`);
  }
}
