/**
 * Faults on the wire: the middleware that finds the number a PDS or SCR request names, takes the faults acting on
 * it from the registry, delays and answers failures as the real APIs do, and leaves the effects (superseded,
 * restricted, opted out...) for the PDS and SCR routers to apply with the helpers below.
 */
import { createHash } from 'node:crypto';
import { type Request, type RequestHandler, type Response } from 'express';
import { copyOf, type FhirPatient, type SandboxData, type ScrFixture } from './fixtures';
import { type Api, type Endpoint, type FaultRegistry, type SandboxFault } from './faults';
import { sendPdsError, sendScrError } from './operation-outcome';

const NHS_NUMBER_PREFIX = 'https://fhir.nhs.uk/Id/nhs-number|';
const CONFIDENTIALITY = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
const UKCORE = 'https://fhir.hl7.org.uk/StructureDefinition/';
const DEATH_NOTIFICATION = `${UKCORE}Extension-UKCore-DeathNotificationStatus`;

// The texts PDS's proxy answers 429 and 503 with (the same as the sandbox's transientFailure).
const PDS_RATE_LIMITED =
  'Your application has exceeded its quota and is being rate limited. Please see: https://digital.nhs.uk/developer/guides-and-documentation/reference-guide#rate-limits for more details.';
const PDS_UNAVAILABLE =
  "The downstream domain processing has not completed within the configured timeout period. Using the same 'X-Request-ID' header, retry your request after the time specified by the 'Retry-After' response header.";
// SCR's service maps Spine's PSIS 420 (access control) to 403 with these details (GetScrService, SpineDetectedIssuesHandler).
export const SCR_ACCESS_CONTROL_REFUSAL =
  'Code: 420, Display: Business condition related to access control  which prevents the action being performed by PSIS;Code: 30418, Display: [PSIS-30418] - ACF does not permit access to resource';

const effectsByRequest = new WeakMap<Request, SandboxFault[]>();

/** The effects the fault middleware left for this request's router. */
export function faultEffectsOf(req: Request): SandboxFault[] {
  return effectsByRequest.get(req) ?? [];
}

function queryValue(req: Request, name: string): string | undefined {
  const value = req.query[name];
  const first: unknown = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : undefined;
}

function numberFromIdentifier(token: string | undefined): string | undefined {
  return token?.startsWith(NHS_NUMBER_PREFIX) ? token.slice(NHS_NUMBER_PREFIX.length) : undefined;
}

interface Target {
  endpoint: Endpoint;
  nhsNumber?: string;
  /** The SCR query parameter that names the patient, for malformed-request's text. */
  field?: { name: string; value: string };
}

/** What a request (path relative to the API's base) asks for and which number it names, read leniently. */
function targetOf(api: Api, req: Request): Target {
  if (api === 'pds') {
    const read = /^\/Patient\/([^/]+)(\/RelatedPerson)?\/?$/.exec(req.path);
    if (read) return { endpoint: read[2] ? 'pds-related' : 'pds-read', nhsNumber: read[1] };
    return { endpoint: /^\/Patient\/?$/.test(req.path) ? 'pds-search' : 'other' };
  }
  if (req.path === '/DocumentReference') {
    const patient = queryValue(req, 'patient');
    return {
      endpoint: 'scr-pointer',
      nhsNumber: numberFromIdentifier(patient),
      field: { name: 'patient', value: patient ?? '' },
    };
  }
  if (req.path === '/Bundle') {
    const subject = queryValue(req, 'composition.subject:Patient.identifier');
    return {
      endpoint: 'scr-bundle',
      nhsNumber: numberFromIdentifier(subject),
      field: { name: 'composition.identifier', value: queryValue(req, 'composition.identifier') ?? '' },
    };
  }
  return { endpoint: 'other' };
}

function sendFailure(api: Api, fault: SandboxFault, target: Target, req: Request, res: Response): void {
  switch (fault.kind) {
    case 'rate-limited':
      res.set('Retry-After', String(fault.retryAfterSeconds ?? 1));
      if (api === 'pds') return sendPdsError(res, 'TOO_MANY_REQUESTS', PDS_RATE_LIMITED);
      // The SCR spec gives 429 no issue code; `throttled` is FHIR's for it.
      return sendScrError(res, 429, 'throttled', "You have exceeded your application's rate limit");
    case 'unavailable':
      if (fault.retryAfterSeconds !== undefined) res.set('Retry-After', String(fault.retryAfterSeconds));
      if (api === 'pds') return sendPdsError(res, 'SERVICE_UNAVAILABLE', PDS_UNAVAILABLE);
      return sendScrError(res, 503, 'transient', 'Code: 503, Display: Service Not Available');
    case 'malformed-request': {
      if (api === 'pds')
        return sendPdsError(
          res,
          'INVALID_VALUE',
          fault.diagnostics ?? `Invalid value - '${req.get('X-Request-ID') ?? ''}' in header 'X-Request-ID'`,
        );
      const field = target.field ?? { name: 'patient', value: '' };
      return sendScrError(
        res,
        400,
        'value',
        fault.diagnostics ?? `Invalid value - ${field.value} in field '${field.name}'`,
      );
    }
    case 'not-found':
      return sendPdsError(res, 'RESOURCE_NOT_FOUND');
    case 'invalidated':
      return sendPdsError(res, 'INVALIDATED_RESOURCE');
    case 'access-denied':
      return sendScrError(res, 403, 'forbidden', SCR_ACCESS_CONTROL_REFUSAL);
    case 'superseded':
    case 'restricted':
    case 'deceased':
    case 'opted-out':
    case 'permission-not-recorded':
    case 'no-current-record':
    case 'stale-document':
    case 'slow':
      // Effects and delays never answer on their own; the registry does not return them as failures.
      throw new Error(`fault ${fault.kind} cannot answer a request`);
  }
}

