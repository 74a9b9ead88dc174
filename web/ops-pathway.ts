/**
 * The pathway view of the ops console: one deployed version's BPMN diagram with, on each element, how many cases of
 * the person's settings wait there (running), and how many of those are overdue or failing, each count a link to
 * those cases in the console's case list; the same counts in a table, busiest first, which is the page without
 * JavaScript; and links to the pathway's other versions. The counts are the API's `getPathwayHeatmap`.
 */
import path from 'node:path';
import { mayEver } from '../api/policy';
import { NotFoundError, ValidationError } from '../domain/errors';
import type { PathwayVersionSummary } from '../engine';
import { heatmapCondition, HEATMAP_CATEGORIES, type HeatmapElement, type PathwayHeatmap } from '../engine/ops-heatmap';
import type { ClientBundle, ClientBundles } from './client-bundles';
import type { PageContext } from './index';
import { opsMigrationHref } from './ops-migration';
import { call } from './page-helpers';

export const OPS_PATHWAY_BUNDLE: ClientBundle = {
  name: 'pathway-heatmap',
  entry: path.join(__dirname, 'client', 'pathway-heatmap.ts'),
};

/** What an element is, in an operator's words. */
const KINDS: Record<string, string> = {
  startEvent: 'Start event',
  userTask: 'User task',
  serviceTask: 'Service task',
  callActivity: 'Call activity',
  intermediateCatchEvent: 'Catch event',
  intermediateThrowEvent: 'Throw event',
  boundaryEvent: 'Boundary event',
  endEvent: 'End event',
  exclusiveGateway: 'Exclusive gateway',
  parallelGateway: 'Parallel gateway',
  eventBasedGateway: 'Event-based gateway',
  unsupported: 'Other element',
};

/** The console's case list, filtered to exactly the cases a count counts (the lead's /ops reads `query`). */
export function opsCasesHref(condition: string): string {
  return `/ops?${new URLSearchParams({ query: condition }).toString()}`;
}

/** JSON inside `<script type="application/json">`: nothing in it can end the element or open a comment. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function opsPathwayPage(bundles: ClientBundles) {
  return async (ctx: PageContext): Promise<void> => {
    const params = { pathwayId: String(ctx.req.params['pathwayId']), version: String(ctx.req.params['version']) };
    let heatmap: PathwayHeatmap;
    let versions: PathwayVersionSummary[];
    try {
      [heatmap, versions] = await Promise.all([
        call(ctx, 'getPathwayHeatmap', { params }).then((r) => r.body as PathwayHeatmap),
        call(ctx, 'listPathways', { query: { pathway: params.pathwayId } }).then(
          (r) => (r.body as { items: { versions: PathwayVersionSummary[] }[] }).items[0]?.versions ?? [],
        ),
      ]);
    } catch (error) {
      // Only a mistyped address has a pathway id or version the API refuses: there is no such page.
      if (error instanceof ValidationError) throw new NotFoundError('There is no such pathway version');
      throw error;
    }
    const { pathwayId, version } = heatmap;
    const [xml, bundle] = await Promise.all([
      call(ctx, 'getPathwayBpmn', { params: { pathwayId, version: String(version) } }).then((r) => r.body as string),
      bundles.urlsOf(OPS_PATHWAY_BUNDLE.name),
    ]);

    const hrefOf = (element: HeatmapElement, category: (typeof HEATMAP_CATEGORIES)[number]) =>
      opsCasesHref(heatmapCondition(pathwayId, version, category, { elementId: element.elementId }));
    const elements = heatmap.elements.map((element) => ({
      ...element,
      label: element.name ?? element.elementId,
      kindText: KINDS[element.kind] ?? element.kind,
      counts: HEATMAP_CATEGORIES.map((category) => ({
        category,
        count: element[category],
        href: element[category] > 0 ? hrefOf(element, category) : undefined,
      })),
    }));
    const withCases = elements.filter((e) => e.running + e.overdue + e.failing > 0);
    const title = `${heatmap.name ?? pathwayId} version ${version}`;
    ctx.render('ops-pathway.njk', {
      title,
      current: 'ops',
      pathwayId,
      version,
      heatmap,
      elements,
      busyCount: withCases.length,
      settings: ctx.principal.settings.join(', '),
      versions: versions.map((v) => ({
        version: v.version,
        deployedAt: v.deployedAt,
        href: `/ops/pathways/${encodeURIComponent(pathwayId)}/versions/${v.version}`,
        current: v.version === version,
      })),
      // Moving cases needs a version to move them to.
      migrateHref:
        mayEver(ctx.principal, 'ops.act') && versions.length > 1 ? opsMigrationHref(pathwayId, version) : undefined,
      bundle,
      // The diagram's script reads this (no inline script: the pages' CSP allows none); the badges carry only
      // elements that have cases, each count with its link.
      heatmapData: jsonForScript({
        xml,
        elements: withCases.map((e) => ({
          elementId: e.elementId,
          name: e.label,
          counts: e.counts.filter((c) => c.count > 0),
        })),
      }),
    });
  };
}
