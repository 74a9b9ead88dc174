/**
 * The task page: who the task is for (the patient banner), what it is and when it is due, and its form rendered
 * from the form's JSON Schema. One form posts both "Save draft" and "Submit"; a submission the form refuses is
 * shown again with the NHS error summary, and a completed task leads to the case's next task, or the worklist.
 * A team lead also gets a "Reassign" form naming the people the task may go to.
 */
import { randomUUID } from 'node:crypto';
import { ValidationError } from '../domain/errors';
import type { WorklistItem } from '../engine';
import type { FormSchema } from '../pathways';
import { fieldErrors, formValues, formView, readSubmission } from './forms/form-view';
import type { PageContext } from './index';
import { call, fieldsOf } from './page-helpers';
import { londonDay } from './render';

interface TaskDetail {
  task: WorklistItem;
  form: { formId: string } | null;
  draft: { answers: Record<string, unknown>; savedAt: string } | null;
}

function taskIdOf(ctx: PageContext): string {
  return String(ctx.req.params['taskId'] ?? '');
}

/** Where a task's page is: its id holds `/` and `#`, so it is one encoded path segment. */
export function taskPath(taskId: string): string {
  return `/tasks/${encodeURIComponent(taskId)}`;
}

async function readTask(ctx: PageContext, taskId: string): Promise<TaskDetail> {
  return (await call(ctx, 'getTask', { params: { taskId } })).body as TaskDetail;
}

/** The task's form as installed now: the version its answers will be checked against. */
async function formSchemaOf(ctx: PageContext, form: TaskDetail['form']): Promise<FormSchema | undefined> {
  return form ? (await ctx.operations.forms().form(form.formId)).schema : undefined;
}

async function readBanner(ctx: PageContext, nhsNumber: string): Promise<unknown> {
  return (await call(ctx, 'getPatient', { params: { nhsNumber } })).body;
}

/** The people a team lead may give the task to; nobody else sees the reassign form. */
async function readAssignees(ctx: PageContext, task: WorklistItem) {
  if (!ctx.principal.roles.includes('team-lead') || task.status !== 'open') return null;
  const result = await call(ctx, 'listTaskAssignees', { params: { taskId: task.taskId } });
  const { items } = result.body as { items: { subject: string; name: string }[] };
  return [
    { value: '', text: 'Choose a person' },
    ...items.map((a) => ({ value: a.subject, text: a.name, selected: a.subject === task.assignee })),
  ];
}

interface Shown {
  values?: Record<string, unknown>;
  errors?: Record<string, string>;
  errorSummary?: { text: string; href: string }[];
  notice?: string;
  completionId?: string;
}

async function showTask(ctx: PageContext, taskId: string, shown: Shown, status = 200): Promise<void> {
  const { task, form, draft } = await readTask(ctx, taskId);
  const schema = await formSchemaOf(ctx, form);
  const values = shown.values ?? (schema && draft ? formValues(schema, draft.answers) : {});
  const today = londonDay(new Date());
  ctx.render(
    'task.njk',
    {
      title: task.name,
      current: 'worklist',
      task: {
        ...task,
        dueToday: task.dueAt !== null && londonDay(task.dueAt) === today,
        mine: task.assignee === ctx.principal.subject,
      },
      patient: await readBanner(ctx, task.nhsNumber),
      form: schema ? formView(schema, values, shown.errors ?? {}) : null,
      formTitle: schema?.title,
      draftSavedAt: draft?.savedAt ?? null,
      assignees: await readAssignees(ctx, task),
      casePath: `/cases/${task.caseId}`,
      action: taskPath(task.taskId),
      // One id per form shown: pressing Submit twice (or again after a lost answer) completes the task once.
      completionId: shown.completionId ?? randomUUID(),
      csrfToken: ctx.csrfToken,
      notice: shown.notice,
      errorSummary: shown.errorSummary,
    },
    status,
  );
}

export async function taskPage(ctx: PageContext): Promise<void> {
  const notices: Record<string, string> = {
    draft: 'Your draft is saved. Only you can see it until the task is completed.',
    next: 'The previous task is completed. This is the next task for this person.',
    assigned: 'The task is reassigned.',
  };
  const said = typeof ctx.req.query['done'] === 'string' ? notices[ctx.req.query['done']] : undefined;
  await showTask(ctx, taskIdOf(ctx), said ? { notice: said } : {});
}

/** "Save draft" keeps the answers as they are; "Submit" completes the task or shows what to correct. */
export async function submitTask(ctx: PageContext): Promise<void> {
  const taskId = taskIdOf(ctx);
  const body = ctx.req.body as Record<string, unknown>;
  const { task, form } = await readTask(ctx, taskId);
  const schema = await formSchemaOf(ctx, form);
  const data = schema ? readSubmission(schema, body) : {};
  if (body['action'] === 'draft') {
    await call(ctx, 'saveTaskDraft', { params: { taskId }, body: { answers: data } });
    ctx.redirect(`${taskPath(taskId)}?done=draft`);
    return;
  }
  const completionId = typeof body['completionId'] === 'string' ? body['completionId'] : randomUUID();
  try {
    const result = await call(ctx, 'completeTask', { params: { taskId }, body: { data, completionId } });
    const { nextTasks } = result.body as { nextTasks: WorklistItem[] };
    const next = nextTasks.find((t) => t.status === 'open' && t.taskId !== task.taskId);
    ctx.redirect(next ? `${taskPath(next.taskId)}?done=next` : '/worklist?done=completed');
  } catch (error) {
    if (!(error instanceof ValidationError) || !schema) throw error;
    // The refused answers completed nothing: the corrected form gets a new completion id.
    const { byField, summary } = fieldErrors(error.problems, '/data', schema);
    await showTask(ctx, taskId, { values: formValues(schema, data), errors: byField, errorSummary: summary }, 400);
  }
}

/** A team lead gives the task to a named person, then sees the task as it now is. */
export async function reassignTask(ctx: PageContext): Promise<void> {
  const taskId = taskIdOf(ctx);
  try {
    await call(ctx, 'assignTask', { params: { taskId }, body: { assignee: fieldsOf(ctx.req.body)('assignee') } });
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    await showTask(ctx, taskId, { errorSummary: [{ text: 'Choose who to give the task to', href: '#assignee' }] }, 400);
    return;
  }
  ctx.redirect(`${taskPath(taskId)}?done=assigned`);
}