/** Mounted under an API's base path, after the request id and bearer checks. */
export function injectFaults(api: Api, registry: FaultRegistry): RequestHandler {
  return (req, res, next) => {
    const target = targetOf(api, req);
    const applied = registry.take({
      api,
      endpoint: target.endpoint,
      nhsNumber: target.nhsNumber,
      requestId: req.get('X-Request-ID') ?? '',
    });
    const answer = () => {
      if (applied.failure) return sendFailure(api, applied.failure, target, req, res);
      if (applied.effects.length > 0) effectsByRequest.set(req, applied.effects);
      next();
    };
    if (applied.delayMs === 0) return answer();
    // Outside Express's call stack a throw would end the process: hand it to the error handler instead.
    setTimeout(() => {
      try {
        answer();
      } catch (error) {
        next(error);
      }
    }, applied.delayMs);
  };
}

/** A UUID derived from a text, upper case as SCR ids are: stable ids for made-up SCRs. */
function uuidFrom(text: string): string {
  const h = createHash('sha256').update(text).digest('hex').toUpperCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-A${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function hasFault(effects: readonly SandboxFault[], kind: SandboxFault['kind']): boolean {
  return effects.some((fault) => fault.kind === kind);
}

/**
 * The stored record PDS answers for a number, after record faults: undefined when a fault makes the number
 * unknown. `stored` is what the sandbox's own data resolves the number to (after its fixed supersessions).
 */
export function patientWithFaults(
  data: SandboxData,
  stored: FhirPatient | undefined,
  effects: readonly SandboxFault[],
): FhirPatient | undefined {
  let patient = stored;
  const superseded = effects.find((fault) => fault.kind === 'superseded');
  if (superseded) {
    patient = superseded.record
      ? (copyOf(superseded.record) as unknown as FhirPatient)
      : data.patients.get(data.superseded.get(superseded.newNhsNumber) ?? superseded.newNhsNumber);
  }
  if (!patient) return undefined;
  const restricted = hasFault(effects, 'restricted');
  const deceased = effects.find((fault) => fault.kind === 'deceased');
  if (!restricted && !deceased) return patient;
  const changed = copyOf(patient);
  if (restricted)
    changed.meta = { ...changed.meta, security: [{ system: CONFIDENTIALITY, code: 'R', display: 'restricted' }] };
  if (deceased?.deceasedDateTime) {
    changed.deceasedDateTime = deceased.deceasedDateTime;
    changed.extension = [
      ...(changed.extension ?? []).filter((e) => e.url !== DEATH_NOTIFICATION),
      {
        url: DEATH_NOTIFICATION,
        extension: [
          {
            url: 'deathNotificationStatus',
            valueCodeableConcept: {
              coding: [
                {
                  system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-DeathNotificationStatus',
                  version: '1.0.0',
                  code: '2',
                  display: 'Formal - death notice received from Registrar of Deaths',
                },
              ],
            },
          },
          { url: 'systemEffectiveDate', valueDateTime: deceased.deceasedDateTime },
        ],
      } as { url: string },
    ];
  }
  return changed;
}

/** The patients a PDS search looks through, as record faults now show them (uncounted: search names no number). */
export function* patientsForSearch(data: SandboxData, registry: FaultRegistry): Iterable<FhirPatient> {
  for (const patient of data.patients.values()) {
    const faults = registry.peekRecord(patient.id);
    if (faults.some((f) => f.kind === 'not-found' || f.kind === 'invalidated' || f.kind === 'superseded')) continue;
    yield patientWithFaults(data, patient, faults) ?? patient;
  }
}

/**
 * The SCR the API answers for a number after SCR faults, and the id the DocumentReference points at (a stale
 * one under `stale-document`). Undefined: no SCR to point at, or (`no-current-record`) no content for any id.
 */
export function scrWithFaults(
  nhsNumber: string,
  stored: ScrFixture | undefined,
  effects: readonly SandboxFault[],
): { scr: ScrFixture; pointerId: string } | undefined {
  let scr = stored;
  if (hasFault(effects, 'opted-out'))
    // An opted-out patient's content is refused by access control, whatever the sandbox holds.
    scr = { scrId: stored?.scrId ?? uuidFrom(`scr ${nhsNumber}`), bundle: null, permission: 'No', accessDenied: true };
  else if (scr && hasFault(effects, 'permission-not-recorded')) scr = { ...scr, permission: 'Ask' };
  // Only Bundle requests meet this fault: the pointer still names the SCR, its content answers empty.
  else if (scr && hasFault(effects, 'no-current-record')) scr = { ...scr, bundle: null };
  if (!scr) return undefined;
  return { scr, pointerId: hasFault(effects, 'stale-document') ? uuidFrom(`stale ${scr.scrId}`) : scr.scrId };
}
