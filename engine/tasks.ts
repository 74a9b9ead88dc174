/**
 * The worklist: list tasks from the projection the workflow's activities keep, and complete one through the
 * case workflow's `completeTask` update, exactly once however often it is sent.
 */
import { randomUUID } from 'node:crypto';
import { status as GrpcStatus } from '@grpc/grpc-js';
import {
  WorkflowNotFoundError,
  ServiceError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  isGrpcServiceError,
  isRetryableError,
  type WorkflowHandle,
} from '@temporalio/client';
import { ConflictError, DependencyUnavailableError, NotFoundError } from '../domain/errors';
import { workflowTaskIdOf } from '../domain/worklist-task-id';
import { formRegistryOf } from './form-registry';
import { WorklistTaskSchema } from '../store';
import type { ActingPerson, CompleteTaskResult, RunPathwayResult } from '../workflows';
import { COMPLETE_TASK_UPDATE, translateNotFound, type CaseEngine } from './case-engine';

export interface TaskSummary {
  readonly taskId: string;
  readonly caseId: string;
  readonly elementId: string;
  readonly name: string;
  readonly formId: string | null;
  readonly status: string;
  readonly assignee: string | null;
  readonly candidateGroups: string[];
  readonly dueAt: string | null;
  readonly followUpAt: string | null;
  readonly createdAt: string;
  readonly completedAt: string | null;
  readonly completedBy: string | null;
  /** The submission that completed it (`task complete --completion-id`), when it had an id. */
  readonly completionId: string | null;
  /** When it was first reported overdue (kept once completed). */
  readonly overdueSince: string | null;
  /** Completed after its due date. */
  readonly completedLate: boolean;
  /** A `started` planned row: the task that replaced it. */
  readonly startedTaskId: string | null;
}

export interface TaskFilter {
  caseId?: string;
  /** Every status: completed, cancelled, planned and started rows too. */
  includeClosed?: boolean;
  /** Planned work (milestones the pathway will open later) besides the open tasks. */
  includePlanned?: boolean;
  /** Planned work only. */
  plannedOnly?: boolean;
}

/** Worklist tasks, soonest due first; open ones only unless `includeClosed` (or `includePlanned`, `plannedOnly`). */
export async function listTasks(engine: CaseEngine, filter: TaskFilter = {}): Promise<TaskSummary[]> {
  const status = filter.plannedOnly
    ? { status: 'planned' as const }
    : filter.includeClosed
      ? {}
      : filter.includePlanned
        ? { status: { $in: ['open' as const, 'planned' as const] } }
        : { status: 'open' as const };
  const rows = await engine.store
    .fork()
    .find(
      WorklistTaskSchema,
      { ...(filter.caseId ? { case: filter.caseId } : {}), ...status },
      { orderBy: { dueAt: 'asc', createdAt: 'asc' } },
    );
  return rows.map((t) => ({
    taskId: t.id,
    caseId: typeof t.case === 'string' ? t.case : t.case.id,
    elementId: t.elementId,
    name: t.name,
    formId: t.formId ?? null,
    status: t.status,
    assignee: t.assignee ?? null,
    candidateGroups: t.candidateGroups,
    dueAt: t.dueAt?.toISOString() ?? null,
    followUpAt: t.followUpAt?.toISOString() ?? null,
    createdAt: t.createdAt.toISOString(),
    completedAt: t.completedAt?.toISOString() ?? null,
    completedBy: t.completedBy ?? null,
    completionId: t.completionId ?? null,
    overdueSince: t.overdueSince?.toISOString() ?? null,
    completedLate: t.completedLate,
    startedTaskId: t.startedTaskId ?? null,
  }));
}

export interface CompleteTaskCommand {
  readonly taskId: string;
  readonly data: Record<string, unknown>;
  readonly completedBy: string;
  /**
   * The person who acted (staff id, role, subject; the request for the audit): the assessment, notes and audit
   * events the completion leads to name them. Without it they name `system:pathway` (a script, an older client).
   */
  readonly actedBy?: ActingPerson;
  /**
   * The submission's id, chosen by the caller so that the same submission can be sent again (a new UUID when
   * absent). It is the Temporal update id: sent again, it answers with the first outcome and applies nothing.
   */
  readonly completionId?: string;
  /**
   * How long to keep trying to learn the outcome while the engine is unreachable or restarting, from the first
   * attempt: DEFAULT_COMPLETION_RETRY_MS (60 s) when absent, at least MIN_COMPLETION_ATTEMPT_MS.
   */
  readonly retryForMs?: number;
}

