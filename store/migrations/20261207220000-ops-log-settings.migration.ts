// Written by hand, as ops-console is.
import { Migration } from '@mikro-orm/migrations';

/**
 * The settings each operations-log entry belongs to (those of the person who acted, as the policy scoped the action),
 * so that ops read the log of their own settings only; entries written before have none and are shown to nobody.
 */
export class Migration20261207220000_ops_log_settings extends Migration {
  override up(): void {
    this.addSql(`alter table "ops_log" add column "settings" text[] not null default '{}';`);
    this.addSql(`create index "ops_log_settings" on "ops_log" using gin ("settings");`);
  }

  override down(): void {
    this.addSql(`alter table "ops_log" drop column "settings";`);
  }
}
