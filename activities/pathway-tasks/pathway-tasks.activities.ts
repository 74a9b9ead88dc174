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
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { type PathwayIR } from '../../bpmn';
import { worklistTaskId } from '../../domain/worklist-task-id';
import { formRegistryOf } from '../../engine/form-registry';
import { getPathwayVersion } from '../../engine/pathways';
// One code system for the alerts the pathways raise and those raised through the API.
import { LOCAL_ALERT_CODE_SYSTEM as ALERT_CODE_SYSTEM } from '../../engine/alerts';
import { type Logger } from '../../log';
import type { ServiceTaskType } from '../../pathways';
import { INCIDENT_FORM_ID } from '../../workflows/pathway/incidents';
import { formatNhsNumber, normaliseNhsNumber } from '../../domain/nhs-number';
import { AuditPurpose, IdentifierChangeReason, PatientFlagCode, type Store } from '../../store';
import type {
  CloseTaskActivityInput,
  OpenTaskActivityInput,
  ServiceTaskActivityInput,
} from '../../workflows/run-pathway.workflow';
import { ActivityError, DeliveryError, InvalidInputError, withFailureConversion } from '../errors';
import { createNotifyActivities, type NotificationTransport } from '../notify';
import { createPatientIdentityActivities, createRecordActivities, type PatientOfCase } from '../records';
import { createSpineActivities, type Gender, type PdsPatient, type SpineClient } from '../spine';
import {
  describeBasis,
  missingKinds,
  outcomeNote,
  releaseDetails,
  sharingBasisOf,
  SKIPPED_BECAUSE,
  type NotTold,
  type Told,
} from './sharing-basis';
import {
  SYSTEM_AUTHOR,
  actorOf,
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

/** Alerts a clinician must act on at once are high; the rest (overdue reviews, missed appointments) medium. */
const HIGH_SEVERITY_ALERTS = new Set([
  'SELF_HARM_RISK',
  'ROUSING_REQUIRED',
  'OVERDOSE_RISK',
  'ACCT_OPEN',
  'MEDICAL_EMERGENCY',
  'ALCOHOL_WITHDRAWAL_RISK',
]);

/** The clinical report dataset that is the NDTMS secure-setting extract: only with the person's NDTMS consent. */
const NDTMS_DATASET = 'ndtms-secure-setting';

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

/**
 * The SCR API's recommended schedule for 429/5xx (REFERENCE 2.1, S3): 1 minute, then 30 minutes, 1, 2, 4, 8 and
 * 16 hours. The delay after the n-th failed attempt is the n-th entry; an attempt after the last waits as long as
 * the last. With the fetch's 8 attempts (`retries="8"` in sms-prison) the last is about 31.5 hours after the first.
 */
export const SCR_RETRY_DELAYS_MS: readonly number[] = [
  60_000,
  30 * 60_000,
  60 * 60_000,
  2 * 60 * 60_000,
  4 * 60 * 60_000,
  8 * 60 * 60_000,
  16 * 60 * 60_000,
];

/** What `scr.fetchSummary` answers in `summaryStatus`. Only `available` comes with a `summaryId`. */
export const SUMMARY_STATUSES = [
  'available',
  'none',
  'opted-out',
  'no-current-record',
  'permission-not-recorded',
  'access-denied',
  'not-traced',
  'suspended',
  'unavailable',
] as const;
export type SummaryStatus = (typeof SUMMARY_STATUSES)[number];

/** How the person's identity stands after a PDS read or trace, as the pathways branch on it. */
export type IdentityStatus = 'verified' | 'not-found' | 'invalidated';

const GENDERS: readonly string[] = ['male', 'female', 'other', 'unknown'];

/** The attempt this activity execution is on, and the most its retry policy allows (undefined outside Temporal). */
function attemptInfo(): { attempt: number; maximumAttempts?: number } {
  try {
    const info = Context.current().info;
    const maximum = info.retryPolicy?.maximumAttempts;
    return { attempt: info.attempt, ...(maximum && maximum > 0 ? { maximumAttempts: maximum } : {}) };
  } catch {
    return { attempt: 1 };
  }
}

function delayMsOf(failure: ApplicationFailure): number {
  const delay = failure.nextRetryDelay;
  if (delay === undefined || delay === null) return 0;
  try {
    return msToNumber(delay);
  } catch {
    return 0;
  }
}

function durationText(ms: number): string {
  const hours = Math.round(ms / 3_600_000);
  return hours >= 1 ? `about ${hours} hour${hours === 1 ? '' : 's'}` : `about ${Math.round(ms / 60_000)} minutes`;
}

/**
 * When this activity was first scheduled, on the workflow's clock (a time-skipping test server's too): the
 * moment the pathway reached the step. Outside Temporal, now.
 */
function scheduledAt(): Date {
  try {
    const ms = Context.current().info.scheduledTimestampMs;
    if (typeof ms === 'number' && ms > 0) return new Date(ms);
  } catch {
    // Not inside an activity.
  }
  return new Date();
}

/**
 * A user task's priority as the worklist keeps it: a whole number from 0 to 100. Lint refuses a literal outside
 * that range; a FEEL one computed outside it is kept to the nearest bound (and rounded) rather than leaving the
 * task off the worklist. None (or not a number): the worklist's default, 50.
 */
function worklistPriorityOf(priority: number | undefined): number | undefined {
  if (priority === undefined || !Number.isFinite(priority)) return undefined;
  return Math.min(100, Math.max(0, Math.round(priority)));
}

/** What `notify.notifyStaff` is told in `staffNotice.kind`. */
export const STAFF_NOTICE_KINDS = [
  'reminder',
  'overdue',
  'escalation',
  'alert',
  'emergency',
  'handover',
  'information',
] as const;
export type StaffNoticeKind = (typeof STAFF_NOTICE_KINDS)[number];

/** The duty that means "the keyworker named by the case's latest caseload assignment", not a job role. */
export const KEYWORKER_DUTY = 'keyworker';
/** The form whose `keyworker` answer names the case's keyworker (saved by `records.saveAssessment`). */
const CASELOAD_ASSIGNMENT_FORM = 'sms-caseload-assignment';

interface StaffMember {
  id: string;
  name: string;
  email: string | null;
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
  const identity = createPatientIdentityActivities({ store, logger: deps.logger });
  const knex = () => store.orm.em.getConnection().getKnex();

  /** The version recorded with a form's answers: the digest of the installed version they were checked against. */
  async function formVersionOf(formId: string): Promise<string> {
    return (await formRegistryOf(store).latest()).get(formId)?.digest ?? 'unversioned';
  }

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
      submittedBy: ctx.author.id,
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
    const priority = worklistPriorityOf(input.priority);
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
      ...(priority !== undefined ? { priority } : {}),
      startsPlannedTask: true,
      actor: { ...SYSTEM_AUTHOR, reason: `${input.processId}/${input.elementId} opened`, requestId: workflowId },
    });
  }

  async function closeTask(input: CloseTaskActivityInput): Promise<void> {
    const workflowId = currentWorkflowId(input.caseId);
    const taskId = worklistTaskIdOf(input.caseId, input.taskId);
    const reason = `${input.processId}/${input.elementId} ${input.outcome}`;
    // A completion that named the person who acted is audited in their name; the pathway's own closes as itself.
    const actor = input.actedBy ? actorOf(input.actedBy, reason) : { ...SYSTEM_AUTHOR, reason, requestId: workflowId };
    try {
      if (input.outcome === 'completed') {
        await records.completeWorklistTask({
          taskId,
          completedBy: input.completedBy ?? 'unknown',
          ...(input.completionId ? { completionId: input.completionId } : {}),
          // When the workflow took the completion; else when it asked for this projection (its own clock either
          // way, so `completed_late` compares like with like under a time-skipping test server too).
          completedAt: input.completedAt ?? scheduledAt().toISOString(),
          actor,
        });
      } else {
        // The worklist keeps 255 characters of a reason (a terminated case's is a person's words).
        const reason = (input.reason ?? 'closed by the pathway').slice(0, 255);
        await records.cancelWorklistTask({ taskId, reason, actor });
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

  /** A system note on the case: what the clinician sees of an integration's outcome. One per execution and kind. */
  async function noteOnCase(ctx: TaskContext, kind: string, text: string): Promise<void> {
    await records.addNote({
      noteId: ctx.idFor('note', kind),
      caseId: ctx.caseId,
      body: `[${kind}] ${text}`,
      author: SYSTEM_AUTHOR,
      actor: ctx.actor,
    });
  }

  function raiseFlag(ctx: TaskContext, patientId: string, code: PatientFlagCode, reason: string, related?: string) {
    return identity.raisePatientFlag({
      flagId: ctx.idFor('flag', code, patientId),
      patientId,
      code,
      reason,
      caseId: ctx.caseId,
      ...(related ? { relatedPatientId: related } : {}),
      actor: ctx.actor,
    });
  }

  function resolveFlag(ctx: TaskContext, patientId: string, code: PatientFlagCode, reason: string) {
    return identity.resolvePatientFlag({ patientId, code, reason, actor: ctx.actor });
  }

  /**
   * PDS knows the person as `pds.nhsNumber` (a read, or a trace by demographics): the case's record takes that
   * number (the old one kept as a former identifier) unless another record holds it, in which case both are
   * flagged as a possible duplicate for a person to review; the demographics are recorded on the case's record;
   * the flags follow what PDS says (restricted, deceased) and an unverified or invalidated identity is settled.
   */
  async function recordVerified(
    ctx: TaskContext,
    person: PatientOfCase,
    pds: PdsPatient,
    reason: IdentifierChangeReason,
  ): Promise<TaskVariables> {
    let possibleDuplicateOf: string | null = null;
    if (pds.nhsNumber !== person.nhsNumber) {
      const rekey = await identity.reKeyPatient({
        patientId: person.patientId,
        nhsNumber: pds.nhsNumber,
        reason,
        caseId: ctx.caseId,
        actor: ctx.actor,
      });
      if (rekey.outcome === 're-keyed') {
        await noteOnCase(
          ctx,
          'identity',
          reason === IdentifierChangeReason.SupersededOnPds
            ? `PDS answered NHS number ${formatNhsNumber(rekey.formerNhsNumber)} with the record that superseded it: ` +
                `this person's record now uses ${formatNhsNumber(rekey.nhsNumber)}; the former number is kept.`
            : `Traced on PDS by demographics: this person's record now uses NHS number ${formatNhsNumber(rekey.nhsNumber)}; ` +
                `the number it was opened with (${formatNhsNumber(rekey.formerNhsNumber)}) is kept as a former number.`,
        );
      }
      if (rekey.outcome === 'possible-duplicate') {
        possibleDuplicateOf = rekey.otherPatientId;
        const why = 'another record holds the NHS number PDS gave for this person';
        await raiseFlag(ctx, person.patientId, PatientFlagCode.PossibleDuplicateRecord, why, rekey.otherPatientId);
        await raiseFlag(ctx, rekey.otherPatientId, PatientFlagCode.PossibleDuplicateRecord, why, person.patientId);
      }
    }
    const securityLabel = (['U', 'R', 'V'] as const).find((label) => label === pds.confidentiality);
    await records.recordPatientDemographics({
      nhsNumber: pds.nhsNumber,
      patientId: person.patientId,
      demographics: { ...pds },
      fetchedAt: pds.fetchedAt,
      ...(securityLabel ? { securityLabel } : pds.isRestricted ? { securityLabel: 'R' as const } : {}),
      actor: ctx.actor,
    });
    const deceased = pds.deceasedAt !== undefined;
    if (pds.isRestricted) {
      await raiseFlag(ctx, person.patientId, PatientFlagCode.RestrictedRecord, 'PDS confidentiality R: restricted');
    } else {
      await resolveFlag(ctx, person.patientId, PatientFlagCode.RestrictedRecord, 'PDS no longer restricts the record');
    }
    if (deceased) {
      await raiseFlag(ctx, person.patientId, PatientFlagCode.DeceasedOnPds, 'PDS records a date of death');
    } else {
      await resolveFlag(ctx, person.patientId, PatientFlagCode.DeceasedOnPds, 'PDS records no death');
    }
    const settled =
      reason === IdentifierChangeReason.TracedByDemographics ? 'traced by demographics' : 'PDS knows the NHS number';
    await resolveFlag(ctx, person.patientId, PatientFlagCode.UnverifiedIdentity, settled);
    await resolveFlag(ctx, person.patientId, PatientFlagCode.InvalidatedNhsNumber, settled);
    // Workflow histories live long and are read by ops: no name, address or date of birth goes into them.
    return {
      nhsNumber: pds.nhsNumber,
      patient: {
        nhsNumber: pds.nhsNumber,
        patientId: person.patientId,
        identity: 'verified' satisfies IdentityStatus,
        restricted: pds.isRestricted,
        deceased,
        gpOdsCode: pds.isRestricted ? null : (pds.gpOdsCode ?? null),
        supersededNhsNumber: pds.supersededNhsNumber ?? null,
        possibleDuplicateOf,
      },
    };
  }

  /** The pathway's view of a person PDS could not confirm: what the record already knows, nothing from Spine. */
  function unverifiedPatient(person: PatientOfCase, nhsNumber: string, status: IdentityStatus): TaskVariables {
    return {
      nhsNumber,
      patient: {
        nhsNumber,
        patientId: person.patientId,
        identity: status,
        restricted: person.isRestricted,
        deceased: person.activeFlags.includes(PatientFlagCode.DeceasedOnPds),
        gpOdsCode: null,
        supersededNhsNumber: null,
        possibleDuplicateOf: null,
      },
    };
  }

  /**
   * PDS read of the case's person. Never fails the case for an answer about the person: an unknown number raises
   * the UNVERIFIED_IDENTITY flag and an invalidated one INVALIDATED_NHS_NUMBER (whose Spine calls are then
   * suspended: a later read answers from the record without calling Spine, until a trace re-keys the record),
   * both answered with `patient.identity` so the pathway opens a trace by demographics. A superseded number
   * re-keys the record (`nhsNumber` in the answer is the new one). Spine faults keep their failure codes.
   */
  async function lookupPatient(input: ServiceTaskActivityInput): Promise<TaskVariables> {
    const ctx = createTaskContext(input);
    const asked = optionalString(input.variables['nhsNumber'], 'nhsNumber');
    if (!asked) return { patient: null };
    const nhsNumber = normaliseNhsNumber(asked);
    const person = await identity.patientOfCase(ctx.caseId);
    if (person.activeFlags.includes(PatientFlagCode.InvalidatedNhsNumber) && nhsNumber === person.nhsNumber) {
      // Suspended: PDS invalidated this number; nothing is asked of Spine until a person records a new trace.
      return unverifiedPatient(person, nhsNumber, 'invalidated');
    }
    let pds: PdsPatient;
    try {
      pds = await spine.lookupPatient(nhsNumber);
    } catch (error) {
      const type = error instanceof ApplicationFailure ? error.type : undefined;
      if (type === 'PDS_NOT_FOUND') {
        await raiseFlag(ctx, person.patientId, PatientFlagCode.UnverifiedIdentity, 'PDS has no record of the number');
        return unverifiedPatient(person, nhsNumber, 'not-found');
      }
      if (type === 'PDS_INVALIDATED') {
        await raiseFlag(ctx, person.patientId, PatientFlagCode.InvalidatedNhsNumber, 'PDS invalidated the number');
        return unverifiedPatient(person, nhsNumber, 'invalidated');
      }
      throw error;
    }
    return recordVerified(ctx, person, pds, IdentifierChangeReason.SupersededOnPds);
  }

  /**
   * A trace by demographics (the `trace-by-demographics` form): an application-restricted PDS search, which
   * gives one unique match or none. A unique match is recorded as the person's NHS number (re-keying the
   * record, audited) and settles the unverified or invalidated identity; no match, too many matches or a search
   * PDS refuses is an answer (`traceOutcome`) and a note saying how to refine it, so the task can open again.
   */
  async function traceByDemographics(input: ServiceTaskActivityInput): Promise<TaskVariables> {
    const ctx = createTaskContext(input);
    const trace = requireRecord(input.variables, 'trace');
    const family = requireString(trace['familyName'], 'trace.familyName').trim();
    const given = optionalString(trace['givenName'], 'trace.givenName')?.trim();
    const birthDate = requireString(trace['birthDate'], 'trace.birthDate');
    const gender = optionalString(trace['gender'], 'trace.gender');
    if (gender !== undefined && !GENDERS.includes(gender))
      throw new InvalidInputError(`trace.gender must be male, female, other or unknown`);
    const postcode = optionalString(trace['postcode'], 'trace.postcode')?.trim();
    const person = await identity.patientOfCase(ctx.caseId);
    let match;
    try {
      match = await spine.searchPatient({
        family,
        ...(given ? { given: [given] } : {}),
        birthDate,
        ...(gender ? { gender: gender as Gender } : {}),
        ...(postcode ? { postcode } : {}),
        history: true,
      });
    } catch (error) {
      if (error instanceof ApplicationFailure && error.type === 'PDS_INVALID_SEARCH') {
        await noteOnCase(
          ctx,
          'identity',
          `PDS refused the trace: ${error.message}. Correct the details and trace again.`,
        );
        return { traceOutcome: 'invalid-search' };
      }
      throw error;
    }
    if (match.outcome === 'no-match') {
      await noteOnCase(
        ctx,
        'identity',
        'Trace by demographics found nobody on PDS: check the spelling and date of birth, or leave out the postcode and trace again.',
      );
      return { traceOutcome: 'no-match' };
    }
    if (match.outcome === 'too-many-matches') {
      await noteOnCase(
        ctx,
        'identity',
        'Trace by demographics matched more than one person on PDS: add the given name, gender or postcode and trace again.',
      );
      return { traceOutcome: 'too-many-matches' };
    }
    const traced = await recordVerified(ctx, person, match.patient, IdentifierChangeReason.TracedByDemographics);
    return { traceOutcome: 'traced', ...traced };
  }

  /**
   * A person's decision on a possible duplicate record (the `possible-duplicate-record` form), kept as an
   * assessment of the case; the same person merges the records (see `reviewDuplicateRecord` in records/).
   */
  async function reviewDuplicateRecord(input: ServiceTaskActivityInput): Promise<TaskVariables> {
    const ctx = createTaskContext(input);
    const review = requireRecord(input.variables, 'duplicateReview');
    const decision = requireString(review['decision'], 'duplicateReview.decision');
    if (decision !== 'same-person' && decision !== 'different-people')
      throw new InvalidInputError('duplicateReview.decision must be same-person or different-people');
    const patient = requireRecord(input.variables, 'patient');
    const patientId = requireString(patient['patientId'], 'patient.patientId');
    const otherPatientId = requireString(patient['possibleDuplicateOf'], 'patient.possibleDuplicateOf');
    const notes = optionalString(review['notes'], 'duplicateReview.notes');
    const { id: reviewId } = await records.saveAssessment({
      assessmentId: ctx.idFor('review'),
      caseId: ctx.caseId,
      formId: 'possible-duplicate-record',
      formVersion: await formVersionOf('possible-duplicate-record'),
      data: { decision, ...(notes ? { notes } : {}), patientId, otherPatientId },
      submittedBy: ctx.author.id,
      actor: ctx.actor,
    });
    await noteOnCase(
      ctx,
      'identity',
      decision === 'same-person'
        ? 'Possible duplicate reviewed: the same person. The records are merged into the one that holds the NHS number.'
        : 'Possible duplicate reviewed: different people share this NHS number on PDS. The records stay apart and flagged until the NHS number of one is corrected.',
    );
    await identity.reviewDuplicateRecord({ patientId, otherPatientId, decision, actor: ctx.actor });
    return {
      duplicateReviewId: reviewId,
      patient:
        decision === 'same-person' ? { ...patient, patientId: otherPatientId, possibleDuplicateOf: null } : patient,
    };
  }

  /**
   * The person's Summary Care Record, when it may be viewed: with their permission recorded
   * (`summaryCareRecordConsent = "given"`), or without it under an emergency access reason
   * (`summaryCareRecordEmergencyReason`), which is audited as emergency access (purpose ETREAT). Every answer
   * that is not a summary is an outcome, not a failure: `summaryStatus` says which, and a note on the case tells
   * the clinician. A Spine outage is retried in the background on the SCR API's schedule (1 minute up to 16
   * hours apart) and, when the attempts run out, is the outcome `unavailable`. A request Spine refuses as
   * malformed (or any other non-retryable fault) fails non-retryably: an incident for ops, not an outcome.
   * The extract is stored in the record (an assessment row, form `scr-summary`) and only its id goes back.
   */
  async function fetchSummary(input: ServiceTaskActivityInput): Promise<TaskVariables> {
    const ctx = createTaskContext(input);
    const nhsNumber = optionalString(input.variables['nhsNumber'], 'nhsNumber');
    const consent = optionalString(input.variables['summaryCareRecordConsent'], 'summaryCareRecordConsent');
    const emergencyReason =
      optionalString(input.variables['summaryCareRecordEmergencyReason'], 'summaryCareRecordEmergencyReason')?.trim() ||
      undefined;
    const outcome = async (status: SummaryStatus, text: string): Promise<TaskVariables> => {
      await noteOnCase(ctx, 'scr', text);
      return { summaryId: null, summaryStatus: status };
    };
    if (!nhsNumber) return outcome('not-traced', 'Summary Care Record not fetched: the person has no NHS number yet.');
    const person = await identity.patientOfCase(ctx.caseId);
    if (person.activeFlags.includes(PatientFlagCode.InvalidatedNhsNumber))
      return outcome(
        'suspended',
        'Summary Care Record not fetched: PDS invalidated the NHS number, so Spine calls for this person are suspended until they are traced again.',
      );
    if (person.activeFlags.includes(PatientFlagCode.UnverifiedIdentity))
      return outcome(
        'not-traced',
        'Summary Care Record not fetched: PDS does not know the NHS number; trace the person by demographics first.',
      );
    const access = consent === 'given' ? 'permission' : emergencyReason ? 'emergency-override' : undefined;
    if (!access)
      return outcome(
        'permission-not-recorded',
        `Summary Care Record not viewed: the person's permission is not recorded (${consent === 'declined' ? 'they declined' : 'not asked'}). ` +
          'Viewing it without permission needs an emergency access reason.',
      );
    // Written before Spine is asked, once per execution: an emergency access is on record even if the fetch fails.
    await records.writeAuditEvent({
      auditEventId: ctx.idFor('scr-access'),
      action: 'read',
      entityType: 'SummaryCareRecord',
      entityId: person.patientId,
      patientId: person.patientId,
      purpose: access === 'permission' ? AuditPurpose.Treatment : AuditPurpose.EmergencyTreatment,
      actor: {
        ...ctx.actor,
        reason:
          access === 'permission'
            ? "Summary Care Record fetched with the person's recorded permission"
            : `Summary Care Record fetched WITHOUT recorded permission under emergency access: ${emergencyReason ?? ''}`,
      },
    });
    let summary;
    try {
      summary = await spine.fetchSummaryCareRecord(nhsNumber);
    } catch (error) {
      if (!(error instanceof ApplicationFailure)) throw error;
      if (error.type === 'SCR_ACCESS_DENIED')
        return outcome('access-denied', 'Spine access control refused the Summary Care Record (not retried).');
      if (error.nonRetryable) throw error;
      const { attempt, maximumAttempts } = attemptInfo();
      if (maximumAttempts !== undefined && attempt >= maximumAttempts) {
        const waited = SCR_RETRY_DELAYS_MS.slice(0, attempt - 1).reduce((sum, ms) => sum + ms, 0);
        return outcome(
          'unavailable',
          `Summary Care Record not fetched: Spine did not answer in ${attempt} attempts over ${durationText(waited)}. Check it by other means.`,
        );
      }
      const scheduled = SCR_RETRY_DELAYS_MS[Math.min(attempt, SCR_RETRY_DELAYS_MS.length) - 1] ?? 0;
      throw ApplicationFailure.create({
        message: error.message,
        type: error.type ?? undefined,
        nonRetryable: false,
        details: error.details ? [...error.details] : undefined,
        cause: error,
        // The SCR API asks for a growing back-off; a longer Retry-After from Spine wins.
        nextRetryDelay: Math.max(scheduled, delayMsOf(error)),
      });
    }
    switch (summary.status) {
      case 'none':
        return outcome('none', 'No Summary Care Record exists for this person.');
      case 'opted-out':
        return outcome('opted-out', 'The person has opted out of the Summary Care Record: it was not viewed.');
      case 'no-current-record':
        return outcome(
          'no-current-record',
          'Summary Care Record not available: Spine named a summary it no longer holds, twice. Try again later or check it by other means.',
        );
      case 'available':
        break;
    }
    const summaryId = await saveDocument(ctx, 'scr-summary', 'scr-fhir-r4', {
      ...summary,
      access,
      ...(access === 'emergency-override' ? { emergencyReason } : {}),
    });
    await noteOnCase(
      ctx,
      'scr',
      `Summary Care Record fetched ${access === 'permission' ? "with the person's permission" : 'WITHOUT recorded permission, under emergency access'}: ` +
        `${summary.allergies.length} allerg${summary.allergies.length === 1 ? 'y' : 'ies'} and ${summary.medications.length} medication${summary.medications.length === 1 ? '' : 's'} recorded.`,
    );
    return { summaryId, summaryStatus: 'available' satisfies SummaryStatus, summaryAccess: access };
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
      formVersion: await formVersionOf(formId),
      data: isRecord(answers) ? answers : {},
      snomedCodes: snomedCode ? [snomedCode] : [],
      submittedBy: ctx.author.id,
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
      // The note the pathway takes from a person's task is theirs; notes the system composes stay the system's.
      author: ctx.author,
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
      ...(typeof appointment['kind'] === 'string' ? { kind: appointment['kind'] } : {}),
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
    return (await deliverEach(ids)).length;
  }

  /** As deliverAll, answering the ids that were sent (now or by an earlier attempt). */
  async function deliverEach(ids: readonly string[]): Promise<string[]> {
    const sent: string[] = [];
    const passing: string[] = [];
    let retryDelayMs: number | undefined;
    for (const id of ids) {
      try {
        await notify.deliverNotification(id);
        sent.push(id);
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
      ...(notification['releaseDate'] !== undefined ? releaseDetails(notification) : {}),
    };
    // Newer pathway versions ask for a recorded basis for each agency, and for an account of who was not told.
    const requireBasis = notification['requireSharingBasis'] === true;
    const agencies = listOf(notification['agencies'], 'notification.agencies');
    const expectedKinds = listOf(notification['expectedAgencyKinds'], 'notification.expectedAgencyKinds').map((k, i) =>
      requireString(k, `notification.expectedAgencyKinds[${i}]`),
    );
    const notTold: NotTold[] = requireBasis ? missingKinds(expectedKinds, agencies) : [];
    const recipients = new Map<string, Told>();

    const contactIds: string[] = [];
    for (const [index, agency] of agencies.entries()) {
      if (!isRecord(agency)) throw new InvalidInputError(`notification.agencies[${index}] must be an object`);
      const name = requireString(agency['name'], `agencies[${index}].name`);
      const agencyKind = requireString(agency['kind'], `agencies[${index}].kind`);
      const address = requireString(agency['contact'], `agencies[${index}].contact`);
      const basis = sharingBasisOf(agency, index);
      if (requireBasis && !basis) {
        notTold.push({ name, kind: agencyKind, reason: 'no recorded consent or legal basis' });
        continue;
      }
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
      if (basis?.kind === 'consent') {
        await records.recordContactConsent({
          consentEventId: uuidFromKey(`${contactId}/consent/${basis.recordedOn}`),
          contactId,
          status: 'given',
          decidedAt: basis.recordedOn,
          note: 'recorded in the release plan',
          actor: ctx.actor,
        });
      }
      contactIds.push(contactId);
      recipients.set(contactId, { name, kind: agencyKind, basis: basis ? describeBasis(basis) : 'asked to be told' });
    }
    for (const [index, person] of listOf(notification['familyContacts'], 'notification.familyContacts').entries()) {
      if (!isRecord(person)) throw new InvalidInputError(`notification.familyContacts[${index}] must be an object`);
      const consentedOn = optionalString(person['consentRecordedOn'], `familyContacts[${index}].consentRecordedOn`);
      // Consent is what the plan recorded: without it (or without the date it was given) nobody is told.
      if (person['consentToNotify'] !== true || !consentedOn) {
        if (requireBasis) {
          const who = optionalString(person['name'], `familyContacts[${index}].name`) ?? null;
          notTold.push({ name: who, kind: 'family member', reason: SKIPPED_BECAUSE['no-consent'] ?? 'no consent' });
        }
        continue;
      }
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
      // Never a family member about a restricted record, whichever of the record or the trace says so.
      if (restricted) {
        notTold.push({ name, kind: 'family member', reason: SKIPPED_BECAUSE['restricted-record'] ?? 'restricted' });
        continue;
      }
      contactIds.push(contactId);
      recipients.set(contactId, { name, kind: 'family member', basis: `consent recorded ${consentedOn}` });
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
      else {
        const who = recipients.get(contactId);
        notTold.push({
          name: who?.name ?? null,
          kind: who?.kind ?? 'contact',
          reason: SKIPPED_BECAUSE[result.reason] ?? result.reason,
        });
        recipients.delete(contactId);
      }
    }
    const notifiedCount = await deliverAll(toDeliver);
    if (!requireBasis) return { notifiedCount };
    const told = [...recipients.values()];
    await records.addNote({
      noteId: ctx.idFor('notification-outcome'),
      caseId: ctx.caseId,
      body: outcomeNote(template, told, notTold),
      author: SYSTEM_AUTHOR,
      actor: ctx.actor,
    });
    return { notifiedCount, told: told.map((t) => ({ ...t })), notNotified: notTold.map((n) => ({ ...n })) };
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

  /** Active staff of a setting: holding a duty, or (the keyworker) by display name, case-insensitively. */
  async function staffOfSetting(
    settingId: string,
    match: { duty: string } | { displayName: string },
  ): Promise<StaffMember[]> {
    const query = knex()('staff as s')
      .join('staff_settings as ss', 'ss.staff_id', 's.id')
      .where('ss.setting_id', settingId)
      .andWhere('s.active', true);
    if ('duty' in match) query.whereRaw('? = any(s.duties)', [match.duty]);
    else query.whereRaw('lower(s.display_name) = lower(?)', [match.displayName.trim()]);
    return query
      .orderBy([{ column: 's.display_name' }, { column: 's.id' }])
      .select<StaffMember[]>('s.id', 's.display_name as name', 's.email');
  }

  /** The keyworker the case's latest caseload assignment names, if any. */
  async function keyworkerOf(caseId: string): Promise<string | undefined> {
    const row = await knex()('assessments')
      .where({ case_id: caseId, form_id: CASELOAD_ASSIGNMENT_FORM })
      .orderBy([
        { column: 'submitted_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .first<{ keyworker: string | null } | undefined>(knex().raw(`data->>'keyworker' as keyworker`));
    const name = row?.keyworker?.trim();
    return name ? name : undefined;
  }

  /**
   * A notice to named staff (`staffNotice`): each duty is the active staff of the case's setting who hold it;
   * `keyworker` is the member of staff the latest caseload assignment names. One message per person (however
   * many duties they were addressed by), written with a note on the case that names them, in one transaction,
   * then delivered as notifyContacts delivers. A duty nobody holds is said in the note; when nobody at all can
   * be told, the step fails for an incident (`NO_STAFF_TO_NOTIFY`): a notice is never lost in silence.
   */
  async function notifyStaff(input: ServiceTaskActivityInput): Promise<TaskVariables> {
    const ctx = createTaskContext(input);
    const notice = requireRecord(input.variables, 'staffNotice');
    const kind = requireString(notice['kind'], 'staffNotice.kind');
    if (!(STAFF_NOTICE_KINDS as readonly string[]).includes(kind))
      throw new InvalidInputError(`staffNotice.kind must be one of ${STAFF_NOTICE_KINDS.join(', ')}: ${kind}`);
    const duties = [
      ...new Set(
        listOf(notice['duties'], 'staffNotice.duties').map((d, i) => requireString(d, `staffNotice.duties[${i}]`)),
      ),
    ];
    if (duties.length === 0) throw new InvalidInputError('staffNotice.duties must name at least one duty');
    const subject = requireString(notice['subject'], 'staffNotice.subject').trim();
    const message = requireString(notice['message'], 'staffNotice.message').trim();
    const elementId = optionalString(notice['elementId'], 'staffNotice.elementId');
    const dueAt = optionalString(notice['dueAt'], 'staffNotice.dueAt');
    if (dueAt !== undefined && Number.isNaN(new Date(dueAt).getTime()))
      throw new InvalidInputError(`staffNotice.dueAt is not an ISO 8601 instant: ${dueAt}`);
    const urgent = notice['urgent'] === true || kind === 'emergency';
    const settingOverride = optionalString(notice['settingOdsCode'], 'staffNotice.settingOdsCode');

    const setting = await (
      settingOverride
        ? knex()('settings').where({ ods_code: settingOverride })
        : knex()('cases').join('settings', 'settings.id', 'cases.setting_id').where('cases.id', ctx.caseId)
    ).first<{ id: string; ods_code: string } | undefined>('settings.id', 'settings.ods_code');
    if (!setting) {
      if (settingOverride)
        throw new InvalidInputError(`staffNotice.settingOdsCode ${settingOverride} is not a setting`);
      throw new ActivityError(`case ${ctx.caseId} is not in the record`, 'NOT_FOUND', false, {
        details: { caseId: ctx.caseId },
      });
    }

    // Who holds each duty; one message per person, naming every duty they were told as.
    const recipients = new Map<string, StaffMember & { as: string[] }>();
    const unreached: string[] = [];
    for (const duty of duties) {
      let members: StaffMember[];
      if (duty === KEYWORKER_DUTY) {
        const keyworker = await keyworkerOf(ctx.caseId);
        if (!keyworker) {
          unreached.push('no keyworker is recorded for this case yet');
          continue;
        }
        members = await staffOfSetting(setting.id, { displayName: keyworker });
        if (members.length === 0) {
          unreached.push(
            `the keyworker recorded (${keyworker}) is not an active member of staff at ${setting.ods_code}`,
          );
          continue;
        }
      } else {
        members = await staffOfSetting(setting.id, { duty });
        if (members.length === 0) {
          unreached.push(`nobody active at ${setting.ods_code} holds the duty ${duty}`);
          continue;
        }
      }
      for (const member of members) {
        if (!member.email) {
          unreached.push(`${member.name} (${duty}) has no email address`);
          continue;
        }
        const entry = recipients.get(member.id) ?? { ...member, as: [] };
        entry.as.push(duty);
        recipients.set(member.id, entry);
      }
    }

    const noteId = ctx.idFor('staff-notice');
    const issuedAt = scheduledAt();
    const alreadyRecorded = await knex()('notes').where({ id: noteId }).first<{ id: string } | undefined>('id');
    if (!alreadyRecorded) {
      if (recipients.size === 0) {
        throw new ActivityError(
          `No staff to notify (${kind}) for ${duties.join(', ')} at ${setting.ods_code}: ${unreached.join('; ')}`,
          'NO_STAFF_TO_NOTIFY',
          false,
          { details: { caseId: ctx.caseId, duties, settingOdsCode: setting.ods_code } },
        );
      }
      const people = [...recipients.values()];
      const due = dueAt ? `${elementId ? `task ${elementId} ` : ''}due ${formatLondon(dueAt)}` : undefined;
      const noteBody = [
        `[staff-notice:${kind}] ${subject}`,
        `sent to ${people.map((p) => `${p.name} (${p.as.join(', ')})`).join(', ')}`,
        ...(due ? [due] : elementId ? [`task ${elementId}`] : []),
        ...(unreached.length ? [`not reached: ${unreached.join('; ')}`] : []),
      ].join('; ');
      const text = [
        message,
        ...(due ? [`\n${due.charAt(0).toUpperCase()}${due.slice(1)}.`] : []),
        `\nCase ${ctx.caseId} at ${setting.ods_code}; sent ${formatLondon(issuedAt.toISOString())}.`,
      ].join('\n');
      await records.recordStaffNotice({
        noteId,
        caseId: ctx.caseId,
        noteBody,
        recipients: people.map((p) => ({ notificationId: `${ctx.key}/staff/${p.id}`, staffId: p.id })),
        template: 'staff-notice',
        personalisation: {
          subject: `${urgent ? 'URGENT: ' : ''}${subject}`,
          message: text,
          kind,
          caseId: ctx.caseId,
          issuedAt: issuedAt.toISOString(),
          ...(dueAt ? { dueAt: new Date(dueAt).toISOString() } : {}),
          ...(elementId ? { elementId } : {}),
        },
        actor: { ...ctx.actor, reason: `${kind} to ${duties.join(', ')}` },
      });
    }

    if (kind === 'overdue' && elementId) {
      await records.markTasksOverdue({ caseId: ctx.caseId, elementId, overdueSince: issuedAt.toISOString() });
    }

    // What this execution queued (by the first attempt, whoever holds the duties now), in name order.
    const prefix = `${ctx.key}/staff/`;
    const queued = await knex()('notification_outbox as n')
      .join('staff as s', 's.id', 'n.staff_id')
      .whereRaw('left(n.id, ?) = ?', [prefix.length, prefix])
      .orderBy([{ column: 's.display_name' }, { column: 'n.id' }])
      .select<{ id: string; name: string }[]>('n.id', 's.display_name as name');
    const sent = new Set(await deliverEach(queued.map((row) => row.id)));
    const notified = queued.filter((row) => sent.has(row.id));
    return { staffNotified: notified.length, staffNotifiedNames: notified.map((row) => row.name) };
  }

  /**
   * Planned work (`plannedTasks`): the milestones the pathway will open later, shown in the worklist with their
   * due dates from now. Replaces this workflow's plan: planned rows not yet started are withdrawn with
   * `planReason` (default `replanned`); `plannedTasks: []` only withdraws. The user task that opens later
   * takes its planned row's place (openTask).
   */
  async function planTasks(input: ServiceTaskActivityInput): Promise<TaskVariables> {
    const ctx = createTaskContext(input);
    const tasks = listOf(input.variables['plannedTasks'], 'plannedTasks').map((item, index) => {
      if (!isRecord(item)) throw new InvalidInputError(`plannedTasks[${index}] must be an object`);
      const elementId = requireString(item['elementId'], `plannedTasks[${index}].elementId`);
      const formId = optionalString(item['formId'], `plannedTasks[${index}].formId`);
      return {
        elementId,
        name: optionalString(item['name'], `plannedTasks[${index}].name`) ?? elementId,
        dueAt: requireString(item['dueAt'], `plannedTasks[${index}].dueAt`),
        candidateGroups: listOf(item['candidateGroups'], `plannedTasks[${index}].candidateGroups`).map((g, i) =>
          requireString(g, `plannedTasks[${index}].candidateGroups[${i}]`),
        ),
        ...(formId ? { formId } : {}),
      };
    });
    const reason = optionalString(input.variables['planReason'], 'planReason');
    const result = await records.planWorklistTasks({
      caseId: ctx.caseId,
      workflowId: ctx.workflowId,
      planKey: input.activityId,
      tasks,
      ...(reason ? { reason } : {}),
      actor: ctx.actor,
    });
    return { plannedTaskIds: result.plannedTaskIds };
  }

  /**
   * Withdraws the open worklist tasks of this pathway run and of the pathways it called, each with the reason
   * given (`withdrawal.reason`, such as "recalled"), and notes on the case which were withdrawn. The terminate
   * end event that follows finds them closed already, so the reason they keep is this one (a pathway's own
   * terminate withdraws tasks with a generic reason). "Resolve incident" tasks are left to the incident.
   */
  async function withdrawOpenTasks(input: ServiceTaskActivityInput): Promise<TaskVariables> {
    const ctx = createTaskContext(input);
    const withdrawal = requireRecord(input.variables, 'withdrawal');
    const reason = requireString(withdrawal['reason'], 'withdrawal.reason').trim().slice(0, 255);
    const open = await knex()('worklist_tasks')
      .where({ case_id: ctx.caseId, status: 'open' })
      .andWhere((q) => {
        void q.where('workflow_id', ctx.workflowId).orWhere('workflow_id', 'like', `${ctx.workflowId}/%`);
      })
      .andWhere((q) => {
        void q.whereNull('form_id').orWhereNot('form_id', INCIDENT_FORM_ID);
      })
      .orderBy([{ column: 'created_at' }, { column: 'id' }])
      .select<{ id: string; element_id: string; name: string }[]>('id', 'element_id', 'name');
    for (const task of open) {
      await records.cancelWorklistTask({ taskId: task.id, reason, actor: { ...ctx.actor, reason } });
    }
    if (open.length > 0) {
      await records.addNote({
        noteId: ctx.idFor('tasks-withdrawn'),
        caseId: ctx.caseId,
        body: `[tasks-withdrawn] ${reason}: ${open.map((t) => t.name).join('; ')}`,
        author: SYSTEM_AUTHOR,
        actor: ctx.actor,
      });
    }
    return { withdrawnTasks: open.map((t) => t.element_id) };
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

  /**
   * The Person Escort Record health section a handover carried (`records.recordHandover`, kind
   * `person-escort-record`), as what prefills the prison reception screen (`handover`: medicines, self-harm,
   * substance use), or `handover: null`. Only the same person's PER is read: a handover of another person, of
   * another kind, or not in the record prefills nothing, and a note on the case says so. Reads only (the note is
   * keyed by the execution), so a retry is harmless.
   */
  async function readHandover(input: ServiceTaskActivityInput): Promise<TaskVariables> {
    const ctx = createTaskContext(input);
    const handoverId = optionalString(input.variables['handoverId'], 'handoverId');
    if (!handoverId) return { handover: null };
    const subject = await casePatient(ctx.caseId);
    const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(handoverId);
    const row = isUuid
      ? await knex()('assessments')
          .where({ id: handoverId, form_id: 'handover' })
          .first<
            | { patient_id: string; form_version: string; data: Record<string, unknown>; submitted_at: Date | string }
            | undefined
          >('patient_id', 'form_version', 'data', 'submitted_at')
      : undefined;
    const per = row && isRecord(row.data['perHealth']) ? row.data['perHealth'] : undefined;
    const problem = !row
      ? 'is not in the record'
      : row.patient_id !== subject.patientId
        ? "is another person's"
        : row.form_version !== 'person-escort-record' || !per
          ? 'carries no Person Escort Record health section'
          : undefined;
    if (problem || !row || !per) {
      await noteOnCase(
        ctx,
        'escort-record',
        `Handover ${handoverId} ${problem ?? 'cannot be read'}: the reception screen is not prefilled from a Person Escort Record.`,
      );
      return { handover: null };
    }
    const text = (value: unknown): string | null => (typeof value === 'string' && value.trim() !== '' ? value : null);
    const flag = (value: unknown): boolean | null => (typeof value === 'boolean' ? value : null);
    const indication = text(per['selfHarmIndication']);
    return {
      handover: {
        handoverId,
        recordedAt: new Date(row.submitted_at).toISOString(),
        prescribedMedication: flag(per['prescribedMedication']),
        medicines: listOf(per['sensitiveMedication'], 'perHealth.sensitiveMedication')
          .filter(isRecord)
          .filter((m) => text(m['medicationName']) !== null)
          .map((m) => ({
            medicationName: text(m['medicationName']),
            dosage: text(m['dosage']),
            frequency: text(m['frequency']),
            timeLastGiven: text(m['timeLastGiven']),
            timeNextGiven: text(m['timeNextGiven']),
          })),
        selfHarmIndication:
          indication !== null && ['none-identified', 'historical', 'current'].includes(indication) ? indication : null,
        selfHarmDetails: text(per['selfHarmDetails']),
        alcoholWithdrawal: flag(per['alcoholWithdrawal']),
        dependencies: text(per['dependenciesOnLeaving']),
      },
    };
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
    const ndtms = listOf(report['datasets'], 'report.datasets').includes(NDTMS_DATASET)
      ? await ndtmsExtract(ctx, report)
      : undefined;
    const reportId = await saveDocument(ctx, 'clinical-report', kind, {
      request: report,
      forms: assessments.map((a) => a.form_id),
      snomedCodedEvents: assessments.flatMap((a) =>
        a.snomed_codes.map((code) => ({ code, at: new Date(a.submitted_at).toISOString(), formId: a.form_id })),
      ),
      alerts: alerts.map((a) => ({ code: a.code, status: a.status })),
      appointments: appointments.map((a) => ({ agency: a.agency, status: a.status })),
      ...(ndtms ? { ndtms: ndtms.section } : {}),
    });
    return { reportId, ...(ndtms ? { ndtmsExtract: ndtms.outcome } : {}) };
  }

  /** The latest answers of a form on the case (the record is append-only: a correction is a later row). */
  async function latestAnswers(caseId: string, formId: string): Promise<Record<string, unknown> | undefined> {
    const row = await knex()('assessments')
      .where({ case_id: caseId, form_id: formId })
      .orderBy([
        { column: 'submitted_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .first<{ data: Record<string, unknown> } | undefined>('data');
    return row?.data;
  }

  /**
   * The NDTMS secure-setting items (S12) of the case, only with the person's NDTMS consent as the referral recorded
   * it (REFERENCE 4.4: no identifiable data without consent). Without it the extract is refused, with a coded
   * outcome (`refused-no-consent`) and a note on the case; the rest of the report is made as asked. The consent is
   * read from the record, not taken from the pathway's variables.
   */
  async function ndtmsExtract(
    ctx: TaskContext,
    report: Record<string, unknown>,
  ): Promise<{ outcome: 'included' | 'refused-no-consent'; section: Record<string, unknown> }> {
    const referral = await latestAnswers(ctx.caseId, 'sms-referral');
    const consent = typeof referral?.['ndtmsConsent'] === 'string' ? referral['ndtmsConsent'] : 'not-recorded';
    if (consent !== 'given') {
      await noteOnCase(
        ctx,
        'ndtms',
        `NDTMS extract refused: the person has not given NDTMS consent (consent ${consent}). No NDTMS items were reported.`,
      );
      return { outcome: 'refused-no-consent', section: { status: 'refused', reason: 'NO_NDTMS_CONSENT', consent } };
    }
    const discharge = (await latestAnswers(ctx.caseId, 'sms-discharge')) ?? {};
    const item = (value: unknown): unknown => value ?? null;
    return {
      outcome: 'included',
      section: {
        status: 'included',
        consent,
        consentDate: item(referral?.['ndtmsConsentDate']),
        items: {
          initialReceptionDate: item(report['initialReceptionDate']),
          drug1: item(referral?.['drug1']),
          drug2: item(referral?.['drug2']),
          drug3: item(referral?.['drug3']),
          dischargeReason: item(discharge['dischargeReason']),
          prisonExitDate: item(discharge['prisonExitDate']),
          prisonExitReason: item(discharge['prisonExitReason']),
          prisonExitDestinationDatCode: item(discharge['exitDestinationDatCode']),
          referralOnReleaseStatus: item(discharge['referralOnReleaseStatus']),
        },
      },
    };
  }

  const shell = { openTask, closeTask, resolvePathway };
  const serviceTasks = {
    'pds.lookupPatient': lookupPatient,
    'pds.traceByDemographics': traceByDemographics,
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
    'records.reviewDuplicateRecord': reviewDuplicateRecord,
    'records.withdrawOpenTasks': withdrawOpenTasks,
    'notify.notifyStaff': notifyStaff,
    'worklist.planTasks': planTasks,
    'records.readHandover': readHandover,
  } satisfies Record<ServiceTaskType, (input: ServiceTaskActivityInput) => Promise<TaskVariables>>;
  return {
    ...withFailureConversion(shell),
    ...withFailureConversion(serviceTasks),
    ...notify,
  };
}

export type PathwayTaskActivities = ReturnType<typeof createPathwayTaskActivities>;
