/** The worklist page: my tasks, unassigned, or all of my settings', filtered, a page at a time. */
import { calendarDeadline } from '../bpmn/calendar';
import { parseIsoDuration } from '../bpmn/iso8601';
import { sameOriginReturnTo } from '../api/auth/return-to';
import { ValidationError } from '../domain/errors';
import type { WorklistItem } from '../engine';
import type { PageContext } from './index';
import { londonDay } from './render';

const VIEWS = {
  all: { label: 'All tasks in my settings', query: {}, empty: 'There are no open tasks in your settings.' },
  mine: { label: 'My tasks', query: { assigned: 'me' }, empty: 'You have no open tasks assigned to you.' },
  unassigned: { label: 'Unassigned', query: { unassigned: 'true' }, empty: 'There are no unassigned open tasks.' },
} as const;
type View = keyof typeof VIEWS;

const DUE = {
  '': { text: 'Any time', days: undefined },
  today: { text: 'By the end of today', days: 0 },
  week: { text: 'Within 7 days', days: 7 },
  month: { text: 'Within 28 days', days: 28 },
} as const;
type Due = keyof typeof DUE;

/** Just after the end of the London day `days` from today: deadlines fall at 23:59:59 there, and `dueBefore` excludes. */
function afterEndOfLondonDay(days: number): string {
  return new Date(calendarDeadline(Date.now(), parseIsoDuration(`P${days}D`)!) + 1_000).toISOString();
}

export async function worklistPage(ctx: PageContext): Promise<void> {
  const sent = ctx.req.query as Record<string, unknown>;
  const text = (name: string) => (typeof sent[name] === 'string' ? sent[name] : '');
  const view: View = text('view') in VIEWS ? (text('view') as View) : 'all';
  const due: Due = text('due') in DUE ? (text('due') as Due) : '';
  const setting = text('setting');
  const overdue = text('overdue') === 'true';
  const cursor = text('cursor');
  const days = DUE[due].days;

  const query: Record<string, string> = {
    ...VIEWS[view].query,
    ...(setting ? { setting } : {}),
    ...(overdue ? { overdue: 'true' } : {}),
    ...(days !== undefined ? { dueBefore: afterEndOfLondonDay(days) } : {}),
    ...(cursor ? { cursor } : {}),
    limit: '25',
  };
  const link = (changes: Record<string, string>) => {
    const params = new URLSearchParams({
      view,
      ...(setting ? { setting } : {}),
      ...(due ? { due } : {}),
      ...(overdue ? { overdue: 'true' } : {}),
      ...changes,
    });
    return `/worklist?${params.toString()}`;
  };

  const values = {
    title: 'Worklist',
    current: 'worklist',
    view,
    filters: { overdue },
    views: Object.entries(VIEWS).map(([id, v]) => ({
      label: v.label,
      href: link({ view: id }),
      current: id === view,
    })),
    settingItems: [
      { value: '', text: 'All my settings' },
      ...ctx.principal.settings.map((ods) => ({ value: ods, text: ods, selected: ods === setting })),
    ],
    dueItems: Object.entries(DUE).map(([value, d]) => ({ value, text: d.text, selected: value === due })),
    fieldErrors: {} as Record<string, string>,
  };

  try {
    const result = await ctx.operations.invoke('listTasks', ctx.principal, {
      params: {},
      query,
      header: () => undefined,
    });
    const page = result.body as { items: WorklistItem[]; nextCursor: string | null };
    const today = londonDay(new Date());
    ctx.render('worklist.njk', {
      ...values,
      caption: VIEWS[view].label,
      tasks: page.items.map((t) => ({
        ...t,
        dueToday: t.dueAt !== null && londonDay(t.dueAt) === today,
        mine: t.assignee === ctx.principal.subject,
      })),
      returnTo: ctx.req.originalUrl,
      csrfToken: ctx.csrfToken,
      emptyText: setting || overdue || due ? 'No open tasks match these filters.' : VIEWS[view].empty,
      nextHref: page.nextCursor ? link({ cursor: page.nextCursor }) : null,
    });
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    // Only a changed address can hold a value the form does not offer: say which, and show the form again.
    const fieldErrors: Record<string, string> = {};
    for (const problem of error.problems) {
      const field = problem.pointer.replace(/^\/query\//, '');
      fieldErrors[field === 'cursor' ? 'setting' : field] =
        field === 'setting' ? 'Select a setting you work in' : `This link is not valid: ${problem.detail}`;
    }
    ctx.render(
      'worklist.njk',
      {
        ...values,
        tasks: [],
        emptyText: 'Change the filters and apply them again.',
        fieldErrors,
        errorSummary: Object.entries(fieldErrors).map(([field, message]) => ({ text: message, href: `#${field}` })),
      },
      400,
    );
  }
}

/** Claim a task nobody has, or give back one of one's own, from its row; then back to the same worklist. */
export function changeAssignment(kind: 'claim' | 'unclaim') {
  return async (ctx: PageContext): Promise<void> => {
    const body = ctx.req.body as Record<string, unknown>;
    const taskId = typeof body['taskId'] === 'string' ? body['taskId'] : '';
    const back = sameOriginReturnTo(body['returnTo'] ?? '/worklist');
    await ctx.operations.invoke(`${kind}Task`, ctx.principal, {
      params: { taskId },
      query: {},
      body: {},
      header: () => undefined,
    });
    ctx.redirect(back);
  };
}
