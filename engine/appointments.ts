/**
 * Appointments for the API: the diary of a person or a case, booking one, and recording what happened (attended,
 * missed, cancelled). Writes go through the record activities (an appointment row with its current status, and
 * one append-only status-change row per change, audited in the same transaction).
 *
 * An outcome also reaches the case's workflow when one of its pathways waits for it: release-support books each
 * appointment itself and waits at an event-based gateway for the message `appointment.<kind>.attended` or
 * `.missed` correlated by the appointment's id (a grace timer treats silence as missed). So the subscription
 * waiting with this appointment's id as its key names the message, found in the case's workflow and its running
 * called pathways (a journey's release stage), and it is delivered through messageCase as any message is.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { createRecordActivities, type Actor } from '../activities/records';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors';
import type { Store } from '../store';
import type { MessageSubscriptionView, PathwayView } from '../workflows';
import { STATE_QUERY, workflowIdOf, type CaseEngine } from './case-engine';
import { isRestrictedPatient } from './case-list';
import { knexOf, settingsOfCases } from './case-settings';
import { messageCase, type MessageCaseResult } from './case-messages';
import { decodeCursor, encodeCursor, type Page } from './paging';

export const APPOINTMENT_OUTCOMES = ['attended', 'missed', 'cancelled'] as const;
export type AppointmentOutcomeStatus = (typeof APPOINTMENT_OUTCOMES)[number];

export interface AppointmentStatusChangeView {
  readonly status: string;
  readonly fromStatus: string | null;
  readonly at: string;
  readonly by: string;
  readonly reason: string | null;
}

export interface AppointmentView {
  readonly appointmentId: string;
  readonly caseId: string | null;
  readonly kind: string | null;
  readonly startsAt: string;
  readonly endsAt: string | null;
  readonly location: string;
  readonly agency: string;
  readonly agencyContactId: string | null;
  readonly status: string;
  readonly bookedBy: string;
  readonly bookedAt: string;
  /** Every change of status, oldest first (the booking first). */
  readonly history: AppointmentStatusChangeView[];
}

export interface AppointmentQuery {
  readonly caseId?: string;
  readonly patientId?: string;
  readonly status?: string;
  readonly limit: number;
  readonly cursor?: string;
}

interface AppointmentRow {
  id: string;
  case_id: string | null;
  patient_id: string;
  kind: string | null;
  starts_at: Date;
  ends_at: Date | null;
  location: string;
  agency: string;
  agency_contact_id: string | null;
  status: string;
  booked_by: string;
  created_at: Date;
}

const iso = (value: Date | string) => new Date(value).toISOString();

async function viewsOf(store: Store, rows: readonly AppointmentRow[]): Promise<AppointmentView[]> {
  const changes = rows.length
    ? await knexOf(store)('appointment_status_changes')
        .whereIn(
          'appointment_id',
          rows.map((r) => r.id),
        )
        .orderBy([{ column: 'changed_at' }, { column: 'id' }])
        .select<
          {
            appointment_id: string;
            from_status: string | null;
            to_status: string;
            changed_at: Date;
            changed_by: string;
            reason: string | null;
          }[]
        >()
    : [];
  return rows.map((r) => ({
    appointmentId: r.id,
    caseId: r.case_id,
    kind: r.kind,
    startsAt: iso(r.starts_at),
    endsAt: r.ends_at ? iso(r.ends_at) : null,
    location: r.location,
    agency: r.agency,
    agencyContactId: r.agency_contact_id,
    status: r.status,
    bookedBy: r.booked_by,
    bookedAt: iso(r.created_at),
    history: changes
      .filter((c) => c.appointment_id === r.id)
      .map((c) => ({
        status: c.to_status,
        fromStatus: c.from_status,
        at: iso(c.changed_at),
        by: c.changed_by,
        reason: c.reason,
      })),
  }));
}

