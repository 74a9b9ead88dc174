/**
 * What every pathway-task adapter derives from its `ServiceTaskActivityInput`: the idempotency key of this
 * execution, record ids made from it, the actor the record is written as (the person whose task completion led
 * here, else the pathway itself), and typed reads of the variables.
 *
 * Why keys are `<workflow id>/<activity id>`: the interpreter's activity ids (`SaveReferral#15`) are unique
 * within one workflow (its sequence survives continue-as-new), and workflow ids are business keys
 * (`case-<id>`, `case-<id>/<child id>`), so the pair names one execution of one element everywhere. Every
 * attempt of that execution derives the same key, so a retry finds what the first attempt wrote.
 */
import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { InvalidInputError } from '../errors';
import { type Actor } from '../records';
import type { ActingPerson } from '../../workflows/run-pathway.workflow';

/** What the pathway writes when no person's action led to it (a timer, a message, a step after a wait). */
export const SYSTEM_AUTHOR = { id: 'system:pathway', role: 'system' } as const;

/** The running workflow's id, or `case-<caseId>` when called outside Temporal (a script, a unit test). */
export function currentWorkflowId(caseId: string): string {
  let workflowId: string | undefined;
  try {
    workflowId = Context.current().info.workflowExecution?.workflowId;
  } catch {
    // Not inside an activity.
  }
  return workflowId ?? `case-${caseId}`;
}

/**
 * A UUID (version 5 layout, SHA-1 of the key) for a key: the record tables want UUID ids, and the same key
 * must always give the same id so that `insert ... on conflict do nothing` makes the retry a no-op.
 */
export function uuidFromKey(key: string): string {
  const hash = createHash('sha1').update(`throughcare:${key}`).digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export interface TaskContext {
  readonly caseId: string;
  readonly workflowId: string;
  /** `<workflow id>/<activity id>`: the idempotency key of this execution of the element. */
  readonly key: string;
  /** Whom the audit events name: the acting person (with their request, setting and purpose) or the system. */
  readonly actor: Actor;
  /** Whom the records name as author or submitter: the acting person's staff id and role, or the system. */
  readonly author: { readonly id: string; readonly role: string };
  /** A UUID derived from the key (and `parts`, for the n-th record of one execution). */
  idFor(...parts: (string | number)[]): string;
}

export interface TaskInputIdentity {
  readonly caseId: string;
  readonly processId: string;
  readonly elementId: string;
  readonly activityId: string;
  readonly actedBy?: ActingPerson;
}

/**
 * The pathway writes the record in the name of the person whose task completion led here (`actedBy`), else as
 * the system; the BPMN element is the reason, for the audit trail.
 */
export function createTaskContext(input: TaskInputIdentity): TaskContext {
  if (typeof input.caseId !== 'string' || input.caseId === '') throw new InvalidInputError('caseId is required');
  if (typeof input.activityId !== 'string' || input.activityId === '') {
    throw new InvalidInputError('activityId is required');
  }
  const workflowId = currentWorkflowId(input.caseId);
  const key = `${workflowId}/${input.activityId}`;
  const reason = `${input.processId}/${input.elementId}`;
  return {
    caseId: input.caseId,
    workflowId,
    key,
    actor: input.actedBy ? actorOf(input.actedBy, reason) : { ...SYSTEM_AUTHOR, reason, requestId: workflowId },
    author: input.actedBy ? { id: input.actedBy.id, role: input.actedBy.role } : SYSTEM_AUTHOR,
    idFor: (...parts) => uuidFromKey([key, ...parts].join('/')),
  };
}

/** The audit actor for a step a person's task completion led to: as the API's audit names them. */
export function actorOf(person: ActingPerson, reason: string): Actor {
  return {
    id: person.id,
    role: person.role,
    subject: person.subject,
    reason,
    // The completion's operation: these records are written because the person completed the task.
    operation: 'task.complete',
    ...(person.requestId ? { requestId: person.requestId } : {}),
    ...(person.settingOdsCode ? { settingOdsCode: person.settingOdsCode } : {}),
    ...(person.purpose ? { purpose: person.purpose } : {}),
  };
}

// ---- reading variables (they come from FEEL mappings: check, do not trust) ---------------------------------

export type Vars = Readonly<Record<string, unknown>>;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function requireRecord(vars: Vars, name: string): Record<string, unknown> {
  const value = vars[name];
  if (!isRecord(value)) throw new InvalidInputError(`variable '${name}' must be an object`);
  return value;
}

export function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new InvalidInputError(`'${name}' must be a string`);
  return value;
}

export function requireString(value: unknown, name: string): string {
  const text = optionalString(value, name);
  if (text === undefined || text.trim() === '') throw new InvalidInputError(`'${name}' is required`);
  return text;
}

/** A list variable; null or absent is an empty list (a FEEL filter that matched nothing, an alert never raised). */
export function listOf(value: unknown, name: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new InvalidInputError(`'${name}' must be a list`);
  return value;
}
