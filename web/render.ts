/**
 * Server-side rendering of the web pages: Nunjucks with the NHS.UK frontend's templates and macros
 * (`nhsuk/components/.../macro.njk`), our own views in web/views, and the filters the pages share.
 */
import path from 'node:path';
import nunjucks from 'nunjucks';

/** nhsuk-frontend's `dist`, where its templates are found as `nhsuk/...`; its assets are served from here too. */
export const NHSUK_FRONTEND_DIST = path.join(path.dirname(require.resolve('nhsuk-frontend/package.json')), 'dist');
const VIEWS = path.join(__dirname, 'views');

const LONDON = 'Europe/London';
const dateTime = new Intl.DateTimeFormat('en-GB', {
  timeZone: LONDON,
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});
const dayOf = new Intl.DateTimeFormat('en-CA', { timeZone: LONDON, year: 'numeric', month: '2-digit', day: '2-digit' });

/** "7 Dec 2026, 23:59": an instant as people in England read it (stored in UTC, shown in Europe/London). */
export function londonDateTime(instant: string | null | undefined): string {
  return instant ? dateTime.format(new Date(instant)) : '';
}

/** The London calendar day of an instant, `YYYY-MM-DD`. */
export function londonDay(instant: string | Date): string {
  return dayOf.format(typeof instant === 'string' ? new Date(instant) : instant);
}

const calendarDate = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'UTC',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
});

/** "14 March 1985": a calendar date (`YYYY-MM-DD`, a date of birth) as written, with no time zone to shift it. */
export function longDate(date: string | null | undefined): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date ?? '');
  if (!match) return date ?? '';
  return calendarDate.format(new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))));
}

/** Age in whole years on today's date in London (or `on`); undefined without a date of birth. */
export function ageInYears(dateOfBirth: string | null | undefined, on: Date = new Date()): number | undefined {
  const born = /^(\d{4})-(\d{2})-(\d{2})$/.exec(dateOfBirth ?? '');
  if (!born) return undefined;
  const [year, month, day] = londonDay(on).split('-').map(Number) as [number, number, number];
  const [bornYear, bornMonth, bornDay] = born.slice(1).map(Number) as [number, number, number];
  const hadBirthday = month > bornMonth || (month === bornMonth && day >= bornDay);
  return year - bornYear - (hadBirthday ? 0 : 1);
}

/** An NHS number as NHS.UK shows it: 3-3-4 with spaces. */
export function formatNhsNumber(nhsNumber: string | null | undefined): string {
  const digits = (nhsNumber ?? '').replace(/\s+/g, '');
  return /^\d{10}$/.test(digits) ? `${digits.slice(0, 3)} ${digits.slice(3, 6)} ${digits.slice(6)}` : digits;
}

export function createRenderer(): nunjucks.Environment {
  const env = new nunjucks.Environment(
    new nunjucks.FileSystemLoader([VIEWS, NHSUK_FRONTEND_DIST], { noCache: false }),
    {
      autoescape: true,
      throwOnUndefined: false,
    },
  );
  env.addFilter('londonDateTime', londonDateTime);
  env.addFilter('nhsNumber', formatNhsNumber);
  env.addFilter('longDate', longDate);
  // `{{ n | count('case') }}`: 1 case, 2 cases.
  env.addFilter('count', (n: number, noun: string, plural = `${noun}s`) => `${n} ${n === 1 ? noun : plural}`);
  env.addFilter('age', (dateOfBirth: string | null | undefined) => ageInYears(dateOfBirth));
  return env;
}
