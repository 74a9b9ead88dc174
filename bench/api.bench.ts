/**
 * `npm run bench:api`: the worklist through the HTTP API with a large worklist, and how soon the next task of a
 * case can be seen after completing one.
 *
 * 1. Seeds a throw-away PostgreSQL with 100,000 open worklist tasks (and half as many closed ones) in one bulk
 *    INSERT ... SELECT per table: 12 settings, 25,000 people and their cases, four open tasks each, spread over
 *    candidate groups, assignees, due dates (a fifth overdue, a tenth undated) and handovers between settings.
 * 2. Lists the worklist through real HTTP (`GET /api/v1/tasks`, the app from `createApp` on a port, a bearer JWT
 *    verified against a key set and the staff directory, every shown task audited) with each filter the issue
 *    names: mine, candidate group, unassigned, overdue, due window, setting; p50 and p99 of each, one at a time.
 * 3. Starts cases of the `TwoReviews` pathway (test/fixtures/bpmn/two-reviews.bpmn: FirstReview, a service task
 *    that saves the assessment, SecondReview) through the API, on the embedded Temporal server (its own process)
 *    and the real worker and activities, then for each: `POST /api/v1/tasks/{id}/complete`, and
 *    - "in the response": whether the response's nextTasks already holds SecondReview, and its latency;
 *    - "visible in the list": from sending the completion until the worklist shows SecondReview: the response's
 *      own nextTasks (a worklist read after the completion) when it holds it, else `GET /api/v1/tasks?caseId=...`
 *      asked again every 5 ms until it does.
 *
 * Options: --tasks N (100000), --samples N per filter (300), --completions N (200), --explain (EXPLAIN ANALYZE
 * of each filter's worklist query), --compare-samples N per filter without the sort index (50), --no-compare.
 */
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { Client as PgClient } from 'pg';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair } from 'jose';
import { createActivities, createLocalInboxTransport, createSpineClient } from '../activities';
import { createApp } from '../api';
import { createBearerAuth } from '../api/auth/bearer';
import { addStaff, deployPathway, shippedLintOptions, listWorklist, type CaseEngine } from '../engine';
import { silentLogger } from '../log';
import { FORMS_DIRECTORY } from '../pathways';
import { Readiness } from '../runtime/readiness';
import { migrateDatabase, openStore, type Store } from '../store';
import { WORKFLOWS_PATH, workerConnectionOptions } from '../worker';
import { describeMachine, option, percentile, runBenchmark, startBenchDatabase, startServerProcess } from './support';

const TASK_QUEUE = 'bench-api';
const ISSUER = 'https://issuer.bench';
const AUDIENCE = 'throughcare-api';
const CLINICIAN = 'bench.clinician@staff.test';
const SETTINGS = 12;
/** The settings the benchmark's clinician works in: two of the twelve. */
const OWN_SETTINGS = ['BNCH01', 'BNCH02'];
const GROUPS = ['sms-team', 'prison-healthcare', 'custody-nurses', 'release-team', 'mental-health'];
/** The groups as an SQL array literal (constants of this file, so no quoting is needed). */
const GROUPS_SQL = `array[${GROUPS.map((g) => `'${g}'`).join(', ')}]`;
const ELEMENTS_SQL = `array['Reception', 'DualDiagnosis', 'RiskAssessment', 'FiveDayReview', 'TwentyEightDayReview', 'CarePlan']`;

const knexOf = (store: Store) => store.orm.em.getConnection().getKnex();
/** store/migrations/20261207093000-worklist-open-sort-index.migration.ts */
const SORT_INDEX = 'worklist_tasks_open_by_sort';
const progress = (what: string) => process.stderr.write(`bench:api: ${what}\n`);

/**
 * The bulk seed: one INSERT ... SELECT per table, with PostgreSQL's random() seeded so every run seeds the same
 * spread. NHS numbers get their Modulus 11 check digit (the table checks it); base numbers whose check digit
 * would be 10 are skipped, so a few more bases than people are drawn.
 */
