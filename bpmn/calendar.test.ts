import { calendarDeadline, instantOfWallClock, nextSlot, wallClockAt } from './calendar';
import { evaluateFeel, toPlainValue } from './feel';
import { parseIsoDuration } from './iso8601';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const days = (text: string) => parseIsoDuration(text)!;

// 2026 in London: BST from 29 March 01:00 UTC to 25 October 01:00 UTC.
describe('calendar deadlines in Europe/London', () => {
  it('ends the fifth calendar day at 23:59:59 local time, whatever the time of arrival', () => {
    expect(iso(calendarDeadline(at('2026-01-12T14:10:00Z'), days('P5D')))).toBe('2026-01-17T23:59:59.000Z');
    expect(iso(calendarDeadline(at('2026-01-12T00:05:00Z'), days('P5D')))).toBe('2026-01-17T23:59:59.000Z');
    expect(iso(calendarDeadline(at('2026-06-12T09:00:00Z'), days('P5D')))).toBe('2026-06-17T22:59:59.000Z');
  });

  it('counts from the local date: a 23:30 arrival in summer is already the next day in UTC terms', () => {
    // 22:30 UTC on 10 June is 23:30 on 10 June in London; 00:30 BST on 11 June is still 23:30 UTC on 10 June.
    expect(iso(calendarDeadline(at('2026-06-10T22:30:00Z'), days('P5D')))).toBe('2026-06-15T22:59:59.000Z');
    expect(iso(calendarDeadline(at('2026-06-10T23:30:00Z'), days('P5D')))).toBe('2026-06-16T22:59:59.000Z');
  });

  it('crosses the March and October clock changes by the calendar, not in 24-hour steps', () => {
    expect(iso(calendarDeadline(at('2026-03-26T14:10:00Z'), days('P5D')))).toBe('2026-03-31T22:59:59.000Z');
    expect(iso(calendarDeadline(at('2026-10-22T14:10:00Z'), days('P5D')))).toBe('2026-10-27T23:59:59.000Z');
    expect(iso(calendarDeadline(at('2026-08-01T10:00:00Z'), days('P13W')))).toBe('2026-10-31T23:59:59.000Z');
    expect(iso(calendarDeadline(at('2026-08-31T10:00:00Z'), days('P6M')))).toBe('2027-02-28T23:59:59.000Z');
  });

  it('refuses an offset in hours: that is not a calendar deadline', () => {
    expect(() => calendarDeadline(at('2026-01-12T14:10:00Z'), days('PT48H'))).toThrow(/whole days/);
  });

  it('reads and writes wall-clock time in the zone', () => {
    expect(wallClockAt(at('2026-10-25T00:30:00Z'))).toMatchObject({ day: 25, hour: 1, minute: 30 });
    expect(wallClockAt(at('2026-10-25T01:30:00Z'))).toMatchObject({ day: 25, hour: 1, minute: 30 });
    expect(iso(instantOfWallClock({ year: 2026, month: 7, day: 1, hour: 0, minute: 0, second: 0 }))).toBe(
      '2026-06-30T23:00:00.000Z',
    );
  });
});

describe('fixed schedules', () => {
  it('keeps the rhythm of the anchor however late the last entry was', () => {
    const anchor = at('2026-03-02T08:00:00Z');
    const halfHour = 30 * 60_000;
    expect(iso(nextSlot(anchor, halfHour, anchor))).toBe('2026-03-02T08:30:00.000Z');
    expect(iso(nextSlot(anchor, halfHour, at('2026-03-02T08:41:00Z')))).toBe('2026-03-02T09:00:00.000Z');
    expect(iso(nextSlot(anchor, halfHour, at('2026-03-02T09:00:00Z')))).toBe('2026-03-02T09:30:00.000Z');
    expect(iso(nextSlot(anchor, halfHour, at('2026-03-02T07:00:00Z')))).toBe('2026-03-02T08:30:00.000Z');
  });
});

describe('the FEEL functions', () => {
  const NOW = at('2026-03-02T09:00:00Z');
  const feel = (expression: string, context: Record<string, unknown> = {}) =>
    toPlainValue(evaluateFeel(expression, context, NOW));

  it('deadline() takes an ISO string or a date and time, and an offset from a variable', () => {
    expect(feel('deadline(r, after)', { r: '2026-10-22T14:10:00Z', after: 'P5D' })).toBe('2026-10-27T23:59:59.000Z');
    // Overdue from the first second of the next local day: 00:00 BST on 8 April.
    expect(feel('deadline(date and time(r), duration("P28D")) + duration("PT1S")', { r: '2026-03-10T23:30:00Z' })).toBe(
      '2026-04-07T23:00:00.000Z',
    );
  });

  it('nextSlot() answers from the anchor, and bad arguments fail the expression with a reason', () => {
    expect(feel('nextSlot(set, "PT30M", now())', { set: '2026-03-02T07:50:00Z' })).toBe('2026-03-02T09:20:00.000Z');
    expect(() => feel('deadline(missing, "P5D")')).toThrow(/anchor must be a date and time/);
    expect(() => feel('deadline("2026-03-02T07:50:00Z", "soon")')).toThrow(/offset must be an ISO 8601 duration/);
  });
});
