/**
 * What every case operation needs: the record store and a Temporal client (the CaseEngine), the persisted
 * names of the case workflow's API, and the one translation of the engine's "no such workflow" into ours.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ConflictError, NotFoundError } from '../domain/errors';
import type { Logger } from '../log';
import type { Store } from '../store';

/** Persisted workflow API names (see workflows/run-pathway.workflow.ts); never renamed. */
export const WORKFLOW_TYPE = 'runPathway';
export const COMPLETE_TASK_UPDATE = 'completeTask';
export const CORRELATE_MESSAGE_UPDATE = 'correlateMessage';
export const TERMINATE_PATHWAY_UPDATE = 'terminatePathway';
export const STATE_QUERY = 'state';

export interface CaseEngine {
  readonly store: Store;
  readonly client: Client;
  readonly taskQueue: string;
  readonly logger: Logger;
  /** The clock form answers are checked against (`x-not-in-future`); the system clock unless simulated or tested. */
  readonly now?: () => Date;
}

export const workflowIdOf = (caseId: string): string => `case-${caseId}`;

/** The workflow engine's "not found" and "already started" as Throughcare's errors; anything else as it is. */
export function translateNotFound(error: unknown, caseId: string): unknown {
  if (error instanceof WorkflowNotFoundError)
    return new NotFoundError(`No case ${caseId} is known to the workflow engine`);
  if (error instanceof WorkflowExecutionAlreadyStartedError)
    return new ConflictError(`Case ${caseId} already exists`, { cause: error });
  return error;
}
