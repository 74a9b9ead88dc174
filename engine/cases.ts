/**
 * Cases: start a pathway for a person in a setting, read where it is, deliver a message to it, and list
 * and complete its tasks. This module never writes a case's progress itself: it starts, signals and
 * updates the case's workflow and reads the worklist projection the workflow's activities keep.
 */
import { randomUUID } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import type { PathwayIR } from '../bpmn';
import { isValidNhsNumber, normaliseNhsNumber } from '../domain/nhs-number';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors';
import { workflowTaskIdOf } from '../domain/worklist-task-id';
import { createRecordActivities } from '../activities/records';
import type { Logger } from '../log';
import { createFormValidator, type FormValidator } from '../pathways';
import { WorklistTaskSchema, type Store } from '../store';
import type {
  CompleteTaskResult,
  DeliverMessageInput,
  PathwayView,
  RunPathwayInput,
  RunPathwayResult,
} from '../workflows';
import { getPathwayVersion } from './pathways';

/** Persisted workflow API names (see workflows/run-pathway.workflow.ts); never renamed. */
const WORKFLOW_TYPE = 'runPathway';
const COMPLETE_TASK_UPDATE = 'completeTask';
const DELIVER_MESSAGE_SIGNAL = 'deliverMessage';
const STATE_QUERY = 'state';

export interface CaseEngine {
  readonly store: Store;
  readonly client: Client;
  readonly taskQueue: string;
  readonly logger: Logger;
  readonly forms?: FormValidator;
}

export const workflowIdOf = (caseId: string): string => `case-${caseId}`;

export interface StartCaseInput {
  readonly pathwayId: string;
  /** The latest version when omitted. */
  readonly version?: number;
  readonly nhsNumber: string;
  /** ODS code of the setting the case belongs to (a custody suite, prison, ...). */
  readonly settingOdsCode: string;
  readonly variables?: Record<string, unknown>;
  /** Who started it, for the audit trail. */
  readonly startedBy: string;
}

export interface StartedCase {
  readonly caseId: string;
  readonly workflowId: string;
  readonly pathwayId: string;
  readonly version: number;
}

export async function startCase(engine: CaseEngine, input: StartCaseInput): Promise<StartedCase> {
  const nhsNumber = normaliseNhsNumber(input.nhsNumber);
  if (!isValidNhsNumber(nhsNumber)) {
    throw new ValidationError('The NHS number is not valid', [
      { pointer: '/nhsNumber', detail: 'must be 10 digits whose last is the Modulus 11 check digit' },
    ]);
  }
  const pathway = await getPathwayVersion(engine.store, input.pathwayId, input.version);
  const calledPathways = await pinCalledPathways(engine.store, pathway.ir);
  const caseId = randomUUID();
  const workflowId = workflowIdOf(caseId);

  // The case's existence (person, setting, pathway version) is recorded before its workflow starts, so the
  // worklist never shows a task of a case it cannot find. Recording it is idempotent by workflow id.
  const records = createRecordActivities({ store: engine.store, logger: engine.logger });
  await records.openCase({
    caseId,
    workflowId,
    nhsNumber,
    settingOdsCode: input.settingOdsCode,
    pathwayId: pathway.pathwayId,
    pathwayVersion: pathway.version,
    actor: { id: input.startedBy, role: 'clinician' },
  });

  const args: RunPathwayInput = {
    ir: pathway.ir,
    caseId,
    pathwayVersionId: `${pathway.pathwayId}@${pathway.version}`,
    calledPathways,
    variables: { ...input.variables, caseId, nhsNumber, settingOdsCode: input.settingOdsCode },
  };
  try {
    await engine.client.workflow.start(WORKFLOW_TYPE, {
      workflowId,
      taskQueue: engine.taskQueue,
      args: [args],
      memo: { pathwayId: pathway.pathwayId, pathwayVersion: pathway.version },
    });
  } catch (error) {
    await records.closeCase({ caseId, reason: 'workflow did not start', actor: { id: 'throughcare', role: 'admin' } });
    throw error;
  }
  engine.logger.info({ caseId, pathwayId: pathway.pathwayId, version: pathway.version }, 'case started');
  return { caseId, workflowId, pathwayId: pathway.pathwayId, version: pathway.version };
}

/**
 * Call activities run the latest deployed version of the called pathway at the moment the case starts,
 * pinned in the start input so the whole journey stays on one set of versions.
 */
async function pinCalledPathways(store: Store, root: PathwayIR): Promise<Record<string, PathwayIR>> {
  const pinned: Record<string, PathwayIR> = {};
  const queue = [root];
  for (let ir = queue.shift(); ir; ir = queue.shift()) {
    for (const element of Object.values(ir.elements)) {
      if (element.kind !== 'callActivity' || !('literal' in element.processId)) continue;
      const processId = element.processId.literal;
      if (pinned[processId] || processId === root.processId) continue;
      pinned[processId] = (await getPathwayVersion(store, processId)).ir;
      queue.push(pinned[processId]);
    }
  }
  return pinned;
}

