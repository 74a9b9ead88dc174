/**
 * /api/v1/reports through real HTTP, signed in with real bearer JWTs against the staff directory, on a real
 * PostgreSQL with a world seeded in the record store (report-world.ts): who may ask for which report; a
 * commissioner's session reaches no identifiable row through any report, as JSON or CSV (no NHS number, patient or
 * case id, name or date of birth of anyone seeded in any answer); a team lead's lists of people are audited row by
 * row, CSV included; CSV by `?format=csv` or `Accept: text/csv`, with formulas neutralised; settings outside one's own
 * refused; every JSON answer valid by the OpenAPI document. Reports never call Temporal: it is never started here.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Express } from 'express';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair } from 'jose';
import request from 'supertest';
import { createApp } from '../../api';
import { createBearerAuth } from '../../api/auth/bearer';
import type { Role } from '../../api/auth/principal';
import { buildOpenApiDocument } from '../../api/v1/openapi';
import { REPORT_ROUTES } from '../../api/v1/reports.routes';
import { addStaff, type CaseEngine } from '../../engine';
import { silentLogger } from '../../log';
import { Readiness } from '../../runtime/readiness';
import type { Store } from '../../store';
import { useMigratedStore } from '../store/store-fixture';
import { ReportWorld, topAnswers, type SeededCase } from './report-world';

const ISSUER = 'https://issuer.test';
const AUDIENCE = 'throughcare-api';
const PRISON = 'TRAP01';
const SECOND = 'TRAQ01';
const ELSEWHERE = 'TRAR01';

const PEOPLE: Record<string, { roles: Role[]; settings: string[] }> = {
  lead: { roles: ['team-lead'], settings: [PRISON, SECOND] },
  commissioner: { roles: ['commissioner'], settings: [PRISON, SECOND] },
  clinician: { roles: ['clinician'], settings: [PRISON] },
  ops: { roles: ['ops'], settings: [PRISON] },
  admin: { roles: ['admin'], settings: [PRISON] },
  nowhere: { roles: ['commissioner'], settings: [ELSEWHERE] },
};
type Person = keyof typeof PEOPLE;

const DAY = 86_400_000;
const HIDDEN = { value: null, suppressed: true };
/** An instant `days` from now (negative: ago). */
const fromNow = (days: number) => new Date(Date.now() + days * DAY).toISOString();
const dateFromNow = (days: number) => fromNow(days).slice(0, 10);
const lastMonth = (() => {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 15)).toISOString().slice(0, 7);
})();
const RANGE = `from=${dateFromNow(-80)}&to=${dateFromNow(0)}`;

/** A query for each report that finds what the world holds. */
const QUERY: Record<string, string> = {
  getCaseloadReport: 'by=keyworker',
  getUpcomingReviewsReport: '',
  getOverdueMilestonesReport: '',
  getWeeklyActivityReport: RANGE,
  getReleaseContinuityReport: RANGE,
  getMissedAppointmentsReport: RANGE,
  getMilestoneComplianceReport: RANGE,
  getBriefInterventionsReport: RANGE,
  getTopChangeReport: RANGE,
  getSnomedOutcomesReport: RANGE,
  getNdtmsExtract: `month=${lastMonth}`,
};

