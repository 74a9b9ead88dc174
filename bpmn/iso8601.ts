/**
 * ISO 8601 durations, date-times and repeating intervals, as BPMN timers use them (`P5D`, `PT12H`, `P13W`,
 * `2026-03-01T09:00:00Z`, `R3/P1D`, `R/P1D`, `R3/2026-03-01T09:00:00Z/P1D`). Pure and sandbox-safe: it never
 * reads the clock; callers pass the instant to count from. Calendar units (years, months, days) are added in
 * UTC so a 13-week review lands on the same wall-clock time it would in the UK in winter, and deterministically.
 */

export interface IsoDuration {
  readonly years: number;
  readonly months: number;
  readonly weeks: number;
  readonly days: number;
  readonly hours: number;
  readonly minutes: number;
  readonly seconds: number;
}

export interface RepeatingInterval {
  /** Number of repetitions; null for `R/...` (repeat without end). */
  readonly repetitions: number | null;
  /** First due instant when the cycle names a start (`R3/<start>/P1D`); otherwise the cycle starts at entry. */
  readonly start?: string;
  readonly interval: IsoDuration;
}

const DURATION =
  /^P(?!$)(?:(\d+(?:[.,]\d+)?)Y)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)W)?(?:(\d+(?:[.,]\d+)?)D)?(?:T(?!$)(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/;

// Full date-time with an explicit zone (Z or an offset): a timer without a zone would depend on the machine.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})$/;

function toNumber(part: string | undefined): number {
  return part === undefined ? 0 : Number(part.replace(',', '.'));
}

/** Parses `PnYnMnWnDTnHnMnS`; returns undefined when the text is not an ISO 8601 duration. */
export function parseIsoDuration(text: string): IsoDuration | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const [, y, mo, w, d, h, mi, s] = match;
  return {
    years: toNumber(y),
    months: toNumber(mo),
    weeks: toNumber(w),
    days: toNumber(d),
    hours: toNumber(h),
    minutes: toNumber(mi),
    seconds: toNumber(s),
  };
}

/** Parses a zoned ISO 8601 date-time to epoch milliseconds; undefined when invalid or without a zone. */
export function parseIsoDateTime(text: string): number | undefined {
  const trimmed = text.trim();
  const match = DATE_TIME.exec(trimmed);
  if (!match) return undefined;
  const [, year, month, day, hour, minute] = match;
  const ms = Date.parse(trimmed);
  if (Number.isNaN(ms)) return undefined;
  // Date.parse rolls 2026-02-30 over to March; a timer date that does not exist is a modelling error.
  const check = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute)));
  if (
    check.getUTCFullYear() !== Number(year) ||
    check.getUTCMonth() !== Number(month) - 1 ||
    check.getUTCDate() !== Number(day) ||
    Number(hour) > 23 ||
    Number(minute) > 59
  ) {
    return undefined;
  }
  return ms;
}

/** Parses `R[n]/<duration>` or `R[n]/<date-time>/<duration>`; undefined when invalid. */
export function parseRepeatingInterval(text: string): RepeatingInterval | undefined {
  const parts = text.trim().split('/');
  const [head, second, third] = parts;
  if (!head || !/^R\d*$/.test(head) || parts.length < 2 || parts.length > 3 || second === undefined) return undefined;
  const repetitions = head.length > 1 ? Number(head.slice(1)) : null;
  if (parts.length === 2) {
    const interval = parseIsoDuration(second);
    return interval && !isZeroDuration(interval) ? { repetitions, interval } : undefined;
  }
  if (third === undefined || parseIsoDateTime(second) === undefined) return undefined;
  const interval = parseIsoDuration(third);
  return interval && !isZeroDuration(interval) ? { repetitions, start: second, interval } : undefined;
}

export function isZeroDuration(d: IsoDuration): boolean {
  return d.years + d.months + d.weeks + d.days + d.hours + d.minutes + d.seconds === 0;
}

/** Adds a duration to an instant (epoch ms), calendar units first, in UTC. */
export function addIsoDuration(epochMs: number, d: IsoDuration): number {
  const date = new Date(epochMs);
  const wholeMonths = Math.trunc(d.years * 12 + d.months);
  if (wholeMonths !== 0) {
    const day = date.getUTCDate();
    date.setUTCDate(1);
    date.setUTCMonth(date.getUTCMonth() + wholeMonths);
    // 31 January + P1M is the last day of February, not 3 March.
    const lastDay = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
    date.setUTCDate(Math.min(day, lastDay));
  }
  const wholeDays = d.weeks * 7 + d.days;
  const intDays = Math.trunc(wholeDays);
  if (intDays !== 0) date.setUTCDate(date.getUTCDate() + intDays);
  const rest = (wholeDays - intDays) * 86_400_000 + d.hours * 3_600_000 + d.minutes * 60_000 + d.seconds * 1000;
  return date.getTime() + Math.round(rest);
}

/** The ISO form the IR and commands carry for instants (always UTC, with milliseconds). */
export function formatInstant(epochMs: number): string {
  return new Date(epochMs).toISOString();
}
