/**
 * The Spine activities in Temporal's activity environment, with the real client against the Spine sandbox:
 * results for workflows, and typed errors converted once into ApplicationFailures.
 */
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createSpineActivities, createSpineClient, type SpineActivities } from '../../activities/spine';
import { silentLogger } from '../../log';
import { startRecordingSandbox, type RecordingSandbox } from './recording-sandbox';

/** The SDK logs every failed activity at WARN; these failures are the point of the tests. */
const quietEnvironment = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });

/** Runs an activity in its Temporal context, keeping its own parameter and result types. */
function run<A extends unknown[], R>(
  env: MockActivityEnvironment,
  fn: (...args: A) => Promise<R>,
  ...args: A
): Promise<R> {
  return env.run(fn, ...args);
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApplicationFailure) return error;
    throw error;
  }
  throw new Error('expected an ApplicationFailure, but the activity succeeded');
}

describe('Spine activities', () => {
  let sandbox: RecordingSandbox;
  let activities: SpineActivities;
  const env = quietEnvironment();

  beforeAll(async () => {
    sandbox = await startRecordingSandbox();
    activities = createSpineActivities({
      spine: createSpineClient({ baseUrl: sandbox.baseUrl, retry: { maxAttempts: 1 } }),
      logger: silentLogger,
    });
  });
  afterAll(async () => {
    await sandbox.stop();
  });

  it('lookupPatient returns the PDS summary', async () => {
    const patient = await run(env, activities.lookupPatient, '9000000009');

    expect(patient).toMatchObject({ nhsNumber: '9000000009', gpOdsCode: 'Y12345', isRestricted: false });
  });

  it('lookupPatient fails with a non-retryable PDS_NOT_FOUND for an unknown number', async () => {
    const failure = await failureOf(run(env, activities.lookupPatient, '9111231130'));

    expect(failure.type).toBe('PDS_NOT_FOUND');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.details).toEqual([{ status: 404, spineCode: 'RESOURCE_NOT_FOUND', requestId: expect.any(String) }]);
  });

  it('lookupPatient fails with a non-retryable PDS_INVALID_NHS_NUMBER for a bad check digit', async () => {
    const failure = await failureOf(run(env, activities.lookupPatient, '9000000000'));

    expect(failure).toMatchObject({ type: 'PDS_INVALID_NHS_NUMBER', nonRetryable: true });
  });

  it('searchPatient returns a unique match', async () => {
    const match = await run(env, activities.searchPatient, {
      family: 'Smith',
      given: ['Jan*'],
      gender: 'female',
      birthDate: '2010-10-22',
      postcode: 'LS*',
      history: true,
    });

    expect(match).toMatchObject({ outcome: 'unique-match', patient: { nhsNumber: '9000000009' } });
  });

  it('searchPatient asks for a single result and reports several matches as too many', async () => {
    sandbox.requests.length = 0;
    const match = await run(env, activities.searchPatient, { family: 'Sm*', birthDate: '2010-10-22', maxResults: 50 });

    expect(match).toEqual({ outcome: 'too-many-matches' });
    expect(sandbox.apiRequests()).toHaveLength(1);
  });

  it('searchPatient reports no match', async () => {
    const match = await run(env, activities.searchPatient, { family: 'Nobody', birthDate: '1970-01-01' });

    expect(match).toEqual({ outcome: 'no-match' });
  });

  it('searchPatient fails with a non-retryable PDS_INVALID_SEARCH for a refused query', async () => {
    const failure = await failureOf(run(env, activities.searchPatient, { given: ['Jane'], birthDate: '2010-10-22' }));

    expect(failure).toMatchObject({ type: 'PDS_INVALID_SEARCH', nonRetryable: true });
  });

  it('fetchRelatedPersons offers PDS related people as suggestions that still need consent', async () => {
    const suggestions = await run(env, activities.fetchRelatedPersons, '9000000009');

    expect(suggestions).toHaveLength(2);
    expect(suggestions.every((s) => s.source === 'pds-related-person' && s.consentRequired)).toBe(true);
    expect(suggestions.map((s) => s.name?.given[0])).toEqual(['Margaret', 'Peter']);
  });

  it('fetchRelatedPersons offers nobody for a restricted patient', async () => {
    await expect(run(env, activities.fetchRelatedPersons, '9000000025')).resolves.toEqual([]);
  });

  it('fetchSummaryCareRecord returns the content and permission', async () => {
    const scr = await run(env, activities.fetchSummaryCareRecord, '9000000009');

    expect(scr).toMatchObject({ status: 'available', permission: 'Ask' });
    expect(scr.allergies).toHaveLength(2);
  });

  it('fetchSummaryCareRecord fails with a non-retryable SCR_ACCESS_DENIED when access control refuses', async () => {
    const failure = await failureOf(run(env, activities.fetchSummaryCareRecord, '9000000025'));

    expect(failure).toMatchObject({ type: 'SCR_ACCESS_DENIED', nonRetryable: true });
  });
});

