/**
 * Record-keeping activities: the only way workflows write the clinical record and its projections.
 *
 * Each one is idempotent under retry. The caller chooses the id of what is created (a workflow derives it
 * from its own id, the BPMN element and a deterministic uuid4), the insert does nothing when that id is
 * already there, and the audit event is written in the same transaction only when the write happened. So a
 * retry after a crash, before or after the commit, leaves exactly one record and one audit event.
 * State changes (complete a task, resolve an alert) are conditional updates that do nothing the second time.
 */
import { randomUUID } from 'node:crypto';
import { type Logger } from '../../log';
import { checkNhsNumber, NHS_NUMBER_SYSTEM, type Store } from '../../store';
import {
  ActivityError,
  ActivityErrorCode,
  IdempotencyConflictError,
  InvalidInputError,
  InvalidStateError,
  NotFoundError,
  withFailureConversion,
} from '../errors';
import {
  insertIfAbsent,
  parseInstant,
  resolveSubject,
  runInTransaction,
  violatedUniqueConstraint,
  writeAudit,
  type Actor,
  type AuditAction,
  type Trx,
} from './record-writes';
import { isValidSnomedConceptId } from './snomed';

export type { Actor } from './record-writes';

export interface RecordActivitiesDeps {
  store: Store;
  logger: Logger;
}

/** What a create returns: the id, and whether this call wrote it (false on a retry or a repeat). */
export interface Created {
  id: string;
  created: boolean;
}

/** What a state change returns: whether this call changed anything (false when it was already done). */
export interface Changed {
  id: string;
  changed: boolean;
}

export interface RecordPatientDemographicsInput {
  nhsNumber: string;
  /**
   * The patient row to write, when the caller knows it (a case's person): then `nhsNumber` is only checked, the
   * row is found by id (its number may be a former one), and its link to a superseding record is left alone.
   */
  patientId?: string;
  /** The PDS Patient resource as fetched (for an `R` patient PDS has already withheld address and telecom). */
  demographics: Record<string, unknown>;
  fetchedAt: string;
  securityLabel?: 'U' | 'R' | 'V';
  /** When PDS answered a GET for `nhsNumber` with another NHS number: the record it was merged into. */
  supersededByNhsNumber?: string;
  actor: Actor;
}

export interface OpenCaseInput {
  caseId: string;
  /** The workflow run's business key (`case-<id>`). */
  workflowId: string;
  nhsNumber: string;
  settingOdsCode: string;
  pathwayId: string;
  pathwayVersion: number;
  openedAt?: string;
  actor: Actor;
}

export interface CloseCaseInput {
  caseId: string;
  reason: string;
  closedAt?: string;
  actor: Actor;
}

export interface OpenWorklistTaskInput {
  /** A business key chosen by the workflow, e.g. `<workflow id>/<element id>/<token>`. */
  taskId: string;
  caseId: string;
  workflowId: string;
  elementId: string;
  name: string;
  formId?: string;
  assignee?: string;
  candidateGroups?: string[];
  candidateUsers?: string[];
  dueAt?: string;
  followUpAt?: string;
  /** The user task's priority, a whole number from 0 to 100; absent: 50 (Camunda's default). */
  priority?: number;
  /**
   * The user task the pathway opens replaces the planned row of the same workflow and element (`planned` ->
   * `started`, `startedTaskId` = this task), so the worklist never shows both. Set by the shell's `openTask`.
   */
  startsPlannedTask?: boolean;
  actor: Actor;
}

export interface PlannedTaskInput {
  elementId: string;
  name: string;
  /** ISO 8601 instant. */
  dueAt: string;
  candidateGroups: string[];
  formId?: string;
}

export interface PlanWorklistTasksInput {
  caseId: string;
  workflowId: string;
  /**
   * The plan's key, stable across attempts (the activity id): row ids are
   * `<workflow id>/planned/<element id>/<planKey>` (`#2`, `#3`... after it for an element planned twice).
   */
  planKey: string;
  tasks: PlannedTaskInput[];
  /** Kept as the cancel reason of the planned rows this plan replaces (default `replanned`). */
  reason?: string;
  actor: Actor;
}

export interface PlanWorklistTasksResult {
  plannedTaskIds: string[];
  /** Planned rows this call withdrew (0 on a retry). */
  withdrawn: number;
}

export interface CancelPlannedTasksInput {
  caseId: string;
  /** Only this workflow's planned rows (default: every planned row of the case). */
  workflowId?: string;
  /** Rows to leave alone (the ones a plan is writing). */
  keepTaskIds?: string[];
  reason: string;
  actor: Actor;
}

export interface StaffNoticeRecipient {
  /** The outbox row's id: the idempotency key of this message. */
  notificationId: string;
  staffId: string;
}

export interface RecordStaffNoticeInput {
  noteId: string;
  caseId: string;
  /** The note on the case that says what was sent to whom (and to whom it could not be). */
  noteBody: string;
  recipients: StaffNoticeRecipient[];
  template: string;
  personalisation: Record<string, string>;
  actor: Actor;
}

export interface MarkTasksOverdueInput {
  caseId: string;
  elementId: string;
  /** When the task became overdue (ISO 8601); kept only the first time. */
  overdueSince: string;
}

export interface CompleteWorklistTaskInput {
  taskId: string;
  completedBy: string;
  completedAt?: string;
  /** The id of the submission that completed it, when it had one: a re-sent submission is told by it. */
  completionId?: string;
  actor: Actor;
}

export interface CancelWorklistTaskInput {
  taskId: string;
  reason: string;
  actor: Actor;
}

