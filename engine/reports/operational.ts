/**
 * Operational reports, for team leads planning their workforce: identifiable within the settings they work in.
 * - caseload per setting, team (candidate group) or keyworker (the task's assignee), from open cases and tasks;
 * - upcoming reviews in the next 7 or 28 days: each task with the person and its due date;
 * - overdue milestones by how long they have been overdue;
 * - receptions, referrals and discharges per week;
 * - release continuity: appointments attended within 1, 7 and 14 days of release, missed appointments and whether
 *   they were followed up; and the missed appointments themselves.
 * They read the record store and the worklist projection only (report.ts says how cases are scoped and dated).
 */
import type { Store } from '../../store';
import { knexOf } from '../case-settings';
import {
  FORMS,
  MISSED_APPOINTMENT_TEMPLATE,
  UPCOMING_REVIEWS,
  WATCHED_MILESTONES,
  milestoneLabel,
} from './pathway-facts';
import {
  ALL_SETTINGS,
  SCOPED_CASES_CTE,
  addDays,
  appliedFilters,
  dateText,
  isoOf,
  londonDate,
  londonMidnight,
  mondayOf,
  monthStartBefore,
  resolveFilters,
  rowsOf,
  scopeBindings,
  type Report,
  type ReportColumn,
  type ReportFilters,
  type ReportOptions,
  type ReportScope,
} from './report';

/** Rows a list report answers at most unless asked for fewer. */
export const DEFAULT_LIST_LIMIT = 1_000;
export const MAX_LIST_LIMIT = 10_000;

const lastTwelveMonths = (to: string) => monthStartBefore(to, 11);
const lastTwelveWeeks = (to: string) => addDays(mondayOf(to), -7 * 11);

// ---------------------------------------------------------------------------------------------------------------
// Caseload

export const CASELOAD_GROUPINGS = ['setting', 'team', 'keyworker'] as const;
export type CaseloadGrouping = (typeof CASELOAD_GROUPINGS)[number];

export interface CaseloadFilters extends ReportFilters {
  readonly by?: CaseloadGrouping;
}

export interface CaseloadRow {
  /** Null on the rows that add up every setting's. */
  readonly settingOdsCode: string | null;
  readonly settingName: string;
  /** By team: the candidate group; by keyworker: the assignee (their sign-in subject). Null: none (or by setting). */
  readonly group: string | null;
  /** By keyworker: the assignee's name as the staff directory has it. */
  readonly groupName: string | null;
  /** By setting: open cases; by team or keyworker: the cases with open tasks of theirs. */
  readonly cases: number;
  readonly openTasks: number;
  readonly overdueTasks: number;
  readonly unassignedTasks: number;
}

export type CaseloadReport = Report<'caseload', CaseloadRow>;

interface CaseloadSqlRow {
  ods_code: string | null;
  setting_name: string | null;
  grp: string | null;
  group_name: string | null;
  cases: string;
  open_tasks: string;
  overdue_tasks: string;
  unassigned_tasks: string;
}

