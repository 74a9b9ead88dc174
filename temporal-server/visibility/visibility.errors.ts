/**
 * Errors of the visibility room. Each has a stable `code`, a `retryable` flag and the gRPC status the
 * frontend should answer with, so the core maps them without reading messages. Messages follow Temporal's
 * server wording, because operators compare them with what a real cluster says.
 */

/** gRPC status codes used here (see @grpc/grpc-js `status`). */
export const GrpcStatus = {
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
} as const;
export type GrpcStatusCode = (typeof GrpcStatus)[keyof typeof GrpcStatus];

export const VISIBILITY_ERROR_CODES = [
  'INVALID_QUERY',
  'BAD_SEARCH_ATTRIBUTES',
  'SEARCH_ATTRIBUTE_ALREADY_EXISTS',
  'SEARCH_ATTRIBUTE_NOT_FOUND',
  'INVALID_SEARCH_ATTRIBUTE_DEFINITION',
] as const;
export type VisibilityErrorCode = (typeof VISIBILITY_ERROR_CODES)[number];

export class VisibilityError extends Error {
  readonly retryable = false;

  constructor(
    readonly code: VisibilityErrorCode,
    readonly grpcStatus: GrpcStatusCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A List Filter that cannot be parsed or compiled. `message` reads like Temporal's
 * ("invalid query: invalid expression: column name 'Foo' is not a valid search attribute"); `detail` is the
 * part after "invalid query: "; `position` is the 0-based offset in the query where it went wrong, if known.
 */
export class VisibilityQueryError extends VisibilityError {
  constructor(
    readonly detail: string,
    readonly position?: number,
  ) {
    super('INVALID_QUERY', GrpcStatus.INVALID_ARGUMENT, `invalid query: ${detail}`);
  }
}

/**
 * Search attributes sent by a client or a workflow that are unknown or of the wrong type. A workflow task
 * that upserts them fails with cause `WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES`; a start request
 * is refused with INVALID_ARGUMENT.
 */
export class BadSearchAttributesError extends VisibilityError {
  constructor(
    message: string,
    readonly attribute: string,
    options?: { cause?: unknown },
  ) {
    super('BAD_SEARCH_ATTRIBUTES', GrpcStatus.INVALID_ARGUMENT, message, options);
  }
}

/** Adding a name that is already registered with another type. */
export class SearchAttributeAlreadyExistsError extends VisibilityError {
  constructor(
    readonly attribute: string,
    message: string,
  ) {
    super('SEARCH_ATTRIBUTE_ALREADY_EXISTS', GrpcStatus.ALREADY_EXISTS, message);
  }
}

/** Removing a name that is not registered in the namespace. */
export class SearchAttributeNotFoundError extends VisibilityError {
  constructor(readonly attribute: string) {
    super('SEARCH_ATTRIBUTE_NOT_FOUND', GrpcStatus.NOT_FOUND, `Search attribute ${attribute} doesn't exist.`);
  }
}

/** A reserved or malformed name, or an unknown type, in an add or remove request. */
export class InvalidSearchAttributeDefinitionError extends VisibilityError {
  constructor(
    readonly attribute: string,
    message: string,
  ) {
    super('INVALID_SEARCH_ATTRIBUTE_DEFINITION', GrpcStatus.INVALID_ARGUMENT, message);
  }
}