export interface SaveAssessmentInput {
  assessmentId: string;
  caseId: string;
  taskId?: string;
  formId: string;
  formVersion: string;
  data: Record<string, unknown>;
  snomedCodes?: string[];
  submittedBy: string;
  submittedAt?: string;
  /** Set to record a correction of an earlier assessment (which stays as it was). */
  corrects?: { assessmentId: string; reason: string };
  actor: Actor;
}

export interface AddNoteInput {
  noteId: string;
  caseId?: string;
  patientId?: string;
  body: string;
  author: { id: string; role: string };
  writtenAt?: string;
  actor: Actor;
}

export interface AmendNoteInput {
  noteId: string;
  /** The note being corrected: the latest version in its chain. */
  amendsNoteId: string;
  body: string;
  reason: string;
  author: { id: string; role: string };
  actor: Actor;
}

export interface RaiseAlertInput {
  alertId: string;
  caseId?: string;
  patientId?: string;
  code: string;
  codeSystem: string;
  display: string;
  severity: 'low' | 'medium' | 'high';
  reason?: string;
  actor: Actor;
}

export interface ResolveAlertInput {
  alertId: string;
  reason: string;
  actor: Actor;
}

export interface BookAppointmentInput {
  appointmentId: string;
  caseId?: string;
  patientId?: string;
  startsAt: string;
  endsAt?: string;
  location: string;
  agency: string;
  agencyContactId?: string;
  /** What kind of appointment (`gp`, `probation`...): the pathways name their messages about it by it. */
  kind?: string;
  actor: Actor;
}

export type AppointmentOutcome = 'attended' | 'missed' | 'cancelled';

export interface UpdateAppointmentStatusInput {
  /** The idempotency key of this change. */
  changeId: string;
  appointmentId: string;
  status: AppointmentOutcome;
  reason?: string;
  actor: Actor;
}

export interface AddContactInput {
  contactId: string;
  patientId: string;
  kind: 'agency' | 'family_member';
  name: string;
  organisation?: string;
  relationship: string;
  channel: 'email' | 'sms' | 'letter';
  email?: string;
  phone?: string;
  address?: { lines: string[]; postcode: string };
  actor: Actor;
}

export interface RecordContactConsentInput {
  /** The idempotency key of this decision. */
  consentEventId: string;
  contactId: string;
  status: 'given' | 'withdrawn';
  /** When the person decided (may be earlier than now, when it is recorded). */
  decidedAt: string;
  note?: string;
  actor: Actor;
}

export interface EnqueueNotificationInput {
  /** The idempotency key: one message per key, however often the workflow retries. */
  notificationId: string;
  contactId: string;
  caseId?: string;
  template: string;
  personalisation: Record<string, string>;
  actor: Actor;
}

export type EnqueueResult =
  | { id: string; outcome: 'enqueued' | 'already-enqueued' }
  /** Not sent, by rule: the family member has not consented, or the record is restricted (REFERENCE §1.9, §6). */
  | { id: string; outcome: 'skipped'; reason: 'no-consent' | 'consent-withdrawn' | 'restricted-record' };

export interface WriteAuditEventInput {
  /** Chosen by the caller, so a retried read-audit is written once. */
  auditEventId: string;
  action: AuditAction;
  entityType: string;
  entityId: string;
  patientId?: string;
  occurredAt?: string;
  /** HL7 v3 PurposeOfUse of a read: `TREAT`, or `ETREAT` for emergency access without recorded permission. */
  purpose?: string;
  actor: Actor;
}