describe('Spine activity request ids', () => {
  it('re-send the same X-Request-ID on every Temporal attempt of one activity, and a new one for another', async () => {
    const sandbox = await startRecordingSandbox();
    try {
      const activities = createSpineActivities({
        spine: createSpineClient({ baseUrl: sandbox.baseUrl }),
        logger: silentLogger,
      });
      const attempt = (activityId: string, attemptNo: number) =>
        new MockActivityEnvironment(
          { activityId, attempt: attemptNo, workflowExecution: { workflowId: 'case-42', runId: 'run-1' } },
          { logger: new DefaultLogger('ERROR') },
        );

      await run(attempt('7', 1), activities.lookupPatient, '9000000009');
      await run(attempt('7', 2), activities.lookupPatient, '9000000009');
      await run(attempt('8', 1), activities.lookupPatient, '9000000009');
      const [first, retried, other] = sandbox.apiRequests().map((r) => r.requestId);

      expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(retried).toBe(first);
      expect(other).not.toBe(first);
    } finally {
      await sandbox.stop();
    }
  });
});

describe('Spine activities when Spine is struggling', () => {
  it('fail retryably on 503, so that Temporal retries them', async () => {
    const sandbox = await startRecordingSandbox({ transientFailure: { status: 503, times: 5, retryAfterSeconds: 0 } });
    try {
      const activities = createSpineActivities({
        spine: createSpineClient({ baseUrl: sandbox.baseUrl, retry: { maxAttempts: 2, initialDelayMs: 1 } }),
        logger: silentLogger,
      });

      const failure = await failureOf(run(quietEnvironment(), activities.lookupPatient, '9000000009'));

      expect(failure).toMatchObject({ type: 'SPINE_UNAVAILABLE', nonRetryable: false });
    } finally {
      await sandbox.stop();
    }
  });

  it('pass a rate limit Retry-After to Temporal as the next retry delay', async () => {
    const sandbox = await startRecordingSandbox({ transientFailure: { status: 429, times: 1, retryAfterSeconds: 60 } });
    try {
      const activities = createSpineActivities({
        spine: createSpineClient({ baseUrl: sandbox.baseUrl }),
        logger: silentLogger,
      });

      const failure = await failureOf(run(quietEnvironment(), activities.fetchSummaryCareRecord, '9000000009'));

      expect(failure).toMatchObject({ type: 'SPINE_RATE_LIMITED', nonRetryable: false, nextRetryDelay: 60_000 });
    } finally {
      await sandbox.stop();
    }
  });
});

describe('Spine activities when a request or an answer is wrong', () => {
  it('fail non-retryably with SPINE_BAD_REQUEST when Spine rejects a request as malformed: a programming error, not retried', async () => {
    // Spine answering 400 to what the client sent (a parameter it does not accept, a header it refuses)
    const sandbox = await startRecordingSandbox({}, 0, (req, res, next) => {
      if (req.path.endsWith('/DocumentReference') || req.path.endsWith('/Patient/9000000068')) {
        res
          .status(400)
          .type('application/fhir+json')
          .json({
            resourceType: 'OperationOutcome',
            issue: [{ severity: 'error', code: 'value', details: { coding: [{ code: 'INVALID_VALUE' }] } }],
          });
        return;
      }
      next();
    });
    try {
      const activities = createSpineActivities({
        spine: createSpineClient({ baseUrl: sandbox.baseUrl, retry: { maxAttempts: 3, initialDelayMs: 1 } }),
        logger: silentLogger,
      });

      const scr = await failureOf(run(quietEnvironment(), activities.fetchSummaryCareRecord, '9000000009'));
      const pds = await failureOf(run(quietEnvironment(), activities.lookupPatient, '9000000068'));

      expect(scr).toMatchObject({ type: 'SPINE_BAD_REQUEST', nonRetryable: true });
      expect(pds).toMatchObject({ type: 'SPINE_BAD_REQUEST', nonRetryable: true });
      // not retried in the client either: one request each
      expect(sandbox.apiRequests()).toHaveLength(2);
    } finally {
      await sandbox.stop();
    }
  });

  it('fetchSummaryCareRecord answers no-current-record when the latest SCR comes back empty after one fresh look-up', async () => {
    const sandbox = await startRecordingSandbox({}, 0, (req, res, next) => {
      if (!req.path.endsWith('/summary-care-record/FHIR/R4/Bundle')) return next();
      res.status(200).type('application/fhir+json').json({ resourceType: 'Bundle', type: 'searchset', total: 0 });
    });
    try {
      const activities = createSpineActivities({
        spine: createSpineClient({ baseUrl: sandbox.baseUrl, retry: { maxAttempts: 1 } }),
        logger: silentLogger,
      });

      const scr = await run(quietEnvironment(), activities.fetchSummaryCareRecord, '9000000009');

      expect(scr).toMatchObject({
        nhsNumber: '9000000009',
        status: 'no-current-record',
        allergies: [],
        medications: [],
      });
      expect(sandbox.apiRequests().map((r) => r.path.split('/').at(-1))).toEqual([
        'DocumentReference',
        'Bundle',
        'DocumentReference',
        'Bundle',
      ]);
    } finally {
      await sandbox.stop();
    }
  });
});
