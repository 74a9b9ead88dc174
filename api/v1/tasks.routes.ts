/** The worklist: list, read, claim, unclaim, assign, complete. */
import { changeTaskAssignment, completeTask, findTaskDraft, listWorklist, type WorklistStatus } from '../../engine';
import { worklistTaskId } from '../../domain/worklist-task-id';
import { ValidationError } from '../../domain/errors';
import { authorize } from '../policy';
import {
  actorOf,
  decide,
  listScope,
  pageOf,
  prefixProblems,
  readTaskOr404,
  requireRole,
  taskIdParam,
  taskResource,
  withQueryPointers,
  type RouteSpec,
} from './operation';

export const TASK_ROUTES: readonly RouteSpec[] = [
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
          ...pageOf(q),
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
          // Drafts hold answers: only for a view with clinical content, and only the reader's own.
          draft: decision.view.clinicalContent
            ? await findTaskDraft(ctx.engine.store, task.taskId, ctx.principal.subject)
            : null,
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
      description: 'the task is completed; nextTasks: the case’s open tasks after it',
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
        // Carried into the workflow, so that the assessment, notes and audit events it leads to name this person.
        actedBy: { ...actorOf(ctx, decision), purpose: decision.purpose },
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
];