/** A completed task, with the completion id that completed it. */
export interface TaskCompletionResult extends CompleteTaskResult {
  readonly completionId: string;
}

export const DEFAULT_COMPLETION_RETRY_MS = 60_000;
/** No attempt starts with less time than this left: each needs its long poll cut 1.5 s before the deadline. */
export const MIN_COMPLETION_ATTEMPT_MS = 2_000;

/**
 * The engine did not answer long enough to tell whether a completion was applied: it may have been (the
 * server restarted after taking it) or not. Sending the same completion id again is always safe: it is
 * applied at most once and answers with the first outcome.
 */
export class CompletionOutcomeUnknownError extends DependencyUnavailableError {
  constructor(
    readonly taskId: string,
    readonly completionId: string,
    waitedMs: number,
    cause: unknown,
  ) {
    super(
      `The outcome of completing task ${taskId} is unknown: the workflow engine did not answer within ` +
        `${Math.round(waitedMs / 1000)} s (last: ${whyNoAnswer(cause)}). It may ` +
        `have been applied. Send the same submission again with completion id ${completionId}: it is applied at ` +
        `most once and answers with its outcome; the task's worklist row shows it once it is completed.`,
      { cause },
    );
  }
}

/**
 * Validates the submission against the task's form (every problem named by JSON Pointer), then asks the
 * case's workflow to accept it through the `completeTask` update, whose update id is the completion id.
 *
 * Exactly once: the server attaches the same update id to the first update (admitted, accepted or completed,
 * across its restarts, and on a run closed since), and the workflow recognises the same completion id after
 * continuing as new. When neither has it any more (the completion was applied in an earlier run of a case that
 * has closed since), the worklist projection, which records the completion id, answers. While the engine is
 * unreachable (restarting, deadline exceeded, connection reset) the same completion is sent again with backoff
 * for `retryForMs`; then CompletionOutcomeUnknownError. A refusal by the workflow's validator (the task is not
 * open, not a task of the pathway, or completed by another completion) is a conflict, and nothing is recorded.
 */
export async function completeTask(engine: CaseEngine, command: CompleteTaskCommand): Promise<TaskCompletionResult> {
  const task = await engine.store.fork().findOne(WorklistTaskSchema, { id: command.taskId });
  if (!task) throw new NotFoundError(`No task ${command.taskId}`);
  if (task.formId) (await formRegistryOf(engine.store).validator(engine.now)).assertValid(task.formId, command.data);
  const caseId = typeof task.case === 'string' ? task.case : task.case.id;
  const completionId = command.completionId ?? randomUUID();
  const taskId = workflowTaskIdOf(task.id, task.workflowId);
  const handle = engine.client.workflow.getHandle(task.workflowId);
  const startedAt = Date.now();
  const deadline = startedAt + Math.max(command.retryForMs ?? DEFAULT_COMPLETION_RETRY_MS, MIN_COMPLETION_ATTEMPT_MS);
  for (let delayMs = 250; ; delayMs = Math.min(delayMs * 2, 5_000)) {
    let result: CompleteTaskResult;
    try {
      result = await withinDeadline(engine, deadline, () =>
        handle.executeUpdate<CompleteTaskResult, [unknown]>(COMPLETE_TASK_UPDATE, {
          updateId: completionId,
          args: [
            {
              taskId,
              data: command.data,
              completedBy: command.completedBy,
              ...(command.actedBy ? { actedBy: command.actedBy } : {}),
              completionId,
            },
          ],
        }),
      );
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError) {
        // Refused: by the validator, or by a worker that predates completion ids for the same completion again.
        const recorded = await recordedCompletion(engine, handle, task.id, completionId);
        if (recorded) return recorded;
        throw new ConflictError(`Task ${command.taskId} was not accepted: ${error.cause?.message ?? error.message}`, {
          cause: error,
        });
      }
      if (error instanceof WorkflowNotFoundError) {
        // The run has no update of this id: it closed without taking it, or it is not the run that took it.
        const recorded = await recordedCompletion(engine, handle, task.id, completionId);
        if (recorded) return recorded;
        const status = await handle.describe().then(
          (d) => d.status.name,
          () => undefined,
        );
        if (!status) throw translateNotFound(error, caseId);
        if (status !== 'RUNNING') {
          const closed = `case ${caseId} is closed (${status.toLowerCase()})`;
          throw new ConflictError(`Task ${command.taskId} was not accepted: ${closed}`, { cause: error });
        }
        // The run that took it continued as new while the answer was awaited: the new run knows the completion.
      } else if (!isTransientEngineError(error)) {
        throw translateNotFound(error, caseId);
      }
      if (deadline - (Date.now() + delayMs) < MIN_COMPLETION_ATTEMPT_MS)
        throw new CompletionOutcomeUnknownError(command.taskId, completionId, Date.now() - startedAt, error);
      engine.logger.warn(
        { taskId: command.taskId, completionId, err: error, retryInMs: delayMs },
        'no answer to a task completion yet; sending the same completion again',
      );
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      continue;
    }
    // An update id names one update of the run: this id was already used to complete another task.
    if (result.taskId !== taskId)
      throw new ConflictError(`Completion ${completionId} completed task ${result.taskId}, not ${command.taskId}`);
    return { ...result, completionId };
  }
}

