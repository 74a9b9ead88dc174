/**
 * What every /api/v1 operation is made of: its spec (method, path, the policy action it asks, whether it touches a
 * person's data and so must write an audit event, its schemas and handler), and the steps every handler shares:
 * ask the policy, answer a record outside one's settings as not found, name problems by JSON Pointer, audit.
 * The operations themselves are in the `*.routes.ts` files, gathered in routes.ts.
 */
import type { SpineClient } from '../../activities/spine';
import type { Simulator } from '../../simulation';
import { findCase, findWorklistTask, type AccessRecord, type CaseEngine, type WorklistItem } from '../../engine';
import { NotFoundError, ThroughcareError, ValidationError, type FieldProblem } from '../../domain/errors';
import type { Principal } from '../auth/principal';
import { authorize, mayEver, roleFor, type Action, type Decision } from '../policy';
import { PARAMETER_SCHEMAS, type JsonSchema } from './schemas';

export interface RouteContext {
  readonly engine: CaseEngine;
  /** The Spine (PDS) client when one is configured (the patient search). */
  readonly spine: () => SpineClient | undefined;
  /** The pathway simulator, where this process offers one (`throughcare up` does). */
  readonly simulator: () => Simulator | undefined;
  readonly principal: Principal;
  readonly params: Record<string, string>;
  readonly query: Record<string, unknown>;
  readonly body: Record<string, unknown>;
  readonly headers: { get(name: string): string | undefined };
  readonly requestId: string | null;
  /** Writes audit events for this request (who, role, setting, action, resource, purpose, request id, time). */
  audit(entries: readonly AuditEntry[]): Promise<void>;
}

/** One access to a person's data, completed with who, request id and time by the router. */
export interface AuditEntry {
  readonly decision: Decision;
  readonly action: 'read' | 'create' | 'update';
  readonly operation: Action;
  readonly entityType: string;
  readonly entityId: string;
  readonly patientId: string | null;
  readonly reason?: string;
}

export interface RouteResult {
  readonly status?: number;
  readonly body: unknown;
  /** A body that is not JSON (a pathway's BPMN XML) is sent as text with this type. */
  readonly contentType?: string;
}

export interface RouteSpec {
  readonly method: 'get' | 'post' | 'put' | 'delete';
  /** OpenAPI style, relative to /api/v1: `/cases/{caseId}`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly tag: string;
  /** The policy action it asks; null for documents without a person's data. */
  readonly action: Action | null;
  /** Reads or writes a person's data: must write an audit event whenever it answers 2xx with data. */
  readonly patientData: boolean;
  readonly params?: Record<string, JsonSchema>;
  /** Name of a schema in SCHEMAS for the query string. */
  readonly query?: string;
  /** Name of a schema in SCHEMAS for the JSON body. */
  readonly body?: string;
  /** The body may also be sent as XML (application/xml): it is then validated as the JSON body `{ "xml": ... }`. */
  readonly xmlBody?: boolean;
  readonly headers?: Record<string, JsonSchema & { description: string }>;
  readonly success: {
    readonly status: number;
    /** Absent when it answers no body (204). */
    readonly schema?: string;
    readonly description: string;
    /** Default application/json. */
    readonly contentType?: string;
    /** Another media type the same answer can be had in (a report's CSV), documented beside the JSON. */
    readonly alternative?: { readonly contentType: string; readonly description: string };
  };
  /** Further problem answers it can give, by status: their description (400, 401, 403, 404, 503 always). */
  readonly problems?: Record<string, string>;
  readonly handle: (ctx: RouteContext) => Promise<RouteResult>;
}

/** 403 when none of the person's roles may ever do it: asked before any record is loaded. */
export function requireRole(principal: Principal, action: Action): void {
  if (!mayEver(principal, action)) {
    const roles = principal.roles.join(', ') || 'none';
    throw new ThroughcareError('FORBIDDEN', `Your roles (${roles}) may not ${action}`);
  }
}

/**
 * The decision for one record; a record outside the person's scope is answered as not found, so that
 * nobody learns from the API that a person or case they may not see exists.
 */
export function decide(
  principal: Principal,
  action: Action,
  resource: Parameters<typeof authorize>[2],
  notFound: string,
): Decision & { allowed: true } {
  const decision = authorize(principal, action, resource);
  if (decision.allowed) return decision;
  if (decision.denied === 'role') throw new ThroughcareError('FORBIDDEN', decision.reason);
  throw new NotFoundError(notFound);
}

