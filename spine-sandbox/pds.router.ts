/**
 * PDS FHIR R4 endpoints: read a patient (restricted records trimmed, superseded numbers answered with the
 * superseding record, invalidated ones with INVALIDATED_RESOURCE), search, and related people. Record faults set
 * for a number (fault-injection.ts) change what these answer.
 */
import { type Request, type Response, Router } from 'express';
import { isValidNhsNumber } from '../domain/nhs-number';
import { faultEffectsOf, patientsForSearch, patientWithFaults } from './fault-injection';
import { type FaultRegistry, type SandboxFault } from './faults';
import { type FhirPatient, type SandboxData, copyOf } from './fixtures';
import { buildTooManyMatchesOutcome, sendFhir, sendPdsError } from './operation-outcome';
import { isRestricted, searchPatients, type SearchQuery } from './pds-search';
import { toReadView, toSearchView } from './patient-view';

export const PDS_BASE_PATH = '/personal-demographics/FHIR/R4';

type Resolution =
  { kind: 'found'; patient: FhirPatient } | { kind: 'invalid' } | { kind: 'invalidated' } | { kind: 'not-found' };

/** NHS numbers in the path are exactly ten digits with a valid check digit; nothing is normalised. */
function resolve(data: SandboxData, id: string, faults: readonly SandboxFault[]): Resolution {
  if (!/^\d{10}$/.test(id) || !isValidNhsNumber(id)) return { kind: 'invalid' };
  const isSuperseded = faults.some((fault) => fault.kind === 'superseded');
  if (data.invalidated.has(id) && !isSuperseded) return { kind: 'invalidated' };
  const current = data.superseded.get(id) ?? id;
  const patient = patientWithFaults(data, data.patients.get(current), faults);
  return patient ? { kind: 'found', patient } : { kind: 'not-found' };
}

function sendUnresolved(res: Response, resolution: Exclude<Resolution, { kind: 'found' }>): void {
  switch (resolution.kind) {
    case 'invalid':
      return sendPdsError(res, 'INVALID_RESOURCE_ID');
    case 'invalidated':
      return sendPdsError(res, 'INVALIDATED_RESOURCE');
    case 'not-found':
      return sendPdsError(res, 'RESOURCE_NOT_FOUND');
  }
}

function baseUrlOf(req: Request): string {
  return `${req.protocol}://${req.get('host') ?? ''}${PDS_BASE_PATH}`;
}

export interface PdsRouterOptions {
  data: SandboxData;
  /** Whether callers are application-restricted (signed-JWT tokens): then search gives one unique match at most. */
  applicationRestricted: boolean;
  /** Record faults: search shows the records as they make them look. */
  faults: FaultRegistry;
}

export function createPdsRouter({ data, applicationRestricted, faults }: PdsRouterOptions): Router {
  const router = Router();

  router.get(`${PDS_BASE_PATH}/Patient`, (req, res) => {
    const outcome = searchPatients(req.query as SearchQuery, patientsForSearch(data, faults), {
      applicationRestricted,
    });
    switch (outcome.kind) {
      case 'error':
        return sendPdsError(res, outcome.error, outcome.diagnostics);
      case 'too-many-matches':
        return sendFhir(res, 200, buildTooManyMatchesOutcome());
      case 'matches':
        return sendFhir(res, 200, {
          resourceType: 'Bundle',
          type: 'searchset',
          timestamp: new Date().toISOString(),
          total: outcome.matches.length,
          entry: outcome.matches.map(({ patient, score }) => ({
            fullUrl: `${baseUrlOf(req)}/Patient/${patient.id}`,
            search: { score },
            resource: toSearchView(patient),
          })),
        });
    }
  });

  router.get(`${PDS_BASE_PATH}/Patient/:id`, (req, res) => {
    const resolution = resolve(data, req.params.id, faultEffectsOf(req));
    if (resolution.kind !== 'found') return sendUnresolved(res, resolution);
    const patient = toReadView(resolution.patient);
    res.set('ETag', `W/"${patient.meta.versionId}"`);
    return sendFhir(res, 200, patient);
  });

  router.get(`${PDS_BASE_PATH}/Patient/:id/RelatedPerson`, (req, res) => {
    const resolution = resolve(data, req.params.id, faultEffectsOf(req));
    if (resolution.kind !== 'found') return sendUnresolved(res, resolution);
    const { patient } = resolution;
    // A restricted patient's related people would reveal where they are: PDS answers with an empty bundle.
    const people = isRestricted(patient) ? [] : copyOf(data.relatedPersons.get(patient.id) ?? []);
    return sendFhir(res, 200, {
      resourceType: 'Bundle',
      type: 'searchset',
      timestamp: new Date().toISOString(),
      total: people.length,
      entry: people.map((person) => ({
        fullUrl: `${baseUrlOf(req)}/Patient/${patient.id}/RelatedPerson/${(person as { id: string }).id}`,
        resource: person,
      })),
    });
  });

  router.all(`${PDS_BASE_PATH}/*rest`, (req, res) => {
    sendFhir(res, 404, {
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'not-found', diagnostics: `Unsupported path - '${req.path}'` }],
    });
  });

  return router;
}
