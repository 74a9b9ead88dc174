/**
 * A case's timeline: what happened to it, newest first, read from what the record store keeps with a time and
 * the case's id (the case row, its settings, worklist tasks, assessments, notes, alerts, appointment status
 * changes, notifications, incidents and their resolutions, and the messages delivered to it through the API,
 * as their audit events say). Nothing here is written: each event is a row (or a row's column) already kept.
 *
 * Each event carries `detail` (operational: ids, names of steps, statuses) apart from `clinical` (what a
 * person wrote or was found to have: note text, alert wording, coded findings, reasons given) and `contact`
 * (where: an appointment's location), so the caller can drop what the viewer may not see.
 */
import type { Knex } from '@mikro-orm/knex';
import { ValidationError } from '../domain/errors';
import type { Store } from '../store';
import { knexOf } from './case-settings';
import { decodeCursor, encodeCursor, type Page } from './paging';

/** What the timeline can be filtered by: the first part of an event's kind. */
export const TIMELINE_CATEGORIES = [
  'case',
  'task',
  'assessment',
  'note',
  'alert',
  'appointment',
  'notification',
  'incident',
  'message',
] as const;
export type TimelineCategory = (typeof TIMELINE_CATEGORIES)[number];

export interface TimelineEvent {
  /** Stable and unique in the case: `<kind>:<row id>`. */
  readonly eventId: string;
  /** `case.opened`, `task.completed`, `appointment.missed`, `notification.sent`... */
  readonly kind: string;
  readonly at: string;
  /** Who acted, when the record says (a staff subject or id, `system:pathway`). */
  readonly by: string | null;
  /** The record the event is about. */
  readonly ref: { readonly type: string; readonly id: string };
  readonly detail: Record<string, unknown>;
  /** Clinical content: absent when there is none. */
  readonly clinical?: Record<string, unknown>;
  /** Contact details (an appointment's location): absent when there are none. */
  readonly contact?: Record<string, unknown>;
}

export interface TimelineQuery {
  readonly caseId: string;
  readonly limit: number;
  readonly cursor?: string;
  readonly category?: TimelineCategory;
}

interface EventRow {
  event_id: string;
  kind: string;
  at: Date;
  at_key: string;
  actor: string | null;
  ref_type: string;
  ref_id: string;
  detail: Record<string, unknown> | null;
  clinical: Record<string, unknown> | null;
  contact: Record<string, unknown> | null;
}

/**
 * One select per kind of record; each yields (event_id, kind, at, actor, ref_type, ref_id, detail, clinical,
 * contact) for the case bound to `:caseId`. jsonb_strip_nulls leaves out what the row does not have.
 */