async function seedWorklist(store: Store, openTasks: number): Promise<{ seconds: number; rows: number }> {
  const knex = knexOf(store);
  const people = Math.ceil(openTasks / 4);
  const started = performance.now();
  await knex.transaction(async (trx) => {
    await trx.raw('select setseed(0.4217)');
    await trx.raw(
      `insert into settings (id, ods_code, name, kind, prison_type)
       select gen_random_uuid(), 'BNCH' || lpad(i::text, 2, '0'), 'Bench setting ' || i,
              (array['prison', 'custody_suite', 'court', 'community_service'])[1 + i % 4],
              case when i % 4 = 0 then 'HMP' end
       from generate_series(1, ?) i`,
      [SETTINGS],
    );
    // Digits weighted 10..2; check digit 11 - (sum mod 11), 11 meaning 0 and 10 meaning no valid number.
    await trx.raw(
      `insert into patients (id, nhs_number)
       select gen_random_uuid(), base || ((11 - s % 11) % 11)::text
       from (select base, (select sum(substr(base, k, 1)::int * (11 - k)) from generate_series(1, 9) k) s
             from (select (400000000 + i)::text base from generate_series(1, ?) i) b) d
       where (11 - s % 11) % 11 <> 10
       limit ?`,
      [Math.ceil(people * 1.2), people],
    );
    // Skewed towards the first settings, as a large prison has most of the caseload.
    await trx.raw(
      `insert into cases (id, patient_id, setting_id, pathway_id, pathway_version, workflow_id, status, opened_at)
       select gen_random_uuid(), x.patient_id, s.id, x.pathway_id, 1, 'bench-case-' || x.n, 'open', x.opened_at
       from (select p.id patient_id, row_number() over () n,
                    'BNCH' || lpad((1 + floor(power(random(), 1.6) * ?))::int::text, 2, '0') ods_code,
                    (array['sms-prison', 'custody-reception', 'release-support'])[1 + floor(random() * 3)::int] pathway_id,
                    now() - random() * interval '120 days' opened_at
             from patients p where p.nhs_number like '4%') x
       join settings s on s.ods_code = x.ods_code`,
      [SETTINGS],
    );
    await trx.raw(
      `insert into case_settings (case_id, setting_id, reason, recorded_at, recorded_by)
       select id, setting_id, 'opened', opened_at, 'bench' from cases where workflow_id like 'bench-case-%'`,
    );
    // A tenth handed over along a journey to another setting (custody -> prison -> community).
    await trx.raw(
      `insert into case_settings (case_id, setting_id, reason, recorded_at, recorded_by)
       select c.id, s.id, 'handed-over', c.opened_at + interval '2 days', 'bench'
       from cases c join settings s on s.ods_code = 'BNCH' || lpad((1 + (abs(hashtext(c.id::text)) % ?))::text, 2, '0')
       where c.workflow_id like 'bench-case-%' and s.id <> c.setting_id and random() < 0.1
       on conflict do nothing`,
      [SETTINGS],
    );
    // Four open tasks per case, and two closed ones: soonest due from 20 days overdue to 60 days ahead. The random
    // draws sit in a subquery's select list, evaluated per row (a lateral subquery of them would be memoized).
    await trx.raw(
      `insert into worklist_tasks (id, case_id, workflow_id, element_id, name, form_id, status, assignee,
                                   candidate_groups, due_at, created_at, completed_at, completed_by)
       select r.workflow_id || '#' || (${ELEMENTS_SQL})[r.k], r.case_id, r.workflow_id, (${ELEMENTS_SQL})[r.k],
              (array['Reception screen', 'Dual diagnosis', 'Risk assessment', '5-day review', '28-day review',
                     'Care plan'])[r.k],
              (array['prison-reception-sms', 'sms-dual-diagnosis', 'sms-risk-assessment', 'sms-review', 'sms-review',
                     'sms-care-plan'])[r.k],
              case when r.k <= 4 then 'open' else 'completed' end,
              case when r.a < 0.004 then ? when r.a < 0.3 then 'staff-' || floor(r.a * 1000)::int || '@staff.test' end,
              case when r.g < 0.8 then array[(${GROUPS_SQL})[1 + floor(r.g * 5)::int]]
                   else array[(${GROUPS_SQL})[1 + floor(r.g * 5)::int], 'sms-team'] end,
              case when r.d < 0.1 then null else now() + (r.d * 80 - 20) * interval '1 day' end,
              r.opened_at,
              case when r.k > 4 then r.opened_at + interval '1 day' end,
              case when r.k > 4 then 'staff-1@staff.test' end
       from (select c.id case_id, c.workflow_id, c.opened_at, k, random() a, random() g, random() d
             from cases c cross join generate_series(1, 6) k
             where c.workflow_id like 'bench-case-%') r`,
      [CLINICIAN],
    );
  });
  await knex.raw('analyze');
  const [{ count }] = (await knex('worklist_tasks').count<{ count: string }[]>({ count: '*' })) as [{ count: string }];
  return { seconds: (performance.now() - started) / 1000, rows: Number(count) };
}

interface Timing {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

function timingOf(samples: number[]): Timing {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? NaN };
}

