/**
 * GET /api/v1/patients: finding a person on PDS by demographics, through the real Spine client against the
 * embedded Spine sandbox (its public test patients), signed in with real bearer JWTs, audited in a real
 * PostgreSQL. The search never touches the workflow engine, so none runs here.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair, type KeyLike } from 'jose';
import request from 'supertest';
import type { Express } from 'express';
import { createSpineClient, type SpineClient } from '../../activities/spine';
import { createApp } from '../../api';
import { createBearerAuth } from '../../api/auth/bearer';
import type { Role } from '../../api/auth/principal';
import { addStaff, type CaseEngine } from '../../engine';
import { silentLogger } from '../../log';
import { Readiness } from '../../runtime/readiness';
import { startSpineSandbox, type RunningSpineSandbox } from '../../spine-sandbox';
import { migrateDatabase, openStore, type Store } from '../../store';
import { useFreshDatabase } from '../support/database';

const ISSUER = 'https://issuer.test';
const AUDIENCE = 'throughcare-api';
const OWN = 'TSRCH1';
const ROLES: Role[] = ['clinician', 'team-lead', 'commissioner', 'ops', 'admin'];
const SMITH = 'family=Smith&gender=female&birthdate=2010-10-22';

const pointers = (res: request.Response): string[] =>
  ((res.body as { errors?: { pointer: string }[] }).errors ?? []).map((e) => e.pointer).sort();

describe('/api/v1/patients: search PDS by demographics', () => {
  let store: Store;
  let sandbox: RunningSpineSandbox;
  let connection: Connection;
  let jwks: ReturnType<typeof createLocalJWKSet>;
  let privateKey: KeyLike;
  const tokens = new Map<Role, string>();
  const db = useFreshDatabase('api_search');
  const knex = () => store.orm.em.getConnection().getKnex();
  const subjectOf = (role: Role) => `${role}@search.test`;

  function appWith(spine: SpineClient | undefined): Express {
    // The search never calls Temporal: a lazy connection that is never used.
    const engine: CaseEngine = { store, client: new Client({ connection }), taskQueue: 'unused', logger: silentLogger };
    return createApp({
      readiness: new Readiness(),
      logger: silentLogger,
      api: () => ({
        store,
        authenticate: createBearerAuth({ issuer: ISSUER, audience: AUDIENCE, jwks, store }),
        engine: () => engine,
        spine: () => spine,
      }),
    });
  }
  let app: Express;
  let searches = 0;
  const search = (query: string, role: Role = 'clinician', on: Express = app) =>
    request(on)
      .get(`/api/v1/patients?${query}`)
      .set('Authorization', `Bearer ${tokens.get(role)!}`)
      .set('X-Request-ID', randomUUID());
  const auditOf = (res: request.Response) =>
    knex()('audit_events')
      .where({ request_id: res.headers['x-request-id'] as string })
      .orderBy('entity_id')
      .select<Record<string, unknown>[]>();

  beforeAll(async () => {
    await migrateDatabase(db.url, silentLogger);
    store = await openStore(db.url);
    await knex()('settings').insert({
      id: randomUUID(),
      ods_code: OWN,
      name: 'HMP Search',
      kind: 'prison',
      prison_type: 'HMP',
    });
    sandbox = await startSpineSandbox({ logger: silentLogger });
    connection = Connection.lazy({ address: '127.0.0.1:9' });
    const keys = await generateKeyPair('ES256');
    privateKey = keys.privateKey;
    jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'test-key', alg: 'ES256' }] });
    for (const role of ROLES) {
      await addStaff(store, {
        name: role,
        email: subjectOf(role),
        duties: [],
        settings: [OWN],
        roles: [role],
        subject: subjectOf(role),
      });
      tokens.set(
        role,
        await new SignJWT({})
          .setProtectedHeader({ alg: 'ES256', kid: 'test-key' })
          .setSubject(subjectOf(role))
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setIssuedAt()
          .setExpirationTime('30m')
          .sign(privateKey),
      );
    }
    const spine = createSpineClient({ baseUrl: sandbox.baseUrl, odsCode: OWN });
    // Counted, to show a search PDS would refuse is never sent.
    app = appWith({
      ...spine,
      searchPatients: (...args) => {
        searches++;
        return spine.searchPatients(...args);
      },
    });
  }, 60_000);
  afterAll(async () => {
    await sandbox?.stop();
    await connection?.close();
    await store?.close();
  });

  it('finds a person by family name and date of birth, and audits the lookup of each NHS number for care', async () => {
    const res = await search(SMITH);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      outcome: 'matches',
      items: [
        expect.objectContaining({
          nhsNumber: '9000000009',
          name: expect.objectContaining({ family: 'Smith', given: ['Jane'] }),
          birthDate: '2010-10-22',
          gender: 'female',
          restricted: false,
          score: 1,
          address: expect.objectContaining({ postcode: 'LS1 6AE' }),
          patientId: null,
        }),
      ],
    });
    expect(await auditOf(res)).toEqual([
      expect.objectContaining({
        actor_subject: subjectOf('clinician'),
        actor_role: 'clinician',
        action: 'read',
        operation: 'patient.search',
        entity_type: 'Patient',
        entity_id: '9000000009',
        patient_id: null,
        purpose: 'TREAT',
        setting_ods_code: OWN,
      }),
    ]);
  });

  it('audits every person a wildcard search returns, and names our record of one we hold', async () => {
    const patientId = randomUUID();
    await knex()('patients').insert({ id: patientId, nhs_number: '9000000017' });
    const res = await search('family=Sm*&birthdate=2010-10-22', 'team-lead');
    expect(res.status).toBe(200);
    expect(
      (res.body.items as { nhsNumber: string; patientId: string | null }[]).map((i) => [i.nhsNumber, i.patientId]),
    ).toEqual(
      expect.arrayContaining([
        ['9000000009', null],
        ['9000000017', patientId],
      ]),
    );
    // One event per person returned; a random UUID sorts either side of an NHS number, so order is not pinned.
    const audited = (await auditOf(res)).map((e) => [e['entity_id'], e['patient_id'], e['purpose']]);
    expect(audited).toHaveLength(2);
    expect(audited).toEqual(
      expect.arrayContaining([
        ['9000000009', null, 'TREAT'],
        [patientId, patientId, 'TREAT'],
      ]),
    );
  });

  it('returns a restricted person without address, telephone, email or GP', async () => {
    const res = await search('family=Smythe&given=Janet&gender=female&birthdate=2005-06-16');
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([expect.objectContaining({ nhsNumber: '9000000025', restricted: true })]);
    for (const field of ['address', 'phone', 'email', 'gpOdsCode']) expect(res.body.items[0]).not.toHaveProperty(field);
  });

  it('says when too many matched, naming and auditing nobody', async () => {
    const res = await search('family=Sm*&birthdate=2010-10-22&limit=1');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ outcome: 'too-many-matches', items: [] });
    expect(await auditOf(res)).toEqual([]);
  });

  it('is for clinicians and team leads only', async () => {
    for (const role of ['ops', 'commissioner', 'admin'] as const) {
      const res = await search(SMITH, role);
      expect({ role, status: res.status, type: res.type }).toEqual({
        role,
        status: 403,
        type: 'application/problem+json',
      });
    }
  });

  it('refuses, by JSON Pointer, a search PDS would refuse, before asking PDS', async () => {
    const before = searches;
    expect(pointers(await search('family=Smith'))).toEqual(['/query/birthdate']);
    expect(pointers(await search('family=Smith&birthdate=22-10-2010&gender=f&limit=51&bogus=1'))).toEqual([
      '/query/birthdate',
      '/query/bogus',
      '/query/gender',
      '/query/limit',
    ]);
    expect(pointers(await search('birthdate=2010-10-22'))).toEqual(['/query/family']);
    expect(pointers(await search('family=S*&birthdate=2010-10-22'))).toEqual(['/query/family']);
    expect(pointers(await search('family=Smi*&given=Jane&birthdate=2010-10-22&fuzzy=true'))).toEqual(['/query/family']);
    expect(pointers(await search('family=Smith&birthdate=2010-10-22&fuzzy=true'))).toEqual(['/query/fuzzy']);
    expect(pointers(await search('family=Smith&family=Smyth&birthdate=2010-10-22'))).toContain('/query/family');
    expect(searches).toBe(before);
    const fuzzy = await search('family=Smith&given=Jane&birthdate=2010-10-22&fuzzy=true');
    expect(fuzzy.status).toBe(200);
  });

  it('answers 503 problem+json when PDS cannot be reached, or is not configured', async () => {
    const unreachable = appWith(createSpineClient({ baseUrl: 'http://127.0.0.1:9', retry: { maxAttempts: 1 } }));
    const down = await search(SMITH, 'clinician', unreachable);
    expect(down.status).toBe(503);
    expect(down.type).toBe('application/problem+json');
    const none = await search(SMITH, 'clinician', appWith(undefined));
    expect(none.status).toBe(503);
  });
});
