/**
 * The ops console's API on the time-skipping server, with the real activities, the Spine sandbox and the worker's
 * failure reports: cases made to fail (a Spine outage for their NHS numbers), go overdue (time skipped past a due
 * date) and sit idle or wait for a message (time skipped by weeks), and the console's views find exactly those, in
 * the person's settings only. A bulk retry acts on exactly the cases its preview froze, even when another case
 * starts failing between preview and apply; a single case is inspected, retried, reassigned and cancelled, and
 * every action is in the operations log.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair, type KeyLike } from 'jose';
import request from 'supertest';
import type { Express } from 'express';
import { createActivities, createLocalInboxTransport, createSpineClient } from '../../activities';
import { createApp } from '../../api';
import { createBearerAuth } from '../../api/auth/bearer';
import { addStaff, deployPathway, shippedLintOptions, startCase, type CaseEngine } from '../../engine';
import { silentLogger } from '../../log';
import { Readiness } from '../../runtime/readiness';
import { startSpineSandbox, type RunningSpineSandbox } from '../../spine-sandbox';
import type { Store } from '../../store';
import { createTestWorkflowEnvironment, type EmbeddedTestWorkflowEnvironment } from '../../temporal-server';
import { WORKFLOWS_PATH } from '../../worker';
import { reportActivityFailures } from '../../worker/activity-failures';
import { CASE_SEARCH_ATTRIBUTES } from '../../worker/case-search-attributes';
import { useFreshDatabase } from '../support/database';
import { eventually } from '../support/eventually';
import { installQuietRuntime } from '../support/sdk-runtime';
import { formClock, prepareStore } from '../engine/task-completion-support';

const TASK_QUEUE = 'ops-console';
const ISSUER = 'https://issuer.test';
const AUDIENCE = 'throughcare-api';
const OTHER = 'TOPSB1';
const fixture = (name: string) =>
  fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'bpmn', `${name}.bpmn`), 'utf8');
// Sandbox test patients: PDS answers for them unless a fault says otherwise.
const DOWN = ['9000000009', '9000000017', '9000000025', '9000000033'];
const UP = '9000000041';

interface OpsCaseBody {
  caseId: string;
  workflowId: string;
  failingAttempts: number;
  currentElements: string[];
}

describe('ops console API', () => {
  let store: Store;
  let env: EmbeddedTestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let sandbox: RunningSpineSandbox;
  let engine: CaseEngine;
  let app: Express;
  let own: string;
  let privateKey: KeyLike;
  const tokens = new Map<string, string>();
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
    await sandbox?.stop();
    await store?.close();
  }, 60_000);
  const db = useFreshDatabase('ops_api');
  const knex = () => store.orm.em.getConnection().getKnex();

  function as(subject: string, method: 'get' | 'post', url: string, body?: unknown) {
    const req = request(app)
      [method](url)
      .set('Authorization', `Bearer ${tokens.get(subject)!}`);
    return body === undefined ? req : req.send(body as object);
  }
  const OPS = 'ops-own@staff.test';
  const OPS_OTHER = 'ops-other@staff.test';
  const CLINICIAN = 'clinician-own@staff.test';

  async function start(setting: string, nhsNumber: string, variables: Record<string, unknown>, pathwayId = 'OpsStuck') {
    const started = await startCase(engine, {
      pathwayId,
      nhsNumber,
      settingOdsCode: setting,
      variables,
      startedBy: OPS,
    });
    return started.caseId;
  }
  const inView = async (view: string, who = OPS) => {
    const res = await as(who, 'get', `/api/v1/ops/cases?view=${view}&limit=200`);
    expect(res.status).toBe(200);
    return (res.body as { items: OpsCaseBody[] }).items;
  };
  const caseIds = (items: OpsCaseBody[]) => [...new Set(items.map((i) => i.caseId))].sort();
  const attemptOf = async (caseId: string) => {
    const res = await as(OPS, 'get', `/api/v1/ops/cases/${caseId}`);
    const activity = (
      res.body as { pendingActivities: { activityType: string; attempt: number }[] }
    ).pendingActivities.find((a) => a.activityType === 'pds.lookupPatient');
    return activity?.attempt ?? 0;
  };

  beforeAll(async () => {
    installQuietRuntime();
    ({ store, settingOdsCode: own } = await prepareStore(db.url));
    await knex()('settings').insert({
      id: randomUUID(),
      ods_code: OTHER,
      name: 'Other prison',
      kind: 'prison',
      prison_type: 'HMP',
    });
    const lint = { ...shippedLintOptions(), deployedBy: 'test' };
    await deployPathway(store, fixture('ops-stuck'), lint);
    await deployPathway(store, fixture('child-waits-for-message'), { taskTypes: [], formIds: [], deployedBy: 'test' });
    await deployPathway(store, fixture('parent-calls-child'), { taskTypes: [], formIds: [], deployedBy: 'test' });
    sandbox = await startSpineSandbox();
    for (const nhsNumber of DOWN) sandbox.setFault(nhsNumber, { kind: 'unavailable' });
    env = await createTestWorkflowEnvironment({ databaseUrl: db.url, searchAttributes: CASE_SEARCH_ATTRIBUTES });
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowsPath: WORKFLOWS_PATH,
      activities: createActivities({
        store,
        spine: createSpineClient({ baseUrl: sandbox.baseUrl, retry: { maxAttempts: 1 } }),
        transport: createLocalInboxTransport({ store, logger: silentLogger }),
        logger: silentLogger,
      }),
      interceptors: { activity: [reportActivityFailures({ client: env.client, logger: silentLogger })] },
    });
    running = worker.run();
    engine = { store, client: env.client, taskQueue: TASK_QUEUE, logger: silentLogger, now: formClock };

    const keys = await generateKeyPair('ES256');
    privateKey = keys.privateKey;
    const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'k', alg: 'ES256' }] });
    app = createApp({
      readiness: new Readiness(),
      logger: silentLogger,
      api: () => ({
        store,
        authenticate: createBearerAuth({ issuer: ISSUER, audience: AUDIENCE, jwks, store }),
        engine: () => engine,
        spine: () => undefined,
      }),
    });
    const staff: [string, string, 'ops' | 'clinician'][] = [
      [OPS, own, 'ops'],
      [OPS_OTHER, OTHER, 'ops'],
      [CLINICIAN, own, 'clinician'],
    ];
    for (const [subject, setting, role] of staff) {
      await addStaff(store, { name: subject, email: subject, duties: [], settings: [setting], roles: [role], subject });
      const token = await new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: 'k' })
        .setSubject(subject)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime('30m')
        .sign(privateKey);
      tokens.set(subject, token);
    }
  }, 120_000);

  it('finds failing, overdue, idle and waiting cases in your settings only, and acts on exactly a previewed set', async () => {
    const now = await env.currentTimeMs();
    const inOneHour = new Date(now + 3_600_000).toISOString();
    const inTwoMonths = new Date(now + 60 * 86_400_000).toISOString();
    const failingA = await start(own, DOWN[0]!, { route: 'trace', dueAt: inTwoMonths });
    const failingB = await start(own, DOWN[1]!, { route: 'trace', dueAt: inTwoMonths });
    const failingElsewhere = await start(OTHER, DOWN[2]!, { route: 'trace', dueAt: inTwoMonths });
    const healthy = await start(own, UP, { route: 'trace', dueAt: inTwoMonths });
    const dueSoon = await start(own, UP, { route: 'review', dueAt: inOneHour });
    const journey = await start(own, UP, {}, 'ParentJourney');

    // Failing: the two cases whose PDS trace keeps failing, not the one of another setting.
    await eventually(
      'both failing in the failing view',
      async () => caseIds(await inView('failing')),
      (ids) => ids.length === 2,
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(caseIds(await inView('failing'))).toEqual([failingA, failingB].sort());
    expect(caseIds(await inView('failing', OPS_OTHER))).toEqual([failingElsewhere]);
    const views = await as(OPS, 'get', '/api/v1/ops/views');
    expect(views.status).toBe(200);
    expect(views.body.counts).toMatchObject({ failing: 2, overdue: 0 });
    // The healthy trace went on to its review.
    await eventually(
      'the healthy case at its review',
      async () => (await as(OPS, 'get', `/api/v1/ops/cases?query=${encodeURIComponent('OpenTaskCount > 0')}`)).body,
      (body: { items: OpsCaseBody[] }) => body.items.some((i) => i.caseId === healthy),
    );

    // A free query, and one that cannot run (a clear problem naming the query).
    const found = await as(OPS, 'get', `/api/v1/ops/cases?query=${encodeURIComponent(`CurrentElements = 'Trace'`)}`);
    expect(caseIds(found.body.items)).toEqual([failingA, failingB].sort());
    const refused = await as(OPS, 'get', `/api/v1/ops/cases?query=${encodeURIComponent('Pathway = 1')}`);
    expect(refused.status).toBe(400);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.body.errors).toEqual([
      {
        pointer: '/query/query',
        detail:
          "invalid query: invalid expression: column name 'Pathway' is not a valid search attribute (at position 0 of your query)",
      },
    ]);

    // Bulk retry: the preview freezes A and B; C starts failing before apply and is left alone.
    const preview = await as(OPS, 'post', '/api/v1/ops/bulk-operations', { action: 'retry', view: 'failing' });
    expect(preview.status).toBe(201);
    const frozen = (preview.body as { cases: { caseId: string }[] }).cases.map((c) => c.caseId);
    expect(frozen.sort()).toEqual([failingA, failingB].sort());
    const failingLater = await start(own, DOWN[3]!, { route: 'trace', dueAt: inTwoMonths });
    await eventually(
      'the later case failing',
      () => attemptOf(failingLater),
      (attempt) => attempt >= 3,
      {
        timeoutMs: 30_000,
      },
    );
    await eventually(
      'A failing past 3 attempts',
      () => attemptOf(failingA),
      (attempt) => attempt >= 3,
      { timeoutMs: 30_000 },
    );
    const laterBefore = await attemptOf(failingLater);
    const applied = await as(OPS, 'post', `/api/v1/ops/bulk-operations/${preview.body.id}/apply`);
    expect(applied.status).toBe(202);
    const done = await eventually(
      'the bulk retry completed',
      async () => (await as(OPS, 'get', `/api/v1/ops/bulk-operations/${preview.body.id}`)).body,
      (body: { status: string; progress: unknown; cases: { caseId: string }[] }) => body.status === 'completed',
      { timeoutMs: 30_000 },
    );
    expect(done.progress).toMatchObject({ total: 2, succeeded: 2, pending: 0, failed: 0 });
    expect(done.cases.map((c: { caseId: string }) => c.caseId).sort()).toEqual([failingA, failingB].sort());
    // A's attempts start again from 1; the later case, outside the preview, keeps counting.
    expect(await attemptOf(failingA)).toBeLessThanOrEqual(2);
    expect(await attemptOf(failingLater)).toBeGreaterThanOrEqual(laterBefore);
    expect((await as(OPS, 'post', `/api/v1/ops/bulk-operations/${preview.body.id}/apply`)).status).toBe(409);

    // Overdue: an hour and a bit later, the review due in an hour.
    await env.sleep('61 minutes');
    expect(caseIds(await inView('overdue'))).toEqual([dueSoon]);

    // Idle and waiting: weeks later, the journey waits on its child, which waits for a message.
    await env.sleep('15 days');
    expect(caseIds(await inView('idle'))).toEqual([journey]);
    const waiting = await inView('waiting');
    expect(waiting.map((i) => i.workflowId)).toEqual([expect.stringMatching(new RegExp(`^case-${journey}/`))]);

    // The journey's tree: the parent and its child pathway.
    const detail = await as(OPS, 'get', `/api/v1/ops/cases/${journey}`);
    expect(detail.status).toBe(200);
    expect(detail.body.journey).toMatchObject({
      workflowId: `case-${journey}`,
      pathwayId: 'ParentJourney',
      children: [expect.objectContaining({ pathwayId: 'ChildStage', status: 'Running' })],
    });
  }, 240_000);

  it('shows one case to ops of its settings, with its history a page at a time, and acts on it with a log', async () => {
    const now = await env.currentTimeMs();
    const caseId = await start(own, DOWN[0]!, { route: 'trace', dueAt: new Date(now + 86_400_000).toISOString() });
    await eventually(
      'failing',
      () => attemptOf(caseId),
      (attempt) => attempt >= 2,
      { timeoutMs: 30_000 },
    );

    const detail = await as(OPS, 'get', `/api/v1/ops/cases/${caseId}`);
    expect(detail.status).toBe(200);
    expect(detail.body.pendingActivities).toEqual([
      expect.objectContaining({
        activityType: 'pds.lookupPatient',
        lastFailure: expect.objectContaining({ message: expect.any(String) }),
      }),
    ]);
    expect(detail.body.state.activeElements).toEqual([expect.objectContaining({ elementId: 'Trace' })]);
    // Not to ops of another setting (as if it did not exist), nor to a clinician.
    expect((await as(OPS_OTHER, 'get', `/api/v1/ops/cases/${caseId}`)).status).toBe(404);
    expect((await as(CLINICIAN, 'get', '/api/v1/ops/views')).status).toBe(403);

    const first = await as(OPS, 'get', `/api/v1/ops/cases/${caseId}/history?limit=3`);
    expect(first.status).toBe(200);
    expect((first.body as { items: { type: string }[] }).items.map((e) => e.type)).toEqual([
      'WorkflowExecutionStarted',
      'WorkflowTaskScheduled',
      'WorkflowTaskStarted',
    ]);
    const second = await as(OPS, 'get', `/api/v1/ops/cases/${caseId}/history?limit=3&cursor=${first.body.nextCursor}`);
    expect(second.body.items[0].eventId).toBe(4);
    // Names, never payloads: the NHS number the trace was sent is nowhere in the history page.
    expect(JSON.stringify(first.body) + JSON.stringify(second.body)).not.toContain(DOWN[0]);

    const retried = await as(OPS, 'post', `/api/v1/ops/cases/${caseId}/retry`, {});
    expect(retried.status).toBe(200);
    expect(retried.body.retried).toHaveLength(1);

    const badCancel = await as(OPS, 'post', `/api/v1/ops/cases/${caseId}/cancel`, {});
    expect(badCancel.status).toBe(400);
    expect(badCancel.body.errors).toEqual([expect.objectContaining({ pointer: '/reason' })]);
    const cancelled = await as(OPS, 'post', `/api/v1/ops/cases/${caseId}/cancel`, {
      reason: 'Released before reception',
    });
    expect(cancelled.status).toBe(200);

    const log = await as(OPS, 'get', '/api/v1/ops/log?limit=50');
    const mine = (log.body.items as { action: string; caseIds: string[]; actorId: string }[]).filter((e) =>
      e.caseIds.includes(caseId),
    );
    expect(mine.map((e) => e.action).sort()).toEqual(['cancel', 'retry']);
    expect(mine.every((e) => e.actorId === OPS)).toBe(true);
    // The log is append-only.
    await expect(knex().raw('delete from ops_log')).rejects.toThrow();
  }, 120_000);
});
