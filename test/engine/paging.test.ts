import { ValidationError } from '../../domain/errors';
import { pageInMemory } from '../../engine';

const staff = [
  { name: 'zoe Ward', id: '3' },
  { name: 'Amir Khan', id: '2' },
  { name: 'amir Khan', id: '1' },
  { name: 'Bea Lowe', id: '4' },
  { name: 'Ñora Díaz', id: '5' },
];
const keyOf = (s: { name: string; id: string }): [string, string] => [s.name, s.id];

describe('pageInMemory: a directory a page at a time', () => {
  it('walks every item once, in the order people read names, and ends with a null cursor', () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages += 1) {
      const page = pageInMemory(staff, keyOf, { limit: 2, keyLength: 2, ...(cursor ? { cursor } : {}) });
      expect(page.total).toBe(5);
      seen.push(...page.items.map((s) => s.id));
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    // Case and accents compare as a reader expects (the en-GB collation), not by code point.
    expect(seen).toEqual(['1', '2', '4', '5', '3']);
  });

  it('keeps its place when an item before the cursor is removed', () => {
    const first = pageInMemory(staff, keyOf, { limit: 2, keyLength: 2 });
    const rest = pageInMemory(
      staff.filter((s) => s.id !== '1'),
      keyOf,
      { limit: 10, keyLength: 2, cursor: first.nextCursor! },
    );
    expect(rest.items.map((s) => s.id)).toEqual(['4', '5', '3']);
  });

  it('answers a cursor that is not one of its own as a problem at /cursor', () => {
    expect(() => pageInMemory(staff, keyOf, { limit: 2, keyLength: 2, cursor: 'bm90LW91cnM' })).toThrow(
      ValidationError,
    );
  });
});
