/** Drafts of a task's answers: saved by the person filling the form in, theirs alone, until the task closes. */
import { saveTaskDraft } from '../../engine';
import { decide, readTaskOr404, requireRole, taskResource, taskIdParam, type RouteSpec } from './operation';

export const TASK_DRAFT_ROUTES: readonly RouteSpec[] = [
  {
    method: 'post',
    path: '/tasks/{taskId}/draft',
    operationId: 'saveTaskDraft',
    summary: 'Save your draft of an open task’s answers (each save is kept; the latest is your draft)',
    tag: 'tasks',
    action: 'task.draft',
    patientData: true,
    params: taskIdParam,
    body: 'TaskDraftRequest',
    success: { status: 200, schema: 'TaskDraft', description: 'your draft as saved' },
    async handle(ctx) {
      requireRole(ctx.principal, 'task.draft');
      const task = await readTaskOr404(ctx);
      const decision = decide(ctx.principal, 'task.draft', taskResource(task), `No task ${task.taskId}`);
      const draft = await saveTaskDraft(ctx.engine.store, {
        taskId: task.taskId,
        authorSubject: ctx.principal.subject,
        authorId: ctx.principal.staffId,
        answers: ctx.body['answers'] as Record<string, unknown>,
      });
      await ctx.audit([
        {
          decision,
          action: 'update',
          operation: 'task.draft',
          entityType: 'WorklistTask',
          entityId: task.taskId,
          patientId: task.patientId,
          reason: `draft saved (${draft.saves})`,
        },
      ]);
      return { body: draft };
    },
  },
];
