/**
 * RFC 9457 problem details. The error handler here is the only place that writes error responses.
 * Unknown errors become a generic 500 (logged in full, never echoed: a message could hold an NHS number).
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ThroughcareError, ValidationError, type ErrorCode, type FieldProblem } from '../domain/errors';
import { requestContext } from './request-context';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const PROBLEM_BASE = 'https://throughcare.dev/problems/';

/** Every domain error code has a status; adding a code without one fails to compile. */
const STATUS_BY_CODE: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  INTERNAL: 500,
  DEPENDENCY_UNAVAILABLE: 503,
};

const TITLE_BY_CODE: Record<ErrorCode, string> = {
  VALIDATION_FAILED: 'Your request has problems',
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
  } else if (isBodyParserError(error)) {
    problem = problemFor(
      new ValidationError('The request body is not valid JSON', [{ pointer: '', detail: 'must be valid JSON' }]),
    );
    context?.logger.info({ status: 400 }, 'request body is not valid JSON');
  } else {
    problem = { ...INTERNAL_PROBLEM };
    context?.logger.error({ err: error }, 'unhandled error');
  }
  problem.instance = req.originalUrl;
  if (context) problem.requestId = context.requestId;
  res.status(problem.status).type(PROBLEM_CONTENT_TYPE).json(problem);
};

function isBodyParserError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { type?: string }).type === 'entity.parse.failed';
}
