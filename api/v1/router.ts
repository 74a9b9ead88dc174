/**
 * /api/v1: the Express router built from the operation table (routes.ts), each request's path parameters,
 * query and body validated with ajv against the schemas the OpenAPI document publishes, every problem named by
 * JSON Pointer (`/path/caseId`, `/query/limit`, `/headers/Idempotency-Key`, body fields as `/nhsNumber`).
 * The OpenAPI document and the forms' JSON Schemas are served without sign-in (they hold nobody's data);
 * every operation is mounted behind the bearer middleware (api/app.ts).
 */
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import express, { Router } from 'express';
import { DependencyUnavailableError, NotFoundError, ValidationError, type FieldProblem } from '../../domain/errors';
import type { SpineClient } from '../../activities/spine';
import type { Simulator } from '../../simulation';
import { formRegistryOf, recordAccess, type CaseEngine, type FormRegistry } from '../../engine';
import { createFormAjv } from '../../pathways';
import { principalOf } from '../auth/principal';
import { requestContext } from '../request-context';
import { buildOpenApiDocument } from './openapi';
import type { Principal } from '../auth/principal';
import { ROUTES, accessRecordOf, type RouteContext, type RouteResult, type RouteSpec } from './routes';
import { SCHEMAS } from './schemas';

export interface ApiV1Options {
  /** The engine, once the database and Temporal are up; until then operations answer 503. */
  readonly engine: () => CaseEngine | undefined;
  /** The Spine (PDS) client, for the patient search; the search answers 503 without it. */
  readonly spine?: () => SpineClient | undefined;
  /** The pathway simulator; the designer's simulation answers 503 without it. */
  readonly simulator?: () => Simulator | undefined;
}

/** The media types an `xmlBody` operation reads as XML text. */
export const XML_TYPES = ['application/xml', 'text/xml', 'application/bpmn+xml'];

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
    // An unmet `then` is reported at its own field; the `if` that chose it would only name the whole object.
    if (error.keyword === 'if') continue;
    const params = error.params as { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown[] };
    let pointer = error.instancePath;
    // `!== undefined`: a field named "" is `/`, not the whole document.
    // A field required by another one's presence (`dependentRequired`) is named too, as a required one is.
    if ((error.keyword === 'required' || error.keyword === 'dependentRequired') && params.missingProperty !== undefined)
      pointer += `/${escapePointer(params.missingProperty)}`;
    if (error.keyword === 'additionalProperties' && params.additionalProperty !== undefined)
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
function singleValuedQuery(sent: Record<string, unknown>): Record<string, unknown> {
  // No prototype: `?__proto__=x` stays a name of its own, refused as unknown, instead of vanishing into one.
  const query = Object.create(null) as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  for (const [name, value] of Object.entries(sent)) {
    if (typeof value === 'string') query[name] = value;
    else problems.push({ pointer: `/query/${escapePointer(name)}`, detail: 'must be given once, as text' });
  }
  if (problems.length) throw new ValidationError('The query string has problems', problems);
  return query;
}

/**
 * Numbers ajv coerced from text that are not finite or were not written as decimals: it turns `Infinity` and `1e400`
 * into Infinity and then skips `minimum` and `maximum` for it (so `?limit=Infinity` would pass), and `0x10` into 16.
 */
function nonFinite(values: Record<string, unknown>, sent: Record<string, unknown>, prefix: string): FieldProblem[] {
  return Object.entries(values)
    .filter(
      ([name, value]) =>
        typeof value === 'number' &&
        // A default ajv filled in was not sent.
        (!Number.isFinite(value) || (typeof sent[name] === 'string' && !DECIMAL.test(sent[name]))),
    )
    .map(([name]) => ({ pointer: `${prefix}/${escapePointer(name)}`, detail: 'must be a finite decimal number' }));
}

/** How a number is written in a path or query: ajv would also take `0x10`, ` 5` or `Infinity`. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Deeper than any form or variables need; deeper values cost every later reader (Temporal payloads, JSON, jsonb). */
const MAX_DEPTH = 64;

