/**
 * The reports pages (`/reports`), on the reports API (api/v1/reports.routes.ts), so the policy, the settings scope,
 * the suppression of small numbers and the audit of every person shown are the API's:
 * - `/reports`: the reports the person's roles may see, operational (team leads), outcomes (commissioners and team
 *   leads) and the NDTMS extract (team leads);
 * - `/reports/{report}`: its filters (a GET form, so a report's address can be shared and works without
 *   JavaScript), a chart drawn on the server where a picture reads better than a table, the table, and its CSV at
 *   `/reports/{report}/download` with the same filters.
 */
import { ValidationError } from '../domain/errors';
import { figureText, type Cell, type ColumnKind, type Report, type ReportColumn } from '../engine/reports';
import { PATHWAYS } from '../pathways';
import type { PageContext } from './index';
import {
  call,
  calendarDateOf,
  dateTimeValuesOf,
  errorSummaryOf,
  fieldsOf,
  isBlank,
  type FieldErrors,
} from './page-helpers';
import { longDate, londonDateTime } from './render';
import { MAX_CHART_CATEGORIES, renderChart, type Chart } from './report-chart';

type Family = 'operational' | 'outcomes' | 'extract';
type Extra = 'by' | 'within' | 'month';

interface ReportPage {
  readonly id: string;
  readonly operationId: string;
  readonly family: Family;
  readonly title: string;
  readonly summary: string;
  /** Whether it counts over a date range (the others are as things stand now, or a month). */
  readonly dated: boolean;
  readonly extra?: Extra;
  /** The chart: the columns naming a row (those the report has), and the columns drawn as bars. */
  readonly chart?: { readonly labels: readonly string[]; readonly series: readonly string[] };
}

const REPORTS: readonly ReportPage[] = [
  {
    id: 'caseload',
    operationId: 'getCaseloadReport',
    family: 'operational',
    title: 'Caseload',
    summary: 'Open cases and tasks now, per setting, team or keyworker.',
    dated: false,
    extra: 'by',
    chart: { labels: ['settingName', 'groupName', 'group'], series: ['openTasks', 'overdueTasks', 'unassignedTasks'] },
  },
  {
    id: 'upcoming-reviews',
    operationId: 'getUpcomingReviewsReport',
    family: 'operational',
    title: 'Upcoming reviews',
    summary: 'The 5-day, 28-day and 13-week reviews due in the next 7 or 28 days, and who they are for.',
    dated: false,
    extra: 'within',
  },
  {
    id: 'overdue-milestones',
    operationId: 'getOverdueMilestonesReport',
    family: 'operational',
    title: 'Overdue milestones',
    summary: 'Reviews and other milestones past their due date now, by how long.',
    dated: false,
    chart: { labels: ['settingName', 'milestone'], series: ['days0To7', 'days8To28', 'over28Days'] },
  },
  {
    id: 'weekly-activity',
    operationId: 'getWeeklyActivityReport',
    family: 'operational',
    title: 'Receptions, referrals and discharges',
    summary: 'New receptions, referrals and discharges per week.',
    dated: true,
    chart: { labels: ['weekStarting', 'settingName'], series: ['receptions', 'referrals', 'discharges'] },
  },
  {
    id: 'release-continuity',
    operationId: 'getReleaseContinuityReport',
    family: 'operational',
    title: 'Release continuity',
    summary: 'Appointments attended within 1, 7 and 14 days of release; missed appointments and their follow-up.',
    dated: true,
    chart: {
      labels: ['settingName'],
      series: ['releases', 'attendedWithin1Day', 'attendedWithin7Days', 'attendedWithin14Days', 'missedAppointments'],
    },
  },
  {
    id: 'missed-appointments',
    operationId: 'getMissedAppointmentsReport',
    family: 'operational',
    title: 'Missed appointments',
    summary:
      'Each missed appointment after release, whether agencies and family were told, and whether it was rebooked.',
    dated: true,
  },
  {
    id: 'milestone-compliance',
    operationId: 'getMilestoneComplianceReport',
    family: 'outcomes',
    title: 'Review compliance',
    summary: 'The share of 5-day, 28-day and 13-week reviews done by their deadline, per month and setting.',
    dated: true,
    chart: { labels: ['month', 'settingName', 'milestone'], series: ['onTimeShare'] },
  },
  {
    id: 'brief-interventions',
    operationId: 'getBriefInterventionsReport',
    family: 'outcomes',
    title: 'Brief interventions',
    summary: 'Brief interventions by the reception screen result.',
    dated: true,
    chart: { labels: ['label'], series: ['screened', 'interventions', 'completed'] },
  },
  {
    id: 'top-change',
    operationId: 'getTopChangeReport',
    family: 'outcomes',
    title: 'Treatment Outcomes Profile change',
    summary: 'Change from the Start to the Review profile: substance use days, injecting, health and wellbeing.',
    dated: true,
    chart: { labels: ['label'], series: ['meanChange'] },
  },
  {
    id: 'snomed-outcomes',
    operationId: 'getSnomedOutcomesReport',
    family: 'outcomes',
    title: 'Outcomes by SNOMED CT code',
    summary: 'Coded outcomes recorded in assessments, per concept and setting.',
    dated: true,
    chart: { labels: ['term', 'settingName'], series: ['count'] },
  },
  {
    id: 'ndtms-extract',
    operationId: 'getNdtmsExtract',
    family: 'extract',
    title: 'NDTMS extract',
    summary:
      'One row per treatment episode active in a month, for the secure-setting return; people without consent left out.',
    dated: false,
    extra: 'month',
  },
];

