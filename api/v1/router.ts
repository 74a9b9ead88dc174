/**
 * /api/v1: the Express router built from the operation table (routes.ts), each request's path parameters,
 * query and body validated with ajv against the schemas the OpenAPI document publishes, every problem named by
 * JSON Pointer (`/path/caseId`, `/query/limit`, `/headers/Idempotency-Key`, body fields as `/nhsNumber`).
 * The OpenAPI document and the forms' JSON Schemas are served without sign-in (they hold nobody's data);
 * every operation is mounted behind the bearer middleware (api/app.ts).
 */
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { Router, type Request } from 'express';
import { DependencyUnavailableError, NotFoundError, ValidationError, type FieldProblem } from '../../domain/errors';
import { recordAccess, type CaseEngine } from '../../engine';
import { FORMS_DIRECTORY, createFormAjv, listFormIds, readFormSchema } from '../../pathways';
import { principalOf } from '../auth/principal';
import { requestContext } from '../request-context';
import { buildOpenApiDocument } from './openapi';
import { ROUTES, accessRecordOf, type RouteContext, type RouteSpec } from './routes';
import { SCHEMAS } from './schemas';

export interface ApiV1Options {
  /** The engine, once the database and Temporal are up; until then operations answer 503. */
  readonly engine: () => CaseEngine | undefined;
}

/** `/cases/{caseId}` -> `/cases/:caseId` */
export function expressPath(path: string): string {
  return path.replace(/\{([A-Za-z]+)\}/g, ':$1');
}

interface CompiledRoute {
  readonly spec: RouteSpec;
  readonly params?: ValidateFunction;
  readonly query?: ValidateFunction;
  readonly body?: ValidateFunction;
  readonly headers?: ValidateFunction;
}

// Bodies as sent (no coercion), with the forms' own ajv setup; parameters arrive as text, so numbers and
// booleans are coerced from it.
const bodies = createFormAjv();
const parameters = new Ajv2020({ allErrors: true, strict: true, coerceTypes: true, useDefaults: true });
addFormats(parameters);

