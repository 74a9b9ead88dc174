/**
 * Summary Care Record FHIR API (v3) read endpoints: `GET /DocumentReference` gives the latest SCR id and the
 * patient's SCR-ACSPermission (Yes | No | Ask); `GET /Bundle` gives that SCR, or an empty Bundle for any other id.
 * Parameter checks and error texts follow the SCR service's validators. SCR faults set for a number
 * (fault-injection.ts) change what these answer.
 */
import { randomUUID } from 'node:crypto';
import { type Request, type Response, Router } from 'express';
import { isValidNhsNumber } from '../domain/nhs-number';
import { faultEffectsOf, scrWithFaults } from './fault-injection';
import { copyOf, type SandboxData } from './fixtures';
import { sendFhir, sendScrError } from './operation-outcome';

export const SCR_BASE_PATH = '/summary-care-record/FHIR/R4';
const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
const GP_SUMMARY = { system: 'http://snomed.info/sct', code: '196981000000101', display: 'General Practice Summary' };

function single(req: Request, name: string): string | undefined {
  const value = req.query[name];
  if (Array.isArray(value)) return typeof value[0] === 'string' ? value[0] : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** Reads `https://fhir.nhs.uk/Id/nhs-number|<n>`; undefined when the prefix or the number is wrong. */
function nhsNumberFrom(token: string): string | undefined {
  const prefix = `${NHS_NUMBER_SYSTEM}|`;
  if (!token.startsWith(prefix)) return undefined;
  const nhsNumber = token.slice(prefix.length);
  return /^\d{10}$/.test(nhsNumber) && isValidNhsNumber(nhsNumber) ? nhsNumber : undefined;
}

function missingParameter(res: Response, name: string): void {
  sendScrError(
    res,
    400,
    'value',
    `Required request parameter '${name}' for method parameter type String is not present`,
  );
}

function invalidParameter(res: Response, name: string, value: string): void {
  sendScrError(res, 400, 'value', `Invalid value - ${value} in field '${name}'`);
}

function emptyBundle(): Record<string, unknown> {
  return { resourceType: 'Bundle', id: randomUUID().toUpperCase(), type: 'searchset', total: 0 };
}

export function createScrRouter({ data }: { data: SandboxData }): Router {
  const router = Router();

  router.get(`${SCR_BASE_PATH}/DocumentReference`, (req, res) => {
    const patient = single(req, 'patient');
    if (patient === undefined) return missingParameter(res, 'patient');
    const nhsNumber = nhsNumberFrom(patient);
    if (nhsNumber === undefined) return invalidParameter(res, 'patient', patient);
    const type = single(req, 'type');
    if (type !== undefined && type !== `${GP_SUMMARY.system}|${GP_SUMMARY.code}`)
      return invalidParameter(res, 'type', type);
    const sort = single(req, '_sort');
    if (sort !== undefined && sort !== 'date') return invalidParameter(res, '_sort', sort);
    const count = single(req, '_count');
    if (count !== undefined && count !== '1') return invalidParameter(res, '_count', count);

    const current = scrWithFaults(nhsNumber, data.scr.get(nhsNumber), faultEffectsOf(req));
    if (!current) return sendFhir(res, 200, emptyBundle());
    const { scr, pointerId } = current;
    const base = `${req.protocol}://${req.get('host') ?? ''}${SCR_BASE_PATH}`;
    const documentId = randomUUID();
    const patientId = randomUUID();
    const bundleQuery = new URLSearchParams({
      'composition.identifier': pointerId,
      'composition.subject:Patient.identifier': `${NHS_NUMBER_SYSTEM}|${nhsNumber}`,
    });
    return sendFhir(res, 200, {
      resourceType: 'Bundle',
      id: randomUUID(),
      type: 'searchset',
      total: 1,
      entry: [
        {
          fullUrl: `${base}/DocumentReference/${documentId}`,
          resource: {
            resourceType: 'DocumentReference',
            id: documentId,
            masterIdentifier: { system: 'https://fhir.nhs.uk/Id/nhsSCRUUID', value: pointerId },
            status: 'current',
            type: { coding: [GP_SUMMARY] },
            subject: { reference: `Patient/${patientId}` },
            securityLabel: [
              { coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/SCR-ACSPermission', code: scr.permission }] },
            ],
            content: [{ attachment: { url: `${base}/Bundle?${bundleQuery.toString()}` } }],
            context: { event: [{ coding: [GP_SUMMARY] }] },
          },
          search: { mode: 'match' },
        },
        {
          fullUrl: patientId,
          resource: {
            resourceType: 'Patient',
            id: patientId,
            identifier: [{ system: NHS_NUMBER_SYSTEM, value: nhsNumber }],
          },
        },
      ],
    });
  });

  router.get(`${SCR_BASE_PATH}/Bundle`, (req, res) => {
    const compositionId = single(req, 'composition.identifier');
    if (compositionId === undefined) return missingParameter(res, 'composition.identifier');
    const subject = single(req, 'composition.subject:Patient.identifier');
    if (subject === undefined) return missingParameter(res, 'composition.subject:Patient.identifier');
    const nhsNumber = nhsNumberFrom(subject);
    if (nhsNumber === undefined) return invalidParameter(res, 'composition.subject:Patient.identifier', subject);

    const scr = scrWithFaults(nhsNumber, data.scr.get(nhsNumber), faultEffectsOf(req))?.scr;
    if (scr?.accessDenied)
      // The published spec lists 420 for Spine's access-control refusal (the service itself may answer 403).
      return sendScrError(
        res,
        420,
        'forbidden',
        'Code: 420, Display: Business condition related to access control  which prevents the action being performed by PSIS;Code: 30418, Display: [PSIS-30418] - ACF does not permit access to resource',
      );
    // Only the latest SCR is served: an out-of-date (or unknown) id answers an empty Bundle, not an error.
    if (!scr?.bundle || scr.scrId.toUpperCase() !== compositionId.toUpperCase())
      return sendFhir(res, 200, emptyBundle());
    return sendFhir(res, 200, copyOf(scr.bundle));
  });

  router.all(`${SCR_BASE_PATH}/*rest`, (req, res) => {
    sendScrError(res, 404, 'not-found', `${req.path} not found`);
  });

  return router;
}