async function main(): Promise<void> {
  const openTasks = option('tasks', 100_000);
  const samples = option('samples', 300);
  const completions = option('completions', 200);
  const explain = process.argv.includes('--explain');
  const compare = !process.argv.includes('--no-compare');
  // Fewer without the index: each request then sorts every open task of the settings.
  const compareSamples = option('compare-samples', 50);

  Runtime.install({ logger: new DefaultLogger('WARN') });
  const database = await startBenchDatabase('bench_api');
  // Stopped in reverse order however the run ends, so a failed run leaves no PostgreSQL or server behind.
  const stops: (() => Promise<unknown>)[] = [() => database.stop()];
  try {
    await migrateDatabase(database.url, silentLogger);
    const store = await openStore(database.url);
    stops.push(() => store.close());
    progress(`seeding ${openTasks} open worklist tasks`);
    const seeded = await seedWorklist(store, openTasks);
    const [{ open }] = (await knexOf(store)('worklist_tasks')
      .where({ status: 'open' })
      .count<{ open: string }[]>({ open: '*' })) as [{ open: string }];

    const xml = await fs.readFile(path.join(__dirname, '..', 'test', 'fixtures', 'bpmn', 'two-reviews.bpmn'), 'utf8');
    await deployPathway(store, xml, { ...shippedLintOptions(), deployedBy: 'bench' });
    await addStaff(store, {
      name: 'Bench clinician',
      email: CLINICIAN,
      duties: [],
      settings: OWN_SETTINGS,
      roles: ['clinician'],
      subject: CLINICIAN,
    });

    const server = await startServerProcess(database.url);
    stops.push(() => server.stop());
    const connection = await NativeConnection.connect(workerConnectionOptions(server.address));
    stops.push(() => connection.close());
    const worker = await Worker.create({
      connection,
      taskQueue: TASK_QUEUE,
      workflowsPath: WORKFLOWS_PATH,
      activities: createActivities({
        store,
        // TwoReviews calls no Spine service.
        spine: createSpineClient({ baseUrl: 'http://127.0.0.1:9', retry: { maxAttempts: 1 } }),
        transport: createLocalInboxTransport({ store, logger: silentLogger }),
        logger: silentLogger,
      }),
    });
    const engine: CaseEngine = {
      store,
      client: new Client({ connection }),
      taskQueue: TASK_QUEUE,
      logger: silentLogger,
    };

    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'bench', alg: 'ES256' }] });
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'bench' })
      .setSubject(CLINICIAN)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('2h')
      .sign(privateKey);
    const authenticate = createBearerAuth({ issuer: ISSUER, audience: AUDIENCE, jwks, store });
    const app = createApp({
      readiness: new Readiness(),
      logger: silentLogger,
      api: () => ({ store, authenticate, engine: () => engine }),
    });
    const httpServer = http.createServer(app);
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    stops.push(() => new Promise((resolve) => httpServer.close(resolve)));
    const origin = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
    // fetch (undici) keeps connections alive between requests, as a browser or partner system would.
    const call = async (method: 'GET' | 'POST', target: string, body?: unknown) => {
      const res = await fetch(origin + target, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      const json = (await res.json()) as Record<string, unknown>;
      if (!res.ok) throw new Error(`${method} ${target} answered ${res.status}: ${JSON.stringify(json)}`);
      return json;
    };

    const soon = new Date(Date.now() + 7 * 86_400_000).toISOString();
    const filters: Record<string, string> = {
      'default (open, soonest due first)': '',
      'mine (assigned=me)': 'assigned=me',
      'candidate group (sms-team)': 'candidateGroup=sms-team',
      unassigned: 'unassigned=true',
      overdue: 'overdue=true',
      'due window (next 7 days)': `dueAfter=${encodeURIComponent(new Date().toISOString())}&dueBefore=${encodeURIComponent(soon)}`,
      'setting (BNCH02)': 'setting=BNCH02',
      'team: group + unassigned + overdue': 'candidateGroup=sms-team&unassigned=true&overdue=true',
    };

    const loadBefore = os.loadavg()[0]!;
    const results = await worker.runUntil(async () => {
      progress('listing the worklist');
      // 2. The worklist.
      const measureLists = async (samples: number) => {
        const lists: Record<string, Timing & { items: number }> = {};
        const all: number[] = [];
        for (const [name, query] of Object.entries(filters)) {
          const target = `/api/v1/tasks${query ? `?${query}` : ''}`;
          let items = 0;
          for (let i = 0; i < 20; i++) items = ((await call('GET', target))['items'] as unknown[]).length;
          const times: number[] = [];
          for (let i = 0; i < samples; i++) {
            const began = performance.now();
            await call('GET', target);
            times.push(performance.now() - began);
          }
          all.push(...times);
          lists[name] = { ...timingOf(times), items };
        }
        return { lists, all: timingOf(all) };
      };
      // The same lists without the sort index first (its definition read back, dropped, then made again), so the
      // index's effect is a ratio within one run.
      let withoutIndex: Awaited<ReturnType<typeof measureLists>> | undefined;
      if (compare) {
        const knex = knexOf(store);
        const [index] = (
          await knex.raw<{ rows: { indexdef: string }[] }>(`select indexdef from pg_indexes where indexname = ?`, [
            SORT_INDEX,
          ])
        ).rows;
        if (!index) throw new Error(`no index ${SORT_INDEX}: has its migration run?`);
        await knex.raw(`drop index ${SORT_INDEX}`);
        progress('listing the worklist without the sort index');
        withoutIndex = await measureLists(compareSamples);
        await knex.raw(index.indexdef);
        await knex.raw('analyze worklist_tasks');
        progress('listing the worklist with the sort index');
      }
      const { lists, all: listAll } = await measureLists(samples);

      // The worklist page asks for its counts beside each list: all, mine, unassigned, overdue, per group and task.
      progress('counting the worklist views');
      const counts: Record<string, Timing> = {};
      for (const [name, query] of Object.entries({ 'all my settings': '', 'setting (BNCH02)': 'setting=BNCH02' })) {
        const target = `/api/v1/task-counts${query ? `?${query}` : ''}`;
        for (let i = 0; i < 5; i++) await call('GET', target);
        const times: number[] = [];
        for (let i = 0; i < Math.max(20, Math.floor(samples / 5)); i++) {
          const began = performance.now();
          await call('GET', target);
          times.push(performance.now() - began);
        }
        counts[name] = timingOf(times);
      }

      const plans: Record<string, string> = {};
      if (explain) {
        const knex = knexOf(store);
        for (const [name, query] of Object.entries(filters)) {
          const q = new URLSearchParams(query);
          let captured: { sql: string; bindings: readonly unknown[] } | undefined;
          const listen = (e: { sql: string; bindings?: readonly unknown[] }) => {
            if (!captured && e.sql.includes('worklist_tasks')) captured = { sql: e.sql, bindings: e.bindings ?? [] };
          };
          knex.on('query', listen);
          await listWorklist(store, {
            scope: q.get('setting') ? [q.get('setting')!] : OWN_SETTINGS,
            ...(q.get('assigned') ? { assignee: CLINICIAN } : {}),
            ...(q.get('candidateGroup') ? { candidateGroup: q.get('candidateGroup')! } : {}),
            ...(q.get('unassigned') ? { unassigned: true } : {}),
            ...(q.get('overdue') ? { overdue: true } : {}),
            ...(q.get('dueAfter') ? { dueAfter: q.get('dueAfter')! } : {}),
            ...(q.get('dueBefore') ? { dueBefore: q.get('dueBefore')! } : {}),
            ...(q.get('setting') ? { setting: q.get('setting')! } : {}),
            limit: 50,
          });
          knex.off('query', listen);
          if (!captured) continue;
          // The event holds the SQL as sent ($1, $2...): explained through pg with the same values.
          const pg = new PgClient({ connectionString: database.url });
          await pg.connect();
          const explained = await pg.query<{ 'QUERY PLAN': string }>(
            `explain (analyze, buffers) ${captured.sql}`,
            captured.bindings as unknown[],
          );
          await pg.end();
          plans[name] = explained.rows.map((r) => r['QUERY PLAN']).join('\n');
        }
      }

      // 3. Complete -> next task visible.
      progress('completing tasks');
      const own = OWN_SETTINGS[0]!;
      const caseIds: string[] = [];
      for (let i = 0; i < completions; i++) {
        const base = String(300_000_000 + i * 7).padStart(9, '0');
        const sum = [...base].reduce((s, d, k) => s + Number(d) * (10 - k), 0);
        const check = (11 - (sum % 11)) % 11;
        if (check === 10) continue;
        const started = await call('POST', '/api/v1/cases', {
          pathway: 'TwoReviews',
          nhsNumber: base + String(check),
          settingOdsCode: own,
        });
        caseIds.push(started['caseId'] as string);
      }
      const openTaskOf = async (caseId: string, elementId: string) => {
        for (;;) {
          const page = await call('GET', `/api/v1/tasks?caseId=${caseId}`);
          const task = (page['items'] as { taskId: string; elementId: string }[]).find(
            (t) => t.elementId === elementId,
          );
          if (task) return task.taskId;
          await new Promise((r) => setTimeout(r, 5));
        }
      };
      const answers = JSON.parse(
        await fs.readFile(path.join(FORMS_DIRECTORY, 'examples', 'sms-brief-intervention.examples.json'), 'utf8'),
      ) as { valid: Record<string, unknown> };
      const response: number[] = [];
      const visible: number[] = [];
      let inResponse = 0;
      for (const caseId of caseIds) {
        const taskId = await openTaskOf(caseId, 'FirstReview');
        const began = performance.now();
        const done = await call('POST', `/api/v1/tasks/${encodeURIComponent(taskId)}/complete`, {
          data: answers.valid,
        });
        const answered = performance.now() - began;
        response.push(answered);
        // nextTasks is the worklist read after the completion: when it holds the next task, the task was in the
        // list when the response returned; otherwise the list is asked again until it shows it.
        const next = (done['nextTasks'] as { elementId: string; status: string }[]).some(
          (t) => t.elementId === 'SecondReview' && t.status === 'open',
        );
        if (next) {
          inResponse++;
          visible.push(answered);
        } else {
          await openTaskOf(caseId, 'SecondReview');
          visible.push(performance.now() - began);
        }
      }
      return {
        lists,
        listAll,
        counts,
        ...(withoutIndex ? { withoutIndex } : {}),
        plans,
        completion: {
          cases: caseIds.length,
          response: timingOf(response),
          visible: timingOf(visible),
          nextTaskInResponse: inResponse,
        },
      };
    });

    const loadAfter = os.loadavg()[0]!;
    const machine = describeMachine(database.postgresVersion);
    const report = {
      machine,
      loadAverage: { before: loadBefore, after: loadAfter },
      seeded: { ...seeded, open: Number(open) },
      samplesPerFilter: samples,
      ...results,
    };
    await fs.mkdir(path.join(__dirname, 'results'), { recursive: true });
    await fs.writeFile(path.join(__dirname, 'results', 'api.json'), JSON.stringify(report, null, 2) + '\n');

    const f = (n: number) => n.toFixed(1);
    const { completion } = results;
    process.stdout.write(
      [
        `Machine: ${machine}`,
        `Seeded ${seeded.rows} worklist tasks (${open} open) in ${seeded.seconds.toFixed(1)} s`,
        `Load average (1 min) before / after measuring: ${loadBefore.toFixed(2)} / ${loadAfter.toFixed(2)} on ${os.cpus().length} cores`,
        '',
        `| GET /api/v1/tasks (${samples} requests each, one at a time) | tasks shown | p50 | p99 | max | p99 without the sort index (${compareSamples} each) | p99 ratio |`,
        '| --- | --- | --- | --- | --- | --- | --- |',
        ...Object.entries(results.lists).map(([name, t]) => {
          const before = results.withoutIndex?.lists[name];
          return `| ${name} | ${t.items} | ${f(t.p50)} ms | ${f(t.p99)} ms | ${f(t.max)} ms | ${before ? `${f(before.p99)} ms` : '-'} | ${before ? (before.p99 / t.p99).toFixed(1) : '-'} |`;
        }),
        `| all of the above | | ${f(results.listAll.p50)} ms | ${f(results.listAll.p99)} ms | ${f(results.listAll.max)} ms | ${results.withoutIndex ? `${f(results.withoutIndex.all.p99)} ms` : '-'} | ${results.withoutIndex ? (results.withoutIndex.all.p99 / results.listAll.p99).toFixed(1) : '-'} |`,
        '',
        '| GET /api/v1/task-counts (the worklist page’s counts) | p50 | p99 | max |',
        '| --- | --- | --- | --- |',
        ...Object.entries(results.counts).map(
          ([name, t]) => `| ${name} | ${f(t.p50)} ms | ${f(t.p99)} ms | ${f(t.max)} ms |`,
        ),
        '',
        `| complete -> next task (${completion.cases} cases of TwoReviews) | p50 | p99 | max |`,
        '| --- | --- | --- | --- |',
        `| POST .../complete answered | ${f(completion.response.p50)} ms | ${f(completion.response.p99)} ms | ${f(completion.response.max)} ms |`,
        `| next task visible in GET /api/v1/tasks | ${f(completion.visible.p50)} ms | ${f(completion.visible.p99)} ms | ${f(completion.visible.max)} ms |`,
        `next task already in the response's nextTasks: ${completion.nextTaskInResponse} of ${completion.cases}`,
        '',
        ...Object.entries(results.plans).flatMap(([name, plan]) => [`EXPLAIN ANALYZE: ${name}`, plan, '']),
      ].join('\n'),
    );
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}

runBenchmark('bench:api', main);
