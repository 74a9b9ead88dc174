// Written by hand, as createMigration would from the entity schemas (worklist-task.entity.ts `completionId`).
import { Migration } from '@mikro-orm/migrations';

/**
 * Which submission completed a worklist task (`task complete --completion-id`), so that the same submission
 * sent again after its answer was lost is told apart from another one, even once the case has closed.
 */
export class Migration20261207031800_worklist_task_completion_id extends Migration {
  override up(): void {
    this.addSql(`alter table "worklist_tasks" add column "completion_id" varchar(255) null;`);
  }

  override down(): void {
    this.addSql(`alter table "worklist_tasks" drop column "completion_id";`);
  }
}
