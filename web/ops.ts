/**
 * The ops console's case list (`/ops`): the four stuck-case views with their counts, a free List Filter query, the
 * team's saved searches, the cases found a page at a time, bulk actions that start with a frozen preview, and the
 * recent bulk operations; and the operations log (`/ops/log`). Every read and change is an /api/v1 operation, so
 * the policy scopes it to the person's settings and the operations log records what was done. A query the
 * visibility store refuses comes back as the NHS error summary linked to the query box, in the server's words.
 */
import { mayEver } from '../api/policy';
import { ConflictError, ValidationError, type FieldProblem } from '../domain/errors';
import type { OpsCase, OpsLogEntry } from '../engine/ops';
import { opsListQuery } from '../engine/ops';
import type { BulkOperation } from '../engine/ops-bulk';
import { DEFAULT_OPS_THRESHOLDS, type OpsView } from '../engine/ops-queries';
import type { OpsSavedSearch } from '../engine/ops-saved-searches';
import type { PageContext } from './index';
import { call, errorSummaryOf, fieldsOf, written, type FieldErrors } from './page-helpers';
import { pathwayName } from './patients';

const PAGE_SIZE = '25';

/** The views as the console names them; `all` is no view: every case the query (or nothing) finds. */
const VIEWS: Record<OpsView | 'all', { label: string; empty: string }> = {
  failing: { label: 'Failing', empty: 'No case in your settings is failing.' },
  overdue: { label: 'Overdue', empty: 'No case in your settings has a task past its due date.' },
  idle: { label: 'Idle', empty: 'No case in your settings has sat idle longer than the threshold.' },
  waiting: { label: 'Waiting for a message', empty: 'No case has waited for a message longer than the threshold.' },
  all: { label: 'All cases', empty: 'No case in your settings matches.' },
};
type View = keyof typeof VIEWS;

/** The views' thresholds a person may change (the API's query parameters of the same names). */
export const THRESHOLDS = ['failingAttempts', 'idleAfter', 'messageWaitAfter'] as const;
type Threshold = (typeof THRESHOLDS)[number];

/** What a list of the console shows: a view, a query, thresholds that differ from the defaults, a page. */
export interface OpsListState {
  readonly view: View;
  readonly query: string;
  readonly cursor: string;
  readonly thresholds: Partial<Record<Threshold, string>>;
}

/** The list a query string (or a form's hidden fields) asks for. */
export function listStateOf(source: unknown): OpsListState {
  const text = fieldsOf(source);
  const query = text('query');
  const asked = text('view');
  // A link with only a query (the heatmap's counts) means exactly those cases, in any view.
  const view: View = Object.hasOwn(VIEWS, asked) ? (asked as View) : query.trim() ? 'all' : 'failing';
  const thresholds = Object.fromEntries(
    THRESHOLDS.map((name) => [name, text(name).trim()] as const).filter(([, value]) => value !== ''),
  );
  return { view, query, cursor: text('cursor'), thresholds };
}

/** The address of a list; a cursor belongs to one page of one query, so only "Next page" carries one. */
export function opsHref(state: OpsListState, changes: Partial<OpsListState> = {}): string {
  const next = { ...state, cursor: '', ...changes };
  const params = new URLSearchParams({ view: next.view });
  if (next.query.trim()) params.set('query', next.query);
  for (const [name, value] of Object.entries(next.thresholds)) if (value) params.set(name, value);
  if (next.cursor) params.set('cursor', next.cursor);
  return `/ops?${params.toString()}`;
}

/** The heatmap of a pathway version (web/ops-pathway.ts). */
export function heatmapHref(pathwayId: string, version: number): string {
  return `/ops/pathways/${encodeURIComponent(pathwayId)}/versions/${version}`;
}

export function opsCaseHref(caseId: string, workflowId?: string): string {
  const base = `/ops/cases/${encodeURIComponent(caseId)}`;
  return workflowId && workflowId !== `case-${caseId}` ? `${base}?workflow=${encodeURIComponent(workflowId)}` : base;
}

