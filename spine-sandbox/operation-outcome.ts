/**
 * The error bodies the NHS API platform returns, in one place: PDS's Spine-coded OperationOutcomes (code, issue
 * code, severity, HTTP status as the PDS sandbox stubs and the live proxy's fault policies give them), SCR's
 * text-only OperationOutcomes, and the OAuth2 token endpoint's `{ error, error_description }`.
 */
import { randomUUID } from 'node:crypto';
import { type Response } from 'express';

export const SPINE_ERROR_SYSTEM = 'https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode';
export const FHIR_JSON = 'application/fhir+json';

type Severity = 'fatal' | 'error' | 'warning' | 'information';

interface PdsErrorDefinition {
  status: number;
  /** FHIR issue type, as the real API sends it (not always a FHIR IssueType: the proxy's max-results fault says `token`). */
  issueCode: string;
  severity: Severity;
  display: string;
}

/** Spine error codes the sandbox can answer with. Sources: PDS sandbox stubs `errorResponses/*.json`, proxy policies. */
export const PDS_ERRORS = {
  INVALID_RESOURCE_ID: { status: 400, issueCode: 'value', severity: 'error', display: 'Resource Id is invalid' },
  UNSUPPORTED_SERVICE: { status: 400, issueCode: 'processing', severity: 'error', display: 'Unsupported Service' },
  MISSING_VALUE: { status: 400, issueCode: 'required', severity: 'error', display: 'Required value is missing' },
  INVALID_VALUE: { status: 400, issueCode: 'value', severity: 'error', display: 'Provided value is invalid' },
  INVALID_SEARCH_DATA: { status: 400, issueCode: 'value', severity: 'error', display: 'Search data is invalid' },
  ADDITIONAL_PROPERTIES: {
    status: 400,
    issueCode: 'invariant',
    severity: 'error',
    display: 'Additional properties should not be included',
  },
  ACCESS_DENIED: { status: 401, issueCode: 'forbidden', severity: 'error', display: 'Access Denied - Unauthorised' },
  // Application-restricted callers asking for more than one result (proxy policy RaiseFault.MaxResultsInvalidAppRestricted).
  MAX_RESULTS_FORBIDDEN: {
    status: 403,
    issueCode: 'token',
    severity: 'error',
    display: 'Cannot retrieve more than one result with application-restricted access token',
  },
  RESOURCE_NOT_FOUND: { status: 404, issueCode: 'not-found', severity: 'information', display: 'Resource not found' },
  UNABLE_TO_CALL_SERVICE: { status: 408, issueCode: 'timeout', severity: 'error', display: 'Unable to call service' },
  INVALIDATED_RESOURCE: {
    status: 404,
    issueCode: 'processing',
    severity: 'error',
    display: 'Resource that has been marked as invalid was requested - invalid resources cannot be retrieved',
  },
  TOO_MANY_REQUESTS: { status: 429, issueCode: 'value', severity: 'error', display: 'Too many requests' },
  UNKNOWN_ERROR: { status: 500, issueCode: 'unknown', severity: 'error', display: 'Unknown Error' },
  SERVICE_UNAVAILABLE: { status: 503, issueCode: 'timeout', severity: 'error', display: 'Service unavailable' },
} as const satisfies Record<string, PdsErrorDefinition>;

export type PdsErrorName = keyof typeof PDS_ERRORS;

/** The Spine code written in the body; MAX_RESULTS_FORBIDDEN is INVALID_VALUE on the wire, with a 403. */
function spineCodeOf(name: PdsErrorName): string {
  return name === 'MAX_RESULTS_FORBIDDEN' ? 'INVALID_VALUE' : name;
}

export interface OperationOutcome {
  resourceType: 'OperationOutcome';
  issue: Array<{
    severity: Severity;
    code: string;
    details?: { coding?: Array<{ system: string; version: string; code: string; display: string }>; text?: string };
    diagnostics?: string;
  }>;
}

export function buildPdsOutcome(name: PdsErrorName, diagnostics?: string): OperationOutcome {
  const def: PdsErrorDefinition = PDS_ERRORS[name];
  return {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: def.severity,
        code: def.issueCode,
        details: {
          coding: [{ system: SPINE_ERROR_SYSTEM, version: '1', code: spineCodeOf(name), display: def.display }],
        },
        ...(diagnostics === undefined ? {} : { diagnostics }),
      },
    ],
  };
}

/** TOO_MANY_MATCHES is not an error status: search answers 200 with this outcome (PDS stub `TOO_MANY_MATCHES.json`). */
export function buildTooManyMatchesOutcome(): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: 'information',
        code: 'multiple-matches',
        details: {
          coding: [{ system: SPINE_ERROR_SYSTEM, version: '1', code: 'TOO_MANY_MATCHES', display: 'Too Many Matches' }],
        },
      },
    ],
  };
}

export function sendFhir(res: Response, status: number, body: unknown): void {
  res.status(status).set('Content-Type', FHIR_JSON).send(JSON.stringify(body));
}

export function sendPdsError(res: Response, name: PdsErrorName, diagnostics?: string): void {
  sendFhir(res, PDS_ERRORS[name].status, buildPdsOutcome(name, diagnostics));
}

/** SCR's service writes plain OperationOutcomes: an issue code and `details.text`, no Spine coding. */
export function sendScrError(res: Response, status: number, issueCode: string, text: string): void {
  sendFhir(res, status, {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code: issueCode, details: { text } }],
  } satisfies OperationOutcome);
}

/** The token endpoint's error shape (NHS identity service tests: `{ error, error_description }` plus a message id). */
export function sendOAuthError(res: Response, status: number, error: string, description: string): void {
  res.status(status).json({ error, error_description: description, message_id: randomUUID() });
}
