/**
 * The Spine sandbox over real HTTP: PDS read, search rules, related people, SCR, header rules and the mock token
 * endpoint, checked against what the NHS API platform documents.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { startSpineSandbox, type RunningSpineSandbox } from '../../spine-sandbox';

const PDS = '/personal-demographics/FHIR/R4';
const SCR = '/summary-care-record/FHIR/R4';

interface Outcome {
  resourceType: 'OperationOutcome';
  issue: Array<{
    severity: string;
    code: string;
    details?: { coding?: Array<{ code: string; system: string }>; text?: string };
    diagnostics?: string;
  }>;
}

let sandbox: RunningSpineSandbox;

beforeAll(async () => {
  sandbox = await startSpineSandbox({ port: 0 });
});
afterAll(async () => {
  await sandbox.stop();
});

async function get(path: string, headers: Record<string, string> = { 'X-Request-ID': randomUUID() }) {
  const response = await fetch(`${sandbox.baseUrl}${path}`, { headers });
  const body = (await response.json()) as Record<string, unknown>;
  return { status: response.status, headers: response.headers, body };
}

function spineCode(body: Record<string, unknown>): string | undefined {
  return (body as unknown as Outcome).issue[0]?.details?.coding?.[0]?.code;
}

async function search(query: string) {
  return get(`${PDS}/Patient?${query}`);
}

function ids(body: Record<string, unknown>): string[] {
  return ((body.entry as Array<{ resource: { id: string } }> | undefined) ?? []).map((e) => e.resource.id);
}

describe('PDS read', () => {
  it('returns the full record of 9000000009 as FHIR JSON with the version as a weak ETag', async () => {
    const { status, headers, body } = await get(`${PDS}/Patient/9000000009`);

    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    expect(headers.get('etag')).toBe('W/"2"');
    expect(body).toMatchObject({
      resourceType: 'Patient',
      id: '9000000009',
      meta: { versionId: '2', security: [{ code: 'U' }] },
      name: [{ given: ['Jane'], family: 'Smith' }],
      birthDate: '2010-10-22',
      generalPractitioner: [
        { identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'Y12345' } },
      ],
    });
    expect(body.address).toEqual(expect.arrayContaining([expect.objectContaining({ postalCode: 'LS1 6AE' })]));
  });

  it('withholds address, telecom, contacts and GP of restricted patient 9000000025', async () => {
    const { status, body } = await get(`${PDS}/Patient/9000000025`);

    expect(status).toBe(200);
    expect(body).toMatchObject({ id: '9000000025', meta: { security: [{ code: 'R', display: 'restricted' }] } });
    expect(body).not.toHaveProperty('address');
    expect(body).not.toHaveProperty('telecom');
    expect(body).not.toHaveProperty('contact');
    expect(body).not.toHaveProperty('generalPractitioner');
    expect(JSON.stringify(body)).not.toContain('HG1');
  });

  it('returns the minimal record of 9000000033 with only identifiers and meta', async () => {
    const { body } = await get(`${PDS}/Patient/9000000033`);

    expect(Object.keys(body).sort()).toEqual(['id', 'identifier', 'meta', 'resourceType']);
  });

  it('answers a superseded number with the superseding record, whose id differs from the one requested', async () => {
    const { status, body } = await get(`${PDS}/Patient/9000000041`);

    expect(status).toBe(200);
    expect(body.id).toBe('9000000068');
  });

  it.each([
    ['9000000000', 'fails the check digit'],
    ['900000000', 'is nine digits'],
    ['900000000A', 'has a letter'],
  ])('rejects %s (%s) with 400 INVALID_RESOURCE_ID', async (nhsNumber) => {
    const { status, body } = await get(`${PDS}/Patient/${nhsNumber}`);

    expect(status).toBe(400);
    expect(body).toMatchObject({ issue: [{ severity: 'error', code: 'value' }] });
    expect(spineCode(body)).toBe('INVALID_RESOURCE_ID');
  });

  it('answers an unknown valid number with 404 RESOURCE_NOT_FOUND at severity information', async () => {
    const { status, body } = await get(`${PDS}/Patient/9111231130`);

    expect(status).toBe(404);
    expect(body).toMatchObject({ issue: [{ severity: 'information', code: 'not-found' }] });
    expect(spineCode(body)).toBe('RESOURCE_NOT_FOUND');
  });

  it('answers an invalidated, not superseded, number with 404 INVALIDATED_RESOURCE', async () => {
    const { status, body } = await get(`${PDS}/Patient/9000000076`);

    expect(status).toBe(404);
    expect(spineCode(body)).toBe('INVALIDATED_RESOURCE');
  });
});

describe('request headers', () => {
  it('refuses a request without X-Request-ID with 400 MISSING_VALUE', async () => {
    const { status, body } = await get(`${PDS}/Patient/9000000009`, {});

    expect(status).toBe(400);
    expect(body).toMatchObject({ issue: [{ code: 'required' }] });
    expect(spineCode(body)).toBe('MISSING_VALUE');
  });

  it('refuses an X-Request-ID that is not a UUID with 400 INVALID_VALUE naming the value', async () => {
    const { status, body, headers } = await get(`${PDS}/Patient/9000000009`, { 'X-Request-ID': 'not-a-uuid' });

    expect(status).toBe(400);
    expect(spineCode(body)).toBe('INVALID_VALUE');
    expect((body as unknown as Outcome).issue[0]?.diagnostics).toBe(
      "Invalid value - 'not-a-uuid' in header 'X-Request-ID'",
    );
    expect(headers.get('x-request-id')).toBe('not-a-uuid');
  });

  it('mirrors X-Request-ID and X-Correlation-ID back', async () => {
    const requestId = randomUUID();
    const { headers } = await get(`${PDS}/Patient/9000000009`, {
      'X-Request-ID': requestId,
      'X-Correlation-ID': 'trace-123',
    });

    expect(headers.get('x-request-id')).toBe(requestId);
    expect(headers.get('x-correlation-id')).toBe('trace-123');
  });
});

describe('PDS search', () => {
  it('finds Jane Smith by family name, gender and date of birth with score 1', async () => {
    const { status, body } = await search('family=Smith&gender=female&birthdate=eq2010-10-22');

    expect(status).toBe(200);
    expect(body).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 1 });
    expect(body.entry).toEqual([expect.objectContaining({ search: { score: 1 } })]);
    expect(ids(body)).toEqual(['9000000009']);
  });

  it('returns a subset of the record: no place of birth, pharmacy, communication or temporary address', async () => {
    const { body } = await search('family=Smith&gender=female&birthdate=eq2010-10-22');
    const resource = JSON.stringify((body.entry as Array<{ resource: unknown }>)[0]?.resource);

    expect(resource).not.toContain('patient-birthPlace');
    expect(resource).not.toContain('NominatedPharmacy');
    expect(resource).not.toContain('NHSCommunication');
    expect(resource).not.toContain('"temp"');
    expect(resource).toContain('LS1 6AE');
  });

  it('matches a wildcard after the first two characters with a partial score', async () => {
    const { body } = await search('family=Sm*&gender=female&birthdate=eq2010-10-22');

    expect(ids(body)).toEqual(['9000000009', '9000000017']);
    expect((body.entry as Array<{ search: { score: number } }>).every((e) => e.search.score < 1)).toBe(true);
  });

  it('answers 200 with TOO_MANY_MATCHES when more patients match than _max-results allows', async () => {
    const { status, body } = await search('family=Sm*&gender=female&birthdate=eq2010-10-22&_max-results=1');

    expect(status).toBe(200);
    expect(body).toMatchObject({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'information', code: 'multiple-matches' }],
    });
    expect(spineCode(body)).toBe('TOO_MANY_MATCHES');
  });

  it('narrows a wildcard search to one patient with an exact email', async () => {
    const { body } = await search('family=Sm*&birthdate=eq2010-10-22&email=jane.smith@example.com&_max-results=1');

    expect(ids(body)).toEqual(['9000000009']);
  });

  it('matches a date of birth range sent as two birthdate parameters', async () => {
    const { body } = await search('family=Smith&birthdate=ge2010-10-21&birthdate=le2010-10-23');

    expect(ids(body)).toEqual(['9000000009']);
  });

  it('finds Smythe when fuzzy-searching for Smith, using Soundex', async () => {
    const { body } = await search('family=Smith&given=Janet&birthdate=eq2005-06-16&_fuzzy-match=true');

    expect(ids(body)).toEqual(['9000000025']);
  });

  it('returns a restricted patient from a name search without location data', async () => {
    const { body } = await search('family=Smythe&given=Janet&gender=female&birthdate=eq2005-06-16');
    const resource = (body.entry as Array<{ resource: Record<string, unknown> }>)[0]?.resource;

    expect(resource?.id).toBe('9000000025');
    expect(resource).not.toHaveProperty('address');
    expect(resource).not.toHaveProperty('telecom');
  });

  it('never returns a restricted patient when the search includes a postcode', async () => {
    const { body } = await search('family=Smythe&birthdate=eq2005-06-16&address-postalcode=HG1%201AA');

    expect(body.total).toBe(0);
  });

  it('matches a previous name only when _history is requested, and returns the current name', async () => {
    const without = await search('family=Green&given=Thomas&birthdate=eq1985-03-14');
    const withHistory = await search('family=Green&given=Thomas&birthdate=eq1985-03-14&_history=true');

    expect(without.body.total).toBe(0);
    expect(ids(withHistory.body)).toEqual(['9000000068']);
    expect(JSON.stringify(withHistory.body)).not.toContain('Green');
  });

  it('never returns a superseded number: the superseding record answers instead', async () => {
    const { body } = await search('family=Brown&birthdate=eq1985-03-14');

    expect(ids(body)).toEqual(['9000000068']);
  });

  it('ignores spaces in postcodes and accepts a postcode wildcard', async () => {
    const exact = await search('family=Brown&birthdate=eq1985-03-14&address-postalcode=ls31lh');
    const wildcard = await search('family=Brown&birthdate=eq1985-03-14&address-postalcode=LS%2A');

    expect(ids(exact.body)).toEqual(['9000000068']);
    expect(ids(wildcard.body)).toEqual(['9000000068']);
  });

  it('keeps only score 1 results with _exact-match', async () => {
    const { body } = await search('family=Sm*&birthdate=eq2010-10-22&_exact-match=true');

    expect(body.total).toBe(0);
  });

  it.each([
    ['no parameters', '', 'UNSUPPORTED_SERVICE'],
    ['an unknown parameter', 'family=Smith&birthdate=eq2010-10-22&year=2003', 'ADDITIONAL_PROPERTIES'],
    [
      'both postcode parameters',
      'family=Smith&birthdate=eq2010-10-22&address-postcode=LS1&address-postalcode=LS1',
      'INVALID_SEARCH_DATA',
    ],
    ['a birthdate not in YYYY-MM-DD', 'family=Smith&birthdate=20101022', 'INVALID_VALUE'],
    ['an impossible date', 'family=Smith&birthdate=eq2010-02-31', 'INVALID_VALUE'],
    ['an unknown gender', 'family=Smith&birthdate=eq2010-10-22&gender=mal', 'INVALID_VALUE'],
    ['_max-results of 0', 'family=Smith&birthdate=eq2010-10-22&_max-results=0', 'INVALID_VALUE'],
    ['_max-results above 50', 'family=Smith&birthdate=eq2010-10-22&_max-results=51', 'INVALID_VALUE'],
    ['no date of birth', 'family=Smith&gender=female', 'MISSING_VALUE'],
    ['no family name in a non-fuzzy search', 'given=Jane&birthdate=eq2010-10-22', 'INVALID_SEARCH_DATA'],
    ['a wildcard in the first two characters', 'family=S*&birthdate=eq2010-10-22', 'INVALID_SEARCH_DATA'],
    [
      'a wildcard in a fuzzy search',
      'family=Smi*&given=Jane&birthdate=eq2010-10-22&_fuzzy-match=true',
      'INVALID_SEARCH_DATA',
    ],
    [
      'a fuzzy search without an allowed combination',
      'family=Smith&birthdate=eq2010-10-22&_fuzzy-match=true',
      'INVALID_SEARCH_DATA',
    ],
    ['a wildcard in an email', 'family=Smith&birthdate=eq2010-10-22&email=jane*', 'INVALID_SEARCH_DATA'],
  ])('refuses a search with %s (%s): 400 %s', async (_case, query, code) => {
    const { status, body } = await search(query);

    expect(status).toBe(400);
    expect(spineCode(body)).toBe(code);
  });

  it('states the minimum birthdate requirement as PDS words it', async () => {
    const { body } = await search('family=Smith');

    expect((body as unknown as Outcome).issue[0]?.diagnostics).toBe(
      "Missing value - 'birth_date/birth_date_range_start/birth_date_range_end'",
    );
  });
});

describe('PDS related people', () => {
  it('returns the related people of 9000000009 as a searchset of RelatedPerson', async () => {
    const { status, body } = await get(`${PDS}/Patient/9000000009/RelatedPerson`);

    expect(status).toBe(200);
    expect(body).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 2 });
    expect(body.entry).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          resource: expect.objectContaining({
            resourceType: 'RelatedPerson',
            patient: { identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000009' } },
            relationship: [expect.objectContaining({ coding: [expect.objectContaining({ code: 'Guardian' })] })],
          }),
        }),
      ]),
    );
  });

  it('returns one related person for 9000000017', async () => {
    const { body } = await get(`${PDS}/Patient/9000000017/RelatedPerson`);

    expect(body.total).toBe(1);
  });

  it('returns an empty bundle for restricted patient 9000000025', async () => {
    const { status, body } = await get(`${PDS}/Patient/9000000025/RelatedPerson`);

    expect(status).toBe(200);
    expect(body).toMatchObject({ total: 0 });
    expect(body.entry).toEqual([]);
  });

  it('rejects an invalid NHS number with 400 INVALID_RESOURCE_ID', async () => {
    const { status, body } = await get(`${PDS}/Patient/9000000000/RelatedPerson`);

    expect(status).toBe(400);
    expect(spineCode(body)).toBe('INVALID_RESOURCE_ID');
  });
});

describe('Summary Care Record', () => {
  const nhs = (n: string) => encodeURIComponent(`https://fhir.nhs.uk/Id/nhs-number|${n}`);

  it('gives the latest SCR id of 9000000009 with permission Ask', async () => {
    const { status, body } = await get(
      `${SCR}/DocumentReference?patient=${nhs('9000000009')}&type=${encodeURIComponent('http://snomed.info/sct|196981000000101')}&_sort=date&_count=1`,
    );

    expect(status).toBe(200);
    expect(body).toMatchObject({
      resourceType: 'Bundle',
      total: 1,
      entry: [
        {
          resource: {
            resourceType: 'DocumentReference',
            masterIdentifier: {
              system: 'https://fhir.nhs.uk/Id/nhsSCRUUID',
              value: 'FA60BE64-1F34-11EB-A2A8-000C29A364EB',
            },
            securityLabel: [{ coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/SCR-ACSPermission', code: 'Ask' }] }],
          },
        },
        { resource: { resourceType: 'Patient', identifier: [{ value: '9000000009' }] } },
      ],
    });
  });

  it('gives an empty bundle for 9000000033, who has no SCR', async () => {
    const { body } = await get(`${SCR}/DocumentReference?patient=${nhs('9000000033')}`);

    expect(body).toMatchObject({ resourceType: 'Bundle', total: 0 });
  });

  it('returns the SCR with allergy and medication sections for the current id', async () => {
    const { status, body } = await get(
      `${SCR}/Bundle?composition.identifier=FA60BE64-1F34-11EB-A2A8-000C29A364EB&composition.subject:Patient.identifier=${nhs('9000000009')}`,
    );
    const composition = (
      body.entry as Array<{
        resource: { resourceType: string; section?: Array<{ code: { coding: Array<{ code: string }> } }> };
      }>
    ).find((e) => e.resource.resourceType === 'Composition')?.resource;

    expect(status).toBe(200);
    expect(composition?.section?.map((s) => s.code.coding[0]?.code)).toEqual([
      'Title',
      'AllergiesHeader',
      'AcuteMedsHeader',
      'RepeatMedsHeader',
      'DiscRepeatMedsHeader',
    ]);
    expect(JSON.stringify(body)).toContain('Penicillin V allergy');
  });

  it('returns an empty bundle, not an error, for an out-of-date SCR id', async () => {
    const { status, body } = await get(
      `${SCR}/Bundle?composition.identifier=81CC2DA0-8882-11EB-B538-0800200C9A66&composition.subject:Patient.identifier=${nhs('9000000009')}`,
    );

    expect(status).toBe(200);
    expect(body).toMatchObject({ total: 0 });
  });

  it('refuses the SCR of an opted-out patient with 420 as Spine access control does', async () => {
    const { status, body } = await get(
      `${SCR}/Bundle?composition.identifier=2B7C4E90-6A11-11EF-9C3D-0800200C9A66&composition.subject:Patient.identifier=${nhs('9000000017')}`,
    );

    expect(status).toBe(420);
    expect((body as unknown as Outcome).issue[0]?.details?.text).toContain('PSIS-30418');
  });

  it.each([
    ['an invalid NHS number', `patient=${nhs('9000000000')}`],
    ['no system prefix', 'patient=9000000009'],
    ['an unsupported _count', `patient=${nhs('9000000009')}&_count=2`],
    ['no patient', '_sort=date'],
  ])('refuses a DocumentReference search with %s: 400', async (_case, query) => {
    const { status, body } = await get(`${SCR}/DocumentReference?${query}`);

    expect(status).toBe(400);
    expect(body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'value' }] });
  });
});

describe('OAuth2 token endpoint', () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

  async function assertion(overrides: { alg?: string; kid?: string | null; claims?: Record<string, unknown> } = {}) {
    const claims = {
      iss: 'api-key',
      sub: 'api-key',
      jti: randomUUID(),
      aud: `${sandbox.baseUrl}/oauth2/token`,
      exp: Math.floor(Date.now() / 1000) + 300,
      ...overrides.claims,
    };
    const header: { alg: string; kid?: string } = { alg: overrides.alg ?? 'RS512' };
    if (overrides.kid !== null) header.kid = overrides.kid ?? 'test-1';
    const key = header.alg === 'HS256' ? new TextEncoder().encode('a-shared-secret-of-some-length!') : privateKey;
    return new SignJWT(claims).setProtectedHeader(header).sign(key);
  }

  async function requestToken(form: Record<string, string>) {
    const response = await fetch(`${sandbox.baseUrl}/oauth2/token`, {
      method: 'POST',
      body: new URLSearchParams(form),
    });
    return { status: response.status, body: (await response.json()) as Record<string, string> };
  }

  const form = async (jwt: Promise<string>) => ({
    grant_type: 'client_credentials',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: await jwt,
  });

  it('issues a bearer token for a well-formed assertion, with expires_in as a string', async () => {
    const { status, body } = await requestToken(await form(assertion()));

    expect(status).toBe(200);
    expect(body).toEqual({ access_token: expect.any(String), expires_in: '599', token_type: 'Bearer' });
  });

  it.each([
    [
      'signed HS256',
      { alg: 'HS256' },
      400,
      "Invalid 'alg' header in JWT - unsupported JWT algorithm - must be 'RS512'",
    ],
    ['without kid', { kid: null }, 400, "Missing 'kid' header in JWT"],
    ['with iss different from sub', { claims: { sub: 'other' } }, 400, 'Missing or non-matching iss/sub claims in JWT'],
    ['without jti', { claims: { jti: undefined } }, 400, 'Missing jti claim in JWT'],
    [
      'for another audience',
      { claims: { aud: 'https://example.org/token' } },
      401,
      'Missing or invalid aud claim in JWT',
    ],
    [
      'expiring more than 5 minutes ahead',
      { claims: { exp: Math.floor(Date.now() / 1000) + 330 } },
      400,
      'Invalid exp claim in JWT - more than 5 minutes in future',
    ],
    [
      'already expired',
      { claims: { exp: Math.floor(Date.now() / 1000) - 10 } },
      400,
      'Invalid exp claim in JWT - JWT has expired',
    ],
  ])('refuses an assertion %s', async (_case, overrides, status, description) => {
    const result = await requestToken(await form(assertion(overrides)));

    expect(result.status).toBe(status);
    expect(result.body).toMatchObject({ error: 'invalid_request', error_description: description });
  });

  it('refuses a reused jti', async () => {
    const jwt = await assertion({ claims: { jti: randomUUID() } });
    const firstTime = await requestToken(await form(Promise.resolve(jwt)));
    const secondTime = await requestToken(await form(Promise.resolve(jwt)));

    expect(firstTime.status).toBe(200);
    expect(secondTime).toMatchObject({ status: 400, body: { error_description: 'Non-unique jti claim in JWT' } });
  });

  it('refuses a wrong grant type and a missing assertion type', async () => {
    const grant = await requestToken({ ...(await form(assertion())), grant_type: 'password' });
    const type = await requestToken({ grant_type: 'client_credentials', client_assertion: await assertion() });

    expect(grant).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });
    expect(type).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  });
});

describe('INT-like mode', () => {
  let secured: RunningSpineSandbox;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const { privateKey: strangerKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

  beforeAll(async () => {
    secured = await startSpineSandbox({
      requireAuth: true,
      clients: [
        { apiKey: 'key-1', keyId: 'kid-1', publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() },
      ],
    });
  });
  afterAll(async () => {
    await secured.stop();
  });

  async function tokenFor(key: typeof privateKey, kid = 'kid-1') {
    const jwt = await new SignJWT({
      iss: 'key-1',
      sub: 'key-1',
      jti: randomUUID(),
      aud: `${secured.baseUrl}/oauth2/token`,
    })
      .setProtectedHeader({ alg: 'RS512', kid })
      .setExpirationTime('5m')
      .sign(key);
    const response = await fetch(`${secured.baseUrl}/oauth2/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: jwt,
      }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, string> };
  }

  it('refuses PDS requests without a bearer token with 401 ACCESS_DENIED', async () => {
    const response = await fetch(`${secured.baseUrl}${PDS}/Patient/9000000009`, {
      headers: { 'X-Request-ID': randomUUID() },
    });
    const body = (await response.json()) as Record<string, unknown>;

    expect(response.status).toBe(401);
    expect(spineCode(body)).toBe('ACCESS_DENIED');
  });

  it('serves PDS with a token obtained by a registered key', async () => {
    const { body: token } = await tokenFor(privateKey);
    const response = await fetch(`${secured.baseUrl}${PDS}/Patient/9000000009`, {
      headers: { 'X-Request-ID': randomUUID(), Authorization: `Bearer ${token.access_token}` },
    });

    expect(response.status).toBe(200);
  });

  it('refuses an assertion signed by another key, and an unknown kid', async () => {
    const forged = await tokenFor(strangerKey);
    const unknownKid = await tokenFor(privateKey, 'kid-2');

    expect(forged.status).toBe(400);
    expect(unknownKid).toMatchObject({
      status: 401,
      body: { error_description: "Invalid 'kid' header in JWT - no matching public key" },
    });
  });

  it('refuses more than one search result for application-restricted callers with 403', async () => {
    const { body: token } = await tokenFor(privateKey);
    const response = await fetch(
      `${secured.baseUrl}${PDS}/Patient?family=Smith&birthdate=eq2010-10-22&_max-results=2`,
      {
        headers: { 'X-Request-ID': randomUUID(), Authorization: `Bearer ${token.access_token}` },
      },
    );
    const body = (await response.json()) as Record<string, unknown>;

    expect(response.status).toBe(403);
    expect(spineCode(body)).toBe('INVALID_VALUE');
  });
});