const FAMILIES: Record<Family, { title: string; roles: readonly string[] }> = {
  operational: { title: 'Workforce', roles: ['team-lead'] },
  outcomes: { title: 'Outcomes', roles: ['team-lead', 'commissioner'] },
  extract: { title: 'Returns', roles: ['team-lead'] },
};

const mayRead = (ctx: PageContext, family: Family) =>
  FAMILIES[family].roles.some((role) => ctx.principal.roles.includes(role as never));

const reportHref = (id: string, query = '') => `/reports/${id}${query ? `?${query}` : ''}`;

/** `GET /reports`: the reports this person may see, by family. */
export function reportsPage(ctx: PageContext): Promise<void> {
  const families = (Object.keys(FAMILIES) as Family[])
    .filter((family) => mayRead(ctx, family))
    .map((family) => ({
      title: FAMILIES[family].title,
      reports: REPORTS.filter((r) => r.family === family).map((r) => ({ ...r, href: reportHref(r.id) })),
    }));
  ctx.render('reports.njk', { title: 'Reports', current: 'reports', families });
  return Promise.resolve();
}

/** The filters as the form sent them, and the API query they stand for (or what is wrong with them). */
interface Filters {
  readonly values: Record<string, string | readonly string[]>;
  readonly query: Record<string, string>;
  readonly errors: FieldErrors;
}

function filtersOf(ctx: PageContext, report: ReportPage): Filters {
  const raw = ctx.req.query as Record<string, unknown>;
  const field = fieldsOf(raw);
  const values: Record<string, string | readonly string[]> = {};
  const query: Record<string, string> = {};
  const errors: FieldErrors = {};
  if (report.dated)
    for (const [name, label] of [
      ['from', 'From'],
      ['to', 'To'],
    ] as const) {
      // A shared address (and the CSV link) says `from=2026-11-01`; the form says `from[day]=1`...
      const plain = /^(\d{4})-(\d{2})-(\d{2})$/.exec(field(name));
      const date = plain
        ? { day: String(Number(plain[3])), month: String(Number(plain[2])), year: plain[1]! }
        : dateTimeValuesOf(field, name, false);
      values[`${name}Day`] = date.day;
      values[`${name}Month`] = date.month;
      values[`${name}Year`] = date.year;
      if (isBlank(date)) continue;
      const written = calendarDateOf(date);
      if (written) query[name] = written;
      else errors[`${name}-day`] = `${label} must be a real date, for example 1 11 2026`;
    }
  const asked = raw['setting'];
  const settings = (Array.isArray(asked) ? asked : typeof asked === 'string' ? [asked] : []).filter(
    (code): code is string => typeof code === 'string' && ctx.principal.settings.includes(code),
  );
  values['setting'] = settings;
  if (settings.length) query['setting'] = settings.join(',');
  const pathway = field('pathway');
  values['pathway'] = pathway;
  if (pathway) query['pathway'] = pathway;
  if (report.extra) {
    const extra = field(report.extra).trim();
    values[report.extra] = extra;
    if (extra) query[report.extra] = extra;
  }
  return { values, query, errors };
}

/** A value of a cell as the table (and a CSV reader) reads it. */
function cellText(value: Cell | undefined, kind: ColumnKind): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return figureText(value, (v) => cellText(v, kind));
  if (typeof value === 'boolean') return value ? 'Yes' : 'No';
  if (typeof value === 'number') {
    if (kind === 'share') return `${(value * 100).toFixed(1)}%`;
    if (kind === 'mean') return value.toFixed(1);
    return value.toLocaleString('en-GB');
  }
  if (kind === 'date') return longDate(value);
  if (kind === 'instant') return londonDateTime(value);
  return value;
}

const numberOf = (value: Cell | undefined): number | null =>
  typeof value === 'number' ? value : value && typeof value === 'object' ? value.value : null;