const SOURCES: Record<TimelineCategory, string[]> = {
  case: [
    `select 'case.opened:' || c.id, 'case.opened', c.opened_at, null::text, 'Case', c.id::text,
       jsonb_build_object('pathwayId', c.pathway_id, 'pathwayVersion', c.pathway_version), null::jsonb, null::jsonb
     from cases c where c.id = :caseId`,
    `select 'case.closed:' || c.id, 'case.closed', c.closed_at, null::text, 'Case', c.id::text,
       jsonb_strip_nulls(jsonb_build_object('reason', c.close_reason)), null::jsonb, null::jsonb
     from cases c where c.id = :caseId and c.closed_at is not null`,
    `select 'case.setting-added:' || cs.case_id || ':' || s.ods_code, 'case.setting-added', cs.recorded_at,
       cs.recorded_by, 'Setting', s.ods_code, jsonb_build_object('settingOdsCode', s.ods_code, 'reason', cs.reason),
       null::jsonb, null::jsonb
     from case_settings cs join settings s on s.id = cs.setting_id where cs.case_id = :caseId`,
  ],
  task: [
    // Planned work is a promise about the future, not something that happened; it shows once it opens.
    `select 'task.opened:' || t.id, 'task.opened', t.created_at, null::text, 'WorklistTask', t.id,
       jsonb_strip_nulls(jsonb_build_object('taskId', t.id, 'elementId', t.element_id, 'name', t.name,
         'formId', t.form_id, 'dueAt', t.due_at)), null::jsonb, null::jsonb
     from worklist_tasks t where t.case_id = :caseId and t.status in ('open', 'completed', 'cancelled')`,
    `select 'task.completed:' || t.id, 'task.completed', t.completed_at, t.completed_by, 'WorklistTask', t.id,
       jsonb_build_object('taskId', t.id, 'elementId', t.element_id, 'name', t.name, 'completedLate', t.completed_late),
       null::jsonb, null::jsonb
     from worklist_tasks t where t.case_id = :caseId and t.completed_at is not null`,
    // The row keeps no time of cancelling: the audit event written with the change does.
    `select 'task.cancelled:' || t.id, 'task.cancelled',
       coalesce((select max(ae.occurred_at) from audit_events ae
                 where ae.entity_type = 'WorklistTask' and ae.entity_id = t.id and ae.action = 'update'), t.created_at),
       null::text, 'WorklistTask', t.id,
       jsonb_strip_nulls(jsonb_build_object('taskId', t.id, 'elementId', t.element_id, 'name', t.name,
         'reason', t.cancel_reason)), null::jsonb, null::jsonb
     from worklist_tasks t where t.case_id = :caseId and t.status = 'cancelled'`,
  ],
  assessment: [
    `select 'assessment.submitted:' || a.id, 'assessment.submitted', a.submitted_at, a.submitted_by, 'Assessment',
       a.id::text, jsonb_strip_nulls(jsonb_build_object('formId', a.form_id, 'formVersion', a.form_version,
         'taskId', a.task_id, 'corrects', a.corrects_id)),
       jsonb_build_object('snomedCodes', to_jsonb(a.snomed_codes)), null::jsonb
     from assessments a where a.case_id = :caseId`,
  ],
  note: [
    `select 'note.written:' || n.id, 'note.written', n.written_at, n.author_id, 'Note', n.id::text,
       jsonb_strip_nulls(jsonb_build_object('authorRole', n.author_role, 'amends', n.amends_id)),
       jsonb_strip_nulls(jsonb_build_object('body', n.body, 'amendmentReason', n.amendment_reason)), null::jsonb
     from notes n where n.case_id = :caseId`,
  ],
  alert: [
    `select 'alert.raised:' || al.id, 'alert.raised', al.raised_at, al.raised_by, 'Alert', al.id::text,
       jsonb_build_object('alertId', al.id, 'severity', al.severity),
       jsonb_strip_nulls(jsonb_build_object('code', al.code, 'codeSystem', al.code_system, 'display', al.display,
         'reason', al.raise_reason)), null::jsonb
     from alerts al where al.case_id = :caseId`,
    `select 'alert.resolved:' || al.id, 'alert.resolved', al.resolved_at, al.resolved_by, 'Alert', al.id::text,
       jsonb_build_object('alertId', al.id, 'severity', al.severity),
       jsonb_strip_nulls(jsonb_build_object('display', al.display, 'reason', al.resolution_reason)), null::jsonb
     from alerts al where al.case_id = :caseId and al.resolved_at is not null`,
  ],
  appointment: [
    `select 'appointment.' || sc.to_status || ':' || sc.id, 'appointment.' || sc.to_status, sc.changed_at,
       sc.changed_by, 'Appointment', ap.id::text,
       jsonb_strip_nulls(jsonb_build_object('appointmentId', ap.id, 'startsAt', ap.starts_at, 'agency', ap.agency,
         'fromStatus', sc.from_status)),
       jsonb_strip_nulls(jsonb_build_object('reason', sc.reason)), jsonb_build_object('location', ap.location)
     from appointment_status_changes sc join appointments ap on ap.id = sc.appointment_id
     where ap.case_id = :caseId`,
  ],
  notification: [
    `select 'notification.queued:' || nt.id, 'notification.queued', nt.created_at, null::text, 'Notification', nt.id,
       jsonb_strip_nulls(jsonb_build_object('template', nt.template, 'channel', nt.channel, 'status', nt.status,
         'recipient', case when nt.staff_id is not null then 'staff' else ct.kind end)), null::jsonb, null::jsonb
     from notification_outbox nt left join contacts ct on ct.id = nt.contact_id where nt.case_id = :caseId`,
    `select 'notification.sent:' || nt.id, 'notification.sent', nt.sent_at, null::text, 'Notification', nt.id,
       jsonb_strip_nulls(jsonb_build_object('template', nt.template, 'channel', nt.channel, 'transport', nt.transport)),
       null::jsonb, null::jsonb
     from notification_outbox nt where nt.case_id = :caseId and nt.sent_at is not null`,
  ],
  incident: [
    `select 'incident.raised:' || i.id, 'incident.raised', i.raised_at, null::text, 'Incident', i.id,
       jsonb_strip_nulls(jsonb_build_object('incidentId', i.id, 'elementId', i.element_id, 'kind', i.kind,
         'errorCode', i.error_code, 'message', i.message)), null::jsonb, null::jsonb
     from incidents i where i.case_id = :caseId`,
    `select 'incident.resolved:' || i.id, 'incident.resolved', r.resolved_at, r.resolved_by, 'Incident', i.id,
       jsonb_strip_nulls(jsonb_build_object('incidentId', i.id, 'outcome', r.outcome, 'reason', r.reason)), null::jsonb, null::jsonb
     from incident_resolutions r join incidents i on i.id = r.incident_id where i.case_id = :caseId`,
  ],
  message: [
    `select 'message.delivered:' || ae.id, 'message.delivered', ae.occurred_at, coalesce(ae.actor_subject, ae.actor_id),
       'Case', ae.entity_id, jsonb_strip_nulls(jsonb_build_object('result', ae.reason)), null::jsonb, null::jsonb
     from audit_events ae
     where ae.entity_type = 'Case' and ae.entity_id = :caseId::text and ae.operation = 'case.message'`,
  ],
};

