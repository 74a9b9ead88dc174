// Written by hand, as createMigration would from the entity schemas (staff.entity.ts `duties`,
// notification.entity.ts `staff`, worklist-task.entity.ts `planned`/`started`, `overdueSince`, `completedLate`,
// `startedTaskId` and the planned-work indexes).
import { Migration } from '@mikro-orm/migrations';

/**
 * Notices that reach a named person and work that is visible before it opens:
 * - staff hold duties (`sms-team-lead`, `custody-sergeant`...), the job roles `notify.notifyStaff` addresses;
 * - the outbox can address a member of staff instead of a patient's contact (exactly one of the two);
 * - the worklist holds planned work (`planned`, then `started` when its user task opens) and remembers when a
 *   task became overdue and whether it was completed late.
 */
export class Migration20261207063000_staff_duties_and_planned_work extends Migration {
  override up(): void {
    this.addSql(`alter table "staff" add column "duties" text[] not null default '{}';`);

    this.addSql(`alter table "notification_outbox" add column "staff_id" uuid null;`);
    this.addSql(`alter table "notification_outbox" alter column "contact_id" drop not null;`);
    this.addSql(`alter table "notification_outbox" drop constraint "notification_outbox_contact_id_foreign";`);
    this.addSql(
      `alter table "notification_outbox" add constraint "notification_outbox_contact_id_foreign" foreign key ("contact_id") references "contacts" ("id") on update cascade on delete set null;`,
    );
    this.addSql(
      `alter table "notification_outbox" add constraint "notification_outbox_staff_id_foreign" foreign key ("staff_id") references "staff" ("id") on update cascade on delete set null;`,
    );
    this.addSql(`create index "notification_outbox_staff_id_index" on "notification_outbox" ("staff_id");`);
    this.addSql(
      `alter table "notification_outbox" add constraint notification_outbox_one_recipient check ((contact_id is null) <> (staff_id is null));`,
    );

    this.addSql(`alter table "worklist_tasks" drop constraint if exists "worklist_tasks_status_check";`);
    this.addSql(
      `alter table "worklist_tasks" add constraint "worklist_tasks_status_check" check ("status" in ('planned', 'started', 'open', 'completed', 'cancelled'));`,
    );
    this.addSql(`alter table "worklist_tasks" add column "overdue_since" timestamptz null;`);
    this.addSql(`alter table "worklist_tasks" add column "completed_late" boolean not null default false;`);
    this.addSql(`alter table "worklist_tasks" add column "started_task_id" varchar(255) null;`);
    this.addSql(
      `alter table "worklist_tasks" add constraint worklist_tasks_started_recorded check ((status = 'started') = (started_task_id is not null));`,
    );
    this.addSql(
      `create index "worklist_tasks_planned_by_case" on "worklist_tasks" ("case_id", "due_at") where status = 'planned';`,
    );
    this.addSql(
      `create index "worklist_tasks_planned_by_workflow_element" on "worklist_tasks" ("workflow_id", "element_id") where status = 'planned';`,
    );
  }

  override down(): void {
    this.addSql(`drop index if exists "worklist_tasks_planned_by_workflow_element";`);
    this.addSql(`drop index if exists "worklist_tasks_planned_by_case";`);
    this.addSql(`alter table "worklist_tasks" drop constraint if exists worklist_tasks_started_recorded;`);
    this.addSql(`alter table "worklist_tasks" drop column "started_task_id";`);
    this.addSql(`alter table "worklist_tasks" drop column "completed_late";`);
    this.addSql(`alter table "worklist_tasks" drop column "overdue_since";`);
    this.addSql(`alter table "worklist_tasks" drop constraint if exists "worklist_tasks_status_check";`);
    this.addSql(
      `alter table "worklist_tasks" add constraint "worklist_tasks_status_check" check ("status" in ('open', 'completed', 'cancelled'));`,
    );
    this.addSql(`alter table "notification_outbox" drop constraint if exists notification_outbox_one_recipient;`);
    this.addSql(`drop index if exists "notification_outbox_staff_id_index";`);
    this.addSql(`alter table "notification_outbox" drop constraint "notification_outbox_staff_id_foreign";`);
    this.addSql(`alter table "notification_outbox" drop column "staff_id";`);
    this.addSql(`alter table "notification_outbox" drop constraint "notification_outbox_contact_id_foreign";`);
    this.addSql(
      `alter table "notification_outbox" add constraint "notification_outbox_contact_id_foreign" foreign key ("contact_id") references "contacts" ("id") on update cascade;`,
    );
    this.addSql(`alter table "notification_outbox" alter column "contact_id" set not null;`);
    this.addSql(`alter table "staff" drop column "duties";`);
  }
}