function compile(spec: RouteSpec): CompiledRoute {
  const objectOf = (properties: Record<string, unknown>, required: string[]) => ({
    type: 'object',
    properties,
    required,
  });
  return {
    spec,
    ...(spec.params ? { params: parameters.compile(objectOf(spec.params, Object.keys(spec.params))) } : {}),
    ...(spec.query ? { query: parameters.compile(SCHEMAS[spec.query]!) } : {}),
    ...(spec.body ? { body: bodies.compile(SCHEMAS[spec.body]!) } : {}),
    ...(spec.headers ? { headers: parameters.compile(objectOf(spec.headers, [])) } : {}),
  };
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function problemsOf(errors: readonly ErrorObject[] | null | undefined, prefix: string): FieldProblem[] {
  const seen = new Map<string, string>();
  for (const error of errors ?? []) {
    const params = error.params as { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown[] };
    let pointer = error.instancePath;
    if (error.keyword === 'required' && params.missingProperty) pointer += `/${escapePointer(params.missingProperty)}`;
    if (error.keyword === 'additionalProperties' && params.additionalProperty)
      pointer += `/${escapePointer(params.additionalProperty)}`;
    const detail =
      error.keyword === 'additionalProperties'
        ? 'is not a field this operation takes'
        : error.keyword === 'required'
          ? 'is required'
          : error.keyword === 'enum'
            ? `must be one of ${(params.allowedValues ?? []).map((v) => JSON.stringify(v)).join(', ')}`
            : (error.message ?? 'is not valid');
    if (!seen.has(prefix + pointer)) seen.set(prefix + pointer, detail);
  }
  return [...seen].map(([pointer, detail]) => ({ pointer, detail }));
}

/** The query string as one value per name (a repeated name is a problem, not silently the first). */
function singleValuedQuery(req: Request): Record<string, unknown> {
  const query: Record<string, unknown> = {};
  const problems: FieldProblem[] = [];
  for (const [name, value] of Object.entries(req.query as Record<string, unknown>)) {
    if (typeof value === 'string') query[name] = value;
    else problems.push({ pointer: `/query/${escapePointer(name)}`, detail: 'must be given once, as text' });
  }
  if (problems.length) throw new ValidationError('The query string has problems', problems);
  return query;
}

function validateRequest(route: CompiledRoute, req: Request) {
  const problems: FieldProblem[] = [];
  const params = { ...(req.params as Record<string, string>) };
  if (route.params && !route.params(params)) problems.push(...problemsOf(route.params.errors, '/path'));
  let query: Record<string, unknown> = {};
  try {
    query = singleValuedQuery(req);
  } catch (error) {
    if (error instanceof ValidationError) problems.push(...error.problems);
    else throw error;
  }
  if (route.query) {
    if (!route.query(query)) problems.push(...problemsOf(route.query.errors, '/query'));
  } else if (Object.keys(query).length > 0) {
    problems.push(
      ...Object.keys(query).map((name) => ({
        pointer: `/query/${escapePointer(name)}`,
        detail: 'is not a parameter this operation takes',
      })),
    );
  }
  const headers: Record<string, unknown> = {};
  for (const name of Object.keys(route.spec.headers ?? {})) {
    const value = req.get(name);
    if (value !== undefined) headers[name] = value;
  }
  if (route.headers && !route.headers(headers)) problems.push(...problemsOf(route.headers.errors, '/headers'));
  let body: Record<string, unknown> = {};
  if (route.body) {
    const sent: unknown = req.body === undefined ? {} : req.body;
    if (!route.body(sent)) problems.push(...problemsOf(route.body.errors, ''));
    else body = sent as Record<string, unknown>;
  }
  if (problems.length) throw new ValidationError(`The request has ${problems.length} problem(s)`, problems);
  return { params, query, body };
}

/** `/openapi.json` and `/forms/{formId}.schema.json`: documents without anyone's data, served without sign-in. */
export function apiV1DocumentsRouter(): Router {
  const router = Router();
  const formIds = listFormIds(FORMS_DIRECTORY);
  router.get('/openapi.json', (_req, res) => {
    res.json(buildOpenApiDocument());
  });
  router.get('/forms/:file', (req, res, next) => {
    const match = /^([a-z0-9-]{1,128})\.schema\.json$/.exec(req.params['file'] ?? '');
    const formId = match?.[1];
    if (!formId || !formIds.includes(formId)) return next(new NotFoundError(`No form schema ${req.params['file']}`));
    res.type('application/schema+json').send(JSON.stringify(readFormSchema(formId, FORMS_DIRECTORY)));
  });
  return router;
}

/** The operations of routes.ts; mount behind the bearer middleware (it sets `res.locals.principal`). */
export function apiV1OperationsRouter(options: ApiV1Options): Router {
  const router = Router();
  for (const spec of ROUTES) {
    const route = compile(spec);
    router[spec.method](expressPath(spec.path), async (req, res, next) => {
      try {
        const principal = principalOf(res);
        const { params, query, body } = validateRequest(route, req);
        const engine = options.engine();
        if (!engine) throw new DependencyUnavailableError('Throughcare is still starting: try again shortly');
        const requestId = requestContext()?.requestId ?? null;
        const ctx: RouteContext = {
          engine,
          principal,
          params,
          query,
          body,
          headers: { get: (name) => req.get(name) },
          requestId,
          audit: (entries) =>
            recordAccess(
              engine.store,
              entries.map((entry) => accessRecordOf({ principal, requestId }, entry)),
            ),
        };
        const result = await spec.handle(ctx);
        res.status(result.status ?? spec.success.status).json(result.body);
      } catch (error) {
        next(error);
      }
    });
  }
  return router;
}
