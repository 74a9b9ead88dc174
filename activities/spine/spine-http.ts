/**
 * One Spine request, end to end: headers (one X-Request-ID per logical request, reused on every retry because the
 * platform de-duplicates on it), bearer token, per-attempt timeout, retries with backoff and Retry-After, and the
 * mapping of failures to typed errors.
 */
import { createHash, randomUUID } from 'node:crypto';
import { type Logger } from '../../log';
import { SpineError, type SpineErrorCode } from './spine-errors';
import { type TokenProvider } from './spine-auth';

export interface RetryPolicy {
  /** Attempts per request, including the first. */
  maxAttempts: number;
  /** Backoff before the second attempt; doubles per attempt. */
  initialDelayMs: number;
  /** Longest wait inside one call. A longer Retry-After is not slept on: the error carries it to the caller. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 3, initialDelayMs: 200, maxDelayMs: 5_000 };

/** Which operation a response answers: the same Spine code means different things to each. */
export type SpineOperation = 'pds-read' | 'pds-search' | 'pds-related' | 'scr';

export interface SpineHttpOptions {
  baseUrl: string;
  timeoutMs: number;
  retry: RetryPolicy;
  odsCode?: string;
  tokens?: TokenProvider;
  logger: Logger;
}

export interface SpineResponse {
  status: number;
  headers: Headers;
  body: unknown;
  requestId: string;
}

interface OperationOutcomeLike {
  resourceType?: string;
  issue?: Array<{
    code?: string;
    diagnostics?: string;
    details?: { coding?: Array<{ code?: string }>; text?: string };
  }>;
}

function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const PDS_SEARCH_REFUSALS = new Set([
  'INVALID_SEARCH_DATA',
  'INVALID_VALUE',
  'MISSING_VALUE',
  'ADDITIONAL_PROPERTIES',
  'UNSUPPORTED_SERVICE',
]);

function classify(operation: SpineOperation, status: number, spineCode: string | undefined): SpineErrorCode {
  if (status === 429) return 'SPINE_RATE_LIMITED';
  if (status === 408 || status >= 500) return 'SPINE_UNAVAILABLE';
  if (status === 401) return 'SPINE_AUTH_FAILED';
  if (operation === 'scr' && (status === 403 || status === 420)) return 'SCR_ACCESS_DENIED';
  if (status === 403) return 'SPINE_FORBIDDEN';
  if (status === 404 && spineCode === 'RESOURCE_NOT_FOUND') return 'PDS_NOT_FOUND';
  if (status === 404 && spineCode === 'INVALIDATED_RESOURCE') return 'PDS_INVALIDATED';
  if (status === 400 && spineCode === 'INVALID_RESOURCE_ID') return 'PDS_INVALID_NHS_NUMBER';
  if (status === 400 && operation === 'pds-search' && spineCode !== undefined && PDS_SEARCH_REFUSALS.has(spineCode))
    return 'PDS_INVALID_SEARCH';
  return 'SPINE_BAD_REQUEST';
}

const MESSAGES: Record<SpineErrorCode, string> = {
  PDS_NOT_FOUND: 'PDS has no patient with that NHS number',
  PDS_INVALIDATED: 'The PDS record for that NHS number has been invalidated',
  PDS_INVALID_NHS_NUMBER: 'PDS refused the NHS number as invalid',
  PDS_INVALID_SEARCH: 'PDS refused the search parameters',
  SCR_ACCESS_DENIED: 'Spine access control refused the Summary Care Record',
  SPINE_AUTH_FAILED: 'Spine refused the access token',
  SPINE_FORBIDDEN: 'Spine refused this action to this application',
  SPINE_BAD_REQUEST: 'Spine refused the request',
  SPINE_RATE_LIMITED: 'Spine is rate limiting this application',
  SPINE_UNAVAILABLE: 'Spine is unavailable',
  SPINE_TIMEOUT: 'Spine did not answer in time',
  SPINE_INVALID_RESPONSE: 'Spine answered with a body that is not the documented shape',
};

/** Maps a non-2xx answer. The diagnostics are kept only when they are Spine's own words about parameters. */
export function toSpineError(
  operation: SpineOperation,
  status: number,
  body: unknown,
  headers: Headers,
  requestId: string,
): SpineError {
  const outcome = (body ?? {}) as OperationOutcomeLike;
  const issue = outcome.resourceType === 'OperationOutcome' ? outcome.issue?.[0] : undefined;
  const spineCode = issue?.details?.coding?.[0]?.code;
  const code = classify(operation, status, spineCode);
  // Search diagnostics name parameters (not values of a read), so they help a caller fix the query.
  const detail = code === 'PDS_INVALID_SEARCH' && issue?.diagnostics ? `: ${issue.diagnostics}` : '';
  return new SpineError(code, `${MESSAGES[code]} (HTTP ${status}${spineCode ? ` ${spineCode}` : ''})${detail}`, {
    status,
    spineCode,
    requestId,
    retryAfterMs: parseRetryAfter(headers.get('Retry-After'), Date.now()),
  });
}

function isTimeout(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'TimeoutError';
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A UUID (version 8, name-based) derived from a key: the same key always gives the same X-Request-ID, so a request
 * re-sent by a later Temporal attempt of the same activity is recognised by the platform as a repeat.
 */
export function requestIdFor(key: string): string {
  const hex = createHash('sha256').update(key).digest('hex').slice(0, 32).split('');
  hex[12] = '8';
  hex[16] = '89ab'[parseInt(hex[16] ?? '0', 16) % 4] as string;
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export interface SpineHttp {
  /**
   * Sends a GET, retrying per the policy with one X-Request-ID. With `requestKey`, that id is derived from the key
   * and the URL (stable across calls); without, it is random.
   */
  get(operation: SpineOperation, path: string, query?: URLSearchParams, requestKey?: string): Promise<SpineResponse>;
}

export function createSpineHttp(options: SpineHttpOptions): SpineHttp {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');

  async function attempt(
    operation: SpineOperation,
    url: string,
    requestId: string,
  ): Promise<SpineResponse | SpineError> {
    const headers: Record<string, string> = { Accept: 'application/fhir+json', 'X-Request-ID': requestId };
    if (options.odsCode) headers['NHSD-End-User-Organisation-ODS'] = options.odsCode;
    if (options.tokens) headers.Authorization = `Bearer ${await options.tokens.getToken()}`;
    let response: Response;
    try {
      response = await fetch(url, { headers, signal: AbortSignal.timeout(options.timeoutMs) });
    } catch (error) {
      if (isTimeout(error)) return new SpineError('SPINE_TIMEOUT', MESSAGES.SPINE_TIMEOUT, { cause: error, requestId });
      return new SpineError('SPINE_UNAVAILABLE', 'Spine could not be reached', { cause: error, requestId });
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      const code = isTimeout(error) ? 'SPINE_TIMEOUT' : 'SPINE_UNAVAILABLE';
      return new SpineError(code, MESSAGES[code], { cause: error, requestId, status: response.status });
    }
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch (error) {
      // Gateways answer some 5xx with HTML; only a success with a non-JSON body is a broken response.
      if (response.ok)
        return new SpineError('SPINE_INVALID_RESPONSE', MESSAGES.SPINE_INVALID_RESPONSE, {
          cause: error,
          requestId,
          status: response.status,
        });
    }
    if (!response.ok) return toSpineError(operation, response.status, body, response.headers, requestId);
    return { status: response.status, headers: response.headers, body, requestId };
  }

  return {
    async get(operation, path, query, requestKey) {
      const search = query?.toString() ?? '';
      const url = `${baseUrl}${path}${search === '' ? '' : `?${search}`}`;
      // One id for every attempt: the platform treats a repeated X-Request-ID as the same request.
      const requestId = requestKey === undefined ? randomUUID() : requestIdFor(`${requestKey} GET ${path}?${search}`);
      let refreshedToken = false;
      for (let attemptNo = 1; ; attemptNo++) {
        let result: SpineResponse | SpineError;
        try {
          result = await attempt(operation, url, requestId);
        } catch (error) {
          if (!(error instanceof SpineError)) throw error;
          result = error; // the token endpoint failed
        }
        if (!(result instanceof SpineError)) return result;
        options.logger.debug(
          { operation, attempt: attemptNo, code: result.code, status: result.status, requestId },
          'spine request failed',
        );
        // A cached token can be revoked before it expires: fetch a new one once, straight away.
        if (result.code === 'SPINE_AUTH_FAILED' && result.status === 401 && options.tokens && !refreshedToken) {
          refreshedToken = true;
          options.tokens.invalidate();
          continue;
        }
        if (!result.retryable || attemptNo >= options.retry.maxAttempts) throw result;
        const backoff = options.retry.initialDelayMs * 2 ** (attemptNo - 1);
        const wait = result.retryAfterMs ?? Math.min(backoff, options.retry.maxDelayMs);
        if (wait > options.retry.maxDelayMs) throw result;
        await sleep(wait);
      }
    },
  };
}
