/**
 * The FHIR R4 resources /fhir/R4 serves, in one table: for each, the policy actions it asks (the same as its REST
 * equivalent), the search parameters it takes, its UK Core profile, and how a store row (engine/fhir-reads.ts)
 * becomes the resource. The router (router.ts) and the CapabilityStatement (capability-statement.ts) are both
 * built from this table, so what is served and what is declared cannot drift.
 *
 * Types come from @types/fhir (`fhir/r4`), never written by hand.
 */
import type {
  Appointment,
  AuditEvent,
  CarePlan,
  Communication,
  EpisodeOfCare,
  Flag,
  Goal,
  HumanName,
  Identifier,
  Meta,
  Patient,
  Reference,
  Resource,
  Task,
} from 'fhir/r4';
import type { FhirRecordKind, RecordRow } from '../../engine';
import { readFormSchema } from '../../pathways';
import { withoutContactDetails, type Action, type View } from '../policy';

export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
export const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
const UK_CORE = 'https://fhir.hl7.org.uk/StructureDefinition/UKCore-';
/** Throughcare's own identifiers, so a partner can cross-reference a resource with /api/v1. */
const LOCAL_ID = 'https://throughcare.dev/Id/';

/** The search parameters the router knows; each resource takes a subset (SearchParameterName). */
export const SEARCH_PARAMETERS = {
  _id: { type: 'token', documentation: 'Logical id, or several separated by commas' },
  identifier: {
    type: 'token',
    documentation: `NHS number, as \`${NHS_NUMBER_SYSTEM}|9434765919\` or the ten digits alone (current or former)`,
  },
  patient: {
    type: 'reference',
    documentation: `The person, by NHS number: \`${NHS_NUMBER_SYSTEM}|9434765919\` or the ten digits alone`,
  },
  status: { type: 'token', documentation: 'Status code, or several separated by commas' },
  _lastUpdated: {
    type: 'date',
    documentation:
      'When the resource last changed: a date or dateTime with an optional prefix eq, gt, ge, lt, le; give it twice for a range',
  },
} as const;
export type SearchParameterName = keyof typeof SEARCH_PARAMETERS;

export interface FhirResourceSpec {
  readonly type: FhirRecordKind;
  readonly profile: string;
  /** The policy action of a read by id and of a search: those of the REST equivalent. */
  readonly readAction: Action;
  readonly searchAction: Action;
  /** What an audit event names the record as (as /api/v1 does). */
  readonly entityType: string;
  readonly searchParams: readonly SearchParameterName[];
  /** The status codes the resource takes (and `status` searches), when it has a status. */
  readonly statuses?: readonly string[];
  readonly toResource: (row: RecordRow, view: View) => Resource;
}

/** A reference to the person: by id here, and by NHS number for systems that key people by it. */
function patientReference(row: RecordRow): Reference {
  return {
    reference: `Patient/${row.patientId}`,
    type: 'Patient',
    identifier: { system: NHS_NUMBER_SYSTEM, value: row.nhsNumber },
  };
}

const episodeReference = (caseId: string): Reference => ({
  reference: `EpisodeOfCare/${caseId}`,
  type: 'EpisodeOfCare',
});