export interface CaseView {
  readonly caseId: string;
  readonly workflowId: string;
  /** Temporal's view: RUNNING, COMPLETED, FAILED, TERMINATED, ... */
  readonly executionStatus: string;
  readonly pathway: PathwayView;
}

export async function showCase(engine: CaseEngine, caseId: string): Promise<CaseView> {
  const handle = engine.client.workflow.getHandle(workflowIdOf(caseId));
  try {
    const [description, pathway] = await Promise.all([handle.describe(), handle.query<PathwayView>(STATE_QUERY)]);
    return { caseId, workflowId: handle.workflowId, executionStatus: description.status.name, pathway };
  } catch (error) {
    throw translateNotFound(error, caseId);
  }
}

export interface SendMessageInput {
  readonly name: string;
  /** Defaults to the case id, the key the shipped pathways correlate on. */
  readonly correlationKey?: string;
  readonly variables?: Record<string, unknown>;
}

/**
 * Delivers a message to the case: to its workflow and to every running child (a journey's call
 * activities), as Zeebe correlates a message to every subscription with its key. A workflow that is not
 * waiting for the message ignores it. Returns the workflow ids it was delivered to.
 */
export async function messageCase(engine: CaseEngine, caseId: string, message: SendMessageInput): Promise<string[]> {
  const input: DeliverMessageInput = {
    name: message.name,
    correlationKey: message.correlationKey ?? caseId,
    variables: message.variables ?? {},
  };
  const delivered: string[] = [];
  const deliver = async (workflowId: string): Promise<void> => {
    const handle = engine.client.workflow.getHandle(workflowId);
    await handle.signal(DELIVER_MESSAGE_SIGNAL, input);
    delivered.push(workflowId);
    const { raw } = await handle.describe();
    for (const child of raw.pendingChildren ?? []) if (child.workflowId) await deliver(child.workflowId);
  };
  try {
    await deliver(workflowIdOf(caseId));
  } catch (error) {
    throw translateNotFound(error, caseId);
  }
  return delivered;
}

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
}

/** Worklist tasks, soonest due first; open ones only unless `includeClosed`. */
export async function listTasks(
  engine: CaseEngine,
  filter: { caseId?: string; includeClosed?: boolean } = {},
): Promise<TaskSummary[]> {
  const rows = await engine.store.fork().find(
    WorklistTaskSchema,
    {
      ...(filter.caseId ? { case: filter.caseId } : {}),
      ...(filter.includeClosed ? {} : { status: 'open' as const }),
    },
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
  }));
}

export interface CompleteTaskCommand {
  readonly taskId: string;
  readonly data: Record<string, unknown>;
  readonly completedBy: string;
}

/**
 * Validates the submission against the task's form (every problem named by JSON Pointer), then asks the
 * case's workflow to accept it. The workflow's own validator refuses a task that is unknown, closed or
 * already completed; that refusal comes back as a conflict and nothing is recorded.
 */
export async function completeTask(engine: CaseEngine, command: CompleteTaskCommand): Promise<CompleteTaskResult> {
  const task = await engine.store.fork().findOne(WorklistTaskSchema, { id: command.taskId });
  if (!task) throw new NotFoundError(`No task ${command.taskId}`);
  if (task.formId) (engine.forms ?? createFormValidator()).assertValid(task.formId, command.data);
  const handle = engine.client.workflow.getHandle(task.workflowId);
  try {
    return await handle.executeUpdate<CompleteTaskResult, [unknown]>(COMPLETE_TASK_UPDATE, {
      args: [
        { taskId: workflowTaskIdOf(task.id, task.workflowId), data: command.data, completedBy: command.completedBy },
      ],
    });
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) {
      throw new ConflictError(`Task ${command.taskId} was not accepted: ${error.cause?.message ?? error.message}`, {
        cause: error,
      });
    }
    throw translateNotFound(error, typeof task.case === 'string' ? task.case : task.case.id);
  }
}

/** The result a finished case's workflow returned. */
export async function caseResult(engine: CaseEngine, caseId: string): Promise<RunPathwayResult> {
  try {
    return (await engine.client.workflow.getHandle(workflowIdOf(caseId)).result()) as RunPathwayResult;
  } catch (error) {
    throw translateNotFound(error, caseId);
  }
}

function translateNotFound(error: unknown, caseId: string): unknown {
  if (error instanceof WorkflowNotFoundError)
    return new NotFoundError(`No case ${caseId} is known to the workflow engine`);
  if (error instanceof WorkflowExecutionAlreadyStartedError)
    return new ConflictError(`Case ${caseId} already exists`, { cause: error });
  return error;
}
