/**
 * `GET /metrics` (metrics/): scraped through the real Express app and through `throughcare up` itself, on a real
 * PostgreSQL and the embedded Temporal-compatible server, with cases, worklist tasks, workflow runs, timers and
 * queued tasks seeded so that each value can be checked against what is there: and changes when the data does.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Express } from 'express';
import { Client as PgClient, Pool } from 'pg';
import request from 'supertest';
import { createApp } from '../../api';
import { loadConfig } from '../../config';
import { silentLogger } from '../../log';
import { createMetrics, type Metrics, type MetricsOptions } from '../../metrics';
import { Readiness } from '../../runtime/readiness';
import { migrateDatabase, openStore, type Store } from '../../store';
import { freePort } from '../../store/embedded-postgres';
import { startTemporalServer, type TemporalServer } from '../../temporal-server';
import { ensureSchema } from '../../temporal-server/schema';
import { runCli } from '../support/cli-process';
import { useFreshDatabase } from '../support/database';

jest.setTimeout(120_000);

const TASK_QUEUE = 'metrics-test';
const NHS_NUMBERS = ['9000000009', '9000000017', '9000000025', '9000000033'];
const TOKEN = 'metrics-token-0123456789abcdef';

/** The samples of a text exposition, by `name{labels}` as prom-client writes them. */
function samplesOf(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

describe('GET /metrics', () => {
  let store: Store;
  let server: TemporalServer;
  let connection: Connection;
  let pool: Pool;
  // Before useFreshDatabase, whose own afterAll drops the database: everything holding a connection closes first.
  afterAll(async () => {
    await connection?.close();
    await server?.stop();
    await store?.close();
    await pool?.end();
  }, 60_000);
  const db = useFreshDatabase('metrics');
  let client: Client;
  let metrics: Metrics;
  let app: Express;
  const knex = () => store.orm.em.getConnection().getKnex();
  const caseIds: Record<string, string> = {};

  const metricsFor = (options: Partial<MetricsOptions> = {}) =>
    createMetrics({
      sources: () => ({ store, client }),
      namespace: 'default',
      taskQueue: TASK_QUEUE,
      embeddedTemporalSchema: 'temporal',
      ...options,
    });
  const appFor = (m: Metrics) => createApp({ readiness: new Readiness(), logger: silentLogger, metrics: m });
  async function scrape(target: Express = app): Promise<Map<string, number>> {
    const res = await request(target).get('/metrics');
    expect(res.status).toBe(200);
    return samplesOf(res.text);
  }

  beforeAll(async () => {
    await migrateDatabase(db.url, silentLogger);
    store = await openStore(db.url);
    pool = new Pool({ connectionString: db.url, max: 2 });
    const settingId = randomUUID();
    await knex()('settings').insert({
      id: settingId,
      ods_code: 'XMET01',
      name: 'Metrics prison',
      kind: 'prison',
      prison_type: 'HMP',
    });
    const patients = NHS_NUMBERS.map((nhs) => ({ id: randomUUID(), nhs_number: nhs }));
    await knex()('patients').insert(patients);
    // A deployed pathway with no cases yet: listed with 0.
    await knex()('pathway_versions').insert({
      id: randomUUID(),
      pathway_id: 'release-support',
      version: 1,
      checksum: 'a'.repeat(64),
      bpmn_xml: '<definitions/>',
      ir: {},
      deployed_by: 'test',
    });
    const cases: [string, string, 'open' | 'closed'][] = [
      ['prisonA', 'sms-prison', 'open'],
      ['prisonB', 'sms-prison', 'open'],
      ['prisonClosed', 'sms-prison', 'closed'],
      ['custody', 'custody-reception', 'open'],
    ];
    for (const [i, [key, pathwayId, status]] of cases.entries()) {
      const id = randomUUID();
      caseIds[key] = id;
      await knex()('cases').insert({
        id,
        patient_id: patients[i]!.id,
        setting_id: settingId,
        pathway_id: pathwayId,
        pathway_version: 1,
        workflow_id: `case-${id}`,
        status,
        opened_at: new Date(Date.now() - 86_400_000),
        closed_at: status === 'closed' ? new Date() : null,
      });
    }
    const hour = 3_600_000;
    const task = (id: string, caseKey: string, status: string, dueInMs: number | null, extra = {}) => ({
      id,
      case_id: caseIds[caseKey],
      workflow_id: `case-${caseIds[caseKey]}`,
      element_id: 'Review',
      name: 'Review',
      status,
      due_at: dueInMs === null ? null : new Date(Date.now() + dueInMs),
      ...extra,
    });
    await knex()('worklist_tasks').insert([
      task('overdue-open', 'prisonA', 'open', -hour),
      task('due-later', 'prisonA', 'open', hour),
      task('undated', 'prisonB', 'open', null),
      task('overdue-but-done', 'prisonB', 'completed', -2 * hour, { completed_at: new Date(), completed_by: 'x' }),
      task('overdue-planned', 'prisonB', 'planned', -hour),
      task('custody-due-later', 'custody', 'open', 2 * hour),
    ]);

    server = await startTemporalServer({ address: '127.0.0.1:0', databaseUrl: db.url });
    connection = await Connection.connect({ address: server.address });
    client = new Client({ connection });
    // No worker polls TASK_QUEUE: one run stays running with its first workflow task queued; one is terminated.
    await client.workflow.start('runPathway', { taskQueue: TASK_QUEUE, workflowId: 'metrics-running', args: [] });
    const ended = await client.workflow.start('runPathway', {
      taskQueue: TASK_QUEUE,
      workflowId: 'metrics-ended',
      args: [],
    });
    await ended.terminate('metrics test');

    metrics = metricsFor();
    app = appFor(metrics);
  });

  it('serves the text exposition with each metric counted from the data', async () => {
    const res = await request(app).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const samples = samplesOf(res.text);

    expect(samples.get('throughcare_cases{pathway="sms-prison",status="open"}')).toBe(2);
    expect(samples.get('throughcare_cases{pathway="sms-prison",status="closed"}')).toBe(1);
    expect(samples.get('throughcare_cases{pathway="custody-reception",status="open"}')).toBe(1);
    expect(samples.get('throughcare_cases{pathway="custody-reception",status="closed"}')).toBe(0);
    expect(samples.get('throughcare_cases{pathway="release-support",status="open"}')).toBe(0);

    // Open and past due only: not the completed one, nor planned work, nor the undated one.
    expect(samples.get('throughcare_tasks_overdue{pathway="sms-prison"}')).toBe(1);
    expect(samples.get('throughcare_tasks_open{pathway="sms-prison"}')).toBe(3);
    expect(samples.get('throughcare_tasks_overdue{pathway="custody-reception"}')).toBe(0);
    expect(samples.get('throughcare_tasks_overdue{pathway="release-support"}')).toBe(0);

    expect(samples.get('throughcare_pathway_runs{status="Running"}')).toBe(1);
    expect(samples.get('throughcare_pathway_runs{status="Terminated"}')).toBe(1);
    expect(samples.get('throughcare_pathway_runs{status="Failed"}')).toBe(0);

    expect(samples.get(`throughcare_temporal_task_queue_backlog{task_queue="${TASK_QUEUE}",kind="workflow"}`)).toBe(1);
    expect(samples.get(`throughcare_temporal_task_queue_backlog{task_queue="${TASK_QUEUE}",kind="activity"}`)).toBe(0);
    expect(samples.get('throughcare_temporal_timers_due{namespace="default"}')).toBe(0);
    expect(samples.get('throughcare_temporal_timer_lag_seconds{namespace="default"}')).toBe(0);

    expect(samples.get('throughcare_db_pool_max_connections{pool="record_store"}')).toBe(10);
    expect(samples.get('throughcare_db_pool_connections{pool="record_store"}')).toBeGreaterThanOrEqual(1);
    expect(samples.get('throughcare_db_pool_waiting_requests{pool="record_store"}')).toBe(0);
    expect(samples.has('throughcare_db_pool_idle_connections{pool="record_store"}')).toBe(true);

    // prom-client's default process metrics.
    expect(samples.get('process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(res.text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
    expect(res.text).toContain('# TYPE throughcare_activity_failures_total counter');

    // Nothing about a person.
    for (const nhs of NHS_NUMBERS) expect(res.text).not.toContain(nhs);
    for (const id of Object.values(caseIds)) expect(res.text).not.toContain(id);
  });

  it('reads at each scrape: a task past its due date is counted from then on', async () => {
    expect((await scrape()).get('throughcare_tasks_overdue{pathway="custody-reception"}')).toBe(0);
    await knex()('worklist_tasks')
      .where({ id: 'custody-due-later' })
      .update({ due_at: new Date(Date.now() - 60_000) });
    expect((await scrape()).get('throughcare_tasks_overdue{pathway="custody-reception"}')).toBe(1);
    await knex()('worklist_tasks').where({ id: 'custody-due-later' }).update({ status: 'cancelled' });
    const samples = await scrape();
    expect(samples.get('throughcare_tasks_overdue{pathway="custody-reception"}')).toBe(0);
    expect(samples.get('throughcare_tasks_open{pathway="custody-reception"}')).toBe(0);
  });

  it('counts each failed activity attempt by activity type and error type', async () => {
    const before = await scrape();
    expect(
      before.has('throughcare_activity_failures_total{activity_type="lookupPatient",error_type="SPINE_UNAVAILABLE"}'),
    ).toBe(false);
    // As the worker's activity interceptor reports them: the activity's name and the failure's type.
    metrics.recordActivityFailure('lookupPatient', 'SPINE_UNAVAILABLE');
    metrics.recordActivityFailure('lookupPatient', 'SPINE_UNAVAILABLE');
    metrics.recordActivityFailure('openTask', 'NOT_FOUND');
    metrics.recordActivityFailure('openTask', 'TypeError');
    // A label value from a caller is kept plain: no quotes, spaces or line breaks reach the exposition.
    metrics.recordActivityFailure('sendNotice', 'Bad "type"\nwith spaces');

    const res = await request(app).get('/metrics');
    const samples = samplesOf(res.text);
    expect(
      samples.get('throughcare_activity_failures_total{activity_type="lookupPatient",error_type="SPINE_UNAVAILABLE"}'),
    ).toBe(2);
    expect(samples.get('throughcare_activity_failures_total{activity_type="openTask",error_type="NOT_FOUND"}')).toBe(1);
    expect(samples.get('throughcare_activity_failures_total{activity_type="openTask",error_type="TypeError"}')).toBe(1);
    expect(
      samples.get(
        'throughcare_activity_failures_total{activity_type="sendNotice",error_type="Bad__type__with_spaces"}',
      ),
    ).toBe(1);
    // Each product has its own registry: another one has counted nothing.
    const other = metricsFor({ defaultMetrics: false });
    expect(await other.scrape()).not.toMatch(/^throughcare_activity_failures_total\{/m);
  });

  it('reads timer lag and backlog from the embedded server’s tables', async () => {
    // A schema of its own, laid out by the server's own DDL, so the rows stay as written (no server fires them).
    await ensureSchema(pool, 'temporal_fixture');
    const now = Date.now();
    await pool.query(
      `insert into temporal_fixture.timers (fire_at, namespace, run_id, kind, ref)
       values ($1, 'default', 'run-1', 'timer', '1'), ($2, 'default', 'run-2', 'act_retry', '5'),
              ($3, 'default', 'run-3', 'timer', '1'), ($4, 'elsewhere', 'run-4', 'timer', '1')`,
      [now - 90_000, now - 10_000, now + 3_600_000, now - 3_600_000],
    );
    await pool.query(
      `insert into temporal_fixture.tasks (namespace, task_queue, kind, run_id, ref)
       values ('default', $1, 2, 'run-1', 5), ('default', $1, 2, 'run-2', 5), ('default', $1, 2, 'run-3', 7),
              ('default', 'other-queue', 1, 'run-4', 2), ('elsewhere', $1, 1, 'run-5', 2)`,
      [TASK_QUEUE],
    );
    const samples = await scrape(appFor(metricsFor({ embeddedTemporalSchema: 'temporal_fixture' })));
    expect(samples.get('throughcare_temporal_timers_due{namespace="default"}')).toBe(2);
    const lag = samples.get('throughcare_temporal_timer_lag_seconds{namespace="default"}')!;
    expect(lag).toBeGreaterThanOrEqual(90);
    expect(lag).toBeLessThan(120);
    expect(samples.get(`throughcare_temporal_task_queue_backlog{task_queue="${TASK_QUEUE}",kind="activity"}`)).toBe(3);
    expect(samples.get(`throughcare_temporal_task_queue_backlog{task_queue="${TASK_QUEUE}",kind="workflow"}`)).toBe(0);
    expect(samples.get('throughcare_temporal_task_queue_backlog{task_queue="other-queue",kind="workflow"}')).toBe(1);
  });

  it('with a Temporal cluster reads no engine tables, and leaves out what the engine cannot report', async () => {
    // The embedded server answers DescribeTaskQueue with UNIMPLEMENTED, as an older cluster would.
    const text = await request(appFor(metricsFor({ embeddedTemporalSchema: undefined })))
      .get('/metrics')
      .expect(200)
      .then((res) => res.text);
    expect(text).not.toMatch(/^throughcare_temporal_task_queue_backlog\{/m);
    expect(text).not.toMatch(/^throughcare_temporal_timer_lag_seconds\{/m);
    expect(samplesOf(text).get('throughcare_pathway_runs{status="Running"}')).toBe(1);
    expect(samplesOf(text).get('throughcare_cases{pathway="sms-prison",status="open"}')).toBe(2);
  });

  it('before its sources have started, answers with what it has', async () => {
    const starting = createMetrics({ sources: () => ({}), namespace: 'default', taskQueue: TASK_QUEUE });
    const samples = await scrape(appFor(starting));
    expect([...samples.keys()].filter((k) => k.startsWith('throughcare_'))).toEqual([]);
    expect(samples.get('process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });

  it('fails the scrape fast with 503 when the database is slow, and answers again once it is not', async () => {
    const slow = appFor(metricsFor({ timeoutMs: 500, defaultMetrics: false }));
    const locker = new PgClient({ connectionString: db.url });
    await locker.connect();
    try {
      await locker.query('begin');
      await locker.query('lock table cases in access exclusive mode');
      const started = Date.now();
      const res = await request(slow).get('/metrics');
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.detail).toMatch(/^Metrics could not be collected: /);
    } finally {
      await locker.query('rollback');
      await locker.end();
    }
    // The cancelled read has let go of its connection: the next scrape is whole.
    expect((await scrape(slow)).get('throughcare_cases{pathway="sms-prison",status="open"}')).toBe(2);
  });

  it('asks for METRICS_TOKEN when one is set', async () => {
    const guarded = appFor(metricsFor({ token: TOKEN, defaultMetrics: false }));
    const without = await request(guarded).get('/metrics');
    expect(without.status).toBe(401);
    expect(without.headers['www-authenticate']).toMatch(/^Bearer /);
    expect(without.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(without.text).not.toContain('throughcare_cases');
    expect((await request(guarded).get('/metrics').set('Authorization', `Bearer ${TOKEN}x`)).status).toBe(401);
    expect((await request(guarded).get('/metrics').set('Authorization', TOKEN)).status).toBe(401);
    const granted = await request(guarded).get('/metrics').set('Authorization', `Bearer ${TOKEN}`);
    expect(granted.status).toBe(200);
    expect(granted.text).toContain('throughcare_cases{pathway="sms-prison",status="open"} 2');
    // Without a token configured, none is needed.
    expect((await request(app).get('/metrics')).status).toBe(200);
  });

  it('reads METRICS_TOKEN from the configuration, a secret of at least 16 characters', () => {
    expect(loadConfig({ METRICS_TOKEN: TOKEN }).metrics.token).toBe(TOKEN);
    expect(loadConfig({}).metrics.token).toBeUndefined();
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN must be a random token/);
  });
});

describe('GET /metrics on throughcare up', () => {
  const db = useFreshDatabase('metrics_up');
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'throughcare-metrics-'));
  });
  afterAll(async () => {
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('serves the metrics of the running product, behind METRICS_TOKEN', async () => {
    const port = await freePort();
    const up = runCli(['up'], {
      PORT: String(port),
      DATA_DIR: dataDir,
      DATABASE_URL: db.url,
      NODE_ENV: 'test',
      METRICS_TOKEN: TOKEN,
    });
    try {
      await up.waitFor(/Throughcare is ready at/, 110_000);
      const url = `http://127.0.0.1:${port}/metrics`;
      expect((await fetch(url)).status).toBe(401);
      const res = await fetch(url, { headers: { Authorization: `Bearer ${TOKEN}` } });
      expect(res.status).toBe(200);
      const samples = samplesOf(await res.text());
      // The shipped pathways are deployed: each is listed, with no cases yet.
      expect(samples.get('throughcare_cases{pathway="sms-prison",status="open"}')).toBe(0);
      expect(samples.get('throughcare_tasks_overdue{pathway="sms-prison"}')).toBe(0);
      // The embedded engine's tables, on the configured task queue; the engine's visibility through the client.
      expect(samples.has('throughcare_temporal_task_queue_backlog{task_queue="throughcare",kind="activity"}')).toBe(
        true,
      );
      expect(samples.get('throughcare_temporal_timer_lag_seconds{namespace="default"}')).toBeGreaterThanOrEqual(0);
      expect(samples.has('throughcare_pathway_runs{status="Running"}')).toBe(true);
      expect(samples.get('throughcare_db_pool_max_connections{pool="record_store"}')).toBe(10);
    } finally {
      up.child.kill('SIGINT');
      expect(await up.exited()).toBe(0);
    }
  });
});
