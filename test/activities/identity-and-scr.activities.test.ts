/**
 * The PDS and SCR service-task adapters in Temporal's activity environment against the real PostgreSQL and the
 * Spine sandbox behind a recorder: what the pathway is answered (never a failed case for an answer about the
 * person), what the record keeps (flags, re-keyed numbers, notes, audit events), what Spine is asked (nothing,
 * when the person's Spine calls are suspended) and how failures are classified (a Spine outage retried on the
 * SCR API's schedule, a malformed request not retried at all).
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { type RequestHandler } from 'express';
import { createActivities, createLocalInboxTransport, createSpineClient } from '../../activities';
import { createRecordActivities } from '../../activities/records';
import { silentLogger } from '../../log';
import { listPatientFlags } from '../../store';
import { type SpineSandboxAppOptions } from '../../spine-sandbox';
import { startRecordingSandbox, type RecordingSandbox } from '../spine/recording-sandbox';
import { useMigratedStore } from '../store/store-fixture';

const world = useMigratedStore('identity_tasks');
const CLINICIAN = { id: 'staff:test', role: 'clinician' };

let sandbox: RecordingSandbox;
let odsCode: string;
beforeAll(async () => {
  sandbox = await startRecordingSandbox();
  odsCode = `T${randomUUID().slice(0, 6).toUpperCase()}`;
  await knex()('settings').insert({
    id: randomUUID(),
    ods_code: odsCode,
    name: 'HMP Test',
    kind: 'prison',
    prison_type: 'HMP',
  });
});
afterAll(async () => {
  await sandbox.stop();
});

const knex = () => world.store.orm.em.getConnection().getKnex();

function activitiesOn(baseUrl = sandbox.baseUrl) {
  return createActivities({
    store: world.store,
    spine: createSpineClient({ baseUrl, retry: { maxAttempts: 1 } }),
    transport: createLocalInboxTransport({ store: world.store, logger: silentLogger }),
    logger: silentLogger,
  });
}

/** A Temporal activity context for the case's workflow; `attempt` and `maximumAttempts` as the server would give. */
function inWorkflow(caseId: string, attempt = 1, maximumAttempts = 3) {
  return new MockActivityEnvironment(
    {
      workflowExecution: { workflowId: `case-${caseId}`, runId: 'run-1' },
      attempt,
      retryPolicy: { maximumAttempts, initialInterval: 1000, backoffCoefficient: 2 },
    },
    { logger: new DefaultLogger('ERROR') },
  );
}

async function openCase(nhsNumber: string): Promise<{ caseId: string; patientId: string }> {
  const caseId = randomUUID();
  await createRecordActivities({ store: world.store, logger: silentLogger }).openCase({
    caseId,
    workflowId: `case-${caseId}`,
    nhsNumber,
    settingOdsCode: odsCode,
    pathwayId: 'sms-prison',
    pathwayVersion: 1,
    actor: CLINICIAN,
  });
  const row = await knex()('cases').where({ id: caseId }).first<{ patient_id: string }>('patient_id');
  return { caseId, patientId: row.patient_id };
}

function task(caseId: string, elementId: string, activityId: string, variables: Record<string, unknown>) {
  return { caseId, processId: 'sms-prison', elementId, activityId, headers: {}, variables: { caseId, ...variables } };
}

const lookUp = (caseId: string, nhsNumber: string, activityId = 'LookUpPerson#3') =>
  task(caseId, 'LookUpPerson', activityId, { nhsNumber });

const fetchScr = (
  caseId: string,
  nhsNumber: string,
  variables: Record<string, unknown> = {},
  activityId = 'FetchSummaryCareRecord#9',
) => task(caseId, 'FetchSummaryCareRecord', activityId, { nhsNumber, summaryCareRecordConsent: 'given', ...variables });

const flagsOf = async (patientId: string) =>
  (await listPatientFlags(world.store.fork(), { patientId })).map((f) => [f.code, f.severity]);

function notesOf(caseId: string, prefix: string) {
  return knex()('notes')
    .where({ case_id: caseId })
    .andWhere('body', 'like', `${prefix}%`)
    .orderBy('written_at')
    .pluck<string[]>('body');
}

