/**
 * The pathway's activities: one adapter per BPMN service task type (`SERVICE_TASK_TYPES`), each turning the
 * interpreter's `ServiceTaskActivityInput` into calls of the record, notification and Spine activities and
 * answering with the variables pathways/README.md promises, plus the shell's own `openTask`, `closeTask`
 * and `resolvePathway`.
 *
 * Every adapter is idempotent under retry: ids of what it creates are derived from `<workflow id>/<activity
 * id>` (task-context.ts), and the record activities insert with `on conflict do nothing`. Failures leave as
 * ApplicationFailures exactly once: the record and Spine activities convert their own, and
 * `withFailureConversion` converts anything the adapters themselves throw.
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { type PathwayIR } from '../../bpmn';
import { worklistTaskId } from '../../domain/worklist-task-id';
import { getPathwayVersion } from '../../engine/pathways';
import { type Logger } from '../../log';
import { readFormSchema, type ServiceTaskType } from '../../pathways';
import { type Store } from '../../store';
import type {
  CloseTaskActivityInput,
  OpenTaskActivityInput,
  ServiceTaskActivityInput,
} from '../../workflows/run-pathway.workflow';
import { ActivityError, DeliveryError, InvalidInputError, withFailureConversion } from '../errors';
import { createNotifyActivities, type NotificationTransport } from '../notify';
import { createRecordActivities } from '../records';
import { createSpineActivities, type SpineClient } from '../spine';
import {
  createTaskContext,
  currentWorkflowId,
  isRecord,
  listOf,
  optionalString,
  requireRecord,
  requireString,
  uuidFromKey,
  type TaskContext,
} from './task-context';

export interface PathwayTaskActivitiesDeps {
  store: Store;
  spine: SpineClient;
  transport: NotificationTransport;
  logger: Logger;
  /**
   * Delivery attempts per message before it is marked failed. Keep it at most the service tasks' `retries`
   * (3 in the shipped pathways): each activity attempt makes one delivery attempt per pending message.
   */
  notifyMaxAttempts?: number;
  /** Delay before a failed delivery is tried again (doubling); Temporal waits this long before retrying. */
  notifyRetryDelayMs?: number;
}

/** What a service-task adapter answers: the variables the task's output mappings read. */
export type TaskVariables = Record<string, unknown>;

const ALERT_CODE_SYSTEM = 'https://throughcare.nhs.example/CodeSystem/alert-code';
const SYSTEM_AUTHOR = { id: 'system:pathway', role: 'system' } as const;

/** Alerts a clinician must act on at once are high; the rest (overdue reviews, missed appointments) medium. */
const HIGH_SEVERITY_ALERTS = new Set(['SELF_HARM_RISK', 'ROUSING_REQUIRED', 'OVERDOSE_RISK', 'ACCT_OPEN']);

/** FHIR Appointment statuses the pathways send, as the record's outcomes. */
const APPOINTMENT_OUTCOMES = { fulfilled: 'attended', noshow: 'missed', cancelled: 'cancelled' } as const;

const SERVICE_NAMES: Readonly<Record<string, string>> = {
  gp: 'the GP practice',
  'community-substance-misuse': 'the community substance misuse service',
  probation: 'probation',
  housing: 'the housing service',
  'mental-health': 'the mental health service',
};

/** Dates in messages are read by people in England: London wall-clock time, whatever the server's zone. */
const LONDON_DATE = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  weekday: 'long',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});

function formatLondon(iso: string | undefined): string {
  if (!iso) return 'the booked date';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : LONDON_DATE.format(date);
}

/** The version recorded with a form's answers: a digest of the schema the answers were validated against. */
const formVersions = new Map<string, string>();
function formVersionOf(formId: string): string {
  let version = formVersions.get(formId);
  if (!version) {
    try {
      const schema = JSON.stringify(readFormSchema(formId));
      version = `sha256:${createHash('sha256').update(schema).digest('hex').slice(0, 16)}`;
    } catch {
      version = 'unversioned';
    }
    formVersions.set(formId, version);
  }
  return version;
}

/** A variable as text for a note or reason (FEEL values arrive as JSON: strings, numbers, contexts). */
function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

interface CasePatient {
  patientId: string;
  isRestricted: boolean;
}

