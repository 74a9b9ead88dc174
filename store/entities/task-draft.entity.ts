/**
 * Drafts of a worklist task's form answers: what a person has filled in so far, saved to come back to. One row
 * per save, never changed (the latest of a person for a task is their draft); a draft is only shown while its
 * task is open, so completing or cancelling the task discards it without deleting anything.
 */
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { WorklistTaskSchema } from './worklist-task.entity';

export const TaskDraftSchema = defineEntity({
  name: 'TaskDraft',
  tableName: 'task_drafts',
  properties: {
    id: p.uuid().primary(),
    task: () => p.manyToOne(WorklistTaskSchema),
    /** Whose draft it is (their OIDC subject): each person has their own draft of a task. */
    authorSubject: p.string().length(255),
    authorId: p.string().length(255),
    /** The answers as saved: a partial submission, checked only for fields the form does not have. */
    answers: p.json<Record<string, unknown>>(),
    savedAt: p.datetime().defaultRaw('now()'),
  },
  indexes: [{ name: 'task_drafts_task_author_saved', properties: ['task', 'authorSubject', 'savedAt'] }],
});
export type TaskDraft = InferEntity<typeof TaskDraftSchema>;
