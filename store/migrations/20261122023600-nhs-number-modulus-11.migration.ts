// Written by hand: the function is not part of the entity schemas; the check that uses it is
// (`patients_nhs_number_modulus_11` in patient.entity.ts), so the schema diff stays empty.
import { Migration } from '@mikro-orm/migrations';

/**
 * The NHS number Modulus 11 rule (domain/nhs-number.ts) in PostgreSQL too, so that raw SQL and any other
 * client are held to it, not only code that goes through the entity's hook.
 */
export class Migration20261122023600_nhs_number_modulus_11 extends Migration {
  override up(): void {
    this.addSql(`
create function throughcare_is_valid_nhs_number(nhs_number text) returns boolean
language sql immutable strict parallel safe as $$
  select nhs_number ~ '^[0-9]{10}$' and (
    select case (11 - sum(substr(nhs_number, i, 1)::int * (11 - i)) % 11)::int
             when 11 then 0 when 10 then -1 else (11 - sum(substr(nhs_number, i, 1)::int * (11 - i)) % 11)::int end
    from generate_series(1, 9) as i
  ) = substr(nhs_number, 10, 1)::int
$$;`);
    this.addSql(
      `alter table "patients" add constraint patients_nhs_number_modulus_11 check (throughcare_is_valid_nhs_number(nhs_number) is true);`,
    );
  }

  override down(): void {
    this.addSql('alter table "patients" drop constraint if exists patients_nhs_number_modulus_11;');
    this.addSql('drop function if exists throughcare_is_valid_nhs_number(text);');
  }
}
