/**
 * The ops benchmark's seed: case workflows written straight into the embedded server's `executions` table
 * (temporal-server/schema.ts), with search attributes shaped as the case workflows store them
 * (workflows/pathway/stuck-signals.ts; the values as the visibility codec writes them).
 */
import type { Client as PgClient } from 'pg';

/** The settings the seeded cases belong to (skewed: the first holds about a sixth of them). */
export const SETTINGS = Array.from({ length: 20 }, (_, i) => `BNCH${String(i + 1).padStart(2, '0')}`);

/** A constant string list as an SQL array literal (constants of this file, so no quoting is needed). */
const sqlArray = (values: readonly string[]) => `array[${values.map((v) => `'${v}'`).join(', ')}]`;

/** Elements a case of each pathway waits at (pathways/*.bpmn), for realistic CurrentElements. */
const ELEMENTS: Record<string, readonly string[]> = {
  'sms-prison': [
    'ReceptionScreening',
    'SecondStageHealthAssessment',
    'AlcoholBriefIntervention',
    'DualDiagnosis',
    'RiskAssessment',
    'BriefIntervention',
    'FiveDayReview',
    'TwentyEightDayReview',
    'ThirteenWeekReview',
    'CarePlan',
    'AwaitDischarge',
    'TopReview',
  ],
  'custody-reception': [
    'LookUpPerson',
    'HealthScreening',
    'SetObservationLevel',
    'RecordObservationCheck',
    'ReviewRiskBeforeLeaving',
    'CompleteHealthHandover',
  ],
  'release-support': [
    'PlanRelease',
    'BookGpAppointment',
    'BookSmsAppointment',
    'BookProbationAppointment',
    'BookHousingAppointment',
    'FollowUpGpMissed',
    'CloseReleaseSupport',
  ],
};
const PATHWAYS = Object.keys(ELEMENTS);

/**
 * Seeds `cases` case workflows in one INSERT ... SELECT, with PostgreSQL's random() seeded so every run seeds the
 * same spread. The random draws sit in a subquery's select list, evaluated per row. Instants are written as the
 * codec writes them (ISO 8601, ms, Z), and an attribute that does not apply is absent, as an upsert of null
 * removes it.
 */
export async function seedCaseExecutions(
  pg: PgClient,
  cases: number,
): Promise<{ seconds: number; rows: number; stateBytes: number; tableMegabytes: number }> {
  const iso = (ts: string) => `to_char((${ts}) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  const elementOf = PATHWAYS.map(
    (p, k) => `when ${k} then (${sqlArray(ELEMENTS[p]!)})[1 + floor(r.e * ${ELEMENTS[p]!.length})::int]`,
  ).join(' ');
  const started = performance.now();
  await pg.query('begin');
  await pg.query('select setseed(0.1616)');
  await pg.query(
    `insert into temporal.executions (namespace, workflow_id, run_id, workflow_type, task_queue, status, start_time,
                                      execution_time, close_time, search_attributes, history_length, state)
     -- The state holds nothing the server acts on (no workflow task, activity or sticky queue), so it never
     -- touches these runs; visibility reads only the columns and search_attributes.
     select 'default', 'case-' || gen_random_uuid(), gen_random_uuid()::text, 'runPathway', 'throughcare', c.status,
            c.started, c.started, c.closed,
            jsonb_strip_nulls(jsonb_build_object(
              'PathwayId', c.pathway,
              'PathwayVersion', c.version,
              'CaseSetting', c.setting,
              'CurrentElements', case when c.running then jsonb_build_array(c.element) end,
              'WaitingSince', case when c.running then ${iso('c.waiting_since')} end,
              'NextDueAt', case when c.running then ${iso('c.next_due')} end,
              'OverdueFrom', case when c.running and c.open_tasks > 0 then ${iso('c.task_due')} end,
              'OpenTaskCount', case when c.running then c.open_tasks else 0 end,
              'OpenIncidentCount', c.incidents,
              'FailingAttempts', c.failing_attempts,
              'LastErrorType', case when c.failing_attempts > 0 then (array['SPINE_UNAVAILABLE', 'SPINE_TIMEOUT',
                                      'SPINE_RATE_LIMITED'])[1 + floor(r_m * 3)::int]
                                    when c.incidents > 0 or c.status = 3 then 'PDS_NOT_FOUND' end,
              'MessageWaitSince', case when c.running and c.open_tasks = 0 and r_m < 0.5 then ${iso('c.waiting_since')} end,
              -- As patched() upserts it in every case (seen on the live cases' rows).
              'TemporalChangeVersion', jsonb_build_array('incidents', 'settle-before-answer', 'stuck-signals')
            )),
            20 + floor(c.h * 400)::int, jsonb_build_object('benchFiller', c.filler)
     from (
       select r.m r_m, r.h, s.status, r.filler, s.status = 1 running, s.started,
              case when s.status <> 1 then least(now(), s.started + r.w * interval '30 days') end closed,
              (${sqlArray(PATHWAYS)})[1 + r.p] pathway,
              1 + floor(r.v * 4)::int version,
              'BNCH' || lpad((1 + floor(power(r.st, 1.6) * ${SETTINGS.length}))::int::text, 2, '0') setting,
              case r.p ${elementOf} end element,
              greatest(s.started, now() - r.w * interval '30 days') waiting_since,
              case when r.t < 0.7 then 1 when r.t < 0.85 then 2 else 0 end open_tasks,
              -- A fifth of open tasks overdue (by up to 16 days), the rest due within 64 days.
              now() + (r.o * 80 - 16) * interval '1 day' task_due,
              case when r.t < 0.85 then now() + (r.o * 80 - 16) * interval '1 day'
                   when r.o < 0.6 then now() + r.o * interval '30 days' end next_due,
              case when s.status <> 1 then 0 when r.f < 0.01 then 3 + floor(r.f * 1000)::int % 10
                   when r.f < 0.013 then 2 else 0 end failing_attempts,
              case when s.status = 1 and r.f > 0.999 then 1 else 0 end incidents
       from (select random() s, random() p, random() v, random() st, random() e, random() w, random() t,
                    random() o, random() f, random() m, random() h, a,
                    -- The run's state: 1.2-1.8 kB stored on live cases' rows, in line in the row (below TOAST's
                    -- threshold), so a scan of the table reads it. Hex digests hardly compress, as state does not.
                    (select string_agg(md5(k || ':' || a), '') from generate_series(1, 44) k) filler
             from (select random() a from generate_series(1, $1) i) i) r
       cross join lateral (
         select case when r.s < 0.75 then 1 when r.s < 0.97 then 2 when r.s < 0.973 then 3 when r.s < 0.99 then 5
                     else 4 end status,
                case when r.s < 0.75 then now() - r.a * interval '120 days'
                     else now() - (30 + r.a * 335) * interval '1 day' end started
       ) s
     ) c`,
    [cases],
  );
  await pg.query('commit');
  await pg.query('analyze temporal.executions');
  const { rows } = await pg.query<{ n: string; state_bytes: string; table_mb: string }>(
    `select count(*) n, avg(pg_column_size(state))::int state_bytes,
            pg_total_relation_size('temporal.executions') / 1048576 table_mb
       from temporal.executions`,
  );
  return {
    seconds: (performance.now() - started) / 1000,
    rows: Number(rows[0]?.n ?? 0),
    stateBytes: Number(rows[0]?.state_bytes),
    tableMegabytes: Number(rows[0]?.table_mb),
  };
}