function auditsOf(patientId: string, entityType: string, caseId?: string) {
  return knex()('audit_events')
    .where({ patient_id: patientId, entity_type: entityType, ...(caseId ? { request_id: `case-${caseId}` } : {}) })
    .orderBy('occurred_at')
    .select<{ action: string; reason: string | null; purpose: string | null }[]>('action', 'reason', 'purpose');
}

function spineRequestsFor(nhsNumber: string) {
  return sandbox.apiRequests().filter((r) => r.path.includes(nhsNumber));
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApplicationFailure) return error;
    throw error;
  }
  throw new Error('expected the activity to fail');
}

async function withSandbox<T>(
  options: SpineSandboxAppOptions,
  intercept: RequestHandler | undefined,
  body: (other: RecordingSandbox) => Promise<T>,
): Promise<T> {
  const other = await startRecordingSandbox(options, 0, intercept);
  try {
    return await body(other);
  } finally {
    await other.stop();
  }
}

describe('pds.lookupPatient', () => {
  it('answers a number PDS does not know as an unverified identity, flagged on the person once, without failing', async () => {
    const { caseId, patientId } = await openCase('9111231130');
    const activities = activitiesOn();
    const env = inWorkflow(caseId);

    const first = await env.run(activities['pds.lookupPatient'], lookUp(caseId, '9111231130'));
    const retry = await env.run(activities['pds.lookupPatient'], lookUp(caseId, '9111231130'));

    expect(retry).toEqual(first);
    expect(first).toEqual({
      nhsNumber: '9111231130',
      patient: {
        nhsNumber: '9111231130',
        patientId,
        identity: 'not-found',
        restricted: false,
        deceased: false,
        gpOdsCode: null,
        supersededNhsNumber: null,
        possibleDuplicateOf: null,
      },
    });
    expect(await flagsOf(patientId)).toEqual([['UNVERIFIED_IDENTITY', 'high']]);
    expect(await auditsOf(patientId, 'PatientFlag')).toEqual([
      { action: 'create', reason: 'PDS has no record of the number', purpose: null },
    ]);
  });

  it('flags an invalidated number and suspends the person’s Spine calls: later reads and the SCR answer without asking Spine', async () => {
    const { caseId, patientId } = await openCase('9000000076');
    const activities = activitiesOn();
    const env = inWorkflow(caseId);

    const first = await env.run(activities['pds.lookupPatient'], lookUp(caseId, '9000000076'));
    const asked = spineRequestsFor('9000000076').length;
    const later = await env.run(activities['pds.lookupPatient'], lookUp(caseId, '9000000076', 'LookUpPerson#40'));
    const scr = await env.run(activities['scr.fetchSummary'], fetchScr(caseId, '9000000076'));

    expect(first).toMatchObject({ patient: { identity: 'invalidated' } });
    expect(later).toMatchObject({ patient: { identity: 'invalidated' } });
    expect(scr).toEqual({ summaryId: null, summaryStatus: 'suspended' });
    expect(asked).toBe(1);
    expect(spineRequestsFor('9000000076')).toHaveLength(1);
    expect(await flagsOf(patientId)).toEqual([['INVALIDATED_NHS_NUMBER', 'high']]);
    expect(await notesOf(caseId, '[scr]')).toEqual([
      '[scr] Summary Care Record not fetched: PDS invalidated the NHS number, so Spine calls for this person are suspended until they are traced again.',
    ]);
  });

  it('re-keys a superseded number to the one that replaced it, keeping the old one, and answers the new number', async () => {
    const { caseId, patientId } = await openCase('9000000041');
    const activities = activitiesOn();
    const env = inWorkflow(caseId);

    const first = await env.run(activities['pds.lookupPatient'], lookUp(caseId, '9000000041'));
    const retry = await env.run(activities['pds.lookupPatient'], lookUp(caseId, '9000000041'));

    expect(first).toEqual({
      nhsNumber: '9000000068',
      patient: {
        nhsNumber: '9000000068',
        patientId,
        identity: 'verified',
        restricted: false,
        deceased: false,
        gpOdsCode: 'B86041',
        supersededNhsNumber: '9000000041',
        possibleDuplicateOf: null,
      },
    });
    expect(retry).toEqual(first);
    expect(await knex()('patients').where({ id: patientId }).first('nhs_number')).toEqual({ nhs_number: '9000000068' });
    expect(await knex()('patient_identifiers').where({ patient_id: patientId }).pluck('value')).toEqual(['9000000041']);
    const rekeys = (await auditsOf(patientId, 'Patient')).filter((a) => a.reason?.includes('re-keyed'));
    expect(rekeys).toEqual([
      {
        action: 'update',
        reason: 'NHS number re-keyed (superseded-on-pds); the former number is kept as an identifier',
        purpose: null,
      },
    ]);
    expect(await auditsOf(patientId, 'PatientIdentifier')).toEqual([
      { action: 'create', reason: 'former NHS number kept (superseded-on-pds)', purpose: null },
    ]);
    expect(await notesOf(caseId, '[identity]')).toEqual([
      "[identity] PDS answered NHS number 900 000 0041 with the record that superseded it: this person's record now uses 900 000 0068; the former number is kept.",
    ]);
    // a case started later with the old number is about the same person
    expect((await openCase('9000000041')).patientId).toBe(patientId);
  });

  it('flags a person PDS records as deceased, as a warning: the read goes on', async () => {
    const { caseId, patientId } = await openCase('9000000009');
    const answer = await inWorkflow(caseId).run(activitiesOn()['pds.lookupPatient'], lookUp(caseId, '9000000009'));

    expect(answer).toMatchObject({ patient: { identity: 'verified', deceased: true, restricted: false } });
    expect(await flagsOf(patientId)).toEqual([['DECEASED_ON_PDS', 'warning']]);
  });

  it('flags a restricted record on the person, whatever pathway reads it', async () => {
    const { caseId, patientId } = await openCase('9000000025');
    const answer = await inWorkflow(caseId).run(activitiesOn()['pds.lookupPatient'], lookUp(caseId, '9000000025'));

    expect(answer).toMatchObject({ patient: { identity: 'verified', restricted: true, gpOdsCode: null } });
    // (the sandbox's Janet Smythe is also recorded as deceased, as the public sandbox's patients are)
    expect(await flagsOf(patientId)).toEqual([
      ['RESTRICTED_RECORD', 'high'],
      ['DECEASED_ON_PDS', 'warning'],
    ]);
    expect(await knex()('patients').where({ id: patientId }).first('is_restricted')).toEqual({ is_restricted: true });
  });

  it('fails non-retryably when Spine rejects the read as malformed, for an incident', async () => {
    const { caseId } = await openCase('9000000033');
    await withSandbox(
      {},
      (req, res, next) => {
        if (!req.path.endsWith('/Patient/9000000033')) return next();
        res
          .status(400)
          .type('application/fhir+json')
          .json({ resourceType: 'OperationOutcome', issue: [{ code: 'value' }] });
      },
      async (other) => {
        const failure = await failureOf(
          inWorkflow(caseId).run(activitiesOn(other.baseUrl)['pds.lookupPatient'], lookUp(caseId, '9000000033')),
        );
        expect(failure).toMatchObject({ type: 'SPINE_BAD_REQUEST', nonRetryable: true });
      },
    );
  });
});