/**
 * Text holding U+0000, by JSON Pointer: PostgreSQL's text and jsonb cannot store it, so it is refused here rather
 * than failing in the database; and values nested deeper than MAX_DEPTH. Walked without recursion: a body may nest
 * thousands deep.
 */
function nulCharacters(value: unknown, prefix: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const pending: [unknown, string, number][] = [[value, prefix, 0]];
  while (pending.length > 0) {
    const [node, pointer, depth] = pending.pop()!;
    if (typeof node === 'string') {
      if (node.includes('\u0000')) problems.push({ pointer, detail: 'must not contain the character U+0000' });
    } else if (node !== null && typeof node === 'object') {
      if (depth >= MAX_DEPTH) {
        problems.push({ pointer, detail: `must not nest deeper than ${MAX_DEPTH} levels` });
        continue;
      }
      for (const [key, child] of Object.entries(node)) {
        const at = `${pointer}/${escapePointer(key)}`;
        if (key.includes('\u0000')) problems.push({ pointer: at, detail: 'must not contain the character U+0000' });
        pending.push([child, at, depth + 1]);
      }
    }
  }
  return problems;
}

function validateRequest(route: CompiledRoute, req: OperationRequest) {
  const problems: FieldProblem[] = [];
  const sentParams: Record<string, unknown> = { ...req.params };
  const params = { ...req.params };
  if (route.params && !route.params(params)) problems.push(...problemsOf(route.params.errors, '/path'));
  problems.push(...nonFinite(params, sentParams, '/path'));
  let query: Record<string, unknown> = {};
  try {
    query = singleValuedQuery(req.query);
  } catch (error) {
    if (error instanceof ValidationError) problems.push(...error.problems);
    else throw error;
  }
  if (route.query) {
    // As sent: ajv coerces `query` in place.
    const sentQuery = { ...query };
    if (!route.query(query)) problems.push(...problemsOf(route.query.errors, '/query'));
    problems.push(...nonFinite(query, sentQuery, '/query'));
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
    const value = req.header(name);
    if (value !== undefined) headers[name] = value;
  }
  const sentHeaders = { ...headers };
  if (route.headers && !route.headers(headers)) problems.push(...problemsOf(route.headers.errors, '/headers'));
  problems.push(...nonFinite(headers, sentHeaders, '/headers'));
  let body: Record<string, unknown> = {};
  if (route.body) {
    const sent: unknown =
      route.spec.xmlBody && typeof req.body === 'string' ? { xml: req.body } : req.body === undefined ? {} : req.body;
    if (!route.body(sent)) problems.push(...problemsOf(route.body.errors, ''));
    else body = sent as Record<string, unknown>;
  }
  problems.push(
    ...nulCharacters(params, '/path'),
    ...nulCharacters(query, '/query'),
    ...nulCharacters(headers, '/headers'),
    ...nulCharacters(body, ''),
  );
  if (problems.length) throw new ValidationError(`The request has ${problems.length} problem(s)`, problems);
  return { params, query, body };
}

/**
 * `/openapi.json` and `/forms/{formId}.schema.json` (the latest installed version of each form): documents without
 * anyone's data, served without sign-in.
 */
export function apiV1DocumentsRouter(forms: () => FormRegistry | undefined): Router {
  const router = Router();
  router.get('/openapi.json', (_req, res) => {
    res.json(buildOpenApiDocument());
  });
  router.get('/forms/:file', async (req, res) => {
    const match = /^([a-z0-9-]{1,128})\.schema\.json$/.exec(req.params['file'] ?? '');
    const registry = forms();
    if (!registry) throw new DependencyUnavailableError('The record store is not ready yet');
    const form = match?.[1] ? (await registry.latest()).get(match[1]) : undefined;
    if (!form) throw new NotFoundError(`No form schema ${req.params['file']}`);
    res.type('application/schema+json').set('ETag', `"${form.digest}"`).send(JSON.stringify(form.schema));
  });
  return router;
}

