/**
 * POST /api/v1/designer/simulations: the designer's simulation through real HTTP, signed in with real bearer JWTs
 * against the staff directory, the simulator on a scratch database of its own (never the record store's). For
 * commissioners only; the request is validated as every body is, and a draft that is not BPMN, fails lint or does
 * not fit its scenario is refused before anything runs.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair } from 'jose';
import request from 'supertest';
import type { Express } from 'express';
import { createApp } from '../../api';
import { createBearerAuth } from '../../api/auth/bearer';
import type { Role } from '../../api/auth/principal';
import { addStaff, type CaseEngine } from '../../engine';
import { silentLogger } from '../../log';
import { readPathwayXml } from '../../pathways';
import { Readiness } from '../../runtime/readiness';
import { createSimulator, type Simulator } from '../../simulation';
import { migrateDatabase, openStore, type Store } from '../../store';
import { useFreshDatabase } from '../support/database';
import { installQuietRuntime } from '../support/sdk-runtime';

const ISSUER = 'https://issuer.test';
const AUDIENCE = 'throughcare-api';
const SETTING = 'TSIM01';
const PEOPLE: Record<string, Role> = { casey: 'commissioner', sam: 'clinician', oakley: 'ops' };

const SCENARIO = {
  pathway: 'custody-reception',
  start: '2026-06-01T09:00:00Z',
  variables: { arrivalTime: '2026-06-01T09:00:00Z' },
  steps: [
    { advance: 'PT15M' },
    { complete: { task: 'HealthScreening', example: 'custody-health-screening', data: { screenedAt: '$now' } } },
    { expectTask: { task: 'SetObservationLevel', dueAt: '2026-06-01T11:00:00Z' } },
  ],
};

const pointers = (res: request.Response): string[] =>
  ((res.body as { errors?: { pointer: string }[] }).errors ?? []).map((e) => e.pointer).sort();

describe('/api/v1/designer/simulations', () => {
  let store: Store;
  let connection: Connection;
  let simulator: Simulator | undefined;
  let app: Express;
  const tokens = new Map<string, string>();
  // Before the databases: jest runs afterAll hooks in declaration order, and these must stop before they go.
  afterAll(async () => {
    await simulator?.close();
    await connection?.close();
    await store?.close();
  }, 60_000);
  const db = useFreshDatabase('api_simulations');
  const scratch = useFreshDatabase('api_simulations_scratch');

  const simulate = (who: string, body: unknown) =>
    request(app)
      .post('/api/v1/designer/simulations')
      .set('Authorization', `Bearer ${tokens.get(who)!}`)
      .set('X-Request-ID', randomUUID())
      .send(body as object);

  beforeAll(async () => {
    installQuietRuntime();
    await migrateDatabase(db.url, silentLogger);
    store = await openStore(db.url);
    await store.orm.em
      .getConnection()
      .getKnex()('settings')
      .insert({ id: randomUUID(), ods_code: SETTING, name: 'HMP Simulations', kind: 'prison', prison_type: 'HMP' });
    // Simulations never use the product's engine: a lazy connection that is never used.
    connection = Connection.lazy({ address: '127.0.0.1:9' });
    const engine: CaseEngine = { store, client: new Client({ connection }), taskQueue: 'unused', logger: silentLogger };
    simulator = createSimulator({ databaseUrl: scratch.url, logger: silentLogger });
    const keys = await generateKeyPair('ES256');
    const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'test-key', alg: 'ES256' }] });
    for (const [who, role] of Object.entries(PEOPLE)) {
      const subject = `${who}@simulations.test`;
      await addStaff(store, { name: who, email: subject, duties: [], settings: [SETTING], roles: [role], subject });
      tokens.set(
        who,
        await new SignJWT({})
          .setProtectedHeader({ alg: 'ES256', kid: 'test-key' })
          .setSubject(subject)
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setIssuedAt()
          .setExpirationTime('30m')
          .sign(keys.privateKey),
      );
    }
    app = createApp({
      readiness: new Readiness(),
      logger: silentLogger,
      api: () => ({
        store,
        authenticate: createBearerAuth({ issuer: ISSUER, audience: AUDIENCE, jwks, store }),
        engine: () => engine,
        simulator: () => simulator,
      }),
    });
  }, 60_000);

  it('answers a commissioner the timeline of a draft simulated through its scenario', async () => {
    const res = await simulate('casey', { xml: readPathwayXml('custody-reception'), scenario: SCENARIO });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      pathwayId: 'custody-reception',
      passed: true,
      failures: [],
      simulatedFrom: '2026-06-01T09:00:00.000Z',
    });
    expect(res.body.events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'task-opened',
          elementId: 'HealthScreening',
          dueAt: '2026-06-01T11:00:00.000Z',
          at: expect.stringMatching(/^2026-06-01T09:00/),
        }),
        expect.objectContaining({
          kind: 'task-completed',
          elementId: 'HealthScreening',
          at: expect.stringMatching(/^2026-06-01T09:15/),
        }),
        expect.objectContaining({ kind: 'expectation', passed: true }),
      ]),
    );
    // Nothing of it reached the record store: the case is in the scratch database alone.
    expect(await store.orm.em.getConnection().getKnex()('cases').count({ n: '*' })).toEqual([{ n: '0' }]);
  }, 120_000);

  it('refuses clinicians and ops with 403', async () => {
    for (const who of ['sam', 'oakley']) {
      const res = await simulate(who, { xml: readPathwayXml('custody-reception'), scenario: SCENARIO });
      expect(res.status).toBe(403);
      expect(res.type).toBe('application/problem+json');
    }
  });

  it('names each problem of the request by JSON Pointer: the scenario’s fields, XML that is not BPMN, lint errors, another pathway', async () => {
    const xml = readPathwayXml('custody-reception');
    const malformed = await simulate('casey', {
      xml,
      scenario: { ...SCENARIO, steps: [{ complete: {} }, { wait: 1 }] },
    });
    expect(malformed.status).toBe(400);
    expect(pointers(malformed)).toEqual(['/scenario/steps/0/complete/task', '/scenario/steps/1/wait']);
    const notBpmn = await simulate('casey', { xml: 'hello', scenario: SCENARIO });
    expect([notBpmn.status, pointers(notBpmn)]).toEqual([422, ['/xml']]);
    const lint = await simulate('casey', {
      xml: xml.replace('formId="custody-health-screening"', 'formId="no-such-form"'),
      scenario: SCENARIO,
    });
    expect([lint.status, pointers(lint)]).toEqual([422, ['/elements/HealthScreening']]);
    const other = await simulate('casey', { xml: readPathwayXml('sms-prison'), scenario: SCENARIO });
    expect([other.status, pointers(other)]).toEqual([422, ['/scenario/pathway']]);
    const badAdvance = await simulate('casey', { xml, scenario: { ...SCENARIO, steps: [{ advance: 'PXD' }] } });
    expect([badAdvance.status, pointers(badAdvance)]).toEqual([400, ['/scenario/steps/0/advance']]);
  });

  it('answers 503 where the process offers no simulator', async () => {
    const offered = simulator;
    simulator = undefined;
    try {
      const res = await simulate('casey', { xml: readPathwayXml('custody-reception'), scenario: SCENARIO });
      expect(res.status).toBe(503);
      expect(res.body.detail).toBe('Pathway simulation is not available in this process');
    } finally {
      simulator = offered;
    }
  });
});
