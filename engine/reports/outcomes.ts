/**
 * Outcome reports, for commissioners: aggregate only. No row names or identifies a person (no NHS number, case,
 * patient id or name, nor any free text a person wrote), and every count is suppressed by the rule in
 * suppression.ts, with the shares and means made from it.
 * - milestone compliance: the share of 5-day, 28-day and 13-week reviews done by their deadline, per month (of the
 *   deadline, in London) and setting;
 * - brief interventions by the reception screen's alcohol result;
 * - Treatment Outcomes Profile change from Start to Review: substance use days, days injected, the three health
 *   and wellbeing ratings (mean at start, at review, mean change, and how many people);
 * - coded outcomes by SNOMED CT concept.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PATHWAYS_DIRECTORY } from '../../pathways';
import type { Store } from '../../store';
import { knexOf } from '../case-settings';
import { FORMS, REVIEW_MILESTONES, SCREEN_RESULTS, milestoneLabel } from './pathway-facts';
import {
  ALL_SETTINGS,
  REPORT_TIME_ZONE,
  SCOPED_CASES_CTE,
  appliedFilters,
  countSuppressed,
  londonMidnight,
  monthStartBefore,
  resolveFilters,
  rowsOf,
  scopeBindings,
  type Report,
  type ReportFilters,
  type ReportOptions,
  type ReportScope,
} from './report';
import {
  derivedFigure,
  figureOf,
  isSmallCount,
  suppressionOf,
  type Figure,
  type SuppressionGroup,
} from './suppression';

const lastTwelveMonths = (to: string) => monthStartBefore(to, 11);

const SUPPRESSION_NOTE =
  'Counts from 1 to 4 are shown as "< 5", and so is a second value beside one where it could otherwise be worked ' +
  'out from a total; a share or mean made from a hidden count is hidden too.';

/**
 * Applies suppression to a table of counts. `cells` is each row's counts (in the order of `keys`); groups name
 * values as [row, key]. Answers the rows' figures.
 */
