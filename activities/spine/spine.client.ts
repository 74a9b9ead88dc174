/**
 * HTTP client for the NHS API platform's PDS FHIR R4 and SCR FHIR APIs (or the project's Spine sandbox), returning
 * the plain objects of spine.types.ts and failing with SpineError. Uses Node's global fetch.
 */
import { isValidNhsNumber, normaliseNhsNumber } from '../../domain/nhs-number';
import { type Logger, silentLogger } from '../../log';
import { createTokenProvider, type SpineAuthOptions } from './spine-auth';
import { SpineError } from './spine-errors';
import { createSpineHttp, DEFAULT_RETRY_POLICY, type RetryPolicy } from './spine-http';
import { toPdsPatient, toRelatedPersons, toSearchMatches } from './pds-mapping';
import { readScrContent, readScrPointer } from './scr-mapping';
import {
  type PdsPatient,
  type PdsRelatedPerson,
  type PdsSearchQuery,
  type PdsSearchResult,
  type ScrSummary,
} from './spine.types';

const PDS = '/personal-demographics/FHIR/R4';
const SCR = '/summary-care-record/FHIR/R4';
const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
const GP_SUMMARY_TYPE = 'http://snomed.info/sct|196981000000101';
const DEFAULT_TIMEOUT_MS = 10_000;

export interface SpineClientOptions {
  /** The platform's host (`https://int.api.service.nhs.uk`) or the sandbox's `baseUrl`; API paths are appended. */
  baseUrl: string;
  /** Application-restricted signed-JWT access. Without it, requests go unauthenticated (sandbox). */
  auth?: SpineAuthOptions;
  /** Sent as NHSD-End-User-Organisation-ODS: mandatory for applications serving several organisations. */
  odsCode?: string;
  logger?: Logger;
  /** Per attempt, including reading the body. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
}

export interface SpineCallOptions {
  /**
   * Makes the X-Request-IDs of this call derive from the key instead of being random, so that calling again with
   * the same key (a later attempt of the same activity) re-sends the same ids, as the platform asks of retries.
   */
  requestKey?: string;
}

export interface SpineClient {
  /** Reads a patient. A superseded number answers with the superseding record (see `supersededNhsNumber`). */
  getPatient(nhsNumber: string, options?: SpineCallOptions): Promise<PdsPatient>;
  searchPatients(query: PdsSearchQuery, options?: SpineCallOptions): Promise<PdsSearchResult>;
  /** Next of kin, guardians and other related people PDS records. Empty for restricted patients. */
  getRelatedPersons(nhsNumber: string, options?: SpineCallOptions): Promise<PdsRelatedPerson[]>;
  /**
   * The latest SCR's permission and, unless the patient opted out, its allergies and medications; `no-current-record`
   * when the SCR's latest id still answered an empty Bundle after one fresh look-up of the DocumentReference.
   */
  getSummaryCareRecord(nhsNumber: string, options?: SpineCallOptions): Promise<ScrSummary>;
}

/** Strips display spaces and refuses invalid numbers before anything is sent. */
function checkedNhsNumber(input: string): string {
  const nhsNumber = normaliseNhsNumber(input);
  if (!isValidNhsNumber(nhsNumber))
    throw new SpineError('PDS_INVALID_NHS_NUMBER', 'Not a valid NHS number (10 digits with a Modulus 11 check digit)');
  return nhsNumber;
}

function toSearchParams(query: PdsSearchQuery): URLSearchParams {
  const params = new URLSearchParams();
  const add = (name: string, value: string | number | boolean | undefined) => {
    if (value !== undefined) params.append(name, String(value));
  };
  add('family', query.family);
  for (const given of query.given ?? []) add('given', given);
  add('gender', query.gender);
  if (typeof query.birthDate === 'string') add('birthdate', `eq${query.birthDate}`);
  else {
    if (query.birthDate.from !== undefined) add('birthdate', `ge${query.birthDate.from}`);
    if (query.birthDate.to !== undefined) add('birthdate', `le${query.birthDate.to}`);
  }
  add('address-postalcode', query.postcode);
  add('general-practitioner', query.gpOdsCode);
  add('email', query.email);
  add('phone', query.phone);
  if (query.fuzzy) add('_fuzzy-match', true);
  if (query.exactMatch) add('_exact-match', true);
  if (query.history) add('_history', true);
  add('_max-results', query.maxResults);
  return params;
}

