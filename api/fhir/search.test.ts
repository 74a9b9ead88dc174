/** `_lastUpdated` as FHIR reads it: a value names a span as long as its precision, the prefix compares with it. */
import { ValidationError } from '../../domain/errors';
import { updatedBounds } from './search';

const bounds = (value: string) => updatedBounds([value]).map((b) => `${b.op} ${b.at.toISOString()}`);

describe('updatedBounds', () => {
  it('reads a date without a prefix as the whole span of its precision', () => {
    expect(bounds('2026')).toEqual(['>= 2026-01-01T00:00:00.000Z', '< 2027-01-01T00:00:00.000Z']);
    expect(bounds('2026-02')).toEqual(['>= 2026-02-01T00:00:00.000Z', '< 2026-03-01T00:00:00.000Z']);
    expect(bounds('eq2026-12-31')).toEqual(['>= 2026-12-31T00:00:00.000Z', '< 2027-01-01T00:00:00.000Z']);
    expect(bounds('2026-12-31T10:20Z')).toEqual(['>= 2026-12-31T10:20:00.000Z', '< 2026-12-31T10:21:00.000Z']);
    expect(bounds('2026-12-31T10:20:30.5Z')).toEqual(['>= 2026-12-31T10:20:30.500Z', '< 2026-12-31T10:20:30.501Z']);
  });

  it('compares with the span: gt after its end, ge from its start, lt before its start, le up to its end', () => {
    expect(bounds('gt2026-05-01')).toEqual(['>= 2026-05-02T00:00:00.000Z']);
    expect(bounds('ge2026-05-01')).toEqual(['>= 2026-05-01T00:00:00.000Z']);
    expect(bounds('lt2026-05-01')).toEqual(['< 2026-05-01T00:00:00.000Z']);
    expect(bounds('le2026-05-01')).toEqual(['< 2026-05-02T00:00:00.000Z']);
  });

  it('reads the years of four digits as they are, leap days included', () => {
    expect(bounds('0050-02-01')).toEqual(['>= 0050-02-01T00:00:00.000Z', '< 0050-02-02T00:00:00.000Z']);
    expect(bounds('2024-02-29')).toEqual(['>= 2024-02-29T00:00:00.000Z', '< 2024-03-01T00:00:00.000Z']);
    expect(() => bounds('2023-02-29')).toThrow(ValidationError);
  });

  it('honours the time zone of a dateTime', () => {
    expect(bounds('ge2026-05-01T01:00:00+02:00')).toEqual(['>= 2026-04-30T23:00:00.000Z']);
    expect(bounds('ge2026-05-01T01:00:00-01:30')).toEqual(['>= 2026-05-01T02:30:00.000Z']);
  });

  it('refuses what is not a date, naming /query/_lastUpdated', () => {
    for (const value of ['2026-02-30', 'ne2026', '2026-13', '2026-05-01T10:00', 'yesterday']) {
      expect(() => updatedBounds([value])).toThrow(ValidationError);
      try {
        updatedBounds([value]);
      } catch (error) {
        expect((error as ValidationError).problems).toEqual([
          { pointer: '/query/_lastUpdated', detail: expect.any(String) },
        ]);
      }
    }
  });
});
