/**
 * A report's chart, drawn on the server as SVG: horizontal bars, one group per row of the report and one bar per
 * series, each bar labelled with its value in words ("< 5" where a figure is suppressed), so the picture reads
 * without colour and without JavaScript. The table under it gives the same figures; the SVG says so in its
 * description. Colours are the NHS palette's, each at least 3:1 against white (WCAG 1.4.11).
 */
export interface ChartSeries {
  readonly label: string;
  /** One per category; null where the figure is suppressed or there is none. */
  readonly values: readonly (number | null)[];
  /** How a value of the series is written on its bar. */
  readonly format: (value: number) => string;
  /** Written on the bar of a null value. */
  readonly missing: readonly string[];
}

export interface Chart {
  readonly title: string;
  readonly categories: readonly string[];
  readonly series: readonly ChartSeries[];
}

/** Past this many groups a chart is a blur: the page shows the table alone and says why. */
export const MAX_CHART_CATEGORIES = 40;

const COLOURS = ['#005eb8', '#330072', '#007f3b', '#d5281b', '#425563'];
const WIDTH = 760;
const LABEL_WIDTH = 250;
const VALUE_WIDTH = 70;
const BAR_HEIGHT = 14;
const GROUP_GAP = 12;
const LEGEND_ROW = 22;

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Cuts a label that would run into the bars, keeping its start (the full text is in the table and the <title>). */
const fitted = (text: string, max = 36) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** The chart as an SVG element, with `id` naming its title and description for assistive technology. */
export function renderChart(chart: Chart, id: string): string {
  const values = chart.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const low = Math.min(0, ...values);
  const high = Math.max(0, ...values, low === 0 ? 1 : 0);
  // Room for a value's words at each end a bar can reach: after it, and before it when it is negative.
  const left = LABEL_WIDTH + (low < 0 ? VALUE_WIDTH : 0);
  const plot = WIDTH - left - VALUE_WIDTH;
  const x = (value: number) => left + ((value - low) / (high - low || 1)) * plot;
  const legendHeight = chart.series.length > 1 ? chart.series.length * LEGEND_ROW + 8 : 0;
  const groupHeight = chart.series.length * BAR_HEIGHT + GROUP_GAP;
  const height = legendHeight + chart.categories.length * groupHeight + 10;
  const parts: string[] = [];

  chart.series.forEach((series, index) => {
    if (chart.series.length < 2) return;
    const y = index * LEGEND_ROW + 4;
    parts.push(
      `<rect x="${LABEL_WIDTH}" y="${y}" width="14" height="14" fill="${COLOURS[index % COLOURS.length]}"/>`,
      `<text x="${LABEL_WIDTH + 20}" y="${y + 12}" font-size="14" fill="#212b32">${escapeXml(series.label)}</text>`,
    );
  });
  const zero = x(0);
  chart.categories.forEach((category, row) => {
    const top = legendHeight + row * groupHeight;
    parts.push(
      `<text x="${LABEL_WIDTH - 8}" y="${top + (chart.series.length * BAR_HEIGHT) / 2 + 4}" text-anchor="end" font-size="13" fill="#212b32"><title>${escapeXml(category)}</title>${escapeXml(fitted(category))}</text>`,
    );
    chart.series.forEach((series, index) => {
      const value = series.values[row] ?? null;
      const y = top + index * BAR_HEIGHT;
      if (value === null) {
        parts.push(
          `<text x="${zero + 4}" y="${y + 11}" font-size="12" fill="#212b32">${escapeXml(series.missing[row] ?? '')}</text>`,
        );
        return;
      }
      const [from, to] = value < 0 ? [x(value), zero] : [zero, x(value)];
      parts.push(
        `<rect x="${from.toFixed(1)}" y="${y + 1}" width="${Math.max(to - from, value === 0 ? 0 : 1).toFixed(1)}" height="${BAR_HEIGHT - 2}" fill="${COLOURS[index % COLOURS.length]}"><title>${escapeXml(`${category}, ${series.label}: ${series.format(value)}`)}</title></rect>`,
        `<text x="${(value < 0 ? from - 4 : to + 4).toFixed(1)}" y="${y + 11}" text-anchor="${value < 0 ? 'end' : 'start'}" font-size="12" fill="#212b32">${escapeXml(series.format(value))}</text>`,
      );
    });
  });
  parts.push(
    `<line x1="${zero.toFixed(1)}" x2="${zero.toFixed(1)}" y1="${legendHeight}" y2="${height - 6}" stroke="#425563" stroke-width="1"/>`,
  );
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-labelledby="${id}-title ${id}-desc">` +
    `<title id="${id}-title">${escapeXml(chart.title)}</title>` +
    `<desc id="${id}-desc">A bar chart of the report: the table below gives the same figures.</desc>` +
    parts.join('') +
    `</svg>`
  );
}
