import { createRenderer, formatNhsNumber, londonDateTime, londonDay } from './render';

describe('what the pages show', () => {
  it('shows an NHS number as 3-3-4, and anything else as it came', () => {
    expect(formatNhsNumber('9000000068')).toBe('900 000 0068');
    expect(formatNhsNumber('900 000 0068')).toBe('900 000 0068');
    expect(formatNhsNumber('12345')).toBe('12345');
    expect(formatNhsNumber(null)).toBe('');
  });

  it('shows instants on London time, on either side of a clock change', () => {
    // 25 October 2026: clocks go back at 02:00 BST (01:00 UTC).
    expect(londonDateTime('2026-10-24T22:59:59Z')).toBe('24 Oct 2026, 23:59');
    expect(londonDateTime('2026-10-25T23:59:59Z')).toBe('25 Oct 2026, 23:59');
    expect(londonDay('2026-10-24T23:30:00Z')).toBe('2026-10-25');
    expect(londonDay('2026-12-07T23:30:00Z')).toBe('2026-12-07');
    expect(londonDateTime(null)).toBe('');
  });

  it('renders the NHS.UK template with escaping on', () => {
    const html = createRenderer().render('error.njk', { title: '<b>Nope</b>', detail: 'x' });
    expect(html).toContain('&lt;b&gt;Nope&lt;/b&gt; – Throughcare</title>');
    expect(html).toContain('class="nhsuk-header');
    expect(html).toContain('<link rel="stylesheet" href="/assets/nhsuk-frontend.min.css">');
  });
});