/** Open cases and their open tasks now, per setting, per team in each setting, or per keyworker in each setting. */
export async function caseloadReport(
  store: Store,
  filters: CaseloadFilters,
  scope: ReportScope,
  options: ReportOptions = {},
): Promise<CaseloadReport> {
  const resolved = resolveFilters(filters, scope, options, lastTwelveMonths);
  const by = filters.by ?? 'setting';
  const bindings = { ...scopeBindings(resolved), now: resolved.now };
  const taskCounts = `count(wt.id) as open_tasks,
           count(wt.id) filter (where wt.due_at < :now) as overdue_tasks,
           count(wt.id) filter (where wt.assignee is null) as unassigned_tasks`;
  const sql =
    by === 'setting'
      ? `with ${SCOPED_CASES_CTE},
         open_cases as (
           select sc.* from scoped_cases sc join cases c on c.id = sc.case_id where c.status = 'open'
         )
         select oc.ods_code, oc.setting_name, null as grp, null as group_name,
                count(distinct oc.case_id) as cases, ${taskCounts}
           from open_cases oc
           left join worklist_tasks wt on wt.case_id = oc.case_id and wt.status = 'open'
          group by grouping sets ((oc.ods_code, oc.setting_name), ())`
      : by === 'team'
        ? `with ${SCOPED_CASES_CTE}
           select sc.ods_code, sc.setting_name, g.team as grp, null as group_name,
                  count(distinct sc.case_id) as cases, ${taskCounts}
             from scoped_cases sc
             join cases c on c.id = sc.case_id and c.status = 'open'
             join worklist_tasks wt on wt.case_id = sc.case_id and wt.status = 'open'
            cross join lateral unnest(
              case when cardinality(wt.candidate_groups) = 0 then array[null]::text[] else wt.candidate_groups end
            ) as g(team)
            group by grouping sets ((sc.ods_code, sc.setting_name, g.team), (g.team))`
        : `with ${SCOPED_CASES_CTE}
           select sc.ods_code, sc.setting_name, wt.assignee as grp, max(st.display_name) as group_name,
                  count(distinct sc.case_id) as cases, ${taskCounts}
             from scoped_cases sc
             join cases c on c.id = sc.case_id and c.status = 'open'
             join worklist_tasks wt on wt.case_id = sc.case_id and wt.status = 'open'
             left join staff st on st.subject = wt.assignee
            group by grouping sets ((sc.ods_code, sc.setting_name, wt.assignee), (wt.assignee))`;
  const rows = resolved.settings.length === 0 ? [] : await rowsOf<CaseloadSqlRow>(knexOf(store), sql, bindings);
  const shaped = rows
    .map((r): CaseloadRow => ({
      settingOdsCode: r.ods_code,
      settingName: r.ods_code === null ? ALL_SETTINGS : (r.setting_name ?? ''),
      group: r.grp,
      groupName: r.group_name,
      cases: Number(r.cases),
      openTasks: Number(r.open_tasks),
      overdueTasks: Number(r.overdue_tasks),
      unassignedTasks: Number(r.unassigned_tasks),
    }))
    .sort(bySettingThen((a, b) => compareText(a.groupName ?? a.group, b.groupName ?? b.group)));
  const groupColumns: ReportColumn<CaseloadRow>[] =
    by === 'team'
      ? [{ key: 'group', label: 'Team', kind: 'text' }]
      : by === 'keyworker'
        ? [
            { key: 'groupName', label: 'Keyworker', kind: 'text' },
            { key: 'group', label: 'Keyworker sign-in', kind: 'text' },
          ]
        : [];
  return {
    report: 'caseload',
    title: `Caseload by ${by}`,
    generatedAt: resolved.now.toISOString(),
    filters: appliedFilters(resolved, false, { by }),
    identifiable: false,
    columns: [
      { key: 'settingName', label: 'Setting', kind: 'text' },
      { key: 'settingOdsCode', label: 'ODS code', kind: 'text' },
      ...groupColumns,
      { key: 'cases', label: by === 'setting' ? 'Open cases' : 'Cases with open tasks', kind: 'count' },
      { key: 'openTasks', label: 'Open tasks', kind: 'count' },
      { key: 'overdueTasks', label: 'Overdue tasks', kind: 'count' },
      { key: 'unassignedTasks', label: 'Unassigned tasks', kind: 'count' },
    ],
    rows: shaped,
    suppressedCount: 0,
    truncated: false,
    notes: [
      'Counted now, from open cases and their open worklist tasks; a case counts in the setting it is in now.',
      by === 'team'
        ? 'A task offered to several teams counts once for each; a task offered to no team is under an empty team.'
        : by === 'keyworker'
          ? 'A keyworker is the person a task is assigned to; unassigned tasks are under an empty keyworker.'
          : 'Overdue: past its due date now.',
    ],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Upcoming reviews

export const UPCOMING_WINDOWS = [7, 28] as const;
export type UpcomingWindow = (typeof UPCOMING_WINDOWS)[number];

export interface UpcomingReviewsFilters extends ReportFilters {
  /** Reviews due from now to the end of the London day this many days from today (28 unless asked). */
  readonly withinDays?: UpcomingWindow;
  readonly limit?: number;
}

export interface UpcomingReviewRow {
  readonly taskId: string;
  readonly caseId: string;
  readonly patientId: string;
  readonly nhsNumber: string;
  readonly settingOdsCode: string;
  readonly settingName: string;
  readonly elementId: string;
  readonly milestone: string;
  /** `open` (workable now) or `planned` (the pathway has not reached it yet). */
  readonly status: string;
  readonly dueAt: string;
  readonly dueDate: string;
  readonly daysUntilDue: number;
  readonly withinSevenDays: boolean;
  readonly assignee: string | null;
  readonly assigneeName: string | null;
}

export type UpcomingReviewsReport = Report<'upcoming-reviews', UpcomingReviewRow>;

interface UpcomingSqlRow {
  task_id: string;
  case_id: string;
  patient_id: string;
  nhs_number: string;
  ods_code: string;
  setting_name: string;
  element_id: string;
  status: string;
  due_at: Date;
  due_date: string;
  days_until_due: number;
  within_seven: boolean;
  assignee: string | null;
  assignee_name: string | null;
}

/** The reviews (planned or open) due from now to the end of the London day 7 or 28 days from today, soonest first. */
export async function upcomingReviewsReport(
  store: Store,
  filters: UpcomingReviewsFilters,
  scope: ReportScope,
  options: ReportOptions = {},
): Promise<UpcomingReviewsReport> {
  const resolved = resolveFilters(filters, scope, options, lastTwelveMonths);
  const withinDays = filters.withinDays ?? 28;
  const limit = listLimit(filters.limit);
  const sql = `with ${SCOPED_CASES_CTE}
    select wt.id as task_id, wt.case_id, c.patient_id, p.nhs_number, sc.ods_code, sc.setting_name, wt.element_id,
           wt.status, wt.due_at, ${londonDate('wt.due_at')}::text as due_date,
           ${londonDate('wt.due_at')} - :today::date as days_until_due,
           wt.due_at < ${londonMidnight(':today::date + 8')} as within_seven,
           wt.assignee, st.display_name as assignee_name
      from worklist_tasks wt
      join scoped_cases sc on sc.case_id = wt.case_id
      join cases c on c.id = wt.case_id
      join patients p on p.id = c.patient_id
      left join staff st on st.subject = wt.assignee
     where wt.element_id = any(:elements::text[])
       and wt.status in ('open', 'planned')
       and wt.due_at >= :now
       and wt.due_at < ${londonMidnight(':today::date + :days::int + 1')}
     order by wt.due_at, p.nhs_number, wt.id
     limit :limit`;
  const rows =
    resolved.settings.length === 0
      ? []
      : await rowsOf<UpcomingSqlRow>(knexOf(store), sql, {
          ...scopeBindings(resolved),
          now: resolved.now,
          today: resolved.today,
          days: withinDays,
          elements: UPCOMING_REVIEWS.map((m) => m.elementId),
          limit: limit + 1,
        });
  return {
    report: 'upcoming-reviews',
    title: `Reviews due in the next ${withinDays} days`,
    generatedAt: resolved.now.toISOString(),
    filters: appliedFilters(resolved, false, { withinDays }),
    identifiable: true,
    columns: [
      { key: 'dueDate', label: 'Due', kind: 'date' },
      { key: 'milestone', label: 'Review', kind: 'text' },
      { key: 'nhsNumber', label: 'NHS number', kind: 'text' },
      { key: 'settingName', label: 'Setting', kind: 'text' },
      { key: 'status', label: 'Status', kind: 'text' },
      { key: 'assigneeName', label: 'Assigned to', kind: 'text' },
      { key: 'daysUntilDue', label: 'Days until due', kind: 'count' },
      { key: 'withinSevenDays', label: 'Within 7 days', kind: 'boolean' },
      { key: 'dueAt', label: 'Due at (UTC)', kind: 'instant' },
      { key: 'caseId', label: 'Case', kind: 'text' },
    ],
    rows: rows.slice(0, limit).map((r) => ({
      taskId: r.task_id,
      caseId: r.case_id,
      patientId: r.patient_id,
      nhsNumber: r.nhs_number,
      settingOdsCode: r.ods_code,
      settingName: r.setting_name,
      elementId: r.element_id,
      milestone: milestoneLabel(r.element_id, UPCOMING_REVIEWS),
      status: r.status,
      dueAt: isoOf(r.due_at)!,
      dueDate: r.due_date,
      daysUntilDue: Number(r.days_until_due),
      withinSevenDays: r.within_seven,
      assignee: r.assignee,
      assigneeName: r.assignee_name,
    })),
    suppressedCount: 0,
    truncated: rows.length > limit,
    notes: [
      `The 5-day, 28-day and 13-week reviews and the TOP reviews, open or planned, due from now to the end of the London day ${withinDays} days from today.`,
    ],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Overdue milestones

export interface OverdueMilestoneRow {
  readonly settingOdsCode: string | null;
  readonly settingName: string;
  readonly elementId: string;
  readonly milestone: string;
  /** Overdue by 0 to 7 London days (0: its deadline passed earlier today). */
  readonly days0To7: number;
  readonly days8To28: number;
  readonly over28Days: number;
  readonly total: number;
}

export type OverdueMilestonesReport = Report<'overdue-milestones', OverdueMilestoneRow>;

interface OverdueSqlRow {
  ods_code: string | null;
  setting_name: string | null;
  element_id: string;
  band_0_7: string;
  band_8_28: string;
  band_over_28: string;
  total: string;
}

/** Milestones past their deadline and not done, now, by how many London days they are overdue. */
export async function overdueMilestonesReport(
  store: Store,
  filters: ReportFilters,
  scope: ReportScope,
  options: ReportOptions = {},
): Promise<OverdueMilestonesReport> {
  const resolved = resolveFilters(filters, scope, options, lastTwelveMonths);
  const sql = `with ${SCOPED_CASES_CTE},
    overdue as (
      select sc.ods_code, sc.setting_name, wt.element_id, :today::date - ${londonDate('wt.due_at')} as age
        from worklist_tasks wt
        join scoped_cases sc on sc.case_id = wt.case_id
       where wt.element_id = any(:elements::text[])
         and wt.status in ('open', 'planned')
         and wt.due_at < :now
    )
    select ods_code, setting_name, element_id,
           count(*) filter (where age <= 7) as band_0_7,
           count(*) filter (where age between 8 and 28) as band_8_28,
           count(*) filter (where age > 28) as band_over_28,
           count(*) as total
      from overdue
     group by grouping sets ((ods_code, setting_name, element_id), (element_id))`;
  const rows =
    resolved.settings.length === 0
      ? []
      : await rowsOf<OverdueSqlRow>(knexOf(store), sql, {
          ...scopeBindings(resolved),
          now: resolved.now,
          today: resolved.today,
          elements: WATCHED_MILESTONES.map((m) => m.elementId),
        });
  const order = (elementId: string) => WATCHED_MILESTONES.findIndex((m) => m.elementId === elementId);
  return {
    report: 'overdue-milestones',
    title: 'Overdue milestones by how long they are overdue',
    generatedAt: resolved.now.toISOString(),
    filters: appliedFilters(resolved, false),
    identifiable: false,
    columns: [
      { key: 'settingName', label: 'Setting', kind: 'text' },
      { key: 'settingOdsCode', label: 'ODS code', kind: 'text' },
      { key: 'milestone', label: 'Milestone', kind: 'text' },
      { key: 'days0To7', label: 'Overdue 0 to 7 days', kind: 'count' },
      { key: 'days8To28', label: 'Overdue 8 to 28 days', kind: 'count' },
      { key: 'over28Days', label: 'Overdue more than 28 days', kind: 'count' },
      { key: 'total', label: 'Overdue in all', kind: 'count' },
    ],
    rows: rows
      .map((r): OverdueMilestoneRow => ({
        settingOdsCode: r.ods_code,
        settingName: r.ods_code === null ? ALL_SETTINGS : (r.setting_name ?? ''),
        elementId: r.element_id,
        milestone: milestoneLabel(r.element_id),
        days0To7: Number(r.band_0_7),
        days8To28: Number(r.band_8_28),
        over28Days: Number(r.band_over_28),
        total: Number(r.total),
      }))
      .sort(bySettingThen((a, b) => order(a.elementId) - order(b.elementId))),
    suppressedCount: 0,
    truncated: false,
    notes: [
      'Open or planned milestones whose deadline has passed, counted now. Days overdue are London calendar days ' +
        'from the day of the deadline to today.',
    ],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Receptions, referrals and discharges per week

export interface WeeklyActivityRow {
  /** The Monday the London week begins. */
  readonly weekStarting: string;
  readonly settingOdsCode: string | null;
  readonly settingName: string;
  readonly receptions: number;
  readonly referrals: number;
  readonly discharges: number;
}

export type WeeklyActivityReport = Report<'weekly-activity', WeeklyActivityRow>;

interface WeeklySqlRow {
  week: string;
  ods_code: string;
  setting_name: string;
  receptions: string;
  referrals: string;
  discharges: string;
}

/**
 * Receptions (by the reception screen's time), referrals to the service (by their referral date) and discharges (by
 * the prison exit date) per London week, per setting, with a row for all settings each week; every week of the
 * range is there, with zeros where nothing happened.
 */
export async function weeklyActivityReport(
  store: Store,
  filters: ReportFilters,
  scope: ReportScope,
  options: ReportOptions = {},
): Promise<WeeklyActivityReport> {
  const resolved = resolveFilters(filters, scope, options, lastTwelveWeeks);
  const sql = `with ${SCOPED_CASES_CTE}
    select date_trunc('week', f.day)::date::text as week, sc.ods_code, sc.setting_name,
           count(*) filter (where f.form_id = :reception) as receptions,
           count(*) filter (where f.form_id = :referral) as referrals,
           count(*) filter (where f.form_id = :discharge) as discharges
      from report_facts f
      join scoped_cases sc on sc.case_id = f.case_id
     where f.form_id in (:reception, :referral, :discharge) and not f.corrected
       and f.day between :from::date and :to::date
     group by 1, 2, 3`;
  const rows =
    resolved.settings.length === 0
      ? []
      : await rowsOf<WeeklySqlRow>(knexOf(store), sql, {
          ...scopeBindings(resolved),
          from: resolved.from,
          to: resolved.to,
          reception: FORMS.reception,
          referral: FORMS.referral,
          discharge: FORMS.discharge,
        });
  const settings = new Map(rows.map((r) => [r.ods_code, r.setting_name]));
  const counted = new Map(rows.map((r) => [`${r.week}|${r.ods_code}`, r]));
  const shaped: WeeklyActivityRow[] = [];
  for (let week = mondayOf(resolved.from); week <= resolved.to; week = addDays(week, 7)) {
    const total = { receptions: 0, referrals: 0, discharges: 0 };
    for (const [odsCode, name] of [...settings].sort(([a], [b]) => compareText(a, b))) {
      const r = counted.get(`${week}|${odsCode}`);
      const row = {
        weekStarting: week,
        settingOdsCode: odsCode,
        settingName: name,
        receptions: Number(r?.receptions ?? 0),
        referrals: Number(r?.referrals ?? 0),
        discharges: Number(r?.discharges ?? 0),
      };
      total.receptions += row.receptions;
      total.referrals += row.referrals;
      total.discharges += row.discharges;
      shaped.push(row);
    }
    shaped.push({ weekStarting: week, settingOdsCode: null, settingName: ALL_SETTINGS, ...total });
  }
  return {
    report: 'weekly-activity',
    title: 'Receptions, referrals and discharges per week',
    generatedAt: resolved.now.toISOString(),
    filters: appliedFilters(resolved, true),
    identifiable: false,
    columns: [
      { key: 'weekStarting', label: 'Week starting', kind: 'date' },
      { key: 'settingName', label: 'Setting', kind: 'text' },
      { key: 'settingOdsCode', label: 'ODS code', kind: 'text' },
      { key: 'receptions', label: 'Receptions', kind: 'count' },
      { key: 'referrals', label: 'Referrals', kind: 'count' },
      { key: 'discharges', label: 'Discharges', kind: 'count' },
    ],
    rows: shaped,
    suppressedCount: 0,
    truncated: false,
    notes: [
      'Weeks run Monday to Sunday in London; the first and last weeks of the range count only its days.',
      'Receptions by the reception screen time, referrals by the referral date, discharges by the prison exit date.',
    ],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Release continuity

export interface ReleaseContinuityRow {
  readonly settingOdsCode: string | null;
  readonly settingName: string;
  /** Release plans whose release date is in the range. */
  readonly releases: number;
  /** Of those, people with an appointment attended on the release day or the day after. */
  readonly attendedWithin1Day: number;
  readonly attendedWithin7Days: number;
  readonly attendedWithin14Days: number;
  /** Appointments in the range recorded missed. */
  readonly missedAppointments: number;
  /** Of those, ones after which the missed-appointment message was sent. */
  readonly missedNotified: number;
  /** Of those, ones booked again (a later appointment of the same kind for the case). */
  readonly missedRebooked: number;
  /** Of those, ones with neither. */
  readonly missedWithoutFollowUp: number;
}

export type ReleaseContinuityReport = Report<'release-continuity', ReleaseContinuityRow>;

/** The follow-up of a missed appointment, as SQL over appointment `ap` (booleans `notified`, `rebooked`). */
const MISSED_FOLLOW_UP = `
  exists (select 1 from notification_outbox n
           where n.case_id = ap.case_id and n.template = :missedTemplate and n.status = 'sent'
             and n.created_at >= ap.starts_at) as notified,
  (select min(later.starts_at) from appointments later
    where later.case_id = ap.case_id and later.id <> ap.id
      and coalesce(later.kind, later.agency) = coalesce(ap.kind, ap.agency)
      and later.created_at >= ap.starts_at) as rebooked_for`;

// Sums are null on the all-settings row of an empty range (grouping by () answers one row over no rows).
interface ReleaseSqlRow {
  ods_code: string | null;
  setting_name: string | null;
  releases: string | null;
  within_1: string | null;
  within_7: string | null;
  within_14: string | null;
  missed: string | null;
  notified: string | null;
  rebooked: string | null;
  no_follow_up: string | null;
}

/**
 * Continuity of care after release, per setting (and all settings): of the releases in the range (the release plan's
 * date), how many people attended an appointment within 1, 7 and 14 days (London days from the release date); of
 * the appointments in the range recorded missed, how many were followed up by the message to agencies and family, by
 * a new booking, or by neither.
 */
export async function releaseContinuityReport(
  store: Store,
  filters: ReportFilters,
  scope: ReportScope,
  options: ReportOptions = {},
): Promise<ReleaseContinuityReport> {
  const resolved = resolveFilters(filters, scope, options, lastTwelveMonths);
  // Set-based: each release joined to its case's appointments and each missed appointment to its case's messages and
  // later bookings, grouped, rather than looked up one by one (tens of thousands of each over 100,000 cases).
  const sql = `with ${SCOPED_CASES_CTE},
    releases as (
      select f.assessment_id as release_id, sc.ods_code, sc.setting_name, f.case_id, f.day as release_date
        from report_facts f
        join scoped_cases sc on sc.case_id = f.case_id
       where f.form_id = :releasePlan and not f.corrected and f.day between :from::date and :to::date
    ),
    released as (
      select r.ods_code, r.setting_name,
             min(${londonDate('ap.starts_at')} - r.release_date)
               filter (where ap.status = 'attended' and ${londonDate('ap.starts_at')} >= r.release_date) as first_attended
        from releases r
        left join appointments ap on ap.case_id = r.case_id
       group by r.release_id, r.ods_code, r.setting_name
    ),
    missed as (
      select ap.id, ap.case_id, ap.starts_at, coalesce(ap.kind, ap.agency) as kind, sc.ods_code, sc.setting_name
        from appointments ap
        join scoped_cases sc on sc.case_id = ap.case_id
       where ap.status = 'missed'
         and ap.starts_at >= ${londonMidnight(':from::date')} and ap.starts_at < ${londonMidnight(':to::date + 1')}
    ),
    notified as (
      select distinct m.id
        from missed m
        join notification_outbox n on n.case_id = m.case_id
       where n.template = :missedTemplate and n.status = 'sent' and n.created_at >= m.starts_at
    ),
    rebooked as (
      select distinct m.id
        from missed m
        join appointments later on later.case_id = m.case_id
       where later.id <> m.id and coalesce(later.kind, later.agency) = m.kind and later.created_at >= m.starts_at
    ),
    counted as (
      select ods_code, setting_name, 1 as releases, (first_attended <= 1)::int as within_1,
             (first_attended <= 7)::int as within_7, (first_attended <= 14)::int as within_14,
             0 as missed, 0 as notified, 0 as rebooked, 0 as no_follow_up
        from released
      union all
      select m.ods_code, m.setting_name, 0, 0, 0, 0, 1, (n.id is not null)::int, (b.id is not null)::int,
             (n.id is null and b.id is null)::int
        from missed m
        left join notified n on n.id = m.id
        left join rebooked b on b.id = m.id
    )
    select ods_code, setting_name, sum(releases) as releases, sum(coalesce(within_1, 0)) as within_1,
           sum(coalesce(within_7, 0)) as within_7, sum(coalesce(within_14, 0)) as within_14, sum(missed) as missed,
           sum(notified) as notified, sum(rebooked) as rebooked, sum(no_follow_up) as no_follow_up
      from counted
     group by grouping sets ((ods_code, setting_name), ())`;
  const rows =
    resolved.settings.length === 0
      ? []
      : await rowsOf<ReleaseSqlRow>(
          knexOf(store),
          sql,
          {
            ...scopeBindings(resolved),
            from: resolved.from,
            to: resolved.to,
            releasePlan: FORMS.releasePlan,
            missedTemplate: MISSED_APPOINTMENT_TEMPLATE,
          },
          { large: true },
        );
  const shaped = rows
    .map((r): ReleaseContinuityRow => ({
      settingOdsCode: r.ods_code,
      settingName: r.ods_code === null ? ALL_SETTINGS : (r.setting_name ?? ''),
      releases: Number(r.releases ?? 0),
      attendedWithin1Day: Number(r.within_1 ?? 0),
      attendedWithin7Days: Number(r.within_7 ?? 0),
      attendedWithin14Days: Number(r.within_14 ?? 0),
      missedAppointments: Number(r.missed ?? 0),
      missedNotified: Number(r.notified ?? 0),
      missedRebooked: Number(r.rebooked ?? 0),
      missedWithoutFollowUp: Number(r.no_follow_up ?? 0),
    }))
    .sort(bySettingThen(() => 0));
  return {
    report: 'release-continuity',
    title: 'Continuity of care after release',
    generatedAt: resolved.now.toISOString(),
    filters: appliedFilters(resolved, true),
    identifiable: false,
    columns: [
      { key: 'settingName', label: 'Setting', kind: 'text' },
      { key: 'settingOdsCode', label: 'ODS code', kind: 'text' },
      { key: 'releases', label: 'Releases', kind: 'count' },
      { key: 'attendedWithin1Day', label: 'Attended an appointment within 1 day', kind: 'count' },
      { key: 'attendedWithin7Days', label: 'Within 7 days', kind: 'count' },
      { key: 'attendedWithin14Days', label: 'Within 14 days', kind: 'count' },
      { key: 'missedAppointments', label: 'Missed appointments', kind: 'count' },
      { key: 'missedNotified', label: 'Missed: agencies and family told', kind: 'count' },
      { key: 'missedRebooked', label: 'Missed: booked again', kind: 'count' },
      { key: 'missedWithoutFollowUp', label: 'Missed: no follow-up', kind: 'count' },
    ],
    rows: shaped,
    suppressedCount: 0,
    truncated: false,
    notes: [
      'Releases by the release plan date; "within N days" is an appointment attended from the release date to N ' +
        'London days after it.',
      'Missed appointments by their time; followed up when the missed-appointment message was sent after it, or ' +
        'an appointment of the same kind was booked for the case after it.',
    ],
  };
}

export interface MissedAppointmentsFilters extends ReportFilters {
  readonly limit?: number;
}

export interface MissedAppointmentRow {
  readonly appointmentId: string;
  readonly caseId: string;
  readonly patientId: string;
  readonly nhsNumber: string;
  readonly settingOdsCode: string;
  readonly settingName: string;
  readonly startsAt: string;
  readonly date: string;
  readonly agency: string;
  readonly kind: string | null;
  readonly notified: boolean;
  readonly rebooked: boolean;
  readonly rebookedFor: string | null;
}

export type MissedAppointmentsReport = Report<'missed-appointments', MissedAppointmentRow>;

interface MissedSqlRow {
  id: string;
  case_id: string;
  patient_id: string;
  nhs_number: string;
  ods_code: string;
  setting_name: string;
  starts_at: Date;
  day: string;
  agency: string;
  kind: string | null;
  notified: boolean;
  rebooked_for: Date | null;
}

/** The appointments in the range recorded missed, each with the person and whether it was followed up; newest first. */
export async function missedAppointmentsReport(
  store: Store,
  filters: MissedAppointmentsFilters,
  scope: ReportScope,
  options: ReportOptions = {},
): Promise<MissedAppointmentsReport> {
  const resolved = resolveFilters(filters, scope, options, lastTwelveMonths);
  const limit = listLimit(filters.limit);
  const sql = `with ${SCOPED_CASES_CTE}
    select ap.id, ap.case_id, c.patient_id, p.nhs_number, sc.ods_code, sc.setting_name, ap.starts_at,
           ${londonDate('ap.starts_at')}::text as day, ap.agency, ap.kind, ${MISSED_FOLLOW_UP}
      from appointments ap
      join scoped_cases sc on sc.case_id = ap.case_id
      join cases c on c.id = ap.case_id
      join patients p on p.id = c.patient_id
     where ap.status = 'missed'
       and ap.starts_at >= ${londonMidnight(':from::date')} and ap.starts_at < ${londonMidnight(':to::date + 1')}
     order by ap.starts_at desc, ap.id
     limit :limit`;
  const rows =
    resolved.settings.length === 0
      ? []
      : await rowsOf<MissedSqlRow>(knexOf(store), sql, {
          ...scopeBindings(resolved),
          from: resolved.from,
          to: resolved.to,
          missedTemplate: MISSED_APPOINTMENT_TEMPLATE,
          limit: limit + 1,
        });
  return {
    report: 'missed-appointments',
    title: 'Missed appointments and their follow-up',
    generatedAt: resolved.now.toISOString(),
    filters: appliedFilters(resolved, true),
    identifiable: true,
    columns: [
      { key: 'date', label: 'Date', kind: 'date' },
      { key: 'agency', label: 'With', kind: 'text' },
      { key: 'kind', label: 'Kind', kind: 'text' },
      { key: 'nhsNumber', label: 'NHS number', kind: 'text' },
      { key: 'settingName', label: 'Setting', kind: 'text' },
      { key: 'notified', label: 'Agencies and family told', kind: 'boolean' },
      { key: 'rebooked', label: 'Booked again', kind: 'boolean' },
      { key: 'rebookedFor', label: 'New appointment at (UTC)', kind: 'instant' },
      { key: 'startsAt', label: 'Was at (UTC)', kind: 'instant' },
      { key: 'caseId', label: 'Case', kind: 'text' },
    ],
    rows: rows.slice(0, limit).map((r) => ({
      appointmentId: r.id,
      caseId: r.case_id,
      patientId: r.patient_id,
      nhsNumber: r.nhs_number,
      settingOdsCode: r.ods_code,
      settingName: r.setting_name,
      startsAt: isoOf(r.starts_at)!,
      date: dateText(r.day)!,
      agency: r.agency,
      kind: r.kind,
      notified: r.notified,
      rebooked: r.rebooked_for !== null,
      rebookedFor: isoOf(r.rebooked_for),
    })),
    suppressedCount: 0,
    truncated: rows.length > limit,
    notes: [
      'Followed up: the missed-appointment message was sent after it, or an appointment of the same kind was ' +
        'booked for the case after it.',
    ],
  };
}

// ---------------------------------------------------------------------------------------------------------------

function listLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LIST_LIMIT;
  return Math.max(1, Math.min(MAX_LIST_LIMIT, Math.trunc(limit)));
}

function compareText(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a.localeCompare(b);
}

/** Settings in order of name, the all-settings rows last, then `then` within a setting. */
export function bySettingThen<T extends { settingOdsCode: string | null; settingName: string }>(
  then: (a: T, b: T) => number,
): (a: T, b: T) => number {
  return (a, b) =>
    (a.settingOdsCode === null ? 1 : 0) - (b.settingOdsCode === null ? 1 : 0) ||
    a.settingName.localeCompare(b.settingName) ||
    compareText(a.settingOdsCode, b.settingOdsCode) ||
    then(a, b);
}
