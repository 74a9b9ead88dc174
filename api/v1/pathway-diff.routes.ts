/** What changed between two deployed versions of a pathway, element by element (bpmn/diff-pathway.ts). */
import { diffPathways } from '../../bpmn/diff-pathway';
import { getPathwayVersion } from '../../engine';
import { allowInstallationAction, type RouteSpec } from './operation';
import { pathwayIdParam } from './pathways.schemas';

export const PATHWAY_DIFF_ROUTES: readonly RouteSpec[] = [
  {
    method: 'get',
    path: '/pathways/{pathwayId}/diff',
    operationId: 'diffPathwayVersions',
    summary: 'The elements added, removed and changed from one deployed version of a pathway to another',
    tag: 'pathways',
    action: 'pathway.read',
    patientData: false,
    params: { pathwayId: pathwayIdParam },
    query: 'PathwayDiffQuery',
    success: { status: 200, schema: 'PathwayDiff', description: 'the changes, each element by id, type and name' },
    async handle(ctx) {
      allowInstallationAction(ctx, 'pathway.read');
      const pathwayId = ctx.params['pathwayId']!;
      const [from, to] = [Number(ctx.query['from']), Number(ctx.query['to'])];
      const [before, after] = await Promise.all([
        getPathwayVersion(ctx.engine.store, pathwayId, from),
        getPathwayVersion(ctx.engine.store, pathwayId, to),
      ]);
      return { body: { pathwayId, from, to, ...(await diffPathways(before.bpmnXml, after.bpmnXml)) } };
    },
  },
];
