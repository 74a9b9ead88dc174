// Written by hand, as ops-console is.
import { Migration } from '@mikro-orm/migrations';

/**
 * Drops the foreign key from a bulk operation's cases to the operation. No entity maps these tables, so the schema
 * diff (`throughcare db migration create`, and the test that the entities match the database) would propose dropping
 * the constraint every time. The cases are only ever written in the transaction that writes their operation, and
 * neither is deleted, so the key guarded nothing the code does not already ensure.
 */
export class Migration20261207230000_ops_bulk_cases_unlinked extends Migration {
  override up(): void {
    this.addSql(
      `alter table "ops_bulk_operation_cases" drop constraint if exists "ops_bulk_operation_cases_operation_id_fkey";`,
    );
  }

  override down(): void {
    this.addSql(
      `alter table "ops_bulk_operation_cases" add constraint "ops_bulk_operation_cases_operation_id_fkey" foreign key ("operation_id") references "ops_bulk_operations" ("id");`,
    );
  }
}
