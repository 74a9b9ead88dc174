/**
 * `npm run bench:ops`: the ops console (issue 16) over a large visibility store, and how soon it sees a change.
 *
 * 1. Seeds the embedded server's `executions` table with 100,000 case workflows in one INSERT ... SELECT, their
 *    search attributes as the server stores them (plain JSON per the visibility README): 20 settings (skewed: the
 *    first holds about a sixth), three pathways, three quarters running; 1.4% in the failing view (of the running:
 *    1.3% with an activity failing 2 to 12 attempts, 0.1% with an open incident; failed cases), a fifth of the
 *    running ones overdue, some idle or waiting for a message; each row's `state` as large as a live case's (about 1.4 kB), since scans read it.
 *    ANALYZE afterwards, as the server would have run by then. The live cases' stored rows are printed to compare.
 * 2. Times the console's own functions (engine/ops.ts) through the SDK client, the server (its own process) and
 *    PostgreSQL, one call at a time: `countOpsViews`, `listOpsCases` of each view, and a free query, scoped to one
 *    setting and to all 20; EXPLAIN ANALYZE of the failing view's SQL says which indexes serve it. Then the same
 *    calls as the console made them before it was tuned (lists with `ORDER BY StartTime DESC`, and the server
 *    without its indexes on Int attributes), so the tuning's effect is a ratio within one run.
 * 3. Freshness, with the real `runPathway` workflows, activities and failure reporting on the same server: for
 *    cases of `TwoReviews` (test/fixtures/bpmn/two-reviews.bpmn), the time from a change being acknowledged (the
 *    case started, `completeTask` of FirstReview answered, `completeTask` of SecondReview answered) to
 *    `listOpsCases` first showing it (listed, at SecondReview, Completed), asked every 10 ms; and for cases of
 *    `OpsStuck` whose PDS trace fails (a Spine sandbox `unavailable` fault), from the activity's 2nd failed attempt
 *    (its error leaving the activity) to the case being listed in the failing view at a threshold of 2 attempts.
 *
 * Options: --cases N seeded (100000), --samples N per query (50), --changes N TwoReviews cases, three changes each
 * (100), --failures N failing cases (20), --explain (print every EXPLAIN ANALYZE plan in full),
 * --no-before (skip timing the console as it was before it was tuned).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Context } from '@temporalio/activity';
import { Client, Connection } from '@temporalio/client';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type ActivityInboundCallsInterceptor,
} from '@temporalio/worker';
import { Client as PgClient } from 'pg';
import { createActivities, createLocalInboxTransport, createSpineClient } from '../activities';
import { completeTask, deployPathway, shippedLintOptions, listTasks, startCase, type CaseEngine } from '../engine';
import { countOpsViews, listOpsCases, opsCaseOf, opsListQuery, type OpsCase } from '../engine/ops';
import { DEFAULT_OPS_THRESHOLDS, OPS_VIEWS, scopedQuery, viewCondition, type OpsView } from '../engine/ops-queries';
import { silentLogger } from '../log';
import { FORMS_DIRECTORY } from '../pathways';
import { startSpineSandbox } from '../spine-sandbox';
import { migrateDatabase, openStore, type Store } from '../store';
import { compileVisibilityQuery } from '../temporal-server/visibility';
import { WORKFLOWS_PATH, workerConnectionOptions } from '../worker';
import { FIRST_REPORTED_ATTEMPT, reportActivityFailures } from '../worker/activity-failures';
import { CASE_SEARCH_ATTRIBUTES, registerCaseSearchAttributes } from '../worker/case-search-attributes';
import { SETTINGS, seedCaseExecutions } from './ops-seed';
import { describeMachine, option, percentile, runBenchmark, startBenchDatabase, startServerProcess } from './support';

const TASK_QUEUE = 'bench-ops';
const NAMESPACE = 'default';
/** The largest setting (the seed is skewed towards the first): the live cases run here too. */
const ONE_SETTING = SETTINGS[0]!;
/** A Spine sandbox test patient; the bench gives it an `unavailable` fault, so every PDS trace of it fails. */
const FAILING_NHS_NUMBER = '9000000009';
const FREE_QUERY = `PathwayId = 'sms-prison' AND OverdueFrom < NOW()`;
const POLL_MS = 10;
const FRESHNESS_TIMEOUT_MS = 30_000;
const FIXTURES = path.join(__dirname, '..', 'test', 'fixtures', 'bpmn');
const progress = (what: string) => process.stderr.write(`bench:ops: ${what}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Timing {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly n: number;
}

function timingOf(samples: readonly number[]): Timing {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
    n: sorted.length,
  };
}

/** A valid NHS number (Modulus 11) from a 9-digit base, or undefined when the base has no valid check digit. */
function nhsNumberOf(base: number): string | undefined {
  const digits = String(base).padStart(9, '0');
  const sum = [...digits].reduce((s, d, k) => s + Number(d) * (10 - k), 0);
  const check = (11 - (sum % 11)) % 11;
  return check === 10 ? undefined : digits + String(check);
}

/** EXPLAIN ANALYZE of the SQL the server runs for a console list (as temporal-server/visibility-wiring.ts writes it). */
async function explainList(pg: PgClient, listQuery: string, pageSize: number): Promise<string> {
  const q = compileVisibilityQuery(listQuery, {
    customAttributes: CASE_SEARCH_ATTRIBUTES,
    firstParam: 2,
    now: new Date(),
    operation: 'list',
  });
  const { rows } = await pg.query<{ 'QUERY PLAN': string }>(
    `explain (analyze, buffers)
     SELECT workflow_id, run_id, workflow_type, task_queue, status, start_time, execution_time, close_time,
            search_attributes, history_length, state->'memo' AS memo, state->'parent' AS parent,
            state->>'firstRunId' AS first_run_id, state->'root' AS root
       FROM temporal.executions WHERE namespace = $1 AND (${q.where})
       ORDER BY ${q.orderBy} LIMIT ${pageSize + 1} OFFSET 0`,
    [NAMESPACE, ...q.params],
  );
  return rows.map((r) => r['QUERY PLAN']).join('\n');
}

/** The indexes a plan reads, or that it reads none. */
function indexesOf(plan: string): string {
  // "Index Scan using <index> on <table>", "Bitmap Index Scan on <index>".
  const used = [
    ...plan.matchAll(/(Index Only Scan|Index Scan|Bitmap Index Scan)(?: Backward)? (?:using (\S+) on \S+|on (\S+))/g),
  ];
  const names = [...new Set(used.map((m) => `${m[1]} on ${m[2] ?? m[3]}`))];
  const seq = /Seq Scan on/.test(plan) ? ['Seq Scan on executions'] : [];
  const execution = /Execution Time: ([\d.]+) ms/.exec(plan)?.[1];
  return `${[...names, ...seq].join('; ') || 'no scan found'} (execution ${execution ?? '?'} ms)`;
}

/** Records when each case workflow's activity failed its 2nd attempt. */
class FailureClock {
  private readonly failedAt = new Map<string, number>();
  private readonly waiting = new Map<string, (at: number) => void>();

  /** For the worker's activity interceptors: innermost, so it sees a failure before the report is sent. */
  readonly interceptor = (ctx: Context): { inbound: ActivityInboundCallsInterceptor } => ({
    inbound: {
      execute: async (input, next) => {
        try {
          return await next(input);
        } catch (error) {
          const run = ctx.info.workflowExecution;
          if (run && ctx.info.attempt === FIRST_REPORTED_ATTEMPT) this.record(run.workflowId, performance.now());
          throw error;
        }
      },
    },
  });

  private record(workflowId: string, at: number): void {
    this.failedAt.set(workflowId, at);
    this.waiting.get(workflowId)?.(at);
  }

  /** When the case's activity failed its 2nd attempt (waits for it). */
  secondFailure(workflowId: string): Promise<number> {
    const known = this.failedAt.get(workflowId);
    if (known !== undefined) return Promise.resolve(known);
    return new Promise((resolve) => this.waiting.set(workflowId, resolve));
  }
}

type ChangeKind = 'started' | 'moved' | 'completed';

interface Shown {
  /** From the moment measured from to the end of the first listOpsCases call that showed the change. */
  readonly ms: number;
  /** listOpsCases calls until then (1: the first call after the acknowledgement already showed it). */
  readonly polls: number;
}

/** Asks `listOpsCases` every POLL_MS until `shows` holds for the case it lists; the time since `from`. */
async function firstShown(
  engine: CaseEngine,
  workflowId: string,
  from: number,
  shows: (listed: OpsCase | undefined) => boolean,
  view?: OpsView,
): Promise<Shown> {
  for (let polls = 1; ; polls++) {
    // The threshold is the first attempt the worker reports (the console's default too, but that may change).
    const page = await listOpsCases(engine, {
      settings: [ONE_SETTING],
      ...(view ? { view, thresholds: { ...DEFAULT_OPS_THRESHOLDS, failingAttempts: FIRST_REPORTED_ATTEMPT } } : {}),
      query: `WorkflowId = '${workflowId}'`,
      limit: 1,
    });
    const now = performance.now();
    if (shows(page.items[0])) return { ms: now - from, polls };
    if (now - from > FRESHNESS_TIMEOUT_MS) throw new Error(`${workflowId}: not shown after ${FRESHNESS_TIMEOUT_MS} ms`);
    await sleep(POLL_MS);
  }
}

/** A live case's search attributes as stored, and the stored size of its row's `state` (bytes, after compression). */
async function storedAttributes(
  pg: PgClient,
  workflowId: string,
): Promise<{ attributes: unknown; stateBytes: number }> {
  const { rows } = await pg.query<{ search_attributes: unknown; state_bytes: number }>(
    `select search_attributes, pg_column_size(state) state_bytes from temporal.executions
      where workflow_id = $1 order by seq desc limit 1`,
    [workflowId],
  );
  return { attributes: rows[0]?.search_attributes, stateBytes: rows[0]?.state_bytes ?? NaN };
}

async function openTaskOf(engine: CaseEngine, caseId: string, elementId: string): Promise<string> {
  for (const began = performance.now(); performance.now() - began < FRESHNESS_TIMEOUT_MS; await sleep(5)) {
    const task = (await listTasks(engine, { caseId })).find((t) => t.elementId === elementId && t.status === 'open');
    if (task) return task.taskId;
  }
  throw new Error(`case ${caseId}: no open ${elementId} task`);
}

async function main(): Promise<void> {
  const cases = option('cases', 100_000);
  const samples = option('samples', 50);
  const changes = option('changes', 100);
  const failures = option('failures', 20);
  const explainAll = process.argv.includes('--explain');
  const timeBefore = !process.argv.includes('--no-before');

  // ERROR: the SDK warns of every failed activity attempt, and the failing cases fail on purpose.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const database = await startBenchDatabase('bench_ops');
  // Stopped in reverse order however the run ends, so a failed run leaves no PostgreSQL or server behind.
  const stops: (() => Promise<unknown>)[] = [() => database.stop()];
  try {
    await migrateDatabase(database.url, silentLogger);
    const store: Store = await openStore(database.url);
    stops.push(() => store.close());
    const knex = store.orm.em.getConnection().getKnex();
    await knex('settings').insert(
      SETTINGS.map((ods, i) => ({
        id: knex.raw('gen_random_uuid()'),
        ods_code: ods,
        name: `Bench setting ${i + 1}`,
        kind: 'prison',
        prison_type: 'HMP',
      })),
    );
    const lint = { ...shippedLintOptions(), deployedBy: 'bench' };
    for (const fixture of ['two-reviews', 'ops-stuck'])
      await deployPathway(store, await fs.readFile(path.join(FIXTURES, `${fixture}.bpmn`), 'utf8'), lint);

    const sandbox = await startSpineSandbox();
    stops.push(() => sandbox.stop());
    sandbox.setFault(FAILING_NHS_NUMBER, { kind: 'unavailable' });

    const server = await startServerProcess(database.url);
    stops.push(() => server.stop());
    // The console's client as `throughcare up` makes it (grpc-js), which also registers the case attributes.
    const connection = await Connection.connect({ address: server.address });
    stops.push(() => connection.close());
    await registerCaseSearchAttributes(connection, NAMESPACE);
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: NAMESPACE });
    const registered = Object.keys(customAttributes ?? {}).filter((name) => name in CASE_SEARCH_ATTRIBUTES);
    if (registered.length !== Object.keys(CASE_SEARCH_ATTRIBUTES).length)
      throw new Error(`case search attributes not registered: ${registered.join(', ')}`);
    const client = new Client({ connection, namespace: NAMESPACE });

    const pg = new PgClient({ connectionString: database.url });
    await pg.connect();
    stops.push(() => pg.end());
    progress(`seeding ${cases} case executions`);
    const seeded = await seedCaseExecutions(pg, cases);
    const inOneSetting = Number(
      (
        await pg.query<{ n: string }>(
          `select count(*) n from temporal.executions where search_attributes @> jsonb_build_object('CaseSetting', $1::text)`,
          [ONE_SETTING],
        )
      ).rows[0]?.n,
    );

    const failureClock = new FailureClock();
    const nativeConnection = await NativeConnection.connect(workerConnectionOptions(server.address));
    stops.push(() => nativeConnection.close());
    const worker = await Worker.create({
      connection: nativeConnection,
      namespace: NAMESPACE,
      taskQueue: TASK_QUEUE,
      workflowsPath: WORKFLOWS_PATH,
      activities: createActivities({
        store,
        spine: createSpineClient({ baseUrl: sandbox.baseUrl, retry: { maxAttempts: 1 } }),
        transport: createLocalInboxTransport({ store, logger: silentLogger }),
        logger: silentLogger,
      }),
      // As worker/index.ts has it, with the bench's clock innermost.
      interceptors: {
        activity: [reportActivityFailures({ client, logger: silentLogger }), failureClock.interceptor],
      },
    });
    const engine: CaseEngine = {
      store,
      client,
      taskQueue: TASK_QUEUE,
      logger: silentLogger,
      // The form examples carry dates: checked against a clock after all of them, as the tests do.
      now: () => new Date('2099-01-01T00:00:00Z'),
    };
    const example = async (formId: string) =>
      (
        JSON.parse(await fs.readFile(path.join(FORMS_DIRECTORY, 'examples', `${formId}.examples.json`), 'utf8')) as {
          valid: Record<string, unknown>;
        }
      ).valid;
    const firstAnswers = await example('sms-brief-intervention');
    const secondAnswers = await example('sms-care-plan');

    const loadBefore = os.loadavg()[0]!;
    const results = await worker.runUntil(async () => {
      // 2. Query times, with nothing else running.
      const scopes: Record<string, readonly string[]> = {
        [`one setting (${ONE_SETTING}, ${inOneSetting} cases)`]: [ONE_SETTING],
        [`all ${SETTINGS.length} settings (${seeded.rows} cases)`]: SETTINGS,
      };
      const queries: Record<string, Record<string, Timing & { shown: number }>> = {};
      const before: Record<string, Record<string, Timing & { shown: number }>> = {};
      const viewCounts: Record<string, Record<OpsView, number>> = {};
      const plans: Record<string, string> = {};
      const timeCalls = async (calls: Record<string, () => Promise<number>>) => {
        const timed: Record<string, Timing & { shown: number }> = {};
        for (const [name, call] of Object.entries(calls)) {
          let shown = 0;
          for (let i = 0; i < 3; i++) shown = await call();
          const times: number[] = [];
          for (let i = 0; i < samples; i++) {
            const began = performance.now();
            await call();
            times.push(performance.now() - began);
          }
          timed[name] = { ...timingOf(times), shown };
        }
        return timed;
      };
      const callsOf = (scope: string, settings: readonly string[]): Record<string, () => Promise<number>> => ({
        countOpsViews: async () => {
          const counts = await countOpsViews(engine, settings);
          viewCounts[scope] = counts;
          return Object.values(counts).reduce((a, b) => a + b, 0);
        },
        ...Object.fromEntries(
          OPS_VIEWS.map((view) => [
            `listOpsCases view=${view}`,
            async () => (await listOpsCases(engine, { settings, view, limit: 50 })).items.length,
          ]),
        ),
        [`listOpsCases query: ${FREE_QUERY}`]: async () =>
          (await listOpsCases(engine, { settings, query: FREE_QUERY, limit: 50 })).items.length,
        [`count: ${FREE_QUERY}`]: async () => (await client.workflow.count(scopedQuery(settings, FREE_QUERY))).count,
      });
      for (const [scope, settings] of Object.entries(scopes)) {
        progress(`timing the console's queries: ${scope}`);
        queries[scope] = await timeCalls(callsOf(scope, settings));
        plans[`failing view, ${scope}`] = await explainList(pg, opsListQuery({ settings, view: 'failing' }), 50);
        if (explainAll) {
          for (const view of OPS_VIEWS.filter((v) => v !== 'failing'))
            plans[`${view} view, ${scope}`] = await explainList(pg, opsListQuery({ settings, view }), 50);
          plans[`free query, ${scope}`] = await explainList(pg, opsListQuery({ settings, query: FREE_QUERY }), 50);
        }
      }
      // The console as it was before it was tuned, for a ratio within this run: its lists asked for
      // `ORDER BY StartTime DESC` (compiled to `start_time DESC NULLS LAST`, an order the start-time index does not
      // give, so every match was read and sorted), and the server had no index on Int attributes, which serve the
      // failing view's range conditions. The indexes are put back (as registration does) before the freshness runs.
      if (timeBefore) {
        const { rows: rangeIndexes } = await pg.query<{ name: string; sql: string }>(
          `select indexname as name, indexdef as sql from pg_indexes
            where schemaname = 'temporal' and indexname like 'executions_sa_%'`,
        );
        for (const index of rangeIndexes) await pg.query(`drop index temporal."${index.name}"`);
        await pg.query('analyze temporal.executions');
        const orderedList = (settings: readonly string[], condition: string) => async () =>
          (
            await client.workflowService.listWorkflowExecutions({
              namespace: NAMESPACE,
              query: `${scopedQuery(settings, condition)} ORDER BY StartTime DESC`,
              pageSize: 50,
            })
          ).executions.map(opsCaseOf).length;
        for (const [scope, settings] of Object.entries(scopes)) {
          progress(`timing the console as it was before it was tuned: ${scope}`);
          before[scope] = await timeCalls({
            countOpsViews: callsOf(scope, settings)['countOpsViews']!,
            ...Object.fromEntries(
              OPS_VIEWS.map((view) => [`listOpsCases view=${view}`, orderedList(settings, viewCondition(view))]),
            ),
            [`listOpsCases query: ${FREE_QUERY}`]: orderedList(settings, FREE_QUERY),
          });
        }
        for (const index of rangeIndexes) await pg.query(index.sql);
        await pg.query('analyze temporal.executions');
      }

      // 3a. Freshness of starts, moves and completions, one case at a time.
      progress(`freshness: ${changes} TwoReviews cases, three changes each`);
      const fromAck: Record<ChangeKind, number[]> = { started: [], moved: [], completed: [] };
      const fromRequest: number[] = [];
      const acknowledged: number[] = [];
      let atFirstPoll = 0;
      let atSecondReview: ({ workflowId: string } & Awaited<ReturnType<typeof storedAttributes>>) | undefined;
      // `act` makes the change and answers the case's workflow id once the engine has acknowledged it.
      const measure = async (
        kind: ChangeKind,
        act: () => Promise<string>,
        shows: (listed: OpsCase | undefined) => boolean,
      ) => {
        const requested = performance.now();
        const workflowId = await act();
        const ack = performance.now();
        const shown = await firstShown(engine, workflowId, ack, shows);
        fromAck[kind].push(shown.ms);
        fromRequest.push(shown.ms + (ack - requested));
        acknowledged.push(ack - requested);
        if (shown.polls === 1) atFirstPoll++;
      };
      // The first case is a warm-up (the worker's first workflow tasks, the pools' first connections): not counted.
      for (let base = 300_000_000, counted = -1; counted < changes; base += 7) {
        const nhsNumber = nhsNumberOf(base);
        if (!nhsNumber) continue;
        if (counted++ === 0) {
          for (const kind of Object.keys(fromAck) as ChangeKind[]) fromAck[kind].length = 0;
          fromRequest.length = acknowledged.length = atFirstPoll = 0;
        }
        let caseId = '';
        let workflowId = '';
        await measure(
          'started',
          async () => {
            ({ caseId, workflowId } = await startCase(engine, {
              pathwayId: 'TwoReviews',
              nhsNumber,
              settingOdsCode: ONE_SETTING,
              startedBy: 'bench',
            }));
            return workflowId;
          },
          (listed) => listed !== undefined,
        );
        const first = await openTaskOf(engine, caseId, 'FirstReview');
        await measure(
          'moved',
          async () => {
            await completeTask(engine, { taskId: first, data: firstAnswers, completedBy: 'bench' });
            return workflowId;
          },
          (listed) => listed?.currentElements.join() === 'SecondReview',
        );
        const second = await openTaskOf(engine, caseId, 'SecondReview');
        // One running case's attributes as its workflow stored them, to compare with the seeded rows.
        atSecondReview ??= { workflowId, ...(await storedAttributes(pg, workflowId)) };
        await measure(
          'completed',
          async () => {
            await completeTask(engine, { taskId: second, data: secondAnswers, completedBy: 'bench' });
            return workflowId;
          },
          (listed) => listed?.status === 'Completed',
        );
      }

      // 3b. From an activity's 2nd failed attempt to the failing view, one case at a time; each case is terminated
      // once seen, so retries of earlier ones do not load the later ones.
      progress(`freshness: ${failures} failing OpsStuck cases`);
      const failing: number[] = [];
      let failingAtFirstPoll = 0;
      let failingCase = '';
      const dueAt = new Date(Date.now() + 60 * 86_400_000).toISOString();
      for (let i = 0; i < failures; i++) {
        const { workflowId } = await startCase(engine, {
          pathwayId: 'OpsStuck',
          nhsNumber: FAILING_NHS_NUMBER,
          settingOdsCode: ONE_SETTING,
          variables: { route: 'trace', dueAt },
          startedBy: 'bench',
        });
        const failedAt = await Promise.race([
          failureClock.secondFailure(workflowId),
          sleep(FRESHNESS_TIMEOUT_MS).then(() => {
            throw new Error(`${workflowId}: no 2nd failed attempt`);
          }),
        ]);
        const shown = await firstShown(engine, workflowId, failedAt, (listed) => listed !== undefined, 'failing');
        failing.push(shown.ms);
        if (shown.polls === 1) failingAtFirstPoll++;
        await client.workflow.getHandle(workflowId).terminate('bench:ops measured it');
        failingCase = workflowId;
      }
      const liveAttributes = {
        'a TwoReviews case at SecondReview': atSecondReview,
        'an OpsStuck case failing (then terminated)': {
          workflowId: failingCase,
          ...(await storedAttributes(pg, failingCase)),
        },
      };
      return {
        queries,
        before,
        viewCounts,
        plans,
        liveAttributes,
        freshness: {
          changes: fromRequest.length,
          byKind: Object.fromEntries(Object.entries(fromAck).map(([k, v]) => [k, timingOf(v)])) as Record<
            ChangeKind,
            Timing
          >,
          fromAcknowledgement: timingOf(Object.values(fromAck).flat()),
          fromRequest: timingOf(fromRequest),
          acknowledged: timingOf(acknowledged),
          atFirstPoll,
        },
        failing: { cases: failing.length, fromSecondFailure: timingOf(failing), atFirstPoll: failingAtFirstPoll },
      };
    });

    const loadAfter = os.loadavg()[0]!;
    const machine = describeMachine(database.postgresVersion);
    const report = {
      machine,
      loadAverage: { before: loadBefore, after: loadAfter },
      seeded: { ...seeded, inOneSetting, settings: SETTINGS.length },
      samplesPerQuery: samples,
      pollMs: POLL_MS,
      ...results,
    };
    await fs.mkdir(path.join(__dirname, 'results'), { recursive: true });
    await fs.writeFile(path.join(__dirname, 'results', 'ops.json'), JSON.stringify(report, null, 2) + '\n');

    const f = (n: number) => n.toFixed(1);
    const row = (name: string, t: Timing, extra = '') =>
      `| ${name} | ${extra}${f(t.p50)} ms | ${f(t.p95)} ms | ${f(t.p99)} ms | ${f(t.max)} ms |`;
    const { freshness, failing } = results;
    process.stdout.write(
      [
        `Machine: ${machine}`,
        `Seeded ${seeded.rows} case executions in ${seeded.seconds.toFixed(1)} s (${inOneSetting} in ${ONE_SETTING}; ` +
          `state ${seeded.stateBytes} bytes a row; table and indexes ${seeded.tableMegabytes} MB)`,
        `Load average (1 min) before / after measuring: ${loadBefore.toFixed(2)} / ${loadAfter.toFixed(2)} on ${os.cpus().length} cores`,
        '',
        ...Object.entries(results.queries).flatMap(([scope, timings]) => [
          `| ${scope}: ${samples} calls each, one at a time | shown | p50 | p95 | p99 | max |`,
          '| --- | --- | --- | --- | --- | --- |',
          ...Object.entries(timings).map(([name, t]) => row(name, t, `${t.shown} | `)),
          `view counts: ${JSON.stringify(results.viewCounts[scope])}`,
          '',
        ]),
        ...(Object.keys(results.before).length > 0
          ? [
              `| as it was before tuning (${samples} calls each) | p50 | p99 | p99 now | p99 before / now |`,
              '| --- | --- | --- | --- | --- |',
              ...Object.entries(results.before).flatMap(([scope, timings]) =>
                Object.entries(timings).map(([name, t]) => {
                  const now = results.queries[scope]![name]!;
                  return `| ${name}, ${scope} (${t.shown} shown) | ${f(t.p50)} ms | ${f(t.p99)} ms | ${f(now.p99)} ms | ${(t.p99 / now.p99).toFixed(1)} |`;
                }),
              ),
              '',
            ]
          : []),
        `| freshness (${freshness.changes} changes, one at a time, polled every ${POLL_MS} ms) | p50 | p95 | p99 | max |`,
        '| --- | --- | --- | --- | --- |',
        ...Object.entries(freshness.byKind).map(([kind, t]) => row(`${kind}: acknowledged -> listed`, t)),
        row('all changes: acknowledged -> listed', freshness.fromAcknowledgement),
        row('all changes: requested -> listed', freshness.fromRequest),
        row('the change itself: requested -> acknowledged', freshness.acknowledged),
        row(`2nd failed attempt -> failing view (${failing.cases} cases)`, failing.fromSecondFailure),
        `already shown by the first call after the acknowledgement: ${freshness.atFirstPoll} of ${freshness.changes}; ` +
          `failing cases shown by the first call: ${failing.atFirstPoll} of ${failing.cases}`,
        '',
        ...Object.entries(results.liveAttributes).map(
          ([name, live]) =>
            `Stored by ${name}: ${JSON.stringify(live?.attributes)}; its state: ${live?.stateBytes} bytes`,
        ),
        '',
        ...Object.entries(results.plans).flatMap(([name, plan]) => [
          `EXPLAIN ANALYZE, ${name}: ${indexesOf(plan)}`,
          ...(explainAll || name.startsWith('failing') ? [plan, ''] : []),
        ]),
        '',
      ].join('\n'),
    );
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}

runBenchmark('bench:ops', main);
