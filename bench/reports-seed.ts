/**
 * The reports benchmark's seed: a record store of `cases` cases written in bulk SQL (generate_series, PostgreSQL's
 * random() seeded so every run seeds the same spread), shaped as the activities and the worklist projection write
 * them for the shipped prison pathway: 20 settings (skewed: the first holds about a sixth), people with valid NHS
 * numbers, receptions over the last 400 days, about a third of the cases journeys handed over from one setting to
 * another. Each person stays a while (exponential, 80 days on average, as in a busy local prison); their case closes
 * 28 days after they leave (the recall watch). The milestones of each referred case are worklist rows (done on time,
 * late, overdue or still planned by their due dates; withdrawn when the person left first); the assessments the
 * reports read (reception screens, referrals, triage, caseload assignment, brief interventions, TOPs, reviews,
 * discharges, release plans) carry their SNOMED CT codes; those released have appointments and notifications.
 * Assessments are written in the order they were saved, so the forms lie mixed in the table as they would.
 */
import type { Client as PgClient } from 'pg';

/** Proportions of the seed, as fractions of the cases. */
export const SEED_SHAPE = {
  meanStayDays: 80,
  journey: 0.3,
  referred: 0.7,
  briefIntervention: 0.25,
  topReview: 0.25,
  /** Of those who leave, released (the rest transferred). */
  released: 0.7,
  appointmentsPerRelease: 3,
} as const;

export interface SeededRecordStore {
  readonly seconds: number;
  readonly rows: Readonly<Record<string, number>>;
  readonly megabytes: number;
}

