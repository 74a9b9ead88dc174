/**
 * The Spine client against the Spine sandbox over real HTTP: mapping of PDS and SCR answers, NHS number checks,
 * headers, retries that reuse X-Request-ID, timeouts, typed errors and the signed-JWT token flow.
 */
import { generateKeyPairSync } from 'node:crypto';
import { ActivityError } from '../../activities/errors';
import { createSpineClient, SpineError, type SpineClientOptions } from '../../activities/spine';
import { startRecordingSandbox, type RecordingSandbox } from './recording-sandbox';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function failureOf(promise: Promise<unknown>): Promise<SpineError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SpineError) return error;
    throw error;
  }
  throw new Error('expected a SpineError, but the call succeeded');
}

describe('Spine client against the open sandbox', () => {
  let sandbox: RecordingSandbox;
  let client: ReturnType<typeof createSpineClient>;

  beforeAll(async () => {
    sandbox = await startRecordingSandbox();
    client = createSpineClient({ baseUrl: sandbox.baseUrl, odsCode: 'Y12345' });
  });
  afterAll(async () => {
    await sandbox.stop();
  });
  beforeEach(() => {
    sandbox.requests.length = 0;
  });

  describe('getPatient', () => {
    it('maps the full record of 9000000009 to a PdsPatient', async () => {
      const patient = await client.getPatient('9000000009');

      expect(patient).toEqual({
        nhsNumber: '9000000009',
        name: { prefix: ['Mrs'], given: ['Jane'], family: 'Smith', suffix: ['MBE'] },
        birthDate: '2010-10-22',
        gender: 'female',
        deceasedAt: '2010-10-22T00:00:00+00:00',
        address: {
          lines: ['1 Trevelyan Square', 'Boar Lane', 'City Centre', 'Leeds', 'West Yorkshire'],
          postcode: 'LS1 6AE',
          from: '2024-01-01',
        },
        phone: '01632960587',
        email: 'jane.smith@example.com',
        gpOdsCode: 'Y12345',
        isRestricted: false,
        confidentiality: 'U',
        versionId: '2',
        fetchedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      });
    });

    it('accepts the spaced 3-3-4 form of an NHS number', async () => {
      const patient = await client.getPatient('900 000 0009');

      expect(patient.nhsNumber).toBe('9000000009');
      expect(sandbox.apiRequests()[0]?.path).toBe('/personal-demographics/FHIR/R4/Patient/9000000009');
    });

    it('marks restricted patient 9000000025 and carries no address, telecom or GP', async () => {
      const patient = await client.getPatient('9000000025');

      expect(patient.isRestricted).toBe(true);
      expect(patient.confidentiality).toBe('R');
      expect(patient).not.toHaveProperty('address');
      expect(patient).not.toHaveProperty('phone');
      expect(patient).not.toHaveProperty('email');
      expect(patient).not.toHaveProperty('gpOdsCode');
      expect(patient.name?.family).toBe('Smythe');
    });

    it('reports a superseded number with the number that replaced it', async () => {
      const patient = await client.getPatient('9000000041');

      expect(patient.nhsNumber).toBe('9000000068');
      expect(patient.supersededNhsNumber).toBe('9000000041');
      expect(patient.name).toEqual({ prefix: ['Mr'], given: ['Thomas', 'Edward'], family: 'Brown', suffix: [] });
    });

    it('maps the minimal record of 9000000033 without inventing fields', async () => {
      const patient = await client.getPatient('9000000033');

      expect(patient).toEqual({
        nhsNumber: '9000000033',
        isRestricted: false,
        confidentiality: 'U',
        versionId: '2',
        fetchedAt: expect.any(String),
      });
    });

    it('refuses an invalid NHS number without sending a request', async () => {
      const error = await failureOf(client.getPatient('9000000000'));

      expect(error).toMatchObject({ code: 'PDS_INVALID_NHS_NUMBER', retryable: false });
      expect(sandbox.apiRequests()).toHaveLength(0);
    });

    it('maps 404 RESOURCE_NOT_FOUND to PDS_NOT_FOUND, not retried', async () => {
      const error = await failureOf(client.getPatient('9111231130'));

      expect(error).toMatchObject({
        code: 'PDS_NOT_FOUND',
        retryable: false,
        status: 404,
        spineCode: 'RESOURCE_NOT_FOUND',
        requestId: expect.stringMatching(UUID),
      });
      expect(error.message).not.toContain('9111231130');
      expect(sandbox.apiRequests()).toHaveLength(1);
    });

    it('fails with an ActivityError carrying the code, retryable flag and HTTP facts, never the NHS number', async () => {
      const error = await failureOf(client.getPatient('9111231130'));

      expect(error).toBeInstanceOf(ActivityError);
      expect(error.details).toEqual({ status: 404, spineCode: 'RESOURCE_NOT_FOUND', requestId: error.requestId });
      expect(JSON.stringify(error.details)).not.toContain('9111231130');
    });

    it('maps 404 INVALIDATED_RESOURCE to PDS_INVALIDATED', async () => {
      const error = await failureOf(client.getPatient('9000000076'));

      expect(error).toMatchObject({ code: 'PDS_INVALIDATED', retryable: false });
    });

    it('sends a UUID X-Request-ID and the configured end-user organisation', async () => {
      await client.getPatient('9000000009');
      await client.getPatient('9000000009');
      const [first, second] = sandbox.apiRequests();

      expect(first?.requestId).toMatch(UUID);
      expect(second?.requestId).toMatch(UUID);
      expect(second?.requestId).not.toBe(first?.requestId);
      expect(first?.odsCode).toBe('Y12345');
      expect(first?.authorization).toBeUndefined();
    });
  });

  describe('searchPatients', () => {
    it('returns matches best first with their scores', async () => {
      const result = await client.searchPatients({ family: 'Sm*', gender: 'female', birthDate: '2010-10-22' });

      expect(result.outcome).toBe('matches');
      if (result.outcome !== 'matches') return;
      expect(result.matches.map((m) => m.nhsNumber)).toEqual(['9000000009', '9000000017']);
      expect(result.matches[0]?.score).toBeLessThan(1);
    });

    it('reports too many matches when more match than maxResults', async () => {
      const result = await client.searchPatients({ family: 'Sm*', birthDate: '2010-10-22', maxResults: 1 });

      expect(result).toEqual({ outcome: 'too-many-matches' });
    });

    it('sends a date range as two birthdate parameters', async () => {
      const result = await client.searchPatients({
        family: 'Smith',
        birthDate: { from: '2010-10-21', to: '2010-10-23' },
      });

      expect(result).toMatchObject({ outcome: 'matches', matches: [{ nhsNumber: '9000000009', score: 1 }] });
    });

    it('finds a previous name with history, returning the current one', async () => {
      const result = await client.searchPatients({
        family: 'Green',
        given: ['Thomas'],
        birthDate: '1985-03-14',
        history: true,
      });

      expect(result).toMatchObject({
        outcome: 'matches',
        matches: [{ nhsNumber: '9000000068', name: { family: 'Brown' } }],
      });
    });

    it('maps a refused search to PDS_INVALID_SEARCH with Spine diagnostics, not retried', async () => {
      const error = await failureOf(client.searchPatients({ family: 'S*', birthDate: '2010-10-22' }));

      expect(error).toMatchObject({ code: 'PDS_INVALID_SEARCH', retryable: false, spineCode: 'INVALID_SEARCH_DATA' });
      expect(error.message).toContain('Invalid search data provided');
      expect(sandbox.apiRequests()).toHaveLength(1);
    });

    it('maps a fuzzy search with a wildcard to PDS_INVALID_SEARCH', async () => {
      const error = await failureOf(
        client.searchPatients({ family: 'Smi*', given: ['Jane'], birthDate: '2010-10-22', fuzzy: true }),
      );

      expect(error.code).toBe('PDS_INVALID_SEARCH');
    });
  });

  describe('getRelatedPersons', () => {
    it('maps the related people of 9000000009', async () => {
      const people = await client.getRelatedPersons('9000000009');

      expect(people).toHaveLength(2);
      expect(people[0]).toEqual({
        id: '507B7621',
        relationship: [
          {
            system: 'https://fhir.nhs.uk/R4/CodeSystem/UKCore-AdditionalRelatedPersonRole',
            code: 'Guardian',
            display: 'Guardian of patient',
          },
        ],
        name: { prefix: ['Mrs'], given: ['Margaret'], family: 'Smith', suffix: [] },
        phone: '01632960587',
        address: {
          lines: ['1 Trevelyan Square', 'Boar Lane', 'City Centre', 'Leeds', 'West Yorkshire'],
          postcode: 'LS1 6AE',
          from: '2024-01-01',
        },
        contactRank: 1,
        copyCorrespondence: true,
        isActive: true,
      });
      expect(people[1]?.relationship.map((r) => r.code)).toEqual(['N', 'FTH']);
    });

    it('returns nobody for restricted patient 9000000025', async () => {
      await expect(client.getRelatedPersons('9000000025')).resolves.toEqual([]);
    });

    it('refuses an invalid NHS number before sending', async () => {
      const error = await failureOf(client.getRelatedPersons('1234567890'));

      expect(error.code).toBe('PDS_INVALID_NHS_NUMBER');
      expect(sandbox.apiRequests()).toHaveLength(0);
    });
  });

  describe('getSummaryCareRecord', () => {
    it('reads the allergies and medications of 9000000009 behind permission Ask', async () => {
      const scr = await client.getSummaryCareRecord('9000000009');

      expect(scr).toMatchObject({
        nhsNumber: '9000000009',
        status: 'available',
        scrId: 'FA60BE64-1F34-11EB-A2A8-000C29A364EB',
        permission: 'Ask',
        lastUpdated: '2025-09-02T10:15:00+00:00',
      });
      expect(scr.allergies).toEqual([
        {
          date: '14-Mar-2019',
          description: 'Penicillin V allergy',
          certainty: 'Certain',
          severity: 'Severe',
          supportingInformation: 'Rash and facial swelling',
        },
        {
          date: '02-Jun-2022',
          description: 'Adverse reaction to codeine',
          certainty: 'Likely',
          severity: 'Moderate',
          supportingInformation: 'Vomiting',
        },
      ]);
      expect(scr.medications.map((m) => [m.kind, m.item])).toEqual([
        ['acute', 'Amoxicillin 500mg capsules'],
        ['repeat', 'Salbutamol 100micrograms/dose inhaler CFC free'],
        ['repeat', 'Sertraline 50mg tablets'],
        ['discontinued-repeat', 'Citalopram 20mg tablets'],
      ]);
      expect(scr.medications[2]).toEqual({
        kind: 'repeat',
        date: 'Last Issued: 28-Aug-2025',
        item: 'Sertraline 50mg tablets',
        dosage: 'One To Be Taken Each Day',
        quantity: '28 tablet',
      });
    });

    it('does not fetch the content of an opted-out patient', async () => {
      const scr = await client.getSummaryCareRecord('9000000017');

      expect(scr).toMatchObject({ status: 'opted-out', permission: 'No', allergies: [], medications: [] });
      expect(sandbox.apiRequests().map((r) => r.path)).toEqual(['/summary-care-record/FHIR/R4/DocumentReference']);
    });

    it('maps Spine access control refusing the SCR (HTTP 420) to SCR_ACCESS_DENIED, not retried', async () => {
      const error = await failureOf(client.getSummaryCareRecord('9000000025'));

      expect(error).toMatchObject({ code: 'SCR_ACCESS_DENIED', retryable: false, status: 420 });
      expect(sandbox.apiRequests()).toHaveLength(2);
    });

    it('reports no SCR for 9000000033', async () => {
      const scr = await client.getSummaryCareRecord('9000000033');

      expect(scr).toMatchObject({ status: 'none', allergies: [], medications: [] });
      expect(scr).not.toHaveProperty('scrId');
    });

    it('keeps the legacy permission Yes and skips empty "no information" rows', async () => {
      const scr = await client.getSummaryCareRecord('9000000068');

      expect(scr).toMatchObject({ status: 'available', permission: 'Yes', allergies: [] });
      expect(scr.medications).toEqual([
        {
          kind: 'repeat',
          date: 'Last Issued: 20-Oct-2025',
          item: 'Methadone 1mg/ml oral solution sugar free',
          dosage: '60ml To Be Taken Once A Day Supervised',
          quantity: '420 ml',
        },
      ]);
    });
  });
});