function meta(profile: string, row: RecordRow): Meta {
  return { profile: [profile], lastUpdated: row.lastUpdated };
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const instant = (value: unknown): string | undefined =>
  value === null || value === undefined ? undefined : new Date(value as string | Date).toISOString();
const localId = (kind: string, value: string): Identifier => ({ system: `${LOCAL_ID}${kind}`, value });

function json(value: unknown): Record<string, unknown> | null {
  if (typeof value === 'string') return JSON.parse(value) as Record<string, unknown>;
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : null;
}

function toPatient(row: RecordRow, view: View): Patient {
  const demographics = json(row.data['demographics']) ?? {};
  const label = row.data['security_label'] as string | null;
  const gender = demographics['gender'];
  return {
    resourceType: 'Patient',
    id: row.id,
    meta: {
      ...meta(`${UK_CORE}Patient`, row),
      ...(label === 'R' || label === 'V' || row.restricted
        ? {
            security: [
              { system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: label === 'V' ? 'V' : 'R' },
            ],
          }
        : {}),
    },
    identifier: [{ system: NHS_NUMBER_SYSTEM, value: row.nhsNumber }],
    ...(Array.isArray(demographics['name']) ? { name: demographics['name'] as HumanName[] } : {}),
    ...(gender === 'male' || gender === 'female' || gender === 'other' || gender === 'unknown' ? { gender } : {}),
    ...(text(demographics['birthDate']) ? { birthDate: text(demographics['birthDate']) } : {}),
    ...(text(demographics['deceasedDateTime']) ? { deceasedDateTime: text(demographics['deceasedDateTime']) } : {}),
    // Only where the view allows it: never for a restricted record.
    ...(view.contactDetails && Array.isArray(demographics['address'])
      ? { address: demographics['address'] as Patient['address'] }
      : {}),
    ...(view.contactDetails && Array.isArray(demographics['telecom'])
      ? { telecom: demographics['telecom'] as Patient['telecom'] }
      : {}),
  };
}

function toEpisodeOfCare(row: RecordRow): EpisodeOfCare {
  const d = row.data;
  return {
    resourceType: 'EpisodeOfCare',
    id: row.id,
    meta: meta(`${UK_CORE}EpisodeOfCare`, row),
    identifier: [localId('case', row.key)],
    status: row.status as EpisodeOfCare['status'],
    type: [{ text: `${d['pathway_id'] as string} v${d['pathway_version'] as number}` }],
    patient: patientReference(row),
    managingOrganization: {
      type: 'Organization',
      identifier: { system: ODS_SYSTEM, value: d['setting_ods_code'] as string },
      display: d['setting_name'] as string,
    },
    period: { start: instant(d['opened_at'])!, ...(d['closed_at'] ? { end: instant(d['closed_at'])! } : {}) },
  };
}

function toTask(row: RecordRow): Task {
  const d = row.data;
  const business = d['completed_late'] ? 'completed-late' : d['overdue_since'] ? 'overdue' : undefined;
  const formId = text(d['form_id']);
  return {
    resourceType: 'Task',
    id: row.id,
    meta: meta(`${UK_CORE}Task`, row),
    identifier: [localId('worklist-task', row.key)],
    status: row.status as Task['status'],
    ...(business ? { businessStatus: { text: business } } : {}),
    ...(d['cancel_reason'] ? { statusReason: { text: d['cancel_reason'] as string } } : {}),
    intent: 'order',
    code: { text: d['name'] as string },
    description: d['name'] as string,
    for: patientReference(row),
    ...(row.caseId ? { focus: episodeReference(row.caseId), basedOn: [episodeReference(row.caseId)] } : {}),
    authoredOn: instant(d['created_at'])!,
    lastModified: row.lastUpdated,
    executionPeriod: {
      start: instant(d['created_at'])!,
      ...(d['completed_at'] ? { end: instant(d['completed_at'])! } : {}),
    },
    ...(d['due_at'] ? { restriction: { period: { end: instant(d['due_at'])! } } } : {}),
    ...(text(d['assignee']) ? { owner: { identifier: localId('staff-subject', d['assignee'] as string) } } : {}),
    ...(Array.isArray(d['candidate_groups']) && (d['candidate_groups'] as string[]).length
      ? { performerType: (d['candidate_groups'] as string[]).map((group) => ({ text: group })) }
      : {}),
    // The form the task is done with, by its published JSON Schema: the answers themselves are not in the Task.
    ...(formId ? { input: [{ type: { text: 'form' }, valueCanonical: `/api/v1/forms/${formId}.schema.json` }] } : {}),
  };
}

interface CarePlanGoal {
  goal?: unknown;
  actions?: unknown;
  responsible?: unknown;
  targetDate?: unknown;
}

const formTitles = new Map<string, { title: string; treatments: Record<string, string> }>();

/** A care plan form's title and the words for its treatment plan codes, from the form's own JSON Schema. */
function formWords(formId: string): { title: string; treatments: Record<string, string> } {
  let words = formTitles.get(formId);
  if (!words) {
    const schema = readFormSchema(formId) as {
      title?: string;
      properties?: { treatmentPlan?: { 'x-enum-titles'?: Record<string, string> } };
    };
    words = { title: schema.title ?? formId, treatments: schema.properties?.treatmentPlan?.['x-enum-titles'] ?? {} };
    formTitles.set(formId, words);
  }
  return words;
}

function toCarePlan(row: RecordRow, view: View): CarePlan {
  const d = row.data;
  const answers = json(d['data']) ?? {};
  const goals = (Array.isArray(answers['goals']) ? answers['goals'] : []) as CarePlanGoal[];
  const contained: Goal[] = goals.map((goal, index) => ({
    resourceType: 'Goal',
    id: `goal-${index + 1}`,
    lifecycleStatus: 'active',
    description: { text: typeof goal.goal === 'string' ? goal.goal : '' },
    subject: patientReference(row),
    ...(typeof goal.targetDate === 'string' ? { target: [{ dueDate: goal.targetDate }] } : {}),
  }));
  const agreedOn = text(answers['agreedOn']) ?? text(answers['releaseDate']);
  const words = formWords(d['form_id'] as string);
  const treatment = text(answers['treatmentPlan']);
  return {
    resourceType: 'CarePlan',
    id: row.id,
    meta: meta(`${UK_CORE}CarePlan`, row),
    identifier: [localId('assessment', row.key)],
    status: row.status as CarePlan['status'],
    intent: 'plan',
    title: words.title,
    subject: patientReference(row),
    ...(row.caseId ? { supportingInfo: [episodeReference(row.caseId)] } : {}),
    created: instant(d['submitted_at'])!,
    author: { identifier: localId('staff-subject', d['submitted_by'] as string) },
    ...(d['corrects_id'] ? { replaces: [{ reference: `CarePlan/${d['corrects_id'] as string}` }] } : {}),
    // The plan's content is clinical: goals, actions and treatment only where the view shows clinical content.
    ...(view.clinicalContent
      ? {
          ...(agreedOn ? { period: { start: agreedOn } } : {}),
          ...(treatment ? { description: `Treatment plan: ${words.treatments[treatment] ?? treatment}` } : {}),
          ...(contained.length ? { contained, goal: contained.map((g) => ({ reference: `#${g.id!}` })) } : {}),
          ...(goals.length
            ? {
                activity: goals.map((goal, index) => ({
                  detail: {
                    status: 'not-started' as const,
                    description: typeof goal.actions === 'string' ? goal.actions : '',
                    goal: [{ reference: `#goal-${index + 1}` }],
                    ...(typeof goal.responsible === 'string' ? { performer: [{ display: goal.responsible }] } : {}),
                  },
                })),
              }
            : {}),
        }
      : {}),
  };
}

function toAppointment(row: RecordRow, view: View): Appointment {
  const d = row.data;
  return {
    resourceType: 'Appointment',
    id: row.id,
    meta: meta(`${UK_CORE}Appointment`, row),
    status: row.status as Appointment['status'],
    start: instant(d['starts_at'])!,
    ...(d['ends_at'] ? { end: instant(d['ends_at'])! } : {}),
    created: instant(d['created_at'])!,
    ...(row.caseId ? { supportingInformation: [episodeReference(row.caseId)] } : {}),
    participant: [
      { actor: patientReference(row), status: 'accepted' },
      // With whom and where are care, not case state: shown where clinical content is, where only for a record
      // whose contact details may be shown (a restricted person's whereabouts are not told).
      ...(view.clinicalContent ? [{ actor: { display: d['agency'] as string }, status: 'accepted' as const }] : []),
      ...(view.clinicalContent && view.contactDetails
        ? [{ actor: { type: 'Location', display: d['location'] as string }, status: 'accepted' as const }]
        : []),
    ],
  };
}

const FLAG_PRIORITY: Record<string, string> = { low: 'PL', medium: 'PM', high: 'PH' };

function toFlag(row: RecordRow): Flag {
  const d = row.data;
  const system = d['code_system'] as string;
  return {
    resourceType: 'Flag',
    id: row.id,
    meta: meta(`${UK_CORE}Flag`, row),
    extension: [
      {
        url: 'http://hl7.org/fhir/StructureDefinition/flag-priority',
        valueCodeableConcept: {
          coding: [{ system: 'http://hl7.org/fhir/flag-priority-code', code: FLAG_PRIORITY[d['severity'] as string] }],
          text: d['severity'] as string,
        },
      },
    ],
    status: row.status as Flag['status'],
    code: {
      coding: [
        {
          ...(/^https?:\/\//.test(system) ? { system } : {}),
          code: d['code'] as string,
          display: d['display'] as string,
        },
      ],
      text: d['display'] as string,
    },
    subject: patientReference(row),
    period: { start: instant(d['raised_at'])!, ...(d['resolved_at'] ? { end: instant(d['resolved_at'])! } : {}) },
    author: { identifier: localId('staff-subject', d['raised_by'] as string) },
  };
}

const MEDIUM: Record<string, string> = { email: 'EMAILWRIT', sms: 'SMSWRIT', letter: 'MAILWRIT' };

function toCommunication(row: RecordRow, view: View): Communication {
  const d = row.data;
  const kind = d['contact_kind'] as string | null;
  // A contact of the person (family, agency) is theirs: not shown when their contact details may not be.
  const recipient: Reference | undefined = kind
    ? view.contactDetails
      ? {
          type: kind === 'agency' ? 'Organization' : 'RelatedPerson',
          display: [d['contact_name'], d['contact_organisation'], d['contact_relationship']]
            .filter((part) => typeof part === 'string' && part !== '')
            .join(', '),
        }
      : undefined
    : { type: 'Practitioner', display: d['staff_name'] as string };
  return {
    resourceType: 'Communication',
    id: row.id,
    meta: meta(`${UK_CORE}Communication`, row),
    identifier: [localId('notification', row.key)],
    status: row.status as Communication['status'],
    subject: patientReference(row),
    ...(row.caseId ? { about: [episodeReference(row.caseId)] } : {}),
    medium: [
      {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationMode',
            code: MEDIUM[d['channel'] as string],
          },
        ],
        text: d['channel'] as string,
      },
    ],
    topic: { text: d['template'] as string },
    ...(d['sent_at'] ? { sent: instant(d['sent_at'])! } : {}),
    ...(recipient ? { recipient: [recipient] } : {}),
  };
}