function isTooManyMatches(body: unknown): boolean {
  const outcome = body as { resourceType?: string; issue?: Array<{ details?: { coding?: Array<{ code?: string }> } }> };
  return (
    outcome.resourceType === 'OperationOutcome' &&
    (outcome.issue ?? []).some((i) => i.details?.coding?.some((c) => c.code === 'TOO_MANY_MATCHES'))
  );
}

export function createSpineClient(options: SpineClientOptions): SpineClient {
  const logger = (options.logger ?? silentLogger).child({ component: 'spine-client' });
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const http = createSpineHttp({
    baseUrl: options.baseUrl,
    timeoutMs,
    retry: { ...DEFAULT_RETRY_POLICY, ...options.retry },
    odsCode: options.odsCode,
    tokens: options.auth ? createTokenProvider({ ...options.auth, timeoutMs, logger }) : undefined,
    logger,
  });
  const now = () => new Date().toISOString();

  async function readScrPointerOf(nhsNumber: string, requestKey: string | undefined) {
    const response = await http.get(
      'scr',
      `${SCR}/DocumentReference`,
      new URLSearchParams({
        patient: `${NHS_NUMBER_SYSTEM}|${nhsNumber}`,
        type: GP_SUMMARY_TYPE,
        _sort: 'date',
        _count: '1',
      }),
      requestKey,
    );
    return readScrPointer(response.body);
  }

  async function readScr(nhsNumber: string, requestKey: string | undefined): Promise<ScrSummary> {
    const base = { nhsNumber, allergies: [], medications: [] };
    // Two rounds at most: an empty Bundle means a newer SCR replaced the id between the two calls.
    for (let round = 1; round <= 2; round++) {
      // A second round asks again, so it must not repeat the first round's request ids.
      const roundKey = requestKey === undefined ? undefined : `${requestKey}#${round}`;
      const pointer = await readScrPointerOf(nhsNumber, roundKey);
      if (!pointer) return { ...base, status: 'none', fetchedAt: now() };
      // An opt-out means the record is not to be viewed: do not fetch what may not be shown.
      if (pointer.permission === 'No') return { ...base, status: 'opted-out', ...pointer, fetchedAt: now() };
      const response = await http.get(
        'scr',
        `${SCR}/Bundle`,
        new URLSearchParams({
          'composition.identifier': pointer.scrId,
          'composition.subject:Patient.identifier': `${NHS_NUMBER_SYSTEM}|${nhsNumber}`,
        }),
        roundKey,
      );
      const content = readScrContent(response.body);
      if (content) return { ...base, status: 'available', ...pointer, ...content, fetchedAt: now() };
    }
    // Asked twice and both times pointed at a summary it no longer holds: an answer, not a fault to retry.
    return { ...base, status: 'no-current-record', fetchedAt: now() };
  }

  return {
    async getPatient(input, callOptions) {
      const nhsNumber = checkedNhsNumber(input);
      const response = await http.get('pds-read', `${PDS}/Patient/${nhsNumber}`, undefined, callOptions?.requestKey);
      return toPdsPatient(response.body, now(), nhsNumber);
    },

    async searchPatients(query, callOptions) {
      const response = await http.get('pds-search', `${PDS}/Patient`, toSearchParams(query), callOptions?.requestKey);
      if (isTooManyMatches(response.body)) return { outcome: 'too-many-matches' };
      return { outcome: 'matches', matches: toSearchMatches(response.body, now()) };
    },

    async getRelatedPersons(input, callOptions) {
      const nhsNumber = checkedNhsNumber(input);
      const response = await http.get(
        'pds-related',
        `${PDS}/Patient/${nhsNumber}/RelatedPerson`,
        undefined,
        callOptions?.requestKey,
      );
      return toRelatedPersons(response.body, now());
    },

    async getSummaryCareRecord(input, callOptions) {
      return readScr(checkedNhsNumber(input), callOptions?.requestKey);
    },
  };
}
