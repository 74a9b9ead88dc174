/** RFC 3339 date-times as Temporal reads them in queries and search attribute values. */

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * Reads an RFC 3339 date-time (what Go's time.RFC3339Nano accepts) and returns it at PostgreSQL's
 * microsecond precision, or undefined when it is not one.
 */
export function normaliseRfc3339(text: string): string | undefined {
  const match = RFC3339.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, fraction, zone] = match as unknown as string[];
  const y = Number(year);
  const m = Number(month);
  const d = Number(day);
  const daysInMonth = new Date(Date.UTC(y, m, 0)).getUTCDate();
  if (m < 1 || m > 12 || d < 1 || d > daysInMonth) return undefined;
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) return undefined;
  if (zone!.length > 1 && (Number(zone!.slice(1, 3)) > 23 || Number(zone!.slice(4, 6)) > 59)) return undefined;
  const micros = fraction ? `.${fraction.slice(0, 6)}` : '';
  return `${year}-${month}-${day}T${hour}:${minute}:${second}${micros}${zone!.toUpperCase()}`;
}