const AUDIT_ACTION: Record<string, AuditEvent['action']> = { read: 'R', create: 'C', update: 'U' };

function toAuditEvent(row: RecordRow): AuditEvent {
  const d = row.data;
  const who = (d['actor_subject'] as string | null) ?? (d['actor_id'] as string);
  return {
    resourceType: 'AuditEvent',
    id: row.id,
    meta: meta(`${UK_CORE}AuditEvent`, row),
    type: {
      system: 'http://terminology.hl7.org/CodeSystem/audit-event-type',
      code: 'rest',
      display: 'RESTful Operation',
    },
    ...(d['operation'] ? { subtype: [{ system: `${LOCAL_ID}operation`, code: d['operation'] as string }] } : {}),
    action: AUDIT_ACTION[d['action'] as string] ?? 'E',
    recorded: instant(d['occurred_at'])!,
    outcome: '0',
    ...(d['purpose']
      ? {
          purposeOfEvent: [
            {
              coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: d['purpose'] as string }],
            },
          ],
        }
      : {}),
    agent: [
      {
        who: { identifier: localId(d['actor_subject'] ? 'staff-subject' : 'actor', who) },
        role: [{ text: d['actor_role'] as string }],
        requestor: true,
      },
    ],
    source: {
      observer: { display: 'Throughcare' },
      ...(d['setting_ods_code'] ? { site: d['setting_ods_code'] as string } : {}),
    },
    entity: [
      {
        what: patientReference(row),
        type: { code: '1', system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type' },
      },
      {
        what: { identifier: localId(String(d['entity_type']), d['entity_id'] as string) },
        ...(d['reason'] ? { description: d['reason'] as string } : {}),
        ...(d['request_id'] ? { detail: [{ type: 'requestId', valueString: d['request_id'] as string }] } : {}),
      },
    ],
  };
}

