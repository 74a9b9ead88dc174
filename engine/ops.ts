/**
 * The ops console's reads and single-case actions. Stuck cases are found by their stuck signals (search attributes
 * the case workflow keeps: workflows/pathway/stuck-signals.ts) through the Temporal visibility API, so the console
 * sees the engine's own state, as fresh as the workflow's last step, on the embedded server and on a cluster
 * alike. What ops see is engine state: where a case is, its activities, timers, history events and errors; never
 * form answers, variables or message contents (the history page shows event types and names, not payloads).
 */
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { decodeTypedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import { temporal } from '@temporalio/proto';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors';
import { STUCK_SIGNAL_KEYS } from '../workflows/pathway/stuck-signals';
import type { PathwayView } from '../workflows/pathway';
import { STATE_QUERY, type CaseEngine } from './case-engine';
import { knexOf } from './case-settings';
import {
  childWorkflowsCondition,
  DEFAULT_OPS_THRESHOLDS,
  OPS_VIEWS,
  scopedQuery,
  viewCondition,
  type OpsThresholds,
  type OpsView,
} from './ops-queries';
import type { Page } from './paging';

/** A case as the console lists it: its engine state and stuck signals, nothing about the person. */
export interface OpsCase {
  readonly caseId: string;
  readonly workflowId: string;
  readonly runId: string;
  /** The workflow's status: Running, Completed, Failed, Canceled, Terminated, TimedOut, ContinuedAsNew. */
  readonly status: string;
  readonly startedAt: string | null;
  readonly closedAt: string | null;
  readonly pathwayId: string | null;
  readonly pathwayVersion: number | null;
  readonly setting: string | null;
  readonly currentElements: string[];
  readonly waitingSince: string | null;
  readonly nextDueAt: string | null;
  readonly overdueFrom: string | null;
  readonly openTaskCount: number;
  readonly openIncidentCount: number;
  readonly failingAttempts: number;
  readonly lastErrorType: string | null;
}

export interface OpsCaseQuery {
  /** The settings the person works in: the console shows their cases only. */
  readonly settings: readonly string[];
  readonly view?: OpsView;
  /** A List Filter condition an operator typed (ANDed with the view and the scope). */
  readonly query?: string;
  readonly thresholds?: OpsThresholds;
  readonly limit: number;
  readonly cursor?: string;
}

const STATUS_NAMES: Record<number, string> = {
  1: 'Running',
  2: 'Completed',
  3: 'Failed',
  4: 'Canceled',
  5: 'Terminated',
  6: 'ContinuedAsNew',
  7: 'TimedOut',
};
const statusName = (status: number | null | undefined) => STATUS_NAMES[status ?? 0] ?? 'Unknown';

function instant(ts: { seconds?: unknown; nanos?: number | null } | null | undefined): string | null {
  if (!ts || (!ts.seconds && !ts.nanos)) return null;
  return new Date(Number(ts.seconds ?? 0) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6)).toISOString();
}

const namespaceOf = (engine: CaseEngine) => engine.client.options.namespace;

/** The case id of a case workflow (`case-<id>`, or a child pathway's `case-<id>/...`). */
export function caseIdOfWorkflow(workflowId: string): string {
  return workflowId.replace(/^case-/, '').split('/')[0] ?? workflowId;
}

export function opsCaseOf(info: temporal.api.workflow.v1.IWorkflowExecutionInfo): OpsCase {
  const attributes = decodeTypedSearchAttributes(info.searchAttributes?.indexedFields);
  const k = STUCK_SIGNAL_KEYS;
  const date = (value: Date | undefined) => (value ? value.toISOString() : null);
  const workflowId = info.execution?.workflowId ?? '';
  return {
    caseId: caseIdOfWorkflow(workflowId),
    workflowId,
    runId: info.execution?.runId ?? '',
    status: statusName(info.status),
    startedAt: instant(info.startTime),
    closedAt: instant(info.closeTime),
    pathwayId: attributes.get(k.PathwayId) ?? null,
    pathwayVersion: attributes.get(k.PathwayVersion) ?? null,
    setting: attributes.get(k.CaseSetting) ?? null,
    currentElements: attributes.get(k.CurrentElements) ?? [],
    waitingSince: date(attributes.get(k.WaitingSince)),
    nextDueAt: date(attributes.get(k.NextDueAt)),
    overdueFrom: date(attributes.get(k.OverdueFrom)),
    openTaskCount: attributes.get(k.OpenTaskCount) ?? 0,
    openIncidentCount: attributes.get(k.OpenIncidentCount) ?? 0,
    failingAttempts: attributes.get(k.FailingAttempts) ?? 0,
    lastErrorType: attributes.get(k.LastErrorType) ?? null,
  };
}

