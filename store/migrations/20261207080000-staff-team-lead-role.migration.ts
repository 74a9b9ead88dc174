// Written by hand, as createMigration would from staff.entity.ts (the `staff_roles_known` check with `team-lead`).
import { Migration } from '@mikro-orm/migrations';

/**
 * Team leads: a role of their own (as clinician, plus the team's tasks and reassigning them), so that sign-in
 * can carry it and the policy module can tell it apart.
 */
export class Migration20261207080000_staff_team_lead_role extends Migration {
  override up(): void {
    this.addSql(`alter table "staff" drop constraint if exists staff_roles_known;`);
    this.addSql(
      `alter table "staff" add constraint staff_roles_known check (roles <@ array['clinician', 'team-lead', 'commissioner', 'ops', 'admin']::text[]);`,
    );
  }

  override down(): void {
    this.addSql(`update "staff" set roles = array_remove(roles, 'team-lead');`);
    this.addSql(`alter table "staff" drop constraint if exists staff_roles_known;`);
    this.addSql(
      `alter table "staff" add constraint staff_roles_known check (roles <@ array['clinician', 'commissioner', 'ops', 'admin']::text[]);`,
    );
  }
}
