/** Opaque cursors for keyset paging: the sort key and id of the last row of a page, base64url JSON. */
import { ValidationError } from '../domain/errors';

export interface Page<T> {
  readonly items: T[];
  /** Pass as `cursor` for the next page; null on the last page. */
  readonly nextCursor: string | null;
}

export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** The key a cursor holds, `length` strings; a cursor that is not one of ours is a problem at `/cursor`. */
export function decodeCursor(cursor: string, length: number): string[] {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(key) && key.length === length && key.every((k) => typeof k === 'string')) return key;
  } catch {
    // falls through to the problem below
  }
  throw new ValidationError('The cursor is not valid', [
    { pointer: '/cursor', detail: 'must be the nextCursor of an earlier page, unchanged' },
  ]);
}

const collator = new Intl.Collator('en-GB', { sensitivity: 'variant', numeric: true });

function compareKeys(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < a.length; i += 1) {
    const order = collator.compare(a[i] ?? '', b[i] ?? '');
    if (order !== 0) return order;
  }
  return 0;
}

/**
 * A page of a list small enough to read whole (a directory: settings, staff, pathway versions), in the order of
 * `keyOf` (compared as people read them, the last part unique), with the same cursors as the keyset pages the
 * database serves; `total` counts the whole list.
 */
export function pageInMemory<T>(
  items: readonly T[],
  keyOf: (item: T) => [string, ...string[]],
  page: { readonly limit: number; readonly cursor?: string; readonly keyLength: number },
): Page<T> & { readonly total: number } {
  const keyed = items.map((item) => ({ item, key: keyOf(item) }));
  keyed.sort((a, b) => compareKeys(a.key, b.key));
  const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor, page.keyLength);
  const rest = after ? keyed.filter((k) => compareKeys(k.key, after) > 0) : keyed;
  const shown = rest.slice(0, page.limit);
  const last = shown[shown.length - 1];
  return {
    items: shown.map((k) => k.item),
    nextCursor: rest.length > page.limit && last ? encodeCursor(last.key) : null,
    total: items.length,
  };
}
