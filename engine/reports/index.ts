/**
 * Public face of engine/reports/: the reports of issue 18 as plain functions `(store, filters, scope, options?)`
 * answering typed rows in one envelope (report.ts), and the CSV of any of them. No HTTP here: the API
 * (api/v1/reports.routes.ts) and the web pages call these.
 */
export {
  ALL_SETTINGS,
  MAX_RANGE_DAYS,
  REPORT_TIME_ZONE,
  type AppliedFilters,
  type Cell,
  type ColumnKind,
  type Report,
  type ReportColumn,
  type ReportFilters,
  type ReportOptions,
  type ReportScope,
} from './report';
export {
  SMALL_COUNT_LIMIT,
  SUPPRESSED_TEXT,
  derivedFigure,
  figureOf,
  figureText,
  isSmallCount,
  suppressionOf,
  type Figure,
  type SuppressionGroup,
} from './suppression';
export { CSV_CONTENT_TYPE, csvField, csvOf, reportCsv, type CsvValue } from './csv';
export {
  FORMS,
  REVIEW_MILESTONES,
  SCREEN_RESULTS,
  UPCOMING_REVIEWS,
  WATCHED_MILESTONES,
  type Milestone,
} from './pathway-facts';
export {
  CASELOAD_GROUPINGS,
  DEFAULT_LIST_LIMIT,
  MAX_LIST_LIMIT,
  UPCOMING_WINDOWS,
  caseloadReport,
  missedAppointmentsReport,
  overdueMilestonesReport,
  releaseContinuityReport,
  upcomingReviewsReport,
  weeklyActivityReport,
  type CaseloadFilters,
  type CaseloadGrouping,
  type CaseloadReport,
  type CaseloadRow,
  type MissedAppointmentRow,
  type MissedAppointmentsFilters,
  type MissedAppointmentsReport,
  type OverdueMilestoneRow,
  type OverdueMilestonesReport,
  type ReleaseContinuityReport,
  type ReleaseContinuityRow,
  type UpcomingReviewRow,
  type UpcomingReviewsFilters,
  type UpcomingReviewsReport,
  type UpcomingWindow,
  type WeeklyActivityReport,
  type WeeklyActivityRow,
} from './operational';
export {
  TOP_MEASURES,
  briefInterventionsReport,
  milestoneComplianceReport,
  snomedOutcomesReport,
  topChangeReport,
  type BriefInterventionRow,
  type BriefInterventionsReport,
  type MilestoneComplianceReport,
  type MilestoneComplianceRow,
  type SnomedOutcomeRow,
  type SnomedOutcomesReport,
  type TopChangeReport,
  type TopChangeRow,
} from './outcomes';
export { ndtmsExtract, type NdtmsEpisodeRow, type NdtmsExtract, type NdtmsExtractFilters } from './ndtms-extract';
