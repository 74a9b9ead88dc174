/**
 * Throughcare's error hierarchy, independent of HTTP and of Temporal. Each error carries a stable `code`
 * (what callers and workflows branch on, never the message), whether retrying could help, and its cause.
 * The API maps codes to HTTP statuses in one table (api/problem.ts); activities map them to Temporal
 * failures in one converter.
 */

export const ERROR_CODES = [
  'VALIDATION_FAILED',
  'UNPROCESSABLE',
  'NOT_FOUND',
  'CONFLICT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'DEPENDENCY_UNAVAILABLE',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class ThroughcareError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** One field that failed validation, located by JSON Pointer (RFC 6901) into the submitted document. */
export interface FieldProblem {
  readonly pointer: string;
  readonly detail: string;
}

export class ValidationError extends ThroughcareError {
  constructor(
    message: string,
    readonly problems: readonly FieldProblem[],
    /** The request was well formed but its content cannot be used (a pathway lint refused): HTTP 422. */
    options: { unprocessable?: boolean } = {},
  ) {
    super(options.unprocessable ? 'UNPROCESSABLE' : 'VALIDATION_FAILED', message);
  }
}

export class NotFoundError extends ThroughcareError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

export class ConflictError extends ThroughcareError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('CONFLICT', message, options);
  }
}

export class DependencyUnavailableError extends ThroughcareError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('DEPENDENCY_UNAVAILABLE', message, { ...options, retryable: true });
  }
}