export function createPathwayTaskActivities(deps: PathwayTaskActivitiesDeps) {
  const { store } = deps;
  const logger = deps.logger.child({ component: 'pathway-task-activities' });
  const records = createRecordActivities({ store, logger: deps.logger });
  const notify = createNotifyActivities({
    store,
    logger: deps.logger,
    transport: deps.transport,
    maxAttempts: deps.notifyMaxAttempts ?? 3,
    initialRetryDelayMs: deps.notifyRetryDelayMs ?? 2_000,
  });
  const spine = createSpineActivities({ spine: deps.spine, logger: deps.logger });
  const knex = () => store.orm.em.getConnection().getKnex();

  async function casePatient(caseId: string): Promise<CasePatient> {
    const row = await knex()('cases')
      .join('patients', 'patients.id', 'cases.patient_id')
      .where('cases.id', caseId)
      .first<{ patient_id: string; is_restricted: boolean } | undefined>('cases.patient_id', 'patients.is_restricted');
    if (!row)
      throw new ActivityError(`case ${caseId} is not in the record`, 'NOT_FOUND', false, { details: { caseId } });
    return { patientId: row.patient_id, isRestricted: row.is_restricted };
  }

  /** Stores a document the pathway produced (handover, referral, report, SCR extract) as an assessment row. */
  async function saveDocument(ctx: TaskContext, formId: string, formVersion: string, data: Record<string, unknown>) {
    const { id } = await records.saveAssessment({
      assessmentId: ctx.idFor(),
      caseId: ctx.caseId,
      formId,
      formVersion,
      data,
      submittedBy: SYSTEM_AUTHOR.id,
      actor: ctx.actor,
    });
    return id;
  }

  // ---- the shell's activities ---------------------------------------------------------------------------

  /** Worklist ids are `<workflow id>/<task id>` (domain/worklist-task-id.ts): task ids are unique only within their workflow. */
  function worklistTaskIdOf(caseId: string, taskId: string): string {
    return worklistTaskId(currentWorkflowId(caseId), taskId);
  }

  async function openTask(input: OpenTaskActivityInput): Promise<void> {
    const workflowId = currentWorkflowId(input.caseId);
    await records.openWorklistTask({
      taskId: worklistTaskIdOf(input.caseId, input.taskId),
      caseId: input.caseId,
      workflowId,
      elementId: input.elementId,
      name: input.name ?? input.elementId,
      ...(input.formId ? { formId: input.formId } : {}),
      ...(input.assignee ? { assignee: input.assignee } : {}),
      candidateGroups: [...input.candidateGroups],
      candidateUsers: [...input.candidateUsers],
      ...(input.dueDate ? { dueAt: input.dueDate } : {}),
      ...(input.followUpDate ? { followUpAt: input.followUpDate } : {}),
      actor: { ...SYSTEM_AUTHOR, reason: `${input.processId}/${input.elementId} opened`, requestId: workflowId },
    });
  }

  async function closeTask(input: CloseTaskActivityInput): Promise<void> {
    const workflowId = currentWorkflowId(input.caseId);
    const taskId = worklistTaskIdOf(input.caseId, input.taskId);
    const actor = {
      ...SYSTEM_AUTHOR,
      reason: `${input.processId}/${input.elementId} ${input.outcome}`,
      requestId: workflowId,
    };
    try {
      if (input.outcome === 'completed') {
        await records.completeWorklistTask({
          taskId,
          completedBy: input.completedBy ?? 'unknown',
          ...(input.completionId ? { completionId: input.completionId } : {}),
          ...(input.completedAt ? { completedAt: input.completedAt } : {}),
          actor,
        });
      } else {
        await records.cancelWorklistTask({ taskId, reason: 'closed by the pathway', actor });
      }
    } catch (error) {
      // openTask and closeTask of a quickly completed task run concurrently: until the task is projected,
      // closing it is not final but early, so let Temporal try again.
      if (error instanceof ApplicationFailure && error.type === 'NOT_FOUND') {
        throw new ActivityError(`worklist task ${taskId} is not projected yet`, 'TASK_NOT_PROJECTED', true, {
          details: { taskId },
          nextRetryDelayMs: 500,
        });
      }
      throw error;
    }
  }

  async function resolvePathway(input: { processId: string }): Promise<PathwayIR> {
    return (await getPathwayVersion(store, requireString(input.processId, 'processId'))).ir;
  }

  // ---- service tasks ------------------------------------------------------------------------------------

  /** PDS read, then the demographics (and restricted flag) recorded; the workflow keeps only what it branches on. */
  async function lookupPatient(input: ServiceTaskActivityInput): Promise<TaskVariables> {
    const ctx = createTaskContext(input);
    const nhsNumber = optionalString(input.variables['nhsNumber'], 'nhsNumber');
    if (!nhsNumber) return { patient: null };
    const pds = await spine.lookupPatient(nhsNumber);
    const securityLabel = (['U', 'R', 'V'] as const).find((label) => label === pds.confidentiality);
    const { id: patientId } = await records.recordPatientDemographics({
      nhsNumber: pds.nhsNumber,
      demographics: { ...pds },
      fetchedAt: pds.fetchedAt,
      ...(securityLabel ? { securityLabel } : pds.isRestricted ? { securityLabel: 'R' as const } : {}),
      actor: ctx.actor,
    });
    if (pds.supersededNhsNumber) {
      // The old number keeps no demographics of its own: it points at the record it was merged into.
      await records.recordPatientDemographics({
        nhsNumber: pds.supersededNhsNumber,
        demographics: {},
        fetchedAt: pds.fetchedAt,
        supersededByNhsNumber: pds.nhsNumber,
        actor: ctx.actor,
      });
    }
    // Workflow histories live long and are read by ops: no name, address or date of birth goes into them.
    return {
      patient: {
        nhsNumber: pds.nhsNumber,
        patientId,
        restricted: pds.isRestricted,
        deceased: pds.deceasedAt !== undefined,
        gpOdsCode: pds.isRestricted ? null : (pds.gpOdsCode ?? null),
        supersededNhsNumber: pds.supersededNhsNumber ?? null,
      },
    };
  }

  /**
   * The SCR extract is stored in the record (as an assessment row, form `scr-summary`) and only its id goes
   * back. No summary (none, opted out, access refused) is an answer, not a failure: `summaryId` is null.
   */
  async function fetchSummary(input: ServiceTaskActivityInput): Promise<TaskVariables> {
    const ctx = createTaskContext(input);
    const nhsNumber = optionalString(input.variables['nhsNumber'], 'nhsNumber');
    if (!nhsNumber) return { summaryId: null, summaryStatus: 'not-traced' };
    let summary;
    try {
      summary = await spine.fetchSummaryCareRecord(nhsNumber);
    } catch (error) {
      if (error instanceof ApplicationFailure && error.type === 'SCR_ACCESS_DENIED') {
        return { summaryId: null, summaryStatus: 'access-denied' };
      }
      throw error;
    }
    if (summary.status !== 'available') return { summaryId: null, summaryStatus: summary.status };
    const summaryId = await saveDocument(ctx, 'scr-summary', 'scr-fhir-r4', { ...summary });
    return { summaryId, summaryStatus: summary.status };
  }

  async function raiseAlert(input: ServiceTaskActivityInput): Promise<TaskVariables> {
    const ctx = createTaskContext(input);
    const alerts = listOf(input.variables['alerts'], 'alerts');
    const alertIds: string[] = [];
    for (const [index, alert] of alerts.entries()) {
      if (!isRecord(alert)) throw new InvalidInputError(`alerts[${index}] must be an object`);
      const code = requireString(alert['code'], `alerts[${index}].code`);
      const { id } = await records.raiseAlert({
        alertId: ctx.idFor('alert', index),
        caseId: ctx.caseId,
        code,
        codeSystem: ALERT_CODE_SYSTEM,
        display: optionalString(alert['text'], `alerts[${index}].text`) ?? code,
        severity: HIGH_SEVERITY_ALERTS.has(code) ? 'high' : 'medium',
        reason: optionalString(alert['source'], `alerts[${index}].source`) ?? input.elementId,
        actor: ctx.actor,
      });
      alertIds.push(id);
    }
    return { alertIds };
  }

  async function resolveAlert(input: ServiceTaskActivityInput): Promise<TaskVariables> {
    const ctx = createTaskContext(input);
    for (const alertId of listOf(input.variables['alertIds'], 'alertIds')) {
      await records.resolveAlert({
        alertId: requireString(alertId, 'alertIds[]'),
        reason: `resolved by ${input.elementId}`,
        actor: ctx.actor,
      });
    }
    return {};
  }

  async function saveAssessment(input: ServiceTaskActivityInput): Promise<TaskVariables> {
    const ctx = createTaskContext(input);
    const assessment = requireRecord(input.variables, 'assessment');
    const formId = requireString(assessment['formId'], 'assessment.formId');
    const answers = assessment['answers'];
    const snomedCode = optionalString(assessment['snomedCode'], 'assessment.snomedCode');
    const { id } = await records.saveAssessment({
      assessmentId: ctx.idFor(),
      caseId: ctx.caseId,
      formId,
      formVersion: formVersionOf(formId),
      data: isRecord(answers) ? answers : {},
      snomedCodes: snomedCode ? [snomedCode] : [],
      submittedBy: SYSTEM_AUTHOR.id,
      actor: ctx.actor,
    });
    return { assessmentId: id };
  }

  async function addNote(input: ServiceTaskActivityInput): Promise<TaskVariables> {
    const ctx = createTaskContext(input);
    const note = requireRecord(input.variables, 'note');
    const kind = optionalString(note['kind'], 'note.kind');
    const text = requireString(note['text'], 'note.text');
    await records.addNote({
      noteId: ctx.idFor(),
      caseId: ctx.caseId,
      body: kind ? `[${kind}] ${text}` : text,
      author: SYSTEM_AUTHOR,
      actor: ctx.actor,
    });
    return {};
  }

  async function bookAppointment(input: ServiceTaskActivityInput): Promise<TaskVariables> {
    const ctx = createTaskContext(input);
    const appointment = requireRecord(input.variables, 'appointment');
    const { id } = await records.bookAppointment({
      appointmentId: ctx.idFor(),
      caseId: ctx.caseId,
      startsAt: requireString(appointment['startsAt'], 'appointment.startsAt'),
      location: requireString(appointment['location'], 'appointment.location'),
      agency:
        optionalString(appointment['agencyName'], 'appointment.agencyName') ??
        requireString(appointment['kind'], 'appointment.kind'),
      actor: {
        ...ctx.actor,
        reason: appointment['replacesAppointmentId']
          ? `rebooking of appointment ${textOf(appointment['replacesAppointmentId'])}`
          : ctx.actor.reason,
      },
    });
    return { appointmentId: id };
  }

  async function updateAppointment(input: ServiceTaskActivityInput): Promise<TaskVariables> {
    const ctx = createTaskContext(input);
    const status = requireString(input.variables['appointmentStatus'], 'appointmentStatus');
    const outcome = APPOINTMENT_OUTCOMES[status as keyof typeof APPOINTMENT_OUTCOMES];
    if (!outcome) throw new InvalidInputError(`appointmentStatus must be fulfilled, noshow or cancelled: ${status}`);
    await records.updateAppointmentStatus({
      changeId: ctx.idFor(),
      appointmentId: requireString(input.variables['appointmentId'], 'appointmentId'),
      status: outcome,
      actor: ctx.actor,
    });
    return {};
  }

  /**
   * Delivers the enqueued messages: one attempt per pending message per activity attempt. A message the
   * provider refused for good, or whose attempts are spent, is `failed` in the outbox (the ops console's
   * failed-notifications view) and does not fail the pathway; a passing failure makes this attempt fail
   * retryably, so Temporal runs the activity again (enqueueing is idempotent, sent messages are not resent).
   */
  async function deliverAll(ids: readonly string[]): Promise<number> {
    let sent = 0;
    const passing: string[] = [];
    let retryDelayMs: number | undefined;
    for (const id of ids) {
      try {
        await notify.deliverNotification(id);
        sent += 1;
      } catch (error) {
        if (error instanceof ApplicationFailure && !error.nonRetryable) {
          passing.push(id);
          const delay = error.nextRetryDelay;
          if (typeof delay === 'number') retryDelayMs = Math.max(retryDelayMs ?? 0, delay);
          continue;
        }
        logger.warn({ notificationId: id, code: (error as { type?: string }).type }, 'notification failed for good');
      }
    }
    if (passing.length > 0) {
      throw new DeliveryError(`${passing.length} notification(s) could not be delivered this time`, true, {
        details: { notificationIds: passing },
        ...(retryDelayMs !== undefined ? { nextRetryDelayMs: retryDelayMs } : {}),
      });
    }
    return sent;
  }

  /**
   * Tells every agency listed and every nominated family member with recorded consent, one message each.
   * Family members without consent get nothing (the record activities refuse them too, and again at send
   * time). A restricted record's appointment location is never put in a message, whatever the input says.
   */
  async function notifyContacts(input: ServiceTaskActivityInput): Promise<TaskVariables> {
    const ctx = createTaskContext(input);
    const notification = requireRecord(input.variables, 'notification');
    const subject = await casePatient(ctx.caseId);
    const patientVar = input.variables['patient'];
    const restricted = subject.isRestricted || (isRecord(patientVar) && patientVar['restricted'] === true);
    const kind = optionalString(notification['appointmentKind'], 'notification.appointmentKind');
    const template = optionalString(notification['reason'], 'notification.reason') ?? 'missed-appointment';
    const location = optionalString(notification['location'], 'notification.location');
    const personalisation: Record<string, string> = {
      service:
        optionalString(notification['agencyName'], 'notification.agencyName') ??
        (kind ? (SERVICE_NAMES[kind] ?? kind) : 'a service'),
      date: formatLondon(optionalString(notification['startsAt'], 'notification.startsAt')),
      contactPoint: 'the release support team',
      ...(location && !restricted ? { location } : {}),
    };

    const contactIds: string[] = [];
    for (const [index, agency] of listOf(notification['agencies'], 'notification.agencies').entries()) {
      if (!isRecord(agency)) throw new InvalidInputError(`notification.agencies[${index}] must be an object`);
      const name = requireString(agency['name'], `agencies[${index}].name`);
      const agencyKind = requireString(agency['kind'], `agencies[${index}].kind`);
      const address = requireString(agency['contact'], `agencies[${index}].contact`);
      const contactId = uuidFromKey(`contact/${subject.patientId}/agency/${agencyKind}/${name}/${address}`);
      const isEmail = address.includes('@');
      await records.addContact({
        contactId,
        patientId: subject.patientId,
        kind: 'agency',
        name,
        organisation: name,
        relationship: agencyKind,
        channel: isEmail ? 'email' : 'sms',
        ...(isEmail ? { email: address } : { phone: address }),
        actor: ctx.actor,
      });
      contactIds.push(contactId);
    }
    for (const [index, person] of listOf(notification['familyContacts'], 'notification.familyContacts').entries()) {
      if (!isRecord(person)) throw new InvalidInputError(`notification.familyContacts[${index}] must be an object`);
      const consentedOn = optionalString(person['consentRecordedOn'], `familyContacts[${index}].consentRecordedOn`);
      // Consent is what the plan recorded: without it (or without the date it was given) nobody is told.
      if (person['consentToNotify'] !== true || !consentedOn) continue;
      const name = requireString(person['name'], `familyContacts[${index}].name`);
      const phone = requireString(person['telephone'], `familyContacts[${index}].telephone`);
      const contactId = uuidFromKey(`contact/${subject.patientId}/family/${name}/${phone}`);
      await records.addContact({
        contactId,
        patientId: subject.patientId,
        kind: 'family_member',
        name,
        relationship: optionalString(person['relationship'], `familyContacts[${index}].relationship`) ?? 'family',
        channel: 'sms',
        phone,
        actor: ctx.actor,
      });
      await records.recordContactConsent({
        consentEventId: uuidFromKey(`${contactId}/consent/${consentedOn}`),
        contactId,
        status: 'given',
        decidedAt: consentedOn,
        note: 'recorded in the release plan',
        actor: ctx.actor,
      });
      contactIds.push(contactId);
    }

    const toDeliver: string[] = [];
    for (const contactId of contactIds) {
      const result = await records.enqueueNotification({
        notificationId: `${ctx.key}/${contactId}`,
        contactId,
        caseId: ctx.caseId,
        template,
        personalisation,
        actor: ctx.actor,
      });
      if (result.outcome !== 'skipped') toDeliver.push(result.id);
    }
    return { notifiedCount: await deliverAll(toDeliver) };
  }

  /**
   * A notice to a team (reminder, overdue, escalation, handover) is written to the case as a system note:
   * the store keeps no addresses for teams, and the note is what the case view and audit show. The group
   * and due date are in the note so the worklist can say who was told what, when.
   */
  async function notifyTeam(input: ServiceTaskActivityInput): Promise<TaskVariables> {
    const ctx = createTaskContext(input);
    const notice = requireRecord(input.variables, 'teamNotice');
    const kind = requireString(notice['kind'], 'teamNotice.kind');
    const group = requireString(notice['group'], 'teamNotice.group');
    const parts = [
      `Team notice (${kind}) to ${group}`,
      notice['elementId'] ? `task ${textOf(notice['elementId'])}` : undefined,
      notice['dueDate'] ? `due ${textOf(notice['dueDate'])}` : undefined,
      notice['suite'] ? `suite ${textOf(notice['suite'])}` : undefined,
      notice['expectedReleaseDate'] ? `expected release ${textOf(notice['expectedReleaseDate'])}` : undefined,
      optionalString(notice['reason'], 'teamNotice.reason'),
    ].filter((part): part is string => part !== undefined);
    await records.addNote({
      noteId: ctx.idFor(),
      caseId: ctx.caseId,
      body: `[team-notice:${kind}] ${parts.join('; ')}`,
      author: SYSTEM_AUTHOR,
      actor: { ...ctx.actor, reason: `${kind} to ${group}` },
    });
    return {};
  }

  async function recordHandover(input: ServiceTaskActivityInput): Promise<TaskVariables> {
    const ctx = createTaskContext(input);
    const handover = requireRecord(input.variables, 'handover');
    const kind = requireString(handover['kind'], 'handover.kind');
    // The alerts travel by reference: they stay active on the person's record, so the receiving setting sees them.
    const alertIds = listOf(handover['alertIds'], 'handover.alertIds').map((id) => requireString(id, 'alertIds[]'));
    const handoverId = await saveDocument(ctx, 'handover', kind, { ...handover, alertIds });
    return { handoverId };
  }

  async function referLiaisonDiversion(input: ServiceTaskActivityInput): Promise<TaskVariables> {
    const ctx = createTaskContext(input);
    const referral = requireRecord(input.variables, 'referral');
    if (referral['consentToShare'] !== true && referral['consentToShare'] !== false) {
      throw new InvalidInputError('referral.consentToShare must be true or false');
    }
    const referralId = await saveDocument(ctx, 'liaison-diversion-referral', '1', { ...referral });
    return { referralId };
  }

  /** A report is a snapshot of the case's record at the time it is made, stored so it can be sent or re-read. */
  async function clinicalReport(input: ServiceTaskActivityInput): Promise<TaskVariables> {
    const ctx = createTaskContext(input);
    const report = requireRecord(input.variables, 'report');
    const kind = requireString(report['kind'], 'report.kind');
    const assessments = await knex()('assessments')
      .where({ case_id: ctx.caseId })
      .orderBy('submitted_at')
      .select<{ form_id: string; snomed_codes: string[]; submitted_at: Date }[]>(
        'form_id',
        'snomed_codes',
        'submitted_at',
      );
    const alerts = await knex()('alerts')
      .where({ case_id: ctx.caseId })
      .select<{ code: string; status: string }[]>('code', 'status');
    const appointments = await knex()('appointments')
      .where({ case_id: ctx.caseId })
      .select<{ agency: string; status: string }[]>('agency', 'status');
    const reportId = await saveDocument(ctx, 'clinical-report', kind, {
      request: report,
      forms: assessments.map((a) => a.form_id),
      snomedCodedEvents: assessments.flatMap((a) =>
        a.snomed_codes.map((code) => ({ code, at: new Date(a.submitted_at).toISOString(), formId: a.form_id })),
      ),
      alerts: alerts.map((a) => ({ code: a.code, status: a.status })),
      appointments: appointments.map((a) => ({ agency: a.agency, status: a.status })),
    });
    return { reportId };
  }

  const shell = { openTask, closeTask, resolvePathway };
  const serviceTasks = {
    'pds.lookupPatient': lookupPatient,
    'scr.fetchSummary': fetchSummary,
    'records.raiseAlert': raiseAlert,
    'records.resolveAlert': resolveAlert,
    'records.saveAssessment': saveAssessment,
    'records.addNote': addNote,
    'records.bookAppointment': bookAppointment,
    'records.updateAppointment': updateAppointment,
    'notify.notifyContacts': notifyContacts,
    'notify.notifyTeam': notifyTeam,
    'records.recordHandover': recordHandover,
    'records.referLiaisonDiversion': referLiaisonDiversion,
    'reports.clinicalReport': clinicalReport,
  } satisfies Record<ServiceTaskType, (input: ServiceTaskActivityInput) => Promise<TaskVariables>>;
  return {
    ...withFailureConversion(shell),
    ...withFailureConversion(serviceTasks),
    ...notify,
  };
}

export type PathwayTaskActivities = ReturnType<typeof createPathwayTaskActivities>;
