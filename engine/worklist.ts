/**
 * The worklist for the API and screens: tasks filtered (mine, a candidate group, unassigned, overdue, a due
 * window, a status, a setting, a case, a pathway, a least priority), scoped to the settings a person may see,
 * soonest due first (undated last), keyset paged; and claiming, unclaiming and assigning an open task, each
 * audited. Assignment is the worklist's own business (who is doing it): the workflow waits for the completion,
 * whoever sends it.
 */
import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors';
import type { Store } from '../store';
import { knexOf, settingsOfCases } from './case-settings';
import { isRestrictedPatient } from './case-list';
import { decodeCursor, encodeCursor, type Page } from './paging';
import type { TaskSummary } from './tasks';

export const WORKLIST_STATUSES = ['open', 'planned', 'started', 'completed', 'cancelled'] as const;
export type WorklistStatus = (typeof WORKLIST_STATUSES)[number];

export interface WorklistQuery {
  /** Only tasks of cases belonging to one of these settings (ODS codes): the caller's scope. Empty: none. */
  readonly scope: readonly string[];
  /** Only tasks assigned to this person (`assigned=me`: the caller's subject). */
  readonly assignee?: string;
  readonly candidateGroup?: string;
  readonly unassigned?: boolean;
  /** Open or planned work past its due date at `now`. */
  readonly overdue?: boolean;
  readonly dueBefore?: string;
  readonly dueAfter?: string;
  /** Default: open only. */
  readonly statuses?: readonly WorklistStatus[];
  readonly setting?: string;
  readonly caseId?: string;
  readonly pathwayId?: string;
  /** One task of the pathways (its BPMN element id). */
  readonly elementId?: string;
  /** One person's tasks. */
  readonly nhsNumber?: string;
  /** Tasks of this priority or higher (0 to 100; 70 and more is high, 90 and more urgent). */
  readonly minPriority?: number;
  /** Soonest due first (default, undated last) or newest first. */
  readonly sort?: 'due' | 'created';
  readonly limit: number;
  readonly cursor?: string;
  readonly now?: Date;
}

export interface WorklistItem extends TaskSummary {
  readonly pathwayId: string;
  readonly patientId: string;
  readonly nhsNumber: string;
  /** The setting the task's case was opened in, and every setting it belongs to. */
  readonly settingOdsCode: string;
  readonly settings: string[];
  readonly overdue: boolean;
  /** The user task's priority, 0 to 100 (50 unless its pathway set one). */
  readonly priority: number;
}