function suppressTable<K extends string>(
  cells: readonly Readonly<Record<K, number>>[],
  keys: readonly K[],
  groups: readonly { total: [number, K]; members: [number, K][] }[],
): Record<K, Figure>[] {
  const indexOf = ([row, key]: [number, K]) => row * keys.length + keys.indexOf(key);
  const values = cells.flatMap((cell) => keys.map((key) => cell[key]));
  const flat: SuppressionGroup[] = groups.map((g) => ({ total: indexOf(g.total), members: g.members.map(indexOf) }));
  const hidden = suppressionOf(values, flat);
  return cells.map(
    (cell, row) =>
      Object.fromEntries(keys.map((key) => [key, figureOf(cell[key], hidden[indexOf([row, key])]!)])) as Record<
        K,
        Figure
      >,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Milestone compliance

export interface MilestoneComplianceRow {
  /** The London month of the deadline, `YYYY-MM`. */
  readonly month: string;
  /** Null on the rows that add up every setting's. */
  readonly settingOdsCode: string | null;
  readonly settingName: string;
  readonly elementId: string;
  readonly milestone: string;
  /** Reviews whose deadline fell in the month and has passed. */
  readonly due: Figure;
  readonly doneOnTime: Figure;
  readonly doneLate: Figure;
  readonly notDone: Figure;
  /** doneOnTime / due. */
  readonly onTimeShare: Figure;
}

export type MilestoneComplianceReport = Report<'milestone-compliance', MilestoneComplianceRow>;

const COMPLIANCE_KEYS = ['due', 'doneOnTime', 'doneLate', 'notDone'] as const;
type ComplianceKey = (typeof COMPLIANCE_KEYS)[number];

interface ComplianceSqlRow {
  month: string;
  ods_code: string | null;
  setting_name: string | null;
  element_id: string;
  due: string;
  on_time: string;
  late: string;
  not_done: string;
}

/**
 * Of the 5-day, 28-day and 13-week reviews whose deadline fell in each London month of the range and has passed
 * (by now), how many were done by it, done late, and not done; per setting and for all settings. Withdrawn reviews
 * (cancelled: the person left before it) are not counted; a planned review not reached by its deadline is not done.
 */
export async function milestoneComplianceReport(
  store: Store,
  filters: ReportFilters,
  scope: ReportScope,
  options: ReportOptions = {},
): Promise<MilestoneComplianceReport> {
  const resolved = resolveFilters(filters, scope, options, lastTwelveMonths);
  const sql = `with ${SCOPED_CASES_CTE},
    judged as (
      select to_char(wt.due_at at time zone '${REPORT_TIME_ZONE}', 'YYYY-MM') as month, sc.ods_code, sc.setting_name,
             wt.element_id, wt.status, wt.completed_at, wt.due_at
        from worklist_tasks wt
        join scoped_cases sc on sc.case_id = wt.case_id
       where wt.element_id = any(:elements::text[])
         and wt.status in ('open', 'planned', 'completed')
         and wt.due_at < :now
         and wt.due_at >= ${londonMidnight(':from::date')} and wt.due_at < ${londonMidnight(':to::date + 1')}
    )
    select month, ods_code, setting_name, element_id, count(*) as due,
           count(*) filter (where status = 'completed' and completed_at <= due_at) as on_time,
           count(*) filter (where status = 'completed' and completed_at > due_at) as late,
           count(*) filter (where status <> 'completed') as not_done
      from judged
     group by grouping sets ((month, ods_code, setting_name, element_id), (month, element_id))`;
  const rows =
    resolved.settings.length === 0
      ? []
      : await rowsOf<ComplianceSqlRow>(knexOf(store), sql, {
          ...scopeBindings(resolved),
          now: resolved.now,
          from: resolved.from,
          to: resolved.to,
          elements: REVIEW_MILESTONES.map((m) => m.elementId),
        });
  // Every month of the range and milestone has its all-settings row (zeros where nothing fell due), then the
  // settings that had reviews due.
  const settingRows = rows
    .filter((r) => r.ods_code !== null)
    .sort(
      (a, b) =>
        (a.setting_name ?? '').localeCompare(b.setting_name ?? '') ||
        (a.ods_code ?? '').localeCompare(b.ods_code ?? ''),
    );
  const totals = new Map(rows.filter((r) => r.ods_code === null).map((r) => [`${r.month}|${r.element_id}`, r]));
  const counts = (r: ComplianceSqlRow | undefined): Record<ComplianceKey, number> => ({
    due: Number(r?.due ?? 0),
    doneOnTime: Number(r?.on_time ?? 0),
    doneLate: Number(r?.late ?? 0),
    notDone: Number(r?.not_done ?? 0),
  });
  const layout: {
    month: string;
    elementId: string;
    odsCode: string | null;
    name: string;
    cells: Record<ComplianceKey, number>;
  }[] = [];
  const groups: { total: [number, ComplianceKey]; members: [number, ComplianceKey][] }[] = [];
  for (const month of monthsOf(resolved.from, resolved.to))
    for (const { elementId } of REVIEW_MILESTONES) {
      const members: number[] = [];
      for (const r of settingRows.filter((s) => s.month === month && s.element_id === elementId)) {
        members.push(layout.length);
        layout.push({ month, elementId, odsCode: r.ods_code, name: r.setting_name ?? '', cells: counts(r) });
      }
      const total = layout.length;
      layout.push({
        month,
        elementId,
        odsCode: null,
        name: ALL_SETTINGS,
        cells: counts(totals.get(`${month}|${elementId}`)),
      });
      for (const key of COMPLIANCE_KEYS) groups.push({ total: [total, key], members: members.map((m) => [m, key]) });
    }
  for (let row = 0; row < layout.length; row++)
    groups.push({
      total: [row, 'due'],
      members: [
        [row, 'doneOnTime'],
        [row, 'doneLate'],
        [row, 'notDone'],
      ],
    });
  const figures = suppressTable(
    layout.map((l) => l.cells),
    COMPLIANCE_KEYS,
    groups,
  );
  const shaped = layout.map((l, i): MilestoneComplianceRow => {
    const f = figures[i]!;
    return {
      month: l.month,
      settingOdsCode: l.odsCode,
      settingName: l.name,
      elementId: l.elementId,
      milestone: milestoneLabel(l.elementId, REVIEW_MILESTONES),
      ...f,
      onTimeShare: derivedFigure(l.cells.due === 0 ? null : l.cells.doneOnTime / l.cells.due, [f.due, f.doneOnTime]),
    };
  });
  return {
    report: 'milestone-compliance',
    title: 'Reviews done by their deadline',
    generatedAt: resolved.now.toISOString(),
    filters: appliedFilters(resolved, true),
    identifiable: false,
    columns: [
      { key: 'month', label: 'Month of the deadline', kind: 'text' },
      { key: 'settingName', label: 'Setting', kind: 'text' },
      { key: 'settingOdsCode', label: 'ODS code', kind: 'text' },
      { key: 'milestone', label: 'Review', kind: 'text' },
      { key: 'due', label: 'Due', kind: 'count' },
      { key: 'doneOnTime', label: 'Done by the deadline', kind: 'count' },
      { key: 'doneLate', label: 'Done late', kind: 'count' },
      { key: 'notDone', label: 'Not done', kind: 'count' },
      { key: 'onTimeShare', label: 'Done by the deadline (%)', kind: 'share' },
    ],
    rows: shaped,
    suppressedCount: countSuppressed(shaped),
    truncated: false,
    notes: [
      'Reviews whose deadline fell in the month (London) and has passed; done by the deadline when completed at ' +
        'or before it. Withdrawn reviews are not counted.',
      SUPPRESSION_NOTE,
    ],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Brief interventions by screen result

export interface BriefInterventionRow {
  /** A reception screen result (pathway-facts.ts SCREEN_RESULTS), or null on the row adding them up. */
  readonly screenResult: string | null;
  readonly label: string;
  /** Reception screens in the range with this result. */
  readonly screened: Figure;
  /** Brief interventions delivered in the range to people whose last screen before it had this result. */
  readonly interventions: Figure;
  readonly completed: Figure;
  readonly partlyCompleted: Figure;
  readonly declined: Figure;
}

export type BriefInterventionsReport = Report<'brief-interventions', BriefInterventionRow>;

const INTERVENTION_KEYS = ['screened', 'interventions', 'completed', 'partlyCompleted', 'declined'] as const;
type InterventionKey = (typeof INTERVENTION_KEYS)[number];

interface InterventionSqlRow {
  result: string;
  screened: string;
  interventions: string;
  completed: string;
  partly: string;
  declined: string;
}

/**
 * Reception screens by their alcohol result, and brief interventions (alcohol and drug) by the result of the
 * person's last reception screen before them, with each intervention's outcome, in the range (screens by the
 * reception time, interventions by the day delivered).
 */
export async function briefInterventionsReport(
  store: Store,
  filters: ReportFilters,
  scope: ReportScope,
  options: ReportOptions = {},
): Promise<BriefInterventionsReport> {
  const resolved = resolveFilters(filters, scope, options, lastTwelveMonths);
  const sql = `with ${SCOPED_CASES_CTE},
    screens as (
      select coalesce(r.facet, 'not-recorded') as result
        from report_facts r
        join scoped_cases sc on sc.case_id = r.case_id
       where r.form_id = :reception and not r.corrected and r.day between :from::date and :to::date
    ),
    interventions as (
      select coalesce(screen.result, 'not-recorded') as result, b.facet as outcome
        from report_facts b
        join scoped_cases sc on sc.case_id = b.case_id
        left join lateral (
          select coalesce(r.facet, 'not-recorded') as result
            from report_facts r
           where r.case_id = b.case_id and r.form_id = :reception and not r.corrected
             and r.submitted_at <= b.submitted_at
           order by r.submitted_at desc
           limit 1
        ) screen on true
       where b.form_id = :briefIntervention and not b.corrected
         and b.facet in ('completed', 'partly-completed', 'declined')
         and b.day between :from::date and :to::date
    )
    select result, sum(screened) as screened, sum(interventions) as interventions, sum(completed) as completed,
           sum(partly) as partly, sum(declined) as declined
      from (
        select result, 1 as screened, 0 as interventions, 0 as completed, 0 as partly, 0 as declined from screens
        union all
        select result, 0, 1, (outcome = 'completed')::int, (outcome = 'partly-completed')::int,
               (outcome = 'declined')::int
          from interventions
      ) counted
     group by result`;
  const rows =
    resolved.settings.length === 0
      ? []
      : await rowsOf<InterventionSqlRow>(knexOf(store), sql, {
          ...scopeBindings(resolved),
          from: resolved.from,
          to: resolved.to,
          reception: FORMS.reception,
          briefIntervention: FORMS.briefIntervention,
        });
  const known = new Set<string>(SCREEN_RESULTS.map((r) => r.value));
  const byResult = new Map<string, Record<InterventionKey, number>>();
  for (const r of rows) {
    // A decision the pathway does not make (a hand-written record) is counted as not recorded.
    const result = known.has(r.result) ? r.result : 'not-recorded';
    const sum = byResult.get(result) ?? {
      screened: 0,
      interventions: 0,
      completed: 0,
      partlyCompleted: 0,
      declined: 0,
    };
    sum.screened += Number(r.screened);
    sum.interventions += Number(r.interventions);
    sum.completed += Number(r.completed);
    sum.partlyCompleted += Number(r.partly);
    sum.declined += Number(r.declined);
    byResult.set(result, sum);
  }
  const cells = SCREEN_RESULTS.map(
    (r) => byResult.get(r.value) ?? { screened: 0, interventions: 0, completed: 0, partlyCompleted: 0, declined: 0 },
  );
  const total = Object.fromEntries(
    INTERVENTION_KEYS.map((key) => [key, cells.reduce((sum, c) => sum + c[key], 0)]),
  ) as Record<InterventionKey, number>;
  const all = [...cells, total];
  const totalRow = cells.length;
  const groups = [
    ...INTERVENTION_KEYS.map((key) => ({
      total: [totalRow, key] as [number, InterventionKey],
      members: cells.map((_, row) => [row, key] as [number, InterventionKey]),
    })),
    ...all.map((_, row) => ({
      total: [row, 'interventions'] as [number, InterventionKey],
      members: [
        [row, 'completed'],
        [row, 'partlyCompleted'],
        [row, 'declined'],
      ] as [number, InterventionKey][],
    })),
  ];
  const figures = suppressTable(all, INTERVENTION_KEYS, groups);
  const shaped = figures.map((f, row): BriefInterventionRow => ({
    screenResult: row === totalRow ? null : SCREEN_RESULTS[row]!.value,
    label: row === totalRow ? 'All results' : SCREEN_RESULTS[row]!.label,
    ...f,
  }));
  return {
    report: 'brief-interventions',
    title: 'Brief interventions by reception screen result',
    generatedAt: resolved.now.toISOString(),
    filters: appliedFilters(resolved, true),
    identifiable: false,
    columns: [
      { key: 'label', label: 'Reception screen result (alcohol)', kind: 'text' },
      { key: 'screened', label: 'Screened', kind: 'count' },
      { key: 'interventions', label: 'Brief interventions', kind: 'count' },
      { key: 'completed', label: 'Completed', kind: 'count' },
      { key: 'partlyCompleted', label: 'Partly completed', kind: 'count' },
      { key: 'declined', label: 'Declined', kind: 'count' },
    ],
    rows: shaped,
    suppressedCount: countSuppressed(shaped),
    truncated: false,
    notes: [
      'Screens by the reception time; brief interventions (alcohol and drug) by the day delivered, under the ' +
        "result of the person's last reception screen before them.",
      SUPPRESSION_NOTE,
    ],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Treatment Outcomes Profile: change from Start to Review

/** What the TOP change reports, each a number per TOP (null when not disclosed: the form's NA). */
export const TOP_MEASURES = [
  { measure: 'alcohol', label: 'Days using alcohol (of 28)', path: ['substanceUse', 'alcohol'], kind: 'days' },
  { measure: 'opiates', label: 'Days using opiates (of 28)', path: ['substanceUse', 'opiates'], kind: 'days' },
  { measure: 'crack', label: 'Days using crack (of 28)', path: ['substanceUse', 'crack'], kind: 'days' },
  { measure: 'cocaine', label: 'Days using cocaine (of 28)', path: ['substanceUse', 'cocaine'], kind: 'days' },
  {
    measure: 'amphetamines',
    label: 'Days using amphetamines (of 28)',
    path: ['substanceUse', 'amphetamines'],
    kind: 'days',
  },
  { measure: 'cannabis', label: 'Days using cannabis (of 28)', path: ['substanceUse', 'cannabis'], kind: 'days' },
  {
    measure: 'otherSubstance',
    label: 'Days using another substance (of 28)',
    path: ['substanceUse', 'otherSubstance'],
    kind: 'days',
  },
  { measure: 'tobacco', label: 'Days using tobacco (of 28)', path: ['substanceUse', 'tobacco'], kind: 'days' },
  {
    measure: 'daysInjected',
    label: 'Days injected (of 28)',
    path: ['injectingRiskBehaviour', 'daysInjected'],
    kind: 'value',
  },
  {
    measure: 'psychologicalHealth',
    label: 'Psychological health (0 poor to 20 good)',
    path: ['healthAndSocialFunctioning', 'psychologicalHealth'],
    kind: 'value',
  },
  {
    measure: 'physicalHealth',
    label: 'Physical health (0 poor to 20 good)',
    path: ['healthAndSocialFunctioning', 'physicalHealth'],
    kind: 'value',
  },
  {
    measure: 'qualityOfLife',
    label: 'Quality of life (0 poor to 20 good)',
    path: ['healthAndSocialFunctioning', 'qualityOfLife'],
    kind: 'value',
  },
] as const;

export interface TopChangeRow {
  /** `people` for the row counting everyone with a TOP at start and a review; else a TOP_MEASURES measure. */
  readonly measure: string;
  readonly label: string;
  /** People with the measure answered at both. */
  readonly people: Figure;
  readonly meanAtStart: Figure;
  readonly meanAtReview: Figure;
  /** Review minus start: negative is fewer days of use; positive is a better rating. */
  readonly meanChange: Figure;
}

export type TopChangeReport = Report<'top-change', TopChangeRow>;

/** A measure of one TOP's answers (jsonb) as SQL: four weekly cells added up, or one value; null when NA. */
function topValue(answers: string, measure: (typeof TOP_MEASURES)[number]): string {
  const [domain, item] = measure.path;
  // Measure paths are constants of this file, never request text.
  if (measure.kind === 'value') return `(${answers}->'${domain}'->>'${item}')::numeric`;
  const week = (k: number) => `(${answers}->'${domain}'->'${item}'->'weeklyDays'->>${k})::numeric`;
  // One week not disclosed makes the total not disclosed: a sum with a null is null.
  return `(${week(0)} + ${week(1)} + ${week(2)} + ${week(3)})`;
}

/**
 * For each person's TOP at start and the first TOP review after it (before any later start), with the review's
 * interview date in the range: how many pairs, and for each measure how many answered it at both, the mean at start
 * and at review, and the mean change.
 */
export async function topChangeReport(
  store: Store,
  filters: ReportFilters,
  scope: ReportScope,
  options: ReportOptions = {},
): Promise<TopChangeReport> {
  const resolved = resolveFilters(filters, scope, options, lastTwelveMonths);
  // Each measure is read from the answers once per pair (a pair's two TOPs hold some 3 kB of JSON: read once per
  // aggregate instead, it was most of the report's time), then counted and averaged.
  const extracted = TOP_MEASURES.flatMap((m) => [
    `${topValue('s.data', m)} as "${m.measure}_s"`,
    `${topValue('r.data', m)} as "${m.measure}_r"`,
  ]).join(',\n');
  const measures = TOP_MEASURES.map((m) => {
    const [start, review] = [`"${m.measure}_s"`, `"${m.measure}_r"`];
    return `count(*) filter (where ${start} is not null and ${review} is not null) as "${m.measure}_n",
       avg(${start}) filter (where ${review} is not null) as "${m.measure}_start",
       avg(${review}) filter (where ${start} is not null) as "${m.measure}_review",
       avg(${review} - ${start}) as "${m.measure}_change"`;
  }).join(',\n');
  // Set-based: every TOP of the cases in scope in order (their facts: ids, stages and days, not their answers), each
  // numbered by the stay (the start) it follows; a stay's first row is its start, and its first review pairs with
  // it. One sort, no lookup per start; then each pair's two answers, read by id.
  const sql = `with ${SCOPED_CASES_CTE},
    top_rows as (
      select t.assessment_id as id, t.case_id, t.submitted_at, t.facet as stage, t.day
        from report_facts t
        join scoped_cases sc on sc.case_id = t.case_id
       where t.form_id = :top and not t.corrected
    ),
    tops as (
      select *, count(*) filter (where stage = 'start') over (partition by case_id order by submitted_at, id) as stay
        from top_rows
    ),
    stays as (
      select id, stage, day,
             first_value(id) over (partition by case_id, stay order by submitted_at, id) as start_id,
             row_number() over (partition by case_id, stay, stage order by submitted_at, id) as nth
        from tops
       where stay > 0
    ),
    -- Materialised: otherwise folded into the aggregate, each measure would be read once per aggregate naming it.
    measured as materialized (
      select ${extracted}
        from stays p
        join assessments s on s.id = p.start_id
        join assessments r on r.id = p.id
       where p.stage = 'review' and p.nth = 1 and p.day between :from::date and :to::date
    )
    select count(*) as people, ${measures}
      from measured`;
  const [row] =
    resolved.settings.length === 0
      ? [undefined]
      : await rowsOf<Record<string, string | null>>(knexOf(store), sql, {
          ...scopeBindings(resolved),
          from: resolved.from,
          to: resolved.to,
          top: FORMS.top,
        });
  const number = (key: string) => (row?.[key] == null ? null : Number(row[key]));
  const peopleCount = number('people') ?? 0;
  const people = figureOf(peopleCount, isSmallCount(peopleCount));
  const shaped: TopChangeRow[] = [
    {
      measure: 'people',
      label: 'People with a TOP at start and a review',
      people,
      meanAtStart: { value: null, suppressed: false },
      meanAtReview: { value: null, suppressed: false },
      meanChange: { value: null, suppressed: false },
    },
    ...TOP_MEASURES.map((m): TopChangeRow => {
      const n = number(`${m.measure}_n`) ?? 0;
      const count = figureOf(n, isSmallCount(n));
      return {
        measure: m.measure,
        label: m.label,
        people: count,
        meanAtStart: derivedFigure(number(`${m.measure}_start`), [count]),
        meanAtReview: derivedFigure(number(`${m.measure}_review`), [count]),
        meanChange: derivedFigure(number(`${m.measure}_change`), [count]),
      };
    }),
  ];
  return {
    report: 'top-change',
    title: 'Treatment Outcomes Profile: change from start to review',
    generatedAt: resolved.now.toISOString(),
    filters: appliedFilters(resolved, true),
    identifiable: false,
    columns: [
      { key: 'label', label: 'Measure', kind: 'text' },
      { key: 'people', label: 'People', kind: 'count' },
      { key: 'meanAtStart', label: 'Mean at start', kind: 'mean' },
      { key: 'meanAtReview', label: 'Mean at review', kind: 'mean' },
      { key: 'meanChange', label: 'Mean change', kind: 'mean' },
    ],
    rows: shaped,
    suppressedCount: countSuppressed(shaped),
    truncated: false,
    notes: [
      "Each person's TOP at start with the first TOP review after it, counted in the range by the review's " +
        'interview date. Days of use are the four weekly answers added up (0 to 28); a measure not disclosed at ' +
        'either leaves that person out of it.',
      SUPPRESSION_NOTE,
    ],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Outcomes by SNOMED CT code

export interface SnomedOutcomeRow {
  readonly code: string;
  readonly term: string;
  readonly settingOdsCode: string | null;
  readonly settingName: string;
  readonly count: Figure;
}

export type SnomedOutcomesReport = Report<'snomed-outcomes', SnomedOutcomeRow>;

interface SnomedSqlRow {
  code: string;
  ods_code: string | null;
  setting_name: string | null;
  events: string;
}

let snomedTerms: ReadonlyMap<string, string> | undefined;

/** The terms of the SNOMED CT concepts the shipped pathways record (pathways/codes/snomed-ct.json). */
export function snomedTermsOf(): ReadonlyMap<string, string> {
  if (!snomedTerms) {
    const file = JSON.parse(fs.readFileSync(path.join(PATHWAYS_DIRECTORY, 'codes', 'snomed-ct.json'), 'utf8')) as {
      codes: { code: string; term: string }[];
    };
    snomedTerms = new Map(file.codes.map((c) => [c.code, c.term]));
  }
  return snomedTerms;
}

/** Coded events (the SNOMED CT concepts assessments recorded) in the range, by concept, per setting and for all. */
export async function snomedOutcomesReport(
  store: Store,
  filters: ReportFilters,
  scope: ReportScope,
  options: ReportOptions = {},
): Promise<SnomedOutcomesReport> {
  const resolved = resolveFilters(filters, scope, options, lastTwelveMonths);
  const sql = `with ${SCOPED_CASES_CTE}
    select code, ods_code, setting_name, count(*) as events
      from (select sc.ods_code, sc.setting_name, unnest(f.snomed_codes) as code
              from report_facts f
              join scoped_cases sc on sc.case_id = f.case_id
             where cardinality(f.snomed_codes) > 0 and not f.corrected
               and f.submitted_at >= ${londonMidnight(':from::date')}
               and f.submitted_at < ${londonMidnight(':to::date + 1')}) coded
     group by grouping sets ((code, ods_code, setting_name), (code))`;
  const rows =
    resolved.settings.length === 0
      ? []
      : await rowsOf<SnomedSqlRow>(knexOf(store), sql, {
          ...scopeBindings(resolved),
          from: resolved.from,
          to: resolved.to,
        });
  const terms = snomedTermsOf();
  const codes = [...new Set(rows.map((r) => r.code))].sort(
    (a, b) => (terms.get(a) ?? a).localeCompare(terms.get(b) ?? b) || a.localeCompare(b),
  );
  const layout: { code: string; odsCode: string | null; name: string; count: number }[] = [];
  const groups: { total: [number, 'count']; members: [number, 'count'][] }[] = [];
  for (const code of codes) {
    const members: [number, 'count'][] = [];
    for (const r of rows
      .filter((r) => r.code === code && r.ods_code !== null)
      .sort(
        (a, b) =>
          (a.setting_name ?? '').localeCompare(b.setting_name ?? '') ||
          (a.ods_code ?? '').localeCompare(b.ods_code ?? ''),
      )) {
      members.push([layout.length, 'count']);
      layout.push({ code, odsCode: r.ods_code, name: r.setting_name ?? '', count: Number(r.events) });
    }
    const total = rows.find((r) => r.code === code && r.ods_code === null);
    groups.push({ total: [layout.length, 'count'], members });
    layout.push({ code, odsCode: null, name: ALL_SETTINGS, count: Number(total?.events ?? 0) });
  }
  const figures = suppressTable(
    layout.map((l) => ({ count: l.count })),
    ['count'],
    groups,
  );
  const shaped = layout.map((l, i): SnomedOutcomeRow => ({
    code: l.code,
    term: terms.get(l.code) ?? 'Not in the code list',
    settingOdsCode: l.odsCode,
    settingName: l.name,
    count: figures[i]!.count,
  }));
  return {
    report: 'snomed-outcomes',
    title: 'Outcomes by SNOMED CT code',
    generatedAt: resolved.now.toISOString(),
    filters: appliedFilters(resolved, true),
    identifiable: false,
    columns: [
      { key: 'code', label: 'SNOMED CT concept', kind: 'text' },
      { key: 'term', label: 'Term', kind: 'text' },
      { key: 'settingName', label: 'Setting', kind: 'text' },
      { key: 'settingOdsCode', label: 'ODS code', kind: 'text' },
      { key: 'count', label: 'Recorded', kind: 'count' },
    ],
    rows: shaped,
    suppressedCount: countSuppressed(shaped),
    truncated: false,
    notes: [
      'Concepts recorded by assessments saved in the range (London days); a correction replaces what it corrects. ' +
        'None of the codes has been verified against the current UK edition of SNOMED CT.',
      SUPPRESSION_NOTE,
    ],
  };
}

// ---------------------------------------------------------------------------------------------------------------

/** The months (`YYYY-MM`) a date range touches. */
export function monthsOf(from: string, to: string): string[] {
  const months: string[] = [];
  for (let day = `${from.slice(0, 7)}-01`; day <= to; day = monthStartBefore(day, -1)) months.push(day.slice(0, 7));
  return months;
}
