/**
 * The Spine sandbox's fault registry over real HTTP: each fault kind set through the control plane
 * (`/_sandbox/faults`), what the PDS and SCR endpoints then answer, and what the project's Spine client makes of it;
 * counts, durations, the wildcard, clearing, the control plane's validation, and `--faults FILE`.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createSpineClient, SpineError, type SpineClient } from '../../activities/spine';
import {
  FaultValidationError,
  startSpineSandbox,
  type ListedFault,
  type RunningSpineSandbox,
} from '../../spine-sandbox';
import { runCli } from '../support/cli-process';

const PDS = '/personal-demographics/FHIR/R4';
const SCR = '/summary-care-record/FHIR/R4';
const NHS = 'https://fhir.nhs.uk/Id/nhs-number|';
const BROWN_SCR_ID = '9E8D7C6B-6A11-11EF-9C3D-0800200C9A66';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are JSON each test reads into and asserts on
type Json = any;

let sandbox: RunningSpineSandbox;
let client: SpineClient;

beforeAll(async () => {
  sandbox = await startSpineSandbox({ port: 0 });
  client = createSpineClient({ baseUrl: sandbox.baseUrl, retry: { initialDelayMs: 10, maxDelayMs: 2_000 } });
});
afterAll(async () => {
  await sandbox.stop();
});
afterEach(() => {
  sandbox.clearFaults();
});

async function putFaults(nhsNumber: string, body: unknown) {
  const response = await fetch(`${sandbox.baseUrl}/_sandbox/faults/${nhsNumber}`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, type: response.headers.get('content-type'), body: (await response.json()) as Json };
}

/** Sets faults through the control plane, as a developer with curl would; fails the test if they are refused. */
async function setFaults(nhsNumber: string, body: unknown): Promise<void> {
  const { status, body: answer } = await putFaults(nhsNumber, body);
  if (status !== 200)
    throw new Error(`PUT /_sandbox/faults/${nhsNumber} answered ${status}: ${JSON.stringify(answer)}`);
}

async function get(pathAndQuery: string, requestId: string = randomUUID()) {
  const response = await fetch(`${sandbox.baseUrl}${pathAndQuery}`, { headers: { 'X-Request-ID': requestId } });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Json };
}

const pointerOf = (nhsNumber: string) => get(`${SCR}/DocumentReference?patient=${encodeURIComponent(NHS + nhsNumber)}`);
const bundleOf = (nhsNumber: string, scrId: string) =>
  get(
    `${SCR}/Bundle?${new URLSearchParams({
      'composition.identifier': scrId,
      'composition.subject:Patient.identifier': NHS + nhsNumber,
    }).toString()}`,
  );

function spineCode(body: Json): string | undefined {
  return body.issue?.[0]?.details?.coding?.[0]?.code;
}

/** How many requests each fault of a number has acted on. */
function usesOf(nhsNumber: string): number[] {
  return sandbox.listFaults(nhsNumber).map((listed) => listed.used);
}

async function failureOf(promise: Promise<unknown>): Promise<SpineError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SpineError) return error;
    throw error;
  }
  throw new Error('expected a SpineError, but the call succeeded');
}