describe('/api/v1/reports', () => {
  const db = useMigratedStore('api_reports');
  let store: Store;
  let connection: Connection;
  let app: Express;
  const tokens = new Map<string, string>();
  const knex = () => store.orm.em.getConnection().getKnex();
  const people: SeededCase[] = [];
  /** What must never reach a commissioner: every seeded person's identifiers, name and date of birth. */
  const identifying: string[] = [];

  function as(who: Person, path: string, accept?: string) {
    const req = request(app)
      .get(`/api/v1${path}`)
      .set('Authorization', `Bearer ${tokens.get(who)!}`)
      .set('X-Request-ID', randomUUID());
    return accept ? req.set('Accept', accept) : req;
  }
  const pathOf = (operationId: string, extra = '') => {
    const route = REPORT_ROUTES.find((r) => r.operationId === operationId)!;
    const query = [QUERY[operationId], extra].filter(Boolean).join('&');
    return `${route.path}${query ? `?${query}` : ''}`;
  };

  beforeAll(async () => {
    store = db.store;
    const world = new ReportWorld(knex());
    await world.setting(PRISON, 'HMP Api');
    await world.setting(SECOND, 'HMP Api Second');
    await world.setting(ELSEWHERE, 'HMP Elsewhere');
    await world.staff('keyworker@reports.test', 'Kim Keyworker');
    // Enough people in one setting that some figures are shown (5 or more) beside suppressed ones.
    for (let i = 0; i < 7; i++) {
      const surname = `Surname${i}x`;
      const person = await world.case({
        setting: i < 6 ? PRISON : SECOND,
        demographics: {
          name: [{ family: surname, given: [`Given${i}x`] }],
          birthDate: `1980-01-0${i + 1}`,
          gender: 'male',
        },
      });
      people.push(person);
      identifying.push(person.nhsNumber, person.patientId, person.caseId, surname, `Given${i}x`, `1980-01-0${i + 1}`);
      await world.task(person, {
        elementId: 'FiveDayReview',
        status: 'completed',
        dueAt: fromNow(-10),
        completedAt: fromNow(i < 5 ? -11 : -9),
      });
      await world.task(person, {
        elementId: 'TwentyEightDayReview',
        dueAt: fromNow(3),
        assignee: 'keyworker@reports.test',
      });
      await world.task(person, { elementId: 'TopAtStart', dueAt: fromNow(-2) });
      await world.assessment(
        person,
        'prison-reception-sms',
        { receptionAt: fromNow(-30), alcoholScreen: { decision: i < 6 ? 'hazardous' : 'negative' } },
        { submittedAt: fromNow(-30) },
      );
      await world.assessment(
        person,
        'sms-brief-intervention',
        { deliveredOn: dateFromNow(-20), outcome: i < 5 ? 'completed' : 'declined', interventionType: 'alcohol-brief' },
        { submittedAt: fromNow(-20), snomedCodes: i < 5 ? ['366371000000105'] : [] },
      );
      await world.assessment(person, 'top-secure-setting', topAnswers('start', dateFromNow(-40)), {
        submittedAt: fromNow(-40),
      });
      await world.assessment(person, 'top-secure-setting', topAnswers('review', dateFromNow(-5)), {
        submittedAt: fromNow(-5),
      });
      await world.assessment(
        person,
        'sms-referral',
        { referralDate: `${lastMonth}-01`, drug1: 'opiates', ndtmsConsent: i < 4 ? 'given' : 'declined' },
        { submittedAt: `${lastMonth}-01T10:00:00Z`, snomedCodes: ['201521000000104'] },
      );
      await world.assessment(person, 'release-plan', { releaseDate: dateFromNow(-15) }, { submittedAt: fromNow(-16) });
      await world.appointment(person, {
        startsAt: fromNow(-14),
        status: i < 5 ? 'attended' : 'missed',
        // What a spreadsheet would run, were it not neutralised.
        agency: i === 6 ? '=HYPERLINK("http://evil.example","GP")' : 'Leeds GP',
      });
    }

    connection = Connection.lazy({ address: '127.0.0.1:9' });
    const engine: CaseEngine = { store, client: new Client({ connection }), taskQueue: 'unused', logger: silentLogger };
    const keys = await generateKeyPair('ES256');
    const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'test-key', alg: 'ES256' }] });
    for (const [who, person] of Object.entries(PEOPLE)) {
      await addStaff(store, {
        name: `The ${who}`,
        email: `${who}@reports-api.test`,
        duties: [],
        settings: person.settings,
        roles: person.roles,
        subject: `${who}@reports-api.test`,
      });
      tokens.set(
        who,
        await new SignJWT({})
          .setProtectedHeader({ alg: 'ES256', kid: 'test-key' })
          .setSubject(`${who}@reports-api.test`)
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
  });

  it('lets each role ask only for its reports: team leads all, commissioners the outcomes, nobody else any', async () => {
    const allowed: Record<Person, readonly string[]> = {
      lead: ['report.operational', 'report.outcomes', 'report.extract'],
      commissioner: ['report.outcomes'],
      clinician: [],
      ops: [],
      admin: [],
      nowhere: ['report.outcomes'],
    };
    for (const who of Object.keys(PEOPLE))
      for (const route of REPORT_ROUTES) {
        const res = await as(who, pathOf(route.operationId));
        const expected = route.action && (allowed[who] ?? []).includes(route.action) ? 200 : 403;
        expect({ who, route: route.operationId, status: res.status }).toEqual({
          who,
          route: route.operationId,
          status: expected,
        });
        if (res.status === 403) expect(res.type).toBe('application/problem+json');
      }
  });

  it("reaches no identifiable row through any report or CSV in a commissioner's session", async () => {
    let figures = 0;
    for (const route of REPORT_ROUTES)
      for (const [how, path, accept] of [
        ['json', pathOf(route.operationId), undefined],
        ['csv', pathOf(route.operationId, 'format=csv'), undefined],
        ['accept', pathOf(route.operationId), 'text/csv'],
      ] as const) {
        const res = await as('commissioner', path, accept);
        if (route.action !== 'report.outcomes') {
          expect({ route: route.operationId, how, status: res.status }).toEqual({
            route: route.operationId,
            how,
            status: 403,
          });
          continue;
        }
        expect(res.status).toBe(200);
        const leaked = identifying.filter((value) => res.text.includes(value));
        expect({ route: route.operationId, how, leaked }).toEqual({ route: route.operationId, how, leaked: [] });
        expect(res.text).not.toMatch(/nhsNumber|patientId|caseId|NHS number/);
        if (how === 'json') figures += (res.body as { rows: unknown[] }).rows.length;
      }
    // The reports had something to show: the check is not passing on empty answers.
    expect(figures).toBeGreaterThan(10);
    // Suppressed as the rule says: 6 due in the prison (5 on time, 1 late) and 1 (late) in the second; the second's
    // small count hides the prison's 6 due beside it, the all-settings row's 2 late hides its 5 on time, and that the
    // prison's. Nobody's lateness can be told.
    const compliance = await as('commissioner', pathOf('getMilestoneComplianceReport'));
    const fiveDay = (compliance.body.rows as Record<string, unknown>[]).filter(
      (r) => r['elementId'] === 'FiveDayReview' && (r['due'] as { value: number | null }).value !== 0,
    );
    expect(fiveDay.map((r) => [r['settingOdsCode'], r['due'], r['doneOnTime'], r['doneLate'], r['notDone']])).toEqual([
      [PRISON, HIDDEN, HIDDEN, HIDDEN, { value: 0, suppressed: false }],
      [SECOND, HIDDEN, { value: 0, suppressed: false }, HIDDEN, { value: 0, suppressed: false }],
      [null, { value: 7, suppressed: false }, HIDDEN, HIDDEN, { value: 0, suppressed: false }],
    ]);
  });

  it('audits every person a team lead sees in a list, as JSON and as CSV', async () => {
    const requestId = randomUUID();
    const res = await request(app)
      .get(`/api/v1${pathOf('getUpcomingReviewsReport')}`)
      .set('Authorization', `Bearer ${tokens.get('lead')!}`)
      .set('X-Request-ID', requestId);
    expect(res.status).toBe(200);
    const rows = res.body.rows as { patientId: string; nhsNumber: string; taskId: string }[];
    expect(rows.map((r) => r.nhsNumber).sort()).toEqual(people.map((p) => p.nhsNumber).sort());
    const events = await knex()('audit_events').where({ request_id: requestId }).select<Record<string, unknown>[]>();
    expect(events.map((e) => e['patient_id']).sort()).toEqual(rows.map((r) => r.patientId).sort());
    for (const event of events)
      expect(event).toMatchObject({
        actor_subject: 'lead@reports-api.test',
        actor_role: 'team-lead',
        action: 'read',
        operation: 'report.operational',
        entity_type: 'WorklistTask',
        purpose: 'HOPERAT',
        reason: 'report upcoming-reviews',
      });
    expect(new Set(events.map((e) => e['setting_ods_code']))).toEqual(new Set([PRISON, SECOND]));

    const csvId = randomUUID();
    const csv = await request(app)
      .get(`/api/v1${pathOf('getNdtmsExtract', 'format=csv')}`)
      .set('Authorization', `Bearer ${tokens.get('lead')!}`)
      .set('X-Request-ID', csvId);
    expect(csv.status).toBe(200);
    const consented = people.slice(0, 4);
    for (const person of consented) expect(csv.text).toContain(person.nhsNumber);
    for (const person of people.slice(4)) expect(csv.text).not.toContain(person.nhsNumber);
    const csvEvents = await knex()('audit_events').where({ request_id: csvId }).select<Record<string, unknown>[]>();
    expect(csvEvents.map((e) => e['patient_id']).sort()).toEqual(consented.map((p) => p.patientId).sort());
    expect(csvEvents.every((e) => e['operation'] === 'report.extract')).toBe(true);
    const extract = await as('lead', pathOf('getNdtmsExtract'));
    expect(extract.body).toMatchObject({ month: lastMonth, excludedNoConsent: 3 });
  });

  it('answers CSV when asked, by the format or the Accept header, with formulas neutralised', async () => {
    const byFormat = await as('lead', pathOf('getMissedAppointmentsReport', 'format=csv'));
    expect(byFormat.status).toBe(200);
    expect(byFormat.headers['content-type']).toMatch(/^text\/csv; charset=utf-8/);
    const lines = byFormat.text.split('\r\n');
    expect(lines[0]).toBe(
      'Date,With,Kind,NHS number,Setting,Agencies and family told,Booked again,New appointment at (UTC),Was at (UTC),Case',
    );
    expect(byFormat.text).toContain(`"'=HYPERLINK(""http://evil.example"",""GP"")"`);
    expect(byFormat.text).not.toMatch(/(^|,)=HYPERLINK/m);
    const byAccept = await as('lead', pathOf('getCaseloadReport'), 'text/csv');
    expect(byAccept.headers['content-type']).toMatch(/^text\/csv/);
    expect(byAccept.text.split('\r\n')[0]).toBe(
      'Setting,ODS code,Keyworker,Keyworker sign-in,Cases with open tasks,Open tasks,Overdue tasks,Unassigned tasks',
    );
    expect(byAccept.text).toContain('Kim Keyworker');
    const json = await as('lead', pathOf('getCaseloadReport', 'format=json'), 'text/csv');
    expect(json.type).toBe('application/json');
  });

  it('refuses a setting one does not work in, and names each bad filter', async () => {
    const outside = await as('lead', pathOf('getCaseloadReport', `setting=${PRISON},${ELSEWHERE}`));
    expect(outside.status).toBe(403);
    expect(outside.body.detail).toMatch(/not a record of a setting you work in/);
    const one = await as('lead', pathOf('getUpcomingReviewsReport', `setting=${SECOND}`));
    expect(one.status).toBe(200);
    expect(new Set((one.body.rows as { settingOdsCode: string }[]).map((r) => r.settingOdsCode))).toEqual(
      new Set([SECOND]),
    );
    const bad = await as('lead', '/reports/weekly-activity?from=2026-02-30&to=yesterday&bogus=1&format=xml');
    expect(bad.status).toBe(400);
    expect((bad.body.errors as { pointer: string }[]).map((e) => e.pointer).sort()).toEqual([
      '/query/bogus',
      '/query/format',
      '/query/from',
      '/query/to',
    ]);
    const backwards = await as('lead', '/reports/weekly-activity?from=2026-10-02&to=2026-10-01');
    expect(backwards.status).toBe(400);
    expect(backwards.body.errors).toEqual([{ pointer: '/query/from', detail: 'must not be after to' }]);
    const window = await as('lead', '/reports/upcoming-reviews?within=14');
    expect(window.status).toBe(400);
    const month = await as('lead', '/reports/ndtms-extract?month=2026-13');
    expect(month.status).toBe(400);
    const notNow = await as('lead', '/reports/caseload?from=2026-01-01');
    expect((notNow.body.errors as { pointer: string }[]).map((e) => e.pointer)).toEqual(['/query/from']);
  });

  it('answers every report as its OpenAPI schema says', async () => {
    const document = buildOpenApiDocument() as { components: unknown };
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ $id: 'https://throughcare.test/doc', components: document.components });
    for (const route of REPORT_ROUTES) {
      const res = await as('lead', pathOf(route.operationId));
      const validate = ajv.getSchema(`https://throughcare.test/doc#/components/schemas/${route.success.schema!}`)!;
      const valid = validate(res.body);
      expect({ route: route.operationId, errors: validate.errors ?? [] }).toEqual({
        route: route.operationId,
        errors: [],
      });
      expect(valid).toBe(true);
    }
  });
});
