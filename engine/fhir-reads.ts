/**
 * Reads for the FHIR R4 API (api/fhir/): the records behind Patient, EpisodeOfCare (a case), Task (a worklist
 * task), CarePlan (a care plan form's assessment), Appointment, Flag (an alert), Communication (a notification)
 * and AuditEvent, searched by logical id, person, FHIR status and last-updated instant, scoped to settings,
 * newest first, keyset paged. Each row comes with the settings it belongs to and whether its person's record is
 * restricted, so that the API asks the policy once per row, as the /api/v1 lists do.
 *
 * Settings of a row: those of its case when it has one; else (and always for a Patient, a Flag and an
 * AuditEvent, which are about the person) those of all the person's cases, as the patient banner is scoped.
 */
import type { Knex } from '@mikro-orm/knex';
import { ValidationError } from '../domain/errors';
import { findPatientIdByNhsNumber, type Store } from '../store';
import { knexOf, settingsOfCases } from './case-settings';
import { decodeCursor, encodeCursor } from './paging';

export const FHIR_RECORD_KINDS = [
  'Patient',
  'EpisodeOfCare',
  'Task',
  'CarePlan',
  'Appointment',
  'Flag',
  'Communication',
  'AuditEvent',
] as const;
export type FhirRecordKind = (typeof FHIR_RECORD_KINDS)[number];

/** The forms whose assessments are care plans (pathways/forms). */
export const CARE_PLAN_FORMS = ['sms-care-plan', 'release-plan'] as const;

/** A bound on the last-updated instant: `_lastUpdated=ge2026-01-01` is `{ op: '>=', at: 2026-01-01T00:00Z }`. */
export interface UpdatedBound {
  readonly op: '<' | '<=' | '>' | '>=';
  readonly at: Date;
}

export interface RecordSearch {
  /** ODS codes of the settings the caller may see; empty: nothing. */
  readonly scope: readonly string[];
  /** Logical ids (any of). */
  readonly ids?: readonly string[];
  /** The person, by a current or former NHS number. */
  readonly nhsNumber?: string;
  /** FHIR status codes (any of), as the kind's status column derives them. */
  readonly statuses?: readonly string[];
  readonly updated?: readonly UpdatedBound[];
  readonly limit: number;
  readonly cursor?: string;
}

export interface RecordRow {
  /** The FHIR logical id. */
  readonly id: string;
  /** The record's own key (what audit events name). */
  readonly key: string;
  readonly patientId: string;
  readonly nhsNumber: string;
  readonly caseId: string | null;
  /** The FHIR status, derived in SQL (see SOURCES). */
  readonly status: string | null;
  readonly lastUpdated: string;
  readonly settings: string[];
  readonly restricted: boolean;
  /** The record's columns, as the kind selects them. */
  readonly data: Record<string, unknown>;
}

export interface RecordPage {
  readonly items: RecordRow[];
  readonly nextCursor: string | null;
  readonly total: number;
}

interface Source {
  readonly from: (knex: Knex) => Knex.QueryBuilder;
  /** The primary key column; `uuid` when ids that are not UUIDs cannot match. */
  readonly key: string;
  readonly keyType: 'uuid' | 'text';
  /**
   * The FHIR logical id. Keys FHIR cannot carry as an id (`[A-Za-z0-9-.]{1,64}`: worklist task and outbox ids hold
   * `/` and `#` and run long) are named by their MD5 in hex, which PostgreSQL and Node compute alike.
   */
  readonly logicalId: string;
  /** The case the record belongs to, if any: it is scoped by that case's settings, else by the person's. */
  readonly caseColumn: string | null;
  /** The case column may be null (the record is then scoped by the person's settings). */
  readonly caseOptional?: boolean;
  readonly lastUpdated: string;
  readonly status: string | null;
  readonly columns: readonly string[];
}

const PATIENT_JOIN = 'p';