/** Every resource type served, in the order the CapabilityStatement lists them. */
export const FHIR_RESOURCES: readonly FhirResourceSpec[] = [
  {
    type: 'Patient',
    profile: `${UK_CORE}Patient`,
    readAction: 'patient.read',
    searchAction: 'patient.read',
    entityType: 'Patient',
    searchParams: ['_id', 'identifier', '_lastUpdated'],
    toResource: toPatient,
  },
  {
    type: 'EpisodeOfCare',
    profile: `${UK_CORE}EpisodeOfCare`,
    readAction: 'case.read',
    searchAction: 'case.list',
    entityType: 'Case',
    searchParams: ['_id', 'patient', 'status', '_lastUpdated'],
    statuses: ['active', 'finished'],
    toResource: toEpisodeOfCare,
  },
  {
    type: 'Task',
    profile: `${UK_CORE}Task`,
    readAction: 'task.read',
    searchAction: 'task.list',
    entityType: 'WorklistTask',
    searchParams: ['_id', 'patient', 'status', '_lastUpdated'],
    statuses: ['draft', 'requested', 'in-progress', 'completed', 'cancelled'],
    toResource: toTask,
  },
  {
    type: 'CarePlan',
    profile: `${UK_CORE}CarePlan`,
    readAction: 'care-plan.list',
    searchAction: 'care-plan.list',
    entityType: 'Assessment',
    searchParams: ['_id', 'patient', 'status', '_lastUpdated'],
    statuses: ['active', 'revoked', 'completed'],
    toResource: toCarePlan,
  },
  {
    type: 'Appointment',
    profile: `${UK_CORE}Appointment`,
    readAction: 'appointment.list',
    searchAction: 'appointment.list',
    entityType: 'Appointment',
    searchParams: ['_id', 'patient', 'status', '_lastUpdated'],
    statuses: ['booked', 'fulfilled', 'noshow', 'cancelled'],
    toResource: toAppointment,
  },
  {
    type: 'Flag',
    profile: `${UK_CORE}Flag`,
    readAction: 'alert.list',
    searchAction: 'alert.list',
    entityType: 'Alert',
    searchParams: ['_id', 'patient', 'status', '_lastUpdated'],
    statuses: ['active', 'inactive'],
    toResource: toFlag,
  },
  {
    type: 'Communication',
    profile: `${UK_CORE}Communication`,
    readAction: 'notification.list',
    searchAction: 'notification.list',
    entityType: 'Notification',
    searchParams: ['_id', 'patient', 'status', '_lastUpdated'],
    statuses: ['preparation', 'in-progress', 'completed', 'not-done'],
    toResource: toCommunication,
  },
  {
    type: 'AuditEvent',
    profile: `${UK_CORE}AuditEvent`,
    readAction: 'patient.access-log',
    searchAction: 'patient.access-log',
    entityType: 'AuditEvent',
    searchParams: ['_id', 'patient', '_lastUpdated'],
    toResource: toAuditEvent,
  },
];

/** The resource as the decision's view allows: a restricted record's has no address or contact details at any depth. */
export function resourceFor(spec: FhirResourceSpec, row: RecordRow, view: View): Resource {
  const resource = spec.toResource(row, view);
  return view.contactDetails ? resource : (withoutContactDetails(resource) as Resource);
}
