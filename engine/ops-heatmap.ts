/**
 * The pathway heatmap of the ops console: for each element of one deployed version, how many of the cases in the
 * person's settings are there now (running), and of those how many are overdue and how many failing, read from
 * the cases' stuck signals (workflows/pathway/stuck-signals.ts) through List Filter queries, so it runs the same on
 * the embedded server and on a Temporal cluster.
 *
 * How it counts. One count per element per category would be 3 × 60 round trips for a pathway of 60 elements,
 * nearly all of them answering 0: cases wait in a handful of elements. Instead, for each category:
 * 1. one `count` of the category's cases of this version (what the totals show);
 * 2. when that is at most HEATMAP_SCAN_LIMIT, one paged `list` of exactly those cases (the category's condition is the
 *    server's, from viewCondition, never re-implemented here), tallying each case's `CurrentElements`: every
 *    element with a case is found in that one pass, and elements without one cost nothing;
 * 3. when more cases than that match (or more appear while listing), one `count` per element of the version
 *    instead, a few at a time: exact whatever the volume, at a cost bounded by the pathway's size, not the cases'.
 * Overdue and failing cases are usually few, so their lists are short; the running list is the one that grows.
 * A case waiting in two elements (parallel branches) counts once in each, and once in the totals. Overdue and
 * failing are signals of the case, not of one element: a case overdue at one of two parallel tasks is overdue at
 * both. A failed case has stopped (not running) but is failing where it stopped.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { ElementKind } from '../bpmn';
import { DependencyUnavailableError } from '../domain/errors';
import type { CaseEngine } from './case-engine';
import {
  DEFAULT_OPS_THRESHOLDS,
  quoteListFilterValue,
  scopedQuery,
  viewCondition,
  type OpsThresholds,
} from './ops-queries';
import { getPathwayVersion } from './pathways';

export const HEATMAP_CATEGORIES = ['running', 'overdue', 'failing'] as const;
export type HeatmapCategory = (typeof HEATMAP_CATEGORIES)[number];

/** Cases listed and tallied per category before counting element by element instead (see the module's header). */
export const HEATMAP_SCAN_LIMIT = 2_000;
/** Per-element counts in flight at once, so that a big pathway does not flood the workflow engine. */
const COUNT_CONCURRENCY = 4;

// The one stuck signal read back here, declared as the workflow declares it (stuck-signals.ts); engine/ imports
// nothing but types from workflows/.
const CURRENT_ELEMENTS = defineSearchAttributeKey('CurrentElements', SearchAttributeType.KEYWORD_LIST);

export interface HeatmapElement {
  readonly elementId: string;
  readonly name?: string;
  readonly kind: ElementKind;
  readonly running: number;
  readonly overdue: number;
  readonly failing: number;
}

export interface PathwayHeatmap {
  readonly pathwayId: string;
  readonly name?: string;
  readonly version: number;
  /** When the counts were read (the workflow engine's visibility, as fresh as it is). */
  readonly countedAt: string;
  /** Cases in each category, each counted once however many elements it waits in. */
  readonly totals: Readonly<Record<HeatmapCategory, number>>;
  /** Every element of the version, busiest first (running, then failing, then overdue), then by name. */
  readonly elements: readonly HeatmapElement[];
}

export interface HeatmapOptions {
  readonly pathwayId: string;
  /** The latest deployed version when omitted. */
  readonly version?: number;
  /** The settings whose cases are counted: the person's (scopedQuery refuses none). */
  readonly settings: readonly string[];
  readonly thresholds?: OpsThresholds;
  /** Cases a category may have and still be listed and tallied: HEATMAP_SCAN_LIMIT unless a test sets it. */
  readonly scanLimit?: number;
}

/**
 * The List Filter condition (without the settings scope) of one category's cases of a version, optionally those
 * waiting at one element: what the heatmap counts, and what the console's case list is opened with.
 */
export function heatmapCondition(
  pathwayId: string,
  version: number,
  category: HeatmapCategory,
  options: { elementId?: string; thresholds?: OpsThresholds } = {},
): string {
  const parts = [
    ...(options.elementId !== undefined ? [`CurrentElements = ${quoteListFilterValue(options.elementId)}`] : []),
    `PathwayId = ${quoteListFilterValue(pathwayId)}`,
    `PathwayVersion = ${Math.trunc(version)}`,
    category === 'running' ? `ExecutionStatus = 'Running'` : viewCondition(category, options.thresholds),
  ];
  return parts.join(' AND ');
}