const COLUMNS = '(event_id, kind, at, actor, ref_type, ref_id, detail, clinical, contact)';

function eventsOf(knex: Knex, caseId: string, category?: TimelineCategory): Knex.Raw {
  const selects = category ? SOURCES[category] : Object.values(SOURCES).flat();
  return knex.raw(selects.map((s) => `(${s})`).join('\nunion all\n'), { caseId });
}

/** A page of the case's timeline, newest first; `total`: how many events it has in all (with the filter). */
export async function caseTimeline(
  store: Store,
  query: TimelineQuery,
): Promise<Page<TimelineEvent> & { total: number }> {
  const knex = knexOf(store);
  const events = eventsOf(knex, query.caseId, query.category);
  const from = knex.raw(`(?) as e ${COLUMNS}`, [events]);
  const q = knex
    .from(from)
    .select<EventRow[]>(
      'event_id',
      'kind',
      'at',
      // Microseconds, in UTC: a cursor at millisecond precision would skip or repeat events.
      knex.raw(`to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') as at_key`),
      'actor',
      'ref_type',
      'ref_id',
      'detail',
      'clinical',
      'contact',
    )
    .orderBy([
      { column: 'at', order: 'desc' },
      { column: 'event_id', order: 'desc' },
    ])
    .limit(query.limit + 1);
  if (query.cursor) {
    const [atKey, eventId] = decodeCursor(query.cursor, 2) as [string, string];
    // Checked before it reaches SQL: a day that does not exist, or a NUL, would be a database error, not a 400.
    const millis = atKey.slice(0, 23);
    const isInstant =
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/.test(atKey) &&
      !Number.isNaN(Date.parse(`${millis}Z`)) &&
      new Date(`${millis}Z`).toISOString().slice(0, 23) === millis;
    // eslint-disable-next-line no-control-regex
    if (!isInstant || !/^[^\u0000-\u001f]{1,600}$/.test(eventId))
      throw new ValidationError('The cursor is not valid', [
        { pointer: '/cursor', detail: 'must be the nextCursor of an earlier page, unchanged' },
      ]);
    void q.whereRaw(`(at, event_id) < ((?::timestamp at time zone 'UTC'), ?)`, [atKey, eventId]);
  }
  const [rows, counted] = await Promise.all([
    q,
    knex.from(knex.raw(`(?) as e ${COLUMNS}`, [eventsOf(knex, query.caseId, query.category)])).count<{ n: string }[]>({
      n: '*',
    }),
  ]);
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    items: page.map((r) => ({
      eventId: r.event_id,
      kind: r.kind,
      at: new Date(r.at).toISOString(),
      by: r.actor,
      ref: { type: r.ref_type, id: r.ref_id },
      detail: r.detail ?? {},
      ...(r.clinical && Object.keys(r.clinical).length > 0 ? { clinical: r.clinical } : {}),
      ...(r.contact && Object.keys(r.contact).length > 0 ? { contact: r.contact } : {}),
    })),
    nextCursor: rows.length > query.limit && last ? encodeCursor([last.at_key, last.event_id]) : null,
    total: Number(counted[0]?.n ?? 0),
  };
}
