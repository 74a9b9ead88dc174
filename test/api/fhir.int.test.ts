/**
 * /fhir/R4 through real HTTP (supertest on the Express app), signed in with real bearer JWTs (jose, verified by
 * createBearerAuth against the staff directory), on a real PostgreSQL and the embedded Temporal server with the
 * real activities: each resource read and searched by each parameter, Bundle paging, scoping (another setting's
 * records absent or not found, a handed-over case's shown), a restricted record without address or telecom, ops
 * without clinical content, commissioners and admins refused, an audit event per resource returned, the
 * CapabilityStatement agreeing with the routes, and problem+json for malformed searches.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Bundle, CapabilityStatement, Resource, Task } from 'fhir/r4';
import fc from 'fast-check';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair, type KeyLike } from 'jose';
import request from 'supertest';
import type { Express, RequestHandler } from 'express';
import { createApp } from '../../api';
import { createBearerAuth } from '../../api/auth/bearer';
import type { Role } from '../../api/auth/principal';
import { fhirOperationsRouter } from '../../api/fhir/router';
import { addStaff, type CaseEngine } from '../../engine';
import { silentLogger } from '../../log';
import { Readiness } from '../../runtime/readiness';
import type { Store } from '../../store';
import { startTemporalServer, type TemporalServer } from '../../temporal-server';
import { WORKFLOWS_PATH } from '../../worker';
import { useFreshDatabase } from '../support/database';
import { installQuietRuntime } from '../support/sdk-runtime';
import { formClock, prepareStore, realActivities, taskOf } from '../engine/task-completion-support';
import { routesOf } from './routes-of';
import { CASE_SEARCH_ATTRIBUTES } from '../../worker/case-search-attributes';

const TASK_QUEUE = 'api-fhir';
const ISSUER = 'https://issuer.test';
const AUDIENCE = 'throughcare-api';
const OTHER = 'TFHIR2';
const ROLES: Role[] = ['clinician', 'team-lead', 'commissioner', 'ops', 'admin'];
const TYPES = [
  'Patient',
  'EpisodeOfCare',
  'Task',
  'CarePlan',
  'Appointment',
  'Flag',
  'Communication',
  'AuditEvent',
] as const;
type FhirType = (typeof TYPES)[number];

const NHS = { own: '9434765005', other: '9434765013', restricted: '9434765021', handed: '9434765048' } as const;
type Person = keyof typeof NHS;
const PEOPLE: Person[] = ['own', 'other', 'restricted', 'handed'];
const SECRET_GOAL = 'SECRET-GOAL-41c';
const ADDRESS = '1 Hidden Road';
const PHONE = '07700 900123';
const HIDDEN_PLACE = '3 Secret Lane';
const FAMILY = 'Mary Mother';

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');
const entries = (res: request.Response) => ((res.body as Bundle).entry ?? []).map((e) => e.resource as Resource);
const ids = (res: request.Response) => entries(res).map((r) => r.id);
const pointers = (res: request.Response): string[] =>
  ((res.body as { errors?: { pointer: string }[] }).errors ?? []).map((e) => e.pointer).sort();

describe('/fhir/R4', () => {
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
  let authenticate: RequestHandler;
  const tokens = new Map<string, string>();
  const cases = {} as Record<Person, string>;
  const patients = {} as Record<Person, string>;
  const tasks = {} as Record<Person, string>;
  const carePlans = {} as Record<'own' | 'other', string>;
  const appointments = {} as Record<'own' | 'restricted' | 'other', string>;
  const alerts = {} as Record<'own' | 'other', string>;
  const notifications = {} as Record<'own' | 'restricted', string>;
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await nativeConnection?.close();
    await connection?.close();
    await server?.stop();
    await store?.close();
  }, 60_000);
  const db = useFreshDatabase('api_fhir');

  const knex = () => store.orm.em.getConnection().getKnex();
  const subjectOf = (role: Role, setting = 'own') => `${role}-${setting}@staff.test`;
  const clinician = () => subjectOf('clinician');

  async function makeToken(subject: string): Promise<string> {
    return new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'test-key' })
      .setSubject(subject)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('30m')
      .sign(privateKey);
  }

  /** A GET signed in as `subject`, with a known request id. */
  function get(subject: string, path: string, requestId: string = randomUUID()) {
    const token = tokens.get(subject);
    if (!token) throw new Error(`no token for ${subject}`);
    return request(app).get(path).set('Authorization', `Bearer ${token}`).set('X-Request-ID', requestId);
  }

  async function search(subject: string, type: FhirType, query = '') {
    const res = await get(subject, `/fhir/R4/${type}${query ? `?${query}` : ''}`);
    expect({ status: res.status, body: res.status === 200 ? 'ok' : res.body }).toEqual({ status: 200, body: 'ok' });
    expect(res.type).toBe('application/fhir+json');
    expect(res.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset' });
    return res;
  }

  beforeAll(async () => {
    installQuietRuntime();
    ({ store, settingOdsCode: own } = await prepareStore(db.url));
    await knex()('settings').insert({
      id: randomUUID(),
      ods_code: OTHER,
      name: 'Other custody',
      kind: 'custody_suite',
    });
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
    for (const subject of [...ROLES.map((role) => subjectOf(role)), subjectOf('clinician', 'other')])
      tokens.set(subject, await makeToken(subject));
    const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'test-key', alg: 'ES256' }] });
    authenticate = createBearerAuth({ issuer: ISSUER, audience: AUDIENCE, jwks, store });
    app = createApp({
      readiness: new Readiness(),
      logger: silentLogger,
      api: () => ({ store, authenticate, engine: () => engine }),
    });
    for (const role of ROLES)
      await addStaff(store, {
        name: `${role} of own`,
        email: `${role}.own@staff.test`,
        duties: [],
        settings: [own],
        roles: [role],
        subject: subjectOf(role),
      });
    await addStaff(store, {
      name: 'clinician of other',
      email: 'clinician.other@staff.test',
      duties: [],
      settings: [OTHER],
      roles: ['clinician'],
      subject: subjectOf('clinician', 'other'),
    });

    const start = async (who: string, nhsNumber: string, setting: string, variables: Record<string, unknown>) => {
      const token = tokens.get(who)!;
      const res = await request(app)
        .post('/api/v1/cases')
        .set('Authorization', `Bearer ${token}`)
        .send({ pathway: 'TwoReviews', nhsNumber, settingOdsCode: setting, variables });
      expect(res.status).toBe(201);
      return res.body.caseId as string;
    };
    cases.own = await start(clinician(), NHS.own, own, {});
    cases.other = await start(subjectOf('clinician', 'other'), NHS.other, OTHER, {});
    cases.restricted = await start(clinician(), NHS.restricted, own, {});
    // Started in the other setting; the journey names ours for its prison stage: handed over to us.
    cases.handed = await start(subjectOf('clinician', 'other'), NHS.handed, OTHER, { prisonOdsCode: own });
    for (const person of PEOPLE) {
      patients[person] = (await knex()('patients').where({ nhs_number: NHS[person] }).first<{ id: string }>('id')).id;
      tasks[person] = (await taskOf(engine, cases[person], 'FirstReview')).taskId;
    }
    await knex()('patients')
      .where({ id: patients.restricted })
      .update({
        is_restricted: true,
        security_label: 'R',
        demographics: JSON.stringify({
          name: [{ use: 'usual', given: ['Rita'], family: 'Restricted' }],
          gender: 'female',
          birthDate: '1980-02-03',
          address: [{ line: [ADDRESS] }],
          telecom: [{ system: 'phone', value: PHONE }],
        }),
      });
    await knex()('patients')
      .where({ id: patients.own })
      .update({
        demographics: JSON.stringify({
          name: [{ use: 'usual', given: ['Thomas'], family: 'Brown' }],
          gender: 'male',
          birthDate: '1975-06-07',
          address: [{ line: ['2 Open Street'] }],
        }),
      });
    await knex()('worklist_tasks')
      .where({ id: tasks.own })
      .update({ due_at: new Date('2030-01-02T03:04:05Z') });

    const carePlan = (person: 'own' | 'other') => ({
      id: randomUUID(),
      patient_id: patients[person],
      case_id: cases[person],
      form_id: 'sms-care-plan',
      form_version: '1',
      data: JSON.stringify({
        agreedOn: '2026-01-05',
        goals: [{ goal: SECRET_GOAL, actions: 'Weekly key work', responsible: 'Keyworker', targetDate: '2026-03-01' }],
        treatmentPlan: 'psychosocial-only',
      }),
      submitted_by: clinician(),
    });
    for (const person of ['own', 'other'] as const) {
      const row = carePlan(person);
      carePlans[person] = row.id;
      await knex()('assessments').insert(row);
    }
    for (const person of ['own', 'restricted', 'other'] as const) {
      appointments[person] = randomUUID();
      await knex()('appointments').insert({
        id: appointments[person],
        patient_id: patients[person],
        case_id: cases[person],
        starts_at: new Date('2030-02-03T10:00:00Z'),
        location: HIDDEN_PLACE,
        agency: 'Probation Service, Leeds',
        booked_by: clinician(),
      });
    }
    for (const person of ['own', 'other'] as const) {
      alerts[person] = randomUUID();
      await knex()('alerts').insert({
        id: alerts[person],
        patient_id: patients[person],
        code: 'SH',
        code_system: 'local',
        display: 'Self-harm risk',
        severity: 'high',
        raised_by: clinician(),
      });
    }
    for (const person of ['own', 'restricted'] as const) {
      const contactId = randomUUID();
      await knex()('contacts').insert({
        id: contactId,
        patient_id: patients[person],
        kind: 'family_member',
        name: FAMILY,
        relationship: 'mother',
        channel: 'email',
        email: 'mary@family.test',
      });
      notifications[person] = `case-${cases[person]}/MissedAppointment/${contactId}`;
      await knex()('notification_outbox').insert({
        id: notifications[person],
        patient_id: patients[person],
        case_id: cases[person],
        contact_id: contactId,
        channel: 'email',
        template: 'missed-appointment',
        personalisation: JSON.stringify({ when: 'today' }),
        status: 'sent',
        sent_at: new Date(),
      });
    }
  }, 180_000);

  describe('metadata', () => {
    it('serves a CapabilityStatement without sign-in that lists exactly the resources and searches the router serves', async () => {
      const res = await request(app).get('/fhir/R4/metadata');
      expect(res.status).toBe(200);
      expect(res.type).toBe('application/fhir+json');
      const statement = res.body as CapabilityStatement;
      expect(statement).toMatchObject({ resourceType: 'CapabilityStatement', fhirVersion: '4.0.1', kind: 'instance' });
      const declared = statement.rest![0]!.resource!;
      expect(declared.map((r) => r.type).sort()).toEqual([...TYPES].sort());
      const served = routesOf(fhirOperationsRouter({ engine: () => undefined })).sort();
      expect(served).toEqual(declared.flatMap((r) => [`GET /${r.type}`, `GET /${r.type}/:id`]).sort());
      for (const r of declared) {
        expect(r.profile).toBe(`https://fhir.hl7.org.uk/StructureDefinition/UKCore-${r.type}`);
        expect(r.interaction!.map((i) => i.code).sort()).toEqual(['read', 'search-type']);
      }
    });

    it('takes every search parameter it declares, and refuses one it does not', async () => {
      const statement = (await request(app).get('/fhir/R4/metadata')).body as CapabilityStatement;
      const common = statement.rest![0]!.searchParam!.map((p) => p.name);
      expect(common.sort()).toEqual(['_count', '_cursor']);
      const sample = (type: string, name: string, documentation: string): string => {
        switch (name) {
          case '_id':
            return randomUUID();
          case 'identifier':
          case 'patient':
            return `https://fhir.nhs.uk/Id/nhs-number|${NHS.own}`;
          case 'status':
            return documentation.split(': ').pop()!.split(', ')[0]!;
          case '_lastUpdated':
            return 'ge2020-01-01';
          default:
            throw new Error(`no sample for ${type} ${name}`);
        }
      };
      for (const resource of statement.rest![0]!.resource!) {
        for (const param of resource.searchParam!) {
          const value = encodeURIComponent(sample(resource.type, param.name, param.documentation!));
          const res = await get(clinician(), `/fhir/R4/${resource.type}?${param.name}=${value}&_count=5`);
          expect({ type: resource.type, param: param.name, status: res.status }).toEqual({
            type: resource.type,
            param: param.name,
            status: 200,
          });
        }
        const unknown = ['_id', 'identifier', 'patient', 'status', '_lastUpdated'].filter(
          (name) => !resource.searchParam!.some((p) => p.name === name),
        );
        for (const name of [...unknown, 'bogus']) {
          const res = await get(clinician(), `/fhir/R4/${resource.type}?${name}=x`);
          expect({ type: resource.type, name, status: res.status, pointers: pointers(res) }).toEqual({
            type: resource.type,
            name,
            status: 400,
            pointers: [`/query/${name}`],
          });
        }
      }
    }, 60_000);
  });

  describe('Patient', () => {
    it('reads a person by id with the NHS number, name, birth date, gender and UK Core profile', async () => {
      const res = await get(clinician(), `/fhir/R4/Patient/${patients.own}`);
      expect(res.status).toBe(200);
      expect(res.type).toBe('application/fhir+json');
      expect(res.body).toMatchObject({
        resourceType: 'Patient',
        id: patients.own,
        meta: { profile: ['https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient'] },
        identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: NHS.own }],
        name: [{ given: ['Thomas'], family: 'Brown' }],
        gender: 'male',
        birthDate: '1975-06-07',
        address: [{ line: ['2 Open Street'] }],
      });
    });

    it('searches by identifier, _id and _lastUpdated, and never shows a restricted record’s address or telecom', async () => {
      const byNumber = await search(clinician(), 'Patient', `identifier=${NHS.restricted}`);
      expect(ids(byNumber)).toEqual([patients.restricted]);
      const restricted = entries(byNumber)[0]!;
      expect(restricted).toMatchObject({
        meta: { security: [{ code: 'R' }] },
        name: [{ family: 'Restricted' }],
        birthDate: '1980-02-03',
      });
      expect(restricted).not.toHaveProperty('address');
      expect(restricted).not.toHaveProperty('telecom');
      const read = await get(clinician(), `/fhir/R4/Patient/${patients.restricted}`);
      for (const res of [byNumber, read]) {
        expect(res.text).not.toContain(ADDRESS);
        expect(res.text).not.toContain(PHONE);
      }
      const byId = await search(clinician(), 'Patient', `_id=${patients.own},${patients.other}`);
      expect(ids(byId)).toEqual([patients.own]);
      const all = await search(clinician(), 'Patient', '_lastUpdated=ge2020-01-01&_lastUpdated=lt2999');
      expect(ids(all).sort()).toEqual([patients.own, patients.restricted, patients.handed].sort());
      expect((await search(clinician(), 'Patient', '_lastUpdated=gt2999-01-01')).body.total).toBe(0);
    });
  });

  describe('EpisodeOfCare', () => {
    it('shows a case as an episode of care managed by its setting, handed-over ones included, others absent', async () => {
      const res = await get(clinician(), `/fhir/R4/EpisodeOfCare/${cases.own}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        resourceType: 'EpisodeOfCare',
        id: cases.own,
        status: 'active',
        patient: { reference: `Patient/${patients.own}`, identifier: { value: NHS.own } },
        managingOrganization: { identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: own } },
        period: { start: expect.any(String) },
      });
      const mine = await search(clinician(), 'EpisodeOfCare', 'status=active&_count=200');
      expect(ids(mine).sort()).toEqual([cases.own, cases.restricted, cases.handed].sort());
      expect(mine.body.total).toBe(3);
      expect(ids(await search(clinician(), 'EpisodeOfCare', `patient=${NHS.handed}`))).toEqual([cases.handed]);
      expect(ids(await search(clinician(), 'EpisodeOfCare', `_id=${cases.own}`))).toEqual([cases.own]);
      expect(ids(await search(clinician(), 'EpisodeOfCare', 'status=finished'))).toEqual([]);
      expect(ids(await search(clinician(), 'EpisodeOfCare', `patient=${NHS.other}`))).toEqual([]);
      expect((await get(clinician(), `/fhir/R4/EpisodeOfCare/${cases.other}`)).status).toBe(404);
      const theirs = await search(subjectOf('clinician', 'other'), 'EpisodeOfCare');
      expect(ids(theirs).sort()).toEqual([cases.other, cases.handed].sort());
    });

    it('pages a search by cursor through the Bundle’s next link', async () => {
      const first = await search(clinician(), 'EpisodeOfCare', '_count=2');
      expect(entries(first)).toHaveLength(2);
      expect(first.body.total).toBe(3);
      const next = (first.body as Bundle).link!.find((l) => l.relation === 'next')!.url;
      const url = new URL(next);
      expect(url.pathname).toBe('/fhir/R4/EpisodeOfCare');
      const second = await search(clinician(), 'EpisodeOfCare', url.searchParams.toString());
      expect(entries(second)).toHaveLength(1);
      expect((second.body as Bundle).link!.map((l) => l.relation)).toEqual(['self']);
      expect([...ids(first), ...ids(second)].sort()).toEqual([cases.own, cases.restricted, cases.handed].sort());
    });
  });

  describe('Task', () => {
    it('shows a worklist task with its status, patient, episode, due date and form', async () => {
      const id = md5(tasks.own);
      const res = await get(clinician(), `/fhir/R4/Task/${id}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        resourceType: 'Task',
        id,
        identifier: [{ value: tasks.own }],
        status: 'requested',
        intent: 'order',
        for: { reference: `Patient/${patients.own}` },
        focus: { reference: `EpisodeOfCare/${cases.own}` },
        basedOn: [{ reference: `EpisodeOfCare/${cases.own}` }],
        executionPeriod: { start: expect.any(String) },
        restriction: { period: { end: '2030-01-02T03:04:05.000Z' } },
        input: [{ valueCanonical: '/api/v1/forms/sms-brief-intervention.schema.json' }],
      });
      const byPatient = await search(clinician(), 'Task', `patient=${NHS.own}&status=requested,in-progress`);
      expect(ids(byPatient)).toEqual([id]);
      expect(ids(await search(clinician(), 'Task', `patient=${NHS.own}&status=completed`))).toEqual([]);
      expect(ids(await search(clinician(), 'Task', `_id=${md5(tasks.handed)}`))).toEqual([md5(tasks.handed)]);
      expect(ids(await search(clinician(), 'Task', `_id=${md5(tasks.other)}`))).toEqual([]);
      expect((await get(clinician(), `/fhir/R4/Task/${md5(tasks.other)}`)).status).toBe(404);
    });
  });

  describe('CarePlan', () => {
    it('shows a care plan form as a CarePlan with its goals, to clinicians of the case’s settings', async () => {
      const res = await get(clinician(), `/fhir/R4/CarePlan/${carePlans.own}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        resourceType: 'CarePlan',
        status: 'active',
        intent: 'plan',
        title: 'Substance misuse care plan',
        description: 'Treatment plan: Psychosocial support only',
        subject: { identifier: { value: NHS.own } },
        period: { start: '2026-01-05' },
        contained: [{ resourceType: 'Goal', description: { text: SECRET_GOAL }, target: [{ dueDate: '2026-03-01' }] }],
        activity: [{ detail: { description: 'Weekly key work', performer: [{ display: 'Keyworker' }] } }],
      });
      expect(ids(await search(clinician(), 'CarePlan', `patient=${NHS.own}&status=active`))).toEqual([carePlans.own]);
      expect(ids(await search(clinician(), 'CarePlan', 'status=revoked'))).toEqual([]);
      expect(ids(await search(clinician(), 'CarePlan', `_id=${carePlans.other}`))).toEqual([]);
      expect((await get(clinician(), `/fhir/R4/CarePlan/${carePlans.other}`)).status).toBe(404);
    });

    it('shows a corrected care plan as revoked, replaced by its correction, the record itself unchanged', async () => {
      const correction = randomUUID();
      const before = await get(clinician(), `/fhir/R4/CarePlan/${carePlans.own}`);
      await knex()('assessments').insert({
        id: correction,
        patient_id: patients.own,
        case_id: cases.own,
        form_id: 'sms-care-plan',
        form_version: '1',
        data: JSON.stringify({ agreedOn: '2026-01-06', goals: [], treatmentPlan: 'no-treatment' }),
        submitted_by: clinician(),
        corrects_id: carePlans.own,
        correction_reason: 'wrong date',
      });
      const after = await get(clinician(), `/fhir/R4/CarePlan/${carePlans.own}`);
      expect(after.body).toMatchObject({ status: 'revoked' });
      expect(after.body.meta.lastUpdated > before.body.meta.lastUpdated).toBe(true);
      expect(ids(await search(clinician(), 'CarePlan', 'status=revoked'))).toEqual([carePlans.own]);
      const current = await search(clinician(), 'CarePlan', `patient=${NHS.own}&status=active`);
      expect(entries(current)).toEqual([
        expect.objectContaining({ id: correction, replaces: [{ reference: `CarePlan/${carePlans.own}` }] }),
      ]);
    });
  });

  describe('Appointment', () => {
    it('shows the diary, without where for a restricted record', async () => {
      const res = await search(clinician(), 'Appointment', `patient=${NHS.own}&status=booked`);
      expect(entries(res)).toEqual([
        expect.objectContaining({
          resourceType: 'Appointment',
          id: appointments.own,
          status: 'booked',
          start: '2030-02-03T10:00:00.000Z',
          participant: expect.arrayContaining([
            { actor: expect.objectContaining({ reference: `Patient/${patients.own}` }), status: 'accepted' },
            { actor: { type: 'Location', display: HIDDEN_PLACE }, status: 'accepted' },
          ]),
        }),
      ]);
      const restricted = await get(clinician(), `/fhir/R4/Appointment/${appointments.restricted}`);
      expect(restricted.status).toBe(200);
      expect(restricted.text).not.toContain(HIDDEN_PLACE);
      expect(ids(await search(clinician(), 'Appointment', 'status=noshow'))).toEqual([]);
      // Without a case, an appointment follows the person's settings.
      const unattached = { own: randomUUID(), other: randomUUID() };
      for (const person of ['own', 'other'] as const)
        await knex()('appointments').insert({
          id: unattached[person],
          patient_id: patients[person],
          starts_at: new Date('2030-03-03T10:00:00Z'),
          location: 'GP surgery',
          agency: 'GP',
          status: 'missed',
          booked_by: clinician(),
        });
      expect(ids(await search(clinician(), 'Appointment', 'status=noshow'))).toEqual([unattached.own]);
      expect(ids(await search(subjectOf('clinician', 'other'), 'Appointment', 'status=noshow'))).toEqual([
        unattached.other,
      ]);
      expect((await get(clinician(), `/fhir/R4/Appointment/${appointments.other}`)).status).toBe(404);
    });
  });

  describe('Flag', () => {
    it('shows a person’s alerts as flags, active or inactive', async () => {
      const res = await search(clinician(), 'Flag', `patient=${NHS.own}&status=active`);
      expect(entries(res)).toEqual([
        expect.objectContaining({
          resourceType: 'Flag',
          id: alerts.own,
          status: 'active',
          code: expect.objectContaining({ coding: [{ code: 'SH', display: 'Self-harm risk' }] }),
          subject: expect.objectContaining({
            identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: NHS.own },
          }),
        }),
      ]);
      expect(ids(await search(clinician(), 'Flag', 'status=inactive'))).toEqual([]);
      expect(ids(await search(clinician(), 'Flag'))).toEqual([alerts.own]);
      expect((await get(clinician(), `/fhir/R4/Flag/${alerts.other}`)).status).toBe(404);
    });
  });

  describe('Communication', () => {
    it('shows notifications sent, naming the family member only where contact details may be shown', async () => {
      const res = await get(clinician(), `/fhir/R4/Communication/${md5(notifications.own)}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        resourceType: 'Communication',
        status: 'completed',
        identifier: [{ value: notifications.own }],
        subject: { reference: `Patient/${patients.own}` },
        about: [{ reference: `EpisodeOfCare/${cases.own}` }],
        medium: [{ coding: [{ code: 'EMAILWRIT' }] }],
        topic: { text: 'missed-appointment' },
        recipient: [{ type: 'RelatedPerson', display: expect.stringContaining(FAMILY) }],
      });
      const restricted = await search(clinician(), 'Communication', `patient=${NHS.restricted}&status=completed`);
      expect(ids(restricted)).toEqual([md5(notifications.restricted)]);
      expect(restricted.text).not.toContain(FAMILY);
      expect(ids(await search(clinician(), 'Communication', 'status=preparation'))).toEqual([]);
    });
  });

  describe('AuditEvent', () => {
    it('shows who has looked at a person’s record, and the FHIR reads are in it', async () => {
      const requestId = `fhir-${randomUUID()}`;
      await get(subjectOf('team-lead'), `/fhir/R4/Patient/${patients.own}`, requestId);
      const res = await search(clinician(), 'AuditEvent', `patient=${NHS.own}&_count=200`);
      const event = entries(res).find((e) => JSON.stringify(e).includes(requestId)) as unknown as Record<
        string,
        unknown
      >;
      expect(event).toMatchObject({
        resourceType: 'AuditEvent',
        action: 'R',
        purposeOfEvent: [{ coding: [{ code: 'TREAT' }] }],
        agent: [{ who: { identifier: { value: subjectOf('team-lead') } }, role: [{ text: 'team-lead' }] }],
        source: { site: own },
        entity: [
          { what: { reference: `Patient/${patients.own}` } },
          { description: 'FHIR R4 Patient read', detail: [{ type: 'requestId', valueString: requestId }] },
        ],
      });
      expect((await get(clinician(), `/fhir/R4/AuditEvent/${event['id'] as string}`)).status).toBe(200);
      expect(ids(await search(clinician(), 'AuditEvent', `patient=${NHS.other}`))).toEqual([]);
    });
  });

  describe('roles', () => {
    it('shows ops case state without clinical content, and refuses them the person and the clinical record', async () => {
      const ops = subjectOf('ops');
      for (const type of ['EpisodeOfCare', 'Task', 'Appointment'] as const) {
        const res = await search(ops, type, '_count=200');
        expect(entries(res).length).toBeGreaterThan(0);
        expect(res.text).not.toContain(SECRET_GOAL);
        expect(res.text).not.toContain(HIDDEN_PLACE);
        expect(res.text).not.toContain(ADDRESS);
      }
      for (const type of ['Patient', 'CarePlan', 'Flag', 'Communication', 'AuditEvent'] as const) {
        const res = await get(ops, `/fhir/R4/${type}`);
        expect({ type, status: res.status }).toEqual({ type, status: 403 });
      }
      expect((await get(ops, `/fhir/R4/CarePlan/${carePlans.own}`)).status).toBe(403);
    });

    it('refuses commissioners and administrators everything identifiable', async () => {
      for (const role of ['commissioner', 'admin'] as const)
        for (const type of TYPES) {
          const searched = await get(subjectOf(role), `/fhir/R4/${type}`);
          const read = await get(subjectOf(role), `/fhir/R4/${type}/${cases.own}`);
          expect({ role, type, search: searched.status, read: read.status }).toEqual({
            role,
            type,
            search: 403,
            read: 403,
          });
          expect(searched.type).toBe('application/problem+json');
        }
    });
  });

  describe('audit', () => {
    it('writes one audit event per resource returned, with the purpose from the decision', async () => {
      for (const [who, purpose] of [
        [clinician(), 'TREAT'],
        [subjectOf('ops'), 'HOPERAT'],
      ] as const) {
        const requestId = randomUUID();
        const res = await get(who, '/fhir/R4/Task?_count=200', requestId);
        expect(res.status).toBe(200);
        const events = await knex()('audit_events')
          .where({ request_id: requestId })
          .select<Record<string, unknown>[]>();
        expect(events.map((e) => e['entity_id']).sort()).toEqual(
          entries(res)
            .map((t) => (t as Task).identifier![0]!.value)
            .sort(),
        );
        for (const event of events)
          expect(event).toMatchObject({
            actor_subject: who,
            action: 'read',
            operation: 'task.list',
            entity_type: 'WorklistTask',
            purpose,
            setting_ods_code: own,
            reason: 'FHIR R4 Task search',
            patient_id: expect.any(String),
          });
      }
      for (const type of TYPES) {
        const requestId = randomUUID();
        const res = await get(clinician(), `/fhir/R4/${type}?_count=200`, requestId);
        const count = await knex()('audit_events').where({ request_id: requestId }).count<{ count: string }[]>({
          count: '*',
        });
        expect({ type, audited: Number(count[0]!.count) }).toEqual({ type, audited: entries(res).length });
        expect(entries(res).length).toBeGreaterThan(0);
      }
    });
  });

  describe('problems', () => {
    it('answers 503 while starting, yet serves the CapabilityStatement, which holds nobody’s data', async () => {
      const starting = createApp({ readiness: new Readiness(), logger: silentLogger });
      const res = await request(starting)
        .get('/fhir/R4/Patient')
        .set('Authorization', `Bearer ${tokens.get(clinician())!}`);
      expect(res.status).toBe(503);
      expect(res.type).toBe('application/problem+json');
      expect((await request(starting).get('/fhir/R4/metadata')).status).toBe(200);
      const noEngine = createApp({
        readiness: new Readiness(),
        logger: silentLogger,
        api: () => ({ store, authenticate, engine: () => undefined }),
      });
      const withoutEngine = await request(noEngine)
        .get('/fhir/R4/Task')
        .set('Authorization', `Bearer ${tokens.get(clinician())!}`);
      expect(withoutEngine.status).toBe(503);
      expect(withoutEngine.type).toBe('application/problem+json');
    });

    it('answers 401 problem+json without a token', async () => {
      const res = await request(app).get('/fhir/R4/Patient');
      expect(res.status).toBe(401);
      expect(res.type).toBe('application/problem+json');
    });

    it('names each bad search parameter by JSON Pointer, never a 5xx', async () => {
      const who = clinician();
      const bad: [string, string[]][] = [
        ['/fhir/R4/Task?bogus=1&_count=0&status=lost', ['/query/_count', '/query/bogus', '/query/status']],
        ['/fhir/R4/Task?_lastUpdated=gx2020-01-01', ['/query/_lastUpdated']],
        ['/fhir/R4/Task?_lastUpdated=2024-02-30', ['/query/_lastUpdated']],
        ['/fhir/R4/Task?_lastUpdated=2024-01-01T10:00', ['/query/_lastUpdated']],
        ['/fhir/R4/Task?_lastUpdated=ge2020&_lastUpdated=le2030&_lastUpdated=eq2025', ['/query/_lastUpdated']],
        ['/fhir/R4/Task?patient=9434765006', ['/query/patient']],
        ['/fhir/R4/Task?patient=http://elsewhere|9434765005', ['/query/patient']],
        ['/fhir/R4/Task?patient:identifier=9434765005', ['/query/patient:identifier']],
        ['/fhir/R4/Task?_count=1&_count=2', ['/query/_count']],
        ['/fhir/R4/Task?_cursor=bm90LW91cnM', ['/query/_cursor']],
        [
          `/fhir/R4/Task?_cursor=${Buffer.from('["2024-02-30T00:00:00.000000Z","x"]').toString('base64url')}`,
          ['/query/_cursor'],
        ],
        [
          `/fhir/R4/CarePlan?_cursor=${Buffer.from('["2024-01-01T00:00:00.000000Z","x"]').toString('base64url')}`,
          ['/query/_cursor'],
        ],
        ['/fhir/R4/Task?_id=has%20space', ['/query/_id']],
        ['/fhir/R4/Task/has_underscore', ['/path/id']],
        [`/fhir/R4/Task/${md5(tasks.own)}?_count=1`, ['/query/_count']],
      ];
      for (const [path, expected] of bad) {
        const res = await get(who, path);
        expect({ path, status: res.status, pointers: pointers(res) }).toEqual({
          path,
          status: 400,
          pointers: expected,
        });
        expect(res.type).toBe('application/problem+json');
        expect(res.text).not.toMatch(/\bat .+\.(ts|js):\d+/);
      }
    });

    it('answers no 5xx to any query string or id, and every error is problem+json', async () => {
      const value = fc.oneof(
        fc.string({ unit: 'grapheme', maxLength: 40 }),
        fc.constantFrom('ge2020', 'lt2030-01-01T00:00:00Z', NHS.own, `https://fhir.nhs.uk/Id/nhs-number|${NHS.own}`),
        fc.constantFrom('active', 'requested,completed', '0', '201', '-1', 'bm90LW91cnM', ''),
      );
      const name = fc.oneof(
        fc.constantFrom('_id', 'patient', 'identifier', 'status', '_lastUpdated', '_count', '_cursor'),
        fc.string({ unit: 'grapheme', maxLength: 12 }),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...TYPES),
          fc.array(fc.tuple(name, value), { maxLength: 4 }),
          fc.option(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 70 })),
          async (type, params, id) => {
            const query = new URLSearchParams(params).toString();
            const path = `/fhir/R4/${type}${id === null ? '' : `/${encodeURIComponent(id)}`}${query ? `?${query}` : ''}`;
            const res = await get(clinician(), path);
            expect({ path, status: res.status < 500 }).toEqual({ path, status: true });
            if (res.status >= 400) expect(res.type).toBe('application/problem+json');
            else expect(res.type).toBe('application/fhir+json');
          },
        ),
        { numRuns: 400 },
      );
    }, 120_000);

    it('reads _lastUpdated as FHIR does: a span as long as its precision, with prefixes', async () => {
      const today = new Date().toISOString().slice(0, 10);
      const of = async (query: string) => ids(await search(clinician(), 'EpisodeOfCare', query)).length;
      expect(await of(`_lastUpdated=${today}`)).toBe(3);
      expect(await of(`_lastUpdated=eq${today.slice(0, 7)}`)).toBe(3);
      expect(await of(`_lastUpdated=gt${today}`)).toBe(0);
      expect(await of('_lastUpdated=gt9999-12-31')).toBe(0);
      expect(await of('_lastUpdated=ge0001&_lastUpdated=le9999')).toBe(3);
      expect(await of(`_lastUpdated=lt${today}`)).toBe(0);
      expect(await of(`_lastUpdated=le${today}T23:59:59Z`)).toBe(3);
      expect(await of(`_lastUpdated=ge${today}T00:00:00%2B14:00&_lastUpdated=lt2999`)).toBe(3);
    });
  });
});
