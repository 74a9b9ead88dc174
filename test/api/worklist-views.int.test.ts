/**
 * /api/v1/worklist-views: saved worklist views through real HTTP, signed in with real bearer JWTs against the
 * staff directory, on a real PostgreSQL. A view is its owner's, seen by colleagues of the setting it is shared
 * with (while the owner still works there) and by nobody else; saving a name again replaces it; only the owner
 * deletes it; a shared view never holds a patient's NHS number. Views touch nobody's record, so nothing is audited
 * and Temporal never runs here.
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
import { Readiness } from '../../runtime/readiness';
import { migrateDatabase, openStore, type Store } from '../../store';
import { useFreshDatabase } from '../support/database';

const ISSUER = 'https://issuer.test';
const AUDIENCE = 'throughcare-api';
const PRISON = 'TVIEW1';
const COMMUNITY = 'TVIEW2';
const ELSEWHERE = 'TVIEW3';

const pointers = (res: request.Response): string[] =>
  ((res.body as { errors?: { pointer: string }[] }).errors ?? []).map((e) => e.pointer).sort();
const names = (res: request.Response): string[] => (res.body.items as { name: string }[]).map((v) => v.name);

/** Who signs in: name, roles and settings as the staff directory has them. */
const PEOPLE: Record<string, { roles: Role[]; settings: string[] }> = {
  sam: { roles: ['clinician'], settings: [PRISON, COMMUNITY] },
  priya: { roles: ['clinician'], settings: [PRISON] },
  lead: { roles: ['team-lead'], settings: [COMMUNITY] },
  olly: { roles: ['clinician'], settings: [ELSEWHERE] },
  ops: { roles: ['ops'], settings: [PRISON] },
  commissioner: { roles: ['commissioner'], settings: [PRISON] },
  admin: { roles: ['admin'], settings: [PRISON] },
};
type Person = keyof typeof PEOPLE;

