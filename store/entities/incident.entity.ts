/**
 * Incidents: a failure in a case's pathway that nothing in the pathway catches (a service task out of attempts,
 * a called pathway that failed, an expression that could not be evaluated). The workflow keeps the token
 * waiting at the element and opens a worklist task for ops; these rows are the record of what failed and how
 * it was resolved. Both tables are append-only (enforced by the database): a resolution is a row of its own,
 * never an update of the incident, so the history of a case's failures is kept whole.
 */
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { CaseSchema } from './case.entity';

/** What failed (the workflow's `IncidentKind`). */
export const IncidentKind = {
  ActivityFailed: 'activityFailed',
  ChildFailed: 'childFailed',
  EnteringFailed: 'enteringFailed',
  LeavingFailed: 'leavingFailed',
} as const;
export type IncidentKind = (typeof IncidentKind)[keyof typeof IncidentKind];

/** How an incident ended. */
export const IncidentOutcome = {
  Retried: 'retried',
  Skipped: 'skipped',
  Cancelled: 'cancelled',
} as const;
export type IncidentOutcome = (typeof IncidentOutcome)[keyof typeof IncidentOutcome];

export const IncidentSchema = defineEntity({
  name: 'Incident',
  tableName: 'incidents',
  properties: {
    /** `<workflow id>/<incident id>`, chosen by the workflow: also the id of the worklist task that resolves it. */
    id: p.string().length(255).primary(),
    case: () => p.manyToOne(CaseSchema).index(),
    workflowId: p.string().length(255),
    processId: p.string().length(255),
    /** The BPMN element the token waits at, and its instance in the run (`SendReferral#4`). */
    elementId: p.string().length(255),
    elementName: p.string().length(255).nullable(),
    instanceId: p.string().length(255),
    kind: p.enum(Object.values(IncidentKind)),
    /** The service task's type, or the process id of the pathway a call activity called. */
    taskType: p.string().length(255).nullable(),
    calledProcessId: p.string().length(255).nullable(),
    /** The failure's type (a BPMN error code, an activity error code, FEEL_EVALUATION_FAILED...). */
    errorCode: p.string().length(255),
    /** The failure's message: ids only, never names or NHS numbers (activities keep them out of failures). */
    message: p.text(),
    attempts: p.integer().nullable(),
    retryable: p.boolean().nullable(),
    raisedAt: p.datetime(),
    recordedAt: p.datetime().defaultRaw('now()'),
  },
  indexes: [{ name: 'incidents_raised_at_index', properties: ['raisedAt'] }],
});
export type IncidentRecord = InferEntity<typeof IncidentSchema>;

export const IncidentResolutionSchema = defineEntity({
  name: 'IncidentResolution',
  tableName: 'incident_resolutions',
  properties: {
    id: p.uuid().primary(),
    /** One resolution per incident: the unique key that makes recording it idempotent. */
    incident: () => p.oneToOne(IncidentSchema).owner(),
    outcome: p.enum(Object.values(IncidentOutcome)),
    /** Why (required to skip; the termination's reason when cancelled with the case). */
    reason: p.text().nullable(),
    /** For a retry with corrected variables: their names (the values are in the workflow, not here). */
    // onCreate as well as the column default: MikroORM 6 renders a missing array as nothing in a batch insert.
    correctedVariables: p
      .array()
      .default([])
      .onCreate(() => []),
    /** The person who completed the incident's task, or `system:pathway` when it was cancelled with its element. */
    resolvedBy: p.string().length(255),
    /** The submission that resolved it (`task complete --completion-id`), when it had one. */
    completionId: p.string().length(255).nullable(),
    resolvedAt: p.datetime(),
  },
});
export type IncidentResolutionRecord = InferEntity<typeof IncidentResolutionSchema>;
