/**
 * Drafts of a worklist task's answers: each save is a new row (task_drafts is append-only), the latest of a
 * person for a task is their draft, and a draft is shown only while its task is open, so completing (or
 * cancelling) the task discards it without deleting anything. A draft is partial, so it is not checked against
 * the form's required fields or rules, only for fields the form does not have.
 */
import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors';
import { FORMS_DIRECTORY, listFormIds, readFormSchema } from '../pathways';
import type { Store } from '../store';
import { knexOf } from './case-settings';

export interface TaskDraftView {
  readonly taskId: string;
  readonly answers: Record<string, unknown>;
  readonly savedAt: string;
  /** How many times this person has saved a draft of the task. */
  readonly saves: number;
}

export interface SaveTaskDraftInput {
  readonly taskId: string;
  /** The person's OIDC subject: drafts are theirs alone. */
  readonly authorSubject: string;
  readonly authorId: string;
  readonly answers: Record<string, unknown>;
}

/** The top-level fields of `answers` that the task's form does not have, as problems at `/answers/<field>`. */
function unknownFields(formId: string | null, answers: Record<string, unknown>) {
  const known =
    formId && listFormIds(FORMS_DIRECTORY).includes(formId)
      ? new Set(Object.keys(readFormSchema(formId, FORMS_DIRECTORY).properties))
      : new Set<string>();
  return Object.keys(answers)
    .filter((field) => !known.has(field))
    .map((field) => ({
      pointer: `/answers/${field.replace(/~/g, '~0').replace(/\//g, '~1')}`,
      detail: formId ? `is not part of the form ${formId}` : 'is not part of a form: this task has none',
    }));
}

export async function saveTaskDraft(store: Store, input: SaveTaskDraftInput): Promise<TaskDraftView> {
  const knex = knexOf(store);
  const task = await knex('worklist_tasks')
    .where({ id: input.taskId })
    .first<{ status: string; form_id: string | null } | undefined>('status', 'form_id');
  if (!task) throw new NotFoundError(`No task ${input.taskId}`);
  const problems = unknownFields(task.form_id, input.answers);
  if (problems.length) throw new ValidationError(`The draft has ${problems.length} field(s) the form lacks`, problems);
  if (task.status !== 'open')
    throw new ConflictError(`Task ${input.taskId} is ${task.status}: only an open task takes a draft`);
  await knex('task_drafts').insert({
    id: randomUUID(),
    task_id: input.taskId,
    author_subject: input.authorSubject,
    author_id: input.authorId,
    answers: JSON.stringify(input.answers),
  });
  const draft = await findTaskDraft(store, input.taskId, input.authorSubject);
  if (!draft) throw new ConflictError(`Task ${input.taskId} closed while its draft was saved`);
  return draft;
}

/** The person's latest draft of the task while the task is open; null when none, or once the task has closed. */
export async function findTaskDraft(
  store: Store,
  taskId: string,
  authorSubject: string,
): Promise<TaskDraftView | null> {
  const knex = knexOf(store);
  const row = await knex('task_drafts as d')
    .join('worklist_tasks as t', 't.id', 'd.task_id')
    .where({ 'd.task_id': taskId, 'd.author_subject': authorSubject, 't.status': 'open' })
    .orderBy([
      { column: 'd.saved_at', order: 'desc' },
      { column: 'd.id', order: 'desc' },
    ])
    .first<{ answers: Record<string, unknown>; saved_at: Date } | undefined>('d.answers', 'd.saved_at');
  if (!row) return null;
  const [counted] = await knex('task_drafts')
    .where({ task_id: taskId, author_subject: authorSubject })
    .count<{ n: string }[]>({ n: '*' });
  return {
    taskId,
    answers: row.answers,
    savedAt: new Date(row.saved_at).toISOString(),
    saves: Number(counted?.n ?? 0),
  };
}
