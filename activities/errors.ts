/**
 * The errors activities throw: a small hierarchy with a stable `code` (what went wrong, for workflows to
 * branch on) and a `retryable` flag (whether trying again can help). `toApplicationFailure` is the one place
 * they become Temporal failures: `type` = code, `nonRetryable` = !retryable.
 */
import { ApplicationFailure } from '@temporalio/common';

export const ActivityErrorCode = {
  /** Something the activity needs (a case, a task, a contact) is not in the record. */
  NotFound: 'NOT_FOUND',
  /** The same idempotency key was used before for a different record. */
  IdempotencyConflict: 'IDEMPOTENCY_CONFLICT',
  /** The record is not in a state that allows this (a cancelled task completed, a note amended twice). */
  InvalidState: 'INVALID_STATE',
  /** The input breaks a rule of the record (invalid NHS number, SNOMED code, missing address). */
  InvalidInput: 'INVALID_INPUT',
  /** The database refused the write by a rule of its own (append-only record, check or unique constraint). */
  RecordRefused: 'RECORD_REFUSED',
  /** The database could not be reached or was briefly unable to answer. */
  DatabaseUnavailable: 'DATABASE_UNAVAILABLE',
  /** A notification could not be delivered this time; trying again may work. */
  DeliveryFailed: 'DELIVERY_FAILED',
  /** A notification cannot be delivered (the provider refused it, or all attempts are spent). */
  DeliveryRejected: 'DELIVERY_REJECTED',
  /** A delivery attempt died after claiming the message: it may or may not have gone, so it is not resent. */
  DeliveryOutcomeUnknown: 'DELIVERY_OUTCOME_UNKNOWN',
  /** Anything not foreseen. Retried, because most unforeseen failures are passing ones. */
  Unexpected: 'UNEXPECTED',
} as const;
export type ActivityErrorCode = (typeof ActivityErrorCode)[keyof typeof ActivityErrorCode];

export interface ActivityErrorOptions {
  cause?: unknown;
  /** Facts for whoever handles the failure (ids, never personal data). */
  details?: Record<string, unknown>;
  /** For a retryable error: when the next attempt should run, overriding the retry policy's backoff. */
  nextRetryDelayMs?: number;
}

export class ActivityError extends Error {
  override readonly name: string = 'ActivityError';
  readonly details: Record<string, unknown>;
  readonly nextRetryDelayMs: number | undefined;

  constructor(
    message: string,
    readonly code: string,
    readonly retryable: boolean,
    options: ActivityErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.details = options.details ?? {};
    this.nextRetryDelayMs = options.nextRetryDelayMs;
  }
}

export class NotFoundError extends ActivityError {
  constructor(what: string, id: string) {
    super(`${what} ${id} is not in the record`, ActivityErrorCode.NotFound, false, { details: { what, id } });
  }
}

export class IdempotencyConflictError extends ActivityError {
  constructor(what: string, id: string) {
    super(`${what} ${id} already exists with different content`, ActivityErrorCode.IdempotencyConflict, false, {
      details: { what, id },
    });
  }
}

export class InvalidStateError extends ActivityError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(message, ActivityErrorCode.InvalidState, false, { details });
  }
}

export class InvalidInputError extends ActivityError {
  constructor(message: string, options: ActivityErrorOptions = {}) {
    super(message, ActivityErrorCode.InvalidInput, false, options);
  }
}

/** Delivery failures; `retryable` says whether the provider's answer leaves room for another attempt. */
export class DeliveryError extends ActivityError {
  constructor(message: string, retryable: boolean, options: ActivityErrorOptions = {}) {
    super(
      message,
      retryable ? ActivityErrorCode.DeliveryFailed : ActivityErrorCode.DeliveryRejected,
      retryable,
      options,
    );
  }
}

interface CodedError {
  code: string;
  retryable: boolean;
  message: string;
}

function isCodedError(error: unknown): error is Error & CodedError {
  return (
    error instanceof Error &&
    typeof (error as Partial<CodedError>).code === 'string' &&
    typeof (error as Partial<CodedError>).retryable === 'boolean'
  );
}

/** PostgreSQL SQLSTATE of an error from pg, knex or MikroORM, if it has one. */
function sqlStateOf(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const candidate = error as { sqlState?: unknown; code?: unknown };
  if (typeof candidate.sqlState === 'string') return candidate.sqlState;
  if (typeof candidate.code === 'string' && /^[0-9A-Z]{5}$/.test(candidate.code)) return candidate.code;
  return undefined;
}

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Classifies any thrown value as an ActivityError. Errors that already carry a code and retryable flag
 * (ours, the store's) keep them; database errors are classified by SQLSTATE.
 */
export function toActivityError(error: unknown): ActivityError {
  if (error instanceof ActivityError) return error;
  if (isCodedError(error)) return new ActivityError(error.message, error.code, error.retryable, { cause: error });
  const sqlState = sqlStateOf(error);
  const message = error instanceof Error ? error.message : String(error);
  if (sqlState) {
    // 23: integrity constraint violations, including the append-only triggers: trying again cannot help.
    if (sqlState.startsWith('23')) {
      return new ActivityError(message, ActivityErrorCode.RecordRefused, false, {
        cause: error,
        details: { sqlState },
      });
    }
    // 40: serialization failure or deadlock; 08: connection; 53: resources; 57: shutdown or cancel.
    if (['40', '08', '53', '57'].some((cls) => sqlState.startsWith(cls))) {
      return new ActivityError(message, ActivityErrorCode.DatabaseUnavailable, true, {
        cause: error,
        details: { sqlState },
      });
    }
    // 22 (bad data) and 42 (a query error) will fail the same way next time.
    if (sqlState.startsWith('22') || sqlState.startsWith('42')) {
      return new ActivityError(message, ActivityErrorCode.InvalidInput, false, { cause: error, details: { sqlState } });
    }
  }
  const errno = (error as { code?: unknown } | undefined)?.code;
  if (
    (typeof errno === 'string' && CONNECTION_ERRORS.has(errno)) ||
    (error instanceof Error && (error.name === 'KnexTimeoutError' || error.name === 'ConnectionException'))
  ) {
    return new ActivityError(message, ActivityErrorCode.DatabaseUnavailable, true, { cause: error });
  }
  return new ActivityError(message, ActivityErrorCode.Unexpected, true, { cause: error });
}

/** The one conversion from our errors to Temporal's: `type` = code, `nonRetryable` = !retryable. */
export function toApplicationFailure(error: unknown): ApplicationFailure {
  if (error instanceof ApplicationFailure) return error;
  const activityError = toActivityError(error);
  return ApplicationFailure.create({
    message: activityError.message,
    type: activityError.code,
    nonRetryable: !activityError.retryable,
    details: Object.keys(activityError.details).length > 0 ? [activityError.details] : undefined,
    cause: activityError.cause instanceof Error ? activityError.cause : undefined,
    nextRetryDelay: activityError.retryable ? activityError.nextRetryDelayMs : undefined,
  });
}

/**
 * Wraps each function of an activities object so that whatever it throws leaves as an ApplicationFailure.
 * Applied once, where the activities are built, so no activity can forget it.
 */
export function withFailureConversion<T extends Record<string, (...args: never[]) => Promise<unknown>>>(
  activities: T,
): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      try {
        return await fn(...args);
      } catch (error) {
        throw toApplicationFailure(error);
      }
    };
    // Temporal registers activities by property name, but keep the function name for stack traces.
    Object.defineProperty(wrapped[name], 'name', { value: name });
  }
  return wrapped as T;
}
