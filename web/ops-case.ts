/**
 * A case as ops see it (`/ops/cases/{caseId}`, `?workflow=` for one of its child pathways): its engine status and
 * stuck signals, where it is, pending activities (each with "Retry now"), timers, open incidents (linked to the task
 * that resolves them), the journey tree, and forms to deliver a message, cancel it with a reason and reassign its
 * open tasks. Its event history is a page of its own (`/history`), read 100 events at a time only when asked for, so
 * a 20,000-event history costs nothing here. No clinical content: the API gives engine state only.
 */
import { mayEver } from '../api/policy';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors';
import { worklistTaskId } from '../domain/worklist-task-id';
import type { OpsCaseDetail, OpsHistoryEvent, OpsJourneyNode } from '../engine/ops';
import type { PageContext } from './index';
import { heatmapHref, opsCaseHref } from './ops';
import { call, errorSummaryOf, fieldErrorsOf, fieldsOf, written, type FieldErrors } from './page-helpers';
import { pathwayName } from './patients';
import { taskPath } from './task';

const HISTORY_PAGE = '100';

/** "7 Dec 2026, 21:12:54": events a second apart are told apart, in London time as every page shows it. */
const eventTime = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** The API's answer: the case's summary apart from its details. */
interface OpsCaseAnswer extends Pick<
  OpsCaseDetail,
  'pendingActivities' | 'historyLength' | 'state' | 'stateUnavailable' | 'journey'
> {
  readonly case: Omit<OpsCaseDetail, 'pendingActivities' | 'historyLength' | 'state' | 'stateUnavailable' | 'journey'>;
}

function caseIdOf(ctx: PageContext): string {
  return String(ctx.req.params['caseId'] ?? '');
}

/** The workflow asked for: the case's own unless a child pathway's id is given (the API checks it is this case's). */
function workflowOf(ctx: PageContext, source: unknown = ctx.req.query): string | undefined {
  const asked = fieldsOf(source)('workflow') || fieldsOf(source)('workflowId');
  return asked || undefined;
}

/** A malformed case id or workflow is a page that does not exist, as the operation's 400 would be to a person. */
function notFoundFor(error: unknown, caseId: string): unknown {
  return error instanceof ValidationError ? new NotFoundError(`No case ${caseId}`) : error;
}

const NOTICES: Record<string, (text: (name: string) => string) => string> = {
  retried: (text) => `Retried now: activity ${text('activity')}. It starts a new attempt at once, counted from 1.`,
  message: (text) =>
    text('outcome') === 'correlated'
      ? `The message ${text('name')} was delivered and caught.`
      : `The message ${text('name')} is kept for the case until it waits for it (${text('outcome')}).`,
  cancelled: () => 'The case is cancelled: its open tasks and incidents are withdrawn, with the reason.',
  reassigned: (text) => `${text('tasks')} open task(s) reassigned to ${text('assignee')}.`,
};

/** What a form sent back holds: values and messages by field id. */
interface FormState {
  readonly values: Record<string, string>;
  readonly errors: FieldErrors;
}

/** `GET /ops/cases/:caseId` */
export async function opsCasePage(ctx: PageContext): Promise<void> {
  await renderOpsCase(ctx, workflowOf(ctx), { values: {}, errors: {} }, 200);
}

