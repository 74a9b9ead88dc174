/**
 * Where a browser goes after signing in: only a path on this site. Anything that could leave it (another host,
 * `//host`, `/\host`, a scheme, control characters) is refused, so `/sign-in?returnTo=` is not an open redirect.
 */
import { ValidationError } from '../../domain/errors';

const MAX_LENGTH = 2048;
// A base no real request has: a path that resolves to another origin against it is not a same-origin path.
const PROBE = 'http://return-to.invalid';

const isBackslashOrControl = (c: string) => c === '\\' || c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f;

/** The same-origin path to return to (`/` when none is given); a 400 problem for anything else. */
export function sameOriginReturnTo(value: unknown): string {
  if (value === undefined || value === '') return '/';
  const refuse = (detail: string) =>
    new ValidationError('returnTo must be a path on this site, such as /tasks', [{ pointer: '/returnTo', detail }]);
  if (typeof value !== 'string') throw refuse('must be given once, as a path');
  if (value.length > MAX_LENGTH) throw refuse(`must be at most ${MAX_LENGTH} characters`);
  // Browsers treat a backslash as a slash and drop tabs and newlines, so `/\evil` and `/\t/evil` mean `//evil`.
  if (!value.startsWith('/') || value.startsWith('//') || [...value].some(isBackslashOrControl))
    throw refuse('must start with a single / and hold no backslash or control character');
  let parsed: URL;
  try {
    parsed = new URL(value, PROBE);
  } catch {
    throw refuse('must be a valid path');
  }
  if (parsed.origin !== PROBE) throw refuse('must stay on this site');
  return `${parsed.pathname}${parsed.search}${parsed.hash}`;
}
