/**
 * The OpenAPI 3.1 document of /api/v1, built from the operation table (routes.ts) and the very schemas ajv
 * validates requests with (schemas.ts). The pathway forms are referenced (`$ref` to the served
 * `/api/v1/forms/{formId}.schema.json`), never copied.
 */
import { FORMS_DIRECTORY, listFormIds } from '../../pathways';
import { ROUTES } from './routes';
import { SCHEMAS, ref, type JsonSchema } from './schemas';

const PROBLEM = 'application/problem+json';

const problemResponse = (description: string) => ({ description, content: { [PROBLEM]: { schema: ref('Problem') } } });

let cached: Record<string, unknown> | undefined;

export function buildOpenApiDocument(): Record<string, unknown> {
  if (cached) return cached;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const parameters: unknown[] = [
      ...Object.entries(route.params ?? {}).map(([name, schema]) => ({ name, in: 'path', required: true, schema })),
      ...Object.entries(
        ((route.query ? SCHEMAS[route.query]!['properties'] : undefined) ?? {}) as Record<string, JsonSchema>,
      ).map(([name, schema]) => ({ name, in: 'query', required: false, schema })),
      ...Object.entries(route.headers ?? {}).map(([name, { description, ...schema }]) => ({
        name,
        in: 'header',
        required: false,
        description,
        schema,
      })),
    ];
    const operation: Record<string, unknown> = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      ...(route.action ? { 'x-policy-action': route.action } : {}),
      'x-audited': route.patientData,
      ...(parameters.length ? { parameters } : {}),
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: {
                'application/json': { schema: ref(route.body) },
                ...(route.xmlBody
                  ? { 'application/xml': { schema: { type: 'string', description: 'BPMN 2.0 XML' } } }
                  : {}),
              },
            },
          }
        : {}),
      responses: {
        [String(route.success.status)]: {
          description: route.success.description,
          ...(route.success.schema
            ? {
                content: {
                  [route.success.contentType ?? 'application/json']: { schema: ref(route.success.schema) },
                  ...(route.success.alternative
                    ? {
                        [route.success.alternative.contentType]: {
                          schema: { type: 'string', description: route.success.alternative.description },
                        },
                      }
                    : {}),
                },
              }
            : {}),
        },
        '400': problemResponse('the request has problems, each named by JSON Pointer'),
        '401': problemResponse('no valid bearer token'),
        '403': problemResponse('your role may not do this'),
        '404': problemResponse('no such record in the settings you work in'),
        ...(route.method !== 'get' ? { '409': problemResponse('the record is not in a state that allows it') } : {}),
        '503': problemResponse('a part Throughcare depends on is unavailable'),
        ...Object.fromEntries(Object.entries(route.problems ?? {}).map(([s, d]) => [s, problemResponse(d)])),
      },
    };
    (paths[route.path] ??= {})[route.method] = operation;
  }
  const forms = Object.fromEntries(
    listFormIds(FORMS_DIRECTORY).map((formId) => [`form.${formId}`, { $ref: `/api/v1/forms/${formId}.schema.json` }]),
  );
  cached = {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Throughcare API',
      version: '1',
      description:
        'Cases, the worklist and patients, scoped by role and setting and audited. Every error is application/problem+json (RFC 9457). Form schemas are served at /api/v1/forms/{formId}.schema.json.',
    },
    servers: [{ url: '/api/v1' }],
    security: [{ bearer: [] }],
    tags: [
      { name: 'cases' },
      { name: 'tasks' },
      { name: 'patients' },
      { name: 'pathways' },
      { name: 'directory' },
      { name: 'appointments' },
      { name: 'contacts' },
      { name: 'notes' },
      { name: 'alerts' },
    ],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { ...SCHEMAS, ...forms },
    },
  };
  return cached;
}