describe('pds.traceByDemographics', () => {
  it('re-opens with a note on no match, then records the unique match as the person’s number and settles the flag', async () => {
    const { caseId, patientId } = await openCase('9434765919');
    const activities = activitiesOn();
    const env = inWorkflow(caseId);
    await env.run(activities['pds.lookupPatient'], lookUp(caseId, '9434765919'));
    const trace = (activityId: string, details: Record<string, unknown>) =>
      task(caseId, 'TracePersonOnPds', activityId, { trace: details });

    const nobody = await env.run(
      activities['pds.traceByDemographics'],
      trace('TracePersonOnPds#7', { familyName: 'Smyth', birthDate: '1999-01-01' }),
    );
    const traced = await env.run(
      activities['pds.traceByDemographics'],
      trace('TracePersonOnPds#12', {
        familyName: 'Smyth',
        givenName: 'Jayne',
        birthDate: '2010-10-22',
        gender: 'female',
      }),
    );
    const retried = await env.run(
      activities['pds.traceByDemographics'],
      trace('TracePersonOnPds#12', {
        familyName: 'Smyth',
        givenName: 'Jayne',
        birthDate: '2010-10-22',
        gender: 'female',
      }),
    );

    expect(nobody).toEqual({ traceOutcome: 'no-match' });
    expect(traced).toMatchObject({
      traceOutcome: 'traced',
      nhsNumber: '9000000017',
      patient: { nhsNumber: '9000000017', patientId, identity: 'verified', possibleDuplicateOf: null },
    });
    expect(retried).toEqual(traced);
    expect(await knex()('patients').where({ id: patientId }).first('nhs_number')).toEqual({ nhs_number: '9000000017' });
    expect(await knex()('patient_identifiers').where({ patient_id: patientId }).first('value', 'reason')).toEqual({
      value: '9434765919',
      reason: 'traced-by-demographics',
    });
    // the sandbox's Jayne Smyth is recorded as deceased: that flag now follows the traced person
    const history = await listPatientFlags(world.store.fork(), { patientId }, { includeResolved: true });
    expect(history.map((f) => [f.code, f.status, f.resolutionReason])).toEqual([
      ['DECEASED_ON_PDS', 'active', null],
      ['UNVERIFIED_IDENTITY', 'resolved', 'traced by demographics'],
    ]);
    expect(await notesOf(caseId, '[identity]')).toEqual([
      '[identity] Trace by demographics found nobody on PDS: check the spelling and date of birth, or leave out the postcode and trace again.',
      "[identity] Traced on PDS by demographics: this person's record now uses NHS number 900 000 0017; the number it was opened with (943 476 5919) is kept as a former number.",
    ]);
  });

  it('says so when several people match', async () => {
    const { caseId } = await openCase('9111231130');
    const answer = await inWorkflow(caseId).run(
      activitiesOn()['pds.traceByDemographics'],
      task(caseId, 'TracePersonOnPds', 'TracePersonOnPds#3', { trace: { familyName: 'Sm*', birthDate: '2010-10-22' } }),
    );
    expect(answer).toEqual({ traceOutcome: 'too-many-matches' });
  });
});

