/**
 * The questions the worklist and the ops console ask of the task projection, each answered by one of the
 * partial indexes on `worklist_tasks` (see worklist-task.entity.ts).
 */
import { type StoreEntityManager } from './store';
import { WorklistTaskSchema, type WorklistTask } from './entities';

const DEFAULT_LIMIT = 200;

/** Open tasks assigned to `assignee`, soonest due first (undated last). Index: open_by_assignee_due. */
export function findMyOpenTasks(
  em: StoreEntityManager,
  assignee: string,
  limit = DEFAULT_LIMIT,
): Promise<WorklistTask[]> {
  return em.find(WorklistTaskSchema, { assignee, status: 'open' }, { orderBy: { dueAt: 'asc', id: 'asc' }, limit });
}

/** Open, unassigned tasks offered to any of `groups` or to `user`. Index: open_candidate_groups. */
export function findClaimableTasks(
  em: StoreEntityManager,
  options: { groups: string[]; user?: string },
  limit = DEFAULT_LIMIT,
): Promise<WorklistTask[]> {
  const offered = [
    { candidateGroups: { $overlap: options.groups } },
    ...(options.user ? [{ candidateUsers: { $contains: [options.user] } }] : []),
  ];
  return em.find(
    WorklistTaskSchema,
    { status: 'open', assignee: null, $or: offered },
    { orderBy: { dueAt: 'asc', id: 'asc' }, limit },
  );
}

/** Open tasks of one case. Index: open_by_case. */
export function findOpenTasksOfCase(em: StoreEntityManager, caseId: string): Promise<WorklistTask[]> {
  return em.find(WorklistTaskSchema, { case: caseId, status: 'open' }, { orderBy: { dueAt: 'asc', id: 'asc' } });
}

/** Open tasks whose due date has passed, most overdue first: the ops console's stuck-work view. Index: open_by_due. */
export function findOverdueTasks(em: StoreEntityManager, now: Date, limit = DEFAULT_LIMIT): Promise<WorklistTask[]> {
  return em.find(
    WorklistTaskSchema,
    { status: 'open', dueAt: { $ne: null, $lt: now } },
    { orderBy: { dueAt: 'asc', id: 'asc' }, limit },
  );
}
