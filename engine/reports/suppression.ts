/**
 * Small-number suppression for the aggregate (outcome) reports: pure, so its rule is tested exactly
 * (test/reports/suppression.test.ts) and every report applies the same one.
 *
 * The rule:
 * 1. Primary: every count from 1 to SMALL_COUNT_LIMIT (4) is suppressed. A zero is shown: it tells nothing about a
 *    person.
 * 2. Secondary: a group is a total and the counts that add up to it (a row's total and its cells; a column's total
 *    and the same cell of each row). Where exactly one value of a group (its total included) is suppressed, it could
 *    be worked back from the others, so the smallest value of the group still shown and above zero is suppressed as
 *    well (the first of equal ones, in the group's order). This is repeated over every group until none has exactly
 *    one suppressed value, since hiding a cell of a row can leave its column with one.
 * 3. Every suppressed value looks the same: `{ value: null, suppressed: true }` in JSON, SUPPRESSED_TEXT in CSV and on
 *    a page. Telling a secondary one apart (it is at least 5) would let a reader narrow the primary one down, e.g. a
 *    row of 1 and 5 hidden beside a total of 6 could only be those two.
 *
 * A value derived from a count (a share, a mean) is shown only when the counts it is made from are.
 * What this does not cover: differencing between two reports asked with different filters (one setting, then all
 * of them), which no single table can prevent.
 */

/** Counts from 1 up to this are suppressed. */
export const SMALL_COUNT_LIMIT = 4;

/** How a suppressed value reads in CSV and on a page: the same for every suppressed value. */
export const SUPPRESSED_TEXT = '< 5';

/** A figure of an aggregate report: its value, or null when it is suppressed (or has no value, e.g. a share of 0). */
export interface Figure {
  readonly value: number | null;
  readonly suppressed: boolean;
}

/** A total (by its index among the values) and the indexes of the values that add up to it. */
export interface SuppressionGroup {
  readonly total: number;
  readonly members: readonly number[];
}

export function isSmallCount(value: number): boolean {
  return value >= 1 && value <= SMALL_COUNT_LIMIT;
}

/**
 * Which of `values` (counts) to suppress under the rule above, given the groups they form. Returns one flag per
 * value. Throws when a group's total is not the sum of its members: a report built wrongly must not be published.
 */
export function suppressionOf(values: readonly number[], groups: readonly SuppressionGroup[]): boolean[] {
  for (const group of groups) {
    const sum = group.members.reduce((total, index) => total + valueAt(values, index), 0);
    if (sum !== valueAt(values, group.total))
      throw new Error(`suppression group with total ${valueAt(values, group.total)} but members adding up to ${sum}`);
  }
  const suppressed = values.map(isSmallCount);
  for (let changed = true; changed;) {
    changed = false;
    for (const group of groups) {
      const indexes = [group.total, ...group.members];
      if (indexes.filter((index) => suppressed[index]).length !== 1) continue;
      let chosen: number | undefined;
      for (const index of indexes) {
        const value = valueAt(values, index);
        if (suppressed[index] || value === 0) continue;
        if (chosen === undefined || value < valueAt(values, chosen)) chosen = index;
      }
      // Always found: with one value hidden and every other one zero, the total would equal it (so be hidden too).
      if (chosen === undefined) throw new Error('suppression found nothing to hide beside a lone suppressed value');
      suppressed[chosen] = true;
      changed = true;
    }
  }
  return suppressed;
}

/** A count as a figure, suppressed or shown. */
export function figureOf(value: number, suppressed: boolean): Figure {
  return suppressed ? { value: null, suppressed: true } : { value, suppressed: false };
}

/** A value made from figures (a share, a mean): suppressed when any of them is, null when there is nothing to show. */
export function derivedFigure(value: number | null, from: readonly Figure[]): Figure {
  if (from.some((figure) => figure.suppressed)) return { value: null, suppressed: true };
  return { value: value === null || !Number.isFinite(value) ? null : value, suppressed: false };
}

/** The text of a figure in CSV or on a page. */
export function figureText(figure: Figure, format: (value: number) => string = String): string {
  if (figure.suppressed) return SUPPRESSED_TEXT;
  return figure.value === null ? '' : format(figure.value);
}

function valueAt(values: readonly number[], index: number): number {
  const value = values[index];
  if (value === undefined || !Number.isInteger(value) || value < 0)
    throw new Error(`suppression needs a count (a whole number, 0 or more) at ${index}`);
  return value;
}
