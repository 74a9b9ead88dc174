/**
 * The pathway heatmap of the ops console (engine/ops-heatmap.ts): how many cases of one deployed version wait in
 * each of its elements, and how many of those are overdue or failing. Counts of the cases in the settings one works
 * in, with no one's data in them, so not audited (`patientData: false`); opening a case from them is.
 */
import { ThroughcareError } from '../../domain/errors';
import { pathwayHeatmap } from '../../engine/ops-heatmap';
import { DEFAULT_OPS_THRESHOLDS } from '../../engine/ops-queries';
import { authorize } from '../policy';
import { requireRole, type RouteSpec } from './operation';
import { pathwayIdParam, versionParam } from './pathways.schemas';

export const OPS_HEATMAP_ROUTES: readonly RouteSpec[] = [
  {
    method: 'get',
    path: '/ops/pathways/{pathwayId}/versions/{version}/heatmap',
    operationId: 'getPathwayHeatmap',
    summary:
      'Cases of one deployed version (or latest) in your settings, by element: running, overdue and failing, busiest first',
    tag: 'ops',
    action: 'ops.read',
    patientData: false,
    params: { pathwayId: pathwayIdParam, version: versionParam },
    query: 'PathwayHeatmapQuery',
    success: { status: 200, schema: 'PathwayHeatmap', description: 'the counts, by element' },
    async handle(ctx) {
      // Asked about the settings one works in, as the console's other views are; the counts are of those only.
      requireRole(ctx.principal, 'ops.read');
      const decision = authorize(ctx.principal, 'ops.read', { settings: ctx.principal.settings });
      if (!decision.allowed) throw new ThroughcareError('FORBIDDEN', decision.reason);
      const version = ctx.params['version'];
      const failingAttempts = ctx.query['failingAttempts'];
      const heatmap = await pathwayHeatmap(ctx.engine, {
        pathwayId: ctx.params['pathwayId']!,
        ...(version === 'latest' ? {} : { version: Number(version) }),
        settings: ctx.principal.settings,
        thresholds: {
          ...DEFAULT_OPS_THRESHOLDS,
          ...(typeof failingAttempts === 'number' ? { failingAttempts } : {}),
        },
      });
      return { body: heatmap };
    },
  },
];
