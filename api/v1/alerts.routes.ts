/**
 * Alerts: a person's active (or resolved, or all) alerts, newest first; raise one; resolve one with a reason,
 * recorded beside the raise, which is never changed. Alerts travel with the person, so they are scoped by the
 * settings of the person's cases. Reads are audited per alert shown (or once for the person when there are
 * none); writes by the record store in the same transaction, with who, role, setting, operation and request.
 */
import { checkedNhsNumber, findAlert, findPatient, listAlerts, raiseAlert, resolveAlert } from '../../engine';
import { NotFoundError } from '../../domain/errors';
import {
  actorOf,
  decide,
  nhsNumberParam,
  pageOf,
  requireRole,
  withQueryPointers,
  type RouteContext,
  type RouteSpec,
} from './operation';
import type { Decision } from '../policy';
import { PARAMETER_SCHEMAS } from './schemas';

const alertIdParam = { alertId: PARAMETER_SCHEMAS.uuid };
const NOT_FOUND = 'No record of this person in the settings you work in';

/** The person of the NHS number in the path, and the decision for `action` on their record (404 outside one's settings). */
async function personFor(ctx: RouteContext, action: 'alert.list' | 'alert.raise') {
  const nhsNumber = checkedNhsNumber(ctx.params['nhsNumber']!, '/path/nhsNumber');
  requireRole(ctx.principal, action);
  const patient = await findPatient(ctx.engine.store, nhsNumber);
  if (!patient) throw new NotFoundError(NOT_FOUND);
  const decision = decide(
    ctx.principal,
    action,
    { settings: patient.settings, restricted: patient.restricted },
    NOT_FOUND,
  );
  return { patient, decision };
}

function writerOf(ctx: RouteContext, decision: Decision & { allowed: true }) {
  return { ...actorOf(ctx, decision), purpose: decision.purpose };
}

export const ALERT_ROUTES: readonly RouteSpec[] = [
  {
    method: 'get',
    path: '/patients/{nhsNumber}/alerts',
    operationId: 'listPatientAlerts',
    summary: 'A person’s alerts, newest first: active ones unless `status` says resolved or any',
    tag: 'alerts',
    action: 'alert.list',
    patientData: true,
    params: nhsNumberParam,
    query: 'AlertListQuery',
    success: { status: 200, schema: 'AlertPage', description: 'a page of alerts' },
    async handle(ctx) {
      const { patient, decision } = await personFor(ctx, 'alert.list');
      const page = await withQueryPointers(() =>
        listAlerts(ctx.engine.store, {
          patientId: patient.patientId,
          status: (ctx.query['status'] as 'active' | 'resolved' | 'any' | undefined) ?? 'active',
          ...pageOf(ctx.query),
        }),
      );
      const read = {
        decision,
        action: 'read' as const,
        operation: 'alert.list' as const,
        patientId: patient.patientId,
      };
      await ctx.audit(
        page.items.length > 0
          ? page.items.map((alert) => ({ ...read, entityType: 'Alert', entityId: alert.alertId }))
          : [
              {
                ...read,
                entityType: 'Patient',
                entityId: patient.patientId,
                reason: 'listed their alerts: none shown',
              },
            ],
      );
      return { body: { items: page.items.map(({ patientId: _p, ...alert }) => alert), nextCursor: page.nextCursor } };
    },
  },
  {
    method: 'post',
    path: '/patients/{nhsNumber}/alerts',
    operationId: 'raiseAlert',
    summary: 'Raise an alert on a person (a local or NOMIS code, or SNOMED CT coded)',
    tag: 'alerts',
    action: 'alert.raise',
    patientData: true,
    params: nhsNumberParam,
    body: 'RaiseAlertRequest',
    success: { status: 201, schema: 'Alert', description: 'the alert, as recorded' },
    async handle(ctx) {
      const { patient, decision } = await personFor(ctx, 'alert.raise');
      const b = ctx.body;
      const alert = await raiseAlert(ctx.engine.store, ctx.engine.logger, {
        patientId: patient.patientId,
        ...(typeof b['caseId'] === 'string' ? { caseId: b['caseId'] } : {}),
        code: b['code'] as string,
        ...(typeof b['codeSystem'] === 'string' ? { codeSystem: b['codeSystem'] } : {}),
        display: b['display'] as string,
        severity: b['severity'] as 'low' | 'medium' | 'high',
        ...(typeof b['reason'] === 'string' ? { reason: b['reason'] } : {}),
        writer: writerOf(ctx, decision),
      });
      const { patientId: _p, ...shown } = alert;
      return { status: 201, body: shown };
    },
  },
  {
    method: 'post',
    path: '/alerts/{alertId}/resolve',
    operationId: 'resolveAlert',
    summary: 'Resolve an active alert with a reason, kept beside the raise',
    tag: 'alerts',
    action: 'alert.resolve',
    patientData: true,
    params: alertIdParam,
    body: 'ResolveAlertRequest',
    success: { status: 200, schema: 'Alert', description: 'the alert, resolved' },
    async handle(ctx) {
      requireRole(ctx.principal, 'alert.resolve');
      const alertId = ctx.params['alertId']!;
      const found = await findAlert(ctx.engine.store, alertId);
      if (!found) throw new NotFoundError(`No alert ${alertId}`);
      const decision = decide(
        ctx.principal,
        'alert.resolve',
        { settings: found.settings, restricted: found.restricted },
        `No alert ${alertId}`,
      );
      const alert = await resolveAlert(ctx.engine.store, ctx.engine.logger, {
        alertId,
        reason: ctx.body['reason'] as string,
        writer: writerOf(ctx, decision),
      });
      const { patientId: _p, ...shown } = alert;
      return { body: shown };
    },
  },
];
