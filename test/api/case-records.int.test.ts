/**
 * The case record through /api/v1 (supertest on the Express app, real bearer JWTs, a real PostgreSQL and the
 * embedded Temporal server with the real activities): a case's timeline, drafts of task answers, appointments
 * (booked, recorded as attended, missed or cancelled, the outcome reaching the release-support workflow) and
 * contacts with their consent. Each: the happy path, scoping (another setting's record is not found), append-only
 * history, problems named by JSON Pointer, what ops and a restricted record do not show, and the audit.
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
import { addStaff, deployPathway, shippedLintOptions, type CaseEngine } from '../../engine';
import { silentLogger } from '../../log';
import { FORMS_DIRECTORY, readPathwayXml } from '../../pathways';
import { Readiness } from '../../runtime/readiness';
import type { Store } from '../../store';
import { startTemporalServer, type TemporalServer } from '../../temporal-server';
import { WORKFLOWS_PATH } from '../../worker';
import { useFreshDatabase } from '../support/database';
import { eventually } from '../support/eventually';
import { installQuietRuntime } from '../support/sdk-runtime';
import { formClock, prepareStore, realActivities, taskOf, validSubmission } from '../engine/task-completion-support';
import { CASE_SEARCH_ATTRIBUTES } from '../../worker/case-search-attributes';

const TASK_QUEUE = 'api-case-records';
const ISSUER = 'https://issuer.test';
const AUDIENCE = 'throughcare-api';
const OTHER = 'TRECB1';
const ROLES: Role[] = ['clinician', 'team-lead', 'commissioner', 'ops', 'admin'];
const NHS = { own: '9434765005', other: '9434765013', restricted: '9434765021' } as const;
const RELEASED = '9434765048';
const SECRET_NOTE = 'SECRET-NOTE-41c';
const SECRET_ALERT = 'SECRET-ALERT-9d2';

const pointers = (res: request.Response): string[] =>
  ((res.body as { errors?: { pointer: string }[] }).errors ?? []).map((e) => e.pointer).sort();

describe('/api/v1: the case record', () => {
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
  const tokens = new Map<string, string>();
  const cases = {} as Record<keyof typeof NHS, string>;
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await nativeConnection?.close();
    await connection?.close();
    await server?.stop();
    await store?.close();
  }, 60_000);
  const db = useFreshDatabase('api_records');

  const knex = () => store.orm.em.getConnection().getKnex();
  const subjectOf = (role: Role, setting = 'own') => `${role}-${setting}@staff.test`;
  const enc = encodeURIComponent;

  /** A request signed in as `subject`, with a known request id (await it to send it). */
  function as(subject: string, method: 'get' | 'post', path: string, body?: unknown, requestId: string = randomUUID()) {
    const token = tokens.get(subject);
    if (!token) throw new Error(`no token for ${subject}`);
    const req = request(app)[method](path).set('Authorization', `Bearer ${token}`).set('X-Request-ID', requestId);
    return body === undefined ? req : req.send(body as object);
  }
  const clinician = () => subjectOf('clinician');
  const ops = () => subjectOf('ops');
  const otherClinician = () => subjectOf('clinician', 'other');

  async function auditOf(res: request.Response) {
    return knex()('audit_events')
      .where({ request_id: res.headers['x-request-id'] as string })
      .select<Record<string, unknown>[]>();
  }

  async function startCase(who: string, pathway: string, nhsNumber: string, setting: string, variables = {}) {
    const res = await as(who, 'post', '/api/v1/cases', { pathway, nhsNumber, settingOdsCode: setting, variables });
    expect(res.status).toBe(201);
    return res.body.caseId as string;
  }

  beforeAll(async () => {
    installQuietRuntime();
    ({ store, settingOdsCode: own } = await prepareStore(db.url));
    await knex()('settings').insert({ id: randomUUID(), ods_code: OTHER, name: 'Other prison', kind: 'custody_suite' });
    for (const pathway of ['identify-person', 'release-support'] as const)
      await deployPathway(store, readPathwayXml(pathway), { ...shippedLintOptions(), deployedBy: 'test' });
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
    const staff = [
      ...ROLES.map((role) => ({ role, setting: own, subject: subjectOf(role) })),
      { role: 'clinician' as Role, setting: OTHER, subject: otherClinician() },
    ];
    for (const { role, setting, subject } of staff) {
      await addStaff(store, {
        name: subject,
        email: subject,
        duties: [],
        settings: [setting],
        roles: [role],
        subject,
      });
      tokens.set(
        subject,
        await new SignJWT({})
          .setProtectedHeader({ alg: 'ES256', kid: 'test-key' })
          .setSubject(subject)
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setIssuedAt()
          .setExpirationTime('30m')
          .sign(privateKey),
      );
    }
    cases.own = await startCase(clinician(), 'TwoReviews', NHS.own, own);
    cases.other = await startCase(otherClinician(), 'TwoReviews', NHS.other, OTHER);
    cases.restricted = await startCase(clinician(), 'TwoReviews', NHS.restricted, own);
    await knex()('patients').where({ nhs_number: NHS.restricted }).update({ is_restricted: true, security_label: 'R' });
  }, 180_000);

  describe('the timeline', () => {
    let patientId: string;
    beforeAll(async () => {
      // Given a case whose first review is completed through the API (an assessment, the next task opened),
      // with a note and an alert on record
      const first = await taskOf(engine, cases.own, 'FirstReview');
      const done = await as(clinician(), 'post', `/api/v1/tasks/${enc(first.taskId)}/complete`, {
        data: validSubmission('sms-brief-intervention'),
      });
      expect(done.status).toBe(200);
      await taskOf(engine, cases.own, 'SecondReview');
      patientId = (await knex()('cases').where({ id: cases.own }).first<{ patient_id: string }>('patient_id'))
        .patient_id;
      await knex()('notes').insert({
        id: randomUUID(),
        patient_id: patientId,
        case_id: cases.own,
        body: SECRET_NOTE,
        author_id: 'nurse-1',
        author_role: 'clinician',
      });
      await knex()('alerts').insert({
        id: randomUUID(),
        patient_id: patientId,
        case_id: cases.own,
        code: 'SH',
        code_system: 'local',
        display: SECRET_ALERT,
        severity: 'high',
        raised_by: 'nurse-1',
      });
    }, 60_000);

    it('tells what happened to the case, newest first, with clinical content for clinicians', async () => {
      const res = await as(clinician(), 'get', `/api/v1/cases/${cases.own}/timeline?limit=200`);
      expect(res.status).toBe(200);
      const kinds = (res.body.items as { kind: string }[]).map((e) => e.kind);
      expect(kinds).toEqual(
        expect.arrayContaining([
          'case.opened',
          'case.setting-added',
          'task.opened',
          'task.completed',
          'assessment.submitted',
          'note.written',
          'alert.raised',
        ]),
      );
      expect(kinds[kinds.length - 1]).toBe('case.opened');
      const times = (res.body.items as { at: string }[]).map((e) => e.at);
      expect([...times].sort().reverse()).toEqual(times);
      expect(res.body.total).toBe(kinds.length);
      const completed = (res.body.items as Record<string, unknown>[]).find((e) => e['kind'] === 'task.completed');
      expect(completed).toMatchObject({ by: clinician(), detail: { elementId: 'FirstReview' } });
      expect(res.text).toContain(SECRET_NOTE);
      expect(res.text).toContain(SECRET_ALERT);
    });

    it('shows ops every event without clinical content', async () => {
      const mine = await as(clinician(), 'get', `/api/v1/cases/${cases.own}/timeline?limit=200`);
      const theirs = await as(ops(), 'get', `/api/v1/cases/${cases.own}/timeline?limit=200`);
      expect(theirs.status).toBe(200);
      expect((theirs.body.items as { eventId: string }[]).map((e) => e.eventId)).toEqual(
        (mine.body.items as { eventId: string }[]).map((e) => e.eventId),
      );
      expect(theirs.text).not.toContain(SECRET_NOTE);
      expect(theirs.text).not.toContain(SECRET_ALERT);
      expect((theirs.body.items as object[]).every((e) => !('clinical' in e))).toBe(true);
    });

    it('pages by cursor without skipping or repeating an event, and filters by kind', async () => {
      const all = await as(clinician(), 'get', `/api/v1/cases/${cases.own}/timeline?limit=200`);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: request.Response = await as(
          clinician(),
          'get',
          `/api/v1/cases/${cases.own}/timeline?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect(page.status).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...(page.body.items as { eventId: string }[]).map((e) => e.eventId));
        cursor = page.body.nextCursor as string | null;
      } while (cursor);
      expect(seen).toEqual((all.body.items as { eventId: string }[]).map((e) => e.eventId));
      const tasks = await as(clinician(), 'get', `/api/v1/cases/${cases.own}/timeline?kind=task`);
      expect((tasks.body.items as { kind: string }[]).every((e) => e.kind.startsWith('task.'))).toBe(true);
      expect(tasks.body.total).toBe(tasks.body.items.length);
    });

    it('answers 404 for a case of another setting, 403 for a role that may not, and audits the read', async () => {
      expect((await as(clinician(), 'get', `/api/v1/cases/${cases.other}/timeline`)).status).toBe(404);
      expect((await as(subjectOf('commissioner'), 'get', `/api/v1/cases/${cases.own}/timeline`)).status).toBe(403);
      const res = await as(ops(), 'get', `/api/v1/cases/${cases.own}/timeline`);
      expect(await auditOf(res)).toEqual([
        expect.objectContaining({
          actor_subject: ops(),
          actor_role: 'ops',
          operation: 'case.timeline',
          entity_type: 'Case',
          entity_id: cases.own,
          patient_id: patientId,
          setting_ods_code: own,
          purpose: 'HOPERAT',
        }),
      ]);
    });

    it('names bad parameters by JSON Pointer', async () => {
      const res = await as(clinician(), 'get', `/api/v1/cases/not-a-case/timeline?limit=0&kind=gossip&cursor=bm90`);
      expect(res.status).toBe(400);
      expect(res.type).toBe('application/problem+json');
      expect(pointers(res)).toEqual(['/path/caseId', '/query/kind', '/query/limit']);
      const cursor = await as(clinician(), 'get', `/api/v1/cases/${cases.own}/timeline?cursor=bm90LW91cnM`);
      expect(cursor.status).toBe(400);
      expect(pointers(cursor)).toEqual(['/query/cursor']);
      // Cursors that decode, but hold a day that does not exist or a NUL: refused before they reach SQL.
      for (const key of [
        ['2026-02-30T00:00:00.000000', 'task.opened:x'],
        ['2026-01-01T00:00:00.000000', 'a\u0000b'],
      ]) {
        const forged = Buffer.from(JSON.stringify(key)).toString('base64url');
        const res = await as(clinician(), 'get', `/api/v1/cases/${cases.own}/timeline?cursor=${forged}`);
        expect({ status: res.status, pointers: pointers(res) }).toEqual({ status: 400, pointers: ['/query/cursor'] });
      }
    });
  });

  describe('drafts of a task’s answers', () => {
    let taskId: string;
    beforeAll(async () => {
      taskId = (await taskOf(engine, cases.restricted, 'FirstReview')).taskId;
    });
    const draftOf = (who: string, answers: unknown) =>
      as(who, 'post', `/api/v1/tasks/${enc(taskId)}/draft`, answers === undefined ? {} : { answers });

    it('keeps each save, shows the latest as the reader’s own draft, and audits it', async () => {
      const first = await draftOf(clinician(), { deliveredBy: 'Sam Patel' });
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ taskId, answers: { deliveredBy: 'Sam Patel' }, saves: 1 });
      const second = await draftOf(clinician(), { deliveredBy: 'Sam Patel', outcome: 'completed' });
      expect(second.body).toMatchObject({ answers: { deliveredBy: 'Sam Patel', outcome: 'completed' }, saves: 2 });
      const read = await as(clinician(), 'get', `/api/v1/tasks/${enc(taskId)}`);
      expect(read.body.draft).toEqual(second.body);
      // Drafts are per person: the team lead has none of this task.
      expect((await as(subjectOf('team-lead'), 'get', `/api/v1/tasks/${enc(taskId)}`)).body.draft).toBeNull();
      const rows = knex()('task_drafts').where({ task_id: taskId });
      expect(await rows.clone().count<{ n: string }[]>({ n: '*' })).toEqual([{ n: '2' }]);
      await expect(rows.clone().update({ answers: '{}' })).rejects.toThrow('task_drafts is append-only');
      await expect(rows.clone().delete()).rejects.toThrow('task_drafts is append-only');
      expect(await auditOf(second)).toEqual([
        expect.objectContaining({ operation: 'task.draft', entity_id: taskId, actor_subject: clinician() }),
      ]);
    });

    it('refuses fields the form does not have, but not missing ones, naming each by JSON Pointer', async () => {
      const unknown = await draftOf(clinician(), { deliveredBy: 'Sam', bogus: 1, 'a/b': 2 });
      expect(unknown.status).toBe(400);
      expect(unknown.type).toBe('application/problem+json');
      expect(pointers(unknown)).toEqual(['/answers/a~1b', '/answers/bogus']);
      expect(pointers(await draftOf(clinician(), 'not an object'))).toEqual(['/answers']);
      expect(pointers(await draftOf(clinician(), undefined))).toEqual(['/answers']);
      expect((await draftOf(clinician(), {})).status).toBe(200);
    });

    it('is not found from another setting, and not for ops', async () => {
      expect((await draftOf(otherClinician(), {})).status).toBe(404);
      expect((await draftOf(ops(), {})).status).toBe(403);
      expect((await as(ops(), 'get', `/api/v1/tasks/${enc(taskId)}`)).body.draft).toBeNull();
    });

    it('is discarded when the task is completed: no longer shown, and no new one taken', async () => {
      await draftOf(clinician(), { deliveredBy: 'Sam Patel' });
      const done = await as(clinician(), 'post', `/api/v1/tasks/${enc(taskId)}/complete`, {
        data: validSubmission('sms-brief-intervention'),
      });
      expect(done.status).toBe(200);
      const read = await as(clinician(), 'get', `/api/v1/tasks/${enc(taskId)}`);
      expect(read.body).toMatchObject({ task: { status: 'completed' }, draft: null });
      const late = await draftOf(clinician(), { deliveredBy: 'Sam Patel' });
      expect(late.status).toBe(409);
      expect(late.type).toBe('application/problem+json');
    });
  });

  describe('appointments', () => {
    const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
    const booking = (overrides: Record<string, unknown> = {}) => ({
      kind: 'housing',
      startsAt: inDays(10),
      location: '4 Council Offices, Leeds',
      agency: 'Leeds Housing Options',
      ...overrides,
    });
    const book = (who: string, caseId: string, body: unknown) =>
      as(who, 'post', `/api/v1/cases/${caseId}/appointments`, body);
    const outcomeOf = (who: string, appointmentId: string, body: unknown) =>
      as(who, 'post', `/api/v1/appointments/${appointmentId}/outcome`, body);

    it('books one for a case and records it cancelled as a new status change, never an update', async () => {
      const booked = await book(clinician(), cases.own, booking({ endsAt: inDays(10.05) }));
      expect(booked.status).toBe(201);
      expect(booked.body).toMatchObject({
        caseId: cases.own,
        kind: 'housing',
        location: '4 Council Offices, Leeds',
        agency: 'Leeds Housing Options',
        status: 'booked',
        history: [{ status: 'booked', fromStatus: null }],
      });
      const id = booked.body.appointmentId as string;
      expect(await auditOf(booked)).toEqual([
        expect.objectContaining({ operation: 'appointment.book', entity_id: id, setting_ods_code: own }),
      ]);
      const cancelled = await outcomeOf(clinician(), id, { outcome: 'cancelled', reason: 'rearranged by housing' });
      expect(cancelled.status).toBe(200);
      expect(cancelled.body).toMatchObject({
        changed: true,
        appointment: {
          status: 'cancelled',
          history: [{ status: 'booked' }, { status: 'cancelled', fromStatus: 'booked' }],
        },
        workflow: { outcome: 'not-awaited' },
      });
      expect(await auditOf(cancelled)).toEqual([
        expect.objectContaining({ operation: 'appointment.record', entity_id: id, actor_subject: clinician() }),
      ]);
      const again = await outcomeOf(clinician(), id, { outcome: 'cancelled' });
      expect(again.body.changed).toBe(false);
      expect(await auditOf(again)).toHaveLength(1);
      const changes = knex()('appointment_status_changes').where({ appointment_id: id });
      expect(await changes.clone().count<{ n: string }[]>({ n: '*' })).toEqual([{ n: '2' }]);
      await expect(changes.clone().update({ reason: 'rewritten' })).rejects.toThrow('append-only');
      const listed = await as(clinician(), 'get', `/api/v1/cases/${cases.own}/appointments`);
      expect(listed.body.items).toContainEqual(expect.objectContaining({ appointmentId: id, status: 'cancelled' }));
      const byPerson = await as(clinician(), 'get', `/api/v1/patients/${NHS.own}/appointments?status=cancelled`);
      expect((byPerson.body.items as { appointmentId: string }[]).map((a) => a.appointmentId)).toEqual([id]);
    });

    it('shows ops the diary without where or why, and never shows a restricted record’s location', async () => {
      const booked = await book(clinician(), cases.own, booking());
      await outcomeOf(clinician(), booked.body.appointmentId, { outcome: 'missed', reason: 'SECRET-REASON' });
      const seen = await as(ops(), 'get', `/api/v1/cases/${cases.own}/appointments?limit=200`);
      expect(seen.status).toBe(200);
      expect(seen.body.items.length).toBeGreaterThan(0);
      expect(seen.text).not.toContain('Council Offices');
      expect(seen.text).not.toContain('SECRET-REASON');
      expect((await book(ops(), cases.own, booking())).status).toBe(403);
      expect((await outcomeOf(ops(), booked.body.appointmentId, { outcome: 'attended' })).status).toBe(403);
      const hidden = await book(clinician(), cases.restricted, booking({ location: '9 Secret Lane' }));
      expect(hidden.status).toBe(201);
      expect(hidden.text).not.toContain('Secret Lane');
      const listed = await as(clinician(), 'get', `/api/v1/patients/${NHS.restricted}/appointments`);
      expect(listed.body.items).toHaveLength(1);
      expect(listed.text).not.toContain('Secret Lane');
      const timeline = await as(clinician(), 'get', `/api/v1/cases/${cases.restricted}/timeline?kind=appointment`);
      expect(timeline.body.items).toEqual([expect.objectContaining({ kind: 'appointment.booked' })]);
      expect(timeline.text).not.toContain('Secret Lane');
      const open = await as(clinician(), 'get', `/api/v1/cases/${cases.own}/timeline?kind=appointment`);
      expect(open.text).toContain('Council Offices');
    });

    it('answers 404 for a case or appointment of another setting', async () => {
      const booked = await book(otherClinician(), cases.other, booking());
      expect(booked.status).toBe(201);
      expect((await as(clinician(), 'get', `/api/v1/cases/${cases.other}/appointments`)).status).toBe(404);
      expect((await as(clinician(), 'get', `/api/v1/patients/${NHS.other}/appointments`)).status).toBe(404);
      expect((await book(clinician(), cases.other, booking())).status).toBe(404);
      expect((await outcomeOf(clinician(), booked.body.appointmentId, { outcome: 'attended' })).status).toBe(404);
      expect((await outcomeOf(clinician(), randomUUID(), { outcome: 'attended' })).status).toBe(404);
    });

    it('names each bad field by JSON Pointer', async () => {
      const bad = await book(clinician(), cases.own, { kind: 'GP!', startsAt: 'tomorrow', location: ' ', extra: 1 });
      expect(bad.status).toBe(400);
      expect(bad.type).toBe('application/problem+json');
      expect(pointers(bad)).toEqual(['/agency', '/extra', '/kind', '/location', '/startsAt']);
      const backwards = await book(clinician(), cases.own, booking({ endsAt: inDays(9) }));
      expect(pointers(backwards)).toEqual(['/endsAt']);
      const stranger = await book(clinician(), cases.own, booking({ agencyContactId: randomUUID() }));
      expect(pointers(stranger)).toEqual(['/agencyContactId']);
      const outcome = await outcomeOf(clinician(), 'not-an-id', { outcome: 'lost', when: 'now' });
      expect(pointers(outcome)).toEqual(['/outcome', '/path/appointmentId', '/when']);
      const query = await as(clinician(), 'get', `/api/v1/cases/${cases.own}/appointments?status=lost&cursor=bm90`);
      expect(pointers(query)).toEqual(['/query/status']);
      const cursor = await as(clinician(), 'get', `/api/v1/cases/${cases.own}/appointments?cursor=bm90LW91cnM`);
      expect(pointers(cursor)).toEqual(['/query/cursor']);
      for (const key of [
        ['2026-02-30T00:00:00.000Z', randomUUID()],
        ['2026-01-01T00:00:00.000Z', '------------------------------------'],
      ]) {
        const forged = Buffer.from(JSON.stringify(key)).toString('base64url');
        const res = await as(clinician(), 'get', `/api/v1/cases/${cases.own}/appointments?cursor=${forged}`);
        expect({ status: res.status, pointers: pointers(res) }).toEqual({ status: 400, pointers: ['/query/cursor'] });
      }
    });

    describe('an outcome reaches the release-support pathway waiting for it', () => {
      let caseId: string;
      const appointmentOf = async (kind: string) =>
        eventually(
          `the ${kind} appointment booked by the pathway`,
          async () =>
            (await as(clinician(), 'get', `/api/v1/cases/${caseId}/appointments`)).body.items as {
              appointmentId: string;
              kind: string;
            }[],
          (items) => items.some((a) => a.kind === kind),
          { timeoutMs: 30_000, intervalMs: 100 },
        ).then((items) => items.find((a) => a.kind === kind)!.appointmentId);
      const waitingFor = async (appointmentId: string) =>
        eventually(
          'the pathway waiting for the outcome',
          async () =>
            ((await as(clinician(), 'get', `/api/v1/cases/${caseId}`)).body.waitingFor ?? []) as {
              correlationKey: string;
            }[],
          (subs) => subs.some((s) => s.correlationKey === appointmentId),
          { timeoutMs: 30_000, intervalMs: 100 },
        );

      beforeAll(async () => {
        // Given a release-support case whose release plan booked a probation and a substance misuse appointment
        caseId = await startCase(clinician(), 'release-support', RELEASED, own, { patient: { restricted: false } });
        const plan = JSON.parse(
          fs.readFileSync(path.join(FORMS_DIRECTORY, 'examples', 'release-plan.examples.json'), 'utf8'),
        ) as { valid: Record<string, unknown> };
        const planTask = await taskOf(engine, caseId, 'PlanRelease');
        const planned = await as(clinician(), 'post', `/api/v1/tasks/${enc(planTask.taskId)}/complete`, {
          data: {
            ...plan.valid,
            releaseDate: inDays(20).slice(0, 10),
            appointments: [
              {
                kind: 'community-substance-misuse',
                startsAt: inDays(21),
                location: 'Hub',
                agencyName: 'Forward Leeds',
              },
              { kind: 'probation', startsAt: inDays(22), location: 'Leeds PDU', agencyName: 'Leeds PDU' },
            ],
          },
        });
        expect(planned.status).toBe(200);
      }, 90_000);

      it('delivers a missed appointment to the pathway, which opens its follow-up', async () => {
        const probation = await appointmentOf('probation');
        await waitingFor(probation);
        const res = await outcomeOf(clinician(), probation, { outcome: 'missed', reason: 'did not arrive' });
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({
          changed: true,
          appointment: { status: 'missed' },
          workflow: {
            outcome: 'delivered',
            message: { messageName: 'appointment.probation.missed', outcome: 'correlated' },
          },
        });
        const followUp = await taskOf(engine, caseId, 'FollowUpProbationMissed');
        expect(followUp.status).toBe('open');
        // The pathway's own "record missed" step found it recorded: one row for the outcome, the API's.
        const rows = await knex()('appointment_status_changes')
          .where({ appointment_id: probation })
          .orderBy('changed_at')
          .select<{ to_status: string; changed_by: string }[]>('to_status', 'changed_by');
        expect(rows.map((r) => r.to_status)).toEqual(['booked', 'missed']);
      });

      it('delivers attendance, after which the pathway no longer waits for that appointment', async () => {
        const sms = await appointmentOf('community-substance-misuse');
        await waitingFor(sms);
        const res = await outcomeOf(clinician(), sms, { outcome: 'attended' });
        expect(res.body).toMatchObject({
          appointment: { status: 'attended' },
          workflow: {
            outcome: 'delivered',
            message: { messageName: 'appointment.community-substance-misuse.attended' },
          },
        });
        await eventually(
          'the pathway moved past the appointment',
          async () =>
            ((await as(clinician(), 'get', `/api/v1/cases/${caseId}`)).body.waitingFor ?? []) as {
              correlationKey: string;
            }[],
          (subs) => !subs.some((s) => s.correlationKey === sms),
          { timeoutMs: 30_000, intervalMs: 100 },
        );
        const timeline = await as(clinician(), 'get', `/api/v1/cases/${caseId}/timeline?kind=appointment`);
        expect((timeline.body.items as { kind: string }[]).map((e) => e.kind)).toEqual(
          expect.arrayContaining(['appointment.booked', 'appointment.missed', 'appointment.attended']),
        );
        const late = await outcomeOf(clinician(), sms, { outcome: 'missed' });
        expect(late.body).toMatchObject({ changed: true, workflow: { outcome: 'not-awaited' } });
      });
    });
  });

  describe('contacts and their consent', () => {
    const sister = {
      kind: 'family_member',
      name: 'Maria Smith',
      relationship: 'sister',
      channel: 'sms',
      phone: '07700 900123',
    };
    const probation = {
      kind: 'agency',
      name: 'Leeds PDU',
      organisation: 'Probation Service, Leeds',
      relationship: 'probation practitioner',
      channel: 'letter',
      address: { lines: ['1 Probation Row', 'Leeds'], postcode: 'LS1 4AB' },
    };
    const add = (who: string, nhsNumber: string, body: unknown) =>
      as(who, 'post', `/api/v1/patients/${nhsNumber}/contacts`, body);
    const consent = (who: string, nhsNumber: string, contactId: string, body: unknown) =>
      as(who, 'post', `/api/v1/patients/${nhsNumber}/contacts/${contactId}/consent`, body);

    it('adds a contact, records consent given then withdrawn as events, and shows the latest', async () => {
      const added = await add(clinician(), NHS.own, sister);
      expect(added.status).toBe(201);
      expect(added.body).toMatchObject({ ...sister, consent: { status: 'not_recorded' }, consentHistory: [] });
      const contactId = added.body.contactId as string;
      expect(await auditOf(added)).toEqual([
        expect.objectContaining({ operation: 'contact.create', entity_id: contactId, setting_ods_code: own }),
      ]);
      const given = await consent(clinician(), NHS.own, contactId, {
        status: 'given',
        decidedAt: '2026-11-01T10:00:00Z',
        note: 'asked at reception',
      });
      expect(given.status).toBe(200);
      expect(given.body.consent).toMatchObject({ status: 'given', decidedAt: '2026-11-01T10:00:00.000Z' });
      const withdrawn = await consent(subjectOf('team-lead'), NHS.own, contactId, {
        status: 'withdrawn',
        decidedAt: '2026-11-20T10:00:00Z',
      });
      expect(withdrawn.body.consent.status).toBe('withdrawn');
      const history = withdrawn.body.consentHistory as { status: string }[];
      expect(history.map((e) => e.status)).toEqual(['given', 'withdrawn']);
      expect(await auditOf(withdrawn)).toEqual([
        expect.objectContaining({ operation: 'contact.consent', actor_subject: subjectOf('team-lead') }),
      ]);
      // A decision recorded late, but made before the withdrawal, does not undo it.
      const late = await consent(clinician(), NHS.own, contactId, {
        status: 'given',
        decidedAt: '2026-11-10T10:00:00Z',
      });
      expect(late.body.consent.status).toBe('withdrawn');
      const events = knex()('contact_consent_events').where({ contact_id: contactId });
      expect(await events.clone().count<{ n: string }[]>({ n: '*' })).toEqual([{ n: '3' }]);
      await expect(events.clone().update({ status: 'given' })).rejects.toThrow('append-only');
      await expect(events.clone().delete()).rejects.toThrow('append-only');
      await add(clinician(), NHS.own, probation);
      const listed = await as(clinician(), 'get', `/api/v1/patients/${NHS.own}/contacts`);
      expect(listed.status).toBe(200);
      expect(listed.body.items).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ contactId, consent: expect.objectContaining({ status: 'withdrawn' }) }),
          expect.objectContaining({
            name: 'Leeds PDU',
            address: probation.address,
            consent: { status: 'not_recorded', decidedAt: null, recordedBy: null },
          }),
        ]),
      );
      expect(await auditOf(listed)).toEqual([expect.objectContaining({ operation: 'contact.list' })]);
    });

    it('never shows a restricted record’s contact details, to anyone, though it keeps them', async () => {
      const added = await add(clinician(), NHS.restricted, { ...sister, name: 'Rosa Hidden' });
      expect(added.status).toBe(201);
      const withEmail = await add(clinician(), NHS.restricted, {
        ...probation,
        channel: 'email',
        email: 'pdu@probation.example',
      });
      expect(withEmail.status).toBe(201);
      const given = await consent(clinician(), NHS.restricted, added.body.contactId, {
        status: 'given',
        decidedAt: '2026-11-01T10:00:00Z',
      });
      for (const res of [
        added,
        withEmail,
        given,
        await as(clinician(), 'get', `/api/v1/patients/${NHS.restricted}/contacts`),
        await as(subjectOf('team-lead'), 'get', `/api/v1/patients/${NHS.restricted}/contacts`),
      ]) {
        expect(res.status).toBeLessThan(300);
        expect(res.text).not.toContain('07700 900123');
        expect(res.text).not.toContain('pdu@probation.example');
        expect(res.text).not.toContain('1 Probation Row');
        expect(res.text).not.toContain('LS1 4AB');
      }
      const listed = await as(clinician(), 'get', `/api/v1/patients/${NHS.restricted}/contacts`);
      expect(listed.body.items).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ name: 'Rosa Hidden', consent: expect.objectContaining({ status: 'given' }) }),
        ]),
      );
      const kept = await knex()('contacts').where({ id: added.body.contactId }).first<{ phone: string }>('phone');
      expect(kept.phone).toBe('07700 900123');
    });

    it('answers 404 for another setting’s person or another person’s contact, 403 for ops', async () => {
      const theirs = await add(otherClinician(), NHS.other, sister);
      expect(theirs.status).toBe(201);
      expect((await as(clinician(), 'get', `/api/v1/patients/${NHS.other}/contacts`)).status).toBe(404);
      expect((await add(clinician(), NHS.other, sister)).status).toBe(404);
      const decision = { status: 'given', decidedAt: '2026-11-01T10:00:00Z' };
      expect((await consent(clinician(), NHS.other, theirs.body.contactId, decision)).status).toBe(404);
      expect((await consent(clinician(), NHS.own, theirs.body.contactId, decision)).status).toBe(404);
      expect((await as(ops(), 'get', `/api/v1/patients/${NHS.own}/contacts`)).status).toBe(403);
      expect((await add(ops(), NHS.own, sister)).status).toBe(403);
    });

    it('names each bad field by JSON Pointer', async () => {
      const noAddress = await add(clinician(), NHS.own, { ...sister, phone: undefined, channel: 'sms', extra: 1 });
      expect(noAddress.status).toBe(400);
      expect(noAddress.type).toBe('application/problem+json');
      expect(pointers(noAddress)).toEqual(['/extra', '/phone']);
      const bad = await add(clinician(), NHS.own, {
        kind: 'friend',
        name: '',
        channel: 'email',
        email: 'not an email',
        address: { lines: [], postcode: 'nowhere' },
      });
      expect(pointers(bad)).toEqual([
        '/address/lines',
        '/address/postcode',
        '/email',
        '/kind',
        '/name',
        '/relationship',
      ]);
      const contactId = (await add(clinician(), NHS.own, sister)).body.contactId as string;
      const future = await consent(clinician(), NHS.own, contactId, {
        status: 'given',
        decidedAt: '2999-01-01T00:00:00Z',
      });
      expect(pointers(future)).toEqual(['/decidedAt']);
      const wrong = await consent(clinician(), NHS.own, 'nope', { status: 'maybe' });
      expect(pointers(wrong)).toEqual(['/decidedAt', '/path/contactId', '/status']);
      expect(pointers(await as(clinician(), 'get', '/api/v1/patients/9434765006/contacts'))).toEqual([
        '/path/nhsNumber',
      ]);
    });
  });
});