describe('Spine client failures', () => {
  const noWait = { initialDelayMs: 10, maxDelayMs: 2_000 };

  async function withSandbox(
    sandboxOptions: Parameters<typeof startRecordingSandbox>[0],
    clientOptions: Omit<SpineClientOptions, 'baseUrl'>,
    run: (client: ReturnType<typeof createSpineClient>, sandbox: RecordingSandbox) => Promise<void>,
  ) {
    const sandbox = await startRecordingSandbox(sandboxOptions);
    try {
      await run(createSpineClient({ baseUrl: sandbox.baseUrl, ...clientOptions }), sandbox);
    } finally {
      await sandbox.stop();
    }
  }

  it('retries a 503 with the same X-Request-ID and then succeeds', async () => {
    await withSandbox(
      { transientFailure: { status: 503, times: 1, retryAfterSeconds: 0 } },
      { retry: noWait },
      async (client, sandbox) => {
        const patient = await client.getPatient('9000000009');
        const ids = sandbox.apiRequests().map((r) => r.requestId);

        expect(patient.nhsNumber).toBe('9000000009');
        expect(ids).toHaveLength(2);
        expect(ids[0]).toMatch(UUID);
        expect(ids[1]).toBe(ids[0]);
      },
    );
  });

  it('gives up after maxAttempts with a retryable SPINE_UNAVAILABLE, every attempt with one request id', async () => {
    await withSandbox(
      { transientFailure: { status: 500, times: 10 } },
      { retry: { ...noWait, maxAttempts: 3 } },
      async (client, sandbox) => {
        const error = await failureOf(client.getPatient('9000000009'));

        expect(error).toMatchObject({
          code: 'SPINE_UNAVAILABLE',
          retryable: true,
          status: 500,
          spineCode: 'UNKNOWN_ERROR',
        });
        expect(sandbox.apiRequests()).toHaveLength(3);
        expect(new Set(sandbox.apiRequests().map((r) => r.requestId)).size).toBe(1);
      },
    );
  });

  it('waits for Retry-After on 429 before retrying', async () => {
    await withSandbox(
      { transientFailure: { status: 429, times: 1, retryAfterSeconds: 1 } },
      { retry: noWait },
      async (client, sandbox) => {
        const started = Date.now();
        await client.getSummaryCareRecord('9000000033');

        expect(Date.now() - started).toBeGreaterThanOrEqual(950);
        expect(sandbox.apiRequests()).toHaveLength(2);
      },
    );
  });

  it('hands a Retry-After longer than it will wait back as SPINE_RATE_LIMITED with the delay', async () => {
    await withSandbox(
      { transientFailure: { status: 429, times: 1, retryAfterSeconds: 30 } },
      { retry: noWait },
      async (client, sandbox) => {
        const error = await failureOf(client.getPatient('9000000009'));

        expect(error).toMatchObject({ code: 'SPINE_RATE_LIMITED', retryable: true, status: 429, retryAfterMs: 30_000 });
        expect(sandbox.apiRequests()).toHaveLength(1);
      },
    );
  });

  it('times out a slow answer as a retryable SPINE_TIMEOUT, retrying with the same request id', async () => {
    await withSandbox(
      { responseDelayMs: 500 },
      { timeoutMs: 100, retry: { ...noWait, maxAttempts: 2 } },
      async (client, sandbox) => {
        const error = await failureOf(client.getPatient('9000000009'));

        expect(error).toMatchObject({ code: 'SPINE_TIMEOUT', retryable: true });
        expect(sandbox.apiRequests()).toHaveLength(2);
        expect(sandbox.apiRequests()[1]?.requestId).toBe(sandbox.apiRequests()[0]?.requestId);
      },
    );
  });

  it('reports an unreachable host as a retryable SPINE_UNAVAILABLE', async () => {
    const sandbox = await startRecordingSandbox();
    const { baseUrl } = sandbox;
    await sandbox.stop();
    const client = createSpineClient({ baseUrl, retry: { ...noWait, maxAttempts: 1 } });

    const error = await failureOf(client.getPatient('9000000009'));

    expect(error).toMatchObject({ code: 'SPINE_UNAVAILABLE', retryable: true });
  });
});

