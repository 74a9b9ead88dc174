// Written by hand; the entity (worklist-task.entity.ts) declares the same index, so the schema diff stays empty.
import { Migration } from '@mikro-orm/migrations';

/**
 * The worklist's order (soonest due first, undated last, then by id: engine/worklist.ts) as an index of the open
 * tasks, so a page of the worklist reads the first tasks in order and stops after a page's worth of those in the
 * person's settings, instead of joining and sorting every open task of those settings (bench:api: with 100,000
 * open tasks the sort took most of a list request; see bench/README.md).
 */
export class Migration20261207093000_worklist_open_sort_index extends Migration {
  override up(): void {
    this.addSql(
      `create index "worklist_tasks_open_by_sort" on "worklist_tasks" ((coalesce("due_at", 'infinity'::timestamptz)), "id") where status = 'open';`,
    );
  }

  override down(): void {
    this.addSql(`drop index if exists "worklist_tasks_open_by_sort";`);
  }
}
