/**
 * The CapabilityStatement at /fhir/R4/metadata, built from the same table the router serves (resources.ts,
 * search.ts): every resource type with its UK Core profile, read and search, and exactly the search parameters
 * the router takes. It holds nobody's data, so it is served without sign-in.
 */
import type { CapabilityStatement } from 'fhir/r4';
import { FHIR_RESOURCES, SEARCH_PARAMETERS } from './resources';
import { RESULT_PARAMETERS } from './search';

// When the statement (and so the running server's capabilities) came to be: this process's start.
const BUILT_AT = new Date().toISOString();

export function buildCapabilityStatement(baseUrl: string): CapabilityStatement {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: BUILT_AT,
    kind: 'instance',
    software: { name: 'Throughcare' },
    implementation: {
      description:
        'Throughcare FHIR R4 read API: the shared care record of people in custody, prison and after release',
      url: baseUrl,
    },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        documentation:
          'Read and search only. Errors are RFC 9457 application/problem+json (as the rest of the API), not OperationOutcome. ' +
          'Searches answer a searchset Bundle, newest first, with a `next` link while more remain.',
        security: {
          service: [
            {
              coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'OAuth' }],
            },
          ],
          description:
            'A bearer JWT from the OpenID Connect issuer; what a person may see follows their roles and the settings they work in.',
        },
        resource: FHIR_RESOURCES.map((spec) => ({
          type: spec.type,
          profile: spec.profile,
          interaction: [{ code: 'read' as const }, { code: 'search-type' as const }],
          searchParam: spec.searchParams.map((name) => ({
            name,
            type: SEARCH_PARAMETERS[name].type,
            documentation:
              name === 'status' && spec.statuses
                ? `${SEARCH_PARAMETERS[name].documentation}: ${spec.statuses.join(', ')}`
                : SEARCH_PARAMETERS[name].documentation,
          })),
        })),
        searchParam: Object.entries(RESULT_PARAMETERS).map(([name, p]) => ({
          name,
          type: p.type,
          documentation: p.documentation,
        })),
      },
    ],
  };
}
