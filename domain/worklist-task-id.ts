/**
 * A user task's id inside its workflow (`FiveDayReview#3`) is unique only within that workflow; the
 * worklist keys tasks as `<workflow id>/<task id>` so that one id names one task everywhere.
 */
export function worklistTaskId(workflowId: string, workflowTaskId: string): string {
  return `${workflowId}/${workflowTaskId}`;
}

/** The task id the workflow knows, from a worklist id and the workflow it belongs to. */
export function workflowTaskIdOf(worklistId: string, workflowId: string): string {
  const prefix = `${workflowId}/`;
  if (!worklistId.startsWith(prefix))
    throw new Error(`Worklist task ${worklistId} does not belong to workflow ${workflowId}`);
  return worklistId.slice(prefix.length);
}
