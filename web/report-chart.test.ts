/** The reports' server-drawn bar chart: named for assistive technology, a bar per figure, words for each value. */
import { renderChart } from './report-chart';

const percent = (v: number) => `${(v * 100).toFixed(1)}%`;

describe('renderChart', () => {
  const svg = renderChart(
    {
      title: 'Review compliance <October>',
      categories: ['HMP A', 'HMP B'],
      series: [
        { label: 'On time', values: [0.75, null], format: percent, missing: ['', '< 5'] },
        { label: 'Change', values: [-2.5, 4], format: (v) => v.toFixed(1), missing: ['', ''] },
      ],
    },
    'chart-x',
  );

  it('is an image named by its title and described as the table beside it', () => {
    expect(svg).toMatch(/^<svg [^>]*role="img" aria-labelledby="chart-x-title chart-x-desc"/);
    expect(svg).toContain('<title id="chart-x-title">Review compliance &lt;October&gt;</title>');
    expect(svg).toContain('the table below gives the same figures');
  });

  it('draws a bar for each figure there is, writes each value, and "< 5" for a suppressed one', () => {
    expect(svg.match(/<rect [^>]*><title>/g)).toHaveLength(3);
    for (const text of ['75.0%', '-2.5', '4.0', '&lt; 5']) expect(svg).toContain(`>${text}</text>`);
    // Two series: a legend naming each.
    expect(svg).toContain('>On time</text>');
    expect(svg).toContain('>Change</text>');
  });

  it('draws a negative bar left of the zero line, its value before it and clear of the labels', () => {
    const zero = Number(/<line x1="([\d.]+)"/.exec(svg)![1]);
    const negative = /<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"[^>]*><title>HMP A, Change: -2.5/.exec(svg)!;
    expect(Number(negative[1]) + Number(negative[2])).toBeCloseTo(zero, 0);
    const label = Number(/<text x="([\d.]+)"[^>]*text-anchor="end"[^>]*>-2.5</.exec(svg)![1]);
    expect(label).toBeGreaterThan(250);
  });
});