/** The heatmap of one deployed version (see the module's header for how it counts). */
export async function pathwayHeatmap(engine: CaseEngine, options: HeatmapOptions): Promise<PathwayHeatmap> {
  const detail = await getPathwayVersion(engine.store, options.pathwayId, options.version);
  const elementIds = Object.keys(detail.ir.elements);
  const thresholds = options.thresholds ?? DEFAULT_OPS_THRESHOLDS;
  const countedAt = new Date().toISOString();
  const counted = await Promise.all(
    HEATMAP_CATEGORIES.map((category) =>
      countByElement(engine, elementIds, options.scanLimit ?? HEATMAP_SCAN_LIMIT, (elementId) =>
        scopedQuery(
          options.settings,
          heatmapCondition(detail.pathwayId, detail.version, category, {
            ...(elementId !== undefined ? { elementId } : {}),
            thresholds,
          }),
        ),
      ),
    ),
  );
  const [running, overdue, failing] = counted as [ElementCounts, ElementCounts, ElementCounts];
  const elements = Object.values(detail.ir.elements).map((element): HeatmapElement => ({
    elementId: element.id,
    ...(element.name ? { name: element.name } : {}),
    kind: element.kind,
    running: running.byElement.get(element.id) ?? 0,
    overdue: overdue.byElement.get(element.id) ?? 0,
    failing: failing.byElement.get(element.id) ?? 0,
  }));
  return {
    pathwayId: detail.pathwayId,
    ...(detail.name ? { name: detail.name } : {}),
    version: detail.version,
    countedAt,
    totals: { running: running.total, overdue: overdue.total, failing: failing.total },
    elements: elements.sort(busiestFirst),
  };
}

/** Busiest first: most running, then failing, then overdue; ties by name (or id), so the order is stable. */
export function busiestFirst(a: HeatmapElement, b: HeatmapElement): number {
  return (
    b.running - a.running ||
    b.failing - a.failing ||
    b.overdue - a.overdue ||
    (a.name ?? a.elementId).localeCompare(b.name ?? b.elementId) ||
    a.elementId.localeCompare(b.elementId)
  );
}

interface ElementCounts {
  readonly total: number;
  readonly byElement: ReadonlyMap<string, number>;
}

/** One category: its total, then a tally of one list when it is small enough, else a count per element. */
async function countByElement(
  engine: CaseEngine,
  elementIds: readonly string[],
  scanLimit: number,
  queryOf: (elementId?: string) => string,
): Promise<ElementCounts> {
  const query = queryOf();
  const total = await countOf(engine, query);
  if (total === 0) return { total, byElement: new Map() };
  if (total <= scanLimit) {
    const tallied = await tally(engine, query, scanLimit);
    if (tallied) return tallied;
  }
  const byElement = new Map<string, number>();
  await forEachLimited(elementIds, COUNT_CONCURRENCY, async (elementId) => {
    const count = await countOf(engine, queryOf(elementId));
    if (count > 0) byElement.set(elementId, count);
  });
  return { total, byElement };
}

/** The cases of `query` tallied by the elements they wait in; undefined when more than `scanLimit` match. */
async function tally(engine: CaseEngine, query: string, scanLimit: number): Promise<ElementCounts | undefined> {
  const byElement = new Map<string, number>();
  let total = 0;
  try {
    for await (const execution of engine.client.workflow.list({ query, pageSize: Math.min(500, scanLimit + 1) })) {
      total += 1;
      // More cases than counted a moment ago: stop reading, and count element by element instead.
      if (total > scanLimit) return undefined;
      const current = execution.typedSearchAttributes.get(CURRENT_ELEMENTS) ?? [];
      for (const elementId of new Set(current)) byElement.set(elementId, (byElement.get(elementId) ?? 0) + 1);
    }
  } catch (error) {
    throw explained(error);
  }
  return { total, byElement };
}

async function countOf(engine: CaseEngine, query: string): Promise<number> {
  try {
    return (await engine.client.workflow.count(query)).count;
  } catch (error) {
    throw explained(error);
  }
}

/** A namespace without the stuck signals registered refuses every query naming them: say what is missing. */
function explained(error: unknown): unknown {
  const messages = [error, error instanceof Error ? error.cause : undefined].map((e) =>
    e instanceof Error ? e.message : '',
  );
  if (messages.some((message) => /is not a valid search attribute/.test(message)))
    return new DependencyUnavailableError(
      "The workflow engine's namespace does not have the ops console's search attributes registered",
      { cause: error },
    );
  return error;
}

async function forEachLimited<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await run(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