/**
 * A query the visibility store refused (a typo in the free query box) is the operator's to fix: a 400 on `query`,
 * with the position counted in what they typed rather than in the full query the console ran.
 */
export function refusedQuery(error: unknown, fullQuery: string, typed: string | undefined): unknown {
  // The SDK's own calls wrap the gRPC error (ServiceError, with it as the cause); the raw service throws it.
  const grpc = (error as { code?: number }).code === undefined ? (error as { cause?: unknown }).cause : error;
  if ((grpc as { code?: number } | undefined)?.code !== 3) return error;
  let detail = (grpc as { details?: string }).details ?? (error instanceof Error ? error.message : String(error));
  const offset = typed?.trim() ? fullQuery.indexOf(`(${typed.trim()})`) + 1 : -1;
  detail = detail.replace(/\(at position (\d+)\)/, (whole, position: string) => {
    const within = Number(position) - offset;
    return offset > 0 && within >= 0 && within <= (typed?.trim().length ?? 0)
      ? `(at position ${within} of your query)`
      : whole;
  });
  return new ValidationError(`The query cannot be run: ${detail}`, [{ pointer: '/query', detail }]);
}

/** The full List Filter query of a list: scope, view, the operator's condition; newest case first. */
export function opsListQuery(query: Pick<OpsCaseQuery, 'settings' | 'view' | 'query' | 'thresholds'>): string {
  const conditions = [
    ...(query.view ? [viewCondition(query.view, query.thresholds ?? DEFAULT_OPS_THRESHOLDS)] : []),
    ...(query.query?.trim() ? [`(${query.query.trim()})`] : []),
  ];
  return scopedQuery(query.settings, conditions.join(' AND ') || undefined);
}

/** One page of cases matching a view and/or a query, in the person's settings. */
export async function listOpsCases(engine: CaseEngine, query: OpsCaseQuery): Promise<Page<OpsCase>> {
  let response: temporal.api.workflowservice.v1.IListWorkflowExecutionsResponse;
  const fullQuery = opsListQuery(query);
  try {
    response = await engine.client.workflowService.listWorkflowExecutions({
      namespace: namespaceOf(engine),
      query: fullQuery,
      pageSize: query.limit,
      ...(query.cursor ? { nextPageToken: Buffer.from(query.cursor, 'base64url') } : {}),
    });
  } catch (error) {
    throw refusedQuery(error, fullQuery, query.query);
  }
  const token = response.nextPageToken;
  return {
    items: (response.executions ?? []).map(opsCaseOf),
    nextCursor: token && token.length > 0 ? Buffer.from(token).toString('base64url') : null,
  };
}

/** How many cases each view finds in the person's settings. */
export async function countOpsViews(
  engine: CaseEngine,
  settings: readonly string[],
  thresholds: OpsThresholds = DEFAULT_OPS_THRESHOLDS,
): Promise<Record<OpsView, number>> {
  const counts = await Promise.all(
    OPS_VIEWS.map(async (view) => {
      const { count } = await engine.client.workflow.count(scopedQuery(settings, viewCondition(view, thresholds)));
      return [view, count] as const;
    }),
  );
  return Object.fromEntries(counts) as Record<OpsView, number>;
}

/** How many cases a free query finds, or the query's problem. */
export async function countOpsQuery(
  engine: CaseEngine,
  settings: readonly string[],
  condition: string,
): Promise<number> {
  const fullQuery = scopedQuery(settings, condition);
  try {
    return (await engine.client.workflow.count(fullQuery)).count;
  } catch (error) {
    throw refusedQuery(error, fullQuery, condition);
  }
}

export interface OpsPendingActivity {
  readonly activityId: string;
  readonly activityType: string;
  /** Scheduled, Started or CancelRequested. */
  readonly state: string;
  readonly attempt: number;
  /** 0: no limit. */
  readonly maximumAttempts: number;
  readonly nextAttemptAt: string | null;
  readonly lastStartedAt: string | null;
  readonly lastFailure: { readonly message: string; readonly type: string | null } | null;
}

