/**
 * `npm run bench:reports`: the reports of issue 18 (engine/reports/) over a record store of 100,000 cases.
 *
 * 1. Migrates a fresh PostgreSQL and seeds it in bulk SQL (bench/reports-seed.ts): 20 settings (skewed), 100,000
 *    people and cases received over 400 days (stays of 80 days on average; a third journeys handed over between
 *    settings), the milestones of the referred cases as worklist rows, the assessments the reports read (in the order
 *    they were saved), appointments after release and their notifications; then ANALYZE, as autovacuum would have.
 * 2. Times each report's engine function (what the API and the pages call), one call at a time, after 2 unmeasured:
 *    over all 20 settings and over the largest one. Reports over a date range ask for the last twelve months (weeks
 *    for the weekly one); the extract, last month. Prints p50 and p99 per report and writes bench/results/reports.json.
 *    The goal: every report under 1 s over 100,000 cases.
 * 3. With --explain, EXPLAIN (ANALYZE, BUFFERS) of every statement each report ran once, as PostgreSQL planned it.
 *
 * Options: --cases N (100000), --runs N timed calls per report and scope (25), --explain.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import {
  briefInterventionsReport,
  caseloadReport,
  milestoneComplianceReport,
  missedAppointmentsReport,
  ndtmsExtract,
  overdueMilestonesReport,
  releaseContinuityReport,
  snomedOutcomesReport,
  topChangeReport,
  upcomingReviewsReport,
  weeklyActivityReport,
  type ReportScope,
} from '../engine/reports';
import { silentLogger } from '../log';
import { migrateDatabase, openStore, type Store } from '../store';
import { SETTINGS } from './ops-seed';
import { seedRecordStore } from './reports-seed';
import { describeMachine, option, percentile, runBenchmark, startBenchDatabase } from './support';

const progress = (what: string) => process.stderr.write(`bench:reports: ${what}\n`);

interface Timing {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly n: number;
  /** Rows the report answered. */
  readonly rows: number;
}

type Call = (store: Store, scope: ReportScope) => Promise<{ rows: readonly unknown[] }>;

/** Each report as the API asks for it by default (a year, twelve weeks, last month). */
const REPORTS: Record<string, Call> = {
  'caseload by setting': (store, scope) => caseloadReport(store, {}, scope),
  'caseload by team': (store, scope) => caseloadReport(store, { by: 'team' }, scope),
  'caseload by keyworker': (store, scope) => caseloadReport(store, { by: 'keyworker' }, scope),
  'upcoming reviews (28 days, up to 1,000 rows)': (store, scope) => upcomingReviewsReport(store, {}, scope),
  'overdue milestones': (store, scope) => overdueMilestonesReport(store, {}, scope),
  'weekly activity (12 weeks)': (store, scope) => weeklyActivityReport(store, {}, scope),
  'release continuity (12 months)': (store, scope) => releaseContinuityReport(store, {}, scope),
  'missed appointments (12 months, up to 1,000 rows)': (store, scope) => missedAppointmentsReport(store, {}, scope),
  'milestone compliance (12 months)': (store, scope) => milestoneComplianceReport(store, {}, scope),
  'brief interventions (12 months)': (store, scope) => briefInterventionsReport(store, {}, scope),
  'TOP change (12 months)': (store, scope) => topChangeReport(store, {}, scope),
  'SNOMED CT outcomes (12 months)': (store, scope) => snomedOutcomesReport(store, {}, scope),
  'NDTMS extract (last month)': (store, scope) => ndtmsExtract(store, {}, scope),
};

function timingOf(samples: readonly number[], rows: number): Timing {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
    n: sorted.length,
    rows,
  };
}

/** The statements a call ran, as knex sent them (for EXPLAIN). */
async function statementsOf(
  store: Store,
  run: () => Promise<unknown>,
): Promise<{ sql: string; bindings: unknown[] }[]> {
  const knex = store.orm.em.getConnection().getKnex();
  const seen: { sql: string; bindings: unknown[] }[] = [];
  const listener = (query: { sql: string; bindings?: unknown[] }) =>
    seen.push({ sql: query.sql, bindings: query.bindings ?? [] });
  knex.on('query', listener);
  try {
    await run();
  } finally {
    knex.removeListener('query', listener);
  }
  return seen;
}

