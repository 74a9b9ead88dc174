// Written by hand, as createMigration would from the entity schemas (worklist-task.entity.ts `priority` and its check).
import { Migration } from '@mikro-orm/migrations';

/**
 * A worklist task's priority: the user task's `zeebe:priorityDefinition` (0 to 100, Camunda 8's range), so the
 * worklist can show and filter urgent work. Tasks opened before, planned work and tasks without one have Camunda's
 * default, 50.
 */
export class Migration20261207190000_worklist_task_priority extends Migration {
  override up(): void {
    this.addSql(`alter table "worklist_tasks" add column "priority" smallint not null default 50;`);
    this.addSql(
      `alter table "worklist_tasks" add constraint worklist_tasks_priority_range check (priority >= 0 and priority <= 100);`,
    );
  }

  override down(): void {
    this.addSql(`alter table "worklist_tasks" drop constraint if exists worklist_tasks_priority_range;`);
    this.addSql(`alter table "worklist_tasks" drop column "priority";`);
  }
}
