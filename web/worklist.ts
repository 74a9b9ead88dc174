/**
 * The worklist page: all of my settings' tasks, mine, unassigned, or a team's (a candidate group), each with its
 * count under the same filters; filtered by setting, pathway, task, person, due window, overdue and priority;
 * soonest due or newest first; a page at a time. High-priority and urgent tasks are tagged in words.
 */
import { calendarDeadline } from '../bpmn/calendar';
import { parseIsoDuration } from '../bpmn/iso8601';
import { sameOriginReturnTo } from '../api/auth/return-to';
import { mayEver } from '../api/policy';
import { ValidationError } from '../domain/errors';
import { WORKLIST_VIEW_PARAMETERS, type WorklistCounts, type WorklistItem, type WorklistView } from '../engine';
import { PATHWAYS } from '../pathways';
import type { PageContext } from './index';
import { call, fieldsOf } from './page-helpers';
import { londonDay } from './render';
import { taskPath } from './task';

const VIEWS = {
  all: { label: 'All tasks in my settings', count: 'all', empty: 'There are no open tasks in your settings.' },
  mine: { label: 'My tasks', count: 'mine', empty: 'You have no open tasks assigned to you.' },
  unassigned: { label: 'Unassigned', count: 'unassigned', empty: 'There are no unassigned open tasks.' },
  team: { label: 'Team', count: undefined, empty: 'This team has no open tasks.' },
} as const;
type View = keyof typeof VIEWS;

const DUE = {
  '': { text: 'Any time', days: undefined },
  today: { text: 'By the end of today', days: 0 },
  week: { text: 'Within 7 days', days: 7 },
  month: { text: 'Within 28 days', days: 28 },
} as const;
type Due = keyof typeof DUE;

const SORTS = { due: 'Soonest due first', created: 'Newest first' } as const;

/** The least priority shown (the API's `minPriority`); a task's tag says which band it is in. */
const PRIORITIES = {
  '': { text: 'Any priority', min: undefined },
  high: { text: 'High (70 or more)', min: 70 },
  urgent: { text: 'Urgent (90 or more)', min: 90 },
} as const;
type Priority = keyof typeof PRIORITIES;

/** The words a task's priority is shown with (never colour alone); none for the usual 50 or below 70. */
function priorityTagOf(priority: number): string | undefined {
  return priority >= 90 ? 'Urgent' : priority >= 70 ? 'High priority' : undefined;
}

/** Just after the end of the London day `days` from today: deadlines fall at 23:59:59 there, and `dueBefore` excludes. */
function afterEndOfLondonDay(days: number): string {
  return new Date(calendarDeadline(Date.now(), parseIsoDuration(`P${days}D`)!) + 1_000).toISOString();
}

/** The filter fields, as the form sends them (a saved view's parameters but its view and team); the query string's names. */
const FILTERS = WORKLIST_VIEW_PARAMETERS.filter((name) => name !== 'view' && name !== 'group');