describe('PDS record faults', () => {
  it('not-found answers 404 RESOURCE_NOT_FOUND, which the client reports as PDS_NOT_FOUND without retrying', async () => {
    await setFaults('9000000009', { kind: 'not-found' });

    const { status, body } = await get(`${PDS}/Patient/9000000009`);
    const error = await failureOf(client.getPatient('9000000009'));

    expect(status).toBe(404);
    expect(body.issue[0]).toMatchObject({ severity: 'information', code: 'not-found' });
    expect(spineCode(body)).toBe('RESOURCE_NOT_FOUND');
    expect(error).toMatchObject({ code: 'PDS_NOT_FOUND', retryable: false, status: 404 });
    expect(usesOf('9000000009')).toEqual([2]);
  });

  it('invalidated answers 404 INVALIDATED_RESOURCE, which the client reports as PDS_INVALIDATED', async () => {
    await setFaults('9000000068', { kind: 'invalidated' });

    const { status, body } = await get(`${PDS}/Patient/9000000068/RelatedPerson`);
    const error = await failureOf(client.getPatient('9000000068'));

    expect(status).toBe(404);
    expect(spineCode(body)).toBe('INVALIDATED_RESOURCE');
    expect(error).toMatchObject({ code: 'PDS_INVALIDATED', retryable: false });
  });

  it('superseded answers 200 with the record of a number the sandbox knows, and search stops returning the old one', async () => {
    await setFaults('9000000009', { kind: 'superseded', newNhsNumber: '9000000068' });

    const { status, headers, body } = await get(`${PDS}/Patient/9000000009`);
    const patient = await client.getPatient('9000000009');
    const search = await get(`${PDS}/Patient?family=Smith&gender=female&birthdate=eq2010-10-22`);

    expect(status).toBe(200);
    expect(body.id).toBe('9000000068');
    expect(headers.get('etag')).toMatch(/^W\/"\d+"$/);
    expect(patient).toMatchObject({ nhsNumber: '9000000068', supersededNhsNumber: '9000000009' });
    expect(patient.name?.family).toBe('Brown');
    expect(search.body.total).toBe(0);
  });

  it('superseded answers with the record the fault carries when the new number is not the sandbox’s', async () => {
    const record = {
      resourceType: 'Patient',
      id: '9434765919',
      name: [{ use: 'usual', given: ['Sam'], family: 'Walker' }],
      birthDate: '1990-01-01',
    };
    await setFaults('9000000017', { kind: 'superseded', newNhsNumber: '9434765919', record });

    const patient = await client.getPatient('9000000017');

    expect(patient).toMatchObject({
      nhsNumber: '9434765919',
      supersededNhsNumber: '9000000017',
      name: { given: ['Sam'], family: 'Walker' },
      versionId: '1',
    });
  });

  it('restricted withholds address, telecom and GP on read, empties related people, and hides it from postcode search', async () => {
    await setFaults('9000000068', { kind: 'restricted' });

    const { body } = await get(`${PDS}/Patient/9000000068`);
    const patient = await client.getPatient('9000000068');
    const related = await client.getRelatedPersons('9000000068');
    const byPostcode = await get(`${PDS}/Patient?family=Brown&birthdate=eq1985-03-14&address-postalcode=LS3%201LH`);
    const byName = await get(`${PDS}/Patient?family=Brown&birthdate=eq1985-03-14`);

    expect(body.meta.security).toEqual([
      { system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R', display: 'restricted' },
    ]);
    expect(body).not.toHaveProperty('address');
    expect(body).not.toHaveProperty('telecom');
    expect(body).not.toHaveProperty('generalPractitioner');
    expect(patient).toMatchObject({ nhsNumber: '9000000068', isRestricted: true, confidentiality: 'R' });
    expect(patient).not.toHaveProperty('address');
    expect(patient).not.toHaveProperty('gpOdsCode');
    expect(related).toEqual([]);
    expect(byPostcode.body.total).toBe(0);
    expect(byName.body.entry[0].resource).not.toHaveProperty('address');
  });

  it('deceased gives the record a deceasedDateTime and a formal death notification, in reads and search', async () => {
    await setFaults('9000000068', { kind: 'deceased', deceasedDateTime: '2025-01-02T03:04:05+00:00' });

    const patient = await client.getPatient('9000000068');
    const { body } = await get(`${PDS}/Patient/9000000068`);
    const search = await get(`${PDS}/Patient?family=Brown&birthdate=eq1985-03-14`);

    expect(patient.deceasedAt).toBe('2025-01-02T03:04:05+00:00');
    expect(JSON.stringify(body.extension)).toContain('"code":"2"');
    expect(search.body.entry[0].resource.deceasedDateTime).toBe('2025-01-02T03:04:05+00:00');
  });

  it('deceased defaults to the moment the fault was set', async () => {
    const before = Date.now();
    await setFaults('9000000068', { kind: 'deceased' });

    const patient = await client.getPatient('9000000068');

    expect(patient.deceasedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
    expect(Date.parse(patient.deceasedAt ?? '')).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
  });
});

describe('SCR faults', () => {
  it('opted-out labels the pointer No and refuses the content; the client reports opted-out without fetching it', async () => {
    await setFaults('9000000068', { kind: 'opted-out' });

    const pointer = await pointerOf('9000000068');
    const scrId = pointer.body.entry[0].resource.masterIdentifier.value as string;
    const content = await bundleOf('9000000068', scrId);
    const summary = await client.getSummaryCareRecord('9000000068');

    expect(pointer.body.entry[0].resource.securityLabel[0].coding[0].code).toBe('No');
    expect(content.status).toBe(420);
    expect(content.body.issue[0].details.text).toContain('PSIS-30418');
    expect(summary).toMatchObject({ status: 'opted-out', permission: 'No', allergies: [], medications: [] });
    expect(usesOf('9000000068')).toEqual([3]); // the raw pointer and content reads, then only the client's pointer
  });

  it('permission-not-recorded labels the pointer Ask, as the API does when Spine holds no view permission', async () => {
    await setFaults('9000000068', { kind: 'permission-not-recorded' });

    const pointer = await pointerOf('9000000068');
    const summary = await client.getSummaryCareRecord('9000000068');

    expect(pointer.body.entry[0].resource.securityLabel[0].coding[0]).toEqual({
      system: 'https://fhir.nhs.uk/CodeSystem/SCR-ACSPermission',
      code: 'Ask',
    });
    expect(summary).toMatchObject({ status: 'available', permission: 'Ask', scrId: BROWN_SCR_ID });
  });

  it('no-current-record keeps the pointer but answers its content empty; the client looks twice, then reports it', async () => {
    await setFaults('9000000009', { kind: 'no-current-record' });

    const pointer = await pointerOf('9000000009');
    const scrId = pointer.body.entry[0].resource.masterIdentifier.value as string;
    const content = await bundleOf('9000000009', scrId);
    const summary = await client.getSummaryCareRecord('9000000009');

    expect(scrId).toBe('FA60BE64-1F34-11EB-A2A8-000C29A364EB');
    expect(content).toMatchObject({ status: 200, body: { resourceType: 'Bundle', total: 0 } });
    expect(content.body).not.toHaveProperty('entry');
    expect(summary).toMatchObject({ status: 'no-current-record', allergies: [], medications: [] });
    expect(usesOf('9000000009')).toEqual([3]); // Bundle reads only: the raw one and the client's two rounds
  });

  it('stale-document points once at an SCR the Bundle endpoint no longer has; the next pointer is current', async () => {
    await setFaults('9000000068', { kind: 'stale-document' });

    const stale = await pointerOf('9000000068');
    const staleId = stale.body.entry[0].resource.masterIdentifier.value as string;
    const attachmentUrl = stale.body.entry[0].resource.content[0].attachment.url as string;
    const staleContent = await get(attachmentUrl.slice(sandbox.baseUrl.length));
    const current = await pointerOf('9000000068');

    expect(staleId).not.toBe(BROWN_SCR_ID);
    expect(staleId).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
    expect(staleContent).toMatchObject({ status: 200, body: { resourceType: 'Bundle', total: 0 } });
    expect(current.body.entry[0].resource.masterIdentifier.value).toBe(BROWN_SCR_ID);
  });

  it('stale-document: the client re-reads the pointer once and returns the current SCR', async () => {
    await setFaults('9000000068', { kind: 'stale-document' });

    const summary = await client.getSummaryCareRecord('9000000068');

    expect(summary).toMatchObject({ status: 'available', scrId: BROWN_SCR_ID });
    expect(summary.medications.length).toBeGreaterThan(0);
    expect(sandbox.listFaults('9000000068')[0]).toMatchObject({ used: 1, active: false });
  });

  it('stale-document twice running: the client stops after two rounds and reports no current record', async () => {
    await setFaults('9000000068', { kind: 'stale-document', times: 5 });

    const summary = await client.getSummaryCareRecord('9000000068');

    expect(summary).toMatchObject({ status: 'no-current-record' });
    expect(usesOf('9000000068')).toEqual([2]);
  });

  it('access-denied answers 403 forbidden with PSIS-30418 on pointer and content; the client reports SCR_ACCESS_DENIED', async () => {
    await setFaults('9000000009', { kind: 'access-denied' });

    const pointer = await pointerOf('9000000009');
    const content = await bundleOf('9000000009', 'FA60BE64-1F34-11EB-A2A8-000C29A364EB');
    const error = await failureOf(client.getSummaryCareRecord('9000000009'));

    for (const answer of [pointer, content]) {
      expect(answer.status).toBe(403);
      expect(answer.body).toEqual({
        resourceType: 'OperationOutcome',
        issue: [
          {
            severity: 'error',
            code: 'forbidden',
            details: {
              text: 'Code: 420, Display: Business condition related to access control  which prevents the action being performed by PSIS;Code: 30418, Display: [PSIS-30418] - ACF does not permit access to resource',
            },
          },
        ],
      });
    }
    expect(error).toMatchObject({ code: 'SCR_ACCESS_DENIED', retryable: false, status: 403 });
  });
});

describe('faults of either API', () => {
  it('rate-limited answers 429 TOO_MANY_REQUESTS with Retry-After; the client waits that long and retries the same id', async () => {
    await setFaults('9000000009', { kind: 'rate-limited', times: 1, retryAfterSeconds: 1, api: 'pds' });
    const raw = await get(`${PDS}/Patient/9000000009`);
    await setFaults('9000000009', { kind: 'rate-limited', times: 1, retryAfterSeconds: 1, api: 'pds' });

    const started = Date.now();
    const patient = await client.getPatient('9000000009');

    expect(raw.status).toBe(429);
    expect(raw.headers.get('retry-after')).toBe('1');
    expect(spineCode(raw.body)).toBe('TOO_MANY_REQUESTS');
    expect(patient.nhsNumber).toBe('9000000009');
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('rate-limited on SCR answers 429 with Retry-After as an OperationOutcome', async () => {
    await setFaults('9000000009', { kind: 'rate-limited', api: 'scr', retryAfterSeconds: 3 });

    const { status, headers, body } = await pointerOf('9000000009');

    expect(status).toBe(429);
    expect(headers.get('retry-after')).toBe('3');
    expect(body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'throttled' }] });
  });

  it('rate-limited with a Retry-After longer than the client waits comes back as SPINE_RATE_LIMITED with the delay', async () => {
    await setFaults('9000000009', { kind: 'rate-limited', retryAfterSeconds: 30 });

    const error = await failureOf(client.getSummaryCareRecord('9000000009'));

    expect(error).toMatchObject({ code: 'SPINE_RATE_LIMITED', retryable: true, status: 429, retryAfterMs: 30_000 });
    expect(usesOf('9000000009')).toEqual([1]);
  });

  it('unavailable for longer than the client retries ends in a retryable SPINE_UNAVAILABLE, each attempt with one id', async () => {
    await setFaults('9000000009', { kind: 'unavailable', api: 'pds' });

    const raw = await get(`${PDS}/Patient/9000000009`);
    const error = await failureOf(client.getPatient('9000000009'));

    expect(raw.status).toBe(503);
    expect(raw.headers.get('retry-after')).toBeNull();
    expect(spineCode(raw.body)).toBe('SERVICE_UNAVAILABLE');
    expect(error).toMatchObject({ code: 'SPINE_UNAVAILABLE', retryable: true, status: 503 });
    expect(usesOf('9000000009')).toEqual([4]); // one raw request, then the client's three attempts
  });

  it('unavailable on SCR answers 503 transient, with Retry-After when asked', async () => {
    await setFaults('9000000009', { kind: 'unavailable', api: 'scr', retryAfterSeconds: 7 });

    const { status, headers, body } = await pointerOf('9000000009');

    expect(status).toBe(503);
    expect(headers.get('retry-after')).toBe('7');
    expect(body.issue[0]).toEqual({
      severity: 'error',
      code: 'transient',
      details: { text: 'Code: 503, Display: Service Not Available' },
    });
  });

  it('unavailable for the first attempts of each request id: every call succeeds on its retry, with its own id', async () => {
    await setFaults('9000000009', { kind: 'unavailable', times: 1, per: 'request-id', retryAfterSeconds: 0 });

    await client.getPatient('9000000009');
    await client.getPatient('9000000009');

    expect(usesOf('9000000009')).toEqual([2]);
    expect(sandbox.listFaults('9000000009')[0]?.active).toBe(true);
  });

  it('slow delays the answer; a client with a shorter timeout reports a retryable SPINE_TIMEOUT', async () => {
    await setFaults('9000000009', { kind: 'slow', delayMs: 300 });
    const impatient = createSpineClient({
      baseUrl: sandbox.baseUrl,
      timeoutMs: 100,
      retry: { initialDelayMs: 10, maxAttempts: 2 },
    });

    const started = Date.now();
    const raw = await get(`${PDS}/Patient/9000000009`);
    const elapsed = Date.now() - started;
    const error = await failureOf(impatient.getPatient('9000000009'));

    expect(raw.status).toBe(200);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(error).toMatchObject({ code: 'SPINE_TIMEOUT', retryable: true });
  });

  it('malformed-request answers 400 INVALID_VALUE (PDS) and 400 value (SCR); the client reports SPINE_BAD_REQUEST', async () => {
    await setFaults('9000000009', { kind: 'malformed-request' });
    const requestId = randomUUID();

    const pds = await get(`${PDS}/Patient/9000000009`, requestId);
    const scr = await pointerOf('9000000009');
    const pdsError = await failureOf(client.getPatient('9000000009'));
    const scrError = await failureOf(client.getSummaryCareRecord('9000000009'));

    expect(pds.status).toBe(400);
    expect(pds.body.issue[0]).toMatchObject({
      code: 'value',
      diagnostics: `Invalid value - '${requestId}' in header 'X-Request-ID'`,
    });
    expect(spineCode(pds.body)).toBe('INVALID_VALUE');
    expect(scr.status).toBe(400);
    expect(scr.body.issue[0]).toEqual({
      severity: 'error',
      code: 'value',
      details: { text: `Invalid value - ${NHS}9000000009 in field 'patient'` },
    });
    expect(pdsError).toMatchObject({ code: 'SPINE_BAD_REQUEST', retryable: false, status: 400 });
    expect(scrError).toMatchObject({ code: 'SPINE_BAD_REQUEST', retryable: false, status: 400 });
  });
});

describe('counting, expiry, wildcard and clearing', () => {
  it('a fault with times acts on that many requests for its number, then the number answers as before', async () => {
    await setFaults('9000000009', { kind: 'not-found', times: 1 });

    const first = await get(`${PDS}/Patient/9000000009`);
    const second = await get(`${PDS}/Patient/9000000009`);

    expect([first.status, second.status]).toEqual([404, 200]);
    expect(sandbox.listFaults('9000000009')[0]).toMatchObject({ used: 1, active: false });
  });

  it('a fault with forSeconds expires that long after it was set', async () => {
    await setFaults('9000000009', { kind: 'unavailable', forSeconds: 0.5 });

    const during = await get(`${PDS}/Patient/9000000009`);
    await new Promise((resolve) => setTimeout(resolve, 600));
    const after = await get(`${PDS}/Patient/9000000009`);

    expect([during.status, after.status]).toEqual([503, 200]);
    expect(sandbox.listFaults('9000000009')[0]).toMatchObject({ active: false, expiresAt: expect.any(String) });
  });

  it('* acts on every number and on search, scoped to its API only', async () => {
    await setFaults('*', { kind: 'unavailable', api: 'pds' });

    const answers = await Promise.all([
      get(`${PDS}/Patient/9000000009`),
      get(`${PDS}/Patient/9111231130`),
      get(`${PDS}/Patient?family=Smith&birthdate=eq2010-10-22`),
      pointerOf('9000000009'),
    ]);

    expect(answers.map((a) => a.status)).toEqual([503, 503, 503, 200]);
  });

  it('* counts its times per number', async () => {
    await setFaults('*', { kind: 'not-found', times: 1 });

    const statuses = [];
    for (const nhsNumber of ['9000000009', '9000000009', '9000000068', '9000000068'])
      statuses.push((await get(`${PDS}/Patient/${nhsNumber}`)).status);

    expect(statuses).toEqual([404, 200, 404, 200]);
  });

  it('a number’s faults and *’s both act: failures answer first, and once spent the record faults show', async () => {
    await setFaults('9000000009', { kind: 'deceased', deceasedDateTime: '2025-02-03' });
    await setFaults('*', { kind: 'rate-limited', times: 1, retryAfterSeconds: 0 });

    const first = await get(`${PDS}/Patient/9000000009`);
    const patient = await client.getPatient('9000000009');

    expect(first.status).toBe(429);
    expect(patient.deceasedAt).toBe('2025-02-03');
  });

  it('a number takes a list of faults: the client retries past a rate limit and then reads the restricted record', async () => {
    await setFaults('9000000068', [{ kind: 'rate-limited', times: 2, retryAfterSeconds: 0 }, { kind: 'restricted' }]);

    const patient = await client.getPatient('9000000068');

    expect(patient.isRestricted).toBe(true);
    expect(usesOf('9000000068')).toEqual([2, 1]);
  });

  it('setting faults for a number replaces the ones it had', async () => {
    await setFaults('9000000009', { kind: 'not-found' });
    await setFaults('9000000009', { kind: 'restricted' });

    const { status } = await get(`${PDS}/Patient/9000000009`);

    expect(status).toBe(200);
    expect(sandbox.listFaults('9000000009').map((l) => l.fault.kind)).toEqual(['restricted']);
  });

  it('DELETE clears one number’s faults, or every fault', async () => {
    await setFaults('9000000009', { kind: 'not-found' });
    await setFaults('9000000068', { kind: 'not-found' });
    await setFaults('*', { kind: 'slow', delayMs: 1 });

    const one = await fetch(`${sandbox.baseUrl}/_sandbox/faults/9000000009`, { method: 'DELETE' });
    const afterOne = await get(`${PDS}/Patient/9000000009`);
    const listed = (await (await fetch(`${sandbox.baseUrl}/_sandbox/faults`)).json()) as { faults: ListedFault[] };
    const all = await fetch(`${sandbox.baseUrl}/_sandbox/faults`, { method: 'DELETE' });
    const afterAll = await get(`${PDS}/Patient/9000000068`);

    expect(one.status).toBe(204);
    expect(afterOne.status).toBe(200);
    expect(listed.faults.map((l) => l.nhsNumber)).toEqual(['9000000068', '*']);
    expect(all.status).toBe(204);
    expect(afterAll.status).toBe(200);
    expect(sandbox.listFaults()).toEqual([]);
  });

  it('PUT answers the number’s faults with defaults filled in; GET lists them', async () => {
    const { status, body } = await putFaults('9000000009', { kind: 'rate-limited', times: 2 });
    const listed = (await (await fetch(`${sandbox.baseUrl}/_sandbox/faults/9000000009`)).json()) as Json;

    expect(status).toBe(200);
    expect(body).toEqual({
      nhsNumber: '9000000009',
      faults: [
        {
          nhsNumber: '9000000009',
          fault: { kind: 'rate-limited', api: 'both', times: 2, per: 'number', retryAfterSeconds: 1 },
          setAt: expect.any(String),
          used: 0,
          active: true,
        },
      ],
    });
    expect(listed).toEqual(body);
  });
});

describe('the control plane refuses faults it cannot apply', () => {
  async function refusal(nhsNumber: string, body: unknown) {
    const answer = await putFaults(nhsNumber, body);
    expect(answer.status).toBe(400);
    expect(answer.type).toMatch(/^application\/problem\+json/);
    expect(answer.body).toMatchObject({
      type: 'https://throughcare.dev/problems/validation-failed',
      status: 400,
      instance: `/_sandbox/faults/${nhsNumber}`,
    });
    return answer.body.errors as Array<{ pointer?: string; parameter?: string; detail: string }>;
  }

  it('names an unknown kind and lists the known ones', async () => {
    const errors = await refusal('9000000009', { kind: 'on-fire' });

    expect(errors).toEqual([
      { pointer: '/kind', detail: expect.stringContaining('not-found, invalidated, superseded') },
    ]);
  });

  it('names a missing kind, a missing required property and a property the kind does not take', async () => {
    expect(await refusal('9000000009', { times: 1 })).toEqual([
      { pointer: '/kind', detail: 'is required for a fault' },
    ]);
    expect(await refusal('9000000009', { kind: 'slow' })).toEqual([
      { pointer: '/delayMs', detail: 'is required for a slow fault' },
    ]);
    expect(await refusal('9000000009', { kind: 'rate-limited', retryAfter: 5 })).toEqual([
      { pointer: '/retryAfter', detail: 'is not a property of a rate-limited fault' },
    ]);
  });

  it('names each value of the wrong type or range, all at once', async () => {
    const errors = await refusal('9000000009', {
      kind: 'unavailable',
      retryAfterSeconds: '5',
      times: 0,
      forSeconds: -1,
    });

    expect(errors).toEqual(
      expect.arrayContaining([
        { pointer: '/retryAfterSeconds', detail: 'must be integer' },
        { pointer: '/times', detail: 'must be >= 1' },
        { pointer: '/forSeconds', detail: 'must be > 0' },
      ]),
    );
  });

  it('refuses an API the kind does not belong to', async () => {
    expect(await refusal('9000000009', { kind: 'not-found', api: 'scr' })).toEqual([
      { pointer: '/api', detail: 'must be one of: pds for a not-found fault' },
    ]);
  });

  it('refuses an invalid NHS number in the path, naming the parameter', async () => {
    expect(await refusal('9000000000', { kind: 'not-found' })).toEqual([
      { parameter: 'nhsNumber', detail: 'is not a valid NHS number (its Modulus 11 check digit is wrong)' },
    ]);
  });

  it('refuses faults the sandbox’s data cannot honour', async () => {
    expect(await refusal('9000000009', { kind: 'superseded', newNhsNumber: '9111231130' })).toEqual([
      { pointer: '/newNhsNumber', detail: expect.stringContaining('the sandbox has no record for 9111231130') },
    ]);
    expect(await refusal('*', { kind: 'superseded', newNhsNumber: '9000000068' })).toEqual([
      { pointer: '/kind', detail: 'superseded needs a number of its own, not *' },
    ]);
    expect(
      await refusal('9000000009', {
        kind: 'superseded',
        newNhsNumber: '9434765919',
        record: { resourceType: 'Patient', id: '9000000068' },
      }),
    ).toEqual([{ pointer: '/record/id', detail: 'must be the newNhsNumber, 9434765919' }]);
    expect(await refusal('9111231130', { kind: 'restricted' })).toEqual([
      { pointer: '/kind', detail: expect.stringContaining('no PDS record for 9111231130') },
    ]);
    expect(await refusal('9000000033', { kind: 'no-current-record' })).toEqual([
      { pointer: '/kind', detail: expect.stringContaining('no SCR for 9000000033') },
    ]);
    expect(await refusal('9000000009', { kind: 'unavailable', per: 'request-id' })).toEqual([
      { pointer: '/per', detail: 'only counts something with times: give times too' },
    ]);
  });

  it('locates problems in a list by index', async () => {
    expect(await refusal('9000000009', [{ kind: 'restricted' }, { kind: 'slow', delayMs: 1.5 }])).toEqual([
      { pointer: '/1/delayMs', detail: 'must be integer' },
    ]);
  });

  it('reads the body as JSON whatever its Content-Type, as curl -d sends it', async () => {
    const response = await fetch(`${sandbox.baseUrl}/_sandbox/faults/9000000009`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: '{"kind": "not-found"}',
    });

    expect(response.status).toBe(200);
    expect(sandbox.listFaults('9000000009')).toHaveLength(1);
  });

  it('refuses a body that is not JSON', async () => {
    const response = await fetch(`${sandbox.baseUrl}/_sandbox/faults/9000000009`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: '{"kind": ',
    });

    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await response.json()) as Json).errors[0].pointer).toBe('');
  });

  it('answers 404 problem+json for a control route it does not have', async () => {
    const response = await fetch(`${sandbox.baseUrl}/_sandbox/nothing`);

    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});

