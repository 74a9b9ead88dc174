/** The worklist: list, read, claim, unclaim, assign, complete. */
import {
  changeTaskAssignment,
  completeTask,
  countWorklist,
  findTaskDraft,
  listTaskAssignees,
  listWorklist,
  type WorklistStatus,
} from '../../engine';
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

/** The filters the worklist and its counts share, from a validated query. */
function worklistFilters(q: Record<string, unknown>) {
  const text = (name: string) => (typeof q[name] === 'string' ? q[name] : undefined);
  return {
    ...(q['overdue'] === true ? { overdue: true } : {}),
    ...(text('dueBefore') ? { dueBefore: text('dueBefore') } : {}),
    ...(text('dueAfter') ? { dueAfter: text('dueAfter') } : {}),
    ...(text('setting') ? { setting: text('setting') } : {}),
    ...(text('pathway') ? { pathwayId: text('pathway') } : {}),
    ...(text('task') ? { elementId: text('task') } : {}),
    ...(text('nhsNumber') ? { nhsNumber: text('nhsNumber') } : {}),
    ...(typeof q['minPriority'] === 'number' ? { minPriority: q['minPriority'] } : {}),
  };
}

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
          ...(status === 'any' ? { statuses: ['open', 'planned', 'started', 'completed', 'cancelled'] } : {}),
          ...(status !== 'any' ? { statuses: [status as WorklistStatus] } : {}),
          ...worklistFilters(q),
          ...(typeof q['caseId'] === 'string' ? { caseId: q['caseId'] } : {}),
          ...(q['sort'] === 'created' ? { sort: 'created' as const } : {}),
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
    path: '/task-counts',
    operationId: 'countTasks',
    summary: 'How many open tasks each worklist view holds (all, mine, unassigned, overdue, per candidate group)',
    tag: 'tasks',
    action: 'task.list',
    // Numbers of tasks, never whose: nothing about a person to audit.
    patientData: false,
    query: 'TaskCountQuery',
    success: { status: 200, schema: 'TaskCounts', description: 'the counts under these filters' },
    async handle(ctx) {
      const q = ctx.query;
      const counts = await countWorklist(ctx.engine.store, {
        scope: listScope(ctx.principal, 'task.list', q['setting']),
        subject: ctx.principal.subject,
        ...worklistFilters(q),
      });
      return { body: counts };
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
    method: 'get',
    path: '/tasks/{taskId}/assignees',
    operationId: 'listTaskAssignees',
    summary: 'Who a team lead may give the task to: active staff of its case’s settings, by name',
    tag: 'tasks',
    action: 'task.assign',
    patientData: false,
    params: taskIdParam,
    success: { status: 200, schema: 'AssigneeList', description: 'the people, by name' },
    async handle(ctx) {
      requireRole(ctx.principal, 'task.assign');
      const task = await readTaskOr404(ctx);
      decide(ctx.principal, 'task.assign', taskResource(task), `No task ${task.taskId}`);
      return { body: { items: await listTaskAssignees(ctx.engine.store, task.settings) } };
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
