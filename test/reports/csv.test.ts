/**
 * The reports' CSV writer (engine/reports/csv.ts): RFC 4180 quoting and line ends, text that a spreadsheet would
 * run as a formula neutralised with a leading apostrophe (OWASP CSV injection), numbers the report computed written
 * as numbers, and a report's cells by their column's kind.
 */
import { csvField, csvOf, reportCsv, type Report } from '../../engine/reports';

describe('report CSV', () => {
  it('quotes a field holding a comma, a quote, CR or LF, doubling quotes (RFC 4180)', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('Leeds, West Yorkshire')).toBe('"Leeds, West Yorkshire"');
    expect(csvField('the "Gate"')).toBe('"the ""Gate"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('carriage\rreturn')).toBe('"carriage\rreturn"');
    expect(csvOf(['a', 'b'], [['1', '2,3']])).toBe('a,b\r\n1,"2,3"\r\n');
  });

  it('writes text starting with = + - @, a tab or CR with a leading apostrophe, so it is never run as a formula', () => {
    for (const attack of ['=1+1', '+1+1', '-1+1', '@SUM(A1:A2)', '\t=1+1', '\r=1+1'])
      expect(csvField(attack).replace(/^"|"$/g, '').startsWith(`'`)).toBe(true);
    expect(csvField(`=HYPERLINK("http://evil.example","click")`)).toBe(
      `"'=HYPERLINK(""http://evil.example"",""click"")"`,
    );
    expect(csvOf(['agency'], [["-2+3+cmd|' /C calc'!A0"]])).toBe(`agency\r\n'-2+3+cmd|' /C calc'!A0\r\n`);
    // Not a formula: left as it is.
    expect(csvField('E08000035')).toBe('E08000035');
    expect(csvField("O'Brien")).toBe("O'Brien");
  });

  it('writes computed numbers as numbers (a negative mean is not a formula)', () => {
    expect(csvOf(['change'], [[{ number: '-10.40' }]])).toBe('change\r\n-10.40\r\n');
  });

  it('writes a report by its columns: counts, shares as percentages, means, flags, dates, suppressed figures', () => {
    interface Row {
      name: string;
      count: { value: number | null; suppressed: boolean };
      share: { value: number | null; suppressed: boolean };
      mean: { value: number | null; suppressed: boolean };
      flag: boolean;
      day: string | null;
      n: number;
    }
    const report: Pick<Report<'test', Row>, 'columns' | 'rows'> = {
      columns: [
        { key: 'name', label: 'Name', kind: 'text' },
        { key: 'count', label: 'Count', kind: 'count' },
        { key: 'share', label: 'Share (%)', kind: 'share' },
        { key: 'mean', label: 'Mean change', kind: 'mean' },
        { key: 'flag', label: 'Told', kind: 'boolean' },
        { key: 'day', label: 'Date', kind: 'date' },
        { key: 'n', label: 'Open tasks', kind: 'count' },
      ],
      rows: [
        {
          name: '=cmd',
          count: { value: 12, suppressed: false },
          share: { value: 0.75, suppressed: false },
          mean: { value: -10.4, suppressed: false },
          flag: true,
          day: '2026-10-25',
          n: 3,
        },
        {
          name: 'Small',
          count: { value: null, suppressed: true },
          share: { value: null, suppressed: true },
          mean: { value: null, suppressed: false },
          flag: false,
          day: null,
          n: 0,
        },
      ],
    };
    expect(reportCsv(report)).toBe(
      'Name,Count,Share (%),Mean change,Told,Date,Open tasks\r\n' +
        "'=cmd,12,75.0,-10.40,yes,2026-10-25,3\r\n" +
        'Small,< 5,< 5,,no,,0\r\n',
    );
  });
});
