/**
 * An NDTMS-style monthly extract for secure settings (REFERENCE 4.4, S12): one row per treatment episode active in
 * a chosen month, with the dates and codes the secure-setting return asks for. Person-level and identifiable (the
 * return is made by the treatment provider, with the person's consent), so it is for the setting's team lead and
 * each row read is audited; people without NDTMS consent are left out and only counted.
 *
 * An episode is a referral to the substance misuse service (`sms-referral`): it runs until the next referral of the
 * same case, and its other items are the case's records in that span. It is active in a month when it was referred
 * by the month's last day and had not left prison (its discharge) before its first, nor its case closed. Only what was
 * recorded by the month's last day counts, so a past month's extract reads the same whenever it is made:
 * - reception date: the reception screen before the referral (its reception time, a London date);
 * - referral date, drugs 1 to 3, NDTMS consent and its date: the referral;
 * - triage date: the first risk assessment of the episode (local mapping: the pathway's triage is its risk
 *   assessment);
 * - treatment start: the first caseload assignment (the day the person was allocated to a keyworker);
 * - exit date, exit reason, discharge reason, exit destination (DAT code), referral on release: the discharge;
 * - TOP stages: the interview dates of the TOP at start, the reviews and the TOP at exit.
 */
import { ValidationError } from '../../domain/errors';
import type { Store } from '../../store';
import { knexOf } from '../case-settings';
import { FORMS } from './pathway-facts';
import {
  SCOPED_CASES_CTE,
  appliedFilters,
  isLondonDate,
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

export interface NdtmsExtractFilters extends Omit<ReportFilters, 'from' | 'to'> {
  /** `YYYY-MM`; the last full month by default. */
  readonly month?: string;
}

export interface NdtmsEpisodeRow {
  /** The referral that opened the episode. */
  readonly episodeId: string;
  readonly caseId: string;
  readonly patientId: string;
  readonly nhsNumber: string;
  /** As PDS gave it. */
  readonly dateOfBirth: string | null;
  readonly sex: string | null;
  readonly settingOdsCode: string;
  readonly settingName: string;
  readonly receptionDate: string | null;
  readonly referralDate: string;
  readonly triageDate: string | null;
  readonly treatmentStartDate: string | null;
  readonly drug1: string | null;
  readonly drug2: string | null;
  readonly drug3: string | null;
  readonly consentDate: string | null;
  readonly exitDate: string | null;
  readonly exitReason: string | null;
  readonly dischargeReason: string | null;
  readonly exitDestination: string | null;
  readonly referralOnReleaseStatus: string | null;
  readonly topStartDate: string | null;
  /** Every TOP review's interview date, oldest first, separated by spaces. */
  readonly topReviewDates: string | null;
  readonly topExitDate: string | null;
}

export type NdtmsExtract = Report<'ndtms-extract', NdtmsEpisodeRow> & {
  readonly month: string;
  /** Episodes active in the month left out because the person has not given NDTMS consent. */
  readonly excludedNoConsent: number;
};

interface EpisodeSqlRow {
  episode_id: string;
  case_id: string;
  patient_id: string;
  nhs_number: string;
  birth_date: string | null;
  sex: string | null;
  ods_code: string;
  setting_name: string;
  reception_date: string | null;
  referral_date: string;
  triage_date: string | null;
  treatment_start: string | null;
  drug1: string | null;
  drug2: string | null;
  drug3: string | null;
  consent_date: string | null;
  exit_date: string | null;
  exit_reason: string | null;
  discharge_reason: string | null;
  exit_destination: string | null;
  referral_on_release: string | null;
  top_start: string | null;
  top_reviews: string | null;
  top_exit: string | null;
  excluded: string;
}

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

/**
 * The episodes active in the month (see the module's header), each with its discharge if one was recorded in it by
 * the month's end, from the assessments' facts (report_facts: form, case, time, day, facet). Set-based throughout:
 * each join is of whole sets, never a lookup per episode, so tens of thousands of episodes cost one pass.
 */
const EPISODES_CTE = `${SCOPED_CASES_CTE},
  referrals as (
    select r.assessment_id as episode_id, r.case_id, c.patient_id, sc.ods_code, sc.setting_name,
           r.submitted_at as starts_at, r.day as referral_date, r.facet as consent, r.detail,
           lead(r.submitted_at) over (partition by r.case_id order by r.submitted_at, r.assessment_id) as next_at
      from report_facts r
      join scoped_cases sc on sc.case_id = r.case_id
      join cases c on c.id = r.case_id
     where r.form_id = :referral and not r.corrected
       -- A case closed before the month has no episode in it: every episode of it had ended.
       and (c.closed_at is null or c.closed_at >= ${londonMidnight(':monthStart::date')})
  ),
  discharges as (
    select distinct on (e.episode_id) e.episode_id, x.day as exit_date, x.detail as discharge
      from referrals e
      join report_facts x on x.case_id = e.case_id
     where x.form_id = :discharge and not x.corrected and x.submitted_at >= e.starts_at
       and (e.next_at is null or x.submitted_at < e.next_at) and x.day <= :monthEnd::date
     order by e.episode_id, x.submitted_at, x.assessment_id
  ),
  episodes as (
    select e.*, d.exit_date, d.discharge
      from referrals e
      left join discharges d on d.episode_id = e.episode_id
     where e.referral_date <= :monthEnd::date
       and (d.exit_date is null or d.exit_date >= :monthStart::date)
  )`;

/**
 * The episodes active in `month` of the people who have given NDTMS consent (the referral's `ndtmsConsent` is
 * `given`), oldest referral first; how many active episodes were left out for want of consent.
 */
export async function ndtmsExtract(
  store: Store,
  filters: NdtmsExtractFilters,
  scope: ReportScope,
  options: ReportOptions = {},
): Promise<NdtmsExtract> {
  const resolved = resolveFilters(filters, scope, options, (to) => to);
  const month = filters.month ?? monthStartBefore(resolved.today, 1).slice(0, 7);
  if (!MONTH.test(month) || !isLondonDate(`${month}-01`))
    throw new ValidationError('The report filters have problems', [{ pointer: '/month', detail: 'must be YYYY-MM' }]);
  const monthStart = `${month}-01`;
  const monthEnd = new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)), 0))
    .toISOString()
    .slice(0, 10);
  // The records of each chosen episode: the reception screens before its referral, and its triage, caseload
  // assignment and TOPs (from its referral to the next); the referral's and the discharge's items are in their facts.
  const sql = `with ${EPISODES_CTE},
    chosen as (select * from episodes where consent = 'given'),
    excluded as (select count(*) as n from episodes where consent is distinct from 'given'),
    records as (
      select c.episode_id, f.form_id, f.submitted_at, f.facet, f.day
        from chosen c
        join report_facts f on f.case_id = c.case_id
       where f.form_id in (:reception, :riskAssessment, :caseloadAssignment, :top) and not f.corrected
         and case when f.form_id = :reception then f.submitted_at <= c.starts_at
                  else f.submitted_at >= c.starts_at and (c.next_at is null or f.submitted_at < c.next_at) end
    ),
    facts as (
      select episode_id,
             (array_agg(day order by submitted_at desc) filter (where form_id = :reception))[1] as reception_date,
             min(day) filter (where form_id = :riskAssessment and day <= :monthEnd::date) as triage_date,
             min(day) filter (where form_id = :caseloadAssignment and day <= :monthEnd::date) as treatment_start,
             min(day) filter (where form_id = :top and facet = 'start' and day <= :monthEnd::date) as top_start,
             string_agg(day::text, ' ' order by day)
               filter (where form_id = :top and facet = 'review' and day <= :monthEnd::date) as top_reviews,
             min(day) filter (where form_id = :top and facet = 'exit' and day <= :monthEnd::date) as top_exit
        from records
       group by episode_id
    )
    select c.episode_id, c.case_id, c.patient_id, p.nhs_number,
           p.demographics->>'birthDate' as birth_date, p.demographics->>'gender' as sex,
           c.ods_code, c.setting_name, f.reception_date::text as reception_date,
           c.referral_date::text as referral_date, f.triage_date::text as triage_date,
           f.treatment_start::text as treatment_start,
           c.detail->>'drug1' as drug1, c.detail->>'drug2' as drug2, c.detail->>'drug3' as drug3,
           c.detail->>'ndtmsConsentDate' as consent_date,
           c.exit_date::text as exit_date, c.discharge->>'prisonExitReason' as exit_reason,
           c.discharge->>'dischargeReason' as discharge_reason,
           c.discharge->>'exitDestinationDatCode' as exit_destination,
           c.discharge->>'referralOnReleaseStatus' as referral_on_release,
           f.top_start::text as top_start, f.top_reviews, f.top_exit::text as top_exit,
           (select n from excluded) as excluded
      from chosen c
      join patients p on p.id = c.patient_id
      left join facts f on f.episode_id = c.episode_id
     order by c.referral_date, c.starts_at, c.episode_id`;
  const countSql = `with ${EPISODES_CTE}
    select count(*) as excluded from episodes e where e.consent is distinct from 'given'`;
  const bindings = {
    ...scopeBindings(resolved),
    monthStart,
    monthEnd,
    reception: FORMS.reception,
    referral: FORMS.referral,
    riskAssessment: FORMS.riskAssessment,
    caseloadAssignment: FORMS.caseloadAssignment,
    discharge: FORMS.discharge,
    top: FORMS.top,
  };
  const knex = knexOf(store);
  const rows = resolved.settings.length === 0 ? [] : await rowsOf<EpisodeSqlRow>(knex, sql, bindings, { large: true });
  // Every row carries the count of those left out; with no row to carry it, it is asked for on its own.
  const excluded =
    rows[0]?.excluded ??
    (resolved.settings.length === 0
      ? '0'
      : (
          await rowsOf<{ excluded: string }>(knex, countSql, {
            ...scopeBindings(resolved),
            monthStart,
            monthEnd,
            referral: FORMS.referral,
            discharge: FORMS.discharge,
          })
        )[0]?.excluded);
  return {
    report: 'ndtms-extract',
    title: `NDTMS secure-setting extract, ${month}`,
    generatedAt: resolved.now.toISOString(),
    filters: appliedFilters(resolved, false, { month }),
    identifiable: true,
    month,
    excludedNoConsent: Number(excluded ?? 0),
    columns: [
      { key: 'episodeId', label: 'Episode', kind: 'text' },
      { key: 'nhsNumber', label: 'NHS number', kind: 'text' },
      { key: 'dateOfBirth', label: 'Date of birth', kind: 'date' },
      { key: 'sex', label: 'Sex', kind: 'text' },
      { key: 'settingOdsCode', label: 'Establishment (ODS code)', kind: 'text' },
      { key: 'receptionDate', label: 'Reception date', kind: 'date' },
      { key: 'referralDate', label: 'Referral date', kind: 'date' },
      { key: 'triageDate', label: 'Triage date', kind: 'date' },
      { key: 'treatmentStartDate', label: 'Treatment start date', kind: 'date' },
      { key: 'drug1', label: 'Drug 1', kind: 'text' },
      { key: 'drug2', label: 'Drug 2', kind: 'text' },
      { key: 'drug3', label: 'Drug 3', kind: 'text' },
      { key: 'consentDate', label: 'NDTMS consent date', kind: 'date' },
      { key: 'exitDate', label: 'Prison exit date', kind: 'date' },
      { key: 'exitReason', label: 'Prison exit reason', kind: 'text' },
      { key: 'dischargeReason', label: 'Discharge reason', kind: 'text' },
      { key: 'exitDestination', label: 'Exit destination (DAT code)', kind: 'text' },
      { key: 'referralOnReleaseStatus', label: 'Referral on release', kind: 'text' },
      { key: 'topStartDate', label: 'TOP start date', kind: 'date' },
      { key: 'topReviewDates', label: 'TOP review dates', kind: 'text' },
      { key: 'topExitDate', label: 'TOP exit date', kind: 'date' },
    ],
    rows: rows.map((r) => ({
      episodeId: r.episode_id,
      caseId: r.case_id,
      patientId: r.patient_id,
      nhsNumber: r.nhs_number,
      dateOfBirth: r.birth_date,
      sex: r.sex,
      settingOdsCode: r.ods_code,
      settingName: r.setting_name,
      receptionDate: r.reception_date,
      referralDate: r.referral_date,
      triageDate: r.triage_date,
      treatmentStartDate: r.treatment_start,
      drug1: r.drug1,
      drug2: r.drug2,
      drug3: r.drug3,
      consentDate: r.consent_date,
      exitDate: r.exit_date,
      exitReason: r.exit_reason,
      dischargeReason: r.discharge_reason,
      exitDestination: r.exit_destination,
      referralOnReleaseStatus: r.referral_on_release,
      topStartDate: r.top_start,
      topReviewDates: r.top_reviews,
      topExitDate: r.top_exit,
    })),
    suppressedCount: 0,
    truncated: false,
    notes: [
      `Episodes active in ${month}: referred by its last day and not out of prison before its first; only what ` +
        'was recorded by its last day.',
      'People without NDTMS consent are left out (counted in excludedNoConsent). Triage is the first risk ' +
        'assessment of the episode; treatment starts at caseload assignment.',
    ],
  };
}
