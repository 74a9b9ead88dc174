/** Patients: the banner, and who has looked at the record. */
import { checkedNhsNumber, findPatient, patientBanner, accessLog } from '../../engine';
import { NotFoundError } from '../../domain/errors';
import { withoutContactDetails } from '../policy';
import { decide, requireRole, nhsNumberParam, type RouteSpec } from './operation';

export const PATIENT_ROUTES: readonly RouteSpec[] = [
  {
    method: 'get',
    path: '/patients/{nhsNumber}',
    operationId: 'getPatient',
    summary: 'A person’s banner: name, NHS number, date of birth, restricted flag, active alerts (from the record)',
    tag: 'patients',
    action: 'patient.read',
    patientData: true,
    params: nhsNumberParam,
    success: { status: 200, schema: 'PatientBanner', description: 'the banner' },
    async handle(ctx) {
      const nhsNumber = checkedNhsNumber(ctx.params['nhsNumber']!, '/path/nhsNumber');
      requireRole(ctx.principal, 'patient.read');
      const patient = await findPatient(ctx.engine.store, nhsNumber);
      const notFound = 'No record of this person in the settings you work in';
      if (!patient) throw new NotFoundError(notFound);
      const decision = decide(
        ctx.principal,
        'patient.read',
        { settings: patient.settings, restricted: patient.restricted },
        notFound,
      );
      const banner = await patientBanner(ctx.engine.store, patient.patientId);
      await ctx.audit([
        {
          decision,
          action: 'read',
          operation: 'patient.read',
          entityType: 'Patient',
          entityId: patient.patientId,
          patientId: patient.patientId,
        },
      ]);
      return { body: decision.view.contactDetails ? banner : withoutContactDetails(banner) };
    },
  },
  {
    method: 'get',
    path: '/patients/{nhsNumber}/access-log',
    operationId: 'getPatientAccessLog',
    summary: 'Who has looked at or changed this person’s record, newest first',
    tag: 'patients',
    action: 'patient.access-log',
    patientData: true,
    params: nhsNumberParam,
    query: 'AccessLogQuery',
    success: { status: 200, schema: 'AccessLog', description: 'the access log' },
    async handle(ctx) {
      const nhsNumber = checkedNhsNumber(ctx.params['nhsNumber']!, '/path/nhsNumber');
      requireRole(ctx.principal, 'patient.access-log');
      const patient = await findPatient(ctx.engine.store, nhsNumber);
      const notFound = 'No record of this person in the settings you work in';
      if (!patient) throw new NotFoundError(notFound);
      const decision = decide(ctx.principal, 'patient.access-log', { settings: patient.settings }, notFound);
      const entries = await accessLog(ctx.engine.store, patient.patientId, (ctx.query['limit'] as number) ?? 50);
      await ctx.audit([
        {
          decision,
          action: 'read',
          operation: 'patient.access-log',
          entityType: 'AuditEvent',
          entityId: patient.patientId,
          patientId: patient.patientId,
        },
      ]);
      return { body: { nhsNumber, entries } };
    },
  },
];