/**
 * Runs `call` with the gRPC deadline at `deadline`, its long poll cut 1.5 s before: the server answers a long
 * poll 1 s before the call's deadline, and the SDK re-sends an update that is not yet accepted at once.
 */
async function withinDeadline<T>(engine: CaseEngine, deadline: number, call: () => Promise<T>): Promise<T> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), Math.max(0, deadline - Date.now() - 1_500));
  try {
    return await engine.client.withDeadline(deadline, () => engine.client.withAbortSignal(abort.signal, call));
  } finally {
    clearTimeout(timer);
  }
}

/** What stood between a call and its answer, in gRPC's words (the SDK's own message says "failed"). */
function whyNoAnswer(error: unknown): string {
  const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
  if (isGrpcServiceError(cause)) return `${GrpcStatus[cause.code] ?? cause.code} ${cause.details}`;
  return error instanceof Error ? error.message : String(error);
}

/** Errors after which the engine may or may not have the completion: send it again to learn which. */
function isTransientEngineError(error: unknown): boolean {
  if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
  const cause = error instanceof ServiceError ? error.cause : error;
  if (!isGrpcServiceError(cause)) return false;
  return (
    cause.code === GrpcStatus.DEADLINE_EXCEEDED ||
    cause.code === GrpcStatus.CANCELLED ||
    isRetryableError({ code: cause.code, details: cause.details, metadata: cause.metadata })
  );
}

/**
 * The answer for a completion the engine no longer holds an update for, from the worklist projection that the
 * workflow's `closeTask` activity writes with the completion id; undefined unless this completion completed
 * the task. The pathway status is the case's status now, not necessarily the one the first answer carried.
 */
async function recordedCompletion(
  engine: CaseEngine,
  handle: WorkflowHandle,
  worklistTaskId: string,
  completionId: string,
): Promise<TaskCompletionResult | undefined> {
  const row = await engine.store.fork().findOne(WorklistTaskSchema, { id: worklistTaskId });
  if (row?.status !== 'completed' || row.completionId !== completionId || !row.completedAt) return undefined;
  return {
    taskId: workflowTaskIdOf(row.id, row.workflowId),
    completedAt: row.completedAt.toISOString(),
    status: await pathwayStatusOf(handle),
    completionId,
  };
}

async function pathwayStatusOf(handle: WorkflowHandle): Promise<CompleteTaskResult['status']> {
  const { status } = await handle.describe();
  switch (status.name) {
    case 'RUNNING':
    case 'CONTINUED_AS_NEW':
    case 'PAUSED':
      return 'active';
    case 'COMPLETED':
      return ((await handle.result()) as RunPathwayResult).status;
    case 'FAILED':
      return 'failed';
    case 'TERMINATED':
    case 'CANCELLED':
    case 'TIMED_OUT':
    case 'UNKNOWN':
    case 'UNSPECIFIED':
      return 'terminated';
  }
}
