/** A case's timeline: what happened to it, newest first, without clinical content for ops. */
import { caseTimeline, type TimelineCategory } from '../../engine';
import { caseIdParam, decideOnCase, pageOf, withQueryPointers, type RouteSpec } from './operation';

export const CASE_TIMELINE_ROUTES: readonly RouteSpec[] = [
  {
    method: 'get',
    path: '/cases/{caseId}/timeline',
    operationId: 'getCaseTimeline',
    summary:
      'What happened to a case, newest first: tasks, assessments, notes, alerts, appointments, notifications, incidents, messages',
    tag: 'cases',
    action: 'case.timeline',
    patientData: true,
    params: caseIdParam,
    query: 'CaseTimelineQuery',
    success: { status: 200, schema: 'TimelinePage', description: 'a page of the timeline' },
    async handle(ctx) {
      const { found, decision } = await decideOnCase(ctx, 'case.timeline');
      const page = await withQueryPointers(() =>
        caseTimeline(ctx.engine.store, {
          caseId: found.caseId,
          ...pageOf(ctx.query),
          ...(typeof ctx.query['kind'] === 'string' ? { category: ctx.query['kind'] as TimelineCategory } : {}),
        }),
      );
      await ctx.audit([
        {
          decision,
          action: 'read',
          operation: 'case.timeline',
          entityType: 'Case',
          entityId: found.caseId,
          patientId: found.patientId,
        },
      ]);
      const { clinicalContent, contactDetails } = decision.view;
      return {
        body: {
          ...page,
          // What the view does not allow is left out, not blanked: the event itself is still shown.
          items: page.items.map(({ clinical, contact, ...event }) => ({
            ...event,
            ...(clinical && clinicalContent ? { clinical } : {}),
            ...(contact && contactDetails ? { contact } : {}),
          })),
        },
      };
    },
  },
];
