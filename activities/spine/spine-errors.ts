/**
 * Failures of the Spine (PDS, SCR, token) client as typed errors with a stable `code` and a `retryable` flag,
 * independent of HTTP: a branch of the activities' ActivityError hierarchy. Messages never carry NHS numbers or
 * names: they end up in Temporal histories and logs.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ActivityError } from '../errors';

/** Every code, with whether trying again later can succeed. A code without an entry does not compile. */
export const SPINE_ERROR_CODES = {
  /** PDS has no record for this NHS number (404 RESOURCE_NOT_FOUND). */
  PDS_NOT_FOUND: { retryable: false },
  /** The record was invalidated and not superseded (404 INVALIDATED_RESOURCE). */
  PDS_INVALIDATED: { retryable: false },
  /** Not a valid NHS number: refused before sending, or 400 INVALID_RESOURCE_ID. */
  PDS_INVALID_NHS_NUMBER: { retryable: false },
  /** Search parameters PDS refuses (INVALID_SEARCH_DATA, INVALID_VALUE, MISSING_VALUE, ADDITIONAL_PROPERTIES...). */
  PDS_INVALID_SEARCH: { retryable: false },
  /** Spine access control refused the SCR (HTTP 420/403, e.g. PSIS-30418). */
  SCR_ACCESS_DENIED: { retryable: false },
  /** Token refused or missing, or the API refused the token (401). */
  SPINE_AUTH_FAILED: { retryable: false },
  /** The API refused this application or user the action (403). */
  SPINE_FORBIDDEN: { retryable: false },
  /** Any other 4xx: a request this client should not have sent. */
  SPINE_BAD_REQUEST: { retryable: false },
  /** 429: honour `retryAfterMs`. */
  SPINE_RATE_LIMITED: { retryable: true },
  /** 5xx, 408 or a network failure. */
  SPINE_UNAVAILABLE: { retryable: true },
  /** No answer within the client's timeout. */
  SPINE_TIMEOUT: { retryable: true },
  /** A success status whose body is not what the API documents. */
  SPINE_INVALID_RESPONSE: { retryable: false },
} as const satisfies Record<string, { retryable: boolean }>;

export type SpineErrorCode = keyof typeof SPINE_ERROR_CODES;

export interface SpineErrorDetails {
  cause?: unknown;
  /** HTTP status, when the API answered. */
  status?: number;
  /** The Spine error code from the OperationOutcome (e.g. `RESOURCE_NOT_FOUND`), when there was one. */
  spineCode?: string;
  /** The X-Request-ID of the failed request, for tracing with NHS support. */
  requestId?: string;
  /** From Retry-After on 429/503: how long the API asked us to wait. */
  retryAfterMs?: number;
}

export class SpineError extends ActivityError {
  // Narrowed from ActivityError's string; `declare` so that no class field overwrites what super() set.
  declare readonly code: SpineErrorCode;
  readonly status?: number;
  readonly spineCode?: string;
  readonly requestId?: string;
  readonly retryAfterMs?: number;

  constructor(code: SpineErrorCode, message: string, details: SpineErrorDetails = {}) {
    const { cause, ...facts } = details;
    super(message, code, SPINE_ERROR_CODES[code].retryable, { cause, details: facts });
    this.status = details.status;
    this.spineCode = details.spineCode;
    this.requestId = details.requestId;
    this.retryAfterMs = details.retryAfterMs;
  }

  /**
   * The failure an activity throws, as activities/errors.ts's `toApplicationFailure` makes it (type = code,
   * nonRetryable = !retryable), plus a rate limit's Retry-After as the next retry delay so Temporal waits as long
   * as Spine asked.
   */
  toApplicationFailure(): ApplicationFailure {
    return ApplicationFailure.create({
      message: this.message,
      type: this.code,
      nonRetryable: !this.retryable,
      details: [{ status: this.status, spineCode: this.spineCode, requestId: this.requestId }],
      cause: this.cause instanceof Error ? this.cause : undefined,
      nextRetryDelay: this.retryAfterMs,
    });
  }
}

export function isSpineError(error: unknown): error is SpineError {
  return error instanceof SpineError;
}
