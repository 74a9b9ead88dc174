/**
 * The /api/v1 operations, gathered in one table: method, path, the policy action each asks, whether it touches a
 * person's data (and so must write an audit event: the audit test in test/api/v1.int.test.ts holds every such route
 * to it), the schemas of its parameters and body, and its handler. router.ts builds the Express router from
 * it and openapi.ts the OpenAPI document, so neither can drift from the other.
 *
 * Every handler asks the policy module (api/policy.ts) before it shows or changes anything, and reads and
 * changes through engine/ functions only.
 */
import { CASE_TIMELINE_ROUTES } from './case-timeline.routes';
import { CASE_ROUTES } from './cases.routes';
import { CASE_TERMINATE_ROUTES } from './case-terminate.routes';
import { ALERT_ROUTES } from './alerts.routes';
import { NOTE_ROUTES } from './notes.routes';
import { DIRECTORY_ROUTES } from './directory.routes';
import { DESIGNER_ROUTES } from './designer.routes';
import type { RouteSpec } from './operation';
import { PATHWAY_DIFF_ROUTES } from './pathway-diff.routes';
import { PATHWAY_ROUTES } from './pathways.routes';
import { PATIENT_ROUTES } from './patients.routes';
import { SIMULATION_ROUTES } from './simulations.routes';
import { TASK_ROUTES } from './tasks.routes';
import { TASK_DRAFT_ROUTES } from './task-drafts.routes';
import { APPOINTMENT_ROUTES } from './appointments.routes';
import { CONTACT_ROUTES } from './contacts.routes';
import { PATIENT_SEARCH_ROUTES } from './patient-search.routes';
import { WORKLIST_VIEW_ROUTES } from './worklist-views.routes';
import { OPS_HEATMAP_ROUTES } from './ops-heatmap.routes';
import { OPS_ROUTES } from './ops.routes';
import { REPORT_ROUTES } from './reports.routes';

export const ROUTES: readonly RouteSpec[] = [
  ...CASE_ROUTES,
  ...TASK_ROUTES,
  ...PATIENT_ROUTES,
  ...CASE_TIMELINE_ROUTES,
  ...TASK_DRAFT_ROUTES,
  ...APPOINTMENT_ROUTES,
  ...CONTACT_ROUTES,
  ...PATIENT_SEARCH_ROUTES,
  ...PATHWAY_ROUTES,
  ...DESIGNER_ROUTES,
  ...SIMULATION_ROUTES,
  ...PATHWAY_DIFF_ROUTES,
  ...DIRECTORY_ROUTES,
  ...CASE_TERMINATE_ROUTES,
  ...NOTE_ROUTES,
  ...ALERT_ROUTES,
  ...WORKLIST_VIEW_ROUTES,
  ...OPS_ROUTES,
  ...OPS_HEATMAP_ROUTES,
  ...REPORT_ROUTES,
];

export { accessRecordOf, type AuditEntry, type RouteContext, type RouteResult, type RouteSpec } from './operation';
