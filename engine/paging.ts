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