/** Seeds settings (given), staff, patients, cases and everything the reports read; ANALYZE afterwards. */
export async function seedRecordStore(
  pg: PgClient,
  cases: number,
  settings: readonly string[],
): Promise<SeededRecordStore> {
  const started = performance.now();
  await pg.query('begin');
  await pg.query('select setseed(0.1818)');
  await pg.query(
    `insert into settings (id, ods_code, name, kind, prison_type)
     select gen_random_uuid(), code, 'Bench prison ' || ord, 'prison', 'HMP'
       from unnest($1::text[]) with ordinality as s(code, ord)
     on conflict (ods_code) do nothing`,
    [settings],
  );
  await pg.query(
    `insert into staff (id, subject, display_name, roles)
     select gen_random_uuid(), 'keyworker' || k || '@bench.test', 'Keyworker ' || k, array['clinician']
       from generate_series(1, 200) k`,
  );
  const benchStaff = (
    await pg.query<{ id: string }>(
      `insert into staff (id, subject, display_name, roles) values (gen_random_uuid(), 'bench@bench.test', 'Bench', array['ops'])
       returning id`,
    )
  ).rows[0]!.id;
  // Every case's draws, kept for the inserts below. Settings are skewed as bench:ops skews them; the draws sit in a
  // subquery's select list, so they are made per row (an uncorrelated subquery would be run once for all rows).
  await pg.query(
    `create temp table bench_cases on commit drop as
     select d.*, s.id as setting_id, h.id as handed_to
       from (select i, gen_random_uuid() as id, gen_random_uuid() as patient_id,
                    ($2::text[])[1 + floor(power(random(), 1.6) * cardinality($2::text[]))::int] as setting_code,
                    ($2::text[])[1 + floor(random() * cardinality($2::text[]))::int] as handed_code,
                    now() - random() * interval '400 days' as opened_at,
                    least(400, -ln(1 - random()) * ${SEED_SHAPE.meanStayDays}) * interval '1 day' as stay,
                    random() as r_journey, random() as r_referred, random() as r_bi,
                    random() as r_top, random() as r_release, random() as r_screen,
                    random() as r_consent, random() as r_task, random() as r_keyworker
               from generate_series(1, $1) i) d
       join settings s on s.ods_code = d.setting_code
       join settings h on h.ods_code = d.handed_code`,
    [cases, settings],
  );
  await pg.query(
    `alter table bench_cases add column left_at timestamptz, add column closed_at timestamptz, add column is_open boolean`,
  );
  // Left prison once the stay is over (if that is past); the case closes 28 days after, at the end of the recall watch.
  await pg.query(
    `update bench_cases set left_at = case when opened_at + stay < now() then opened_at + stay end,
            closed_at = case when opened_at + stay + interval '28 days' < now() then opened_at + stay + interval '28 days' end,
            is_open = opened_at + stay + interval '28 days' >= now()`,
  );
  // NHS numbers: a 9-digit stem and its Modulus 11 check digit; stems whose check would be 10 are skipped.
  await pg.query(
    `insert into patients (id, nhs_number, demographics)
     select c.patient_id, n.nhs, jsonb_build_object('birthDate', '1985-06-15', 'gender', 'male')
       from (select row_number() over () as i, nhs from (
               select stem || ((11 - (sum % 11)) % 11)::text as nhs, sum
                 from (select lpad(s::text, 9, '0') as stem,
                              (select sum(substr(lpad(s::text, 9, '0'), k, 1)::int * (11 - k)) from generate_series(1, 9) k) as sum
                         from generate_series(400000000, 400000000 + ($1 * 12 / 10)) s) d
                where (11 - (sum % 11)) % 11 <> 10) v) n
       join bench_cases c on c.i = n.i`,
    [cases],
  );
  await pg.query(
    `insert into cases (id, patient_id, setting_id, pathway_id, pathway_version, workflow_id, status, opened_at, closed_at)
     select id, patient_id, setting_id, case when r_journey < ${SEED_SHAPE.journey} then 'journey' else 'sms-prison' end, 1,
            'case-' || id, case when is_open then 'open' else 'closed' end, opened_at, closed_at
       from bench_cases`,
  );
  await pg.query(
    `insert into case_settings (case_id, setting_id, reason, recorded_at, recorded_by)
     select id, setting_id, 'opened', opened_at, 'bench' from bench_cases`,
  );
  await pg.query(
    `insert into case_settings (case_id, setting_id, reason, recorded_at, recorded_by)
     select id, handed_to, 'handed-over', opened_at + interval '3 days', 'bench' from bench_cases
      where r_journey < ${SEED_SHAPE.journey} and handed_to <> setting_id`,
  );

  // Milestones of referred cases, due N London days after the reception at 23:59:59: done on time (70%), late
  // (15%) or not (15%) once due; planned (90%) or open before; withdrawn (cancelled) if the person left first.
  await pg.query(
    `insert into worklist_tasks (id, case_id, workflow_id, element_id, name, form_id, status, assignee, candidate_groups,
                                 due_at, completed_at, completed_late, started_task_id)
     select 'case-' || c.id || '/' || m.element || '/1', c.id, 'case-' || c.id, m.element, m.element, 'sms-review',
            t.status, case when t.status in ('open', 'completed') and c.r_keyworker < 0.8
                            then 'keyworker' || (1 + floor(c.r_keyworker * 250)::int % 200) || '@bench.test' end,
            array['sms-team'], t.due_at,
            case when t.status = 'completed' then least(now(), t.due_at + t.offset_days * interval '1 day') end,
            t.status = 'completed' and t.offset_days > 0, null
       from bench_cases c
      cross join (values ('FiveDayReview', 5), ('TwentyEightDayReview', 28), ('ThirteenWeekReview', 91), ('TopReview', 182))
              as m(element, days)
      cross join lateral (
        select due_at,
               case when c.left_at is not null and due_at >= c.left_at then 'cancelled'
                    when due_at < now() and r < 0.85 then 'completed'
                    when due_at >= now() then (case when r < 0.9 then 'planned' else 'open' end)
                    -- Overdue and not done; once the person has left, withdrawn.
                    when c.left_at is not null then 'cancelled'
                    when r < 0.93 then 'open' else 'planned' end as status,
               case when r < 0.7 then -1 + r else (r - 0.7) * 40 end as offset_days
          from (select ((c.opened_at at time zone 'Europe/London')::date + m.days)::timestamp at time zone 'Europe/London'
                       + interval '23:59:59' as due_at,
                       abs(hashtext(c.id::text || m.element)) % 1000 / 1000.0 as r) d
      ) t
      where c.r_referred < ${SEED_SHAPE.referred}`,
  );
  // The rest of the worklist: reception and second stage (done), and the open tasks of open cases.
  await pg.query(
    `insert into worklist_tasks (id, case_id, workflow_id, element_id, name, status, assignee, candidate_groups, due_at,
                                 completed_at)
     select 'case-' || c.id || '/' || e.element || '/1', c.id, 'case-' || c.id, e.element, e.element,
            case when e.element = 'CarePlan' then 'open' else 'completed' end,
            case when c.r_keyworker < 0.6 then 'keyworker' || (1 + floor(c.r_keyworker * 330)::int % 200) || '@bench.test' end,
            e.groups, c.opened_at + e.days * interval '1 day',
            case when e.element = 'CarePlan' then null else c.opened_at + e.days * interval '1 day' end
       from bench_cases c
      cross join (values ('ReceptionScreening', array['prison-healthcare'], 0),
                         ('SecondStageHealthAssessment', array['prison-healthcare'], 6),
                         ('ReferToSms', array['sms-team'], 1),
                         ('CarePlan', array['sms-team', 'sms-team-lead'], 30)) as e(element, groups, days)
      where e.element <> 'CarePlan' or (c.left_at is null and c.r_task < 0.5)`,
  );

  const iso = (ts: string) => `to_char((${ts}) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;
  const day = (ts: string) => `to_char((${ts}) at time zone 'Europe/London', 'YYYY-MM-DD')`;
  // Gathered first, then written in the order they were saved (below), as a live record store would have them.
  await pg.query(`create temp table bench_assessments (like assessments including defaults) on commit drop`);
  const assessment = (form: string, data: string, submittedAt: string, where: string, codes = `'{}'::text[]`) =>
    pg.query(
      `insert into bench_assessments (id, patient_id, case_id, form_id, form_version, data, snomed_codes, submitted_by,
                                      submitted_at)
       select gen_random_uuid(), c.patient_id, c.id, '${form}', '1', ${data}, ${codes}, 'bench', ${submittedAt}
         from bench_cases c where (${where}) and ${submittedAt} <= coalesce(c.left_at, now())`,
    );
  await assessment(
    'prison-reception-sms',
    `jsonb_build_object('receptionAt', ${iso('c.opened_at')}, 'drugUse', 'dependent',
       'alcoholScreen', jsonb_build_object('tool', 'AUDIT-C', 'score', floor(c.r_screen * 12)::int,
         'decision', case when c.r_screen < 0.55 then 'negative' when c.r_screen < 0.85 then 'hazardous'
                          when c.r_screen < 0.97 then 'possible-dependence' else 'dependent-withdrawal' end))`,
    'c.opened_at',
    'true',
  );
  await assessment(
    'sms-referral',
    `jsonb_build_object('referralDate', ${day("c.opened_at + interval '1 day'")}, 'referralSource', 'reception-screen',
       'drug1', 'opiates', 'drug2', 'crack', 'ndtmsConsent',
       case when c.r_consent < 0.8 then 'given' when c.r_consent < 0.9 then 'declined' else 'not-yet-asked' end,
       'ndtmsConsentDate', ${day("c.opened_at + interval '1 day'")}, 'reason', 'Opiate dependence')`,
    "c.opened_at + interval '1 day'",
    `c.r_referred < ${SEED_SHAPE.referred}`,
    `array[case when c.r_screen < 0.1 then '304301000000105' else '201521000000104' end]`,
  );
  await assessment(
    'sms-risk-assessment',
    `jsonb_build_object('assessedAt', ${iso("c.opened_at + interval '2 days'")}, 'selfHarmSuicideRisk', 'low',
       'overdoseRisk', 'medium', 'withdrawalRisk', 'low', 'injecting', 'never', 'briefInterventionRequired', c.r_bi < 0.25)`,
    "c.opened_at + interval '2 days'",
    `c.r_referred < ${SEED_SHAPE.referred} * 0.95`,
  );
  await assessment(
    'sms-caseload-assignment',
    `jsonb_build_object('allocatedOn', ${day("c.opened_at + interval '3 days'")}, 'keyworker', 'Keyworker',
       'careSetting', 'substance-misuse-team', 'treatment', 'opioid-substitution-stabilisation')`,
    "c.opened_at + interval '3 days'",
    `c.r_referred < ${SEED_SHAPE.referred} * 0.9`,
    `array['109201000000109']`,
  );
  await assessment(
    'sms-brief-intervention',
    `jsonb_build_object('deliveredOn', ${day("c.opened_at + interval '4 days'")}, 'interventionType', 'alcohol-brief',
       'outcome', case when c.r_bi < 0.18 then 'completed' when c.r_bi < 0.22 then 'partly-completed' else 'declined' end,
       'deliveredBy', 'Keyworker')`,
    "c.opened_at + interval '4 days'",
    `c.r_bi < ${SEED_SHAPE.briefIntervention}`,
    `case when c.r_bi < 0.18 then array['366371000000105'] else '{}'::text[] end`,
  );
  const top = (stage: string, days: number, weeks: string) =>
    `jsonb_build_object('treatmentStage', '${stage}', 'interviewDate', ${day(`c.opened_at + interval '${days} days'`)},
       'periodCovered', 'past-28-days',
       'substanceUse', jsonb_build_object(
         'alcohol', jsonb_build_object('weeklyDays', ${weeks}, 'unitsPerUsingDay', 10),
         'opiates', jsonb_build_object('weeklyDays', ${weeks}, 'gramsPerUsingDay', 0.5),
         'crack', jsonb_build_object('weeklyDays', jsonb_build_array(0, 0, 1, 0), 'gramsPerUsingDay', 0.2),
         'cocaine', jsonb_build_object('weeklyDays', jsonb_build_array(0, 0, 0, 0), 'gramsPerUsingDay', null),
         'amphetamines', jsonb_build_object('weeklyDays', jsonb_build_array(0, 0, 0, 0), 'gramsPerUsingDay', null),
         'cannabis', jsonb_build_object('weeklyDays', jsonb_build_array(2, 2, 2, 2), 'spliffsPerUsingDay', 3),
         'otherSubstance', jsonb_build_object('name', null, 'weeklyDays', jsonb_build_array(0, 0, 0, 0)),
         'tobacco', jsonb_build_object('weeklyDays', jsonb_build_array(7, 7, 7, 7))),
       'injectingRiskBehaviour', jsonb_build_object('daysInjected', floor(c.r_top * 10)::int,
         'sharedNeedleOrSyringe', false, 'sharedSpoonWaterOrFilter', false),
       'crime', jsonb_build_object('shopliftingDays', 0, 'drugSellingDays', 0, 'vehicleTheftDays', 0,
         'otherTheftOrBurglaryDays', 0, 'fraudOrForgery', false, 'assaultOrViolence', false),
       'healthAndSocialFunctioning', jsonb_build_object('psychologicalHealth', floor(c.r_top * 20)::int,
         'physicalHealth', 10, 'qualityOfLife', 12, 'paidWorkDays', 0, 'educationDays', 0,
         'acuteHousingProblem', false, 'atRiskOfEviction', false))`;
  await assessment(
    'top-secure-setting',
    top('start', 10, 'jsonb_build_array(7, 7, 6, 7)'),
    "c.opened_at + interval '10 days'",
    `c.r_referred < ${SEED_SHAPE.referred} * 0.85`,
  );
  await assessment(
    'top-secure-setting',
    top('review', 182, 'jsonb_build_array(1, 0, 2, 0)'),
    "c.opened_at + interval '182 days'",
    `c.r_top < ${SEED_SHAPE.topReview} and c.r_referred < ${SEED_SHAPE.referred} * 0.85`,
  );
  await assessment(
    'sms-review',
    `jsonb_build_object('reviewType', 'five-day', 'reviewedOn', ${day("c.opened_at + interval '5 days'")},
       'attendance', 'attended', 'riskChanged', false, 'nextSteps', 'Continue')`,
    "c.opened_at + interval '5 days'",
    `c.r_referred < ${SEED_SHAPE.referred} * 0.9`,
    `array['494041000000102']`,
  );
  await assessment(
    'sms-discharge',
    `jsonb_build_object('dischargeReason', case when c.r_release < ${SEED_SHAPE.released} then 'transferred-not-in-custody'
                                                else 'transferred-in-custody' end,
       'prisonExitDate', ${day('c.left_at')},
       'prisonExitReason', case when c.r_release < ${SEED_SHAPE.released} then 'released' else 'transferred' end,
       'exitDestinationDatCode', 'E08000035', 'referralOnReleaseStatus', 'referred-accepted', 'naloxoneIssued', true)`,
    'c.left_at',
    `c.left_at is not null and c.r_referred < ${SEED_SHAPE.referred}`,
  );
  await assessment(
    'release-plan',
    `jsonb_build_object('releaseDate', ${day('c.left_at')}, 'accommodation', 'settled')`,
    "greatest(c.opened_at, c.left_at - interval '5 days')",
    `c.left_at is not null and c.r_release < ${SEED_SHAPE.released}`,
  );
  await pg.query(`insert into assessments select * from bench_assessments order by submitted_at`);
  // Appointments after release: attended (70%), missed (20%), booked (10%); missed ones mostly followed up.
  await pg.query(
    `insert into appointments (id, patient_id, case_id, starts_at, location, agency, kind, status, booked_by, created_at)
     select gen_random_uuid(), c.patient_id, c.id, c.left_at + k * interval '3 days' + interval '10 hours',
            'Surgery', k_agency, k_kind,
            case when c.left_at + k * interval '3 days' > now() or r >= 0.9 then 'booked'
                 when r < 0.7 then 'attended' else 'missed' end, 'bench',
            greatest(c.opened_at, c.left_at - interval '5 days')
       from bench_cases c
      cross join lateral (select k, (array['Leeds GP', 'Leeds PDU', 'Forward Leeds'])[k] as k_agency,
                                 (array['gp', 'probation', 'community-substance-misuse'])[k] as k_kind,
                                 abs(hashtext(c.id::text || k)) % 1000 / 1000.0 as r
                            from generate_series(1, ${SEED_SHAPE.appointmentsPerRelease}) k) a
      where c.left_at is not null and c.r_release < ${SEED_SHAPE.released}`,
  );
  await pg.query(
    `insert into notification_outbox (id, patient_id, case_id, staff_id, channel, template, personalisation, status,
                                      created_at, sent_at)
     select 'bench/' || a.id, a.patient_id, a.case_id, $1, 'email', 'missed-appointment', '{}'::jsonb, 'sent',
            a.starts_at + interval '3 hours', a.starts_at + interval '3 hours'
       from appointments a where a.status = 'missed' and abs(hashtext(a.id::text)) % 10 < 6`,
    [benchStaff],
  );
  await pg.query('commit');
  await pg.query('analyze');
  const counted = await pg.query<{ name: string; n: string }>(
    `select 'cases' as name, count(*) as n from cases union all select 'case_settings', count(*) from case_settings
     union all select 'worklist_tasks', count(*) from worklist_tasks union all select 'assessments', count(*) from assessments
     union all select 'appointments', count(*) from appointments
     union all select 'notification_outbox', count(*) from notification_outbox`,
  );
  const size = await pg.query<{ mb: string }>(`select pg_database_size(current_database()) / 1048576 as mb`);
  return {
    seconds: (performance.now() - started) / 1000,
    rows: Object.fromEntries(counted.rows.map((r) => [r.name, Number(r.n)])),
    megabytes: Number(size.rows[0]?.mb),
  };
}
