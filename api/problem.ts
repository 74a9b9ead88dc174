/**
 * RFC 9457 problem details. The error handler here is the only place that writes error responses.
 * Unknown errors become a generic 500 (logged in full, never echoed: a message could hold an NHS number).
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ThroughcareError, ValidationError, type ErrorCode, type FieldProblem } from '../domain/errors';
import { requestContext } from './request-context';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
export const PROBLEM_BASE = 'https://throughcare.dev/problems/';

/** Every domain error code has a status; adding a code without one fails to compile. */
const STATUS_BY_CODE: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  UNPROCESSABLE: 422,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  INTERNAL: 500,
  DEPENDENCY_UNAVAILABLE: 503,
};

const TITLE_BY_CODE: Record<ErrorCode, string> = {
  VALIDATION_FAILED: 'Your request has problems',
  UNPROCESSABLE: 'The content cannot be used',
  UNAUTHENTICATED: 'Sign in required',
  FORBIDDEN: 'Not allowed',
  NOT_FOUND: 'Not found',
  CONFLICT: 'Conflict',
  INTERNAL: 'Something went wrong',
  DEPENDENCY_UNAVAILABLE: 'A service Throughcare depends on is unavailable',
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  requestId?: string;
  errors?: readonly FieldProblem[];
}

/** The HTTP status of a domain error code, for anything that answers errors other than as problem+json (pages). */
export function statusOf(code: ErrorCode): number {
  return STATUS_BY_CODE[code];
}

export function problemFor(error: ThroughcareError): Problem {
  return {
    type: PROBLEM_BASE + error.code.toLowerCase().replace(/_/g, '-'),
    title: TITLE_BY_CODE[error.code],
    status: STATUS_BY_CODE[error.code],
    detail: error.message,
    ...(error instanceof ValidationError ? { errors: error.problems } : {}),
  };
}

const INTERNAL_PROBLEM: Omit<Problem, 'requestId'> = {
  type: PROBLEM_BASE + 'internal',
  title: TITLE_BY_CODE.INTERNAL,
  status: 500,
  detail: 'An unexpected error occurred. Quote the request id when reporting it.',
};

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new ThroughcareError('NOT_FOUND', `No route for ${req.method} ${req.path}`));
};

/** Express error middleware: the one writer of error responses. */
export const problemHandler: ErrorRequestHandler = (error: unknown, req, res, _next) => {
  const context = requestContext();
  let problem: Problem;
  if (error instanceof ThroughcareError) {
    problem = problemFor(error);
    context?.logger.info({ code: error.code, status: problem.status }, 'request failed');
  } else if (error instanceof URIError && (error as { status?: unknown }).status === 400) {
    // Express's router could not percent-decode a path parameter (`%zz`, `%E0%A4%A`, a lone surrogate's bytes).
    problem = problemFor(
      new ValidationError('The path is not valid percent-encoded UTF-8', [
        { pointer: '/path', detail: 'must be valid percent-encoded UTF-8' },
      ]),
    );
    context?.logger.info({ status: problem.status }, 'request path refused');
  } else if (isBodyParserError(error)) {
    problem = bodyProblem(error);
    context?.logger.info({ status: problem.status, reason: error.type }, 'request body refused');
  } else {
    problem = { ...INTERNAL_PROBLEM };
    context?.logger.error({ err: error }, 'unhandled error');
  }
  problem.instance = req.originalUrl;
  if (context) problem.requestId = context.requestId;
  res.status(problem.status).type(PROBLEM_CONTENT_TYPE).json(problem);
};

/** What express.json() throws for a body it refuses: a 4xx status and a stable `type`, safe to describe. */
interface BodyParserError {
  /** Absent when decompressing failed: body-parser passes on zlib's error marked 400 (a body not in its Content-Encoding). */
  readonly type?: string;
  readonly status: number;
  readonly limit?: number;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  if (typeof error !== 'object' || error === null) return false;
  const { type, status, expose } = error as { type?: unknown; status?: unknown; expose?: unknown };
  return (
    (type === undefined || typeof type === 'string') &&
    typeof status === 'number' &&
    status >= 400 &&
    status < 500 &&
    expose === true
  );
}

function bodyProblem(error: BodyParserError): Problem {
  if (error.type === 'entity.parse.failed') {
    return problemFor(
      new ValidationError('The request body is not valid JSON', [{ pointer: '', detail: 'must be valid JSON' }]),
    );
  }
  if (error.type === 'entity.too.large') {
    const limit = error.limit === undefined ? 'the limit' : `the limit of ${error.limit} bytes`;
    return {
      type: PROBLEM_BASE + 'payload-too-large',
      title: 'The request is too large',
      status: 413,
      detail: `The request body is larger than ${limit}`,
    };
  }
  // Unsupported encodings and charsets (415), aborted or mis-sized bodies (400): body-parser's own words.
  const type = error.type ?? 'encoding.mismatch';
  return {
    type: PROBLEM_BASE + type.replace(/\./g, '-'),
    title: 'The request body could not be read',
    status: error.status,
    detail: `The request body could not be read (${type})`,
  };
}
