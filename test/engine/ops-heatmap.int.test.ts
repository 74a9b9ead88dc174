/**
 * The pathway heatmap against real cases on the time-skipping embedded server: cases waiting in two parallel user
 * tasks (one of them overdue), one failing at a service task (an open incident), one in a setting the person does
 * not work in and one on the next version. Each element is counted from the cases' stuck signals, scoped to the
 * settings asked for and to the version; the per-element counts used for big categories agree with the tally.
 * Through /api/v1 (`getPathwayHeatmap`), ops see the same counts for their settings and other roles are refused.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Express } from 'express';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair } from 'jose';
import request from 'supertest';
import { createApp } from '../../api';
import { createBearerAuth } from '../../api/auth/bearer';
import { SCHEMAS } from '../../api/v1/schemas';
import { addStaff, deployPathway, startCase, type CaseEngine } from '../../engine';
import { pathwayHeatmap, type PathwayHeatmap } from '../../engine/ops-heatmap';
import { NotFoundError } from '../../domain/errors';
import { silentLogger } from '../../log';
import { Readiness } from '../../runtime/readiness';
import { migrateDatabase, openStore, SettingSchema, type Store } from '../../store';
import { createTestWorkflowEnvironment, type EmbeddedTestWorkflowEnvironment } from '../../temporal-server';
import { WORKFLOWS_PATH } from '../../worker';
import { CASE_SEARCH_ATTRIBUTES } from '../../worker/case-search-attributes';
import { useFreshDatabase } from '../support/database';
import { eventually } from '../support/eventually';
import { installQuietRuntime } from '../support/sdk-runtime';

const TASK_QUEUE = 'ops-heatmap';
const HERE = 'XHM001';
const ELSEWHERE = 'XHM002';
const NHS_NUMBER = '943 476 5919';
const LATER = '2099-01-01T00:00:00Z';
const PAST = '2020-01-01T00:00:00Z';
const ISSUER = 'https://issuer.test';
const AUDIENCE = 'throughcare-api';

const fixture = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'bpmn', 'heatmap-journey.bpmn'), 'utf8');

/** The counts of the elements that have cases, by element id. */
function busy(heatmap: PathwayHeatmap) {
  return heatmap.elements
    .filter((e) => e.running + e.overdue + e.failing > 0)
    .map(({ elementId, running, overdue, failing }) => ({ elementId, running, overdue, failing }));
}