/** The report's chart, when it has one and few enough rows to draw; the reason when it has too many. */
function chartOf(report: ReportPage, shown: Report<string, Record<string, Cell>>): { svg?: string; note?: string } {
  if (!report.chart || shown.rows.length === 0) return {};
  if (shown.rows.length > MAX_CHART_CATEGORIES)
    return { note: `There are ${shown.rows.length} rows, too many to chart: narrow the filters to see one.` };
  const columns = new Map(shown.columns.map((c) => [c.key, c]));
  const labels = report.chart.labels.filter((key) => columns.has(key));
  const series = report.chart.series.flatMap((key) => {
    const column = columns.get(key);
    return column ? [column] : [];
  });
  const chart: Chart = {
    title: shown.title,
    categories: shown.rows.map((row) =>
      labels
        .map((key) => cellText(row[key], columns.get(key)!.kind))
        .filter(Boolean)
        .join(', '),
    ),
    series: series.map((column) => ({
      label: column.label,
      values: shown.rows.map((row) => numberOf(row[column.key])),
      missing: shown.rows.map((row) => cellText(row[column.key], column.kind)),
      format: (value: number) => cellText(value, column.kind),
    })),
  };
  return { svg: renderChart(chart, `chart-${report.id}`) };
}

function reportOf(ctx: PageContext): ReportPage {
  const id = String(ctx.req.params['report']);
  const report = REPORTS.find((r) => r.id === id);
  if (!report) throw new ValidationError('There is no such report', [{ pointer: '/report', detail: 'no such report' }]);
  return report;
}

/** Where the API's problems with the query are shown on the filter form. */
const QUERY_FIELDS: Record<string, string> = {
  '/query/from': 'from-day',
  '/query/to': 'to-day',
  '/query/setting': 'setting',
  '/query/pathway': 'pathway',
  '/query/by': 'by',
  '/query/within': 'within',
  '/query/month': 'month',
};

/** `GET /reports/{report}`: the filters, the chart, the table and a link to its CSV. */
export async function reportPage(ctx: PageContext): Promise<void> {
  const report = reportOf(ctx);
  const filters = filtersOf(ctx, report);
  const errors: FieldErrors = { ...filters.errors };
  let shown: Report<string, Record<string, Cell>> | undefined;
  if (Object.keys(errors).length === 0)
    try {
      shown = (await call(ctx, report.operationId, { query: filters.query })).body as typeof shown;
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      for (const problem of error.problems) {
        const id = QUERY_FIELDS[problem.pointer] ?? 'from-day';
        errors[id] ??= problem.detail;
      }
    }
  const search = new URLSearchParams(filters.query).toString();
  ctx.render(
    'report.njk',
    {
      title: shown?.title ?? report.title,
      current: 'reports',
      report,
      values: filters.values,
      settings: ctx.principal.settings,
      pathways: PATHWAYS.map((p) => ({ id: p.processId, name: p.name })),
      shown: shown && {
        ...shown,
        columns: shown.columns.map((c: ReportColumn<Record<string, Cell>>) => ({
          ...c,
          numeric: c.kind === 'count' || c.kind === 'share' || c.kind === 'mean',
        })),
        rows: shown.rows.map((row) => shown.columns.map((c) => cellText(row[c.key], c.kind))),
        appliedText: appliedText(shown),
      },
      chart: shown ? chartOf(report, shown) : {},
      csvHref: `/reports/${report.id}/download${search ? `?${search}` : ''}`,
      errors,
      ...(Object.keys(errors).length ? { errorSummary: errorSummaryOf(errors) } : {}),
    },
    Object.keys(errors).length ? 400 : 200,
  );
}

/** The filters the report applied, in words. */
function appliedText(shown: Report<string, Record<string, Cell>>): string {
  const { from, to, settings, pathwayId } = shown.filters;
  const parts = [
    from && to ? `${longDate(from)} to ${longDate(to)}` : '',
    settings.length ? `settings ${settings.join(', ')}` : '',
    pathwayId ? `pathway ${pathwayId}` : 'every pathway',
  ];
  return `${parts.filter(Boolean).join('; ')}. Made ${londonDateTime(shown.generatedAt)}, London time.`;
}

/** `GET /reports/{report}/download`: the report as CSV, with the filters of the page. */
export async function reportDownload(ctx: PageContext): Promise<void> {
  const report = reportOf(ctx);
  const filters = filtersFromQuery(ctx);
  const result = await call(ctx, report.operationId, { query: { ...filters, format: 'csv' } });
  const month = filters['month'] ?? '';
  ctx.download({
    name: `${report.id}${filters['from'] ? `-${filters['from']}` : ''}${filters['to'] ? `-to-${filters['to']}` : ''}${month ? `-${month}` : ''}.csv`,
    type: 'text/csv; charset=utf-8',
    body: String(result.body),
  });
}

/** The download link carries the API's own query (from, to, setting...), written by the report page. */
function filtersFromQuery(ctx: PageContext): Record<string, string> {
  const field = fieldsOf(ctx.req.query);
  const query: Record<string, string> = {};
  for (const name of ['from', 'to', 'setting', 'pathway', 'by', 'within', 'month'])
    if (field(name)) query[name] = field(name);
  return query;
}
