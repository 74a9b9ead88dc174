/**
 * Notes and alerts through /api/v1, and attribution through the API: real HTTP (supertest on the Express app),
 * real bearer JWTs, real PostgreSQL, the embedded Temporal server with the real activities. Scoping (a record of
 * another setting is not found), the amendment chain, append-only records (the database refuses a change), every
 * problem named by JSON Pointer, ops never shown a note's words, every route audited; and a task completed
 * through the API whose assessment, note and audit events name the person who completed it.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair, type KeyLike } from 'jose';
import request from 'supertest';
import type { Express } from 'express';
import { createApp } from '../../api';
import { createBearerAuth } from '../../api/auth/bearer';
import type { Role } from '../../api/auth/principal';
import { ALERT_ROUTES } from '../../api/v1/alerts.routes';
import { NOTE_ROUTES } from '../../api/v1/notes.routes';
import { addStaff, deployPathway, shippedLintOptions, type CaseEngine } from '../../engine';
import { silentLogger } from '../../log';
import { Readiness } from '../../runtime/readiness';
import type { Store } from '../../store';
import { startTemporalServer, type TemporalServer } from '../../temporal-server';
import { WORKFLOWS_PATH } from '../../worker';
import { useFreshDatabase } from '../support/database';
import { eventually } from '../support/eventually';
import { installQuietRuntime } from '../support/sdk-runtime';
import { formClock, prepareStore, realActivities, taskOf, validSubmission } from '../engine/task-completion-support';
import { CASE_SEARCH_ATTRIBUTES } from '../../worker/case-search-attributes';

const TASK_QUEUE = 'api-notes-alerts';
const ISSUER = 'https://issuer.test';
const AUDIENCE = 'throughcare-api';
const OTHER = 'TNOTB1';
const NHS = { own: '9434765889', other: '9434765897' } as const;
const SECRET_NOTE = 'Disclosed a relapse plan SECRET-NOTE-41c';
const SNOMED_SELF_HARM = '248062006';
const SNOMED = 'http://snomed.info/sct';

type Who = Role | 'other-clinician';

/** The ids of a page's items (`noteId`, `alertId`). */
const idsOf = (res: request.Response, key: 'noteId' | 'alertId'): string[] =>
  ((res.body as { items?: Record<string, string>[] }).items ?? []).map((item) => item[key]!);
const pointers = (res: request.Response): string[] =>
  ((res.body as { errors?: { pointer: string }[] }).errors ?? []).map((e) => e.pointer).sort();

