/**
 * The /api/v1 operations, as one table: method, path, the policy action each asks, whether it touches a
 * person's data (and so must write an audit event: test/api/audit-coverage.int.test.ts holds every such route
 * to it), the schemas of its parameters and body, and its handler. router.ts builds the Express router from
 * it and openapi.ts the OpenAPI document, so neither can drift from the other.
 *
 * Every handler asks the policy module (api/policy.ts) before it shows or changes anything, and reads and
 * changes through engine/ functions only.
 */
import {
  changeTaskAssignment,
  checkedNhsNumber,
  completeTask,
  findCase,
  findPatient,
  findWorklistTask,
  listCases,
  listIncidents,
  listWorklist,
  messageCase,
  patientBanner,
  accessLog,
  showCase,
  startCase,
  workflowIdOf,
  type AccessRecord,
  type CaseEngine,
  type WorklistItem,
  type WorklistStatus,
} from '../../engine';
import { worklistTaskId } from '../../domain/worklist-task-id';
import { NotFoundError, ThroughcareError, ValidationError, type FieldProblem } from '../../domain/errors';
import type { Principal } from '../auth/principal';
import {
  authorize,
  mayEver,
  roleFor,
  variablesFor,
  withoutContactDetails,
  type Action,
  type Decision,
} from '../policy';
import { PARAMETER_SCHEMAS, ref, type JsonSchema } from './schemas';

export interface RouteContext {
  readonly engine: CaseEngine;
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
}

export interface RouteSpec {
  readonly method: 'get' | 'post';
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
  readonly headers?: Record<string, JsonSchema & { description: string }>;
  readonly success: { readonly status: number; readonly schema: string; readonly description: string };
  readonly handle: (ctx: RouteContext) => Promise<RouteResult>;
}

/** 403 when none of the person's roles may ever do it: asked before any record is loaded. */
function requireRole(principal: Principal, action: Action): void {
  if (!mayEver(principal, action)) {
    const roles = principal.roles.join(', ') || 'none';
    throw new ThroughcareError('FORBIDDEN', `Your roles (${roles}) may not ${action}`);
  }
}

/**
 * The decision for one record; a record outside the person's scope is answered as not found, so that
 * nobody learns from the API that a person or case they may not see exists.
 */