export async function worklistPage(ctx: PageContext): Promise<void> {
  const text = fieldsOf(ctx.req.query);
  const view: View = text('view') in VIEWS ? (text('view') as View) : 'all';
  const due: Due = text('due') in DUE ? (text('due') as Due) : '';
  const priority: Priority = Object.hasOwn(PRIORITIES, text('priority')) ? (text('priority') as Priority) : '';
  const minPriority = PRIORITIES[priority].min;
  const sort = text('sort') === 'created' ? 'created' : 'due';
  const patient = text('patient').replace(/\s+/g, '');
  const days = DUE[due].days;
  const sent = Object.fromEntries(FILTERS.map((name) => [name, text(name)]));
  // Until the filters are applied, the worklist opens on the setting they said they are working in.
  if (!('setting' in ctx.req.query)) sent['setting'] = ctx.workingSetting ?? '';

  // The filters every view shares (and its count obeys), as the API names them.
  const filters: Record<string, string> = {
    ...(sent['setting'] ? { setting: sent['setting'] } : {}),
    ...(sent['pathway'] ? { pathway: sent['pathway'] } : {}),
    ...(sent['task'] ? { task: sent['task'] } : {}),
    ...(patient ? { nhsNumber: patient } : {}),
    ...(sent['overdue'] === 'true' ? { overdue: 'true' } : {}),
    ...(days !== undefined ? { dueBefore: afterEndOfLondonDay(days) } : {}),
    ...(minPriority !== undefined ? { minPriority: String(minPriority) } : {}),
  };
  let group = text('group');
  const link = (changes: Record<string, string>) => {
    const team: Record<string, string> = (changes['view'] ?? view) === 'team' ? { group } : {};
    // A cursor belongs to one page of one query: only the "next page" link carries one.
    const params: Record<string, string> = { view, ...team, ...sent, cursor: '', ...changes };
    return `/worklist?${new URLSearchParams(Object.entries(params).filter(([, value]) => value)).toString()}`;
  };

  const fieldErrors: Record<string, string> = {};
  let counts: WorklistCounts | undefined;
  let page: { items: WorklistItem[]; nextCursor: string | null } = { items: [], nextCursor: null };
  try {
    counts = (await call(ctx, 'countTasks', { query: filters })).body as WorklistCounts;
    if (view === 'team' && !counts.groups.some((g) => g.group === group)) group = counts.groups[0]?.group ?? '';
    const viewQuery: Record<string, string> =
      view === 'mine'
        ? { assigned: 'me' }
        : view === 'unassigned'
          ? { unassigned: 'true' }
          : view === 'team'
            ? { candidateGroup: group || 'none' }
            : {};
    const cursor = text('cursor');
    const listed = await call(ctx, 'listTasks', {
      query: { ...filters, ...viewQuery, sort, ...(cursor ? { cursor } : {}), limit: '25' },
    });
    page = listed.body as typeof page;
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    // Only a changed address can hold a value the form does not offer, or a mistyped NHS number: say which.
    for (const problem of error.problems) {
      const name = problem.pointer.replace(/^\/query\//, '');
      const field = name === 'nhsNumber' ? 'patient' : name === 'cursor' ? 'setting' : name;
      fieldErrors[field] =
        field === 'patient'
          ? 'Enter an NHS number of 10 digits, like 485 777 3456'
          : field === 'setting'
            ? 'Select a setting you work in'
            : `This link is not valid: ${problem.detail}`;
    }
  }

  // Saved views (web/worklist-views.ts): one's own and those shared with a setting one works in; none for ops.
  const savedViews = mayEver(ctx.principal, 'worklist-view.list')
    ? ((await call(ctx, 'listWorklistViews', {})).body as { items: WorklistView[] }).items
    : undefined;
  const today = londonDay(new Date());
  const filtered = Object.keys(filters).length > 0;
  ctx.render(
    'worklist.njk',
    {
      title: 'Worklist',
      current: 'worklist',
      notice:
        text('done') === 'completed'
          ? 'The task is completed. The case has no other open task for you to go on to.'
          : undefined,
      view,
      group,
      sent: { ...sent, patient: text('patient') },
      views: Object.entries(VIEWS).map(([id, v]) => ({
        label: v.label,
        count: v.count ? counts?.[v.count] : counts?.groups.find((g) => g.group === group)?.count,
        href: link({ view: id }),
        current: id === view,
      })),
      groupItems: (counts?.groups ?? []).map((g) => ({
        value: g.group,
        text: `${g.group} (${g.count})`,
        selected: g.group === group,
      })),
      settingItems: [
        { value: '', text: 'All my settings' },
        ...ctx.principal.settings.map((ods) => ({ value: ods, text: ods, selected: ods === sent['setting'] })),
      ],
      pathwayItems: [
        { value: '', text: 'All pathways' },
        ...PATHWAYS.map((p) => ({ value: p.processId, text: p.name, selected: p.processId === sent['pathway'] })),
      ],
      taskItems: [
        { value: '', text: 'All tasks' },
        ...(counts?.tasks ?? []).map((t) => ({
          value: t.elementId,
          text: `${t.name} (${t.count})`,
          selected: t.elementId === sent['task'],
        })),
      ],
      dueItems: Object.entries(DUE).map(([value, d]) => ({ value, text: d.text, selected: value === due })),
      priorityItems: Object.entries(PRIORITIES).map(([value, p]) => ({
        value,
        text: p.text,
        selected: value === priority,
      })),
      sortItems: Object.entries(SORTS).map(([value, label]) => ({ value, text: label, selected: value === sort })),
      overdueChecked: sent['overdue'] === 'true',
      caption: view === 'team' ? `Team: ${group || 'none'}` : VIEWS[view].label,
      tasks: page.items.map((t) => ({
        ...t,
        href: taskPath(t.taskId),
        dueToday: t.dueAt !== null && londonDay(t.dueAt) === today,
        mine: t.assignee === ctx.principal.subject,
        priorityTag: priorityTagOf(t.priority),
      })),
      returnTo: ctx.req.originalUrl,
      csrfToken: ctx.csrfToken,
      emptyText:
        Object.keys(fieldErrors).length > 0
          ? 'Change the filters and apply them again.'
          : filtered
            ? 'No open tasks match these filters.'
            : VIEWS[view].empty,
      nextHref: page.nextCursor ? link({ cursor: page.nextCursor }) : null,
      savedViews,
      fieldErrors,
      // None when nothing is wrong: an empty list is still true to the templates (an empty summary, "Error:" titles).
      errorSummary:
        Object.keys(fieldErrors).length > 0
          ? Object.entries(fieldErrors).map(([field, message]) => ({ text: message, href: `#${field}` }))
          : undefined,
    },
    Object.keys(fieldErrors).length > 0 ? 400 : 200,
  );
}

/** Claim a task nobody has, or give back one of one's own, from its row; then back to the same worklist. */
export function changeAssignment(kind: 'claim' | 'unclaim') {
  return async (ctx: PageContext): Promise<void> => {
    const field = fieldsOf(ctx.req.body);
    const back = sameOriginReturnTo(field('returnTo') || '/worklist');
    await call(ctx, `${kind}Task`, { params: { taskId: field('taskId') }, body: {} });
    ctx.redirect(back);
  };
}