describe('programmatic and command-line control', () => {
  it('startSpineSandbox takes an initial list of faults and refuses an invalid one, naming each problem', async () => {
    const started = await startSpineSandbox({ faults: [{ nhsNumber: '9000000009', kind: 'invalidated' }] });
    try {
      expect(
        (await fetch(`${started.baseUrl}${PDS}/Patient/9000000009`, { headers: { 'X-Request-ID': randomUUID() } }))
          .status,
      ).toBe(404);
    } finally {
      await started.stop();
    }

    await expect(
      startSpineSandbox({ faults: [{ nhsNumber: '9000000009', kind: 'slow' } as never] }),
    ).rejects.toMatchObject({ name: 'FaultValidationError', problems: [{ pointer: '/0/delayMs' }] });
  });

  it('setFault validates as the control plane does', () => {
    expect(() => sandbox.setFault('9000000009', { kind: 'slow', delayMs: -1 })).toThrow(FaultValidationError);
    sandbox.setFault('9000000009', { kind: 'slow', delayMs: 1 });
    expect(sandbox.listFaults()).toHaveLength(1);
  });

  it('keeps the control plane open in the INT-like mode, while PDS itself demands a token', async () => {
    const int = await startSpineSandbox({ requireAuth: true });
    try {
      const put = await fetch(`${int.baseUrl}/_sandbox/faults/9000000009`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ kind: 'not-found' }),
      });
      const read = await fetch(`${int.baseUrl}${PDS}/Patient/9000000009`, {
        headers: { 'X-Request-ID': randomUUID() },
      });

      expect(put.status).toBe(200);
      expect(read.status).toBe(401);
    } finally {
      await int.stop();
    }
  });

  it('throughcare spine-sandbox --faults FILE starts with those faults, and refuses a file with bad ones', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'spine-faults-'));
    const good = path.join(dir, 'good.json');
    const bad = path.join(dir, 'bad.json');
    writeFileSync(good, JSON.stringify([{ nhsNumber: '9000000009', kind: 'not-found' }]));
    writeFileSync(bad, JSON.stringify([{ nhsNumber: '9000000009', kind: 'rate-limited', retryAfterSeconds: 'soon' }]));

    const running = runCli(['spine-sandbox', '--port', '0', '--faults', good]);
    try {
      const [, baseUrl] = await running.waitFor(/Spine sandbox listening on (http:\/\/\S+)/);
      const read = await fetch(`${baseUrl}${PDS}/Patient/9000000009`, { headers: { 'X-Request-ID': randomUUID() } });
      expect(read.status).toBe(404);
      expect(running.stdout()).toMatch(/Faults set: 1/);
    } finally {
      running.child.kill('SIGINT');
      await running.exited();
    }

    const refused = runCli(['spine-sandbox', '--port', '0', '--faults', bad]);
    expect(await refused.exited()).toBe(2);
    expect(refused.output()).toContain('/0/retryAfterSeconds must be integer');
  });
});
