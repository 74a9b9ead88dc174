/**
 * What every report shares: its shape (columns, rows, when it was made, the filters it applied, how many values
 * were suppressed), the filters (a London date range, settings, a pathway) checked and resolved against the
 * caller's scope, and the SQL pieces the report families build on.
 *
 * Scope: a case belongs to the setting it is in now (the one most recently recorded for it in `case_settings`: where
 * a journey handed it over to, else where it was opened; `case_current_settings` keeps it), and a report counts the
 * cases whose setting is one of the settings asked for, within the caller's. A case is counted once, under one
 * setting, whichever report it is in.
 *
 * Dates are London dates: a range's `from` and `to` are whole days in Europe/London, inclusive; an instant falls in
 * the London day (week, month) it is in on a London clock, either side of the October and March clock changes.
 * Weeks run Monday to Sunday.
 */
import type { Knex } from '@mikro-orm/knex';
import { ValidationError, type FieldProblem } from '../../domain/errors';
import type { Figure } from './suppression';

export const REPORT_TIME_ZONE = 'Europe/London';

/** The longest date range a report is asked for: three years (weekly rows beyond that are no longer a report). */
export const MAX_RANGE_DAYS = 1_100;

export interface ReportFilters {
  /** First London date counted, `YYYY-MM-DD`, inclusive; each report has a default. */
  readonly from?: string;
  /** Last London date counted, inclusive; today by default. */
  readonly to?: string;
  /** ODS codes of the settings to report on; all of the scope's when absent. Codes outside the scope are ignored. */
  readonly settings?: readonly string[];
  /** Only cases of this pathway (the case's own, e.g. `journey` or `sms-prison`). */
  readonly pathwayId?: string;
}

export interface ReportScope {
  /** ODS codes of the settings the caller may report on. Empty: nothing is reported. */
  readonly settings: readonly string[];
}

export interface ReportOptions {
  /** The clock (tests pin it); now by default. */
  readonly now?: Date;
}

/** The filters a report applied, as it applied them. */
export interface AppliedFilters {
  readonly from: string | null;
  readonly to: string | null;
  readonly settings: readonly string[];
  readonly pathwayId: string | null;
  readonly timeZone: typeof REPORT_TIME_ZONE;
  /** What else the report was asked (the caseload's grouping, the upcoming window, the extract's month). */
  readonly [extra: string]: string | number | null | readonly string[];
}

export type ColumnKind =
  | 'text'
  /** A London date, `YYYY-MM-DD`. */
  | 'date'
  /** An instant, ISO 8601 in UTC. */
  | 'instant'
  | 'count'
  /** A proportion from 0 to 1 (CSV and pages show it as a percentage). */
  | 'share'
  | 'mean'
  | 'boolean';

export interface ReportColumn<Row> {
  readonly key: keyof Row & string;
  readonly label: string;
  readonly kind: ColumnKind;
}

/** A value of a report row: text, a number, a flag, nothing, or a figure of an aggregate report. */
export type Cell = string | number | boolean | null | Figure;

/**
 * One report, ready for a table, a chart and a CSV: the same envelope for all of them. Operational reports hold
 * numbers (and, for the lists, people); outcome reports hold Figures, suppressed where the rule says.
 */
export interface Report<Id extends string, Row> {
  readonly report: Id;
  readonly title: string;
  readonly generatedAt: string;
  readonly filters: AppliedFilters;
  /** Whether its rows name people (NHS number, case): such a report is audited row by row. */
  readonly identifiable: boolean;
  readonly columns: readonly ReportColumn<Row>[];
  readonly rows: readonly Row[];
  /** Values shown as suppressed (counts, and shares and means made from them). */
  readonly suppressedCount: number;
  /** For lists: whether more rows matched than the limit let through. */
  readonly truncated: boolean;
  /** How the figures were counted, for the page's and the CSV's reader. */
  readonly notes: readonly string[];
}

