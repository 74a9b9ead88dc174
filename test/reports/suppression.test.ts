/**
 * The small-number suppression rule (engine/reports/suppression.ts), case by case: primary (1 to 4), zeros shown,
 * secondary in a row, in a column, cascading from one to the other, the choice among equals, and refusal of a
 * table whose totals do not add up.
 */
import {
  SUPPRESSED_TEXT,
  derivedFigure,
  figureOf,
  figureText,
  suppressionOf,
  type SuppressionGroup,
} from '../../engine/reports';

/** Indexes of the suppressed values. */
const hiddenOf = (values: number[], groups: SuppressionGroup[] = []) =>
  suppressionOf(values, groups).flatMap((hidden, i) => (hidden ? [i] : []));

describe('small-number suppression', () => {
  it('hides every count from 1 to 4 and nothing else when no total gives one away', () => {
    expect(hiddenOf([0, 1, 2, 3, 4, 5, 6, 100])).toEqual([1, 2, 3, 4]);
  });

  it('hides the next smallest value of a row with a single hidden one, total included', () => {
    // total 20 = 3 + 7 + 10: 3 alone could be worked out, so 7 goes too.
    expect(hiddenOf([20, 3, 7, 10], [{ total: 0, members: [1, 2, 3] }])).toEqual([1, 2]);
    // total 13 = 3 + 10: 10 is the smallest other value, not the total.
    expect(hiddenOf([13, 3, 10], [{ total: 0, members: [1, 2] }])).toEqual([1, 2]);
    // total 8 = 3 + 0 + 5... (0 is never chosen: it hides nothing).
    expect(hiddenOf([8, 3, 0, 5], [{ total: 0, members: [1, 2, 3] }])).toEqual([1, 3]);
  });

  it('hides the total when it is the only other value of the group above zero', () => {
    // 8 = 6 + 2 hides 6 beside the small 2; then 6 = 6 + 0 has 6 alone, and only its total (6) is left to hide.
    expect(
      hiddenOf(
        [6, 6, 0, 2, 8],
        [
          { total: 0, members: [1, 2] },
          { total: 4, members: [1, 3] },
        ],
      ),
    ).toEqual([0, 1, 3]);
  });

  it('leaves a group with two or more hidden values as it is', () => {
    expect(hiddenOf([30, 2, 3, 25], [{ total: 0, members: [1, 2, 3] }])).toEqual([1, 2]);
  });

  it('chooses the first of equal smallest values, in the group order', () => {
    expect(hiddenOf([22, 2, 10, 10], [{ total: 0, members: [1, 2, 3] }])).toEqual([1, 2]);
  });

  it('cascades from a row to a column until no group has a single hidden value', () => {
    // A 2 x 2 table with row and column totals:
    //        c1   c2  | total
    //  r1     2   10  |  12
    //  r2     8    9  |  17
    //  total 10   19  |  29
    const [r1c1, r1c2, r1, r2c1, r2c2, r2, c1, c2, all] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
    const values = [2, 10, 12, 8, 9, 17, 10, 19, 29];
    const groups: SuppressionGroup[] = [
      { total: r1, members: [r1c1, r1c2] },
      { total: r2, members: [r2c1, r2c2] },
      { total: c1, members: [r1c1, r2c1] },
      { total: c2, members: [r1c2, r2c2] },
      { total: all, members: [r1, r2] },
      { total: all, members: [c1, c2] },
    ];
    // r1: 2 alone -> its smallest partner, r1c2 (10); column c1: 2 alone -> r2c1 (8); then column c2 has r1c2
    // alone -> r2c2 (9); row r2 now has two. Every row and column then has 0 or 2 hidden.
    expect(hiddenOf(values, groups)).toEqual([r1c1, r1c2, r2c1, r2c2]);
  });

  it('refuses a table whose total is not the sum of its members, or a value that is not a count', () => {
    expect(() => suppressionOf([10, 3, 6], [{ total: 0, members: [1, 2] }])).toThrow(/adding up to 9/);
    expect(() => suppressionOf([3, 1.5, 1.5], [{ total: 0, members: [1, 2] }])).toThrow(/whole number/);
  });

  it('writes every suppressed value the same way, and hides what is made from a hidden count', () => {
    expect(figureOf(3, true)).toEqual({ value: null, suppressed: true });
    expect(figureOf(12, false)).toEqual({ value: 12, suppressed: false });
    expect(figureText(figureOf(3, true))).toBe(SUPPRESSED_TEXT);
    expect(figureText(figureOf(12, true))).toBe('< 5');
    expect(figureText({ value: null, suppressed: false })).toBe('');
    expect(derivedFigure(0.5, [figureOf(6, false), figureOf(3, true)])).toEqual({ value: null, suppressed: true });
    expect(derivedFigure(0.5, [figureOf(6, false), figureOf(12, false)])).toEqual({ value: 0.5, suppressed: false });
    expect(derivedFigure(Number.NaN, [figureOf(0, false)])).toEqual({ value: null, suppressed: false });
  });
});