/** A person's or a case's appointments in diary order (soonest first), keyset paged. */
export async function listAppointments(store: Store, query: AppointmentQuery): Promise<Page<AppointmentView>> {
  const q = knexOf(store)('appointments')
    .select<AppointmentRow[]>()
    .orderBy([{ column: 'starts_at' }, { column: 'id' }])
    .limit(query.limit + 1);
  if (query.caseId) void q.where('case_id', query.caseId);
  if (query.patientId) void q.where('patient_id', query.patientId);
  if (query.status) void q.where('status', query.status);
  if (query.cursor) {
    const [startsAt, id] = decodeCursor(query.cursor, 2) as [string, string];
    // Checked before it reaches SQL: a day that does not exist or an id that is no uuid would be a database error.
    const isInstant = !Number.isNaN(Date.parse(startsAt)) && new Date(startsAt).toISOString() === startsAt;
    if (!isInstant || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id))
      throw new ValidationError('The cursor is not valid', [
        { pointer: '/cursor', detail: 'must be the nextCursor of an earlier page, unchanged' },
      ]);
    void q.whereRaw('(starts_at, id) > (?::timestamptz, ?::uuid)', [startsAt, id]);
  }
  const rows = await q;
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    items: await viewsOf(store, page),
    nextCursor: rows.length > query.limit && last ? encodeCursor([iso(last.starts_at), last.id]) : null,
  };
}

/** One appointment, with whom it is about and the settings that scope it (its case's, else its person's). */
export async function findAppointment(
  store: Store,
  appointmentId: string,
): Promise<
  | {
      readonly appointment: AppointmentView;
      readonly patientId: string;
      readonly settings: string[];
      readonly restricted: boolean;
    }
  | undefined
> {
  const row = await knexOf(store)('appointments').where({ id: appointmentId }).first<AppointmentRow | undefined>();
  if (!row) return undefined;
  const [appointment] = await viewsOf(store, [row]);
  const settings = row.case_id
    ? ((await settingsOfCases(store, [row.case_id])).get(row.case_id) ?? [])
    : await settingsOfPatient(store, row.patient_id);
  return {
    appointment: appointment!,
    patientId: row.patient_id,
    settings,
    restricted: await isRestrictedPatient(store, row.patient_id),
  };
}

async function settingsOfPatient(store: Store, patientId: string): Promise<string[]> {
  const rows = await knexOf(store)('cases as c')
    .join('case_settings as cs', 'cs.case_id', 'c.id')
    .join('settings as s', 's.id', 'cs.setting_id')
    .where('c.patient_id', patientId)
    .distinct<{ ods_code: string }[]>('s.ods_code');
  return rows.map((r) => r.ods_code);
}

export interface BookAppointmentCommand {
  readonly caseId: string;
  readonly kind: string;
  readonly startsAt: string;
  readonly endsAt?: string;
  readonly location: string;
  /** With whom: the agency (or service) by name, and as one of the person's contacts when on record. */
  readonly agency: string;
  readonly agencyContactId?: string;
  readonly actor: Actor;
}

export async function bookAppointment(engine: CaseEngine, command: BookAppointmentCommand): Promise<AppointmentView> {
  if (command.endsAt !== undefined && Date.parse(command.endsAt) <= Date.parse(command.startsAt))
    throw new ValidationError('The appointment ends before it starts', [
      { pointer: '/endsAt', detail: 'must be after startsAt' },
    ]);
  if (command.agencyContactId !== undefined) {
    const contact = await knexOf(engine.store)('contacts as ct')
      .join('cases as c', 'c.patient_id', 'ct.patient_id')
      .where({ 'ct.id': command.agencyContactId, 'c.id': command.caseId })
      .first<{ kind: string } | undefined>('ct.kind');
    if (!contact)
      throw new ValidationError('No such contact of this person', [
        { pointer: '/agencyContactId', detail: 'must be one of the person’s contacts' },
      ]);
  }
  const appointmentId = randomUUID();
  await createRecordActivities({ store: engine.store, logger: engine.logger }).bookAppointment({
    appointmentId,
    caseId: command.caseId,
    kind: command.kind,
    startsAt: command.startsAt,
    ...(command.endsAt !== undefined ? { endsAt: command.endsAt } : {}),
    location: command.location,
    agency: command.agency,
    ...(command.agencyContactId !== undefined ? { agencyContactId: command.agencyContactId } : {}),
    actor: command.actor,
  });
  const found = await findAppointment(engine.store, appointmentId);
  if (!found) throw new NotFoundError(`No appointment ${appointmentId}`);
  return found.appointment;
}