function requireText(value: string | undefined, field: string): string {
  if (value === undefined || value.trim() === '') throw new InvalidInputError(`${field} is required`);
  return value;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
function requireUuid(value: string, field: string): string {
  if (!UUID.test(value)) throw new InvalidInputError(`${field} must be a uuid`);
  return value;
}

/** The row a create's key points at, when a retry (or a reused key) finds it already there. */
async function existingRow<T>(trx: Trx, table: string, id: string): Promise<T> {
  const row = (await trx(table).where({ id }).first()) as T | undefined;
  if (!row) throw new ActivityError(`${table} ${id} vanished`, ActivityErrorCode.Unexpected, true);
  return row;
}

/**
 * PDS withholds a restricted (`R`) patient's location-sensitive fields; drop them here too, so that a
 * response from another source, or a label that changed, never leaves an address on record (REFERENCE §1.9).
 */
function withoutLocationFields(demographics: Record<string, unknown>): Record<string, unknown> {
  const { address: _address, telecom: _telecom, contact: _contact, generalPractitioner: _gp, ...rest } = demographics;
  return rest;
}

/** Builds the record-keeping activities with their dependencies closed over (Temporal's pattern). */
export function createRecordActivities(deps: RecordActivitiesDeps) {
  const { store } = deps;
  const logger = deps.logger.child({ component: 'record-activities' });

  async function recordPatientDemographics(input: RecordPatientDemographicsInput): Promise<Created> {
    const nhsNumber = checkNhsNumber(input.nhsNumber);
    const isRestricted = input.securityLabel === 'R' || input.securityLabel === 'V';
    const demographics = isRestricted ? withoutLocationFields(input.demographics) : input.demographics;
    const fetchedAt = parseInstant(input.fetchedAt, 'fetchedAt');
    const successor = input.supersededByNhsNumber ? checkNhsNumber(input.supersededByNhsNumber) : undefined;
    return runInTransaction(store, async (trx) => {
      let supersededById: string | null = null;
      if (successor) {
        await insertIfAbsent(trx, 'patients', { id: randomUUID(), nhs_number: successor }, 'nhs_number');
        supersededById = (await trx('patients').where({ nhs_number: successor }).first<{ id: string }>('id')).id;
      }
      let created = false;
      if (input.patientId) {
        const known = await trx('patients').where({ id: input.patientId }).first<{ id: string } | undefined>('id');
        if (!known) throw new NotFoundError('patient', input.patientId);
      } else {
        created = await insertIfAbsent(trx, 'patients', { id: randomUUID(), nhs_number: nhsNumber }, 'nhs_number');
      }
      const row = input.patientId ? { id: input.patientId } : { nhs_number: nhsNumber };
      // Only a newer fetch replaces the demographics, so a delayed retry cannot roll them back.
      const updated = await trx('patients')
        .where(row)
        .andWhere((q) => {
          void q.whereNull('demographics_fetched_at').orWhere('demographics_fetched_at', '<', fetchedAt ?? new Date());
        })
        .update({
          demographics: JSON.stringify(demographics),
          demographics_fetched_at: fetchedAt,
          security_label: input.securityLabel ?? null,
          is_restricted: isRestricted,
          ...(input.patientId ? {} : { superseded_by_id: supersededById }),
          updated_at: trx.fn.now(),
        })
        .returning<{ id: string }[]>('id');
      const id = (await trx('patients').where(row).first<{ id: string }>('id')).id;
      if (updated.length > 0) {
        await writeAudit(trx, input.actor, {
          action: created ? 'create' : 'update',
          entityType: 'Patient',
          entityId: id,
          patientId: id,
        });
      }
      return { id, created };
    });
  }

  async function openCase(input: OpenCaseInput): Promise<Created> {
    requireUuid(input.caseId, 'caseId');
    const nhsNumber = checkNhsNumber(input.nhsNumber);
    const openedAt = parseInstant(input.openedAt, 'openedAt') ?? new Date();
    return runInTransaction(store, async (trx) => {
      const setting = await trx('settings')
        .where({ ods_code: input.settingOdsCode })
        .first<{ id: string } | undefined>('id');
      if (!setting) throw new NotFoundError('setting with ODS code', input.settingOdsCode);
      // A number the person was known by before their record was re-keyed leads to the same person.
      const former = await trx('patient_identifiers')
        .where({ system: NHS_NUMBER_SYSTEM, value: nhsNumber })
        .first<{ patient_id: string } | undefined>('patient_id');
      if (!former) await insertIfAbsent(trx, 'patients', { id: randomUUID(), nhs_number: nhsNumber }, 'nhs_number');
      const patient = former
        ? { id: former.patient_id }
        : await trx('patients').where({ nhs_number: nhsNumber }).first<{ id: string }>('id');
      const created = await insertIfAbsent(
        trx,
        'cases',
        {
          id: input.caseId,
          patient_id: patient.id,
          setting_id: setting.id,
          pathway_id: input.pathwayId,
          pathway_version: input.pathwayVersion,
          workflow_id: input.workflowId,
          status: 'open',
          opened_at: openedAt,
        },
        'workflow_id',
      );
      if (!created) {
        const existing = await trx('cases')
          .where({ workflow_id: input.workflowId })
          .first<{ id: string; patient_id: string }>('id', 'patient_id');
        if (existing.id !== input.caseId || existing.patient_id !== patient.id) {
          throw new IdempotencyConflictError('case for workflow', input.workflowId);
        }
        return { id: input.caseId, created: false };
      }
      await writeAudit(trx, input.actor, {
        action: 'create',
        entityType: 'Case',
        entityId: input.caseId,
        patientId: patient.id,
      });
      return { id: input.caseId, created: true };
    });
  }

  async function closeCase(input: CloseCaseInput): Promise<Changed> {
    const closedAt = parseInstant(input.closedAt, 'closedAt') ?? new Date();
    return runInTransaction(store, async (trx) => {
      const rows = await trx('cases')
        .where({ id: input.caseId, status: 'open' })
        .update({ status: 'closed', closed_at: closedAt, close_reason: input.reason })
        .returning<{ patient_id: string }[]>('patient_id');
      const row = rows[0];
      if (!row) {
        const existing = await trx('cases').where({ id: input.caseId }).first<{ id: string } | undefined>('id');
        if (!existing) throw new NotFoundError('case', input.caseId);
        return { id: input.caseId, changed: false };
      }
      await writeAudit(trx, input.actor, {
        action: 'update',
        entityType: 'Case',
        entityId: input.caseId,
        patientId: row.patient_id,
        reason: input.reason,
      });
      return { id: input.caseId, changed: true };
    });
  }

  async function openWorklistTask(input: OpenWorklistTaskInput): Promise<Created> {
    requireText(input.taskId, 'taskId');
    const dueAt = parseInstant(input.dueAt, 'dueAt');
    const followUpAt = parseInstant(input.followUpAt, 'followUpAt');
    if (
      input.priority !== undefined &&
      !(Number.isInteger(input.priority) && input.priority >= 0 && input.priority <= 100)
    )
      throw new InvalidInputError('priority must be a whole number from 0 to 100');
    return runInTransaction(store, async (trx) => {
      const subject = await resolveSubject(trx, { caseId: input.caseId });
      const created = await insertIfAbsent(trx, 'worklist_tasks', {
        id: input.taskId,
        case_id: input.caseId,
        workflow_id: input.workflowId,
        element_id: input.elementId,
        name: input.name,
        form_id: input.formId ?? null,
        status: 'open',
        assignee: input.assignee ?? null,
        candidate_groups: input.candidateGroups ?? [],
        candidate_users: input.candidateUsers ?? [],
        due_at: dueAt ?? null,
        follow_up_at: followUpAt ?? null,
        ...(input.priority !== undefined ? { priority: input.priority } : {}),
      });
      if (!created) {
        const existing = await existingRow<{ case_id: string; element_id: string }>(
          trx,
          'worklist_tasks',
          input.taskId,
        );
        if (existing.case_id !== input.caseId || existing.element_id !== input.elementId) {
          throw new IdempotencyConflictError('worklist task', input.taskId);
        }
        return { id: input.taskId, created: false };
      }
      await writeAudit(trx, input.actor, {
        action: 'create',
        entityType: 'WorklistTask',
        entityId: input.taskId,
        patientId: subject.patientId,
      });
      if (input.startsPlannedTask) await startPlannedTask(trx, input);
      return { id: input.taskId, created: true };
    });
  }

  /**
   * The planned row of the opened task's workflow and element (the soonest due, when an element was planned
   * twice) becomes `started`, pointing at the task; the task keeps the planned row's overdue history. Runs only
   * when the task row was written now, so a retried openTask never starts a second planned row.
   */
  async function startPlannedTask(trx: Trx, input: OpenWorklistTaskInput): Promise<void> {
    const planned = await trx('worklist_tasks')
      .where({ workflow_id: input.workflowId, element_id: input.elementId, status: 'planned' })
      .orderByRaw('due_at asc nulls last, id asc')
      .first<{ id: string; overdue_since: Date | null } | undefined>('id', 'overdue_since');
    if (!planned) return;
    await trx('worklist_tasks')
      .where({ id: planned.id, status: 'planned' })
      .update({ status: 'started', started_task_id: input.taskId });
    if (planned.overdue_since) {
      await trx('worklist_tasks')
        .where({ id: input.taskId })
        .whereNull('overdue_since')
        .update({ overdue_since: planned.overdue_since });
    }
  }

  /** Withdraws planned rows (`planned` -> `cancelled` with the reason); started and open rows are left alone. */
  async function cancelPlanned(trx: Trx, input: CancelPlannedTasksInput): Promise<number> {
    const query = trx('worklist_tasks').where({ case_id: input.caseId, status: 'planned' });
    if (input.workflowId) query.andWhere({ workflow_id: input.workflowId });
    if (input.keepTaskIds && input.keepTaskIds.length > 0) query.whereNotIn('id', input.keepTaskIds);
    const rows = await query
      .update({ status: 'cancelled', cancel_reason: input.reason.slice(0, 255) })
      .returning<{ id: string }[]>('id');
    if (rows.length > 0) {
      const subject = await resolveSubject(trx, { caseId: input.caseId });
      for (const row of rows) {
        await writeAudit(trx, input.actor, {
          action: 'update',
          entityType: 'WorklistTask',
          entityId: row.id,
          patientId: subject.patientId,
          reason: input.reason,
        });
      }
    }
    return rows.length;
  }

  function cancelPlannedTasks(input: CancelPlannedTasksInput): Promise<{ cancelled: number }> {
    requireText(input.reason, 'reason');
    return runInTransaction(store, async (trx) => ({ cancelled: await cancelPlanned(trx, input) }));
  }

  /**
   * Replaces the workflow's plan: its planned rows not yet started are withdrawn (`reason`, default
   * `replanned`), then one `planned` row per task is written. Ids come from `planKey`, so a retry writes
   * nothing new and withdraws nothing it wrote. An empty plan only withdraws.
   */
  async function planWorklistTasks(input: PlanWorklistTasksInput): Promise<PlanWorklistTasksResult> {
    requireText(input.planKey, 'planKey');
    const seen = new Map<string, number>();
    const rows = input.tasks.map((task, index) => {
      requireText(task.elementId, `tasks[${index}].elementId`);
      requireText(task.name, `tasks[${index}].name`);
      const dueAt = parseInstant(requireText(task.dueAt, `tasks[${index}].dueAt`), `tasks[${index}].dueAt`);
      const n = (seen.get(task.elementId) ?? 0) + 1;
      seen.set(task.elementId, n);
      const id = `${input.workflowId}/planned/${task.elementId}/${input.planKey}${n > 1 ? `#${n}` : ''}`;
      if (id.length > 255) throw new InvalidInputError(`tasks[${index}]: the planned task id is too long: ${id}`);
      return {
        id,
        case_id: input.caseId,
        workflow_id: input.workflowId,
        element_id: task.elementId,
        name: task.name.slice(0, 255),
        form_id: task.formId ?? null,
        status: 'planned',
        candidate_groups: task.candidateGroups,
        candidate_users: [],
        due_at: dueAt,
      };
    });
    const ids = rows.map((row) => row.id);
    return runInTransaction(store, async (trx) => {
      const subject = await resolveSubject(trx, { caseId: input.caseId });
      const withdrawn = await cancelPlanned(trx, {
        caseId: input.caseId,
        workflowId: input.workflowId,
        keepTaskIds: ids,
        reason: input.reason ?? 'replanned',
        actor: input.actor,
      });
      for (const row of rows) {
        const created = await insertIfAbsent(trx, 'worklist_tasks', row);
        if (!created) {
          const existing = await existingRow<{ case_id: string; element_id: string }>(trx, 'worklist_tasks', row.id);
          if (existing.case_id !== input.caseId || existing.element_id !== row.element_id) {
            throw new IdempotencyConflictError('worklist task', row.id);
          }
          continue;
        }
        await writeAudit(trx, input.actor, {
          action: 'create',
          entityType: 'WorklistTask',
          entityId: row.id,
          patientId: subject.patientId,
          reason: 'planned',
        });
      }
      return { plannedTaskIds: ids, withdrawn };
    });
  }

  /** Marks the case's open or planned rows of an element overdue, the first time only. Returns how many. */
  async function markTasksOverdue(input: MarkTasksOverdueInput): Promise<{ marked: number }> {
    const since = parseInstant(requireText(input.overdueSince, 'overdueSince'), 'overdueSince');
    const marked = await store.orm.em
      .getConnection()
      .getKnex()('worklist_tasks')
      .where({ case_id: input.caseId, element_id: input.elementId })
      .whereIn('status', ['open', 'planned'])
      .whereNull('overdue_since')
      .update({ overdue_since: since });
    return { marked: typeof marked === 'number' ? marked : 0 };
  }

  /** Moves an open task to `to`; a repeat finds it already there and does nothing; other states refuse. */
  async function finishTask(
    taskId: string,
    to: 'completed' | 'cancelled',
    changes: Record<string, unknown>,
    actor: Actor,
    reason?: string,
  ): Promise<Changed> {
    return runInTransaction(store, async (trx) => {
      // Lock, then decide: an UPDATE ... WHERE status = 'open' and a later read are two snapshots, so a task opened
      // between them (openTask racing closeTask) would read as open yet refuse to close, and stay open for good.
      const row = await trx('worklist_tasks')
        .where({ id: taskId })
        .forUpdate()
        .first<{ status: string; case_id: string } | undefined>('status', 'case_id');
      if (!row) throw new NotFoundError('worklist task', taskId);
      if (row.status === to) return { id: taskId, changed: false };
      if (row.status !== 'open') {
        throw new InvalidStateError(`worklist task ${taskId} is ${row.status}, so it cannot be ${to}`, {
          taskId,
          status: row.status,
        });
      }
      await trx('worklist_tasks')
        .where({ id: taskId })
        .update({ status: to, ...changes });
      const subject = await resolveSubject(trx, { caseId: row.case_id });
      await writeAudit(trx, actor, {
        action: 'update',
        entityType: 'WorklistTask',
        entityId: taskId,
        patientId: subject.patientId,
        reason,
      });
      return { id: taskId, changed: true };
    });
  }

  function completeWorklistTask(input: CompleteWorklistTaskInput): Promise<Changed> {
    const completedAt = parseInstant(input.completedAt, 'completedAt') ?? new Date();
    const knex = store.orm.em.getConnection().getKnex();
    return finishTask(
      input.taskId,
      'completed',
      {
        completed_at: completedAt,
        completed_by: input.completedBy,
        completion_id: input.completionId ?? null,
        // Late is after the due instant; a task with no due date is never late. overdue_since is kept as it was.
        completed_late: knex.raw('coalesce(due_at < ?, false)', [completedAt]),
      },
      input.actor,
    );
  }

  function cancelWorklistTask(input: CancelWorklistTaskInput): Promise<Changed> {
    return finishTask(input.taskId, 'cancelled', { cancel_reason: input.reason }, input.actor, input.reason);
  }

  async function saveAssessment(input: SaveAssessmentInput): Promise<Created> {
    requireUuid(input.assessmentId, 'assessmentId');
    const codes = input.snomedCodes ?? [];
    const invalid = codes.filter((code) => !isValidSnomedConceptId(code));
    if (invalid.length > 0) throw new InvalidInputError(`not SNOMED CT concept ids: ${invalid.join(', ')}`);
    const submittedAt = parseInstant(input.submittedAt, 'submittedAt');
    return runInTransaction(store, async (trx) => {
      const subject = await resolveSubject(trx, { caseId: input.caseId });
      let created: boolean;
      try {
        created = await insertIfAbsent(trx, 'assessments', {
          id: input.assessmentId,
          patient_id: subject.patientId,
          case_id: input.caseId,
          task_id: input.taskId ?? null,
          form_id: input.formId,
          form_version: input.formVersion,
          data: JSON.stringify(input.data),
          snomed_codes: codes,
          submitted_by: input.submittedBy,
          ...(submittedAt ? { submitted_at: submittedAt } : {}),
          corrects_id: input.corrects?.assessmentId ?? null,
          correction_reason: input.corrects?.reason ?? null,
        });
      } catch (error) {
        if (violatedUniqueConstraint(error) === 'assessments_corrects_id_unique') {
          throw new InvalidStateError(
            `assessment ${input.corrects?.assessmentId} was already corrected; correct the latest`,
          );
        }
        throw error;
      }
      if (!created) {
        const existing = await existingRow<{ case_id: string; form_id: string }>(
          trx,
          'assessments',
          input.assessmentId,
        );
        if (existing.case_id !== input.caseId || existing.form_id !== input.formId) {
          throw new IdempotencyConflictError('assessment', input.assessmentId);
        }
        return { id: input.assessmentId, created: false };
      }
      await writeAudit(trx, input.actor, {
        action: 'create',
        entityType: 'Assessment',
        entityId: input.assessmentId,
        patientId: subject.patientId,
      });
      return { id: input.assessmentId, created: true };
    });
  }

  async function insertNote(
    trx: Trx,
    row: { id: string; patientId: string; caseId: string | null; body: string; author: { id: string; role: string } },
    extra: Record<string, unknown>,
    actor: Actor,
  ): Promise<Created> {
    let created: boolean;
    try {
      created = await insertIfAbsent(trx, 'notes', {
        id: row.id,
        patient_id: row.patientId,
        case_id: row.caseId,
        body: row.body,
        author_id: row.author.id,
        author_role: row.author.role,
        ...extra,
      });
    } catch (error) {
      if (violatedUniqueConstraint(error) === 'notes_amends_id_unique') {
        throw new InvalidStateError(`note ${String(extra.amends_id)} was already amended; amend the latest version`);
      }
      throw error;
    }
    if (!created) {
      const existing = await existingRow<{ patient_id: string; body: string }>(trx, 'notes', row.id);
      if (existing.patient_id !== row.patientId || existing.body !== row.body) {
        throw new IdempotencyConflictError('note', row.id);
      }
      return { id: row.id, created: false };
    }
    await writeAudit(trx, actor, { action: 'create', entityType: 'Note', entityId: row.id, patientId: row.patientId });
    return { id: row.id, created: true };
  }

  async function addNote(input: AddNoteInput): Promise<Created> {
    requireUuid(input.noteId, 'noteId');
    requireText(input.body, 'body');
    const writtenAt = parseInstant(input.writtenAt, 'writtenAt');
    return runInTransaction(store, async (trx) => {
      const subject = await resolveSubject(trx, input);
      return insertNote(
        trx,
        { id: input.noteId, ...subject, body: input.body, author: input.author },
        writtenAt ? { written_at: writtenAt } : {},
        input.actor,
      );
    });
  }

  async function amendNote(input: AmendNoteInput): Promise<Created> {
    requireUuid(input.noteId, 'noteId');
    requireText(input.body, 'body');
    requireText(input.reason, 'reason');
    return runInTransaction(store, async (trx) => {
      const original = await trx('notes')
        .where({ id: input.amendsNoteId })
        .first<{ patient_id: string; case_id: string | null } | undefined>('patient_id', 'case_id');
      if (!original) throw new NotFoundError('note', input.amendsNoteId);
      return insertNote(
        trx,
        {
          id: input.noteId,
          patientId: original.patient_id,
          caseId: original.case_id,
          body: input.body,
          author: input.author,
        },
        { amends_id: input.amendsNoteId, amendment_reason: input.reason },
        { ...input.actor, reason: input.actor.reason ?? input.reason },
      );
    });
  }

  async function raiseAlert(input: RaiseAlertInput): Promise<Created> {
    requireUuid(input.alertId, 'alertId');
    return runInTransaction(store, async (trx) => {
      const subject = await resolveSubject(trx, input);
      const created = await insertIfAbsent(trx, 'alerts', {
        id: input.alertId,
        patient_id: subject.patientId,
        case_id: subject.caseId,
        code: input.code,
        code_system: input.codeSystem,
        display: input.display,
        severity: input.severity,
        status: 'active',
        raised_by: input.actor.id,
        raise_reason: input.reason ?? null,
      });
      if (!created) {
        const existing = await existingRow<{ patient_id: string; code: string }>(trx, 'alerts', input.alertId);
        if (existing.patient_id !== subject.patientId || existing.code !== input.code) {
          throw new IdempotencyConflictError('alert', input.alertId);
        }
        return { id: input.alertId, created: false };
      }
      await writeAudit(trx, input.actor, {
        action: 'create',
        entityType: 'Alert',
        entityId: input.alertId,
        patientId: subject.patientId,
        reason: input.reason,
      });
      return { id: input.alertId, created: true };
    });
  }

  async function resolveAlert(input: ResolveAlertInput): Promise<Changed> {
    requireText(input.reason, 'reason');
    return runInTransaction(store, async (trx) => {
      const rows = await trx('alerts')
        .where({ id: input.alertId, status: 'active' })
        .update({
          status: 'resolved',
          resolved_at: trx.fn.now(),
          resolved_by: input.actor.id,
          resolution_reason: input.reason,
        })
        .returning<{ patient_id: string }[]>('patient_id');
      const row = rows[0];
      if (!row) {
        const existing = await trx('alerts').where({ id: input.alertId }).first<{ id: string } | undefined>('id');
        if (!existing) throw new NotFoundError('alert', input.alertId);
        return { id: input.alertId, changed: false };
      }
      await writeAudit(trx, input.actor, {
        action: 'update',
        entityType: 'Alert',
        entityId: input.alertId,
        patientId: row.patient_id,
        reason: input.reason,
      });
      return { id: input.alertId, changed: true };
    });
  }

  async function bookAppointment(input: BookAppointmentInput): Promise<Created> {
    requireUuid(input.appointmentId, 'appointmentId');
    const startsAt = parseInstant(input.startsAt, 'startsAt');
    const endsAt = parseInstant(input.endsAt, 'endsAt');
    return runInTransaction(store, async (trx) => {
      const subject = await resolveSubject(trx, input);
      const created = await insertIfAbsent(trx, 'appointments', {
        id: input.appointmentId,
        patient_id: subject.patientId,
        case_id: subject.caseId,
        starts_at: startsAt,
        ends_at: endsAt ?? null,
        location: input.location,
        agency: input.agency,
        agency_contact_id: input.agencyContactId ?? null,
        kind: input.kind ?? null,
        status: 'booked',
        booked_by: input.actor.id,
      });
      if (!created) {
        const existing = await existingRow<{ patient_id: string }>(trx, 'appointments', input.appointmentId);
        if (existing.patient_id !== subject.patientId)
          throw new IdempotencyConflictError('appointment', input.appointmentId);
        return { id: input.appointmentId, created: false };
      }
      // The history starts with the booking, so the diary's story can be told from the changes alone.
      await trx('appointment_status_changes').insert({
        id: randomUUID(),
        appointment_id: input.appointmentId,
        from_status: null,
        to_status: 'booked',
        changed_by: input.actor.id,
      });
      await writeAudit(trx, input.actor, {
        action: 'create',
        entityType: 'Appointment',
        entityId: input.appointmentId,
        patientId: subject.patientId,
      });
      return { id: input.appointmentId, created: true };
    });
  }

  async function updateAppointmentStatus(input: UpdateAppointmentStatusInput): Promise<Changed> {
    requireUuid(input.changeId, 'changeId');
    if (!['attended', 'missed', 'cancelled'].includes(input.status)) {
      throw new InvalidInputError(`appointment status must be attended, missed or cancelled: ${input.status}`);
    }
    return runInTransaction(store, async (trx) => {
      // Lock the appointment so two changes cannot both read the same "from" status.
      const appointment = await trx('appointments')
        .where({ id: input.appointmentId })
        .forUpdate()
        .first<{ status: string; patient_id: string } | undefined>('status', 'patient_id');
      if (!appointment) throw new NotFoundError('appointment', input.appointmentId);
      const alreadyRecorded = await trx('appointment_status_changes')
        .where({ id: input.changeId })
        .first<{ appointment_id: string; to_status: string } | undefined>('appointment_id', 'to_status');
      if (alreadyRecorded) {
        if (alreadyRecorded.appointment_id !== input.appointmentId || alreadyRecorded.to_status !== input.status) {
          throw new IdempotencyConflictError('appointment status change', input.changeId);
        }
        return { id: input.appointmentId, changed: false };
      }
      if (appointment.status === input.status) return { id: input.appointmentId, changed: false };
      await trx('appointment_status_changes').insert({
        id: input.changeId,
        appointment_id: input.appointmentId,
        from_status: appointment.status,
        to_status: input.status,
        changed_by: input.actor.id,
        reason: input.reason ?? null,
      });
      await trx('appointments')
        .where({ id: input.appointmentId })
        .update({ status: input.status, updated_at: trx.fn.now() });
      await writeAudit(trx, input.actor, {
        action: 'update',
        entityType: 'Appointment',
        entityId: input.appointmentId,
        patientId: appointment.patient_id,
        reason: input.reason,
      });
      return { id: input.appointmentId, changed: true };
    });
  }

  async function addContact(input: AddContactInput): Promise<Created> {
    requireUuid(input.contactId, 'contactId');
    const address = { email: input.email, sms: input.phone, letter: input.address }[input.channel];
    if (!address) throw new InvalidInputError(`a ${input.channel} contact needs its ${input.channel} address`);
    return runInTransaction(store, async (trx) => {
      const subject = await resolveSubject(trx, { patientId: input.patientId });
      const created = await insertIfAbsent(trx, 'contacts', {
        id: input.contactId,
        patient_id: subject.patientId,
        kind: input.kind,
        name: input.name,
        organisation: input.organisation ?? null,
        relationship: input.relationship,
        channel: input.channel,
        email: input.email ?? null,
        phone: input.phone ?? null,
        address: input.address ? JSON.stringify(input.address) : null,
      });
      if (!created) {
        const existing = await existingRow<{ patient_id: string; name: string }>(trx, 'contacts', input.contactId);
        if (existing.patient_id !== subject.patientId || existing.name !== input.name) {
          throw new IdempotencyConflictError('contact', input.contactId);
        }
        return { id: input.contactId, created: false };
      }
      await writeAudit(trx, input.actor, {
        action: 'create',
        entityType: 'Contact',
        entityId: input.contactId,
        patientId: subject.patientId,
      });
      return { id: input.contactId, created: true };
    });
  }

  async function recordContactConsent(input: RecordContactConsentInput): Promise<Created> {
    requireUuid(input.consentEventId, 'consentEventId');
    const decidedAt = parseInstant(input.decidedAt, 'decidedAt');
    return runInTransaction(store, async (trx) => {
      const contact = await trx('contacts')
        .where({ id: input.contactId })
        .forUpdate()
        .first<{ patient_id: string } | undefined>('patient_id');
      if (!contact) throw new NotFoundError('contact', input.contactId);
      const created = await insertIfAbsent(trx, 'contact_consent_events', {
        id: input.consentEventId,
        contact_id: input.contactId,
        status: input.status,
        decided_at: decidedAt,
        recorded_by: input.actor.id,
        note: input.note ?? null,
      });
      if (!created) {
        const existing = await existingRow<{ contact_id: string; status: string }>(
          trx,
          'contact_consent_events',
          input.consentEventId,
        );
        if (existing.contact_id !== input.contactId || existing.status !== input.status) {
          throw new IdempotencyConflictError('consent decision', input.consentEventId);
        }
        return { id: input.consentEventId, created: false };
      }
      // The contact's current consent is the latest decision, whatever order decisions are recorded in.
      const latest = await trx('contact_consent_events')
        .where({ contact_id: input.contactId })
        .orderBy([
          { column: 'decided_at', order: 'desc' },
          { column: 'recorded_at', order: 'desc' },
        ])
        .first<{ status: string; decided_at: string; recorded_by: string }>('status', 'decided_at', 'recorded_by');
      await trx('contacts').where({ id: input.contactId }).update({
        consent_status: latest.status,
        consent_recorded_at: latest.decided_at,
        consent_recorded_by: latest.recorded_by,
      });
      await writeAudit(trx, input.actor, {
        action: 'update',
        entityType: 'Contact',
        entityId: input.contactId,
        patientId: contact.patient_id,
        reason: input.actor.reason ?? `consent ${input.status}`,
      });
      return { id: input.consentEventId, created: true };
    });
  }

  async function enqueueNotification(input: EnqueueNotificationInput): Promise<EnqueueResult> {
    requireText(input.notificationId, 'notificationId');
    requireText(input.template, 'template');
    return runInTransaction(store, async (trx) => {
      const already = await trx('notification_outbox')
        .where({ id: input.notificationId })
        .first<{ contact_id: string } | undefined>('contact_id');
      if (already) {
        if (already.contact_id !== input.contactId)
          throw new IdempotencyConflictError('notification', input.notificationId);
        return { id: input.notificationId, outcome: 'already-enqueued' };
      }
      const contact = await trx('contacts')
        .join('patients', 'patients.id', 'contacts.patient_id')
        .where('contacts.id', input.contactId)
        .first<
          | { kind: string; channel: string; consent_status: string; patient_id: string; is_restricted: boolean }
          | undefined
        >(
          'contacts.kind',
          'contacts.channel',
          'contacts.consent_status',
          'contacts.patient_id',
          'patients.is_restricted',
        );
      if (!contact) throw new NotFoundError('contact', input.contactId);
      if (input.caseId) await resolveSubject(trx, { caseId: input.caseId, patientId: contact.patient_id });
      // Family members are told only with recorded consent, and never about a restricted (PDS `R`) record
      // without an information-governance review (REFERENCE §1.9, §6). Agencies are told unless consent to
      // share with them has been withdrawn.
      if (contact.consent_status === 'withdrawn') {
        return { id: input.notificationId, outcome: 'skipped', reason: 'consent-withdrawn' };
      }
      if (contact.kind === 'family_member') {
        if (contact.is_restricted) return { id: input.notificationId, outcome: 'skipped', reason: 'restricted-record' };
        if (contact.consent_status !== 'given')
          return { id: input.notificationId, outcome: 'skipped', reason: 'no-consent' };
      }
      const created = await insertIfAbsent(trx, 'notification_outbox', {
        id: input.notificationId,
        patient_id: contact.patient_id,
        case_id: input.caseId ?? null,
        contact_id: input.contactId,
        channel: contact.channel,
        template: input.template,
        personalisation: JSON.stringify(input.personalisation),
        status: 'pending',
        attempts: 0,
      });
      if (!created) return { id: input.notificationId, outcome: 'already-enqueued' };
      await writeAudit(trx, input.actor, {
        action: 'create',
        entityType: 'Notification',
        entityId: input.notificationId,
        patientId: contact.patient_id,
      });
      return { id: input.notificationId, outcome: 'enqueued' };
    });
  }

  /**
   * A notice to staff: the note on the case that says who was told what, and one outbox row per member of staff,
   * in one transaction, so the case never says someone was told without the message queued (or the reverse).
   * A retry finds the note and writes nothing; the outbox rows are keyed by the caller.
   */
  async function recordStaffNotice(input: RecordStaffNoticeInput): Promise<Created> {
    requireUuid(input.noteId, 'noteId');
    requireText(input.noteBody, 'noteBody');
    requireText(input.template, 'template');
    return runInTransaction(store, async (trx) => {
      const subject = await resolveSubject(trx, { caseId: input.caseId });
      const note = await insertNote(
        trx,
        { id: input.noteId, ...subject, body: input.noteBody, author: { id: 'system:pathway', role: 'system' } },
        {},
        input.actor,
      );
      if (!note.created) return note;
      for (const recipient of input.recipients) {
        const staff = await trx('staff')
          .where({ id: recipient.staffId })
          .first<{ email: string | null } | undefined>('email');
        if (!staff) throw new NotFoundError('staff', recipient.staffId);
        const created = await insertIfAbsent(trx, 'notification_outbox', {
          id: recipient.notificationId,
          patient_id: subject.patientId,
          case_id: input.caseId,
          staff_id: recipient.staffId,
          channel: 'email',
          template: input.template,
          personalisation: JSON.stringify(input.personalisation),
          status: 'pending',
          attempts: 0,
        });
        if (!created) {
          const existing = await existingRow<{ staff_id: string | null }>(
            trx,
            'notification_outbox',
            recipient.notificationId,
          );
          if (existing.staff_id !== recipient.staffId)
            throw new IdempotencyConflictError('notification', recipient.notificationId);
          continue;
        }
        await writeAudit(trx, input.actor, {
          action: 'create',
          entityType: 'Notification',
          entityId: recipient.notificationId,
          patientId: subject.patientId,
        });
      }
      return note;
    });
  }

  async function writeAuditEvent(input: WriteAuditEventInput): Promise<Created> {
    requireUuid(input.auditEventId, 'auditEventId');
    return runInTransaction(store, async (trx) => {
      const created = await writeAudit(trx, input.actor, {
        id: input.auditEventId,
        action: input.action,
        entityType: input.entityType,
        entityId: input.entityId,
        patientId: input.patientId ?? null,
        occurredAt: input.occurredAt,
        ...(input.purpose ? { purpose: input.purpose } : {}),
      });
      return { id: input.auditEventId, created };
    });
  }

  const activities = {
    recordPatientDemographics,
    openCase,
    closeCase,
    openWorklistTask,
    completeWorklistTask,
    cancelWorklistTask,
    saveAssessment,
    addNote,
    amendNote,
    raiseAlert,
    resolveAlert,
    bookAppointment,
    updateAppointmentStatus,
    addContact,
    recordContactConsent,
    enqueueNotification,
    recordStaffNotice,
    planWorklistTasks,
    cancelPlannedTasks,
    markTasksOverdue,
    writeAuditEvent,
  };
  logger.debug({ activities: Object.keys(activities) }, 'record activities created');
  return withFailureConversion(activities);
}

export type RecordActivities = ReturnType<typeof createRecordActivities>;