export interface OpsJourneyNode {
  readonly workflowId: string;
  readonly pathwayId: string | null;
  readonly status: string;
  readonly children: OpsJourneyNode[];
}

export interface OpsCaseDetail extends OpsCase {
  readonly pendingActivities: OpsPendingActivity[];
  readonly historyLength: number;
  /** What the workflow says of itself; null when its worker did not answer (it is shown as such, not guessed). */
  readonly state: {
    readonly status: string;
    readonly activeElements: PathwayView['activeElements'];
    readonly timers: PathwayView['pendingTimers'];
    readonly messageSubscriptions: { readonly elementId: string; readonly messageName: string }[];
    readonly incidents: { id: string; elementId: string; errorCode: string; message: string; raisedAt: string }[];
  } | null;
  readonly stateUnavailable: string | null;
  /** The case's workflow and every child pathway it started, nested by workflow id. */
  readonly journey: OpsJourneyNode;
}

const ACTIVITY_STATES: Record<number, string> = { 1: 'Scheduled', 2: 'Started', 3: 'CancelRequested', 4: 'Paused' };

/** How long the console waits for the workflow's own account of itself before showing the rest without it. */
const STATE_QUERY_TIMEOUT_MS = 3_000;

async function describeWorkflow(engine: CaseEngine, workflowId: string) {
  try {
    return await engine.client.workflowService.describeWorkflowExecution({
      namespace: namespaceOf(engine),
      execution: { workflowId },
    });
  } catch (error) {
    if ((error as { code?: number }).code === 5 || error instanceof WorkflowNotFoundError)
      throw new NotFoundError(`No workflow ${workflowId} is known to the workflow engine`);
    throw error;
  }
}

/** The journey tree: child pathways' ids extend their parent's (`<parent>/<call activity instance>`). */
async function journeyOf(engine: CaseEngine, root: OpsCase): Promise<OpsJourneyNode> {
  const nodes = new Map<string, OpsJourneyNode>();
  const rootNode: OpsJourneyNode = {
    workflowId: root.workflowId,
    pathwayId: root.pathwayId,
    status: root.status,
    children: [],
  };
  nodes.set(root.workflowId, rootNode);
  const descendants: OpsCase[] = [];
  for await (const info of engine.client.workflow.list({
    query: `${childWorkflowsCondition(root.workflowId)} ORDER BY StartTime ASC`,
  })) {
    descendants.push(opsCaseOf(info.raw));
    if (descendants.length >= 500) break;
  }
  for (const child of descendants.sort((a, b) => a.workflowId.length - b.workflowId.length)) {
    const node: OpsJourneyNode = {
      workflowId: child.workflowId,
      pathwayId: child.pathwayId,
      status: child.status,
      children: [],
    };
    nodes.set(child.workflowId, node);
    const parentId = child.workflowId.slice(0, child.workflowId.lastIndexOf('/'));
    // A retried call activity's child ends in `/<n>`: it hangs under the nearest workflow that exists.
    let parent: OpsJourneyNode | undefined;
    for (let id = parentId; id.length > 0 && !parent; id = id.slice(0, Math.max(0, id.lastIndexOf('/'))))
      parent = nodes.get(id);
    (parent ?? rootNode).children.push(node);
  }
  return rootNode;
}

/** One case (or child pathway) as ops see it. */
export async function describeOpsCase(engine: CaseEngine, workflowId: string): Promise<OpsCaseDetail> {
  const described = await describeWorkflow(engine, workflowId);
  const info = described.workflowExecutionInfo ?? {};
  const summary = opsCaseOf(info);
  const pendingActivities = (described.pendingActivities ?? []).map((activity): OpsPendingActivity => ({
    activityId: activity.activityId ?? '',
    activityType: activity.activityType?.name ?? '',
    state: ACTIVITY_STATES[activity.state ?? 0] ?? 'Unknown',
    attempt: activity.attempt ?? 1,
    maximumAttempts: activity.maximumAttempts ?? 0,
    nextAttemptAt: instant(activity.nextAttemptScheduleTime),
    lastStartedAt: instant(activity.lastStartedTime),
    lastFailure: activity.lastFailure
      ? {
          message: activity.lastFailure.message ?? '',
          type: activity.lastFailure.applicationFailureInfo?.type ?? null,
        }
      : null,
  }));
  let state: OpsCaseDetail['state'] = null;
  let stateUnavailable: string | null = null;
  if (summary.status === 'Running') {
    try {
      const view = await Promise.race([
        engine.client.workflow.getHandle(workflowId).query<PathwayView>(STATE_QUERY),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('the worker did not answer in time')), STATE_QUERY_TIMEOUT_MS).unref(),
        ),
      ]);
      state = {
        status: view.status,
        activeElements: view.activeElements,
        timers: view.pendingTimers,
        messageSubscriptions: view.messageSubscriptions.map(({ elementId, messageName }) => ({
          elementId,
          messageName,
        })),
        incidents: view.incidents
          .filter((incident) => !incident.resolution)
          .map(({ id, elementId, errorCode, message, raisedAt }) => ({ id, elementId, errorCode, message, raisedAt })),
      };
    } catch (error) {
      stateUnavailable = error instanceof Error ? error.message : String(error);
    }
  }
  return {
    ...summary,
    pendingActivities,
    historyLength: Number(info.historyLength ?? 0),
    state,
    stateUnavailable,
    journey: await journeyOf(engine, summary),
  };
}