const SOURCES: Record<FhirRecordKind, Source> = {
  Patient: {
    from: (knex) => knex('patients as p'),
    key: 'p.id',
    keyType: 'uuid',
    logicalId: 'p.id::text',
    caseColumn: null,
    lastUpdated: 'p.updated_at',
    status: null,
    columns: ['p.demographics', 'p.security_label', 'p.is_restricted'],
  },
  EpisodeOfCare: {
    from: (knex) =>
      knex('cases as c').join('patients as p', 'p.id', 'c.patient_id').join('settings as s', 's.id', 'c.setting_id'),
    key: 'c.id',
    keyType: 'uuid',
    logicalId: 'c.id::text',
    caseColumn: 'c.id',
    lastUpdated: 'coalesce(c.closed_at, c.opened_at)',
    status: `case when c.status = 'open' then 'active' else 'finished' end`,
    columns: [
      'c.pathway_id',
      'c.pathway_version',
      'c.opened_at',
      'c.closed_at',
      'c.close_reason',
      's.ods_code as setting_ods_code',
      's.name as setting_name',
    ],
  },
  Task: {
    // `started` rows are planned work that an open task has replaced: the open one is the Task.
    from: (knex) =>
      knex('worklist_tasks as t')
        .join('cases as c', 'c.id', 't.case_id')
        .join('patients as p', 'p.id', 'c.patient_id')
        .whereNot('t.status', 'started'),
    key: 't.id',
    keyType: 'text',
    logicalId: 'md5(t.id)',
    caseColumn: 't.case_id',
    lastUpdated: 'coalesce(t.completed_at, t.created_at)',
    status: `case t.status when 'planned' then 'draft' when 'completed' then 'completed' when 'cancelled' then 'cancelled'
      else case when t.assignee is null then 'requested' else 'in-progress' end end`,
    columns: [
      't.element_id',
      't.name',
      't.form_id',
      't.assignee',
      't.candidate_groups',
      't.due_at',
      't.created_at',
      't.completed_at',
      't.completed_by',
      't.overdue_since',
      't.completed_late',
      't.cancel_reason',
    ],
  },
  CarePlan: {
    // A care plan is replaced by a later one of the same form for the same case (a correction or a new plan).
    from: (knex) =>
      knex('assessments as a')
        .join('cases as c', 'c.id', 'a.case_id')
        .join('patients as p', 'p.id', 'a.patient_id')
        .joinRaw(
          `left join lateral (select min(n.submitted_at) as at from assessments n where n.case_id = a.case_id
            and n.form_id = a.form_id and (n.submitted_at, n.id) > (a.submitted_at, a.id)) as later on true`,
        )
        .whereIn('a.form_id', [...CARE_PLAN_FORMS]),
    key: 'a.id',
    keyType: 'uuid',
    logicalId: 'a.id::text',
    caseColumn: 'a.case_id',
    lastUpdated: 'greatest(a.submitted_at, later.at, c.closed_at)',
    status: `case when later.at is not null then 'revoked' when c.status = 'closed' then 'completed' else 'active' end`,
    columns: ['a.form_id', 'a.form_version', 'a.data', 'a.submitted_by', 'a.submitted_at', 'a.corrects_id'],
  },
  Appointment: {
    from: (knex) => knex('appointments as ap').join('patients as p', 'p.id', 'ap.patient_id'),
    key: 'ap.id',
    keyType: 'uuid',
    logicalId: 'ap.id::text',
    caseColumn: 'ap.case_id',
    caseOptional: true,
    lastUpdated: 'ap.updated_at',
    status: `case ap.status when 'attended' then 'fulfilled' when 'missed' then 'noshow' else ap.status::text end`,
    columns: ['ap.starts_at', 'ap.ends_at', 'ap.location', 'ap.agency', 'ap.booked_by', 'ap.created_at'],
  },
  Flag: {
    from: (knex) => knex('alerts as al').join('patients as p', 'p.id', 'al.patient_id'),
    key: 'al.id',
    keyType: 'uuid',
    logicalId: 'al.id::text',
    caseColumn: null,
    lastUpdated: 'coalesce(al.resolved_at, al.raised_at)',
    status: `case al.status when 'active' then 'active' else 'inactive' end`,
    columns: [
      'al.code',
      'al.code_system',
      'al.display',
      'al.severity',
      'al.raised_at',
      'al.raised_by',
      'al.resolved_at',
    ],
  },
  Communication: {
    from: (knex) =>
      knex('notification_outbox as n')
        .leftJoin('cases as c', 'c.id', 'n.case_id')
        .join('patients as p', knex.raw('p.id = coalesce(n.patient_id, c.patient_id)'))
        .leftJoin('contacts as ct', 'ct.id', 'n.contact_id')
        .leftJoin('staff as st', 'st.id', 'n.staff_id'),
    key: 'n.id',
    keyType: 'text',
    logicalId: 'md5(n.id)',
    caseColumn: 'n.case_id',
    caseOptional: true,
    lastUpdated: 'greatest(n.created_at, n.claimed_at, n.sent_at)',
    // A failed delivery with a next attempt planned is still under way; without one it was not done.
    status: `case n.status when 'pending' then 'preparation' when 'sending' then 'in-progress' when 'sent' then 'completed'
      else case when n.next_attempt_at is null then 'not-done' else 'in-progress' end end`,
    columns: [
      'n.channel',
      'n.template',
      'n.created_at',
      'n.sent_at',
      'ct.kind as contact_kind',
      'ct.name as contact_name',
      'ct.organisation as contact_organisation',
      'ct.relationship as contact_relationship',
      'st.display_name as staff_name',
    ],
  },
  AuditEvent: {
    from: (knex) => knex('audit_events as e').join('patients as p', 'p.id', 'e.patient_id'),
    key: 'e.id',
    keyType: 'uuid',
    logicalId: 'e.id::text',
    caseColumn: null,
    lastUpdated: 'e.occurred_at',
    status: null,
    columns: [
      'e.actor_id',
      'e.actor_role',
      'e.actor_subject',
      'e.action',
      'e.operation',
      'e.entity_type',
      'e.entity_id',
      'e.reason',
      'e.occurred_at',
      'e.request_id',
      'e.purpose',
      'e.setting_ods_code',
    ],
  },
};

