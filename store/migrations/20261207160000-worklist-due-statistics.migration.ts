// Written by hand: MikroORM has no notion of extended statistics, so the schema diff neither sees nor wants it.
import { Migration } from '@mikro-orm/migrations';

/**
 * Statistics on the worklist's sort key (`coalesce(due_at, 'infinity')`, engine/worklist.ts). The only index on
 * that expression is partial (open tasks), and PostgreSQL does not estimate from a partial index's statistics, so
 * a due window was guessed at 0.5% of the table: with 100,000 open tasks it expected 500 rows, found 8,500, and
 * chose to collect and sort them all instead of reading the sort index in order (bench:api, bench/README.md).
 */
export class Migration20261207160000_worklist_due_statistics extends Migration {
  override up(): void {
    this.addSql(
      `create statistics if not exists "worklist_tasks_sort_due" on (coalesce("due_at", 'infinity'::timestamptz)) from "worklist_tasks";`,
    );
    this.addSql(`analyze "worklist_tasks";`);
  }

  override down(): void {
    this.addSql(`drop statistics if exists "worklist_tasks_sort_due";`);
  }
}