describe('/api/v1/worklist-views: saved worklist views', () => {
  let store: Store;
  let connection: Connection;
  let app: Express;
  const tokens = new Map<string, string>();
  const db = useFreshDatabase('api_views');
  const knex = () => store.orm.em.getConnection().getKnex();
  const subjectOf = (who: string) => `${who}@views.test`;

  /** A request signed in as `who`, with a known request id. */
  function as(who: Person, method: 'get' | 'post', path: string, body?: unknown) {
    const req = request(app)
      [method](`/api/v1${path}`)
      .set('Authorization', `Bearer ${tokens.get(who)!}`)
      .set('X-Request-ID', randomUUID());
    return body === undefined ? req : req.send(body as object);
  }
  const save = (who: Person, body: Record<string, unknown>) => as(who, 'post', '/worklist-views', body);
  const list = (who: Person) => as(who, 'get', '/worklist-views');

  beforeAll(async () => {
    await migrateDatabase(db.url, silentLogger);
    store = await openStore(db.url);
    for (const [ods_code, name] of [
      [PRISON, 'HMP Views'],
      [COMMUNITY, 'Community Views'],
      [ELSEWHERE, 'HMP Elsewhere'],
    ] as const)
      await knex()('settings').insert({ id: randomUUID(), ods_code, name, kind: 'prison', prison_type: 'HMP' });
    // Saved views never call Temporal: a lazy connection that is never used.
    connection = Connection.lazy({ address: '127.0.0.1:9' });
    const engine: CaseEngine = { store, client: new Client({ connection }), taskQueue: 'unused', logger: silentLogger };
    const keys = await generateKeyPair('ES256');
    const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'test-key', alg: 'ES256' }] });
    for (const [who, person] of Object.entries(PEOPLE)) {
      await addStaff(store, {
        name: who.charAt(0).toUpperCase() + who.slice(1),
        email: subjectOf(who),
        duties: [],
        settings: person.settings,
        roles: person.roles,
        subject: subjectOf(who),
      });
      tokens.set(
        who,
        await new SignJWT({})
          .setProtectedHeader({ alg: 'ES256', kid: 'test-key' })
          .setSubject(subjectOf(who))
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
      }),
    });
  }, 60_000);
  afterAll(async () => {
    await connection?.close();
    await store?.close();
  });

  let shared: string;

  it('saves a view of one’s own, and lists it as one’s own', async () => {
    const saved = await save('sam', {
      name: '  Overdue in reception ',
      query: { view: 'all', setting: PRISON, task: 'ReceptionScreening', overdue: 'true', due: '' },
      sharedSetting: PRISON,
    });
    expect(saved.status).toBe(201);
    expect(saved.body).toEqual({
      viewId: expect.any(String),
      name: 'Overdue in reception',
      // An empty parameter is the worklist's default: not kept.
      query: { view: 'all', setting: PRISON, task: 'ReceptionScreening', overdue: 'true' },
      sharedSetting: PRISON,
      ownerName: 'Sam',
      mine: true,
      created: true,
      createdAt: expect.any(String),
    });
    shared = saved.body.viewId as string;
    const mine = await save('sam', { name: 'My week', query: { view: 'mine', due: 'week', patient: '9000000068' } });
    expect(mine.status).toBe(201);
    expect(mine.body).toMatchObject({ sharedSetting: null, query: { patient: '9000000068' } });

    const listed = await list('sam');
    expect(listed.status).toBe(200);
    // By name.
    expect(listed.body.items).toEqual([
      expect.objectContaining({ name: 'My week', mine: true, sharedSetting: null }),
      expect.objectContaining({ viewId: shared, name: 'Overdue in reception', mine: true, sharedSetting: PRISON }),
    ]);
  });

  it('shows a shared view to a colleague of that setting, who cannot delete it', async () => {
    const seen = await list('priya');
    expect(seen.status).toBe(200);
    expect(seen.body.items).toEqual([
      expect.objectContaining({ viewId: shared, name: 'Overdue in reception', mine: false, ownerName: 'Sam' }),
    ]);
    expect(JSON.stringify(seen.body)).not.toContain('My week');
    const refused = await as('priya', 'post', `/worklist-views/${shared}/delete`, {});
    expect(refused.status).toBe(404);
    expect(refused.type).toBe('application/problem+json');
    expect(names(await list('sam'))).toContain('Overdue in reception');
  });

  it('shows it to nobody working elsewhere, nor in the owner’s other setting', async () => {
    expect(names(await list('olly'))).toEqual([]);
    // The team lead works in Sam's other setting, not the one the view is shared with.
    expect(names(await list('lead'))).toEqual([]);
  });

  it('replaces the query and sharing when the same name is saved again', async () => {
    const again = await save('sam', { name: 'Overdue in reception', query: { view: 'unassigned', overdue: 'true' } });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({
      viewId: shared,
      created: false,
      query: { view: 'unassigned', overdue: 'true' },
      sharedSetting: null,
    });
    expect(names(await list('priya'))).toEqual([]);
    const sharedAgain = await save('sam', {
      name: 'Overdue in reception',
      query: { view: 'unassigned', overdue: 'true' },
      sharedSetting: PRISON,
    });
    expect(sharedAgain.status).toBe(200);
    expect(names(await list('priya'))).toEqual(['Overdue in reception']);
    expect(
      await knex()('saved_worklist_views')
        .where({ owner_subject: subjectOf('sam') })
        .count(),
    ).toEqual([{ count: '2' }]);
  });

  it('refuses a shared view that holds a patient’s NHS number', async () => {
    const res = await save('sam', {
      name: 'One person',
      query: { view: 'all', patient: '900 000 0068' },
      sharedSetting: COMMUNITY,
    });
    expect(res.status).toBe(400);
    expect(res.type).toBe('application/problem+json');
    expect(pointers(res)).toEqual(['/query/patient']);
    expect(names(await list('lead'))).toEqual([]);
  });

  it('names each problem by JSON Pointer', async () => {
    expect(pointers(await save('sam', { name: '   ', query: {} }))).toEqual(['/name']);
    expect(pointers(await save('sam', { name: 'x'.repeat(81), query: {} }))).toEqual(['/name']);
    expect(pointers(await save('sam', { name: '', query: {} }))).toEqual(['/name']);
    expect(pointers(await save('sam', { query: {} }))).toEqual(['/name']);
    expect(pointers(await save('sam', { name: 'Bad', query: { cursor: 'abc', view: 'all' } }))).toEqual([
      '/query/cursor',
    ]);
    expect(pointers(await save('sam', { name: 'Bad', query: { task: 'x'.repeat(256), overdue: true } }))).toEqual([
      '/query/overdue',
      '/query/task',
    ]);
    expect(pointers(await save('sam', { name: 'Bad', query: {}, sharedSetting: ELSEWHERE }))).toEqual([
      '/sharedSetting',
    ]);
    expect(pointers(await save('sam', { name: 'Bad', query: {}, sharedSetting: 'not an ods code' }))).toEqual([
      '/sharedSetting',
    ]);
    expect(pointers(await as('sam', 'post', '/worklist-views/not-a-uuid/delete', {}))).toEqual(['/path/viewId']);
    // Half a surrogate pair is not text: refused, not a failure of the database.
    expect(pointers(await save('sam', { name: 'Odd \ud800', query: { task: 'a\udfff\ud800b' } }))).toEqual([
      '/name',
      '/query/task',
    ]);
    expect(names(await list('sam'))).not.toContain('Bad');
  });

  it('lets the owner delete their own view, once', async () => {
    const mine = (await list('sam')).body.items as { viewId: string; name: string }[];
    const week = mine.find((v) => v.name === 'My week')!;
    const deleted = await as('sam', 'post', `/worklist-views/${week.viewId}/delete`, {});
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ viewId: week.viewId, name: 'My week', mine: true });
    expect(names(await list('sam'))).toEqual(['Overdue in reception']);
    expect((await as('sam', 'post', `/worklist-views/${week.viewId}/delete`, {})).status).toBe(404);
    expect((await as('sam', 'post', `/worklist-views/${randomUUID()}/delete`, {})).status).toBe(404);
  });

  it('stops showing a shared view to a setting its owner no longer works in', async () => {
    await addStaff(store, {
      name: 'Sam',
      email: subjectOf('sam'),
      duties: [],
      settings: [COMMUNITY],
      roles: ['clinician'],
      subject: subjectOf('sam'),
    });
    expect(names(await list('priya'))).toEqual([]);
    await addStaff(store, {
      name: 'Sam',
      email: subjectOf('sam'),
      duties: [],
      settings: PEOPLE['sam']!.settings,
      roles: ['clinician'],
      subject: subjectOf('sam'),
    });
    expect(names(await list('priya'))).toEqual(['Overdue in reception']);
  });

  it('is for clinicians and team leads only, and audits nothing (views hold nobody’s record)', async () => {
    for (const who of ['ops', 'commissioner', 'admin'] as const) {
      const listed = await list(who);
      const saved = await save(who, { name: 'Mine', query: {} });
      expect({ who, list: listed.status, save: saved.status, type: listed.type }).toEqual({
        who,
        list: 403,
        save: 403,
        type: 'application/problem+json',
      });
    }
    expect((await save('lead', { name: 'Team', query: { view: 'team', group: 'sms-team' } })).status).toBe(201);
    const audited = await knex()('audit_events')
      .whereIn('operation', ['worklist-view.list', 'worklist-view.save'])
      .count();
    expect(audited).toEqual([{ count: '0' }]);
  });
});
