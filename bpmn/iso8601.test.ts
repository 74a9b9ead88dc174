import { addIsoDuration, parseIsoDateTime, parseIsoDuration, parseRepeatingInterval } from './iso8601';

const at = (iso: string): number => Date.parse(iso);

describe('ISO 8601 timers', () => {
  it.each(['P5D', 'PT12H', 'P13W', 'P1Y2M3DT4H5M6S', 'PT0.5S'])('reads the duration %s', (text) => {
    expect(parseIsoDuration(text)).toBeDefined();
  });

  it.each(['P', 'PT', '5D', 'P5', 'every day', 'P1DT'])('refuses %p as a duration', (text) => {
    expect(parseIsoDuration(text)).toBeUndefined();
  });

  it('reads zoned date-times and refuses ones without a zone or that do not exist', () => {
    expect(parseIsoDateTime('2026-03-01T09:00:00Z')).toBe(at('2026-03-01T09:00:00Z'));
    expect(parseIsoDateTime('2026-03-01T09:00:00+01:00')).toBe(at('2026-03-01T08:00:00Z'));
    expect(parseIsoDateTime('2026-03-01T09:00:00')).toBeUndefined();
    expect(parseIsoDateTime('2026-02-30T09:00:00Z')).toBeUndefined();
  });

  it('reads repeating intervals with and without a start and an end', () => {
    expect(parseRepeatingInterval('R3/P1D')).toMatchObject({ repetitions: 3, interval: { days: 1 } });
    expect(parseRepeatingInterval('R/PT1H')).toMatchObject({ repetitions: null, interval: { hours: 1 } });
    expect(parseRepeatingInterval('R2/2026-03-01T09:00:00Z/P1W')).toMatchObject({
      repetitions: 2,
      start: '2026-03-01T09:00:00Z',
      interval: { weeks: 1 },
    });
    expect(parseRepeatingInterval('R3/P0D')).toBeUndefined();
    expect(parseRepeatingInterval('0 0 9 * * ?')).toBeUndefined();
  });

  it('adds calendar units in UTC and clamps to the end of the month', () => {
    expect(addIsoDuration(at('2026-01-31T09:00:00Z'), parseIsoDuration('P1M')!)).toBe(at('2026-02-28T09:00:00Z'));
    expect(addIsoDuration(at('2026-03-02T09:00:00Z'), parseIsoDuration('P13W')!)).toBe(at('2026-06-01T09:00:00Z'));
    expect(addIsoDuration(at('2026-03-28T12:00:00Z'), parseIsoDuration('P1DT12H')!)).toBe(at('2026-03-30T00:00:00Z'));
  });
});
