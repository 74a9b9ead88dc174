/**
 * CSV for every report: RFC 4180 (CRLF line ends, a header row, a field quoted when it holds a comma, a quote, CR or
 * LF, quotes doubled), and safe to open in a spreadsheet: a text cell starting with `=`, `+`, `-`, `@`, a tab or a
 * carriage return is written with a leading apostrophe, as OWASP's CSV injection advice says, so that it is read as
 * text and never as a formula. Numbers the report computed (a mean change of -1.5) are written as numbers.
 */
import type { Cell, ReportColumn } from './report';
import { figureText, type Figure } from './suppression';

/** The media type of a report's CSV (RFC 4180 registers `header`). */
export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8; header=present';

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One field as RFC 4180 writes it, text neutralised against formulas. */
export function csvField(value: string, options: { text: boolean } = { text: true }): string {
  const safe = options.text && FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Rows of text fields as CSV. */
export function csvOf(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  return [header.map((h) => csvField(h)), ...rows.map((row) => row.map(fieldOf))]
    .map((fields) => fields.join(','))
    .join('\r\n')
    .concat('\r\n');
}

/** A field's value: text (neutralised) or a number the report computed (written as it is). */
export type CsvValue = string | { readonly number: string };

function fieldOf(value: CsvValue): string {
  return typeof value === 'string' ? csvField(value) : csvField(value.number, { text: false });
}

/** A report's rows as CSV, one column per report column, cells written as the column's kind reads. */
export function reportCsv<Row>(report: { columns: readonly ReportColumn<Row>[]; rows: readonly Row[] }): string {
  return csvOf(
    report.columns.map((column) => column.label),
    report.rows.map((row) => report.columns.map((column) => cellValue(row[column.key] as Cell, column))),
  );
}

function cellValue<Row>(cell: Cell, column: ReportColumn<Row>): CsvValue {
  if (cell === null || cell === undefined) return '';
  if (typeof cell === 'boolean') return cell ? 'yes' : 'no';
  if (typeof cell === 'number') return { number: numberText(cell, column.kind) };
  if (typeof cell === 'string') return cell;
  return figureCell(cell, column.kind);
}

function figureCell(figure: Figure, kind: ReportColumn<unknown>['kind']): CsvValue {
  // Suppressed and empty figures are text; a value is a number.
  if (figure.suppressed || figure.value === null) return figureText(figure);
  return { number: numberText(figure.value, kind) };
}

/** Shares as percentages to one decimal place, means to two, counts as they are. */
function numberText(value: number, kind: ReportColumn<unknown>['kind']): string {
  if (kind === 'share') return (value * 100).toFixed(1);
  if (kind === 'mean') return value.toFixed(2);
  return String(value);
}