/** What became of an outcome in the case's workflow. */
export type OutcomeDelivery =
  | ({ readonly outcome: 'delivered' } & { readonly message: MessageCaseResult })
  /** No pathway of the case waits for this outcome of this appointment (not booked by one, or already settled). */
  | { readonly outcome: 'not-awaited'; readonly reason: string };

export interface RecordOutcomeCommand {
  readonly appointmentId: string;
  readonly outcome: AppointmentOutcomeStatus;
  readonly reason?: string;
  readonly actor: Actor;
}

export interface RecordedOutcome {
  readonly appointment: AppointmentView;
  /** False when the appointment already had this status (nothing new was recorded). */
  readonly changed: boolean;
  readonly workflow: OutcomeDelivery;
}

/**
 * Records the outcome as a new status-change row, then tells the case's workflow when one of its pathways waits
 * for this outcome of this appointment. The record comes first: it is what happened, whatever the workflow does
 * with it; the pathway's own "record attendance" step then finds the status already recorded and changes nothing.
 */
export async function recordAppointmentOutcome(
  engine: CaseEngine,
  command: RecordOutcomeCommand,
): Promise<RecordedOutcome> {
  const before = await findAppointment(engine.store, command.appointmentId);
  if (!before) throw new NotFoundError(`No appointment ${command.appointmentId}`);
  const { changed } = await createRecordActivities({
    store: engine.store,
    logger: engine.logger,
  }).updateAppointmentStatus({
    changeId: randomUUID(),
    appointmentId: command.appointmentId,
    status: command.outcome,
    ...(command.reason !== undefined ? { reason: command.reason } : {}),
    actor: command.actor,
  });
  const after = await findAppointment(engine.store, command.appointmentId);
  const caseId = before.appointment.caseId;
  const workflow: OutcomeDelivery = caseId
    ? await deliverOutcome(engine, caseId, command, command.actor.subject ?? command.actor.id)
    : { outcome: 'not-awaited', reason: 'the appointment is not part of a case' };
  return { appointment: after!.appointment, changed, workflow };
}

async function deliverOutcome(
  engine: CaseEngine,
  caseId: string,
  command: RecordOutcomeCommand,
  sentBy: string,
): Promise<OutcomeDelivery> {
  const waiting = await waitingSubscriptions(engine, workflowIdOf(caseId));
  const subscription = waiting.find(
    (s) => s.correlationKey === command.appointmentId && s.messageName.endsWith(`.${command.outcome}`),
  );
  if (!subscription)
    return {
      outcome: 'not-awaited',
      reason: `no pathway of the case waits for this appointment to be ${command.outcome}`,
    };
  try {
    // PT0S: only to the catch event waiting now; an outcome kept for later could settle a rebooked appointment.
    const message = await messageCase(engine, caseId, {
      name: subscription.messageName,
      correlationKey: command.appointmentId,
      timeToLive: 'PT0S',
      sentBy,
    });
    return { outcome: 'delivered', message };
  } catch (error) {
    // The wait ended between looking and sending (the grace timer fired, the case closed): the record stands.
    if (error instanceof ConflictError) return { outcome: 'not-awaited', reason: error.message };
    throw error;
  }
}

/** The messages the case's workflow and its running called pathways wait for now. */
async function waitingSubscriptions(engine: CaseEngine, workflowId: string): Promise<MessageSubscriptionView[]> {
  const handle = engine.client.workflow.getHandle(workflowId);
  let description;
  try {
    description = await handle.describe();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return [];
    throw error;
  }
  if (description.status.name !== 'RUNNING') return [];
  const view = await handle.query<PathwayView>(STATE_QUERY);
  const children = await Promise.all(
    (description.raw.pendingChildren ?? []).flatMap((child) =>
      child.workflowId ? [waitingSubscriptions(engine, child.workflowId)] : [],
    ),
  );
  return [...view.messageSubscriptions, ...children.flat()];
}
