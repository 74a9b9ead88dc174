/**
 * A person ends a case early: the case's workflow is asked, through its `terminatePathway` update, to withdraw
 * every open task and incident with the reason and end `terminated` (Temporal's own terminate would run no
 * workflow code, leaving the tasks open in worklists); then the case's planned work is withdrawn with the same
 * reason and the case record is closed with the reason and who ended it, audited. The only way a case ends short of its pathway's end, besides the pathway's own terminate
 * end events.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { createRecordActivities } from '../activities/records';
import { ConflictError, ValidationError } from '../domain/errors';
import type { PathwayView, TerminatePathwayInput, TerminatePathwayResult } from '../workflows';
import { STATE_QUERY, TERMINATE_PATHWAY_UPDATE, translateNotFound, workflowIdOf, type CaseEngine } from './case-engine';

export interface TerminateCaseInput {
  /** Why: kept with the case, on every task it withdraws and in the audit trail. */
  readonly reason: string;
  /** Who (a user id). */
  readonly terminatedBy: string;
  /** Their role, for the audit trail (`clinician` unless said). */
  readonly role?: string;
}

export interface TerminatedCase {
  readonly caseId: string;
  readonly workflowId: string;
  readonly terminatedAt: string;
  readonly reason: string;
  readonly terminatedBy: string;
}

/** The case record keeps 255 characters of a close reason; the workflow keeps it whole. */
const CLOSE_REASON_LENGTH = 255;

export async function terminateCase(
  engine: CaseEngine,
  caseId: string,
  input: TerminateCaseInput,
): Promise<TerminatedCase> {
  const reason = typeof input.reason === 'string' ? input.reason.trim() : '';
  if (reason === '')
    throw new ValidationError('A reason is required to terminate a case', [
      { pointer: '/reason', detail: 'say why the case ends here: it is kept with the case and its tasks' },
    ]);
  const handle = engine.client.workflow.getHandle(workflowIdOf(caseId));
  let result: TerminatePathwayResult;
  try {
    result = await handle.executeUpdate<TerminatePathwayResult, [TerminatePathwayInput]>(TERMINATE_PATHWAY_UPDATE, {
      args: [{ reason, terminatedBy: input.terminatedBy }],
    });
  } catch (error) {
    throw await refusal(engine, handle, caseId, error);
  }
  await closeCaseRecord(engine, caseId, reason, input);
  engine.logger.info({ caseId, terminatedBy: input.terminatedBy }, 'case terminated');
  return {
    caseId,
    workflowId: handle.workflowId,
    terminatedAt: result.terminatedAt,
    reason,
    terminatedBy: input.terminatedBy,
  };
}

async function closeCaseRecord(engine: CaseEngine, caseId: string, reason: string, input: TerminateCaseInput) {
  const records = createRecordActivities({ store: engine.store, logger: engine.logger });
  // Planned work is not a task the workflow holds (it withdrew those): withdraw it here, with the same reason.
  await records.cancelPlannedTasks({
    caseId,
    reason,
    actor: { id: input.terminatedBy, role: input.role ?? 'clinician', reason: `case terminated: ${reason}` },
  });
  await records.closeCase({
    caseId,
    reason: `terminated: ${reason}`.slice(0, CLOSE_REASON_LENGTH),
    actor: { id: input.terminatedBy, role: input.role ?? 'clinician', reason: `case terminated: ${reason}` },
  });
}

/** Why the workflow did not take the termination, as Throughcare's errors. */
async function refusal(engine: CaseEngine, handle: WorkflowHandle, caseId: string, error: unknown): Promise<unknown> {
  if (error instanceof WorkflowUpdateFailedError) {
    const cause = error.cause as { type?: string; message?: string } | undefined;
    if (cause?.type === 'INVALID_TERMINATION')
      return new ValidationError(`Case ${caseId} was not terminated`, [
        { pointer: '/reason', detail: cause.message ?? 'not accepted' },
      ]);
    return new ConflictError(
      `Case ${caseId} was not terminated: ${await whyNot(engine, handle, caseId, cause?.message)}`,
      {
        cause: error,
      },
    );
  }
  if (error instanceof WorkflowNotFoundError) {
    const status = await handle.describe().then(
      (d) => d.status.name,
      () => undefined,
    );
    if (!status) return translateNotFound(error, caseId);
    return new ConflictError(`Case ${caseId} was not terminated: it is closed (${status.toLowerCase()})`, {
      cause: error,
    });
  }
  return translateNotFound(error, caseId);
}

/** Says who ended a case that was already terminated (and closes its record, should that have been missed). */
async function whyNot(
  engine: CaseEngine,
  handle: WorkflowHandle,
  caseId: string,
  message: string | undefined,
): Promise<string> {
  const view = await handle.query<PathwayView>(STATE_QUERY).catch(() => undefined);
  const termination = view?.termination;
  if (!termination) return message ?? 'the workflow refused it';
  await closeCaseRecord(engine, caseId, termination.reason, { ...termination }).catch(() => undefined);
  return `it was already terminated by ${termination.terminatedBy} at ${termination.at}: ${termination.reason}`;
}