export function readCaseOr404(ctx: RouteContext) {
  return findCase(ctx.engine.store, ctx.params['caseId']!).then((found) => {
    if (!found) throw new NotFoundError(`No case ${ctx.params['caseId']}`);
    return found;
  });
}

/**
 * The case of the path and the policy's decision on `action` for it: a role that may never do it is refused (403)
 * before the case is read, and a case outside the person's settings is not found (404), as if it did not exist.
 */
export async function decideOnCase(ctx: RouteContext, action: Action) {
  requireRole(ctx.principal, action);
  const found = await readCaseOr404(ctx);
  const decision = decide(
    ctx.principal,
    action,
    { settings: found.settings, restricted: found.restricted },
    `No case ${found.caseId}`,
  );
  return { found, decision };
}

export async function readTaskOr404(ctx: RouteContext) {
  const task = await findWorklistTask(ctx.engine.store, ctx.params['taskId']!);
  if (!task) throw new NotFoundError(`No task ${ctx.params['taskId']}`);
  return task;
}

export const taskResource = (task: WorklistItem & { restricted: boolean }) => ({
  settings: task.settings,
  restricted: task.restricted,
  candidateGroups: task.candidateGroups,
});

/** An action on what belongs to no setting (pathways, the list of settings): allowed by role alone, or a 403 problem. */
export function allowInstallationAction(
  ctx: Pick<RouteContext, 'principal'>,
  action: Action,
): Decision & { allowed: true } {
  requireRole(ctx.principal, action);
  const decision = authorize(ctx.principal, action, { settings: [] });
  if (!decision.allowed) throw new ThroughcareError('FORBIDDEN', decision.reason);
  return decision;
}

/** A list's scope: the settings the person works in, or the one setting asked for (which must be one of them). */
export function listScope(principal: Principal, action: Action, setting: unknown): string[] {
  requireRole(principal, action);
  if (typeof setting !== 'string') return principal.settings;
  const decision = authorize(principal, action, { settings: [setting] });
  if (!decision.allowed) throw new ThroughcareError('FORBIDDEN', decision.reason);
  return [setting];
}

/** A cursor the engine refuses is a problem with the query parameter. */
export async function withQueryPointers<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ValidationError)
      throw new ValidationError(
        error.message,
        error.problems.map((p) => ({ ...p, pointer: `/query${p.pointer}` })),
      );
    throw error;
  }
}

export function prefixProblems(error: unknown, prefix: string): never {
  if (error instanceof ValidationError)
    throw new ValidationError(
      error.message,
      error.problems.map((p: FieldProblem) => ({ ...p, pointer: `${prefix}${p.pointer}` })),
    );
  throw error;
}

/** The page a list's query asks for: its size (50 unless given) and the cursor it continues from. */
export function pageOf(query: Record<string, unknown>): { limit: number; cursor?: string } {
  const limit = typeof query['limit'] === 'number' ? query['limit'] : 50;
  return typeof query['cursor'] === 'string' ? { limit, cursor: query['cursor'] } : { limit };
}

export const caseIdParam = { caseId: PARAMETER_SCHEMAS.uuid };
export const taskIdParam = { taskId: PARAMETER_SCHEMAS.taskId };
export const nhsNumberParam = { nhsNumber: { type: 'string', minLength: 1, maxLength: 20 } };

export function actorOf(ctx: RouteContext, decision: Decision) {
  return {
    id: ctx.principal.staffId,
    role: roleFor(ctx.principal, decision),
    subject: ctx.principal.subject,
    ...(ctx.requestId ? { requestId: ctx.requestId } : {}),
    ...(decision.allowed && decision.setting ? { settingOdsCode: decision.setting } : {}),
  };
}

/** An audit entry completed with who and which request, as the record store keeps it. */
export function accessRecordOf(ctx: Pick<RouteContext, 'principal' | 'requestId'>, entry: AuditEntry): AccessRecord {
  const allowed = entry.decision.allowed ? entry.decision : undefined;
  return {
    actorId: ctx.principal.staffId,
    actorRole: roleFor(ctx.principal, entry.decision),
    actorSubject: ctx.principal.subject,
    action: entry.action,
    operation: entry.operation,
    entityType: entry.entityType,
    entityId: entry.entityId,
    patientId: entry.patientId,
    settingOdsCode: allowed?.setting ?? null,
    purpose: allowed?.purpose ?? null,
    requestId: ctx.requestId,
    reason: entry.reason ?? null,
  };
}