/** An operation's request as its caller received it: HTTP for the API, a form or a link for the web pages. */
export interface OperationRequest {
  readonly params: Record<string, string>;
  /** As parsed from the query string: a name given twice is a problem, not silently one of its values. */
  readonly query: Record<string, unknown>;
  readonly body?: unknown;
  header(name: string): string | undefined;
}

/** The operations of routes.ts, run for a signed-in person: validated, judged by the policy and audited. */
export interface Operations {
  /** Answers what the operation answers; refusals and problems are thrown as ThroughcareErrors. */
  invoke(
    operationId: string,
    principal: Principal,
    request: OperationRequest,
  ): Promise<Required<Pick<RouteResult, 'status'>> & RouteResult>;
  /** The installed forms: what a page draws a task's form from (forms hold nobody's data, so no policy applies). */
  forms(): FormRegistry;
}

export function createOperations(options: ApiV1Options): Operations {
  const routes = new Map(ROUTES.map((spec) => [spec.operationId, compile(spec)]));
  return {
    forms() {
      const engine = options.engine();
      if (!engine) throw new DependencyUnavailableError('Throughcare is still starting: try again shortly');
      return formRegistryOf(engine.store);
    },
    async invoke(operationId, principal, request) {
      const route = routes.get(operationId);
      if (!route) throw new Error(`No operation ${operationId}`);
      const { params, query, body } = validateRequest(route, request);
      const engine = options.engine();
      if (!engine) throw new DependencyUnavailableError('Throughcare is still starting: try again shortly');
      const requestId = requestContext()?.requestId ?? null;
      const ctx: RouteContext = {
        engine,
        spine: () => options.spine?.(),
        simulator: () => options.simulator?.(),
        principal,
        params,
        query,
        body,
        headers: { get: (name) => request.header(name) },
        requestId,
        audit: (entries) =>
          recordAccess(
            engine.store,
            entries.map((entry) => accessRecordOf({ principal, requestId }, entry)),
          ),
      };
      const result = await route.spec.handle(ctx);
      return { ...result, status: result.status ?? route.spec.success.status };
    },
  };
}

/**
 * A query string whose percent-encoding is not UTF-8 (`%ED%A0%80`, half a surrogate pair; a lone `%`): Express's
 * parser keeps such a value as the raw text, which would then pass as a name like "%ED%A0%80". Refused instead,
 * naming each parameter.
 */
function rejectMalformedQuery(url: string): void {
  const search = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
  const problems: FieldProblem[] = [];
  for (const pair of search.split('&')) {
    if (pair === '') continue;
    const [name = '', value = ''] = pair.split(/=(.*)/s);
    const decodes = (text: string) => {
      try {
        decodeURIComponent(text.replace(/\+/g, ' '));
        return true;
      } catch {
        return false;
      }
    };
    if (!decodes(name) || !decodes(value))
      problems.push({
        pointer: `/query/${escapePointer(decodes(name) ? decodeURIComponent(name) : name)}`,
        detail: 'is not valid percent-encoded UTF-8',
      });
  }
  if (problems.length) throw new ValidationError('The query string has problems', problems);
}

/** The operations of routes.ts over HTTP; mount behind the bearer middleware (it sets `res.locals.principal`). */
export function apiV1OperationsRouter(operations: Operations): Router {
  const router = Router();
  // BPMN as sent by a modeller or `curl --data-binary @file.bpmn`; the same limit as JSON bodies.
  const xmlText = express.text({ type: XML_TYPES, limit: '1mb' });
  for (const spec of ROUTES) {
    router[spec.method](expressPath(spec.path), ...(spec.xmlBody ? [xmlText] : []), async (req, res, next) => {
      try {
        rejectMalformedQuery(req.originalUrl);
        const result = await operations.invoke(spec.operationId, principalOf(res), {
          params: req.params as Record<string, string>,
          query: req.query,
          body: req.body,
          header: (name) => req.get(name),
        });
        res.status(result.status);
        if (result.contentType) res.type(result.contentType).send(result.body);
        else res.json(result.body);
      } catch (error) {
        next(error);
      }
    });
  }
  return router;
}