function decide(
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

function readCaseOr404(ctx: RouteContext) {
  return findCase(ctx.engine.store, ctx.params['caseId']!).then((found) => {
    if (!found) throw new NotFoundError(`No case ${ctx.params['caseId']}`);
    return found;
  });
}

async function readTaskOr404(ctx: RouteContext) {
  const task = await findWorklistTask(ctx.engine.store, ctx.params['taskId']!);
  if (!task) throw new NotFoundError(`No task ${ctx.params['taskId']}`);
  return task;
}

const taskResource = (task: WorklistItem & { restricted: boolean }) => ({
  settings: task.settings,
  restricted: task.restricted,
  candidateGroups: task.candidateGroups,
});

/** A list's scope: the settings the person works in, or the one setting asked for (which must be one of them). */
function listScope(principal: Principal, action: Action, setting: unknown): string[] {
  requireRole(principal, action);
  if (typeof setting !== 'string') return principal.settings;
  const decision = authorize(principal, action, { settings: [setting] });
  if (!decision.allowed) throw new ThroughcareError('FORBIDDEN', decision.reason);
  return [setting];
}

/** A cursor the engine refuses is a problem with the query parameter. */
async function withQueryPointers<T>(run: () => Promise<T>): Promise<T> {
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

function prefixProblems(error: unknown, prefix: string): never {
  if (error instanceof ValidationError)
    throw new ValidationError(
      error.message,
      error.problems.map((p: FieldProblem) => ({ ...p, pointer: `${prefix}${p.pointer}` })),
    );
  throw error;
}

const caseIdParam = { caseId: PARAMETER_SCHEMAS.uuid };
const taskIdParam = { taskId: PARAMETER_SCHEMAS.taskId };
const nhsNumberParam = { nhsNumber: { type: 'string', minLength: 1, maxLength: 20 } };

export const ROUTES: readonly RouteSpec[] = [
  {
    method: 'post',
    path: '/cases',
    operationId: 'startCase',
    summary: 'Start a case of a deployed pathway for a person in a setting',
    tag: 'cases',
    action: 'case.start',
    patientData: true,
    body: 'StartCaseRequest',
    success: { status: 201, schema: 'StartedCase', description: 'the case is recorded and its workflow started' },
    async handle(ctx) {
      requireRole(ctx.principal, 'case.start');
      const settingOdsCode = ctx.body['settingOdsCode'] as string;
      const decision = authorize(ctx.principal, 'case.start', { settings: [settingOdsCode] });
      if (!decision.allowed) throw new ThroughcareError('FORBIDDEN', decision.reason);
      const version = ctx.body['version'] as number | undefined;
      const started = await startCase(ctx.engine, {
        pathwayId: ctx.body['pathway'] as string,
        ...(version !== undefined ? { version } : {}),
        nhsNumber: ctx.body['nhsNumber'] as string,
        settingOdsCode,
        variables: (ctx.body['variables'] as Record<string, unknown> | undefined) ?? {},
        startedBy: ctx.principal.subject,
      });
      const found = await findCase(ctx.engine.store, started.caseId);
      await ctx.audit([
        {
          decision,
          action: 'create',
          operation: 'case.start',
          entityType: 'Case',
          entityId: started.caseId,
          patientId: found?.patientId ?? null,
        },
      ]);
      return { status: 201, body: started };
    },
  },
  {
    method: 'get',
    path: '/cases',
    operationId: 'listCases',
    summary: 'Cases of the settings you work in, newest first',
    tag: 'cases',
    action: 'case.list',
    patientData: true,
    query: 'CaseListQuery',
    success: { status: 200, schema: 'CasePage', description: 'a page of cases' },
    async handle(ctx) {
      const scope = listScope(ctx.principal, 'case.list', ctx.query['setting']);
      const page = await withQueryPointers(() =>
        listCases(ctx.engine.store, {
          scope,
          ...(typeof ctx.query['setting'] === 'string' ? { setting: ctx.query['setting'] } : {}),
          ...(ctx.query['status'] ? { status: ctx.query['status'] as 'open' | 'closed' } : {}),
          ...(typeof ctx.query['pathway'] === 'string' ? { pathwayId: ctx.query['pathway'] } : {}),
          limit: (ctx.query['limit'] as number | undefined) ?? 50,
          ...(typeof ctx.query['cursor'] === 'string' ? { cursor: ctx.query['cursor'] } : {}),
        }),
      );
      // Each row asked of the policy again: the query's scope and the policy must agree, or the row is left out.
      const shown = page.items.flatMap((item) => {
        const decision = authorize(ctx.principal, 'case.list', { settings: item.settings });
        return decision.allowed ? [{ item, decision }] : [];
      });
      await ctx.audit(
        shown.map(({ item, decision }) => ({
          decision,
          action: 'read',
          operation: 'case.list',
          entityType: 'Case',
          entityId: item.caseId,
          patientId: item.patientId,
        })),
      );
      return { body: { items: shown.map((s) => s.item), nextCursor: page.nextCursor } };
    },
  },
  {
    method: 'get',
    path: '/cases/{caseId}',
    operationId: 'getCase',
    summary: 'Where a case is: open tasks, planned work, pending timers, flags, incidents',
    tag: 'cases',
    action: 'case.read',
    patientData: true,
    params: caseIdParam,
    success: { status: 200, schema: 'CaseDetail', description: 'the case' },
    async handle(ctx) {
      requireRole(ctx.principal, 'case.read');
      const found = await readCaseOr404(ctx);
      const decision = decide(
        ctx.principal,
        'case.read',
        { settings: found.settings, restricted: found.restricted },
        `No case ${found.caseId}`,
      );
      const [view, incidents, page] = await Promise.all([
        showCase(ctx.engine, found.caseId),
        listIncidents(ctx.engine, { caseId: found.caseId, open: true }),
        listWorklist(ctx.engine.store, {
          scope: found.settings,
          caseId: found.caseId,
          statuses: ['open', 'planned'],
          limit: 200,
        }),
      ]);
      const { pathway } = view;
      await ctx.audit([
        {
          decision,
          action: 'read',
          operation: 'case.read',
          entityType: 'Case',
          entityId: found.caseId,
          patientId: found.patientId,
        },
      ]);
      const { restricted: _restricted, ...summary } = found;
      return {
        body: {
          case: summary,
          executionStatus: view.executionStatus,
          pathwayStatus: pathway.status,
          ...(view.failure ? { failure: view.failure } : {}),
          ...(pathway.termination ? { termination: pathway.termination } : {}),
          ...(pathway.error ? { error: pathway.error } : {}),
          flags: view.personFlags,
          openTasks: page.items.filter((t) => t.status === 'open'),
          plannedWork: page.items.filter((t) => t.status === 'planned'),
          pendingTimers: pathway.pendingTimers,
          waitingFor: pathway.messageSubscriptions,
          keptMessages: pathway.bufferedMessages,
          incidents,
          variables: variablesFor(decision.view, pathway.variables),
          trail: pathway.trail,
          startedAt: pathway.startedAt,
          ...(pathway.endedAt ? { endedAt: pathway.endedAt } : {}),
        },
      };
    },
  },
  {
    method: 'post',
    path: '/cases/{caseId}/messages',
    operationId: 'messageCase',
    summary: 'Deliver a message (recall, transfer, appointment outcome) to a case',
    tag: 'cases',
    action: 'case.message',
    patientData: true,
    params: caseIdParam,
    body: 'CaseMessageRequest',
    success: { status: 200, schema: 'CaseMessageResult', description: 'what became of the message' },
    async handle(ctx) {
      requireRole(ctx.principal, 'case.message');
      const found = await readCaseOr404(ctx);
      const decision = decide(
        ctx.principal,
        'case.message',
        { settings: found.settings, restricted: found.restricted },
        `No case ${found.caseId}`,
      );
      const name = ctx.body['name'] as string;
      const result = await messageCase(ctx.engine, found.caseId, {
        name,
        ...(typeof ctx.body['correlationKey'] === 'string' ? { correlationKey: ctx.body['correlationKey'] } : {}),
        variables: (ctx.body['variables'] as Record<string, unknown> | undefined) ?? {},
        ...(typeof ctx.body['timeToLive'] === 'string' ? { timeToLive: ctx.body['timeToLive'] } : {}),
        sentBy: ctx.principal.subject,
      });
      await ctx.audit([
        {
          decision,
          action: 'update',
          operation: 'case.message',
          entityType: 'Case',
          entityId: found.caseId,
          patientId: found.patientId,
          reason: `message ${name} ${result.outcome}`,
        },
      ]);
      return { body: result };
    },
  },
  {
    method: 'get',
    path: '/tasks',
    operationId: 'listTasks',
    summary: 'The worklist: tasks of the settings you work in, soonest due first',
    tag: 'tasks',
    action: 'task.list',
    patientData: true,
    query: 'TaskListQuery',
    success: { status: 200, schema: 'TaskPage', description: 'a page of tasks' },
    async handle(ctx) {
      const scope = listScope(ctx.principal, 'task.list', ctx.query['setting']);
      const q = ctx.query;
      const status = (q['status'] as string | undefined) ?? 'open';
      const page = await withQueryPointers(() =>
        listWorklist(ctx.engine.store, {
          scope,
          ...(q['assigned'] === 'me' ? { assignee: ctx.principal.subject } : {}),
          ...(typeof q['candidateGroup'] === 'string' ? { candidateGroup: q['candidateGroup'] } : {}),
          ...(q['unassigned'] === true ? { unassigned: true } : {}),
          ...(q['overdue'] === true ? { overdue: true } : {}),
          ...(typeof q['dueBefore'] === 'string' ? { dueBefore: q['dueBefore'] } : {}),
          ...(typeof q['dueAfter'] === 'string' ? { dueAfter: q['dueAfter'] } : {}),
          ...(status === 'any' ? { statuses: ['open', 'planned', 'started', 'completed', 'cancelled'] } : {}),
          ...(status !== 'any' ? { statuses: [status as WorklistStatus] } : {}),
          ...(typeof q['setting'] === 'string' ? { setting: q['setting'] } : {}),
          ...(typeof q['caseId'] === 'string' ? { caseId: q['caseId'] } : {}),
          ...(typeof q['pathway'] === 'string' ? { pathwayId: q['pathway'] } : {}),
          limit: (q['limit'] as number | undefined) ?? 50,
          ...(typeof q['cursor'] === 'string' ? { cursor: q['cursor'] } : {}),
        }),
      );
      const shown = page.items.flatMap((item) => {
        const decision = authorize(ctx.principal, 'task.list', { settings: item.settings });
        return decision.allowed ? [{ item, decision }] : [];
      });
      await ctx.audit(
        shown.map(({ item, decision }) => ({
          decision,
          action: 'read',
          operation: 'task.list',
          entityType: 'WorklistTask',
          entityId: item.taskId,
          patientId: item.patientId,
        })),
      );
      return { body: { items: shown.map((s) => s.item), nextCursor: page.nextCursor } };
    },
  },
  {
    method: 'get',
    path: '/tasks/{taskId}',
    operationId: 'getTask',
    summary: 'One task, with its form’s JSON Schema referenced',
    tag: 'tasks',
    action: 'task.read',
    patientData: true,
    params: taskIdParam,
    success: { status: 200, schema: 'TaskDetail', description: 'the task' },
    async handle(ctx) {
      requireRole(ctx.principal, 'task.read');
      const task = await readTaskOr404(ctx);
      const decision = decide(ctx.principal, 'task.read', taskResource(task), `No task ${task.taskId}`);
      await ctx.audit([
        {
          decision,
          action: 'read',
          operation: 'task.read',
          entityType: 'WorklistTask',
          entityId: task.taskId,
          patientId: task.patientId,
        },
      ]);
      const { restricted: _r, workflowId: _w, ...summary } = task;
      return {
        body: {
          task: summary,
          form: task.formId ? { formId: task.formId, schema: `/api/v1/forms/${task.formId}.schema.json` } : null,
        },
      };
    },
  },
  ...(['claim', 'unclaim'] as const).map((kind): RouteSpec => ({
    method: 'post',
    path: `/tasks/{taskId}/${kind}`,
    operationId: `${kind}Task`,
    summary: kind === 'claim' ? 'Take an open task nobody has' : 'Give back a task you have',
    tag: 'tasks',
    action: 'task.claim',
    patientData: true,
    params: taskIdParam,
    body: 'EmptyRequest',
    success: { status: 200, schema: 'Task', description: 'the task as it is now' },
    async handle(ctx) {
      requireRole(ctx.principal, 'task.claim');
      const task = await readTaskOr404(ctx);
      const decision = decide(ctx.principal, 'task.claim', taskResource(task), `No task ${task.taskId}`);
      const changed = await changeTaskAssignment(ctx.engine.store, task.taskId, { kind }, actorOf(ctx, decision));
      const { restricted: _r, workflowId: _w, ...summary } = changed as typeof task;
      return { body: summary };
    },
  })),
  {
    method: 'post',
    path: '/tasks/{taskId}/assign',
    operationId: 'assignTask',
    summary: 'Give a task to someone else (team lead)',
    tag: 'tasks',
    action: 'task.assign',
    patientData: true,
    params: taskIdParam,
    body: 'AssignTaskRequest',
    success: { status: 200, schema: 'Task', description: 'the task as it is now' },
    async handle(ctx) {
      requireRole(ctx.principal, 'task.assign');
      const task = await readTaskOr404(ctx);
      const decision = decide(ctx.principal, 'task.assign', taskResource(task), `No task ${task.taskId}`);
      const changed = await changeTaskAssignment(
        ctx.engine.store,
        task.taskId,
        { kind: 'assign', assignee: ctx.body['assignee'] as string },
        actorOf(ctx, decision),
      );
      const { restricted: _r, workflowId: _w, ...summary } = changed as typeof task;
      return { body: summary };
    },
  },
  {
    method: 'post',
    path: '/tasks/{taskId}/complete',
    operationId: 'completeTask',
    summary: 'Complete a task with its form’s answers, exactly once per completion id',
    tag: 'tasks',
    action: 'task.complete',
    patientData: true,
    params: taskIdParam,
    body: 'CompleteTaskRequest',
    headers: {
      'Idempotency-Key': {
        type: 'string',
        pattern: '^[A-Za-z0-9._:-]{1,128}$',
        description:
          'the completion id (or completionId in the body): the same one again answers with the first outcome',
      },
    },
    success: {
      status: 200,
      schema: 'TaskCompletion',
      description: 'the task is completed; nextTasks: the case’s open tasks now',
    },
    async handle(ctx) {
      requireRole(ctx.principal, 'task.complete');
      const task = await readTaskOr404(ctx);
      const decision = decide(ctx.principal, 'task.complete', taskResource(task), `No task ${task.taskId}`);
      const header = ctx.headers.get('idempotency-key');
      const bodyId = ctx.body['completionId'] as string | undefined;
      if (header !== undefined && bodyId !== undefined && header !== bodyId)
        throw new ValidationError('Two different completion ids', [
          { pointer: '/completionId', detail: 'must equal the Idempotency-Key header when both are sent' },
        ]);
      const completionId = bodyId ?? header;
      const result = await completeTask(ctx.engine, {
        taskId: task.taskId,
        data: ctx.body['data'] as Record<string, unknown>,
        completedBy: ctx.principal.subject,
        ...(completionId !== undefined ? { completionId } : {}),
      }).catch((error: unknown) => prefixProblems(error, '/data'));
      await ctx.audit([
        {
          decision,
          action: 'update',
          operation: 'task.complete',
          entityType: 'WorklistTask',
          entityId: task.taskId,
          patientId: task.patientId,
          reason: `completed (completion ${result.completionId})`,
        },
      ]);
      const next = await listWorklist(ctx.engine.store, { scope: task.settings, caseId: task.caseId, limit: 200 });
      return {
        body: {
          taskId: worklistTaskId(task.workflowId, result.taskId),
          completedAt: result.completedAt,
          status: result.status,
          completionId: result.completionId,
          nextTasks: next.items,
        },
      };
    },
  },
  {
    method: 'get',
    path: '/patients/{nhsNumber}',
    operationId: 'getPatient',
    summary: 'A person’s banner: name, NHS number, date of birth, restricted flag, active alerts (from the record)',
    tag: 'patients',
    action: 'patient.read',
    patientData: true,
    params: nhsNumberParam,
    success: { status: 200, schema: 'PatientBanner', description: 'the banner' },
    async handle(ctx) {
      const nhsNumber = checkedNhsNumber(ctx.params['nhsNumber']!, '/path/nhsNumber');
      requireRole(ctx.principal, 'patient.read');
      const patient = await findPatient(ctx.engine.store, nhsNumber);
      const notFound = 'No record of this person in the settings you work in';
      if (!patient) throw new NotFoundError(notFound);
      const decision = decide(
        ctx.principal,
        'patient.read',
        { settings: patient.settings, restricted: patient.restricted },
        notFound,
      );
      const banner = await patientBanner(ctx.engine.store, patient.patientId);
      await ctx.audit([
        {
          decision,
          action: 'read',
          operation: 'patient.read',
          entityType: 'Patient',
          entityId: patient.patientId,
          patientId: patient.patientId,
        },
      ]);
      return { body: decision.view.contactDetails ? banner : withoutContactDetails(banner) };
    },
  },
  {
    method: 'get',
    path: '/patients/{nhsNumber}/access-log',
    operationId: 'getPatientAccessLog',
    summary: 'Who has looked at or changed this person’s record, newest first',
    tag: 'patients',
    action: 'patient.access-log',
    patientData: true,
    params: nhsNumberParam,
    query: 'AccessLogQuery',
    success: { status: 200, schema: 'AccessLog', description: 'the access log' },
    async handle(ctx) {
      const nhsNumber = checkedNhsNumber(ctx.params['nhsNumber']!, '/path/nhsNumber');
      requireRole(ctx.principal, 'patient.access-log');
      const patient = await findPatient(ctx.engine.store, nhsNumber);
      const notFound = 'No record of this person in the settings you work in';
      if (!patient) throw new NotFoundError(notFound);
      const decision = decide(ctx.principal, 'patient.access-log', { settings: patient.settings }, notFound);
      const entries = await accessLog(ctx.engine.store, patient.patientId, (ctx.query['limit'] as number) ?? 50);
      await ctx.audit([
        {
          decision,
          action: 'read',
          operation: 'patient.access-log',
          entityType: 'AuditEvent',
          entityId: patient.patientId,
          patientId: patient.patientId,
        },
      ]);
      return { body: { nhsNumber, entries } };
    },
  },
];

function actorOf(ctx: RouteContext, decision: Decision) {
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

export { ref, workflowIdOf };
