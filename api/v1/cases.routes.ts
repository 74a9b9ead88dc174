/** Cases: start, list, read, deliver a message. */
import {
  checkedNhsNumber,
  findCase,
  findPatient,
  listCases,
  listIncidents,
  listWorklist,
  messageCase,
  showCase,
  startCase,
} from '../../engine';
import { ThroughcareError } from '../../domain/errors';
import { authorize, variablesFor } from '../policy';
import {
  caseIdParam,
  decideOnCase,
  listScope,
  pageOf,
  requireRole,
  withQueryPointers,
  type RouteSpec,
} from './operation';

export const CASE_ROUTES: readonly RouteSpec[] = [
  {
    method: 'post',
    path: '/cases',
    operationId: 'startCase',
    summary: 'Start a case of a deployed pathway for a person in a setting',
    tag: 'cases',
    action: 'case.start',
    patientData: true,
    body: 'StartCaseRequest',
    success: { status: 201, schema: 'StartedCase', description: 'the case is recorded and its workflow started' },
    async handle(ctx) {
      requireRole(ctx.principal, 'case.start');
      const settingOdsCode = ctx.body['settingOdsCode'] as string;
      const decision = authorize(ctx.principal, 'case.start', { settings: [settingOdsCode] });
      if (!decision.allowed) throw new ThroughcareError('FORBIDDEN', decision.reason);
      const version = ctx.body['version'] as number | undefined;
      const started = await startCase(ctx.engine, {
        pathwayId: ctx.body['pathway'] as string,
        ...(version !== undefined ? { version } : {}),
        nhsNumber: ctx.body['nhsNumber'] as string,
        settingOdsCode,
        variables: (ctx.body['variables'] as Record<string, unknown> | undefined) ?? {},
        startedBy: ctx.principal.subject,
      });
      const found = await findCase(ctx.engine.store, started.caseId);
      await ctx.audit([
        {
          decision,
          action: 'create',
          operation: 'case.start',
          entityType: 'Case',
          entityId: started.caseId,
          patientId: found?.patientId ?? null,
        },
      ]);
      return { status: 201, body: started };
    },
  },
  {
    method: 'get',
    path: '/cases',
    operationId: 'listCases',
    summary: 'Cases of the settings you work in, newest first',
    tag: 'cases',
    action: 'case.list',
    patientData: true,
    query: 'CaseListQuery',
    success: { status: 200, schema: 'CasePage', description: 'a page of cases' },
    async handle(ctx) {
      const scope = listScope(ctx.principal, 'case.list', ctx.query['setting']);
      // One person's cases: a number that is not an NHS number is a problem; one we hold no record of has none.
      const sentNhsNumber = ctx.query['nhsNumber'];
      const patientId =
        typeof sentNhsNumber === 'string'
          ? ((await findPatient(ctx.engine.store, checkedNhsNumber(sentNhsNumber, '/query/nhsNumber')))?.patientId ??
            null)
          : undefined;
      if (patientId === null) return { body: { items: [], nextCursor: null } };
      const page = await withQueryPointers(() =>
        listCases(ctx.engine.store, {
          scope,
          ...(typeof ctx.query['setting'] === 'string' ? { setting: ctx.query['setting'] } : {}),
          ...(ctx.query['status'] ? { status: ctx.query['status'] as 'open' | 'closed' } : {}),
          ...(typeof ctx.query['pathway'] === 'string' ? { pathwayId: ctx.query['pathway'] } : {}),
          ...(patientId ? { patientId } : {}),
          ...pageOf(ctx.query),
        }),
      );
      // Each row asked of the policy again: the query's scope and the policy must agree, or the row is left out.
      const shown = page.items.flatMap((item) => {
        const decision = authorize(ctx.principal, 'case.list', { settings: item.settings });
        return decision.allowed ? [{ item, decision }] : [];
      });
      await ctx.audit(
        shown.map(({ item, decision }) => ({
          decision,
          action: 'read',
          operation: 'case.list',
          entityType: 'Case',
          entityId: item.caseId,
          patientId: item.patientId,
        })),
      );
      return { body: { items: shown.map((s) => s.item), nextCursor: page.nextCursor } };
    },
  },
  {
    method: 'get',
    path: '/cases/{caseId}',
    operationId: 'getCase',
    summary: 'Where a case is: open tasks, planned work, pending timers, flags, incidents',
    tag: 'cases',
    action: 'case.read',
    patientData: true,
    params: caseIdParam,
    success: { status: 200, schema: 'CaseDetail', description: 'the case' },
    async handle(ctx) {
      const { found, decision } = await decideOnCase(ctx, 'case.read');
      const [view, incidents, page] = await Promise.all([
        showCase(ctx.engine, found.caseId),
        listIncidents(ctx.engine, { caseId: found.caseId, open: true }),
        listWorklist(ctx.engine.store, {
          scope: found.settings,
          caseId: found.caseId,
          statuses: ['open', 'planned'],
          limit: 200,
        }),
      ]);
      const { pathway } = view;
      await ctx.audit([
        {
          decision,
          action: 'read',
          operation: 'case.read',
          entityType: 'Case',
          entityId: found.caseId,
          patientId: found.patientId,
        },
      ]);
      const { restricted: _restricted, ...summary } = found;
      return {
        body: {
          case: summary,
          executionStatus: view.executionStatus,
          pathwayStatus: pathway.status,
          ...(view.failure ? { failure: view.failure } : {}),
          ...(pathway.termination ? { termination: pathway.termination } : {}),
          ...(pathway.error ? { error: pathway.error } : {}),
          flags: view.personFlags,
          openTasks: page.items.filter((t) => t.status === 'open'),
          plannedWork: page.items.filter((t) => t.status === 'planned'),
          pendingTimers: pathway.pendingTimers,
          waitingFor: pathway.messageSubscriptions,
          keptMessages: pathway.bufferedMessages,
          incidents,
          variables: variablesFor(decision.view, pathway.variables),
          trail: pathway.trail,
          startedAt: pathway.startedAt,
          ...(pathway.endedAt ? { endedAt: pathway.endedAt } : {}),
        },
      };
    },
  },
  {
    method: 'post',
    path: '/cases/{caseId}/messages',
    operationId: 'messageCase',
    summary: 'Deliver a message (recall, transfer, appointment outcome) to a case',
    tag: 'cases',
    action: 'case.message',
    patientData: true,
    params: caseIdParam,
    body: 'CaseMessageRequest',
    success: { status: 200, schema: 'CaseMessageResult', description: 'what became of the message' },
    async handle(ctx) {
      const { found, decision } = await decideOnCase(ctx, 'case.message');
      const name = ctx.body['name'] as string;
      const result = await messageCase(ctx.engine, found.caseId, {
        name,
        ...(typeof ctx.body['correlationKey'] === 'string' ? { correlationKey: ctx.body['correlationKey'] } : {}),
        variables: (ctx.body['variables'] as Record<string, unknown> | undefined) ?? {},
        ...(typeof ctx.body['timeToLive'] === 'string' ? { timeToLive: ctx.body['timeToLive'] } : {}),
        sentBy: ctx.principal.subject,
      });
      await ctx.audit([
        {
          decision,
          action: 'update',
          operation: 'case.message',
          entityType: 'Case',
          entityId: found.caseId,
          patientId: found.patientId,
          reason: `message ${name} ${result.outcome}`,
        },
      ]);
      return { body: result };
    },
  },
];
