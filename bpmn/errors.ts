/**
 * Errors the BPMN compiler raises when there is no IR to give back (the XML does not parse, or has no
 * process). Everything else a modeller can get wrong is a lint finding, which is data.
 */

export const BPMN_ERROR_CODES = ['BPMN_INVALID_XML', 'BPMN_NO_PROCESS'] as const;
export type BpmnErrorCode = (typeof BPMN_ERROR_CODES)[number];

export class PathwayCompileError extends Error {
  readonly retryable = false;
  constructor(
    readonly code: BpmnErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PathwayCompileError';
  }
}