async function renderOpsCase(
  ctx: PageContext,
  workflow: string | undefined,
  form: FormState,
  status: number,
): Promise<void> {
  const caseId = caseIdOf(ctx);
  const detail = (
    await call(ctx, 'describeOpsCase', { params: { caseId }, query: workflow ? { workflow } : {} }).catch(
      (error: unknown) => {
        throw notFoundFor(error, caseId);
      },
    )
  ).body as OpsCaseAnswer;
  const summary = detail.case;
  const rootWorkflow = `case-${caseId}`;
  const isChild = summary.workflowId !== rootWorkflow;
  const names = new Map((detail.state?.activeElements ?? []).map((e) => [e.elementId, e.name ?? e.elementId]));
  const text = fieldsOf(ctx.req.query);
  const notice = NOTICES[text('done')]?.(text);
  const running = summary.status === 'Running';
  ctx.render(
    'ops-case.njk',
    {
      title: isChild ? `Child pathway of case ${caseId}` : `Case ${caseId}`,
      current: 'ops',
      caseId,
      summary,
      isChild,
      running,
      notice,
      pathwayText: summary.pathwayId ? pathwayName(summary.pathwayId) : 'Unknown pathway',
      heatmapHref:
        summary.pathwayId && summary.pathwayVersion !== null
          ? heatmapHref(summary.pathwayId, summary.pathwayVersion)
          : undefined,
      state: detail.state,
      stateUnavailable: detail.stateUnavailable,
      activeElements: detail.state?.activeElements.length ? detail.state.activeElements : undefined,
      pendingActivities: detail.pendingActivities.length ? detail.pendingActivities : undefined,
      timers: detail.state?.timers.length ? detail.state.timers : undefined,
      subscriptions: detail.state?.messageSubscriptions.length
        ? detail.state.messageSubscriptions.map((s) => ({ ...s, elementName: names.get(s.elementId) ?? s.elementId }))
        : undefined,
      incidents: detail.state?.incidents.length
        ? detail.state.incidents.map((incident) => ({
            ...incident,
            elementName: names.get(incident.elementId) ?? incident.elementId,
            // The incident's worklist task resolves it: its id is the workflow's id and the incident's.
            taskHref: taskPath(worklistTaskId(summary.workflowId, incident.id)),
          }))
        : undefined,
      journey: journeyOf(detail.journey, caseId, summary.workflowId),
      historyLength: detail.historyLength,
      historyHref: `${opsCaseHref(caseId)}/history${isChild ? `?workflow=${encodeURIComponent(summary.workflowId)}` : ''}`,
      base: `/ops/cases/${encodeURIComponent(caseId)}`,
      workflowId: summary.workflowId,
      mayAct: mayEver(ctx.principal, 'ops.act'),
      values: form.values,
      errors: form.errors,
      csrfToken: ctx.csrfToken,
      ...(Object.keys(form.errors).length ? { errorSummary: errorSummaryOf(form.errors) } : {}),
    },
    status,
  );
}

interface JourneyItem {
  readonly workflowId: string;
  readonly label: string;
  readonly status: string;
  readonly href: string;
  readonly current: boolean;
  readonly children?: JourneyItem[];
}

/** The journey tree as the view's nested list: each workflow a link to itself on this page. */
function journeyOf(node: OpsJourneyNode, caseId: string, shown: string): JourneyItem {
  return {
    workflowId: node.workflowId,
    label: node.pathwayId ? pathwayName(node.pathwayId) : node.workflowId,
    status: node.status,
    href: opsCaseHref(caseId, node.workflowId),
    current: node.workflowId === shown,
    ...(node.children.length ? { children: node.children.map((child) => journeyOf(child, caseId, shown)) } : {}),
  };
}

/** `GET /ops/cases/:caseId/history`: 100 events a page, oldest first, "Next page" with the engine's cursor. */
export async function opsHistoryPage(ctx: PageContext): Promise<void> {
  const caseId = caseIdOf(ctx);
  const text = fieldsOf(ctx.req.query);
  const workflow = workflowOf(ctx);
  const cursor = text('cursor');
  const query = (withCursor: boolean) => ({
    params: { caseId },
    query: { limit: HISTORY_PAGE, ...(workflow ? { workflow } : {}), ...(withCursor && cursor ? { cursor } : {}) },
  });
  const page = (
    await call(ctx, 'getOpsCaseHistory', query(true))
      .catch((error: unknown) => {
        // A page link changed by hand: the first page instead.
        if (error instanceof ValidationError && cursor) return call(ctx, 'getOpsCaseHistory', query(false));
        throw error;
      })
      .catch((error: unknown) => {
        throw notFoundFor(error, caseId);
      })
  ).body as { items: OpsHistoryEvent[]; nextCursor: string | null };
  const base = `${opsCaseHref(caseId)}/history`;
  const href = (next: string | undefined) => {
    const params = new URLSearchParams();
    if (workflow) params.set('workflow', workflow);
    if (next) params.set('cursor', next);
    return params.size ? `${base}?${params.toString()}` : base;
  };
  ctx.render('ops-history.njk', {
    title: `Event history of case ${caseId}`,
    current: 'ops',
    caseId,
    workflow: workflow ?? `case-${caseId}`,
    caseHref: opsCaseHref(caseId, workflow),
    events: page.items.length
      ? page.items.map((event) => ({ ...event, timeText: event.time ? eventTime.format(new Date(event.time)) : '' }))
      : undefined,
    nextHref: page.nextCursor ? href(page.nextCursor) : undefined,
    firstHref: cursor ? href(undefined) : undefined,
  });
}

/**
 * An action's post: run the operation; a refusal (a field the operation refuses, a conflict such as a closed case)
 * shows the case again with what was entered and the error summary; success goes back to the case with a notice.
 */