describe('notes and alerts in /api/v1', () => {
  let store: Store;
  let server: TemporalServer;
  let connection: Connection;
  let nativeConnection: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;
  let engine: CaseEngine;
  let app: Express;
  let own: string;
  let privateKey: KeyLike;
  const tokens = new Map<Who, string>();
  const staffIds = new Map<Who, string>();
  let ownCase: string;
  let otherCase: string;
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await nativeConnection?.close();
    await connection?.close();
    await server?.stop();
    await store?.close();
  }, 60_000);
  const db = useFreshDatabase('api_notes_alerts');
  const knex = () => store.orm.em.getConnection().getKnex();
  const subjectOf = (who: Who) => `${who}@staff.test`;

  /** A request signed in as `who`, with a known request id. */
  function as(who: Who, method: 'get' | 'post', url: string, body?: unknown, requestId: string = randomUUID()) {
    const req = request(app)
      [method](url)
      .set('Authorization', `Bearer ${tokens.get(who)}`)
      .set('X-Request-ID', requestId);
    return body === undefined ? req : req.send(body as object);
  }

  async function startReview(who: Who, nhsNumber: string, settingOdsCode: string): Promise<string> {
    const res = await as(who, 'post', '/api/v1/cases', { pathway: 'AttributedReview', nhsNumber, settingOdsCode });
    expect(res.status).toBe(201);
    return res.body.caseId as string;
  }

  const addNote = async (caseId: string, body: string, who: Who = 'clinician') => {
    const res = await as(who, 'post', `/api/v1/cases/${caseId}/notes`, { body });
    expect(res.status).toBe(201);
    return res.body as { noteId: string; body: string; amends: string | null };
  };

  beforeAll(async () => {
    installQuietRuntime();
    ({ store, settingOdsCode: own } = await prepareStore(db.url));
    await knex()('settings').insert({ id: randomUUID(), ods_code: OTHER, name: 'Other prison', kind: 'custody_suite' });
    const xml = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'bpmn', 'attributed-review.bpmn'), 'utf8');
    await deployPathway(store, xml, { ...shippedLintOptions(), deployedBy: 'test' });
    server = await startTemporalServer({
      address: '127.0.0.1:0',
      databaseUrl: db.url,
      searchAttributes: CASE_SEARCH_ATTRIBUTES,
    });
    connection = await Connection.connect({ address: server.address });
    nativeConnection = await NativeConnection.connect({ address: server.address });
    worker = await Worker.create({
      connection: nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowsPath: WORKFLOWS_PATH,
      activities: realActivities(store),
    });
    running = worker.run();
    engine = { store, client: new Client({ connection }), taskQueue: TASK_QUEUE, logger: silentLogger, now: formClock };

    const keys = await generateKeyPair('ES256');
    privateKey = keys.privateKey;
    const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'test-key', alg: 'ES256' }] });
    const authenticate = createBearerAuth({ issuer: ISSUER, audience: AUDIENCE, jwks, store });
    app = createApp({
      readiness: new Readiness(),
      logger: silentLogger,
      api: () => ({ store, authenticate, engine: () => engine }),
    });
    const people: [Who, Role, string][] = [
      ['clinician', 'clinician', own],
      ['team-lead', 'team-lead', own],
      ['ops', 'ops', own],
      ['commissioner', 'commissioner', own],
      ['admin', 'admin', own],
      ['other-clinician', 'clinician', OTHER],
    ];
    for (const [who, role, setting] of people) {
      const staff = await addStaff(store, {
        name: `${who} of ${setting}`,
        email: `${who}@staff.test`,
        duties: [],
        settings: [setting],
        roles: [role],
        subject: subjectOf(who),
      });
      staffIds.set(who, staff.staffId);
      tokens.set(
        who,
        await new SignJWT({})
          .setProtectedHeader({ alg: 'ES256', kid: 'test-key' })
          .setSubject(subjectOf(who))
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setIssuedAt()
          .setExpirationTime('30m')
          .sign(privateKey),
      );
    }
    ownCase = await startReview('clinician', NHS.own, own);
    otherCase = await startReview('other-clinician', NHS.other, OTHER);
  }, 180_000);

  describe('attribution', () => {
    it('names the person who completed a task through the API on its assessment, note and audit events', async () => {
      // given a clinician completing the review through the API
      const caseId = await startReview('clinician', NHS.own, own);
      const review = await taskOf(engine, caseId, 'Review');
      const requestId = `complete-${randomUUID()}`;

      // when they complete it
      const res = await as(
        'clinician',
        'post',
        `/api/v1/tasks/${encodeURIComponent(review.taskId)}/complete`,
        { data: validSubmission('sms-brief-intervention') },
        requestId,
      );
      expect(res.status).toBe(200);

      // then the assessment and the note the pathway saves from it are theirs
      const clinician = staffIds.get('clinician')!;
      const notes = await eventually(
        'the review noted',
        () => knex()('notes').where({ case_id: caseId, body: '[review] Reviewed on the ward' }),
        (rows) => rows.length === 1,
        { timeoutMs: 20_000, intervalMs: 100 },
      );
      expect(notes[0]).toMatchObject({ author_id: clinician, author_role: 'clinician' });
      const [assessment] = await knex()('assessments').where({ case_id: caseId });
      expect(assessment).toMatchObject({ submitted_by: clinician });
      // and every audit event of the request, the API's and the workflow's, names them, in their setting
      const events = await eventually(
        'the workflow’s audit events',
        () => knex()('audit_events').where({ request_id: requestId }).select<Record<string, unknown>[]>(),
        (rows) => new Set(rows.map((r) => r['entity_type'])).size === 3,
        { timeoutMs: 20_000, intervalMs: 100 },
      );
      expect(new Set(events.map((e) => e['entity_type']))).toEqual(new Set(['WorklistTask', 'Assessment', 'Note']));
      for (const event of events)
        expect(event).toMatchObject({
          actor_id: clinician,
          actor_role: 'clinician',
          actor_subject: subjectOf('clinician'),
          setting_ods_code: own,
          operation: 'task.complete',
        });
      // and what the pathway wrote on its own timer afterwards is its own
      const later = await eventually(
        'the timer’s note',
        () => knex()('notes').where({ case_id: caseId }).whereLike('body', '[reminder]%'),
        (rows) => rows.length === 1,
        { timeoutMs: 20_000, intervalMs: 100 },
      );
      expect(later[0]).toMatchObject({ author_id: 'system:pathway' });
    });
  });

  describe('notes', () => {
    it('appends a note by the signed-in person and lists a case’s notes newest first, paged by cursor', async () => {
      const first = await addNote(ownCase, 'First contact: settled on the wing');
      const second = await addNote(ownCase, SECRET_NOTE);
      expect(second).toMatchObject({
        caseId: ownCase,
        body: SECRET_NOTE,
        author: { id: staffIds.get('clinician'), role: 'clinician', name: `clinician of ${own}` },
        amends: null,
        amendedBy: null,
      });
      const page1 = await as('clinician', 'get', `/api/v1/cases/${ownCase}/notes?limit=1`);
      expect(page1.status).toBe(200);
      expect(idsOf(page1, 'noteId')).toEqual([second.noteId]);
      const page2 = await as(
        'clinician',
        'get',
        `/api/v1/cases/${ownCase}/notes?limit=1&cursor=${page1.body.nextCursor}`,
      );
      expect(idsOf(page2, 'noteId')).toEqual([first.noteId]);
      const byPerson = await as('clinician', 'get', `/api/v1/patients/${NHS.own}/notes?limit=200`);
      expect(idsOf(byPerson, 'noteId')).toEqual(expect.arrayContaining([first.noteId, second.noteId]));
    });

    it('amends by appending a note that points at the one it corrects, which stays visible, amended by it', async () => {
      // given a note
      const original = await addNote(ownCase, 'Methadone 30 mg daily');

      // when it is amended, and the amendment amended again
      const amend = (noteId: string, body: string, who: Who = 'clinician') =>
        as(who, 'post', `/api/v1/notes/${noteId}/amendments`, { body, reason: 'wrong dose recorded' });
      const first = await amend(original.noteId, 'Methadone 40 mg daily');
      expect(first.status).toBe(201);
      const second = await amend(first.body.noteId, 'Methadone 45 mg daily', 'team-lead');
      expect(second.status).toBe(201);

      // then the chain is original <- first <- second, each still there as written
      expect(first.body).toMatchObject({ amends: original.noteId, amendmentReason: 'wrong dose recorded' });
      expect(second.body).toMatchObject({
        amends: first.body.noteId,
        author: { id: staffIds.get('team-lead'), role: 'team-lead' },
      });
      const list = await as('clinician', 'get', `/api/v1/cases/${ownCase}/notes?limit=200`);
      const byId = new Map(
        (list.body.items as { noteId: string; body: string; amendedBy: { noteId: string } | null }[]).map((n) => [
          n.noteId,
          n,
        ]),
      );
      expect(byId.get(original.noteId)).toMatchObject({
        body: 'Methadone 30 mg daily',
        amendedBy: { noteId: first.body.noteId },
      });
      expect(byId.get(first.body.noteId)).toMatchObject({ amendedBy: { noteId: second.body.noteId } });
      expect(byId.get(second.body.noteId)).toMatchObject({ amendedBy: null });
      // and an amended note cannot be amended again: the chain never forks
      const fork = await amend(original.noteId, 'Methadone 50 mg daily');
      expect(fork.status).toBe(409);
      expect(fork.type).toBe('application/problem+json');
      expect(fork.body.detail).toContain(first.body.noteId);
    });

    it('keeps notes append-only: the database refuses to change or delete one', async () => {
      const note = await addNote(ownCase, 'Not to be rewritten');
      const row = () => knex()('notes').where({ id: note.noteId });
      await expect(row().update({ body: 'rewritten' })).rejects.toThrow('notes is append-only: UPDATE refused');
      await expect(row().delete()).rejects.toThrow('notes is append-only: DELETE refused');
      expect(await row().first()).toMatchObject({ body: 'Not to be rewritten' });
    });

    it('shows ops that notes exist and when, never their words', async () => {
      await addNote(ownCase, SECRET_NOTE);
      for (const url of [`/api/v1/cases/${ownCase}/notes?limit=200`, `/api/v1/patients/${NHS.own}/notes?limit=200`]) {
        const res = await as('ops', 'get', url);
        expect(res.status).toBe(200);
        const items = (res.body as { items: { body: string }[] }).items;
        expect(items.length).toBeGreaterThan(0);
        expect(res.text).not.toContain('SECRET-NOTE');
        expect(res.text).not.toContain('Methadone');
        for (const note of items) expect(note.body).toBe('[withheld]');
      }
      expect((await as('ops', 'post', `/api/v1/cases/${ownCase}/notes`, { body: 'ops note' })).status).toBe(403);
    });
  });

  describe('alerts', () => {
    it('raises alerts, lists the active ones, and resolves one with a reason kept beside the raise', async () => {
      // given a local-coded and a SNOMED CT coded alert
      const acct = await as('clinician', 'post', `/api/v1/patients/${NHS.own}/alerts`, {
        code: 'HA',
        display: 'ACCT open',
        severity: 'high',
        reason: 'ACCT opened on the wing',
        caseId: ownCase,
      });
      expect(acct.status).toBe(201);
      expect(acct.body).toMatchObject({
        code: 'HA',
        codeSystem: 'https://throughcare.nhs.example/CodeSystem/alert-code',
        status: 'active',
        raisedBy: staffIds.get('clinician'),
        caseId: ownCase,
        resolution: null,
      });
      const coded = await as('team-lead', 'post', `/api/v1/patients/${NHS.own}/alerts`, {
        code: SNOMED_SELF_HARM,
        codeSystem: SNOMED,
        display: 'Self-harm risk',
        severity: 'medium',
      });
      expect(coded.status).toBe(201);
      const active = await as('clinician', 'get', `/api/v1/patients/${NHS.own}/alerts?limit=200`);
      const activeIds = idsOf(active, 'alertId');
      expect(activeIds).toEqual(expect.arrayContaining([acct.body.alertId, coded.body.alertId]));
      expect(activeIds.indexOf(coded.body.alertId)).toBeLessThan(activeIds.indexOf(acct.body.alertId));

      // when the ACCT alert is resolved
      const resolved = await as('clinician', 'post', `/api/v1/alerts/${acct.body.alertId}/resolve`, {
        reason: 'ACCT closed after review',
      });

      // then the resolution is recorded beside the raise, which is unchanged, and it leaves the active list
      expect(resolved.status).toBe(200);
      expect(resolved.body).toMatchObject({
        status: 'resolved',
        raisedAt: acct.body.raisedAt,
        raisedBy: staffIds.get('clinician'),
        raiseReason: 'ACCT opened on the wing',
        resolution: { by: staffIds.get('clinician'), reason: 'ACCT closed after review' },
      });
      const stillActive = await as('clinician', 'get', `/api/v1/patients/${NHS.own}/alerts?limit=200`);
      expect(idsOf(stillActive, 'alertId')).not.toContain(acct.body.alertId);
      const resolvedList = await as('clinician', 'get', `/api/v1/patients/${NHS.own}/alerts?status=resolved`);
      expect(idsOf(resolvedList, 'alertId')).toContain(acct.body.alertId);
      const again = await as('clinician', 'post', `/api/v1/alerts/${acct.body.alertId}/resolve`, { reason: 'again' });
      expect(again.status).toBe(409);
      // and the database refuses to change the raise
      await expect(knex()('alerts').where({ id: acct.body.alertId }).update({ display: 'Nothing' })).rejects.toThrow(
        'alerts can only be resolved, once',
      );
      // and the banner shows the active alerts only
      const banner = await as('clinician', 'get', `/api/v1/patients/${NHS.own}`);
      const bannerIds = (banner.body as { alerts: { alertId: string }[] }).alerts.map((a) => a.alertId);
      expect(bannerIds).toContain(coded.body.alertId);
      expect(bannerIds).not.toContain(acct.body.alertId);
    });
  });

  describe('scoping and roles', () => {
    it('answers a record of another setting as not found, and 403 to roles that may never', async () => {
      const note = await addNote(otherCase, 'Of the other prison', 'other-clinician');
      const alert = await as('other-clinician', 'post', `/api/v1/patients/${NHS.other}/alerts`, {
        code: 'SH',
        display: 'Self-harm',
        severity: 'high',
      });
      expect(alert.status).toBe(201);
      const notFound = [
        await as('clinician', 'get', `/api/v1/cases/${otherCase}/notes`),
        await as('clinician', 'post', `/api/v1/cases/${otherCase}/notes`, { body: 'not mine' }),
        await as('clinician', 'post', `/api/v1/notes/${note.noteId}/amendments`, { body: 'x', reason: 'y' }),
        await as('clinician', 'get', `/api/v1/patients/${NHS.other}/notes`),
        await as('clinician', 'get', `/api/v1/patients/${NHS.other}/alerts`),
        await as('clinician', 'post', `/api/v1/patients/${NHS.other}/alerts`, {
          code: 'HA',
          display: 'x',
          severity: 'low',
        }),
        await as('clinician', 'post', `/api/v1/alerts/${alert.body.alertId}/resolve`, { reason: 'not mine' }),
        await as('ops', 'get', `/api/v1/cases/${otherCase}/notes`),
      ];
      expect(notFound.map((r) => r.status)).toEqual(notFound.map(() => 404));
      for (const res of notFound) {
        expect(res.type).toBe('application/problem+json');
        expect(res.text).not.toContain('Of the other prison');
      }
      // nothing was written in the other setting's record by the refused requests
      expect(await knex()('notes').where({ case_id: otherCase })).toHaveLength(1);
      for (const who of ['commissioner', 'admin'] as const) {
        expect((await as(who, 'get', `/api/v1/cases/${ownCase}/notes`)).status).toBe(403);
        expect((await as(who, 'get', `/api/v1/patients/${NHS.own}/alerts`)).status).toBe(403);
        expect((await as(who, 'post', `/api/v1/cases/${ownCase}/notes`, { body: 'x' })).status).toBe(403);
      }
      expect((await as('ops', 'get', `/api/v1/patients/${NHS.own}/alerts`)).status).toBe(403);
    });

    it('lists a person’s notes of their cases in one’s own settings only', async () => {
      // a case of the own-setting person opened elsewhere: its notes stay that setting's
      const elsewhere = await startReview('other-clinician', NHS.own, OTHER);
      await addNote(elsewhere, 'Written elsewhere', 'other-clinician');
      const res = await as('clinician', 'get', `/api/v1/patients/${NHS.own}/notes?limit=200`);
      expect(res.status).toBe(200);
      expect(res.text).not.toContain('Written elsewhere');
    });
  });

  describe('problems', () => {
    it('names each bad field, parameter and code by JSON Pointer', async () => {
      const cases = [
        [await as('clinician', 'post', `/api/v1/cases/${ownCase}/notes`, {}), ['/body']],
        [await as('clinician', 'post', `/api/v1/cases/${ownCase}/notes`, { body: '   \n' }), ['/body']],
        [await as('clinician', 'post', `/api/v1/cases/${ownCase}/notes`, { body: 'x', by: 'me' }), ['/by']],
        [await as('clinician', 'post', `/api/v1/cases/${ownCase}/notes`, { body: 'x'.repeat(10_001) }), ['/body']],
        [
          await as('clinician', 'post', `/api/v1/notes/not-a-uuid/amendments`, { body: 'x' }),
          ['/path/noteId', '/reason'],
        ],
        [
          await as('clinician', 'get', `/api/v1/cases/${ownCase}/notes?limit=0&cursor=%21`),
          ['/query/cursor', '/query/limit'],
        ],
        [
          await as('clinician', 'get', `/api/v1/cases/${ownCase}/notes?cursor=WyJub3QtYS1kYXRlIiwieCJd`),
          ['/query/cursor'],
        ],
        // 31 February, and an offset no clock has: refused as a cursor, never handed to the database
        [
          await as(
            'clinician',
            'get',
            `/api/v1/patients/${NHS.own}/alerts?cursor=WyIyMDI2LTAyLTMxVDAwOjAwOjAwWiIsIjdkNGYxYjZhLTNjMmUtNGY1YS05YjhjLTFkMmUzZjRhNWI2YyJd`,
          ),
          ['/query/cursor'],
        ],
        [
          await as(
            'clinician',
            'get',
            `/api/v1/patients/${NHS.own}/alerts?cursor=WyIyMDI2LTAyLTAxVDAwOjAwOjAwKzk5OjAwIiwiN2Q0ZjFiNmEtM2MyZS00ZjVhLTliOGMtMWQyZTNmNGE1YjZjIl0`,
          ),
          ['/query/cursor'],
        ],
        [await as('clinician', 'get', `/api/v1/patients/${NHS.own}/alerts?status=lost`), ['/query/status']],
        [await as('clinician', 'get', `/api/v1/patients/9434765890/alerts`), ['/path/nhsNumber']],
        [
          await as('clinician', 'post', `/api/v1/patients/${NHS.own}/alerts`, {
            code: 'has space',
            codeSystem: 'http://loinc.org',
            severity: 'urgent',
            caseId: 'nope',
          }),
          ['/caseId', '/code', '/codeSystem', '/display', '/severity'],
        ],
        [
          await as('clinician', 'post', `/api/v1/patients/${NHS.own}/alerts`, {
            code: 'HA',
            codeSystem: SNOMED,
            display: 'ACCT open',
            severity: 'high',
          }),
          ['/code'],
        ],
        [
          await as('clinician', 'post', `/api/v1/patients/${NHS.own}/alerts`, {
            code: 'HA',
            display: 'ACCT open',
            severity: 'high',
            caseId: otherCase,
          }),
          ['/caseId'],
        ],
        [await as('clinician', 'post', `/api/v1/alerts/${randomUUID()}/resolve`, {}), ['/reason']],
      ] as const;
      cases.forEach(([res, expected], index) => {
        expect({ index, status: res.status, type: res.type }).toEqual({
          index,
          status: 400,
          type: 'application/problem+json',
        });
        expect({ index, pointers: pointers(res) }).toEqual({ index, pointers: [...expected] });
      });
      const unknown = await as('clinician', 'post', `/api/v1/alerts/${randomUUID()}/resolve`, { reason: 'gone' });
      expect(unknown.status).toBe(404);
    });
  });

  describe('audit', () => {
    /** A successful request of each notes and alerts operation, as someone allowed to. */
    const recipes: Record<string, () => Promise<request.Response>> = {
      listCaseNotes: () => as('clinician', 'get', `/api/v1/cases/${ownCase}/notes`),
      listPatientNotes: () => as('ops', 'get', `/api/v1/patients/${NHS.own}/notes`),
      addCaseNote: () => as('clinician', 'post', `/api/v1/cases/${ownCase}/notes`, { body: 'For the audit' }),
      amendNote: async () => {
        const note = await addNote(ownCase, 'To be amended for the audit');
        return as('team-lead', 'post', `/api/v1/notes/${note.noteId}/amendments`, { body: 'Amended', reason: 'typo' });
      },
      listPatientAlerts: () => as('clinician', 'get', `/api/v1/patients/${NHS.own}/alerts?status=any`),
      raiseAlert: () =>
        as('clinician', 'post', `/api/v1/patients/${NHS.own}/alerts`, {
          code: 'F1',
          display: 'Veteran',
          severity: 'low',
        }),
      resolveAlert: async () => {
        const raised = await as('clinician', 'post', `/api/v1/patients/${NHS.own}/alerts`, {
          code: 'XAB',
          display: 'Known brewer of alcohol',
          severity: 'low',
        });
        return as('team-lead', 'post', `/api/v1/alerts/${raised.body.alertId}/resolve`, { reason: 'moved on' });
      },
    };

    it('every notes and alerts route writes audit events naming who, role, setting, operation and request', async () => {
      const unaudited: string[] = [];
      for (const spec of [...NOTE_ROUTES, ...ALERT_ROUTES]) {
        expect(spec.patientData).toBe(true);
        const recipe = recipes[spec.operationId];
        if (!recipe) {
          unaudited.push(`${spec.operationId}: no request in this test`);
          continue;
        }
        const res = await recipe();
        expect({ operation: spec.operationId, status: res.status }).toEqual({
          operation: spec.operationId,
          status: spec.success.status,
        });
        const requestId = res.headers['x-request-id'] as string;
        const events = await knex()('audit_events')
          .where({ request_id: requestId })
          .select<Record<string, unknown>[]>();
        if (events.length === 0) unaudited.push(`${spec.operationId}: no audit event`);
        for (const event of events)
          expect({ operation: spec.operationId, event }).toMatchObject({
            operation: spec.operationId,
            event: {
              actor_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
              actor_subject: expect.stringMatching(/@staff\.test$/),
              actor_role: expect.stringMatching(/^(clinician|team-lead|ops)$/),
              setting_ods_code: own,
              operation: spec.action,
              patient_id: expect.any(String),
              purpose: expect.stringMatching(/^(TREAT|HOPERAT)$/),
            },
          });
      }
      expect(unaudited).toEqual([]);
    }, 120_000);
  });
});
