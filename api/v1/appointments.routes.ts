/**
 * Appointments: a person's or a case's diary, booking one for a case, and recording attended, missed or
 * cancelled (a new status-change row each time; the outcome reaches the case's workflow when a pathway waits
 * for it). Ops see the diary without where (the location) or why (the reasons given).
 */
import {
  bookAppointment,
  checkedNhsNumber,
  findAppointment,
  findPatient,
  listAppointments,
  recordAppointmentOutcome,
  type AppointmentOutcomeStatus,
  type AppointmentView,
} from '../../engine';
import { NotFoundError } from '../../domain/errors';
import type { View } from '../policy';
import {
  actorOf,
  caseIdParam,
  decide,
  decideOnCase,
  nhsNumberParam,
  pageOf,
  requireRole,
  withQueryPointers,
  type RouteContext,
  type RouteSpec,
} from './operation';
import { PARAMETER_SCHEMAS } from './schemas';

/** What the view allows of an appointment: the location is a contact detail, the reasons are clinical. */
export function appointmentFor(view: View, appointment: AppointmentView): Partial<AppointmentView> {
  const { location, history, ...rest } = appointment;
  return {
    ...rest,
    ...(view.contactDetails ? { location } : {}),
    history: view.clinicalContent ? history : history.map((change) => ({ ...change, reason: null })),
  };
}

function listQuery(ctx: RouteContext) {
  return {
    ...pageOf(ctx.query),
    ...(typeof ctx.query['status'] === 'string' ? { status: ctx.query['status'] } : {}),
  };
}

export const APPOINTMENT_ROUTES: readonly RouteSpec[] = [
  {
    method: 'get',
    path: '/cases/{caseId}/appointments',
    operationId: 'listCaseAppointments',
    summary: 'A case’s appointments, soonest first, with every change of their status',
    tag: 'appointments',
    action: 'appointment.list',
    patientData: true,
    params: caseIdParam,
    query: 'AppointmentListQuery',
    success: { status: 200, schema: 'AppointmentPage', description: 'a page of the diary' },
    async handle(ctx) {
      const { found, decision } = await decideOnCase(ctx, 'appointment.list');
      const page = await withQueryPointers(() =>
        listAppointments(ctx.engine.store, { caseId: found.caseId, ...listQuery(ctx) }),
      );
      await ctx.audit([
        {
          decision,
          action: 'read',
          operation: 'appointment.list',
          entityType: 'Case',
          entityId: found.caseId,
          patientId: found.patientId,
          reason: `appointments (${page.items.length})`,
        },
      ]);
      return { body: { ...page, items: page.items.map((a) => appointmentFor(decision.view, a)) } };
    },
  },
  {
    method: 'get',
    path: '/patients/{nhsNumber}/appointments',
    operationId: 'listPatientAppointments',
    summary: 'A person’s appointments across their cases, soonest first',
    tag: 'appointments',
    action: 'appointment.list',
    patientData: true,
    params: nhsNumberParam,
    query: 'AppointmentListQuery',
    success: { status: 200, schema: 'AppointmentPage', description: 'a page of the diary' },
    async handle(ctx) {
      const nhsNumber = checkedNhsNumber(ctx.params['nhsNumber']!, '/path/nhsNumber');
      requireRole(ctx.principal, 'appointment.list');
      const patient = await findPatient(ctx.engine.store, nhsNumber);
      const notFound = 'No record of this person in the settings you work in';
      if (!patient) throw new NotFoundError(notFound);
      const decision = decide(
        ctx.principal,
        'appointment.list',
        { settings: patient.settings, restricted: patient.restricted },
        notFound,
      );
      const page = await withQueryPointers(() =>
        listAppointments(ctx.engine.store, { patientId: patient.patientId, ...listQuery(ctx) }),
      );
      await ctx.audit([
        {
          decision,
          action: 'read',
          operation: 'appointment.list',
          entityType: 'Patient',
          entityId: patient.patientId,
          patientId: patient.patientId,
          reason: `appointments (${page.items.length})`,
        },
      ]);
      return { body: { ...page, items: page.items.map((a) => appointmentFor(decision.view, a)) } };
    },
  },
  {
    method: 'post',
    path: '/cases/{caseId}/appointments',
    operationId: 'bookAppointment',
    summary: 'Book an appointment for a case: when, where, with whom and what kind',
    tag: 'appointments',
    action: 'appointment.book',
    patientData: true,
    params: caseIdParam,
    body: 'BookAppointmentRequest',
    success: { status: 201, schema: 'Appointment', description: 'the appointment as booked' },
    async handle(ctx) {
      const { found, decision } = await decideOnCase(ctx, 'appointment.book');
      const body = ctx.body;
      // The record activity writes the audit event with the booking, in the same transaction.
      const appointment = await bookAppointment(ctx.engine, {
        caseId: found.caseId,
        kind: body['kind'] as string,
        startsAt: body['startsAt'] as string,
        ...(typeof body['endsAt'] === 'string' ? { endsAt: body['endsAt'] } : {}),
        location: body['location'] as string,
        agency: body['agency'] as string,
        ...(typeof body['agencyContactId'] === 'string' ? { agencyContactId: body['agencyContactId'] } : {}),
        actor: { ...actorOf(ctx, decision), operation: 'appointment.book', purpose: decision.purpose },
      });
      return { status: 201, body: appointmentFor(decision.view, appointment) };
    },
  },
  {
    method: 'post',
    path: '/appointments/{appointmentId}/outcome',
    operationId: 'recordAppointmentOutcome',
    summary: 'Record that an appointment was attended, missed or cancelled; the case’s pathway is told when it waits',
    tag: 'appointments',
    action: 'appointment.record',
    patientData: true,
    params: { appointmentId: PARAMETER_SCHEMAS.uuid },
    body: 'AppointmentOutcomeRequest',
    success: { status: 200, schema: 'AppointmentOutcome', description: 'the appointment now, and what its case did' },
    async handle(ctx) {
      requireRole(ctx.principal, 'appointment.record');
      const appointmentId = ctx.params['appointmentId']!;
      const found = await findAppointment(ctx.engine.store, appointmentId);
      const notFound = `No appointment ${appointmentId}`;
      if (!found) throw new NotFoundError(notFound);
      const decision = decide(
        ctx.principal,
        'appointment.record',
        { settings: found.settings, restricted: found.restricted },
        notFound,
      );
      const outcome = ctx.body['outcome'] as AppointmentOutcomeStatus;
      const recorded = await recordAppointmentOutcome(ctx.engine, {
        appointmentId,
        outcome,
        ...(typeof ctx.body['reason'] === 'string' ? { reason: ctx.body['reason'] } : {}),
        actor: { ...actorOf(ctx, decision), operation: 'appointment.record', purpose: decision.purpose },
      });
      // A change is audited with its row by the record activity; an outcome already recorded is audited here.
      if (!recorded.changed)
        await ctx.audit([
          {
            decision,
            action: 'update',
            operation: 'appointment.record',
            entityType: 'Appointment',
            entityId: appointmentId,
            patientId: found.patientId,
            reason: `already ${outcome}`,
          },
        ]);
      return { body: { ...recorded, appointment: appointmentFor(decision.view, recorded.appointment) } };
    },
  },
];