/** Where each problem of a list's request is shown: the query box, or the threshold it is about. */
function listErrorsOf(problems: readonly FieldProblem[]): FieldErrors {
  const errors: FieldErrors = {};
  for (const problem of problems) {
    const name = problem.pointer.replace(/^\/query\//, '').replace(/^\//, '');
    if ((THRESHOLDS as readonly string[]).includes(name)) {
      errors[name] ??= `${THRESHOLD_LABELS[name as Threshold]}: ${problem.detail.replace(/"/g, '')}`;
    } else if (name === 'thresholds') {
      errors['idleAfter'] ??= problem.detail;
    } else if (name === 'cursor') {
      errors['query'] ??= 'This page of results is no longer available: search again from the first page';
    } else if (/^must /.test(problem.detail)) {
      errors['query'] ??= `The query ${problem.detail.replace(/"/g, '')}`;
    } else {
      // The visibility store's own words, which name the position (marked in the full query shown under the box).
      errors['query'] ??= `The query cannot be run: ${problem.detail}`;
    }
  }
  return errors;
}

const THRESHOLD_LABELS: Record<Threshold, string> = {
  failingAttempts: 'Failing from attempt',
  idleAfter: 'Idle after',
  messageWaitAfter: 'Waiting for a message after',
};

/** The forms of the list page, as they were sent back with their problems. */
interface ListForms {
  readonly errors: FieldErrors;
  readonly values: Record<string, string>;
}

/** `GET /ops` */
export async function opsPage(ctx: PageContext): Promise<void> {
  await renderOpsList(ctx, listStateOf(ctx.req.query), { errors: {}, values: {} }, 200);
}

async function renderOpsList(ctx: PageContext, state: OpsListState, forms: ListForms, status: number): Promise<void> {
  const listErrors: FieldErrors = {};
  const thresholdQuery: Record<string, string> = { ...state.thresholds };
  let counts: Partial<Record<OpsView, number>> = {};
  try {
    counts = ((await call(ctx, 'countOpsViews', { query: thresholdQuery })).body as { counts: typeof counts }).counts;
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    Object.assign(listErrors, listErrorsOf(error.problems));
  }
  let page: { items: OpsCase[]; nextCursor: string | null; query: string } | undefined;
  if (Object.keys(listErrors).length === 0) {
    try {
      page = (
        await call(ctx, 'listOpsCases', {
          query: {
            ...(state.view !== 'all' ? { view: state.view } : {}),
            ...(state.query.trim() ? { query: state.query } : {}),
            ...thresholdQuery,
            ...(state.cursor ? { cursor: state.cursor } : {}),
            limit: PAGE_SIZE,
          },
        })
      ).body as typeof page;
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      Object.assign(listErrors, listErrorsOf(error.problems));
    }
  }
  const mayAct = mayEver(ctx.principal, 'ops.act');
  const [savedSearches, bulkOperations] = await Promise.all([
    call(ctx, 'listOpsSavedSearches', {}).then((r) => (r.body as { items: OpsSavedSearch[] }).items),
    call(ctx, 'listBulkOperations', {}).then((r) => (r.body as { items: Omit<BulkOperation, 'cases'>[] }).items),
  ]);
  const errors = { ...listErrors, ...forms.errors };
  const listed = page !== undefined;
  const canBulk = mayAct && listed && page!.items.length > 0 && (state.view !== 'all' || state.query.trim() !== '');
  ctx.render(
    'ops.njk',
    {
      title: 'Ops console',
      current: 'ops',
      state,
      notice: noticeOf(fieldsOf(ctx.req.query)),
      views: (Object.keys(VIEWS) as View[]).map((id) => ({
        label: VIEWS[id].label,
        count: id === 'all' ? undefined : counts[id],
        href: opsHref(state, { view: id }),
        current: id === state.view,
      })),
      hidden: hiddenFieldsOf(state),
      thresholds: THRESHOLDS.map((name) => ({
        name,
        label: THRESHOLD_LABELS[name],
        value: state.thresholds[name] ?? '',
        defaultValue: String(DEFAULT_OPS_THRESHOLDS[name]),
      })),
      thresholdsOpen: Object.keys(state.thresholds).length > 0 || THRESHOLDS.some((name) => errors[name]),
      fullQuery: markedQuery(page?.query ?? attemptedQuery(ctx, state), state.query, listErrors['query']),
      cases: page?.items.map((c) => caseRowOf(c)),
      listed,
      caption:
        state.view === 'all'
          ? state.query.trim()
            ? 'Cases matching the query'
            : 'All cases in your settings'
          : `${VIEWS[state.view].label}${state.query.trim() ? ', matching the query' : ''}`,
      emptyText: state.query.trim() ? 'No case in your settings matches this query.' : VIEWS[state.view].empty,
      nextHref: page?.nextCursor ? opsHref(state, { cursor: page.nextCursor }) : undefined,
      firstHref: state.cursor ? opsHref(state) : undefined,
      savedSearches: savedSearches.length
        ? savedSearches.map((s) => ({ ...s, href: opsHref(state, { query: s.query }) }))
        : undefined,
      mayAct,
      canBulk,
      saveSearch: mayAct && state.query.trim() !== '' && !listErrors['query'],
      settingItems: ctx.principal.settings.map((ods) => ({
        value: ods,
        text: ods,
        selected: ods === (forms.values['sharedSetting'] || ctx.workingSetting),
      })),
      values: forms.values,
      bulkOperations: bulkOperations.length ? bulkOperations.slice(0, 10).map(bulkRowOf) : undefined,
      errors,
      csrfToken: ctx.csrfToken,
      // None when nothing is wrong: an empty list is still true to the templates.
      ...(Object.keys(errors).length ? { errorSummary: errorSummaryOf(errors) } : {}),
    },
    Object.keys(listErrors).length > 0 ? 400 : status,
  );
}

/** The full query a refused list would have run, so the position the server names can be found in it. */
function attemptedQuery(ctx: PageContext, state: OpsListState): string | undefined {
  try {
    return opsListQuery({
      settings: ctx.principal.settings,
      ...(state.view !== 'all' ? { view: state.view } : {}),
      query: state.query,
      thresholds: {
        failingAttempts: Number(state.thresholds.failingAttempts ?? DEFAULT_OPS_THRESHOLDS.failingAttempts),
        idleAfter: state.thresholds.idleAfter ?? DEFAULT_OPS_THRESHOLDS.idleAfter,
        messageWaitAfter: state.thresholds.messageWaitAfter ?? DEFAULT_OPS_THRESHOLDS.messageWaitAfter,
      },
    });
  } catch {
    return undefined;
  }
}

/**
 * The full query in three parts, the character at the position the server's message names (0-based, in the full
 * query or "of your query") apart, so the page can mark it; the whole query as `before` when none is named.
 */
function markedQuery(query: string | undefined, typed: string, message: string | undefined) {
  if (query === undefined) return undefined;
  const position = /at position (\d+)( of your query)?/.exec(message ?? '');
  if (!position) return { before: query, at: '', after: '' };
  // The console puts what was typed, trimmed, in parentheses within the full query.
  const offset = position[2] ? query.indexOf(`(${typed.trim()})`) + 1 : 0;
  const at = Math.min(Number(position[1]) + Math.max(0, offset), query.length);
  return { before: query.slice(0, at), at: query.slice(at, at + 1) || ' ', after: query.slice(at + 1) };
}

/** The list's view, query and thresholds as hidden fields, for the forms that keep them. */
function hiddenFieldsOf(state: OpsListState): { name: string; value: string }[] {
  return [
    { name: 'view', value: state.view },
    ...(state.query.trim() ? [{ name: 'query', value: state.query }] : []),
    ...Object.entries(state.thresholds).map(([name, value]) => ({ name, value })),
  ];
}

function caseRowOf(c: OpsCase) {
  const now = new Date().toISOString();
  return {
    ...c,
    href: opsCaseHref(c.caseId, c.workflowId),
    pathwayText: c.pathwayId ? pathwayName(c.pathwayId) : 'Unknown pathway',
    heatmapHref: c.pathwayId && c.pathwayVersion !== null ? heatmapHref(c.pathwayId, c.pathwayVersion) : undefined,
    overdue: c.overdueFrom !== null && c.overdueFrom < now,
    // Child pathways carry their case's setting, so a query can find one: its link opens it within the case.
    isChild: c.workflowId !== `case-${c.caseId}`,
    running: c.status === 'Running',
  };
}

export function bulkRowOf(operation: Omit<BulkOperation, 'cases'>) {
  return {
    ...operation,
    href: `/ops/bulk/${operation.id}`,
    actionText: operation.action === 'retry' ? 'Retry' : 'Cancel cases',
    statusText: bulkStatusText(operation),
  };
}

/** A bulk action's status in words: a cancelled one was stopped while running, or dropped as a preview. */
export function bulkStatusText(operation: Pick<BulkOperation, 'status' | 'appliedAt'>): string {
  switch (operation.status) {
    case 'previewed':
      return 'Preview, not applied';
    case 'running':
      return 'Running';
    case 'cancelled':
      return operation.appliedAt ? 'Stopped' : 'Cancelled before it was applied';
    case 'completed':
      return 'Completed';
  }
}

function noticeOf(text: (name: string) => string): string | undefined {
  if (text('saved')) return `The search ‘${text('saved')}’ is saved for the team.`;
  return undefined;
}

/** `POST /ops/saved-searches`: saves the query in the box for the team of a setting, then back to the list. */
export async function saveOpsSearchPost(ctx: PageContext): Promise<void> {
  const field = fieldsOf(ctx.req.body);
  const state = listStateOf(ctx.req.body);
  const [name, sharedSetting] = [field('name'), field('sharedSetting')];
  const errors: FieldErrors = {};
  if (name.trim() === '') errors['search-name'] = 'Enter a name for this search';
  else if (name.trim().length > 80) errors['search-name'] = 'Enter a name of 80 characters or fewer';
  if (Object.keys(errors).length === 0) {
    try {
      await call(ctx, 'saveOpsSearch', { body: { name: name.trim(), query: state.query, sharedSetting } });
      const href = opsHref(state);
      return ctx.redirect(`${href}&saved=${encodeURIComponent(name.trim())}`);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      for (const problem of error.problems) {
        if (problem.pointer === '/name') errors['search-name'] ??= `Name: ${problem.detail.replace(/"/g, '')}`;
        else if (problem.pointer === '/sharedSetting') errors['search-setting'] ??= 'Select a setting you work in';
        else Object.assign(errors, { ...listErrorsOf([problem]), ...errors });
      }
    }
  }
  await renderOpsList(ctx, state, { errors, values: { name, sharedSetting } }, 400);
}

/**
 * `POST /ops/bulk`: freezes the cases the list's view and query match now as a preview (nothing is done to them
 * yet), then shows it to be checked and applied.
 */
export async function previewBulkPost(ctx: PageContext): Promise<void> {
  const field = fieldsOf(ctx.req.body);
  const state = listStateOf(ctx.req.body);
  const action = field('action') === 'cancel' ? 'cancel' : 'retry';
  const reason = field('reason');
  const errors: FieldErrors = {};
  if (action === 'cancel' && reason.trim() === '') errors['bulk-reason'] = 'Enter why these cases are cancelled';
  if (Object.keys(errors).length === 0) {
    try {
      const { failingAttempts, ...durations } = state.thresholds;
      const preview = await call(ctx, 'previewBulkOperation', {
        body: {
          action,
          ...(state.view !== 'all' ? { view: state.view } : {}),
          ...(state.query.trim() ? { query: state.query } : {}),
          ...(action === 'cancel' ? { reason: written(reason).value } : {}),
          ...durations,
          // The body is JSON to the API: a number, where the query string's text is coerced.
          ...(failingAttempts ? { failingAttempts: Number(failingAttempts) } : {}),
        },
      });
      return ctx.redirect(`/ops/bulk/${(preview.body as BulkOperation).id}`);
    } catch (error) {
      if (error instanceof ConflictError) errors['bulk-actions'] = `${error.message}.`;
      else if (error instanceof ValidationError) {
        for (const problem of error.problems) {
          if (problem.pointer === '/reason') errors['bulk-reason'] ??= `Reason: ${problem.detail.replace(/"/g, '')}`;
          else Object.assign(errors, { ...listErrorsOf([problem]), ...errors });
        }
      } else throw error;
    }
  }
  await renderOpsList(ctx, state, { errors, values: { reason } }, errors['bulk-actions'] ? 409 : 400);
}

/** What a log entry's detail says, in a line: the reason, message, query or counts it holds. */
function detailText(detail: Record<string, unknown>): string {
  return Object.entries(detail)
    .filter(([, value]) => ['string', 'number', 'boolean'].includes(typeof value) || Array.isArray(value))
    .map(([key, value]) => `${key}: ${Array.isArray(value) ? value.join(', ') : String(value)}`)
    .join('; ');
}

const LOG_CASES_SHOWN = 5;

/** `GET /ops/log`: the operations log, newest first. */
export async function opsLogPage(ctx: PageContext): Promise<void> {
  const { items } = (await call(ctx, 'listOpsLog', { query: { limit: '100' } })).body as { items: OpsLogEntry[] };
  ctx.render('ops-log.njk', {
    title: 'Operations log',
    current: 'ops',
    entries: items.length
      ? items.map((entry) => ({
          ...entry,
          who: entry.actorName ?? entry.actorId,
          cases: entry.caseIds.slice(0, LOG_CASES_SHOWN).map((caseId) => ({ caseId, href: opsCaseHref(caseId) })),
          moreCases: Math.max(0, entry.caseIds.length - LOG_CASES_SHOWN),
          bulkHref: entry.bulkOperationId ? `/ops/bulk/${entry.bulkOperationId}` : undefined,
          detailText: detailText(entry.detail),
        }))
      : undefined,
  });
}
