/**
 * Worklist tasks: the projection of the user tasks the workflows are waiting on, for the worklist and the ops
 * views. The workflow decides; this table answers "what is open, for whom, and what is late" quickly.
 */
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { CaseSchema } from './case.entity';

export const TaskStatus = {
  /** Work the pathway has planned (a milestone review) but not opened yet: shown with its due date, not workable. */
  Planned: 'planned',
  /** A planned row whose user task has opened: `startedTaskId` names the open row that replaced it. */
  Started: 'started',
  Open: 'open',
  Completed: 'completed',
  Cancelled: 'cancelled',
} as const;
export type TaskStatus = (typeof TaskStatus)[keyof typeof TaskStatus];

export const WorklistTaskSchema = defineEntity({
  name: 'WorklistTask',
  tableName: 'worklist_tasks',
  properties: {
    /** Chosen by the workflow (a business key), so opening the same task twice finds the first. */
    id: p.string().length(255).primary(),
    case: () => p.manyToOne(CaseSchema),
    workflowId: p.string().length(255),
    /** The BPMN element the task stands for (`FiveDayReview`). */
    elementId: p.string().length(255),
    name: p.string().length(255),
    formId: p.string().length(255).nullable(),
    status: p.enum(Object.values(TaskStatus)).default(TaskStatus.Open),
    assignee: p.string().length(255).nullable(),
    // onCreate as well as the column default: MikroORM 6 renders a missing array as nothing in a batch insert.
    candidateGroups: p
      .array()
      .default([])
      .onCreate(() => []),
    candidateUsers: p
      .array()
      .default([])
      .onCreate(() => []),
    dueAt: p.datetime().nullable(),
    followUpAt: p.datetime().nullable(),
    createdAt: p.datetime().defaultRaw('now()'),
    completedAt: p.datetime().nullable(),
    completedBy: p.string().length(255).nullable(),
    /** The id of the submission that completed the task (`task complete --completion-id`), when it had one. */
    completionId: p.string().length(255).nullable(),
    /** Why a cancelled task was withdrawn (the pathway moved on, the person was released, ops cancelled it). */
    cancelReason: p.string().length(255).nullable(),
    /** When the task (or planned work) was first reported overdue (`notify.notifyStaff` kind `overdue`); kept after. */
    overdueSince: p.datetime().nullable(),
    /** Completed after its due date. */
    completedLate: p.boolean().default(false),
    /** For a `started` planned row: the worklist task that replaced it when the pathway opened the user task. */
    startedTaskId: p.string().length(255).nullable(),
    /** The user task's `zeebe:priorityDefinition`, 0 to 100 (Camunda 8's range and default, 50). */
    priority: p.smallint().default(50),
  },
  indexes: [
    // The three questions the worklist and ops views ask all the time, each answered by a partial index
    // over the (few) open tasks rather than the (many) finished ones.
    {
      name: 'worklist_tasks_open_by_assignee_due',
      expression: `create index "worklist_tasks_open_by_assignee_due" on "worklist_tasks" ("assignee", "due_at") where status = 'open'`,
    },
    {
      name: 'worklist_tasks_open_by_case',
      expression: `create index "worklist_tasks_open_by_case" on "worklist_tasks" ("case_id") where status = 'open'`,
    },
    {
      name: 'worklist_tasks_open_by_due',
      expression: `create index "worklist_tasks_open_by_due" on "worklist_tasks" ("due_at") where status = 'open' and due_at is not null`,
    },
    {
      name: 'worklist_tasks_open_candidate_groups',
      expression: `create index "worklist_tasks_open_candidate_groups" on "worklist_tasks" using gin ("candidate_groups") where status = 'open'`,
    },
    // The worklist's own order over the open tasks, so a page reads the first tasks in order (bench:api).
    {
      name: 'worklist_tasks_open_by_sort',
      expression: `create index "worklist_tasks_open_by_sort" on "worklist_tasks" ((coalesce("due_at", 'infinity'::timestamptz)), "id") where status = 'open'`,
    },
    // Planned work: shown per case (case view, `task list --planned`), replaced per workflow and element.
    {
      name: 'worklist_tasks_planned_by_case',
      expression: `create index "worklist_tasks_planned_by_case" on "worklist_tasks" ("case_id", "due_at") where status = 'planned'`,
    },
    {
      name: 'worklist_tasks_planned_by_workflow_element',
      expression: `create index "worklist_tasks_planned_by_workflow_element" on "worklist_tasks" ("workflow_id", "element_id") where status = 'planned'`,
    },
    { name: 'worklist_tasks_workflow_id_index', properties: ['workflowId'] },
  ],
  checks: [
    {
      name: 'worklist_tasks_completion_recorded',
      expression: `(status = 'completed') = (completed_at is not null)`,
    },
    {
      name: 'worklist_tasks_started_recorded',
      expression: `(status = 'started') = (started_task_id is not null)`,
    },
    { name: 'worklist_tasks_priority_range', expression: `priority >= 0 and priority <= 100` },
  ],
});
export type WorklistTask = InferEntity<typeof WorklistTaskSchema>;
