/**
 * Pathways, settings and staff under /api/v1 through real HTTP (supertest on the Express app), signed in with real
 * bearer JWTs (jose, verified by createBearerAuth against the staff directory), on a real PostgreSQL and the
 * embedded Temporal server: who may do what (commissioners deploy, ops read, administrators keep the directory of
 * their own settings), problems by JSON Pointer, BPMN XML both ways, and the audit of every change.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Express } from 'express';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair, type KeyLike } from 'jose';
import request from 'supertest';
import { createApp } from '../../api';
import { createBearerAuth } from '../../api/auth/bearer';
import type { Role } from '../../api/auth/principal';
import { addStaff, type CaseEngine } from '../../engine';
import { silentLogger } from '../../log';
import { Readiness } from '../../runtime/readiness';
import { migrateDatabase, openStore, type Store } from '../../store';
import { startTemporalServer, type TemporalServer } from '../../temporal-server';
import { useFreshDatabase } from '../support/database';
import { CASE_SEARCH_ATTRIBUTES } from '../../worker/case-search-attributes';

const ISSUER = 'https://issuer.test';
const AUDIENCE = 'throughcare-api';
const OWN = 'XADM01';
const OTHER = 'XADM02';
const REVIEW_REMINDER = path.join(__dirname, '..', 'fixtures', 'bpmn', 'review-reminder.bpmn');
const NEWCOMER = 'newcomer@staff.test';
const BROKEN = path.join(__dirname, '..', '..', 'bpmn', 'fixtures', 'sequence.bpmn');

const pointers = (res: request.Response): string[] =>
  ((res.body as { errors?: { pointer: string }[] }).errors ?? []).map((e) => e.pointer).sort();

describe('/api/v1 pathways, settings and staff', () => {
  let store: Store;
  let server: TemporalServer;
  let connection: Connection;
  // Before useFreshDatabase, whose own afterAll drops the database: everything holding a connection closes first.
  afterAll(async () => {
    await connection?.close();
    await server?.stop();
    await store?.close();
  }, 60_000);
  const db = useFreshDatabase('api_admin');
  let app: Express;
  let privateKey: KeyLike;
  const staffIds = new Map<string, string>();

  const knex = () => store.orm.em.getConnection().getKnex();
  const subjectOf = (role: Role, setting = 'own') => `${role}-${setting}@staff.test`;

  async function tokenFor(subject: string): Promise<string> {
    return new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'test-key' })
      .setSubject(subject)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('30m')
      .sign(privateKey);
  }

  const tokens = new Map<string, string>();
  /** A request signed in as `subject`, with a request id of its own (await it to send it). */
  function as(subject: string, method: 'get' | 'post', url: string, body?: unknown) {
    const token = tokens.get(subject);
    if (!token) throw new Error(`no token for ${subject}`);
    const req = request(app)[method](url).set('Authorization', `Bearer ${token}`).set('X-Request-ID', randomUUID());
    return body === undefined ? req : req.send(body as object);
  }

  const auditOf = (res: request.Response) =>
    knex()('audit_events').where({ request_id: res.headers['x-request-id'] as string });

  beforeAll(async () => {
    await migrateDatabase(db.url, silentLogger);
    store = await openStore(db.url);
    await knex()('settings').insert([
      { id: randomUUID(), ods_code: OWN, name: 'Admin test prison', kind: 'prison', prison_type: 'HMP' },
      { id: randomUUID(), ods_code: OTHER, name: 'Admin test custody', kind: 'custody_suite' },
    ]);
    server = await startTemporalServer({
      address: '127.0.0.1:0',
      databaseUrl: db.url,
      searchAttributes: CASE_SEARCH_ATTRIBUTES,
    });
    connection = await Connection.connect({ address: server.address });
    const engine: CaseEngine = {
      store,
      client: new Client({ connection }),
      taskQueue: 'api-admin',
      logger: silentLogger,
    };
    const keys = await generateKeyPair('ES256');
    privateKey = keys.privateKey;
    const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'test-key', alg: 'ES256' }] });
    const authenticate = createBearerAuth({ issuer: ISSUER, audience: AUDIENCE, jwks, store });
    app = createApp({
      readiness: new Readiness(),
      logger: silentLogger,
      api: () => ({ store, authenticate, engine: () => engine }),
    });
    const people: [Role, string, string[]][] = [
      ['commissioner', 'own', [OWN]],
      ['ops', 'own', [OWN]],
      ['clinician', 'own', [OWN]],
      ['admin', 'own', [OWN]],
      ['admin', 'both', [OWN, OTHER]],
      ['clinician', 'other', [OTHER]],
      ['clinician', 'both', [OWN, OTHER]],
    ];
    for (const [role, setting, settings] of people) {
      const added = await addStaff(store, {
        name: `${role} of ${setting}`,
        email: `${role}.${setting}@staff.test`,
        duties: [],
        settings,
        roles: [role],
        subject: subjectOf(role, setting),
      });
      staffIds.set(subjectOf(role, setting), added.staffId);
      tokens.set(subjectOf(role, setting), await tokenFor(subjectOf(role, setting)));
    }
    tokens.set(NEWCOMER, await tokenFor(NEWCOMER));
  }, 120_000);

  describe('pathways', () => {
    const commissioner = subjectOf('commissioner');
    const xml = fs.readFileSync(REVIEW_REMINDER, 'utf8');
    const broken = fs.readFileSync(BROKEN, 'utf8');

    it('lints BPMN sent as XML or as JSON, each finding named, without deploying it', async () => {
      const asXml = await as(commissioner, 'post', '/api/v1/pathways/lint')
        .set('Content-Type', 'application/xml')
        .send(broken);
      expect(asXml.status).toBe(200);
      expect(asXml.body).toMatchObject({ pathwayId: 'Sequence', errors: expect.any(Number) });
      expect(asXml.body.errors).toBeGreaterThan(0);
      expect(asXml.body.findings).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ id: 'NotifyTeam', severity: 'error', fix: expect.any(String) }),
          expect.objectContaining({ id: 'Assess', severity: 'error' }),
        ]),
      );
      const asJson = await as(commissioner, 'post', '/api/v1/pathways/lint', { xml });
      expect(asJson.status).toBe(200);
      expect(asJson.body).toMatchObject({ pathwayId: 'ReviewReminder', errors: 0 });
      expect(await knex()('pathway_versions').where({ pathway_id: 'Sequence' })).toEqual([]);
    });

    it('deploys as the commissioner who sent it, once per content, and audits the new version', async () => {
      const first = await as(commissioner, 'post', '/api/v1/pathways').set('Content-Type', 'application/xml').send(xml);
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({
        pathwayId: 'ReviewReminder',
        version: 1,
        created: true,
        deployedBy: commissioner,
      });
      const again = await as(commissioner, 'post', '/api/v1/pathways', { xml });
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ pathwayId: 'ReviewReminder', version: 1, created: false });
      expect(await auditOf(first)).toEqual([
        expect.objectContaining({
          actor_subject: commissioner,
          actor_role: 'commissioner',
          action: 'create',
          operation: 'pathway.deploy',
          entity_type: 'PathwayVersion',
          entity_id: 'ReviewReminder:1',
          patient_id: null,
        }),
      ]);
      expect(await auditOf(again)).toEqual([]);
    });

    it('refuses BPMN with lint errors as 422 problem+json naming each element by pointer', async () => {
      const res = await as(commissioner, 'post', '/api/v1/pathways')
        .set('Content-Type', 'application/xml')
        .send(broken);
      expect(res.status).toBe(422);
      expect(res.type).toBe('application/problem+json');
      expect(pointers(res)).toEqual(expect.arrayContaining(['/elements/Assess', '/elements/NotifyTeam']));
      const notBpmn = await as(commissioner, 'post', '/api/v1/pathways', { xml: '<not-closed' });
      expect(notBpmn.status).toBe(422);
      expect(pointers(notBpmn)).toEqual(['/xml']);
      const empty = await as(commissioner, 'post', '/api/v1/pathways', { xml: '', extra: 1 });
      expect(empty.status).toBe(400);
      expect(pointers(empty)).toEqual(['/extra', '/xml']);
      const noBody = await as(commissioner, 'post', '/api/v1/pathways/lint')
        .set('Content-Type', 'text/plain')
        .send('hello');
      expect(noBody.status).toBe(400);
      expect(pointers(noBody)).toEqual(['/xml']);
      expect(await knex()('pathway_versions').where({ pathway_id: 'Sequence' })).toEqual([]);
    });

    it('lists versions and shows one, and gives back the BPMN XML exactly as deployed', async () => {
      const list = await as(subjectOf('ops'), 'get', '/api/v1/pathways?pathway=ReviewReminder');
      expect(list.status).toBe(200);
      expect(list.body).toEqual({
        items: [
          expect.objectContaining({
            pathwayId: 'ReviewReminder',
            latestVersion: 1,
            versions: [expect.objectContaining({ version: 1, deployedBy: commissioner })],
          }),
        ],
        nextCursor: null,
        total: 1,
      });
      const shown = await as(subjectOf('ops'), 'get', '/api/v1/pathways/ReviewReminder/versions/latest');
      expect(shown.status).toBe(200);
      expect(shown.body).toMatchObject({ pathwayId: 'ReviewReminder', version: 1, userTasks: expect.any(Array) });
      const bpmn = await as(commissioner, 'get', '/api/v1/pathways/ReviewReminder/versions/1/bpmn');
      expect(bpmn.status).toBe(200);
      expect(bpmn.type).toBe('application/xml');
      expect(bpmn.text).toBe(xml);
      const missing = await as(commissioner, 'get', '/api/v1/pathways/ReviewReminder/versions/9');
      expect(missing.status).toBe(404);
      expect(missing.type).toBe('application/problem+json');
      const badVersion = await as(commissioner, 'get', '/api/v1/pathways/ReviewReminder/versions/v1');
      expect(badVersion.status).toBe(400);
      expect(pointers(badVersion)).toEqual(['/path/version']);
    });

    it('lets only commissioners lint and deploy, and ops read, and nobody else anything', async () => {
      const cases: [string, 'get' | 'post', string, number][] = [
        [subjectOf('clinician'), 'get', '/api/v1/pathways', 403],
        [subjectOf('clinician'), 'post', '/api/v1/pathways', 403],
        [subjectOf('admin'), 'get', '/api/v1/pathways/ReviewReminder/versions/1/bpmn', 403],
        [subjectOf('ops'), 'post', '/api/v1/pathways', 403],
        [subjectOf('ops'), 'post', '/api/v1/pathways/lint', 403],
        [subjectOf('ops'), 'get', '/api/v1/pathways/ReviewReminder/versions/1/bpmn', 200],
        [commissioner, 'get', '/api/v1/pathways', 200],
      ];
      const got = [];
      for (const [who, method, url] of cases) {
        const res = await as(who, method, url, method === 'post' ? { xml } : undefined);
        got.push([who, method, url, res.status]);
        if (res.status >= 400) expect(res.type).toBe('application/problem+json');
      }
      expect(got).toEqual(cases);
    });
  });

  describe('settings', () => {
    const admin = subjectOf('admin');

    it('lists settings for administrators only', async () => {
      const res = await as(admin, 'get', '/api/v1/settings?kind=prison');
      expect(res.status).toBe(200);
      expect(res.body.items).toContainEqual(
        expect.objectContaining({ odsCode: OWN, kind: 'prison', prisonType: 'HMP' }),
      );
      expect((res.body.items as { kind: string }[]).every((s) => s.kind === 'prison')).toBe(true);
      expect((await as(subjectOf('clinician'), 'get', '/api/v1/settings')).status).toBe(403);
      const byCommissioner = await as(subjectOf('commissioner'), 'post', '/api/v1/settings', {
        odsCode: 'XCOM99',
        name: 'Not theirs to add',
        kind: 'court',
      });
      expect(byCommissioner.status).toBe(403);
    });

    it('adds a setting, makes the admin a member who can staff it, audits it, and refuses it twice', async () => {
      const code = 'XNEW01';
      const added = await as(admin, 'post', '/api/v1/settings', { odsCode: code, name: 'New court', kind: 'court' });
      expect(added.status).toBe(201);
      expect(added.body).toMatchObject({ odsCode: code, name: 'New court', kind: 'court', prisonType: null });
      expect(await auditOf(added)).toEqual([
        expect.objectContaining({
          actor_subject: admin,
          actor_role: 'admin',
          action: 'create',
          operation: 'setting.add',
          entity_type: 'Setting',
          entity_id: code,
          patient_id: null,
        }),
      ]);
      const whoami = await as(admin, 'get', '/api/v1/whoami');
      expect(whoami.body.settings).toEqual(expect.arrayContaining([OWN, code]));
      const staffed = await as(admin, 'post', '/api/v1/staff', {
        name: 'Court nurse',
        email: 'court.nurse@staff.test',
        settings: [code],
      });
      expect(staffed.status).toBe(201);
      const twice = await as(admin, 'post', '/api/v1/settings', { odsCode: code, name: 'Again', kind: 'court' });
      expect(twice.status).toBe(409);
      expect(twice.type).toBe('application/problem+json');
    });

    it('names each problem of a setting by pointer', async () => {
      const bad = await as(admin, 'post', '/api/v1/settings', { odsCode: 'lower', kind: 'castle', extra: true });
      expect(bad.status).toBe(400);
      expect(pointers(bad)).toEqual(['/extra', '/kind', '/name', '/odsCode']);
      const prison = await as(admin, 'post', '/api/v1/settings', { odsCode: 'XPRN01', name: 'P', kind: 'prison' });
      expect(prison.status).toBe(400);
      expect(pointers(prison)).toEqual(['/prisonType']);
      const court = await as(admin, 'post', '/api/v1/settings', {
        odsCode: 'XCRN01',
        name: 'C',
        kind: 'court',
        prisonType: 'HMP',
      });
      expect(pointers(court)).toEqual(['/prisonType']);
    });
  });

  describe('staff', () => {
    const admin = subjectOf('admin');
    const newcomer = NEWCOMER;

    it('adds a member of staff who can then sign in, updates them, and audits both', async () => {
      const added = await as(admin, 'post', '/api/v1/staff', {
        name: 'Nia Newcomer',
        email: 'nia@staff.test',
        duties: ['prison-healthcare'],
        settings: [OWN],
        roles: ['clinician'],
        subject: newcomer,
      });
      expect(added.status).toBe(201);
      expect(added.body).toMatchObject({ subject: newcomer, settings: [OWN], roles: ['clinician'], active: true });
      const whoami = await as(newcomer, 'get', '/api/v1/whoami');
      expect(whoami.status).toBe(200);
      expect(whoami.body).toMatchObject({
        subject: newcomer,
        name: 'Nia Newcomer',
        roles: ['clinician'],
        settings: [OWN],
      });

      const updated = await as(admin, 'post', '/api/v1/staff', {
        name: 'Nia Newcomer',
        email: 'nia@staff.test',
        settings: [OWN],
        roles: ['team-lead'],
        subject: newcomer,
      });
      expect(updated.status).toBe(200);
      expect(updated.body).toMatchObject({ staffId: added.body.staffId, roles: ['team-lead'], created: false });
      expect((await as(newcomer, 'get', '/api/v1/whoami')).body.roles).toEqual(['team-lead']);
      for (const [res, action] of [
        [added, 'create'],
        [updated, 'update'],
      ] as const)
        expect(await auditOf(res)).toEqual([
          expect.objectContaining({
            actor_subject: admin,
            actor_role: 'admin',
            action,
            operation: 'staff.change',
            entity_type: 'Staff',
            entity_id: added.body.staffId,
            setting_ods_code: OWN,
            patient_id: null,
          }),
        ]);
    });

    it('lets an admin change only staff all of whose settings the admin works in', async () => {
      const elsewhere = await as(admin, 'post', '/api/v1/staff', {
        name: 'Elsewhere',
        email: 'elsewhere@staff.test',
        settings: [OWN, OTHER],
      });
      expect(elsewhere.status).toBe(403);
      expect(elsewhere.body.detail).toContain(OTHER);
      // Moving someone who also works in OTHER into OWN alone would take away access the admin does not manage.
      const narrowing = await as(admin, 'post', '/api/v1/staff', {
        name: 'clinician of both',
        email: 'clinician.both@staff.test',
        settings: [OWN],
        subject: subjectOf('clinician', 'both'),
      });
      expect(narrowing.status).toBe(403);
      expect(narrowing.body.detail).not.toContain(OTHER);
      const both = await as(subjectOf('admin', 'both'), 'post', '/api/v1/staff', {
        name: 'clinician of both',
        email: 'clinician.both@staff.test',
        settings: [OWN],
        subject: subjectOf('clinician', 'both'),
      });
      expect(both.status).toBe(200);
      expect(both.body.settings).toEqual([OWN]);
      for (const refused of [elsewhere, narrowing]) expect(await auditOf(refused)).toEqual([]);
    });

    it('lists the staff of the admin’s settings, filtered, and no one else', async () => {
      const res = await as(admin, 'get', '/api/v1/staff');
      expect(res.status).toBe(200);
      const subjects = (res.body.items as { subject: string }[]).map((s) => s.subject);
      expect(subjects).toEqual(expect.arrayContaining([subjectOf('clinician'), subjectOf('admin', 'both')]));
      expect(subjects).not.toContain(subjectOf('clinician', 'other'));
      expect(res.body).toMatchObject({ total: subjects.length, nextCursor: null });
      // A page at a time, by name, each person once: the same people as the one page above.
      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await as(admin, 'get', `/api/v1/staff?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.status).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(2);
        paged.push(...(page.body.items as { subject: string }[]).map((s) => s.subject));
        cursor = page.body.nextCursor as string | null;
      } while (cursor);
      expect(paged).toEqual(subjects);
      const duty = await as(admin, 'get', '/api/v1/staff?duty=prison-healthcare&active=true');
      expect((duty.body.items as { subject: string }[]).map((s) => s.subject)).toEqual([]);
      const elsewhere = await as(admin, 'get', `/api/v1/staff?setting=${OTHER}`);
      expect(elsewhere.status).toBe(403);
      const bad = await as(admin, 'get', '/api/v1/staff?active=maybe&setting=x');
      expect(pointers(bad)).toEqual(['/query/active', '/query/setting']);
      expect((await as(subjectOf('ops'), 'get', '/api/v1/staff')).status).toBe(403);
    });

    it('deactivates a member of staff, who can then no longer sign in; never oneself, never someone elsewhere', async () => {
      const target = staffIds.get(subjectOf('clinician'))!;
      expect((await as(subjectOf('clinician'), 'get', '/api/v1/whoami')).status).toBe(200);
      const res = await as(admin, 'post', `/api/v1/staff/${target}/deactivate`, {});
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ staffId: target, active: false });
      expect(await auditOf(res)).toEqual([
        expect.objectContaining({
          operation: 'staff.change',
          action: 'update',
          entity_id: target,
          reason: 'deactivated',
        }),
      ]);
      const refused = await as(subjectOf('clinician'), 'get', '/api/v1/whoami');
      expect(refused.status).toBe(403);
      expect(refused.type).toBe('application/problem+json');
      const self = await as(admin, 'post', `/api/v1/staff/${staffIds.get(admin)!}/deactivate`, {});
      expect(self.status).toBe(409);
      const other = await as(
        admin,
        'post',
        `/api/v1/staff/${staffIds.get(subjectOf('clinician', 'other'))!}/deactivate`,
        {},
      );
      expect(other.status).toBe(404);
      const nobody = await as(admin, 'post', `/api/v1/staff/${randomUUID()}/deactivate`, {});
      expect(nobody.status).toBe(404);
      const notUuid = await as(admin, 'post', '/api/v1/staff/nope/deactivate', {});
      expect(pointers(notUuid)).toEqual(['/path/staffId']);
      const byClinician = await as(subjectOf('clinician', 'other'), 'post', `/api/v1/staff/${target}/deactivate`, {});
      expect(byClinician.status).toBe(403);
    });
  });
});