export interface OpsHistoryEvent {
  readonly eventId: number;
  readonly time: string | null;
  /** e.g. ActivityTaskScheduled. */
  readonly type: string;
  /** Names only (activity type, timer, signal, update, marker, child workflow), never a payload. */
  readonly detail: string | null;
}

const EVENT_TYPE_NAMES = temporal.api.enums.v1.EventType;

function eventTypeName(type: number | null | undefined): string {
  const name = EVENT_TYPE_NAMES[type ?? 0] ?? 'EVENT_TYPE_UNSPECIFIED';
  return name
    .replace(/^EVENT_TYPE_/, '')
    .toLowerCase()
    .replace(/(^|_)([a-z])/g, (_, _sep: string, letter: string) => letter.toUpperCase());
}

function eventDetail(event: temporal.api.history.v1.IHistoryEvent): string | null {
  const scheduled = event.activityTaskScheduledEventAttributes;
  if (scheduled) return `${scheduled.activityType?.name ?? ''} (activity ${scheduled.activityId ?? ''})`;
  const failed = event.activityTaskFailedEventAttributes;
  if (failed) return failed.failure?.applicationFailureInfo?.type ?? failed.failure?.message ?? null;
  const timer = event.timerStartedEventAttributes;
  if (timer) return `timer ${timer.timerId ?? ''}`;
  const signal = event.workflowExecutionSignaledEventAttributes;
  if (signal) return signal.signalName ?? null;
  const accepted = event.workflowExecutionUpdateAcceptedEventAttributes;
  if (accepted) return accepted.acceptedRequest?.input?.name ?? null;
  const marker = event.markerRecordedEventAttributes;
  if (marker) return marker.markerName ?? null;
  const child = event.startChildWorkflowExecutionInitiatedEventAttributes;
  if (child) return child.workflowId ?? null;
  const upsert = event.upsertWorkflowSearchAttributesEventAttributes;
  if (upsert) return Object.keys(upsert.searchAttributes?.indexedFields ?? {}).join(', ');
  const taskFailed = event.workflowTaskFailedEventAttributes;
  if (taskFailed) return taskFailed.failure?.message ?? null;
  const wfFailed = event.workflowExecutionFailedEventAttributes;
  if (wfFailed) return wfFailed.failure?.applicationFailureInfo?.type ?? wfFailed.failure?.message ?? null;
  const terminated = event.workflowExecutionTerminatedEventAttributes;
  if (terminated) return terminated.reason ?? null;
  return null;
}

/** A page of a workflow's history, oldest first: a 20,000-event history is read a page at a time. */
export async function opsHistoryPage(
  engine: CaseEngine,
  workflowId: string,
  page: { limit: number; cursor?: string },
): Promise<Page<OpsHistoryEvent>> {
  let response: temporal.api.workflowservice.v1.IGetWorkflowExecutionHistoryResponse;
  try {
    response = await engine.client.workflowService.getWorkflowExecutionHistory({
      namespace: namespaceOf(engine),
      execution: { workflowId },
      maximumPageSize: page.limit,
      ...(page.cursor ? { nextPageToken: Buffer.from(page.cursor, 'base64url') } : {}),
    });
  } catch (error) {
    const code = (error as { code?: number }).code;
    if (code === 5) throw new NotFoundError(`No workflow ${workflowId} is known to the workflow engine`);
    if (code === 3)
      throw new ValidationError('The page cursor is not valid', [
        { pointer: '/cursor', detail: 'is not a cursor this history gave' },
      ]);
    throw error;
  }
  const token = response.nextPageToken;
  return {
    items: (response.history?.events ?? []).map((event) => ({
      eventId: Number(event.eventId ?? 0),
      time: instant(event.eventTime),
      type: eventTypeName(event.eventType),
      detail: eventDetail(event),
    })),
    nextCursor: token && token.length > 0 ? Buffer.from(token).toString('base64url') : null,
  };
}

