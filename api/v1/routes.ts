/**
 * The /api/v1 operations, gathered in one table: method, path, the policy action each asks, whether it touches a
 * person's data (and so must write an audit event: the audit test in test/api/v1.int.test.ts holds every such route
 * to it), the schemas of its parameters and body, and its handler. router.ts builds the Express router from
 * it and openapi.ts the OpenAPI document, so neither can drift from the other.
 *
 * Every handler asks the policy module (api/policy.ts) before it shows or changes anything, and reads and
 * changes through engine/ functions only.
 */
import { CASE_ROUTES } from './cases.routes';
import type { RouteSpec } from './operation';
import { PATIENT_ROUTES } from './patients.routes';
import { TASK_ROUTES } from './tasks.routes';

export const ROUTES: readonly RouteSpec[] = [...CASE_ROUTES, ...TASK_ROUTES, ...PATIENT_ROUTES];

export { accessRecordOf, type AuditEntry, type RouteContext, type RouteResult, type RouteSpec } from './operation';
