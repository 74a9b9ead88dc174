/**
 * Errors the embedded Temporal server returns as gRPC statuses. Each has a stable gRPC code; details are
 * packed into `grpc-status-details-bin` as Temporal's server does, so the SDK maps them to its own errors.
 */
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { encodeMessage, packAny, type Msg } from './proto';

export const GrpcCode = GrpcStatus;

export class TemporalServiceError extends Error {
  readonly code: GrpcStatus;
  readonly retryable: boolean;
  readonly detail?: { typeName: string; value: Msg };
  constructor(code: GrpcStatus, message: string, detail?: { typeName: string; value: Msg }) {
    super(message);
    this.name = 'TemporalServiceError';
    this.code = code;
    this.retryable = code === GrpcStatus.UNAVAILABLE || code === GrpcStatus.RESOURCE_EXHAUSTED;
    this.detail = detail;
  }

  /** The shape grpc-js expects in a unary callback's error argument. */
  toGrpc(): { code: GrpcStatus; details: string; metadata: Metadata } {
    const metadata = new Metadata();
    const details = this.detail ? [packAny(this.detail.typeName, this.detail.value)] : [];
    // A message quoting what a client sent (a query's offending character) may hold half a surrogate pair, which
    // grpc-js cannot percent-encode into the status header: it would throw instead of answering.
    const message = wellFormed(this.message);
    metadata.set('grpc-status-details-bin', encodeMessage('google.rpc.Status', { code: this.code, message, details }));
    return { code: this.code, details: message, metadata };
  }
}

export function notFound(message: string): TemporalServiceError {
  return new TemporalServiceError(GrpcStatus.NOT_FOUND, message, {
    typeName: 'temporal.api.errordetails.v1.NotFoundFailure',
    value: {},
  });
}
export function invalidArgument(message: string): TemporalServiceError {
  return new TemporalServiceError(GrpcStatus.INVALID_ARGUMENT, message);
}
export function failedPrecondition(message: string): TemporalServiceError {
  return new TemporalServiceError(GrpcStatus.FAILED_PRECONDITION, message);
}
export function alreadyStarted(message: string, startRequestId: string, runId: string): TemporalServiceError {
  return new TemporalServiceError(GrpcStatus.ALREADY_EXISTS, message, {
    typeName: 'temporal.api.errordetails.v1.WorkflowExecutionAlreadyStartedFailure',
    value: { startRequestId, runId },
  });
}
export function unimplemented(method: string): TemporalServiceError {
  return new TemporalServiceError(GrpcStatus.UNIMPLEMENTED, `${method} is not implemented by the embedded server`);
}

/** The text with each lone surrogate (half a pair) replaced by U+FFFD, as String.prototype.toWellFormed does. */
export function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}