describe('scr.fetchSummary', () => {
  async function summaryOf(nhsNumber: string, variables: Record<string, unknown> = {}) {
    const { caseId, patientId } = await openCase(nhsNumber);
    const answer = await inWorkflow(caseId).run(
      activitiesOn()['scr.fetchSummary'],
      fetchScr(caseId, nhsNumber, variables),
    );
    return { answer, caseId, patientId };
  }

  it('stores an available summary viewed with the person’s permission, audited as care', async () => {
    const { answer, caseId, patientId } = await summaryOf('9000000009');

    expect(answer).toMatchObject({
      summaryStatus: 'available',
      summaryId: expect.any(String),
      summaryAccess: 'permission',
    });
    expect(await auditsOf(patientId, 'SummaryCareRecord', caseId)).toEqual([
      { action: 'read', reason: "Summary Care Record fetched with the person's recorded permission", purpose: 'TREAT' },
    ]);
    expect(await notesOf(caseId, '[scr]')).toEqual([
      "[scr] Summary Care Record fetched with the person's permission: 2 allergies and 4 medications recorded.",
    ]);
  });

  it('fetches without recorded permission only under an emergency access reason, audited as emergency access', async () => {
    const reason = 'Unconscious on arrival; medicines not known';
    const { answer, caseId, patientId } = await summaryOf('9000000009', {
      summaryCareRecordConsent: 'not-asked',
      summaryCareRecordEmergencyReason: reason,
    });

    expect(answer).toMatchObject({ summaryStatus: 'available', summaryAccess: 'emergency-override' });
    expect(await auditsOf(patientId, 'SummaryCareRecord', caseId)).toEqual([
      {
        action: 'read',
        reason: `Summary Care Record fetched WITHOUT recorded permission under emergency access: ${reason}`,
        purpose: 'ETREAT',
      },
    ]);
    const stored = await knex()('assessments')
      .where({ id: (answer as { summaryId: string }).summaryId })
      .first('data');
    expect(stored.data).toMatchObject({ access: 'emergency-override', emergencyReason: reason });
    expect(await notesOf(caseId, '[scr]')).toEqual([
      '[scr] Summary Care Record fetched WITHOUT recorded permission, under emergency access: 2 allergies and 4 medications recorded.',
    ]);
  });

  it.each([
    ['9000000017', {}, 'opted-out', '[scr] The person has opted out of the Summary Care Record: it was not viewed.'],
    ['9000000025', {}, 'access-denied', '[scr] Spine access control refused the Summary Care Record (not retried).'],
    ['9000000033', {}, 'none', '[scr] No Summary Care Record exists for this person.'],
    [
      '9000000068',
      { summaryCareRecordConsent: 'declined' },
      'permission-not-recorded',
      "[scr] Summary Care Record not viewed: the person's permission is not recorded (they declined). Viewing it without permission needs an emergency access reason.",
    ],
  ])('answers %s with %j as the outcome %s, with a note on the case', async (nhsNumber, variables, status, note) => {
    const before = sandbox.apiRequests().length;
    const { answer, caseId } = await summaryOf(nhsNumber, variables);

    expect(answer).toEqual({ summaryId: null, summaryStatus: status });
    expect(await notesOf(caseId, '[scr]')).toEqual([note]);
    // no permission, no Spine call
    if (status === 'permission-not-recorded') expect(sandbox.apiRequests().length).toBe(before);
  });

  it('answers no-current-record when the latest summary is empty twice', async () => {
    await withSandbox(
      {},
      (req, res, next) => {
        if (!req.path.endsWith('/summary-care-record/FHIR/R4/Bundle')) return next();
        res.status(200).type('application/fhir+json').json({ resourceType: 'Bundle', type: 'searchset', total: 0 });
      },
      async (other) => {
        const { caseId } = await openCase('9000000009');
        const answer = await inWorkflow(caseId).run(
          activitiesOn(other.baseUrl)['scr.fetchSummary'],
          fetchScr(caseId, '9000000009'),
        );
        expect(answer).toEqual({ summaryId: null, summaryStatus: 'no-current-record' });
      },
    );
  });

  it('retries an outage on the SCR API’s growing schedule, and answers unavailable when the last attempt fails', async () => {
    await withSandbox(
      { transientFailure: { status: 503, times: 100, retryAfterSeconds: 5 } },
      undefined,
      async (other) => {
        const { caseId } = await openCase('9000000009');
        const activities = activitiesOn(other.baseUrl);
        const attempt = (n: number) =>
          inWorkflow(caseId, n, 8).run(activities['scr.fetchSummary'], fetchScr(caseId, '9000000009'));

        const delays = [];
        for (let n = 1; n <= 7; n++) {
          const failure = await failureOf(attempt(n));
          expect(failure).toMatchObject({ type: 'SPINE_UNAVAILABLE', nonRetryable: false });
          delays.push(failure.nextRetryDelay);
        }
        const last = await attempt(8);

        const minutes = 60_000;
        expect(delays).toEqual([1, 30, 60, 120, 240, 480, 960].map((m) => m * minutes));
        expect(last).toEqual({ summaryId: null, summaryStatus: 'unavailable' });
        expect(await notesOf(caseId, '[scr]')).toEqual([
          '[scr] Summary Care Record not fetched: Spine did not answer in 8 attempts over about 32 hours. Check it by other means.',
        ]);
      },
    );
  });

  it('fails non-retryably when Spine rejects the request as malformed, for an incident at once', async () => {
    await withSandbox(
      {},
      (req, res, next) => {
        if (!req.path.endsWith('/DocumentReference')) return next();
        res
          .status(400)
          .type('application/fhir+json')
          .json({ resourceType: 'OperationOutcome', issue: [{ code: 'value' }] });
      },
      async (other) => {
        const { caseId } = await openCase('9000000009');
        const failure = await failureOf(
          inWorkflow(caseId).run(activitiesOn(other.baseUrl)['scr.fetchSummary'], fetchScr(caseId, '9000000009')),
        );
        expect(failure).toMatchObject({ type: 'SPINE_BAD_REQUEST', nonRetryable: true });
      },
    );
  });
});