async function act(
  ctx: PageContext,
  values: Record<string, string>,
  run: () => Promise<Record<string, string>>,
  fields: Parameters<typeof fieldErrorsOf>[1],
  fallback: string,
): Promise<void> {
  const caseId = caseIdOf(ctx);
  const workflow = workflowOf(ctx, ctx.req.body);
  let notice: Record<string, string>;
  try {
    notice = await run();
  } catch (error) {
    if (error instanceof ValidationError && error.problems.some((p) => p.pointer.startsWith('/path/')))
      throw new NotFoundError(`No case ${caseId}`);
    const errors: FieldErrors =
      error instanceof ValidationError
        ? fieldErrorsOf(error.problems, fields, fallback)
        : error instanceof ConflictError || error instanceof NotFoundError
          ? { [fallback]: error.message }
          : {};
    if (Object.keys(errors).length === 0) throw error;
    return renderOpsCase(ctx, workflow, { values, errors }, error instanceof ValidationError ? 400 : 409);
  }
  const params = new URLSearchParams({ ...(workflow ? { workflow } : {}), ...notice });
  ctx.redirect(`/ops/cases/${encodeURIComponent(caseId)}?${params.toString()}`);
}

/** `POST /ops/cases/:caseId/retry`: one pending activity starts a new attempt now. */
export async function retryOpsPost(ctx: PageContext): Promise<void> {
  const field = fieldsOf(ctx.req.body);
  const [workflowId, activityId, activityType] = [field('workflowId'), field('activityId'), field('activityType')];
  await act(
    ctx,
    {},
    async () => {
      const result = await call(ctx, 'retryOpsCase', {
        params: { caseId: caseIdOf(ctx) },
        body: { ...(workflowId ? { workflowId } : {}), ...(activityId ? { activityId } : {}) },
      });
      const { retried } = result.body as { retried: string[] };
      // The form names the activity's type for the notice; the API answers with the ids it retried.
      return {
        done: 'retried',
        activity: activityType ? `${activityType} (${retried.join(', ')})` : retried.join(', '),
      };
    },
    {},
    'pending-activities',
  );
}

/** `POST /ops/cases/:caseId/messages` */
export async function messageOpsPost(ctx: PageContext): Promise<void> {
  const field = fieldsOf(ctx.req.body);
  const [name, correlationKey] = [field('name'), field('correlationKey')];
  await act(
    ctx,
    { 'message-name': name, 'message-key': correlationKey },
    async () => {
      const result = await call(ctx, 'deliverOpsMessage', {
        params: { caseId: caseIdOf(ctx) },
        body: {
          ...(written(name).value ? { name: name.trim() } : {}),
          ...(written(correlationKey).value ? { correlationKey: correlationKey.trim() } : {}),
        },
      });
      const { outcome } = result.body as { outcome: string };
      return { done: 'message', name: name.trim(), outcome };
    },
    {
      '/name': { id: 'message-name', label: 'Message name', missing: 'Enter the name of the message' },
      '/correlationKey': { id: 'message-key', label: 'Correlation key' },
    },
    'message-name',
  );
}

/** `POST /ops/cases/:caseId/cancel` */
export async function cancelOpsPost(ctx: PageContext): Promise<void> {
  const reason = fieldsOf(ctx.req.body)('reason');
  await act(
    ctx,
    { 'cancel-reason': reason },
    async () => {
      await call(ctx, 'cancelOpsCase', {
        params: { caseId: caseIdOf(ctx) },
        body: written(reason).value ? { reason: reason.trim() } : {},
      });
      return { done: 'cancelled' };
    },
    { '/reason': { id: 'cancel-reason', label: 'Reason', missing: 'Enter why the case is cancelled' } },
    'cancel-reason',
  );
}

/** `POST /ops/cases/:caseId/reassign`: every open task of the case to one person (by their subject). */
export async function reassignOpsPost(ctx: PageContext): Promise<void> {
  const assignee = fieldsOf(ctx.req.body)('assignee');
  await act(
    ctx,
    { 'reassign-assignee': assignee },
    async () => {
      const result = await call(ctx, 'reassignOpsCase', {
        params: { caseId: caseIdOf(ctx) },
        body: written(assignee).value ? { assignee: assignee.trim() } : {},
      });
      const { detail } = result.body as { detail?: { tasks?: number } };
      return { done: 'reassigned', tasks: String(detail?.tasks ?? 0), assignee: assignee.trim() };
    },
    {
      '/assignee': {
        id: 'reassign-assignee',
        label: 'Person',
        missing: 'Enter the person’s subject, like mailto:sam.patel@demo.throughcare.test',
      },
    },
    'reassign-assignee',
  );
}