/** Who acted, for the operations log. */
export interface OpsActor {
  readonly id: string;
  readonly name?: string;
  readonly requestId?: string | null;
  /** The settings they act in: the log entry belongs to those, and only their ops read it. */
  readonly settings: readonly string[];
}

export interface OpsLogEntry {
  readonly id: string;
  readonly occurredAt: string;
  readonly actorId: string;
  readonly actorName: string | null;
  readonly action: string;
  readonly caseIds: string[];
  readonly bulkOperationId: string | null;
  readonly outcome: string;
  readonly detail: Record<string, unknown>;
}

/** Appends to the operations log (append-only: the database refuses changes and deletions). */
export async function logOpsAction(
  engine: CaseEngine,
  actor: OpsActor,
  entry: {
    action: string;
    caseIds: readonly string[];
    outcome: string;
    detail?: Record<string, unknown>;
    bulkOperationId?: string;
  },
): Promise<void> {
  await knexOf(engine.store)('ops_log').insert({
    id: randomUUID(),
    actor_id: actor.id,
    actor_name: actor.name ?? null,
    action: entry.action,
    case_ids: [...entry.caseIds],
    bulk_operation_id: entry.bulkOperationId ?? null,
    outcome: entry.outcome,
    detail: JSON.stringify(entry.detail ?? {}),
    request_id: actor.requestId ?? null,
    settings: [...actor.settings],
  });
}

/** The latest entries of the operations log, newest first, of actions taken in any of the given settings. */
export async function listOpsLog(
  engine: CaseEngine,
  settings: readonly string[],
  page: { limit: number; before?: string },
): Promise<OpsLogEntry[]> {
  const q = knexOf(engine.store)('ops_log')
    .whereRaw('settings && ?::text[]', [[...settings]])
    .orderBy('occurred_at', 'desc')
    .limit(page.limit);
  if (page.before) q.where('occurred_at', '<', page.before);
  const rows = await q.select<
    {
      id: string;
      occurred_at: Date;
      actor_id: string;
      actor_name: string | null;
      action: string;
      case_ids: string[];
      bulk_operation_id: string | null;
      outcome: string;
      detail: Record<string, unknown>;
    }[]
  >('*');
  return rows.map((row) => ({
    id: row.id,
    occurredAt: new Date(row.occurred_at).toISOString(),
    actorId: row.actor_id,
    actorName: row.actor_name,
    action: row.action,
    caseIds: row.case_ids,
    bulkOperationId: row.bulk_operation_id,
    outcome: row.outcome,
    detail: row.detail,
  }));
}

/**
 * Retries failing activities of a workflow now: each pending activity that has failed at least once (or the one
 * named) starts a new attempt at once, with its attempts counted from 1 again (Temporal's ResetActivity), instead
 * of waiting out its retry backoff. Returns the activity ids retried; a ConflictError when none was failing.
 */
export async function retryFailingActivities(
  engine: CaseEngine,
  workflowId: string,
  activityId?: string,
): Promise<string[]> {
  const described = await describeWorkflow(engine, workflowId);
  const failing = (described.pendingActivities ?? []).filter((activity) =>
    activityId === undefined ? (activity.attempt ?? 1) > 1 || activity.lastFailure : activity.activityId === activityId,
  );
  if (failing.length === 0) {
    throw activityId === undefined
      ? new ConflictError(`No activity of ${workflowId} is failing`)
      : new NotFoundError(`No pending activity ${activityId} in ${workflowId}`);
  }
  for (const activity of failing) {
    await engine.client.workflowService.resetActivity({
      namespace: namespaceOf(engine),
      execution: { workflowId },
      id: activity.activityId,
      identity: 'throughcare-ops',
      resetHeartbeat: true,
    });
  }
  return failing.map((activity) => activity.activityId ?? '');
}
