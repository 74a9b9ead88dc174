/**
 * Calendar deadlines in a named time zone (Europe/London unless a pathway says otherwise), for the FEEL
 * functions `deadline` and `nextSlot`. Clinical deadlines are days on the calendar, not multiples of 24 hours:
 * "5 days after a 14:10 reception" ends at 23:59:59 London time on the fifth calendar day, whichever side of a
 * clock change that falls. Pure and sandbox-safe: the zone's offsets come from the platform's Intl data, never
 * from the machine's own zone, and the instant to count from is always passed in.
 */
import { addIsoDuration, type IsoDuration } from './iso8601';

export const DEFAULT_TIME_ZONE = 'Europe/London';

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    // Throws RangeError for a zone the platform does not know: a modelling error, reported by the caller.
    formatter = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The wall-clock reading in `zone` at an instant. */
export function wallClockAt(epochMs: number, zone: string = DEFAULT_TIME_ZONE): WallClock {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(zone).formatToParts(new Date(epochMs))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year ?? 0,
    month: parts.month ?? 0,
    day: parts.day ?? 0,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

/** The zone's offset from UTC at an instant, in ms (London: 0 in winter, 3,600,000 in summer). */
function offsetAt(epochMs: number, zone: string): number {
  const w = wallClockAt(epochMs, zone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(epochMs / 1000) * 1000;
}

/**
 * The instant a wall-clock time occurs in `zone`. Clock changes in the UK happen at 01:00 UTC, never near
 * midnight, so the end of a day always exists exactly once; for other times the later offset is taken.
 */
export function instantOfWallClock(w: WallClock, zone: string = DEFAULT_TIME_ZONE): number {
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  let guess = asUtc - offsetAt(asUtc, zone);
  // One correction settles it: the offset at the guess is the offset in force at that wall-clock time.
  guess = asUtc - offsetAt(guess, zone);
  return guess;
}

/**
 * The end of the local day (23:59:59) `offset` calendar days, weeks, months or years after the local date of
 * `anchorMs` in `zone`. An offset with hours, minutes or seconds is not a calendar deadline and is refused.
 */
export function calendarDeadline(anchorMs: number, offset: IsoDuration, zone: string = DEFAULT_TIME_ZONE): number {
  if (offset.hours !== 0 || offset.minutes !== 0 || offset.seconds !== 0) {
    throw new RangeError('a calendar deadline counts whole days, weeks, months or years (P5D, P13W, P6M), not hours');
  }
  const local = wallClockAt(anchorMs, zone);
  // Calendar arithmetic on the local date alone (noon, so no offset can move it across a day boundary).
  const target = new Date(addIsoDuration(Date.UTC(local.year, local.month - 1, local.day, 12), offset));
  return instantOfWallClock(
    {
      year: target.getUTCFullYear(),
      month: target.getUTCMonth() + 1,
      day: target.getUTCDate(),
      hour: 23,
      minute: 59,
      second: 59,
    },
    zone,
  );
}

/**
 * The first instant `anchorMs + k × interval` (k ≥ 1) strictly after `afterMs`: a fixed schedule that keeps its
 * rhythm from the anchor however late or early the last entry on it was written.
 */
export function nextSlot(anchorMs: number, intervalMs: number, afterMs: number): number {
  if (!(intervalMs > 0)) throw new RangeError('the interval must be longer than zero');
  const k = Math.max(1, Math.floor((afterMs - anchorMs) / intervalMs) + 1);
  return anchorMs + k * intervalMs;
}
