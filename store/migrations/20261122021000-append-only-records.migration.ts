// Written by hand: triggers are not part of the entity schemas, so no generated migration would carry them.
import { Migration } from '@mikro-orm/migrations';

/**
 * Clinical safety in PostgreSQL itself, so that no code path (an ORM bug, a hurried raw SQL fix, a future
 * service) can rewrite history: notes, assessments, audit events and the status and consent histories
 * refuse UPDATE, DELETE and TRUNCATE; deployed pathway versions are immutable; an alert can only go from
 * active to resolved, once, with its raise fields untouched, and is never deleted.
 */
const APPEND_ONLY_TABLES = [
  'notes',
  'assessments',
  'audit_events',
  'appointment_status_changes',
  'contact_consent_events',
  'pathway_versions',
];

export class Migration20261122021000_append_only_records extends Migration {
  override up(): void {
    this.addSql(`
create function throughcare_refuse_change() returns trigger language plpgsql as $$
begin
  raise exception '% is append-only: % refused', tg_table_name, tg_op
    using errcode = 'integrity_constraint_violation',
          hint = 'Clinical records are never changed or deleted. Record a correction as a new row that points at this one.';
end;
$$;`);
    for (const table of APPEND_ONLY_TABLES) {
      this.addSql(
        `create trigger ${table}_refuse_update_delete before update or delete on "${table}" for each row execute function throughcare_refuse_change();`,
      );
      this.addSql(
        `create trigger ${table}_refuse_truncate before truncate on "${table}" for each statement execute function throughcare_refuse_change();`,
      );
    }

    this.addSql(`
create function throughcare_alert_resolve_only() returns trigger language plpgsql as $$
begin
  if tg_op <> 'UPDATE' then
    raise exception 'alerts are kept: % refused', tg_op
      using errcode = 'integrity_constraint_violation',
            hint = 'Resolve the alert instead; it stays in the record.';
  end if;
  if old.status <> 'active' or new.status <> 'resolved'
     or (new.id, new.patient_id, new.case_id, new.code, new.code_system, new.display, new.severity,
         new.raised_at, new.raised_by, new.raise_reason)
        is distinct from
        (old.id, old.patient_id, old.case_id, old.code, old.code_system, old.display, old.severity,
         old.raised_at, old.raised_by, old.raise_reason) then
    raise exception 'alerts can only be resolved, once: this update refused'
      using errcode = 'integrity_constraint_violation',
            hint = 'Raise a new alert instead of changing or re-opening this one.';
  end if;
  return new;
end;
$$;`);
    this.addSql(
      `create trigger alerts_resolve_only before update or delete on "alerts" for each row execute function throughcare_alert_resolve_only();`,
    );
    this.addSql(
      `create trigger alerts_refuse_truncate before truncate on "alerts" for each statement execute function throughcare_alert_resolve_only();`,
    );
  }

  override down(): void {
    this.addSql('drop trigger if exists alerts_refuse_truncate on "alerts";');
    this.addSql('drop trigger if exists alerts_resolve_only on "alerts";');
    this.addSql('drop function if exists throughcare_alert_resolve_only();');
    for (const table of APPEND_ONLY_TABLES) {
      this.addSql(`drop trigger if exists ${table}_refuse_truncate on "${table}";`);
      this.addSql(`drop trigger if exists ${table}_refuse_update_delete on "${table}";`);
    }
    this.addSql('drop function if exists throughcare_refuse_change();');
  }
}