const CURSOR_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
/** An instant as the cursor writes it, that PostgreSQL will take (no 30 February). */
function isCursorInstant(text: string): boolean {
  if (!CURSOR_INSTANT.test(text)) return false;
  const parsed = new Date(text);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 19) === text.slice(0, 19);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether the kind has a status the search can filter on. */
export function hasFhirStatus(kind: FhirRecordKind): boolean {
  return SOURCES[kind].status !== null;
}

// The same rule as isRestrictedPatient (case-list.ts), for a page of rows at once.
const RESTRICTED = `(${PATIENT_JOIN}.is_restricted or coalesce(${PATIENT_JOIN}.security_label in ('R', 'V'), false)
  or exists (select 1 from patient_flags pf where pf.patient_id = ${PATIENT_JOIN}.id
    and pf.code = 'RESTRICTED_RECORD' and pf.status = 'active'))`;

/** Records of one kind, newest first (by last-updated instant, then key), with the total that match. */
export async function searchFhirRecords(store: Store, kind: FhirRecordKind, search: RecordSearch): Promise<RecordPage> {
  if (search.scope.length === 0) return { items: [], nextCursor: null, total: 0 };
  const source = SOURCES[kind];
  const knex = knexOf(store);
  const q = source.from(knex);
  const caseExpr = source.caseColumn ?? 'null::uuid';
  // In scope when a setting of its case (else of any of the person's cases) is one the caller may see. Two plain
  // EXISTS rather than one with a CASE inside, so that each can use the case_settings and cases indexes.
  const ofCase = () =>
    knex('case_settings as cs')
      .join('settings as ss', 'ss.id', 'cs.setting_id')
      .whereIn('ss.ods_code', [...search.scope])
      .whereRaw(`cs.case_id = ${caseExpr}`);
  const ofPerson = () =>
    knex('cases as sc')
      .join('case_settings as cs', 'cs.case_id', 'sc.id')
      .join('settings as ss', 'ss.id', 'cs.setting_id')
      .whereIn('ss.ods_code', [...search.scope])
      .whereRaw('sc.patient_id = p.id');
  if (!source.caseColumn) void q.whereExists(ofPerson());
  else if (!source.caseOptional) void q.whereExists(ofCase());
  else
    void q.where((w) => {
      void w
        .where((one) => void one.whereNotNull(caseExpr).whereExists(ofCase()))
        .orWhere((other) => void other.whereNull(caseExpr).whereExists(ofPerson()));
    });
  if (search.ids) {
    const ids = source.keyType === 'uuid' ? search.ids.filter((id) => UUID.test(id)) : search.ids;
    if (source.keyType === 'uuid') void q.whereIn(source.key, ids);
    else void q.whereRaw(`${source.logicalId} = any(?)`, [[...ids]]);
  }
  if (search.nhsNumber !== undefined) {
    const patientId = await findPatientIdByNhsNumber(store.fork(), search.nhsNumber);
    if (!patientId) return { items: [], nextCursor: null, total: 0 };
    void q.where('p.id', patientId);
  }
  if (search.statuses && source.status) void q.whereRaw(`(${source.status}) = any(?)`, [[...search.statuses]]);
  for (const bound of search.updated ?? [])
    // As seconds since the epoch: an ISO string of a year past 9999 (`+010000-…`) is not one PostgreSQL reads.
    void q.whereRaw(`${source.lastUpdated} ${bound.op} to_timestamp(?::double precision / 1000)`, [bound.at.getTime()]);
  const counted = q.clone().clearSelect().count<{ count: string }[]>({ count: '*' });
  if (search.cursor) {
    const [at, key] = decodeCursor(search.cursor, 2) as [string, string];
    // Checked before PostgreSQL casts them: a cursor that was tampered with is a problem, not a 500.
    if (!isCursorInstant(at) || (source.keyType === 'uuid' && !UUID.test(key)))
      throw new ValidationError('The cursor is not valid', [
        { pointer: '/cursor', detail: 'must be the cursor of an earlier page, unchanged' },
      ]);
    void q.whereRaw(`(${source.lastUpdated}, ${source.key}) < (?::timestamptz, ?::${source.keyType})`, [at, key]);
  }
  // The instant as text to the microsecond: a JavaScript Date keeps milliseconds only, and a cursor that lost
  // the rest would skip rows updated in the same millisecond.
  const rows = (await q
    .select(
      ...source.columns,
      knex.raw(`${source.key}::text as record_key`),
      knex.raw(`${source.logicalId} as logical_id`),
      knex.raw(`p.id as record_patient_id`),
      knex.raw(`p.nhs_number as record_nhs_number`),
      knex.raw(`${caseExpr} as record_case_id`),
      knex.raw(`${source.status ?? 'null'} as record_status`),
      knex.raw(`${source.lastUpdated} as record_updated_at`),
      knex.raw(
        `to_char(${source.lastUpdated} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as record_updated_cursor`,
      ),
      knex.raw(`${RESTRICTED} as record_restricted`),
    )
    .orderByRaw(`${source.lastUpdated} desc, ${source.key} desc`)
    .limit(search.limit + 1)) as Record<string, unknown>[];
  const page = rows.slice(0, search.limit);
  const caseIds = page.map((r) => r['record_case_id'] as string | null).filter((id): id is string => id !== null);
  const personal = page.filter((r) => r['record_case_id'] === null).map((r) => r['record_patient_id'] as string);
  const [ofCases, ofPatients, [{ count } = { count: '0' }]] = await Promise.all([
    settingsOfCases(store, caseIds),
    settingsOfPatients(store, personal),
    counted,
  ]);
  const last = page[page.length - 1];
  return {
    items: page.map((r) => {
      const caseId = r['record_case_id'] as string | null;
      const patientId = r['record_patient_id'] as string;
      return {
        id: r['logical_id'] as string,
        key: r['record_key'] as string,
        patientId,
        nhsNumber: r['record_nhs_number'] as string,
        caseId,
        status: r['record_status'] as string | null,
        lastUpdated: new Date(r['record_updated_at'] as Date).toISOString(),
        settings: (caseId ? ofCases.get(caseId) : ofPatients.get(patientId)) ?? [],
        restricted: r['record_restricted'] === true,
        data: r,
      };
    }),
    nextCursor:
      rows.length > search.limit && last
        ? encodeCursor([last['record_updated_cursor'] as string, last['record_key'] as string])
        : null,
    total: Number(count),
  };
}

/** The ODS codes of the settings of all each person's cases. */
export async function settingsOfPatients(store: Store, patientIds: readonly string[]): Promise<Map<string, string[]>> {
  const byPatient = new Map<string, string[]>(patientIds.map((id) => [id, []]));
  if (patientIds.length === 0) return byPatient;
  const rows = await knexOf(store)('cases as c')
    .join('case_settings as cs', 'cs.case_id', 'c.id')
    .join('settings as s', 's.id', 'cs.setting_id')
    .whereIn('c.patient_id', [...new Set(patientIds)])
    .distinct<{ patient_id: string; ods_code: string }[]>('c.patient_id', 's.ods_code')
    .orderBy('s.ods_code');
  for (const row of rows) byPatient.get(row.patient_id)?.push(row.ods_code);
  return byPatient;
}