async function main(): Promise<void> {
  const cases = option('cases', 100_000);
  const runs = option('runs', 25);
  const explain = process.argv.includes('--explain');
  const database = await startBenchDatabase('bench_reports');
  const stops: (() => Promise<unknown>)[] = [() => database.stop()];
  try {
    await migrateDatabase(database.url, silentLogger);
    const store = await openStore(database.url);
    stops.push(() => store.close());
    const pg = new PgClient({ connectionString: database.url });
    await pg.connect();
    stops.push(() => pg.end());
    progress(`seeding ${cases} cases`);
    const seeded = await seedRecordStore(pg, cases, SETTINGS);
    progress(`seeded in ${seeded.seconds.toFixed(1)} s: ${JSON.stringify(seeded.rows)}`);
    const largest = SETTINGS[0]!;
    const inLargest = Number(
      (
        await pg.query<{ n: string }>(
          `select count(*) as n from cases c join settings s on s.id = c.setting_id where s.ods_code = $1`,
          [largest],
        )
      ).rows[0]?.n,
    );
    const scopes: Record<string, ReportScope> = {
      [`all ${SETTINGS.length} settings (${seeded.rows['cases']} cases)`]: { settings: SETTINGS },
      [`one setting (${largest}, opened ${inLargest} cases)`]: { settings: [largest] },
    };
    const loadBefore = os.loadavg()[0]!;
    const timings: Record<string, Record<string, Timing>> = {};
    for (const [scopeName, scope] of Object.entries(scopes)) {
      progress(`timing: ${scopeName}`);
      const timed: Record<string, Timing> = {};
      for (const [name, call] of Object.entries(REPORTS)) {
        let rows = 0;
        for (let i = 0; i < 2; i++) rows = (await call(store, scope)).rows.length;
        const samples: number[] = [];
        for (let i = 0; i < runs; i++) {
          const began = performance.now();
          await call(store, scope);
          samples.push(performance.now() - began);
        }
        timed[name] = timingOf(samples, rows);
      }
      timings[scopeName] = timed;
    }
    const loadAfter = os.loadavg()[0]!;
    const plans: Record<string, string> = {};
    if (explain) {
      const all = Object.values(scopes)[0]!;
      for (const [name, call] of Object.entries(REPORTS)) {
        const statements = await statementsOf(store, () => call(store, all));
        const explained: string[] = [];
        for (const statement of statements) {
          // A report's own transaction sets what its statement runs with (rowsOf): the same here, for the session.
          const local = /^\s*set local (.*)$/i.exec(statement.sql);
          if (local) await pg.query(`set ${local[1]}`);
          if (!/^\s*(with|select)\b/i.test(statement.sql)) continue;
          const { rows } = await pg.query<{ 'QUERY PLAN': string }>(
            `explain (analyze, buffers) ${statement.sql}`,
            statement.bindings,
          );
          explained.push(rows.map((r) => r['QUERY PLAN']).join('\n'));
        }
        await pg.query('reset all');
        plans[name] = explained.join('\n\n');
      }
    }

    const machine = describeMachine(database.postgresVersion);
    const report = {
      machine,
      nproc: os.cpus().length,
      cpu: os.cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      loadAverage: { before: loadBefore, after: loadAfter },
      seeded,
      runsPerReport: runs,
      timings,
    };
    await fs.mkdir(path.join(__dirname, 'results'), { recursive: true });
    await fs.writeFile(path.join(__dirname, 'results', 'reports.json'), JSON.stringify(report, null, 2) + '\n');
    const f = (n: number) => `${n.toFixed(1)} ms`;
    const names = Object.keys(REPORTS);
    const scopeNames = Object.keys(scopes);
    const slowest = Math.max(...Object.values(timings).flatMap((t) => Object.values(t).map((x) => x.p99)));
    process.stdout.write(
      [
        `Machine: ${machine}; nproc ${os.cpus().length}; load average (1 min) before / after timing: ${loadBefore.toFixed(2)} / ${loadAfter.toFixed(2)}`,
        `Seeded in ${seeded.seconds.toFixed(1)} s (database ${seeded.megabytes} MB): ${Object.entries(seeded.rows)
          .map(([table, n]) => `${table} ${n}`)
          .join(', ')}`,
        '',
        `| report (${runs} calls each) | ${scopeNames.map((s) => `${s}: p50 / p99 (rows)`).join(' | ')} |`,
        `| --- | ${scopeNames.map(() => '---').join(' | ')} |`,
        ...names.map(
          (name) =>
            `| ${name} | ${scopeNames
              .map((s) => {
                const t = timings[s]![name]!;
                return `${f(t.p50)} / ${f(t.p99)} (${t.rows})`;
              })
              .join(' | ')} |`,
        ),
        '',
        `Slowest p99: ${f(slowest)} (goal: every report under 1 s): ${slowest < 1000 ? 'met' : 'NOT met'}`,
        '',
        ...Object.entries(plans).flatMap(([name, plan]) => [`EXPLAIN ANALYZE, ${name}:`, plan, '']),
      ].join('\n'),
    );
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}

runBenchmark('bench:reports', main);
