/**
 * The ops console's operations (engine/ops.ts, ops-bulk.ts, ops-saved-searches.ts): views of stuck cases with their
 * counts, a case's engine state and history, acting on a case (retry now, deliver a message, cancel, reassign its
 * tasks), bulk actions on a frozen preview, the operations log and the team's saved searches. Everything is scoped
 * to the settings the person works in; reading or changing one case is audited as an access to that case, and
 * every action is also written to the operations log.
 */
import { ThroughcareError, ValidationError } from '../../domain/errors';
import { changeTaskAssignment, listTasks, messageCase, terminateCase, workflowIdOf } from '../../engine';
import {
  countOpsViews,
  describeOpsCase,
  listOpsCases,
  listOpsLog,
  logOpsAction,
  opsHistoryPage,
  opsListQuery,
  retryFailingActivities,
  type OpsActor,
} from '../../engine/ops';
import {
  applyBulkOperation,
  cancelBulkOperation,
  getBulkOperation,
  listBulkOperations,
  previewBulkOperation,
  type BulkAction,
} from '../../engine/ops-bulk';
import { DEFAULT_OPS_THRESHOLDS, type OpsThresholds, type OpsView } from '../../engine/ops-queries';
import { migrateCases } from '../../engine/ops-migration';
import { listOpsSavedSearches, saveOpsSearch } from '../../engine/ops-saved-searches';
import { authorize, roleFor, type Action } from '../policy';
import {
  actorOf,
  caseIdParam,
  decideOnCase,
  pageOf,
  requireRole,
  type RouteContext,
  type RouteSpec,
  withQueryPointers,
} from './operation';
import { pathwayIdParam } from './pathways.schemas';
import { PARAMETER_SCHEMAS } from './schemas';

/** The console's lists are asked about the settings one works in (a role without it, or no setting: 403). */
function allowOps(ctx: RouteContext, action: Action): void {
  requireRole(ctx.principal, action);
  const decision = authorize(ctx.principal, action, { settings: ctx.principal.settings });
  if (!decision.allowed) throw new ThroughcareError('FORBIDDEN', decision.reason);
}

function opsActor(ctx: RouteContext): OpsActor {
  return {
    id: ctx.principal.subject,
    name: ctx.principal.name,
    requestId: ctx.requestId,
    settings: ctx.principal.settings,
  };
}

function thresholdsOf(source: Record<string, unknown>): OpsThresholds {
  return {
    failingAttempts:
      typeof source['failingAttempts'] === 'number'
        ? source['failingAttempts']
        : DEFAULT_OPS_THRESHOLDS.failingAttempts,
    idleAfter: typeof source['idleAfter'] === 'string' ? source['idleAfter'] : DEFAULT_OPS_THRESHOLDS.idleAfter,
    messageWaitAfter:
      typeof source['messageWaitAfter'] === 'string'
        ? source['messageWaitAfter']
        : DEFAULT_OPS_THRESHOLDS.messageWaitAfter,
  };
}

/** The workflow of the case a request names: its own, or one of its child pathways (never another case's). */
function workflowOf(caseId: string, asked: unknown): string {
  const own = workflowIdOf(caseId);
  if (asked === undefined) return own;
  if (typeof asked === 'string' && (asked === own || asked.startsWith(`${own}/`))) return asked;
  throw new ValidationError('That workflow is not one of this case', [
    { pointer: '/workflow', detail: `must be ${own} or one of its child pathways (${own}/...)` },
  ]);
}

/** A case read or changed through the console: the policy on its settings, and the audit entry for it. */
async function onCase(ctx: RouteContext, action: 'ops.read' | 'ops.act') {
  const { found, decision } = await decideOnCase(ctx, action);
  const audit = (what: 'read' | 'update', reason: string) =>
    ctx.audit([
      {
        decision,
        action: what,
        operation: action,
        entityType: 'Case',
        entityId: found.caseId,
        patientId: found.patientId,
        reason,
      },
    ]);
  return { found, decision, audit };
}

