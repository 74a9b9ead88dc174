/**
 * The migrations, in the order they run. Listed here (not found by globbing the folder) so that they load
 * the same way under tsx, jest and a bundler. `createMigration` appends new ones between the markers.
 */
import type { MigrationObject } from '@mikro-orm/core';
// <migration-imports>
import { Migration20261122020808_initial_schema } from './20261122020808-initial-schema.migration';
import { Migration20261122020943_clinical_record } from './20261122020943-clinical-record.migration';
import { Migration20261122021000_append_only_records } from './20261122021000-append-only-records.migration';
import { Migration20261122023600_nhs_number_modulus_11 } from './20261122023600-nhs-number-modulus-11.migration';
import { Migration20261207031800_worklist_task_completion_id } from './20261207031800-worklist-task-completion-id.migration';
import { Migration20261207043005_patient_identity_and_flags } from './20261207043005-patient-identity-and-flags.migration';
import { Migration20261207050000_incidents } from './20261207050000-incidents.migration';
import { Migration20261207063000_staff_duties_and_planned_work } from './20261207063000-staff-duties-and-planned-work.migration';
import { Migration20261207080000_staff_team_lead_role } from './20261207080000-staff-team-lead-role.migration';
import { Migration20261207081000_api_audit_and_case_settings } from './20261207081000-api-audit-and-case-settings.migration';
import { Migration20261207091000_task_drafts_and_appointment_kind } from './20261207091000-task-drafts-and-appointment-kind.migration';
import { Migration20261207092000_web_sessions } from './20261207092000-web-sessions.migration';
import { Migration20261207093000_worklist_open_sort_index } from './20261207093000-worklist-open-sort-index.migration';
import { Migration20261207160000_worklist_due_statistics } from './20261207160000-worklist-due-statistics.migration';
import { Migration20261207180000_saved_worklist_views } from './20261207180000-saved-worklist-views.migration';
import { Migration20261207190000_worklist_task_priority } from './20261207190000-worklist-task-priority.migration';
import { Migration20261207210000_ops_console } from './20261207210000-ops-console.migration';
import { Migration20261207220000_ops_log_settings } from './20261207220000-ops-log-settings.migration';
import { Migration20261207230000_ops_bulk_cases_unlinked } from './20261207230000-ops-bulk-cases-unlinked.migration';
import { Migration20261207234000_pathway_drafts_and_change_notes } from './20261207234000-pathway-drafts-and-change-notes.migration';
import { Migration20261208030000_form_versions } from './20261208030000-form-versions.migration';
import { Migration20261208050000_report_scope } from './20261208050000-report-scope.migration';
// </migration-imports>

export const MIGRATIONS: MigrationObject[] = [
  // <migration-list>
  { name: '20261122020808-initial-schema', class: Migration20261122020808_initial_schema },
  { name: '20261122020943-clinical-record', class: Migration20261122020943_clinical_record },
  { name: '20261122021000-append-only-records', class: Migration20261122021000_append_only_records },
  { name: '20261122023600-nhs-number-modulus-11', class: Migration20261122023600_nhs_number_modulus_11 },
  { name: '20261207031800-worklist-task-completion-id', class: Migration20261207031800_worklist_task_completion_id },
  { name: '20261207043005-patient-identity-and-flags', class: Migration20261207043005_patient_identity_and_flags },
  { name: '20261207050000-incidents', class: Migration20261207050000_incidents },
  {
    name: '20261207063000-staff-duties-and-planned-work',
    class: Migration20261207063000_staff_duties_and_planned_work,
  },
  { name: '20261207080000-staff-team-lead-role', class: Migration20261207080000_staff_team_lead_role },
  {
    name: '20261207081000-api-audit-and-case-settings',
    class: Migration20261207081000_api_audit_and_case_settings,
  },
  {
    name: '20261207091000-task-drafts-and-appointment-kind',
    class: Migration20261207091000_task_drafts_and_appointment_kind,
  },
  { name: '20261207092000-web-sessions', class: Migration20261207092000_web_sessions },
  { name: '20261207093000-worklist-open-sort-index', class: Migration20261207093000_worklist_open_sort_index },
  { name: '20261207160000-worklist-due-statistics', class: Migration20261207160000_worklist_due_statistics },
  { name: '20261207180000-saved-worklist-views', class: Migration20261207180000_saved_worklist_views },
  { name: '20261207190000-worklist-task-priority', class: Migration20261207190000_worklist_task_priority },
  { name: '20261207210000-ops-console', class: Migration20261207210000_ops_console },
  { name: '20261207220000-ops-log-settings', class: Migration20261207220000_ops_log_settings },
  { name: '20261207230000-ops-bulk-cases-unlinked', class: Migration20261207230000_ops_bulk_cases_unlinked },
  {
    name: '20261207234000-pathway-drafts-and-change-notes',
    class: Migration20261207234000_pathway_drafts_and_change_notes,
  },
  { name: '20261208030000-form-versions', class: Migration20261208030000_form_versions },
  { name: '20261208050000-report-scope', class: Migration20261208050000_report_scope },
  // </migration-list>
];
