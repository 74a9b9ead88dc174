/**
 * The reports (engine/reports/), one GET per report, as JSON or as CSV (`?format=csv`, or `Accept: text/csv`).
 * - operational (team lead, `report.operational`): caseload, upcoming reviews, overdue milestones, weekly activity,
 *   release continuity, missed appointments. The two lists name people: each row shown is audited, as any read of a
 *   person's record is; the others are counts of one's settings.
 * - outcomes (commissioner and team lead, `report.outcomes`): milestone compliance, brief interventions, TOP change,
 *   SNOMED CT outcomes. Aggregate only, small numbers suppressed: nobody's record, nothing audited.
 * - the NDTMS extract (team lead, `report.extract`): person-level, with consent; each row audited.
 * Every setting asked for (`setting=A,B`) must be one the person works in (403 otherwise); none asked: all of theirs.
 */
import { ThroughcareError } from '../../domain/errors';
import {
  CSV_CONTENT_TYPE,
  briefInterventionsReport,
  caseloadReport,
  milestoneComplianceReport,
  missedAppointmentsReport,
  ndtmsExtract,
  overdueMilestonesReport,
  releaseContinuityReport,
  reportCsv,
  snomedOutcomesReport,
  topChangeReport,
  upcomingReviewsReport,
  weeklyActivityReport,
  type CaseloadGrouping,
  type MissedAppointmentRow,
  type NdtmsEpisodeRow,
  type Report,
  type ReportFilters,
  type ReportScope,
  type UpcomingReviewRow,
  type UpcomingWindow,
} from '../../engine/reports';
import type { Store } from '../../store';
import { authorize, type Action } from '../policy';
import { requireRole, withQueryPointers, type RouteContext, type RouteResult, type RouteSpec } from './operation';

const CSV = { contentType: 'text/csv', description: 'the rows as RFC 4180 CSV, one column per report column' };

/** The settings asked for, each allowed, and the person's scope; 403 naming a setting they do not work in. */
function reportScope(ctx: RouteContext, action: Action): { scope: ReportScope; settings?: string[] } {
  requireRole(ctx.principal, action);
  const asked = typeof ctx.query['setting'] === 'string' ? [...new Set(ctx.query['setting'].split(','))] : undefined;
  for (const settings of asked ? asked.map((code) => [code]) : [ctx.principal.settings]) {
    const decision = authorize(ctx.principal, action, { settings });
    if (!decision.allowed) throw new ThroughcareError('FORBIDDEN', decision.reason);
  }
  return { scope: { settings: ctx.principal.settings }, ...(asked ? { settings: asked } : {}) };
}

/** The filters of the query every report shares. */
function filtersOf(ctx: RouteContext, settings: string[] | undefined): ReportFilters {
  const text = (name: string) => (typeof ctx.query[name] === 'string' ? ctx.query[name] : undefined);
  return {
    ...(text('from') ? { from: text('from') } : {}),
    ...(text('to') ? { to: text('to') } : {}),
    ...(settings ? { settings } : {}),
    ...(text('pathway') ? { pathwayId: text('pathway') } : {}),
  };
}

function wantsCsv(ctx: RouteContext): boolean {
  const format = ctx.query['format'];
  if (format === 'csv' || format === 'json') return format === 'csv';
  return /\btext\/csv\b/i.test(ctx.headers.get('accept') ?? '');
}

/** The report as JSON, or as CSV when asked. */
function answer<Row>(ctx: RouteContext, report: Report<string, Row>): RouteResult {
  return wantsCsv(ctx) ? { body: reportCsv(report), contentType: CSV_CONTENT_TYPE } : { body: report };
}

type Run<Row> = (store: Store, scope: ReportScope, settings: string[] | undefined) => Promise<Report<string, Row>>;

/** A report of counts (no one's record): asked, answered. */
function countsRoute<Row>(action: Action, run: Run<Row>) {
  return async (ctx: RouteContext): Promise<RouteResult> => {
    const { scope, settings } = reportScope(ctx, action);
    return answer(ctx, await withQueryPointers(() => run(ctx.engine.store, scope, settings)));
  };
}

/** A report naming people: every row is authorised for the person's setting and audited as a read of their record. */
function peopleRoute<Row extends { patientId: string; settingOdsCode: string }>(
  action: Action,
  entity: { type: string; idOf: (row: Row) => string },
  run: Run<Row>,
) {
  return async (ctx: RouteContext): Promise<RouteResult> => {
    const { scope, settings } = reportScope(ctx, action);
    const report = await withQueryPointers(() => run(ctx.engine.store, scope, settings));
    const shown = report.rows.flatMap((row) => {
      const decision = authorize(ctx.principal, action, { settings: [row.settingOdsCode] });
      return decision.allowed ? [{ row, decision }] : [];
    });
    await ctx.audit(
      shown.map(({ row, decision }) => ({
        decision,
        action: 'read',
        operation: action,
        entityType: entity.type,
        entityId: entity.idOf(row),
        patientId: row.patientId,
        reason: `report ${report.report}`,
      })),
    );
    return answer(ctx, { ...report, rows: shown.map((s) => s.row) });
  };
}

const text = (q: Record<string, unknown>, name: string) => (typeof q[name] === 'string' ? q[name] : undefined);
const limitOf = (q: Record<string, unknown>) => (typeof q['limit'] === 'number' ? { limit: q['limit'] } : {});

const reportRoute = (
  path: string,
  operationId: string,
  summary: string,
  action: Action,
  query: string,
  patientData: boolean,
  handle: (ctx: RouteContext) => Promise<RouteResult>,
  schema = 'Report',
): RouteSpec => ({
  method: 'get',
  path: `/reports/${path}`,
  operationId,
  summary,
  tag: 'reports',
  action,
  patientData,
  query,
  success: { status: 200, schema, description: 'the report', alternative: CSV },
  problems: { '403': 'your role may not see this report, or a setting asked for is not one you work in' },
  handle,
});