describe('Spine client with signed-JWT application-restricted access', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const pkcs1Pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const clients = [{ apiKey: 'throughcare-app', keyId: 'throughcare-1', publicKeyPem }];

  function authFor(sandbox: RecordingSandbox, privatePem = privateKeyPem) {
    return {
      tokenUrl: `${sandbox.baseUrl}/oauth2/token`,
      apiKey: 'throughcare-app',
      keyId: 'throughcare-1',
      privateKeyPem: privatePem,
    };
  }

  it('obtains a token with a signed assertion, sends it as a bearer token and reuses it while fresh', async () => {
    const sandbox = await startRecordingSandbox({ requireAuth: true, clients });
    try {
      const client = createSpineClient({ baseUrl: sandbox.baseUrl, auth: authFor(sandbox) });

      await client.getPatient('9000000009');
      await client.getRelatedPersons('9000000009');
      await client.getSummaryCareRecord('9000000009');

      expect(sandbox.tokenRequests()).toHaveLength(1);
      const authorizations = new Set(sandbox.apiRequests().map((r) => r.authorization));
      expect(authorizations.size).toBe(1);
      expect([...authorizations][0]).toMatch(/^Bearer \S+$/);
    } finally {
      await sandbox.stop();
    }
  });

  it('accepts a PKCS#1 private key as openssl genrsa writes it', async () => {
    const sandbox = await startRecordingSandbox({ requireAuth: true, clients });
    try {
      const client = createSpineClient({ baseUrl: sandbox.baseUrl, auth: authFor(sandbox, pkcs1Pem) });

      await expect(client.getPatient('9000000009')).resolves.toMatchObject({ nhsNumber: '9000000009' });
    } finally {
      await sandbox.stop();
    }
  });

  it('shares one token request between concurrent calls and renews the token before it expires', async () => {
    const sandbox = await startRecordingSandbox({ requireAuth: true, clients, tokenLifetimeSeconds: 2 });
    try {
      const client = createSpineClient({ baseUrl: sandbox.baseUrl, auth: authFor(sandbox) });

      await Promise.all([client.getPatient('9000000009'), client.getPatient('9000000017')]);
      await client.getPatient('9000000025');
      expect(sandbox.tokenRequests()).toHaveLength(1);

      // With a 2 s token the client renews after 1 s, before the sandbox would refuse it.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      await client.getPatient('9000000009');
      expect(sandbox.tokenRequests()).toHaveLength(2);
    } finally {
      await sandbox.stop();
    }
  });

  it('fetches a new token once when the API refuses a cached one, and carries on', async () => {
    const first = await startRecordingSandbox({ requireAuth: true, clients });
    const port = Number(new URL(first.baseUrl).port);
    const client = createSpineClient({ baseUrl: first.baseUrl, auth: authFor(first) });
    await client.getPatient('9000000009');
    await first.stop();
    // A new sandbox on the same address has never issued the cached token: like a revoked token.
    const second = await startRecordingSandbox({ requireAuth: true, clients }, port);
    try {
      await expect(client.getPatient('9000000009')).resolves.toMatchObject({ nhsNumber: '9000000009' });
      const [refused, retried] = second.apiRequests();

      expect(second.tokenRequests()).toHaveLength(1);
      expect(retried?.authorization).not.toBe(refused?.authorization);
      expect(retried?.requestId).toBe(refused?.requestId);
    } finally {
      await second.stop();
    }
  });

  it('applies application-restricted search: one unique match, several reported as too many', async () => {
    const sandbox = await startRecordingSandbox({ requireAuth: true, clients });
    try {
      const client = createSpineClient({ baseUrl: sandbox.baseUrl, auth: authFor(sandbox) });

      const unique = await client.searchPatients({ family: 'Smith', gender: 'female', birthDate: '2010-10-22' });
      const several = await client.searchPatients({ family: 'Sm*', birthDate: '2010-10-22' });

      expect(unique).toMatchObject({ outcome: 'matches', matches: [{ nhsNumber: '9000000009' }] });
      expect(several).toEqual({ outcome: 'too-many-matches' });
    } finally {
      await sandbox.stop();
    }
  });

  it('fails with SPINE_AUTH_FAILED, not retried, when the assertion is signed with an unregistered key', async () => {
    const sandbox = await startRecordingSandbox({ requireAuth: true, clients });
    try {
      const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      const client = createSpineClient({
        baseUrl: sandbox.baseUrl,
        auth: authFor(sandbox, stranger.export({ type: 'pkcs8', format: 'pem' }).toString()),
      });

      const error = await failureOf(client.getPatient('9000000009'));

      expect(error).toMatchObject({ code: 'SPINE_AUTH_FAILED', retryable: false, status: 400 });
      expect(sandbox.apiRequests()).toHaveLength(0);
    } finally {
      await sandbox.stop();
    }
  });

  it('fails with SPINE_AUTH_FAILED when the API demands a token the client was not configured for', async () => {
    const sandbox = await startRecordingSandbox({ requireAuth: true, clients });
    try {
      const client = createSpineClient({ baseUrl: sandbox.baseUrl });

      const error = await failureOf(client.getPatient('9000000009'));

      expect(error).toMatchObject({
        code: 'SPINE_AUTH_FAILED',
        retryable: false,
        status: 401,
        spineCode: 'ACCESS_DENIED',
      });
      expect(sandbox.apiRequests()).toHaveLength(1);
    } finally {
      await sandbox.stop();
    }
  });
});
