/**
 * The `runPathway` shell's incident activities: `raiseIncident` records a failure nothing in the pathway caught
 * and opens the worklist task that resolves it; `closeIncident` records how it ended and closes that task.
 *
 * Idempotent as every record activity is: the incident's key is `<workflow id>/<incident id>` (the interpreter's
 * incident id is deterministic), which is also its worklist task's id, so a retried activity finds what the
 * first attempt wrote. Both tables are append-only: a resolution is a row of its own (one per incident, by a
 * unique key), never an update of the incident. Each write leaves its audit event in the same transaction.
 *
 * Who is asked: the task goes to the candidate group `ops` only. Retrying or skipping an integration needs to
 * know whether the other system is back and what skipping it leaves undone; the clinical team sees the incident
 * on the case (`throughcare case show`, the case's tasks) and ops bring them in when a skip has clinical weight.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { worklistTaskId } from '../../domain/worklist-task-id';
import { type Logger } from '../../log';
import { type Store } from '../../store';
import type { CloseIncidentActivityInput, RaiseIncidentActivityInput } from '../../workflows/run-pathway.workflow';
import { INCIDENT_CANDIDATE_GROUP, INCIDENT_FORM_ID } from '../../workflows/pathway/incidents';
import { ActivityError, IdempotencyConflictError, InvalidInputError, withFailureConversion } from '../errors';
import { actorOf, currentWorkflowId } from '../pathway-tasks/task-context';
import { insertIfAbsent, resolveSubject, runInTransaction, writeAudit, type Actor } from './record-writes';
import { createRecordActivities } from './records.activities';

export interface IncidentActivitiesDeps {
  store: Store;
  logger: Logger;
}

const SYSTEM = { id: 'system:pathway', role: 'system' } as const;
/** The worklist's name and cancel reason columns hold 255 characters. */
const NAME_LENGTH = 255;

function taskNameOf(elementName: string): string {
  const name = `Resolve incident: ${elementName}`;
  return name.length <= NAME_LENGTH ? name : `${name.slice(0, NAME_LENGTH - 1)}…`;
}

/** A step that found what it depends on not written yet: not final, so Temporal tries again shortly. */
function notYet(message: string, details: Record<string, unknown>): ActivityError {
  return new ActivityError(message, 'INCIDENT_NOT_RECORDED', true, { details, nextRetryDelayMs: 500 });
}

export function createIncidentActivities(deps: IncidentActivitiesDeps) {
  const { store } = deps;
  const records = createRecordActivities(deps);

  async function raiseIncident(input: RaiseIncidentActivityInput): Promise<void> {
    const { incident } = input;
    if (typeof incident?.id !== 'string' || incident.id === '') throw new InvalidInputError('incident.id is required');
    const workflowId = currentWorkflowId(input.caseId);
    const id = worklistTaskId(workflowId, incident.id);
    const actor: Actor = {
      ...SYSTEM,
      reason: `${input.processId}/${incident.elementId}: ${incident.errorCode}`,
      requestId: workflowId,
    };
    await runInTransaction(store, async (trx) => {
      const subject = await resolveSubject(trx, { caseId: input.caseId });
      const created = await insertIfAbsent(trx, 'incidents', {
        id,
        case_id: input.caseId,
        workflow_id: workflowId,
        process_id: input.processId,
        element_id: incident.elementId,
        element_name: incident.elementName ?? null,
        instance_id: incident.instanceId,
        kind: incident.kind,
        task_type: incident.taskType ?? null,
        called_process_id: incident.calledProcessId ?? null,
        error_code: incident.errorCode,
        message: incident.message,
        attempts: incident.attempts ?? null,
        retryable: incident.retryable ?? null,
        raised_at: new Date(incident.raisedAt),
      });
      if (!created) {
        const existing = await trx('incidents')
          .where({ id })
          .first<{ case_id: string; element_id: string }>('case_id', 'element_id');
        if (existing.case_id !== input.caseId || existing.element_id !== incident.elementId)
          throw new IdempotencyConflictError('incident', id);
        return;
      }
      await writeAudit(trx, actor, {
        action: 'create',
        entityType: 'Incident',
        entityId: id,
        patientId: subject.patientId,
      });
    });
    await records.openWorklistTask({
      taskId: id,
      caseId: input.caseId,
      workflowId,
      elementId: incident.elementId,
      name: taskNameOf(incident.elementName ?? incident.elementId),
      formId: INCIDENT_FORM_ID,
      candidateGroups: [INCIDENT_CANDIDATE_GROUP],
      actor,
    });
  }

  async function closeIncident(input: CloseIncidentActivityInput): Promise<void> {
    const workflowId = currentWorkflowId(input.caseId);
    const id = worklistTaskId(workflowId, input.incidentId);
    const resolvedBy = input.resolvedBy ?? (input.resolution === 'cancelled' ? SYSTEM.id : 'unknown');
    const resolvedAt = input.resolvedAt ? new Date(input.resolvedAt) : new Date();
    // The person who resolved it is the actor; an incident cancelled with its element is the pathway's doing.
    const reason = `incident ${input.resolution}${input.reason ? `: ${input.reason}` : ''}`;
    const actor: Actor = input.actedBy
      ? actorOf(input.actedBy, reason)
      : { ...(input.resolvedBy ? { id: input.resolvedBy, role: 'ops' } : SYSTEM), reason, requestId: workflowId };
    await runInTransaction(store, async (trx) => {
      const incident = await trx('incidents').where({ id }).first<{ case_id: string } | undefined>('case_id');
      // Cancelled while `raiseIncident` is still being written (a case terminated at once): wait for it.
      if (!incident) throw notYet(`incident ${id} is not recorded yet`, { incidentId: id });
      const created = await insertIfAbsent(
        trx,
        'incident_resolutions',
        {
          id: randomUUID(),
          incident_id: id,
          outcome: input.resolution,
          reason: input.reason ?? null,
          corrected_variables: input.correctedVariables ?? [],
          resolved_by: resolvedBy,
          completion_id: input.completionId ?? null,
          resolved_at: resolvedAt,
        },
        'incident_id',
      );
      if (!created) return;
      const subject = await resolveSubject(trx, { caseId: incident.case_id });
      await writeAudit(trx, actor, {
        action: 'update',
        entityType: 'Incident',
        entityId: id,
        patientId: subject.patientId,
      });
    });
    try {
      if (input.resolution === 'cancelled') {
        // The worklist keeps 255 characters of a reason; the resolution row keeps it whole.
        const reason = (input.reason ?? 'closed by the pathway').slice(0, NAME_LENGTH);
        await records.cancelWorklistTask({ taskId: id, reason, actor });
      } else {
        await records.completeWorklistTask({
          taskId: id,
          completedBy: resolvedBy,
          ...(input.completionId ? { completionId: input.completionId } : {}),
          ...(input.resolvedAt ? { completedAt: input.resolvedAt } : {}),
          actor,
        });
      }
    } catch (error) {
      if (error instanceof ApplicationFailure && error.type === 'NOT_FOUND')
        throw notYet(`the task of incident ${id} is not projected yet`, { taskId: id });
      throw error;
    }
  }

  return withFailureConversion({ raiseIncident, closeIncident });
}

export type IncidentActivities = ReturnType<typeof createIncidentActivities>;
