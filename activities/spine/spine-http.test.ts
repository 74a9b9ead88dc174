import { requestIdFor, toSpineError } from './spine-http';

const outcome = (code: string) => ({
  resourceType: 'OperationOutcome',
  issue: [{ severity: 'error', code: 'value', details: { coding: [{ code }] }, diagnostics: 'why' }],
});

describe('requestIdFor', () => {
  it('derives the same UUID from the same key and another from another key', () => {
    expect(requestIdFor('case-1/run/7 GET /x')).toBe(requestIdFor('case-1/run/7 GET /x'));
    expect(requestIdFor('case-1/run/8 GET /x')).not.toBe(requestIdFor('case-1/run/7 GET /x'));
    expect(requestIdFor('k')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('toSpineError', () => {
  it.each([
    ['pds-read', 404, 'RESOURCE_NOT_FOUND', 'PDS_NOT_FOUND', false],
    ['pds-read', 404, 'INVALIDATED_RESOURCE', 'PDS_INVALIDATED', false],
    ['pds-related', 400, 'INVALID_RESOURCE_ID', 'PDS_INVALID_NHS_NUMBER', false],
    ['pds-search', 400, 'INVALID_SEARCH_DATA', 'PDS_INVALID_SEARCH', false],
    ['pds-search', 400, 'ADDITIONAL_PROPERTIES', 'PDS_INVALID_SEARCH', false],
    ['pds-read', 400, 'MISSING_VALUE', 'SPINE_BAD_REQUEST', false],
    ['pds-read', 401, 'ACCESS_DENIED', 'SPINE_AUTH_FAILED', false],
    ['pds-search', 403, 'INVALID_VALUE', 'SPINE_FORBIDDEN', false],
    ['scr', 403, undefined, 'SCR_ACCESS_DENIED', false],
    ['scr', 420, undefined, 'SCR_ACCESS_DENIED', false],
    ['pds-read', 408, 'UNABLE_TO_CALL_SERVICE', 'SPINE_UNAVAILABLE', true],
    ['pds-read', 429, 'TOO_MANY_REQUESTS', 'SPINE_RATE_LIMITED', true],
    ['pds-read', 503, 'SERVICE_UNAVAILABLE', 'SPINE_UNAVAILABLE', true],
    ['scr', 504, undefined, 'SPINE_UNAVAILABLE', true],
  ] as const)('maps %s HTTP %i %s to %s (retryable %s)', (operation, status, spineCode, code, retryable) => {
    const body = spineCode === undefined ? undefined : outcome(spineCode);

    const error = toSpineError(operation, status, body, new Headers(), 'request-id');

    expect(error).toMatchObject({ code, retryable, status, spineCode, requestId: 'request-id' });
  });

  it('reads Retry-After in seconds or as an HTTP date', () => {
    const seconds = toSpineError('pds-read', 429, undefined, new Headers({ 'Retry-After': '7' }), 'id');
    const date = toSpineError(
      'pds-read',
      429,
      undefined,
      new Headers({ 'Retry-After': new Date(Date.now() + 60_000).toUTCString() }),
      'id',
    );

    expect(seconds.retryAfterMs).toBe(7_000);
    expect(date.retryAfterMs).toBeGreaterThan(55_000);
    expect(date.retryAfterMs).toBeLessThanOrEqual(60_000);
  });
});