describe('the pathway heatmap', () => {
  let store: Store;
  let env: EmbeddedTestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let engine: CaseEngine;
  // Declared before useFreshDatabase so that they stop before the database is dropped under them.
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
    await store?.close();
  }, 60_000);
  const db = useFreshDatabase('ops_heatmap');

  beforeAll(async () => {
    installQuietRuntime('ERROR');
    await migrateDatabase(db.url, silentLogger);
    store = await openStore(db.url);
    const em = store.fork();
    for (const odsCode of [HERE, ELSEWHERE])
      em.create(SettingSchema, { odsCode, name: odsCode, kind: 'prison', prisonType: 'HMP', createdAt: new Date() });
    await em.flush();
    const lint = { taskTypes: ['test.saveRecord'], formIds: ['sms-review'], deployedBy: 'test' };
    await deployPathway(store, fixture, lint);

    env = await createTestWorkflowEnvironment({ databaseUrl: db.url, searchAttributes: CASE_SEARCH_ATTRIBUTES });
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowsPath: WORKFLOWS_PATH,
      activities: {
        openTask: () => Promise.resolve(),
        closeTask: () => Promise.resolve(),
        raiseIncident: () => Promise.resolve(),
        closeIncident: () => Promise.resolve(),
        resolvePathway: () => Promise.reject(new Error('no call activities here')),
        'test.saveRecord': () =>
          Promise.reject(ApplicationFailure.nonRetryable('The record store refused it', 'RECORD_REFUSED')),
      },
    });
    running = worker.run();
    engine = { store, client: env.client, taskQueue: TASK_QUEUE, logger: silentLogger };

    const start = (settingOdsCode: string, variables: Record<string, unknown>) =>
      startCase(engine, {
        pathwayId: 'HeatmapJourney',
        nhsNumber: NHS_NUMBER,
        settingOdsCode,
        startedBy: 'test',
        variables,
      });
    // Version 1, here: two cases at Review and Screen, one more overdue there, one failing at SaveRecord.
    await start(HERE, { route: 'review', dueAt: LATER });
    await start(HERE, { route: 'review', dueAt: LATER });
    await start(HERE, { route: 'review', dueAt: PAST });
    await start(HERE, { route: 'save' });
    // Elsewhere: an overdue case the people here do not see.
    await start(ELSEWHERE, { route: 'review', dueAt: PAST });
    // Version 2, here: one failing case, not on version 1's map.
    await deployPathway(store, fixture.replace('A journey for the heatmap', 'A journey for the heatmap, v2'), lint);
    await start(HERE, { route: 'save' });
  }, 120_000);

  const settled = (heatmap: PathwayHeatmap) =>
    heatmap.totals.running === 4 && heatmap.totals.overdue === 1 && heatmap.totals.failing === 1;

  it('counts the cases waiting at each element of the version, in the settings asked for, busiest first', async () => {
    const heatmap = await eventually(
      'the cases are where they wait',
      () => pathwayHeatmap(engine, { pathwayId: 'HeatmapJourney', version: 1, settings: [HERE] }),
      settled,
    );
    expect(heatmap).toMatchObject({
      pathwayId: 'HeatmapJourney',
      name: 'A journey for the heatmap',
      version: 1,
      totals: { running: 4, overdue: 1, failing: 1 },
    });
    // A case waiting in both parallel tasks counts at each; overdue is the case's, so it shows at both.
    expect(busy(heatmap)).toEqual([
      { elementId: 'Review', running: 3, overdue: 1, failing: 0 },
      { elementId: 'Screen', running: 3, overdue: 1, failing: 0 },
      { elementId: 'SaveRecord', running: 1, overdue: 0, failing: 1 },
    ]);
    // Every element of the version is there, those without cases at 0, with its name and kind.
    expect(heatmap.elements.map((e) => e.elementId).sort()).toEqual(
      ['Done', 'Join', 'Received', 'Review', 'Route', 'SaveRecord', 'Saved', 'Screen', 'Split'].sort(),
    );
    expect(heatmap.elements.find((e) => e.elementId === 'SaveRecord')).toMatchObject({
      name: 'Save the record',
      kind: 'serviceTask',
    });
  });

  it('counts another setting’s cases only for someone who works there too', async () => {
    const heatmap = await eventually(
      'the other setting’s case is at Review',
      () => pathwayHeatmap(engine, { pathwayId: 'HeatmapJourney', version: 1, settings: [HERE, ELSEWHERE] }),
      (h) => h.totals.running === 5,
    );
    expect(heatmap.totals).toEqual({ running: 5, overdue: 2, failing: 1 });
    expect(busy(heatmap)[0]).toEqual({ elementId: 'Review', running: 4, overdue: 2, failing: 0 });
  });

  it('counts each version on its own, the latest when none is named', async () => {
    const heatmap = await eventually(
      'the version 2 case is failing',
      () => pathwayHeatmap(engine, { pathwayId: 'HeatmapJourney', settings: [HERE] }),
      (h) => h.totals.failing === 1,
    );
    expect(heatmap.version).toBe(2);
    expect(heatmap.totals).toEqual({ running: 1, overdue: 0, failing: 1 });
    expect(busy(heatmap)).toEqual([{ elementId: 'SaveRecord', running: 1, overdue: 0, failing: 1 }]);
  });

  it('counts element by element when a category has more cases than it lists, to the same result', async () => {
    const tallied = await eventually(
      'the cases are where they wait',
      () => pathwayHeatmap(engine, { pathwayId: 'HeatmapJourney', version: 1, settings: [HERE] }),
      settled,
    );
    const counted = await pathwayHeatmap(engine, {
      pathwayId: 'HeatmapJourney',
      version: 1,
      settings: [HERE],
      scanLimit: 0,
    });
    expect(counted.elements).toEqual(tallied.elements);
    expect(counted.totals).toEqual(tallied.totals);
  });

  describe('GET /api/v1/ops/pathways/{pathwayId}/versions/{version}/heatmap', () => {
    let app: Express;
    const tokens = new Map<string, string>();
    const as = (who: string, path: string) =>
      request(app)
        .get(`/api/v1${path}`)
        .set('Authorization', `Bearer ${tokens.get(who)!}`);

    beforeAll(async () => {
      const keys = await generateKeyPair('ES256');
      const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'test-key', alg: 'ES256' };
      for (const [who, roles] of [
        ['oakley', ['ops']],
        ['sam', ['clinician']],
      ] as const) {
        const subject = `${who}@heatmap.test`;
        await addStaff(store, { name: who, email: subject, duties: [], settings: [HERE], roles: [...roles], subject });
        const token = await new SignJWT({})
          .setProtectedHeader({ alg: 'ES256', kid: 'test-key' })
          .setSubject(subject)
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setIssuedAt()
          .setExpirationTime('30m')
          .sign(keys.privateKey);
        tokens.set(who, token);
      }
      app = createApp({
        readiness: new Readiness(),
        logger: silentLogger,
        api: () => ({
          store,
          authenticate: createBearerAuth({
            issuer: ISSUER,
            audience: AUDIENCE,
            jwks: createLocalJWKSet({ keys: [jwk] }),
            store,
          }),
          engine: () => engine,
        }),
      });
    });

    it('answers ops with the counts of their settings, as the schema says', async () => {
      const res = await eventually(
        'the cases are where they wait',
        () => as('oakley', '/ops/pathways/HeatmapJourney/versions/1/heatmap'),
        (r) => r.status !== 200 || settled(r.body as PathwayHeatmap),
      );
      expect(res.status).toBe(200);
      expect(busy(res.body as PathwayHeatmap)[2]).toEqual({
        elementId: 'SaveRecord',
        running: 1,
        overdue: 0,
        failing: 1,
      });
      const ajv = new Ajv2020({ strict: false });
      addFormats(ajv);
      const valid = ajv.validate(SCHEMAS['PathwayHeatmap']!, res.body);
      expect(ajv.errors ?? []).toEqual([]);
      expect(valid).toBe(true);
      const latest = await as('oakley', '/ops/pathways/HeatmapJourney/versions/latest/heatmap?failingAttempts=5');
      expect(latest.body).toMatchObject({ version: 2, totals: { failing: 1 } });
    });

    it('refuses other roles, and names a bad version or threshold; a version never deployed is not found', async () => {
      expect((await as('sam', '/ops/pathways/HeatmapJourney/versions/1/heatmap')).status).toBe(403);
      expect((await as('oakley', '/ops/pathways/HeatmapJourney/versions/9/heatmap')).status).toBe(404);
      const bad = await as('oakley', '/ops/pathways/HeatmapJourney/versions/first/heatmap?failingAttempts=0');
      expect(bad.status).toBe(400);
      expect((bad.body as { errors: { pointer: string }[] }).errors.map((e) => e.pointer).sort()).toEqual([
        '/path/version',
        '/query/failingAttempts',
      ]);
    });
  });

  it('refuses a version never deployed', async () => {
    await expect(pathwayHeatmap(engine, { pathwayId: 'HeatmapJourney', version: 9, settings: [HERE] })).rejects.toThrow(
      NotFoundError,
    );
  });
});