/** The filters resolved: dates checked and defaulted, settings within the scope. */
export interface ResolvedFilters {
  readonly from: string;
  readonly to: string;
  readonly settings: readonly string[];
  readonly pathwayId: string | null;
  readonly now: Date;
  /** Today in London. */
  readonly today: string;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * The dates a report may be asked about. Bounded so that date arithmetic stays within four-digit years (past 9999 an
 * ISO date is written `+010000-01-01`, which sorts before `9999-12-31` and would never end a loop over weeks).
 */
export const EARLIEST_DATE = '1900-01-01';
export const LATEST_DATE = '2999-12-31';

/** Whether `text` is a real calendar date written `YYYY-MM-DD`, from EARLIEST_DATE to LATEST_DATE. */
export function isLondonDate(text: string): boolean {
  const match = DATE.exec(text);
  if (!match || text < EARLIEST_DATE || text > LATEST_DATE) return false;
  const [, y, m, d] = match.map(Number) as [number, number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** The London calendar date of an instant. */
export function londonDateOf(instant: Date): string {
  // en-CA writes dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: REPORT_TIME_ZONE,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(instant);
}

/** A calendar date `days` after (or before) another. */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** The Monday of a date's week. */
export function mondayOf(date: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const weekday = (new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7;
  return addDays(date, -weekday);
}

/** The first day of the month `months` before a date's month. */
export function monthStartBefore(date: string, months: number): string {
  const [y, m] = date.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m - 1 - months, 1)).toISOString().slice(0, 10);
}

function daysBetween(from: string, to: string): number {
  return (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000;
}

/**
 * Checks and resolves a report's filters. `defaultFrom` gives the first day when none is asked (from today).
 * Problems are named by the filter (`/from`, `/to`), for the API to prefix with `/query`.
 */
export function resolveFilters(
  filters: ReportFilters,
  scope: ReportScope,
  options: ReportOptions,
  defaultFrom: (today: string) => string,
): ResolvedFilters {
  const now = options.now ?? new Date();
  const today = londonDateOf(now);
  const problems: FieldProblem[] = [];
  for (const name of ['from', 'to'] as const) {
    const value = filters[name];
    if (value !== undefined && !isLondonDate(value))
      problems.push({
        pointer: `/${name}`,
        detail: `must be a date, YYYY-MM-DD, from ${EARLIEST_DATE} to ${LATEST_DATE}`,
      });
  }
  if (problems.length) throw new ValidationError('The report filters have problems', problems);
  const to = filters.to ?? today;
  const from = filters.from ?? defaultFrom(to);
  if (from > to) problems.push({ pointer: '/from', detail: 'must not be after to' });
  else if (daysBetween(from, to) >= MAX_RANGE_DAYS)
    problems.push({ pointer: '/from', detail: `must be at most ${MAX_RANGE_DAYS} days before to` });
  if (problems.length) throw new ValidationError('The report filters have problems', problems);
  const asked = filters.settings;
  const settings = [...new Set(asked ? scope.settings.filter((code) => asked.includes(code)) : scope.settings)].sort();
  return { from, to, settings, pathwayId: filters.pathwayId ?? null, now, today };
}

/** The filters as a report shows it applied them. */
export function appliedFilters(
  resolved: ResolvedFilters,
  dated: boolean,
  extra: Record<string, string | number | null | readonly string[]> = {},
): AppliedFilters {
  return {
    from: dated ? resolved.from : null,
    to: dated ? resolved.to : null,
    settings: resolved.settings,
    pathwayId: resolved.pathwayId,
    timeZone: REPORT_TIME_ZONE,
    ...extra,
  };
}

/** How many figures of the rows are suppressed. */
export function countSuppressed(rows: readonly object[]): number {
  let count = 0;
  for (const row of rows)
    for (const cell of Object.values(row))
      if (cell !== null && typeof cell === 'object' && (cell as Figure).suppressed === true) count++;
  return count;
}

/** The label of the rows that add up every setting's. */
export const ALL_SETTINGS = 'All settings';

/**
 * The cases in scope (as the module's header says), each with the setting it is in now (`case_current_settings`, kept
 * by a trigger on `case_settings`: migration report-scope), as a CTE named `scoped_cases` (case_id, ods_code,
 * setting_name); a report that needs the person or the case's status joins `cases` itself. Not materialised, even
 * where a query names it twice: joined in place, each join can use the indexes of `case_current_settings`.
 * Bindings: `:settings` (text[]), `:pathwayId`.
 */
export const SCOPED_CASES_CTE = `scoped_cases as not materialized (
  select cur.case_id, s.ods_code, s.name as setting_name
    from case_current_settings cur
    join settings s on s.id = cur.setting_id
   where s.ods_code = any(:settings::text[])
     and (:pathwayId::text is null
          or exists (select 1 from cases pc where pc.id = cur.case_id and pc.pathway_id = :pathwayId::text))
)`;

/** An instant's London date. */
export const londonDate = (instant: string) => `((${instant}) at time zone '${REPORT_TIME_ZONE}')::date`;

/** The instant a London date begins (its midnight, on a London clock). */
export const londonMidnight = (date: string) => `((${date})::date::timestamp at time zone '${REPORT_TIME_ZONE}')`;

/** The memory a report's sorts and hashes may use, each (PostgreSQL's default of 4 MB spills them to disk). */
export const REPORT_WORK_MEM = '64MB';

/**
 * Runs a report's SQL with named bindings, answering its rows. `large`: it sorts or hashes tens of thousands of rows,
 * so it runs in its own transaction with REPORT_WORK_MEM for them, which then stay in memory instead of spilling to
 * disk (bench:reports).
 */
export async function rowsOf<T>(
  knex: Knex,
  sql: string,
  bindings: Record<string, unknown>,
  options: { large?: boolean } = {},
): Promise<T[]> {
  if (!options.large) return (await knex.raw<{ rows: T[] }>(sql, bindings as Knex.ValueDict)).rows;
  return knex.transaction(async (trx) => {
    await trx.raw(`set local work_mem = '${REPORT_WORK_MEM}'`);
    return (await trx.raw<{ rows: T[] }>(sql, bindings as Knex.ValueDict)).rows;
  });
}

/** The bindings every scoped query takes. */
export function scopeBindings(resolved: ResolvedFilters): Record<string, unknown> {
  return { settings: [...resolved.settings], pathwayId: resolved.pathwayId };
}

/** An instant as ISO 8601 (pg answers Dates; null stays null). */
export function isoOf(value: Date | string | null): string | null {
  return value === null ? null : new Date(value).toISOString();
}

/** A date as `YYYY-MM-DD`: the queries select dates as text (`::text`), since pg would make a local-midnight Date. */
export function dateText(value: Date | string | null): string | null {
  if (value === null) return null;
  return typeof value === 'string' ? value.slice(0, 10) : value.toISOString().slice(0, 10);
}