const caseRoute = (path: string) => `/ops/cases/{caseId}${path}`;

export const OPS_ROUTES: readonly RouteSpec[] = [
  {
    method: 'get',
    path: '/ops/views',
    operationId: 'countOpsViews',
    summary:
      'How many cases in your settings each stuck-case view finds: failing, overdue, idle, waiting for a message',
    tag: 'ops',
    action: 'ops.read',
    patientData: false,
    query: 'OpsViewsQuery',
    success: { status: 200, schema: 'OpsViewCounts', description: 'the counts, by view' },
    async handle(ctx) {
      allowOps(ctx, 'ops.read');
      const thresholds = thresholdsOf(ctx.query);
      return { body: { counts: await countOpsViews(ctx.engine, ctx.principal.settings, thresholds), thresholds } };
    },
  },
  {
    method: 'get',
    path: '/ops/cases',
    operationId: 'listOpsCases',
    summary: 'Cases in your settings that a view and/or a List Filter query find, newest first',
    tag: 'ops',
    action: 'ops.read',
    patientData: false,
    query: 'OpsCaseListQuery',
    success: { status: 200, schema: 'OpsCasePage', description: 'a page of cases, with the query run' },
    problems: { '400': 'the query cannot be run (its problem names the position)' },
    async handle(ctx) {
      allowOps(ctx, 'ops.read');
      const request = {
        settings: ctx.principal.settings,
        ...(typeof ctx.query['view'] === 'string' ? { view: ctx.query['view'] as OpsView } : {}),
        ...(typeof ctx.query['query'] === 'string' ? { query: ctx.query['query'] } : {}),
        thresholds: thresholdsOf(ctx.query),
      };
      const page = await withQueryPointers(() => listOpsCases(ctx.engine, { ...request, ...pageOf(ctx.query) }));
      return { body: { ...page, query: opsListQuery(request) } };
    },
  },
  {
    method: 'get',
    path: caseRoute(''),
    operationId: 'describeOpsCase',
    summary: "A case's engine state: where it is, pending activities with attempts and failures, timers, its journey",
    tag: 'ops',
    action: 'ops.read',
    patientData: true,
    params: caseIdParam,
    query: 'OpsCaseQuery',
    success: { status: 200, schema: 'OpsCaseDetail', description: 'the case as ops see it' },
    async handle(ctx) {
      const { found, audit } = await onCase(ctx, 'ops.read');
      const { pendingActivities, historyLength, state, stateUnavailable, journey, ...summary } = await describeOpsCase(
        ctx.engine,
        workflowOf(found.caseId, ctx.query['workflow']),
      );
      await audit('read', 'ops: engine state');
      return { body: { case: summary, pendingActivities, historyLength, state, stateUnavailable, journey } };
    },
  },
  {
    method: 'get',
    path: caseRoute('/history'),
    operationId: 'getOpsCaseHistory',
    summary: "A page of a case workflow's event history, oldest first: event types and names, no payloads",
    tag: 'ops',
    action: 'ops.read',
    patientData: true,
    params: caseIdParam,
    query: 'OpsHistoryQuery',
    success: { status: 200, schema: 'OpsHistoryPage', description: 'a page of events' },
    async handle(ctx) {
      const { found, audit } = await onCase(ctx, 'ops.read');
      const page = await withQueryPointers(() =>
        opsHistoryPage(ctx.engine, workflowOf(found.caseId, ctx.query['workflow']), pageOf(ctx.query)),
      );
      await audit('read', 'ops: event history');
      return { body: page };
    },
  },
  {
    method: 'post',
    path: caseRoute('/retry'),
    operationId: 'retryOpsCase',
    summary: "Retry a case's failing activities now (or one), with their attempts counted from 1 again",
    tag: 'ops',
    action: 'ops.act',
    patientData: true,
    params: caseIdParam,
    body: 'OpsRetryRequest',
    success: { status: 200, schema: 'OpsRetryResult', description: 'the activities retried' },
    problems: { '409': 'nothing is failing' },
    async handle(ctx) {
      const { found, audit } = await onCase(ctx, 'ops.act');
      const workflowId = workflowOf(found.caseId, ctx.body['workflowId']);
      const activityId = ctx.body['activityId'] as string | undefined;
      const retried = await retryFailingActivities(ctx.engine, workflowId, activityId);
      await logOpsAction(ctx.engine, opsActor(ctx), {
        action: 'retry',
        caseIds: [found.caseId],
        outcome: 'succeeded',
        detail: { workflowId, activities: retried },
      });
      await audit('update', `ops: retried ${retried.join(', ')}`);
      return { body: { workflowId, retried } };
    },
  },
  {
    method: 'post',
    path: caseRoute('/messages'),
    operationId: 'deliverOpsMessage',
    summary: 'Deliver a message to a case (a recall or a transfer that went astray), without variables',
    tag: 'ops',
    action: 'ops.act',
    patientData: true,
    params: caseIdParam,
    body: 'OpsMessageRequest',
    success: { status: 200, schema: 'OpsActionResult', description: 'what the case did with it' },
    problems: { '409': 'the case is closed or nothing caught or kept the message' },
    async handle(ctx) {
      const { found, audit } = await onCase(ctx, 'ops.act');
      const result = await messageCase(ctx.engine, found.caseId, {
        name: ctx.body['name'] as string,
        ...(typeof ctx.body['correlationKey'] === 'string' ? { correlationKey: ctx.body['correlationKey'] } : {}),
        ...(typeof ctx.body['timeToLive'] === 'string' ? { timeToLive: ctx.body['timeToLive'] } : {}),
        sentBy: ctx.principal.subject,
      });
      await logOpsAction(ctx.engine, opsActor(ctx), {
        action: 'deliver-message',
        caseIds: [found.caseId],
        outcome: result.outcome,
        detail: { messageName: result.messageName },
      });
      await audit('update', `ops: message ${result.messageName} ${result.outcome}`);
      return { body: { caseId: found.caseId, outcome: result.outcome, detail: { messageName: result.messageName } } };
    },
  },
  {
    method: 'post',
    path: caseRoute('/cancel'),
    operationId: 'cancelOpsCase',
    summary: 'End a case early, with the reason (its tasks and incidents withdrawn, its child pathways cancelled)',
    tag: 'ops',
    action: 'ops.act',
    patientData: true,
    params: caseIdParam,
    body: 'OpsCancelRequest',
    success: { status: 200, schema: 'OpsActionResult', description: 'the case is closed with the reason' },
    async handle(ctx) {
      const { found, decision, audit } = await onCase(ctx, 'ops.act');
      const terminated = await terminateCase(ctx.engine, found.caseId, {
        reason: ctx.body['reason'] as string,
        terminatedBy: ctx.principal.subject,
        role: roleFor(ctx.principal, decision),
      });
      await logOpsAction(ctx.engine, opsActor(ctx), {
        action: 'cancel',
        caseIds: [found.caseId],
        outcome: 'cancelled',
        detail: { reason: terminated.reason },
      });
      await audit('update', `ops: cancelled: ${terminated.reason}`);
      return {
        body: { caseId: found.caseId, outcome: 'cancelled', detail: { terminatedAt: terminated.terminatedAt } },
      };
    },
  },
  {
    method: 'post',
    path: caseRoute('/reassign'),
    operationId: 'reassignOpsCase',
    summary: 'Give every open task of a case to one person (active staff of a setting of the case)',
    tag: 'ops',
    action: 'ops.act',
    patientData: true,
    params: caseIdParam,
    body: 'OpsReassignRequest',
    success: { status: 200, schema: 'OpsActionResult', description: 'the tasks reassigned' },
    async handle(ctx) {
      const { found, decision, audit } = await onCase(ctx, 'ops.act');
      const assignee = ctx.body['assignee'] as string;
      const open = (await listTasks(ctx.engine, { caseId: found.caseId })).filter((task) => task.status === 'open');
      for (const task of open)
        await changeTaskAssignment(
          ctx.engine.store,
          task.taskId,
          { kind: 'assign', assignee },
          { ...actorOf(ctx, decision), operation: 'ops.act' },
        );
      await logOpsAction(ctx.engine, opsActor(ctx), {
        action: 'reassign',
        caseIds: [found.caseId],
        outcome: 'succeeded',
        detail: { assignee, tasks: open.map((task) => task.taskId) },
      });
      await audit('update', `ops: ${open.length} task(s) reassigned`);
      return { body: { caseId: found.caseId, outcome: 'succeeded', detail: { tasks: open.length } } };
    },
  },
  {
    method: 'post',
    path: '/ops/bulk-operations',
    operationId: 'previewBulkOperation',
    summary: 'Preview a bulk action: freezes the exact cases a view and/or query match now, to apply after checking',
    tag: 'ops',
    action: 'ops.act',
    patientData: false,
    body: 'BulkPreviewRequest',
    success: { status: 201, schema: 'BulkOperation', description: 'the preview, with its cases' },
    problems: { '409': 'no case matches' },
    async handle(ctx) {
      allowOps(ctx, 'ops.act');
      const operation = await previewBulkOperation(
        ctx.engine,
        {
          action: ctx.body['action'] as BulkAction,
          settings: ctx.principal.settings,
          ...(typeof ctx.body['view'] === 'string' ? { view: ctx.body['view'] as OpsView } : {}),
          ...(typeof ctx.body['query'] === 'string' ? { query: ctx.body['query'] } : {}),
          ...(typeof ctx.body['reason'] === 'string' ? { reason: ctx.body['reason'] } : {}),
          thresholds: thresholdsOf(ctx.body),
        },
        opsActor(ctx),
      );
      return { status: 201, body: operation };
    },
  },
  {
    method: 'get',
    path: '/ops/bulk-operations',
    operationId: 'listBulkOperations',
    summary: 'Recent bulk operations of your settings, newest first, with their progress',
    tag: 'ops',
    action: 'ops.read',
    patientData: false,
    success: { status: 200, schema: 'BulkOperationList', description: 'the operations' },
    async handle(ctx) {
      allowOps(ctx, 'ops.read');
      return { body: { items: await listBulkOperations(ctx.engine, ctx.principal.settings) } };
    },
  },
  {
    method: 'get',
    path: '/ops/bulk-operations/{operationId}',
    operationId: 'getBulkOperation',
    summary: "A bulk operation: its frozen cases, each one's outcome, and progress",
    tag: 'ops',
    action: 'ops.read',
    patientData: false,
    params: { operationId: PARAMETER_SCHEMAS.uuid },
    success: { status: 200, schema: 'BulkOperation', description: 'the operation' },
    async handle(ctx) {
      allowOps(ctx, 'ops.read');
      return { body: await getBulkOperation(ctx.engine, ctx.params['operationId']!, ctx.principal.settings) };
    },
  },
  {
    method: 'post',
    path: '/ops/bulk-operations/{operationId}/apply',
    operationId: 'applyBulkOperation',
    summary: 'Apply a previewed bulk action to exactly its frozen cases (in the background: follow its progress)',
    tag: 'ops',
    action: 'ops.act',
    patientData: false,
    params: { operationId: PARAMETER_SCHEMAS.uuid },
    success: { status: 202, schema: 'BulkOperation', description: 'started' },
    problems: { '409': 'it is not a preview any more (applied or cancelled)' },
    async handle(ctx) {
      allowOps(ctx, 'ops.act');
      const operation = await applyBulkOperation(
        ctx.engine,
        ctx.params['operationId']!,
        ctx.principal.settings,
        opsActor(ctx),
      );
      return { status: 202, body: operation };
    },
  },
  {
    method: 'post',
    path: '/ops/bulk-operations/{operationId}/cancel',
    operationId: 'cancelBulkOperation',
    summary: 'Stop a bulk operation before its next case (cases done stay done)',
    tag: 'ops',
    action: 'ops.act',
    patientData: false,
    params: { operationId: PARAMETER_SCHEMAS.uuid },
    success: { status: 200, schema: 'BulkOperation', description: 'cancelled' },
    problems: { '409': 'it has already finished' },
    async handle(ctx) {
      allowOps(ctx, 'ops.act');
      return {
        body: await cancelBulkOperation(ctx.engine, ctx.params['operationId']!, ctx.principal.settings, opsActor(ctx)),
      };
    },
  },
  {
    method: 'get',
    path: '/ops/log',
    operationId: 'listOpsLog',
    summary: 'The operations log: who did what to which cases, and the outcome, newest first',
    tag: 'ops',
    action: 'ops.read',
    patientData: false,
    query: 'OpsLogQuery',
    success: { status: 200, schema: 'OpsLog', description: 'the latest entries' },
    async handle(ctx) {
      allowOps(ctx, 'ops.read');
      return { body: { items: await listOpsLog(ctx.engine, ctx.principal.settings, pageOf(ctx.query)) } };
    },
  },
  {
    method: 'get',
    path: '/ops/saved-searches',
    operationId: 'listOpsSavedSearches',
    summary: "The team's saved searches, of the settings you work in",
    tag: 'ops',
    action: 'ops.read',
    patientData: false,
    success: { status: 200, schema: 'OpsSavedSearchList', description: 'the searches, by name' },
    async handle(ctx) {
      allowOps(ctx, 'ops.read');
      return { body: { items: await listOpsSavedSearches(ctx.engine, ctx.principal.settings) } };
    },
  },
  {
    method: 'post',
    path: '/ops/saved-searches',
    operationId: 'saveOpsSearch',
    summary: 'Save a search for the team of a setting you work in (the same name replaces it); checked by running it',
    tag: 'ops',
    action: 'ops.act',
    patientData: false,
    body: 'SaveOpsSearchRequest',
    success: { status: 201, schema: 'OpsSavedSearch', description: 'saved' },
    async handle(ctx) {
      requireRole(ctx.principal, 'ops.act');
      const sharedSetting = ctx.body['sharedSetting'] as string;
      const decision = authorize(ctx.principal, 'ops.act', { settings: [sharedSetting] });
      if (!decision.allowed) throw new ThroughcareError('FORBIDDEN', decision.reason);
      const query = ctx.body['query'] as string;
      // A search that cannot run is refused now, not when the team opens it.
      await listOpsCases(ctx.engine, { settings: ctx.principal.settings, query, limit: 1 });
      const saved = await saveOpsSearch(
        ctx.engine,
        { name: ctx.body['name'] as string, query, sharedSetting },
        opsActor(ctx),
      );
      return { status: 201, body: saved };
    },
  },
  {
    method: 'post',
    path: '/ops/pathways/{pathwayId}/migrations',
    operationId: 'migrateOpsCases',
    summary:
      'Move the running cases of a version to another version, with an element mapping: a dry run per case, and ' +
      'nothing moves if any case would lose an open task, timer or message wait',
    tag: 'ops',
    action: 'ops.act',
    patientData: false,
    params: { pathwayId: pathwayIdParam },
    body: 'MigrationRequest',
    success: { status: 200, schema: 'MigrationReport', description: 'what moved, or would, per case' },
    async handle(ctx) {
      allowOps(ctx, 'ops.act');
      const report = await migrateCases(
        ctx.engine,
        {
          pathwayId: ctx.params['pathwayId']!,
          fromVersion: ctx.body['fromVersion'] as number,
          toVersion: ctx.body['toVersion'] as number,
          ...(ctx.body['mapping'] ? { mapping: ctx.body['mapping'] as Record<string, string> } : {}),
          dryRun: ctx.body['dryRun'] as boolean,
          settings: ctx.principal.settings,
        },
        opsActor(ctx),
      );
      return { body: report };
    },
  },
];