export const REPORT_ROUTES: readonly RouteSpec[] = [
  reportRoute(
    'caseload',
    'getCaseloadReport',
    'Open cases and tasks now, per setting, team or keyworker, in your settings',
    'report.operational',
    'CaseloadReportQuery',
    false,
    (ctx) =>
      countsRoute('report.operational', (store, scope, settings) =>
        caseloadReport(
          store,
          {
            ...filtersOf(ctx, settings),
            ...(text(ctx.query, 'by') ? { by: text(ctx.query, 'by') as CaseloadGrouping } : {}),
          },
          scope,
        ),
      )(ctx),
  ),
  reportRoute(
    'upcoming-reviews',
    'getUpcomingReviewsReport',
    'Reviews due in the next 7 or 28 days, each with the person and due date (audited)',
    'report.operational',
    'UpcomingReviewsQuery',
    true,
    (ctx) =>
      peopleRoute<UpcomingReviewRow>(
        'report.operational',
        { type: 'WorklistTask', idOf: (row) => row.taskId },
        (store, scope, settings) =>
          upcomingReviewsReport(
            store,
            {
              ...filtersOf(ctx, settings),
              ...(typeof ctx.query['within'] === 'number' ? { withinDays: ctx.query['within'] as UpcomingWindow } : {}),
              ...limitOf(ctx.query),
            },
            scope,
          ),
      )(ctx),
  ),
  reportRoute(
    'overdue-milestones',
    'getOverdueMilestonesReport',
    'Milestones overdue now, by how many days (0-7, 8-28, more than 28)',
    'report.operational',
    'CurrentReportQuery',
    false,
    (ctx) =>
      countsRoute('report.operational', (store, scope, settings) =>
        overdueMilestonesReport(store, filtersOf(ctx, settings), scope),
      )(ctx),
  ),
  reportRoute(
    'weekly-activity',
    'getWeeklyActivityReport',
    'Receptions, referrals and discharges per London week',
    'report.operational',
    'DatedReportQuery',
    false,
    (ctx) =>
      countsRoute('report.operational', (store, scope, settings) =>
        weeklyActivityReport(store, filtersOf(ctx, settings), scope),
      )(ctx),
  ),
  reportRoute(
    'release-continuity',
    'getReleaseContinuityReport',
    'Appointments attended within 1, 7 and 14 days of release; missed appointments and their follow-up',
    'report.operational',
    'DatedReportQuery',
    false,
    (ctx) =>
      countsRoute('report.operational', (store, scope, settings) =>
        releaseContinuityReport(store, filtersOf(ctx, settings), scope),
      )(ctx),
  ),
  reportRoute(
    'missed-appointments',
    'getMissedAppointmentsReport',
    'Missed appointments after release, each with the person and its follow-up (audited)',
    'report.operational',
    'DatedListQuery',
    true,
    (ctx) =>
      peopleRoute<MissedAppointmentRow>(
        'report.operational',
        { type: 'Appointment', idOf: (row) => row.appointmentId },
        (store, scope, settings) =>
          missedAppointmentsReport(store, { ...filtersOf(ctx, settings), ...limitOf(ctx.query) }, scope),
      )(ctx),
  ),
  reportRoute(
    'milestone-compliance',
    'getMilestoneComplianceReport',
    'Share of 5-day, 28-day and 13-week reviews done by their deadline, per month and setting (aggregate)',
    'report.outcomes',
    'DatedReportQuery',
    false,
    (ctx) =>
      countsRoute('report.outcomes', (store, scope, settings) =>
        milestoneComplianceReport(store, filtersOf(ctx, settings), scope),
      )(ctx),
  ),
  reportRoute(
    'brief-interventions',
    'getBriefInterventionsReport',
    'Brief interventions by the reception screen result (aggregate)',
    'report.outcomes',
    'DatedReportQuery',
    false,
    (ctx) =>
      countsRoute('report.outcomes', (store, scope, settings) =>
        briefInterventionsReport(store, filtersOf(ctx, settings), scope),
      )(ctx),
  ),
  reportRoute(
    'top-change',
    'getTopChangeReport',
    'Treatment Outcomes Profile change from start to review (aggregate)',
    'report.outcomes',
    'DatedReportQuery',
    false,
    (ctx) =>
      countsRoute('report.outcomes', (store, scope, settings) =>
        topChangeReport(store, filtersOf(ctx, settings), scope),
      )(ctx),
  ),
  reportRoute(
    'snomed-outcomes',
    'getSnomedOutcomesReport',
    'Coded outcomes by SNOMED CT concept, per setting (aggregate)',
    'report.outcomes',
    'DatedReportQuery',
    false,
    (ctx) =>
      countsRoute('report.outcomes', (store, scope, settings) =>
        snomedOutcomesReport(store, filtersOf(ctx, settings), scope),
      )(ctx),
  ),
  reportRoute(
    'ndtms-extract',
    'getNdtmsExtract',
    'NDTMS secure-setting extract for a month: one row per episode, people with NDTMS consent only (audited)',
    'report.extract',
    'NdtmsExtractQuery',
    true,
    (ctx) =>
      peopleRoute<NdtmsEpisodeRow>(
        'report.extract',
        { type: 'Assessment', idOf: (row) => row.episodeId },
        (store, scope, settings) => {
          const { from: _from, to: _to, ...filters } = filtersOf(ctx, settings);
          const month = text(ctx.query, 'month');
          return ndtmsExtract(store, { ...filters, ...(month ? { month } : {}) }, scope);
        },
      )(ctx),
    'NdtmsExtract',
  ),
];