interface TaskRow {
  id: string;
  case_id: string;
  element_id: string;
  name: string;
  form_id: string | null;
  status: string;
  assignee: string | null;
  candidate_groups: string[];
  due_at: Date | null;
  follow_up_at: Date | null;
  created_at: Date;
  completed_at: Date | null;
  completed_by: string | null;
  completion_id: string | null;
  overdue_since: Date | null;
  completed_late: boolean;
  started_task_id: string | null;
  priority: number;
  pathway_id: string;
  patient_id: string;
  nhs_number: string;
  ods_code: string;
  workflow_id: string;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

function baseQuery(store: Store) {
  return knexOf(store)('worklist_tasks as t')
    .join('cases as c', 'c.id', 't.case_id')
    .join('settings as s', 's.id', 'c.setting_id')
    .join('patients as p', 'p.id', 'c.patient_id')
    .select<TaskRow[]>(
      't.*',
      'c.pathway_id',
      'c.patient_id',
      'p.nhs_number',
      's.ods_code',
      knexOf(store).raw(`coalesce(t.due_at, 'infinity'::timestamptz) as sort_due`),
    );
}

function toItem(row: TaskRow, settings: string[], now: Date): WorklistItem {
  const due = row.due_at ? new Date(row.due_at) : null;
  return {
    taskId: row.id,
    caseId: row.case_id,
    elementId: row.element_id,
    name: row.name,
    formId: row.form_id,
    status: row.status,
    assignee: row.assignee,
    candidateGroups: row.candidate_groups,
    dueAt: iso(row.due_at),
    followUpAt: iso(row.follow_up_at),
    createdAt: new Date(row.created_at).toISOString(),
    completedAt: iso(row.completed_at),
    completedBy: row.completed_by,
    completionId: row.completion_id,
    overdueSince: iso(row.overdue_since),
    completedLate: row.completed_late,
    startedTaskId: row.started_task_id,
    pathwayId: row.pathway_id,
    patientId: row.patient_id,
    nhsNumber: row.nhs_number,
    settingOdsCode: row.ods_code,
    settings,
    overdue: (row.status === 'open' || row.status === 'planned') && due !== null && due < now,
    priority: row.priority,
  };
}

type Filters = Omit<WorklistQuery, 'limit' | 'cursor' | 'sort'>;

/** The rows a query's filters select (scope, view and filters), before sorting and paging. */
function filtered(store: Store, query: Filters, now: Date) {
  const knex = knexOf(store);
  const inSettings = (codes: readonly string[]) =>
    knex('case_settings as cs')
      .join('settings as s2', 's2.id', 'cs.setting_id')
      .whereRaw('cs.case_id = t.case_id')
      .whereIn('s2.ods_code', [...codes]);
  const q = baseQuery(store)
    .whereExists(inSettings(query.scope))
    .whereIn('t.status', [...(query.statuses ?? ['open'])]);
  // When the scope already is that one setting, a second EXISTS only squares the planner's estimate of how few
  // rows match, and it then sorts them all instead of reading the sort index (bench:api).
  if (query.setting && !(query.scope.length === 1 && query.scope[0] === query.setting))
    void q.whereExists(inSettings([query.setting]));
  if (query.assignee !== undefined) void q.where('t.assignee', query.assignee);
  if (query.unassigned) void q.whereNull('t.assignee');
  if (query.candidateGroup) void q.whereRaw('t.candidate_groups @> array[?]::text[]', [query.candidateGroup]);
  if (query.overdue) void q.whereIn('t.status', ['open', 'planned']).where('t.due_at', '<', now);
  // The due window as bounds on the sort key, so the sort index (worklist_tasks_open_by_sort) starts and stops at
  // the window rather than reading every task due before it. Bounds on the sort key only (not on due_at as well):
  // the planner then estimates them as one range, instead of multiplying them into "almost no rows" and sorting.
  // `< infinity` keeps undated tasks out of a window with only a start, as `due_at >= start` did.
  if (query.dueBefore) void q.whereRaw(`coalesce(t.due_at, 'infinity'::timestamptz) < ?`, [new Date(query.dueBefore)]);
  if (query.dueAfter)
    void q.whereRaw(
      `coalesce(t.due_at, 'infinity'::timestamptz) >= ? and coalesce(t.due_at, 'infinity'::timestamptz) < 'infinity'::timestamptz`,
      [new Date(query.dueAfter)],
    );
  if (query.caseId) void q.where('t.case_id', query.caseId);
  if (query.pathwayId) void q.where('c.pathway_id', query.pathwayId);
  if (query.elementId) void q.where('t.element_id', query.elementId);
  if (query.nhsNumber) void q.where('p.nhs_number', query.nhsNumber);
  if (query.minPriority !== undefined) void q.where('t.priority', '>=', query.minPriority);
  return q;
}

export async function listWorklist(store: Store, query: WorklistQuery): Promise<Page<WorklistItem>> {
  if (query.scope.length === 0) return { items: [], nextCursor: null };
  const now = query.now ?? new Date();
  const q = filtered(store, query, now).limit(query.limit + 1);
  // Keyset paging on the sort key and the id: soonest due first (undated last), or newest first.
  if (query.sort === 'created') {
    void q.orderByRaw('t.created_at desc, t.id desc');
    if (query.cursor) {
      const [created, id] = decodeCursor(query.cursor, 2) as [string, string];
      void q.whereRaw('(t.created_at, t.id) < (?::timestamptz, ?)', [created, id]);
    }
  } else {
    void q.orderByRaw(`coalesce(t.due_at, 'infinity'::timestamptz) asc, t.id asc`);
    if (query.cursor) {
      const [due, id] = decodeCursor(query.cursor, 2) as [string, string];
      void q.whereRaw(`(coalesce(t.due_at, 'infinity'::timestamptz), t.id) > (?::timestamptz, ?)`, [due, id]);
    }
  }
  const rows = await q;
  const page = rows.slice(0, query.limit);
  const settings = await settingsOfCases(store, [...new Set(page.map((r) => r.case_id))]);
  const last = page[page.length - 1];
  const cursorOf = (row: TaskRow) =>
    query.sort === 'created'
      ? encodeCursor([iso(row.created_at)!, row.id])
      : encodeCursor([row.due_at ? iso(row.due_at)! : 'infinity', row.id]);
  return {
    items: page.map((r) => toItem(r, settings.get(r.case_id) ?? [], now)),
    nextCursor: rows.length > query.limit && last ? cursorOf(last) : null,
  };
}

/** How many tasks each worklist view holds under the same filters, and how many each candidate group has. */
export interface WorklistCounts {
  readonly all: number;
  readonly mine: number;
  readonly unassigned: number;
  readonly overdue: number;
  readonly groups: readonly { readonly group: string; readonly count: number }[];
  /** The tasks (by element) the filtered rows hold, for a "which task" filter that offers only what is there. */
  readonly tasks: readonly { readonly elementId: string; readonly name: string; readonly count: number }[];
}

/**
 * The counts beside each view's name: one pass over the filtered tasks (the view's own filters left out, so
 * each count is what that view would show), one over their candidate groups for the team views, and one over
 * which tasks they are.
 */
export async function countWorklist(
  store: Store,
  query: Omit<Filters, 'assignee' | 'unassigned' | 'candidateGroup'> & { readonly subject: string },
): Promise<WorklistCounts> {
  if (query.scope.length === 0) return { all: 0, mine: 0, unassigned: 0, overdue: 0, groups: [], tasks: [] };
  const knex = knexOf(store);
  const now = query.now ?? new Date();
  const { subject, ...filters } = query;
  // One pass over the filtered tasks (a CTE read three times is computed once): the totals, the candidate
  // groups and the tasks from the same rows. Three separate queries joined and filtered them three times.
  const rows = filtered(store, filters, now)
    .clearSelect()
    .clearOrder()
    .select('t.assignee', 't.due_at', 't.status', 't.candidate_groups', 't.element_id', 't.name');
  type Row = { all: string; mine: string; unassigned: string; overdue: string };
  const [counted] = await knex.with('f', rows).select<
    (Row & {
      groups: { grp: string; count: number }[];
      tasks: { element_id: string; name: string; count: number }[];
    })[]
  >(
    knex.raw('(select count(*) from f) as "all"'),
    knex.raw('(select count(*) from f where f.assignee = ?) as mine', [subject]),
    knex.raw('(select count(*) from f where f.assignee is null) as unassigned'),
    knex.raw(`(select count(*) from f where f.status in ('open', 'planned') and f.due_at < ?) as overdue`, [now]),
    knex.raw(`(select coalesce(json_agg(g order by g.grp), '[]') from
        (select grp, count(*) as count from f, unnest(f.candidate_groups) as grp group by grp) g) as groups`),
    knex.raw(`(select coalesce(json_agg(e order by e.name, e.element_id), '[]') from
        (select element_id, min(name) as name, count(*) as count from f group by element_id) e) as tasks`),
  );
  return {
    all: Number(counted?.all ?? 0),
    mine: Number(counted?.mine ?? 0),
    unassigned: Number(counted?.unassigned ?? 0),
    overdue: Number(counted?.overdue ?? 0),
    groups: (counted?.groups ?? []).map((g) => ({ group: g.grp, count: Number(g.count) })),
    tasks: (counted?.tasks ?? []).map((t) => ({ elementId: t.element_id, name: t.name, count: Number(t.count) })),
  };
}

/** One task with its case's settings and whether its person's record is restricted; undefined when unknown. */
export async function findWorklistTask(
  store: Store,
  taskId: string,
  now = new Date(),
): Promise<(WorklistItem & { readonly restricted: boolean; readonly workflowId: string }) | undefined> {
  const row = await baseQuery(store).where('t.id', taskId).first();
  if (!row) return undefined;
  const settings = await settingsOfCases(store, [row.case_id]);
  return {
    ...toItem(row, settings.get(row.case_id) ?? [], now),
    workflowId: row.workflow_id,
    restricted: await isRestrictedPatient(store, row.patient_id),
  };
}

/** Someone a task may be given to: active staff of a setting its case belongs to (as `assign` checks). */
export interface Assignee {
  readonly subject: string;
  readonly name: string;
}

/** Who a team lead may give the task to, by name: the same rule `changeTaskAssignment` applies to `assign`. */
export async function listTaskAssignees(store: Store, settings: readonly string[]): Promise<Assignee[]> {
  const rows = await knexOf(store)('staff as st')
    .join('staff_settings as ss', 'ss.staff_id', 'st.id')
    .join('settings as s', 's.id', 'ss.setting_id')
    .where('st.active', true)
    .whereIn('s.ods_code', [...settings])
    .distinct<{ subject: string; display_name: string }[]>('st.subject', 'st.display_name')
    .orderBy([{ column: 'st.display_name' }, { column: 'st.subject' }]);
  return rows.map((r) => ({ subject: r.subject, name: r.display_name }));
}

/** Who changes an assignment, for the audit trail. */
export interface AssignmentActor {
  readonly id: string;
  readonly role: string;
  readonly subject: string;
  readonly requestId?: string;
  readonly settingOdsCode?: string;
  /** The permission the change is made under, when not the change's own (ops reassign a case's tasks: `ops.act`). */
  readonly operation?: string;
}

/**
 * Sets who is doing an open task. `claim`: the actor takes a task nobody has (or has already); `unclaim`: the
 * actor gives back the task they have; `assign`: a team lead gives it to someone else (who must be active
 * staff of a setting the case belongs to), whoever had it. Refused with a ConflictError when the task is not
 * open or someone else has it; audited as an update of the task.
 */
export async function changeTaskAssignment(
  store: Store,
  taskId: string,
  change: { kind: 'claim' | 'unclaim' } | { kind: 'assign'; assignee: string },
  actor: AssignmentActor,
): Promise<WorklistItem> {
  const task = await findWorklistTask(store, taskId);
  if (!task) throw new NotFoundError(`No task ${taskId}`);
  if (task.status !== 'open') throw new ConflictError(`Task ${taskId} is ${task.status}, not open`);
  const knex = knexOf(store);
  let assignee: string | null;
  /** Who has it now, as this change expects (checked again in the update, so a race is a conflict). */
  let expected: { kind: 'free-or-mine' } | { kind: 'is'; assignee: string | null };
  switch (change.kind) {
    case 'claim':
      if (task.assignee !== null && task.assignee !== actor.subject)
        throw new ConflictError(`Task ${taskId} is assigned to someone else`);
      assignee = actor.subject;
      expected = { kind: 'free-or-mine' };
      break;
    case 'unclaim':
      if (task.assignee !== actor.subject) throw new ConflictError(`Task ${taskId} is not assigned to you`);
      assignee = null;
      expected = { kind: 'is', assignee: actor.subject };
      break;
    case 'assign': {
      const staff = await knex('staff as st')
        .join('staff_settings as ss', 'ss.staff_id', 'st.id')
        .join('settings as s', 's.id', 'ss.setting_id')
        .where({ 'st.subject': change.assignee, 'st.active': true })
        .whereIn('s.ods_code', task.settings)
        .first<{ id: string } | undefined>('st.id');
      if (!staff)
        throw new ValidationError(`${change.assignee} cannot be given task ${taskId}`, [
          { pointer: '/assignee', detail: 'must be the subject of active staff of a setting the case belongs to' },
        ]);
      assignee = change.assignee;
      expected = { kind: 'is', assignee: task.assignee };
      break;
    }
  }
  await knex.transaction(async (trx) => {
    const update = trx('worklist_tasks').where({ id: taskId, status: 'open' });
    if (expected.kind === 'free-or-mine')
      void update.where((w) => void w.whereNull('assignee').orWhere('assignee', actor.subject));
    else if (expected.assignee === null) void update.whereNull('assignee');
    else void update.where('assignee', expected.assignee);
    const changed = await update.update({ assignee });
    if (changed === 0) throw new ConflictError(`Task ${taskId} changed meanwhile; read it again`);
    await trx('audit_events').insert({
      id: randomUUID(),
      actor_id: actor.id,
      actor_role: actor.role,
      actor_subject: actor.subject,
      action: 'update',
      entity_type: 'WorklistTask',
      entity_id: taskId,
      patient_id: task.patientId,
      reason: change.kind === 'unclaim' ? 'unclaimed' : `${change.kind}ed to ${assignee}`,
      request_id: actor.requestId ?? null,
      setting_ods_code: actor.settingOdsCode ?? null,
      // As the policy names it: claiming and giving back are one permission.
      operation: actor.operation ?? (change.kind === 'assign' ? 'task.assign' : 'task.claim'),
    });
  });
  return { ...task, assignee };
}
