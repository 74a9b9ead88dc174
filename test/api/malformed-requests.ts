/**
 * Malformed requests generated from an OpenAPI 3.1 document, and the property that checks the answers to them.
 *
 * The document is walked when the test runs (its paths, operations, parameters and request bodies), so an
 * operation added to the API later is covered without touching this file. For each operation fast-check builds
 * a request that is valid by the document (a valid bearer token, path, query, headers and body), then breaks it
 * in one way: wrong types, missing required fields, extra fields, over-long strings, bad formats, bad path
 * parameters (encoded slashes, dots, %00, invalid percent-encoding, huge), bad query parameters (repeated,
 * unknown, out of range), non-JSON bodies and wrong content types, arrays where objects go, deep nesting, huge
 * numbers, unicode oddities, absent, malformed or forged bearer tokens, bad Idempotency-Key headers, wrong
 * methods. Each answer is held to problem-check.ts. Requests go over real HTTP (node:http with keep-alive), raw:
 * no client-side URL normalisation, so `..` and `%2e%2e` reach the server as sent.
 */
import http from 'node:http';
import fc from 'fast-check';
import { problemViolations, type Expectation, type ReceivedResponse } from './problem-check';

type JsonSchema = Record<string, unknown>;
type OpenApiDocument = Record<string, unknown>;

interface Parameter {
  readonly name: string;
  readonly schema: JsonSchema;
  readonly required: boolean;
}

/** One operation of the document, as far as building requests needs. */
export interface ApiOperation {
  readonly operationId: string;
  readonly method: string;
  /** Template with the server's base: `/api/v1/cases/{caseId}`. */
  readonly path: string;
  readonly pathParams: readonly Parameter[];
  readonly queryParams: readonly Parameter[];
  readonly headerParams: readonly Parameter[];
  readonly body?: { readonly contentType: string; readonly schema: JsonSchema };
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

/** Follows a local `$ref`; a reference outside the document (a form served elsewhere) stands for any value. */
export function resolve(schema: unknown, document: OpenApiDocument): JsonSchema {
  let current = (schema ?? {}) as JsonSchema;
  for (let hops = 0; typeof current['$ref'] === 'string' && hops < 32; hops++) {
    const ref = current['$ref'];
    if (!ref.startsWith('#/')) return {};
    current = ref
      .slice(2)
      .split('/')
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], document) as JsonSchema;
    if (!current) throw new Error(`the document has no ${ref}`);
  }
  return current;
}

/** Every operation of the document, in its order. */
export function operationsOf(document: OpenApiDocument): ApiOperation[] {
  const base = ((document['servers'] as { url: string }[] | undefined)?.[0]?.url ?? '').replace(/\/+$/, '');
  const operations: ApiOperation[] = [];
  for (const [path, item] of Object.entries((document['paths'] ?? {}) as Record<string, Record<string, unknown>>)) {
    for (const method of METHODS) {
      const operation = item[method] as Record<string, unknown> | undefined;
      if (!operation) continue;
      const parameters = [
        ...((item['parameters'] as unknown[] | undefined) ?? []),
        ...((operation['parameters'] as unknown[] | undefined) ?? []),
      ].map((p) => resolve(p, document) as { name: string; in: string; schema?: unknown; required?: boolean });
      const of = (where: string): Parameter[] =>
        parameters
          .filter((p) => p.in === where)
          .map((p) => ({ name: p.name, schema: resolve(p.schema, document), required: p.required === true }));
      const content = (resolve(operation['requestBody'], document)['content'] ?? {}) as Record<
        string,
        { schema?: unknown }
      >;
      const contentType = Object.keys(content)[0];
      operations.push({
        operationId: (operation['operationId'] as string | undefined) ?? `${method} ${path}`,
        method,
        path: base + path,
        pathParams: of('path'),
        queryParams: of('query'),
        headerParams: of('header'),
        ...(contentType ? { body: { contentType, schema: resolve(content[contentType]?.schema, document) } } : {}),
      });
    }
  }
  return operations;
}

// ---------------------------------------------------------------------------------------------------------------
// Valid values from JSON Schema

const typesOf = (schema: JsonSchema): string[] =>
  Array.isArray(schema['type'])
    ? (schema['type'] as string[])
    : typeof schema['type'] === 'string'
      ? [schema['type']]
      : [];

/** Values valid by `schema` (the subset of JSON Schema request schemas use). */
export function validValue(schema: JsonSchema, document: OpenApiDocument, depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(schema, document);
  if ('const' in s) return fc.constant(s['const']);
  if (Array.isArray(s['enum'])) return fc.constantFrom(...(s['enum'] as unknown[]));
  const branches = (s['anyOf'] ?? s['oneOf']) as JsonSchema[] | undefined;
  if (branches?.length) return validValue(branches[0]!, document, depth);
  const type = typesOf(s)[0] ?? 'any';
  switch (type) {
    case 'string':
      return validString(s);
    case 'integer':
      return fc.integer({
        min: typeof s['minimum'] === 'number' ? Math.ceil(s['minimum']) : -1000,
        max: typeof s['maximum'] === 'number' ? Math.floor(s['maximum']) : 100_000,
      });
    case 'number':
      return fc.double({
        min: typeof s['minimum'] === 'number' ? s['minimum'] : -1000,
        max: typeof s['maximum'] === 'number' ? s['maximum'] : 100_000,
        noNaN: true,
        noDefaultInfinity: true,
      });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(
        depth > 3 ? fc.constant(null) : validValue((s['items'] ?? {}) as JsonSchema, document, depth + 1),
        {
          minLength: (s['minItems'] as number | undefined) ?? 0,
          maxLength: Math.max((s['minItems'] as number | undefined) ?? 0, Math.min((s['maxItems'] as number) ?? 3, 3)),
        },
      );
    case 'object': {
      const properties = (s['properties'] ?? {}) as Record<string, JsonSchema>;
      if (Object.keys(properties).length === 0 || depth > 3) return fc.constant({});
      const model = Object.fromEntries(
        Object.entries(properties).map(([name, p]) => [name, validValue(p, document, depth + 1)]),
      );
      return fc.record(model, {
        requiredKeys: ((s['required'] as string[] | undefined) ?? []).filter((k) => k in model),
      });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function validString(s: JsonSchema): fc.Arbitrary<string> {
  const min = (s['minLength'] as number | undefined) ?? 0;
  const max = (s['maxLength'] as number | undefined) ?? 40;
  const fits = (v: string) => v.length >= min && v.length <= max;
  switch (s['format']) {
    case 'uuid':
      return fc.uuid();
    case 'date-time':
      return fc
        .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
        .map((d) => d.toISOString());
    case 'date':
      return fc
        .date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
        .map((d) => d.toISOString().slice(0, 10));
  }
  if (typeof s['pattern'] === 'string') return fc.stringMatching(new RegExp(s['pattern'])).filter(fits);
  return fc.string({ minLength: min, maxLength: Math.min(max, Math.max(min, 40)) });
}

// ---------------------------------------------------------------------------------------------------------------
// Requests: a valid draft, then one malformation

/** A request as it goes on the wire. */
export interface PlannedRequest {
  readonly [fc.toStringMethod]: () => string;
  readonly operationId: string;
  /** How it was broken, for the report: `body.wrong-type /pathway`. */
  readonly malformation: string;
  readonly method: string;
  /** Raw request target: path and query exactly as sent. */
  readonly target: string;
  readonly headers: Record<string, string | string[]>;
  readonly body?: Buffer;
  readonly expectation: Expectation;
}

interface Draft {
  method: string;
  /** Path parameter values as they go into the path, already percent-encoded (or broken on purpose). */
  path: Record<string, string>;
  pathSuffix: string;
  /** Name and value pairs as they go into the query string, already encoded. */
  query: [string, string][];
  headers: Record<string, string | string[]>;
  authorization: string | undefined;
  /** A JSON value (serialised at the end, `rawJson` spliced in for what JSON.stringify cannot write)... */
  json?: unknown;
  /** ...or exactly these bytes. */
  raw?: Buffer;
  contentType: string | undefined;
  rawJson: Map<string, string>;
}

type Mutation = {
  readonly label: string;
  readonly expectation: Expectation;
  /** Breaks the draft; returns another expectation when, for this draft, it could not break it as planned. */
  readonly apply: (draft: Draft) => Expectation | void;
};

export interface Authorizations {
  /** Authorization header values of active staff of several roles: past sign-in, into validation. */
  readonly valid: readonly string[];
  /** Header values (undefined: no header) that must be refused with 401 or 403. */
  readonly invalid: readonly { readonly label: string; readonly value: string | undefined }[];
}

export interface RequestOptions {
  readonly document: OpenApiDocument;
  readonly authorizations: Authorizations;
  /** Values of real records by parameter name (`caseId`, `taskId`, `nhsNumber`), so handlers are reached too. */
  readonly known?: Readonly<Record<string, readonly string[]>>;
}

/** encodeURIComponent, and a lone surrogate (which it refuses) as the UTF-8 of U+FFFD, as a browser sends it. */
const enc = (text: string) =>
  encodeURIComponent(text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));
const escapePointer = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');
const serialise = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

/** Odd text: control characters, lone surrogates, direction overrides, zero-width joiners, combining marks... */
const ODD_TEXT = [
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff\ud800',
  '\u202e\u2066evil\u2069',
  '\u200b\u200d\ufeff',
  'e\u0301\u0301\u0301\u0301',
  '😀👩🏽‍⚕️',
  '\u{10ffff}',
  '\r\n\t\u000b',
  '%00',
  '../../etc/passwd',
  "'; drop table cases; --",
  '${7*7}{{7*7}}',
  '<script>alert(1)</script>',
  'ＡＢＣ１２３',
  'İı',
];

const otherTypes = (types: readonly string[]): unknown[] => {
  const samples: [string, unknown][] = [
    ['string', 'text'],
    ['integer', 42],
    ['number', 4.5],
    ['boolean', true],
    ['null', null],
    ['array', [1, 'two']],
    ['object', { a: 1 }],
  ];
  return samples
    .filter(([type]) => !types.includes(type) && !(type === 'integer' && types.includes('number')))
    .map(([, v]) => v);
};

/** Places in a body schema, by JSON Pointer, with their schema and whether their parent requires them. */
function bodyLocations(schema: JsonSchema, document: OpenApiDocument): { pointer: string[]; schema: JsonSchema }[] {
  const found: { pointer: string[]; schema: JsonSchema }[] = [];
  const walk = (s: JsonSchema, at: string[]) => {
    found.push({ pointer: at, schema: s });
    if (at.length >= 3) return;
    for (const [name, p] of Object.entries((s['properties'] ?? {}) as Record<string, unknown>))
      walk(resolve(p, document), [...at, name]);
  };
  walk(resolve(schema, document), []);
  return found;
}

const pointerOf = (segments: readonly string[]) => segments.map((s) => `/${escapePointer(s)}`).join('');

function setAt(root: unknown, at: readonly string[], value: unknown): unknown {
  if (at.length === 0) return value;
  const object = root !== null && typeof root === 'object' && !Array.isArray(root) ? { ...root } : {};
  const [head, ...rest] = at as [string, ...string[]];
  Object.defineProperty(object, head, {
    value: setAt((object as Record<string, unknown>)[head], rest, value),
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return object;
}

function deleteAt(root: unknown, at: readonly string[]): unknown {
  if (at.length === 0 || root === null || typeof root !== 'object') return root;
  const [head, ...rest] = at as [string, ...string[]];
  const copy = { ...(root as Record<string, unknown>) };
  if (rest.length === 0) delete copy[head];
  else copy[head] = deleteAt(copy[head], rest);
  return copy;
}

const getAt = (root: unknown, at: readonly string[]): unknown =>
  at.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], root);

/** A value JSON.stringify cannot write, spliced into the serialised body at the end. */
function rawValue(draft: Draft, text: string): string {
  const token = `__raw_${draft.rawJson.size}_${Math.random().toString(36).slice(2)}__`;
  draft.rawJson.set(JSON.stringify(token), text);
  return token;
}

function bodyMutations(operation: ApiOperation, document: OpenApiDocument): fc.Arbitrary<Mutation>[] {
  if (!operation.body) return [];
  const isJson = /json/i.test(operation.body.contentType);
  const mutations: fc.Arbitrary<Mutation>[] = [];
  const mustFail = (pointer: string): Expectation => ({ mustFail: true, pointer });
  if (isJson) {
    for (const { pointer: at, schema } of bodyLocations(operation.body.schema, document)) {
      const pointer = pointerOf(at);
      const types = typesOf(schema);
      const isObject = types.includes('object');
      if (types.length > 0 && !schema['anyOf'] && !schema['oneOf'])
        mutations.push(
          fc.constantFrom(...otherTypes(types)).map((value) => ({
            label: `body.wrong-type ${pointer || '/'}`,
            expectation: mustFail(pointer),
            apply: (d) => void (d.json = setAt(d.json, at, value)),
          })),
        );
      for (const name of (schema['required'] as string[] | undefined) ?? [])
        mutations.push(
          fc.constant({
            label: `body.missing ${pointer}/${name}`,
            expectation: mustFail(`${pointer}/${escapePointer(name)}`),
            apply: (d) => {
              const parent = getAt(d.json, at);
              // An optional object the draft left out has no field to take away: nothing is broken then.
              if (parent === null || typeof parent !== 'object' || Array.isArray(parent)) return {};
              d.json = deleteAt(d.json, [...at, name]);
              return undefined;
            },
          }),
        );
      if (isObject && schema['additionalProperties'] === false) {
        const known = Object.keys(schema['properties'] ?? {});
        mutations.push(
          fc
            .tuple(
              fc.oneof(
                fc.constantFrom('__proto__', 'constructor', 'prototype', '', 'a/b', 'x~y', '\u0000', 'hasOwnProperty'),
                fc.string({ minLength: 1, maxLength: 20 }),
              ),
              fc.jsonValue({ maxDepth: 2 }),
            )
            .filter(([name]) => !known.includes(name))
            .map(([name, value]) => ({
              label: `body.extra-field ${pointer}/${JSON.stringify(name).slice(1, 20)}`,
              expectation: mustFail(`${pointer}/${escapePointer(name)}`),
              apply: (d) => {
                const parent = getAt(d.json, at);
                d.json = setAt(d.json, at, setAt(parent, [name], value));
              },
            })),
        );
      }
      if (isObject)
        mutations.push(
          fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }).map((value) => ({
            label: `body.array-for-object ${pointer || '/'}`,
            expectation: mustFail(pointer),
            apply: (d) => void (d.json = setAt(d.json, at, value)),
          })),
        );
      if (typeof schema['maxLength'] === 'number') {
        const max = schema['maxLength'];
        mutations.push(
          // Every length over the limit: 100,000 is not over-long for a field of 1,000,000 (BPMN XML).
          fc.constantFrom(max + 1, max * 4 + 7, Math.max(100_000, max + 1)).map((length) => ({
            label: `body.over-long ${pointer} (${length})`,
            expectation: mustFail(pointer),
            apply: (d) => void (d.json = setAt(d.json, at, 'x'.repeat(length))),
          })),
        );
      }
      if (typeof schema['minLength'] === 'number' && schema['minLength'] > 0)
        mutations.push(
          fc.constant({
            label: `body.too-short ${pointer}`,
            expectation: mustFail(pointer),
            apply: (d) => void (d.json = setAt(d.json, at, '')),
          }),
        );
      if (typeof schema['format'] === 'string' || typeof schema['pattern'] === 'string')
        mutations.push(
          fc
            .constantFrom(
              'not-a-uuid',
              '123e4567-e89b-12d3-a456-42661417400Z',
              '2026-13-45T25:61:61Z',
              '2026-02-30',
              'yesterday',
              ' ',
              'x'.repeat(300),
              ...ODD_TEXT,
            )
            .filter((value) => !(typeof schema['pattern'] === 'string' && new RegExp(schema['pattern']).test(value)))
            .map((value) => ({
              label: `body.bad-format ${pointer} ${typeof schema['format'] === 'string' ? schema['format'] : 'pattern'}`,
              expectation: mustFail(pointer),
              apply: (d) => void (d.json = setAt(d.json, at, value)),
            })),
        );
      if (types.includes('integer') || types.includes('number')) {
        const out: string[] = ['1e400', '-1e400', '123456789012345678901234567890', '1.5e308', '-0', '0.5', '1e-400'];
        if (typeof schema['minimum'] === 'number') out.push(String(schema['minimum'] - 1));
        if (typeof schema['maximum'] === 'number') out.push(String(schema['maximum'] + 1));
        mutations.push(
          fc.constantFrom(...out).map((text) => ({
            label: `body.number ${pointer} ${text}`,
            // 1e30 and 1e-400 (0) can be within a schema without a maximum: the handler must then cope.
            expectation: {},
            apply: (d) => void (d.json = setAt(d.json, at, rawValue(d, text))),
          })),
        );
      }
      if (types.includes('string'))
        mutations.push(
          fc.constantFrom(...ODD_TEXT).map((value) => ({
            label: `body.unicode ${pointer}`,
            expectation: {},
            apply: (d) => void (d.json = setAt(d.json, at, value)),
          })),
        );
      if (isObject && at.length > 0)
        mutations.push(
          fc.integer({ min: 200, max: 5000 }).map((depth) => ({
            label: `body.deep-nesting ${pointer} (${depth})`,
            // A free-form object (variables, answers) takes any depth: the handler must then cope.
            expectation: {},
            apply: (d) =>
              void (d.json = setAt(d.json, at, rawValue(d, '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)))),
          })),
        );
    }
    mutations.push(
      fc.integer({ min: 1000, max: 100_000 }).map((depth) => ({
        label: `body.deep-nesting / (${depth})`,
        expectation: { mustFail: true, pointer: '' },
        apply: (d) => void (d.raw = Buffer.from('['.repeat(depth) + ']'.repeat(depth))),
      })),
      fc.constantFrom('null', '42', '"text"', 'true', '1e400', '[]').map((text) => ({
        label: `body.not-an-object ${text}`,
        expectation: { mustFail: true, pointer: '' },
        apply: (d) => void (d.raw = Buffer.from(text)),
      })),
      fc
        .constantFrom('{', '{"a":', "{'a': 1}", '{"a":1,}', 'undefined', 'NaN', '<xml/>', 'a=1&b=2', '{"a":"\\x"}')
        .map((text) => ({
          label: `body.not-json ${JSON.stringify(text)}`,
          expectation: { mustFail: true, pointer: '' },
          apply: (d) => void (d.raw = Buffer.from(text)),
        })),
      fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => ({
        label: 'body.random-bytes',
        expectation: {},
        apply: (d) => void (d.raw = Buffer.from(bytes)),
      })),
      fc.constant({
        label: 'body.byte-order-mark',
        // body-parser drops a leading BOM, as JSON parsers may: then the rest must be checked as usual.
        expectation: {},
        apply: (d) => void (d.raw = Buffer.from(`\ufeff${JSON.stringify(d.json ?? {})}`)),
      }),
      fc.constant({
        label: 'body.duplicate-keys',
        expectation: {},
        apply: (d) => {
          const text = JSON.stringify(d.json ?? {});
          d.raw = Buffer.from(text.length > 2 ? `{"a":1,"a":2,${text.slice(1)}` : '{"a":1,"a":2}');
        },
      }),
      fc.constant({
        label: 'body.prototype-pollution',
        expectation: { mustFail: true },
        apply: (d) =>
          void (d.raw = Buffer.from('{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"isAdmin":true}}}')),
      }),
      fc.constant({
        label: 'body.too-large',
        expectation: { mustFail: true },
        apply: (d) => void (d.raw = Buffer.from(`{"a":"${'x'.repeat(1_100_000)}"}`)),
      }),
      fc.constantFrom('application/json; charset=utf-16', 'application/json; charset=koi8-r').map((contentType) => ({
        label: `body.charset ${contentType}`,
        expectation: { mustFail: true },
        apply: (d) => void (d.contentType = contentType),
      })),
      fc.constantFrom('gzip', 'br', 'x-unknown').map((encoding) => ({
        label: `body.content-encoding ${encoding}`,
        expectation: { mustFail: true },
        apply: (d) => void (d.headers['Content-Encoding'] = encoding),
      })),
    );
  }
  mutations.push(
    fc
      .constantFrom(
        undefined,
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/xml',
        'application/octet-stream',
        '*/*',
        'application/json; charset',
        'json',
        ';;;',
      )
      .map((contentType) => ({
        label: `body.content-type ${contentType ?? 'none'}`,
        expectation: {},
        apply: (d) => void (d.contentType = contentType),
      })),
    fc.constant({ label: 'body.empty', expectation: {}, apply: (d) => void (d.raw = Buffer.alloc(0)) }),
  );
  return mutations;
}

/** Path parameter values as they go into the path: each must be refused (no record has such a name). */
const BAD_PATH_VALUES = [
  'a%2Fb',
  '%2F',
  '..',
  '.',
  '%2e%2e',
  '%2E',
  '%00',
  'a%00b',
  '%',
  '%zz',
  '%E0%A4%A',
  '%C0%AF',
  '%FF%FE',
  '%EF%BB%BF',
  '%ED%A0%80',
  '%F0%9F%98%80%E2%80%AE',
  '%20',
  '%0D%0A',
  '%3F%23',
  "'%20OR%201=1--",
  '__proto__',
  'constructor',
  '-1',
  '1e400',
  'null',
  'undefined',
  '%7B%7D',
];

function pathMutations(operation: ApiOperation): fc.Arbitrary<Mutation>[] {
  const mutations: fc.Arbitrary<Mutation>[] = [];
  for (const param of operation.pathParams)
    mutations.push(
      fc
        .oneof(
          fc.constantFrom(...BAD_PATH_VALUES),
          // Huge, yet within Node's 16 KiB limit for the request head, so the app answers rather than Node.
          fc.integer({ min: 256, max: 12_000 }).map((n) => 'x'.repeat(n)),
          fc.integer({ min: 256, max: 3_000 }).map((n) => '%41'.repeat(n)),
          fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).map(enc),
        )
        .map((value) => ({
          label: `path.${param.name} ${value.length > 24 ? `${value.slice(0, 12)}... (${value.length})` : value}`,
          expectation: { mustFail: true },
          apply: (d) => void (d.path[param.name] = value),
        })),
    );
  mutations.push(
    fc.constantFrom('/', '//', '/extra', '/..', '/%2e%2e/%2e%2e', '/.', ';a=b', '%00').map((suffix) => ({
      label: `path.suffix ${suffix}`,
      // `/cases` + `/` can be a route of its own; what matters is that it is answered well.
      expectation: {},
      apply: (d) => void (d.pathSuffix = suffix),
    })),
  );
  return mutations;
}

function queryMutations(operation: ApiOperation): fc.Arbitrary<Mutation>[] {
  const mutations: fc.Arbitrary<Mutation>[] = [
    fc
      .tuple(
        fc.oneof(
          fc.constantFrom('bogus', '__proto__', 'constructor', 'hasOwnProperty', 'a[b]', 'limit[]', '', '%00', '%zz'),
          fc.string({ minLength: 1, maxLength: 12 }).map(enc),
        ),
        fc.oneof(fc.constantFrom('', '1', 'x', '%00', '%zz'), fc.string({ maxLength: 12 }).map(enc)),
      )
      .filter(([name]) => !operation.queryParams.some((p) => enc(p.name) === name))
      .map(([name, value]) => ({
        label: `query.unknown ${name}`,
        // An empty name may be dropped by the query parser: nothing unknown is then left.
        expectation: name === '' || name === '%zz' ? {} : { mustFail: true },
        apply: (d) => void d.query.push([name, value]),
      })),
  ];
  for (const param of operation.queryParams) {
    const s = param.schema;
    const types = typesOf(s);
    mutations.push(
      fc.constantFrom('1', 'x').map((value) => ({
        label: `query.repeated ${param.name}`,
        expectation: { mustFail: true },
        apply: (d) => {
          const given = d.query.find(([name]) => name === param.name);
          d.query.push([param.name, given?.[1] ?? value], [param.name, given?.[1] ?? value]);
        },
      })),
      fc.constantFrom('[]', '[a]', '[0]').map((suffix) => ({
        label: `query.bracketed ${param.name}${suffix}`,
        // With the simple query parser `limit[]` is just another, unknown, name.
        expectation: { mustFail: true },
        apply: (d) => void d.query.push([`${enc(param.name)}${enc(suffix)}`, '1']),
      })),
    );
    const bad: string[] = [];
    if (types.includes('integer') || types.includes('number')) {
      bad.push('x', '1.5x', 'NaN', 'Infinity', '1e400', '0x10', '', '%00', '1%2C2');
      if (typeof s['minimum'] === 'number') bad.push(String(s['minimum'] - 1), '-99999999999999999999');
      if (typeof s['maximum'] === 'number') bad.push(String(s['maximum'] + 1), '99999999999999999999999');
      if (types.includes('integer')) bad.push('1.5');
    }
    if (types.includes('boolean')) bad.push('maybe', 'yes', '2', '%00', 'TRUE%20');
    if (Array.isArray(s['enum'])) bad.push('%00', 'nope', 'ANY', enc('open ') + 'x');
    if (s['format'] === 'uuid') bad.push('not-a-uuid', '123e4567-e89b-12d3-a456', '%00');
    if (s['format'] === 'date-time') bad.push('yesterday', '2026-13-45T00:00:00Z', '2026-01-01', '1e400', '%00');
    if (typeof s['pattern'] === 'string') {
      const pattern = new RegExp(s['pattern']);
      // Only what the pattern refuses once decoded: a pattern may allow `/` or spaces.
      bad.push(
        ...['%00', '%20', 'a%2Fb', enc('é'), '%ED%A0%80'].filter((value) => {
          try {
            return !pattern.test(decodeURIComponent(value));
          } catch {
            return true;
          }
        }),
      );
    }
    if (typeof s['maxLength'] === 'number') bad.push('x'.repeat(s['maxLength'] + 1));
    if (typeof s['minLength'] === 'number' && s['minLength'] > 0) bad.push('');
    if (bad.length > 0)
      mutations.push(
        fc.constantFrom(...bad).map((value) => ({
          label: `query.invalid ${param.name}=${value.length > 16 ? `${value.slice(0, 8)}... (${value.length})` : value}`,
          expectation: { mustFail: true },
          apply: (d) => {
            d.query = d.query.filter(([name]) => name !== param.name);
            d.query.push([param.name, value]);
          },
        })),
      );
    mutations.push(
      fc.oneof(fc.constantFrom(...ODD_TEXT).map(enc), fc.constantFrom('%', '%zz', '%E0%A4%A')).map((value) => ({
        label: `query.odd ${param.name}`,
        expectation: {},
        apply: (d) => {
          d.query = d.query.filter(([name]) => name !== param.name);
          d.query.push([param.name, value]);
        },
      })),
    );
  }
  return mutations;
}

function headerMutations(operation: ApiOperation): fc.Arbitrary<Mutation>[] {
  const mutations: fc.Arbitrary<Mutation>[] = [
    fc
      .tuple(
        fc.constantFrom('X-Request-ID', 'Accept', 'Accept-Language', 'X-Forwarded-For', 'Origin', 'Cookie'),
        fc.oneof(
          fc.constantFrom('', '*/*', 'application/xml', '../../', 'x'.repeat(4000), '\u00e9\u00ff', 'a, b, c', '%00'),
          fc.string({ unit: 'grapheme-ascii', maxLength: 30 }).filter((v) => !/[\r\n]/.test(v)),
        ),
      )
      .map(([name, value]) => ({
        label: `header.${name}`,
        expectation: {},
        apply: (d) => void (d.headers[name] = value),
      })),
  ];
  for (const param of operation.headerParams) {
    const s = param.schema;
    const bad = ['', ' ', 'has spaces', 'a/b', 'ü', '\u00e9t\u00e9', 'x'.repeat(129), 'x'.repeat(5000), 'key,other'];
    mutations.push(
      fc
        .constantFrom(...bad)
        .filter((value) => typeof s['pattern'] !== 'string' || !new RegExp(s['pattern']).test(value))
        .map((value) => ({
          label: `header.${param.name} ${value.length > 16 ? `(${value.length} chars)` : JSON.stringify(value)}`,
          expectation: { mustFail: true },
          apply: (d) => void (d.headers[param.name] = value),
        })),
      fc.constant({
        label: `header.${param.name} twice`,
        expectation: {},
        apply: (d) => void (d.headers[param.name] = ['first-key', 'second-key']),
      }),
    );
  }
  return mutations;
}

function authMutations(authorizations: Authorizations): fc.Arbitrary<Mutation>[] {
  return [
    fc.constantFrom(...authorizations.invalid).map(({ label, value }) => ({
      label: `auth.${label}`,
      expectation: { mustFail: true },
      apply: (d) => void (d.authorization = value),
    })),
  ];
}

function methodMutations(operation: ApiOperation, document: OpenApiDocument): fc.Arbitrary<Mutation>[] {
  const template = operation.path.replace(
    ((document['servers'] as { url: string }[])[0]?.url ?? '').replace(/\/+$/, ''),
    '',
  );
  const served = Object.keys((document['paths'] as Record<string, Record<string, unknown>>)[template] ?? {});
  const others = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => !served.includes(m.toLowerCase()));
  if (others.length === 0) return [];
  return [
    fc.constantFrom(...others).map((method) => ({
      label: `method.${method}`,
      expectation: { mustFail: true },
      apply: (d) => void (d.method = method),
    })),
  ];
}

function draftOf(operation: ApiOperation, options: RequestOptions): fc.Arbitrary<Draft> {
  const { document, known = {} } = options;
  const pathValue = (p: Parameter) => {
    const generated = validValue(p.schema, document).map((v) => enc(serialise(v)));
    const real = known[p.name];
    return real?.length ? fc.oneof(fc.constantFrom(...real.map(enc)), generated) : generated;
  };
  return fc
    .record({
      authorization: fc.constantFrom(...options.authorizations.valid),
      path: fc.record(Object.fromEntries(operation.pathParams.map((p) => [p.name, pathValue(p)]))),
      query: fc.record(
        Object.fromEntries(
          operation.queryParams.map((p) => [p.name, validValue(p.schema, document).map((v) => enc(serialise(v)))]),
        ),
        { requiredKeys: operation.queryParams.filter((p) => p.required).map((p) => p.name) },
      ),
      headers: fc.record(
        Object.fromEntries(
          operation.headerParams.map((p) => [p.name, validValue(p.schema, document).map((v) => serialise(v))]),
        ),
        { requiredKeys: operation.headerParams.filter((p) => p.required).map((p) => p.name) },
      ),
      json: operation.body ? validValue(operation.body.schema, document) : fc.constant(undefined),
    })
    .map(({ authorization, path, query, headers, json }): Draft => ({
      method: operation.method.toUpperCase(),
      path: path,
      pathSuffix: '',
      query: Object.entries(query as Record<string, string>).map(([name, value]) => [enc(name), value]),
      headers: { ...(headers as Record<string, string>) },
      authorization,
      json,
      contentType: operation.body?.contentType,
      rawJson: new Map(),
    }));
}

function render(operation: ApiOperation, draft: Draft, mutation: Mutation, expectation: Expectation): PlannedRequest {
  let target = operation.path.replace(/\{([^}]+)\}/g, (_, name: string) => draft.path[name] ?? '') + draft.pathSuffix;
  if (draft.query.length) target += '?' + draft.query.map(([name, value]) => `${name}=${value}`).join('&');
  let body = draft.raw;
  if (!body && operation.body && draft.json !== undefined) {
    let text = serialise(draft.json);
    if (/json/i.test(operation.body.contentType)) {
      text = JSON.stringify(draft.json);
      for (const [token, raw] of draft.rawJson) text = text.split(token).join(raw);
    }
    body = Buffer.from(text);
  }
  const headers: Record<string, string | string[]> = { ...draft.headers };
  if (draft.authorization !== undefined) headers['Authorization'] = draft.authorization;
  if (body && draft.contentType !== undefined) headers['Content-Type'] = draft.contentType;
  const short = (text: string) => (text.length > 120 ? `${text.slice(0, 120)}... (${text.length})` : text);
  return {
    // How fast-check shows it in a report: a body of a megabyte is not worth printing.
    [fc.toStringMethod]: () =>
      `${operation.operationId} [${mutation.label}] ${draft.method} ${short(target)}` +
      (body ? ` body ${JSON.stringify(short(body.toString('utf8')))}` : ''),
    operationId: operation.operationId,
    malformation: mutation.label,
    method: draft.method,
    target,
    headers,
    ...(body ? { body } : {}),
    expectation,
  };
}

/** Malformed requests for one operation, each broken in one way. */
export function malformedRequests(operation: ApiOperation, options: RequestOptions): fc.Arbitrary<PlannedRequest> {
  const mutations = [
    ...bodyMutations(operation, options.document),
    ...pathMutations(operation),
    ...queryMutations(operation),
    ...headerMutations(operation),
    ...authMutations(options.authorizations),
    ...methodMutations(operation, options.document),
  ];
  return fc.tuple(draftOf(operation, options), fc.oneof(...mutations)).map(([draft, mutation]) => {
    const copy: Draft = { ...draft, path: { ...draft.path }, query: [...draft.query], headers: { ...draft.headers } };
    const expectation = mutation.apply(copy) ?? mutation.expectation;
    return render(operation, copy, mutation, expectation);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Sending, and the property

/** Sends `planned` exactly as built over a keep-alive agent; the answer with its body. */
export function send(origin: URL, agent: http.Agent, planned: PlannedRequest): Promise<ReceivedResponse> {
  return new Promise((resolvePromise, reject) => {
    const req = http.request(
      {
        agent,
        host: origin.hostname,
        port: origin.port,
        method: planned.method,
        path: planned.target,
        headers: { ...planned.headers, ...(planned.body ? { 'Content-Length': String(planned.body.length) } : {}) },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolvePromise({
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'],
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 30 s')));
    req.on('error', reject);
    req.end(planned.body);
  });
}

export interface Tally {
  requests: number;
  byStatus: Record<string, number>;
}

export interface CheckOptions extends RequestOptions {
  /** Where the app listens: `http://127.0.0.1:PORT`. */
  readonly origin: string;
  readonly seed: number;
  /** Requests in all, shared among the operations (each gets at least `minimumPerOperation`). */
  readonly total: number;
  readonly minimumPerOperation?: number;
  /** Requests sent at once in one property run. */
  readonly batch?: number;
}

export interface CheckResult {
  readonly seed: number;
  readonly perOperation: ReadonlyMap<string, Tally>;
  readonly requests: number;
}

function describe(planned: PlannedRequest, response: ReceivedResponse | undefined, violations: string[]): string {
  const target =
    planned.target.length > 160 ? `${planned.target.slice(0, 160)}... (${planned.target.length})` : planned.target;
  const body = planned.body ? ` body ${JSON.stringify(planned.body.subarray(0, 160).toString('utf8'))}` : '';
  const answer = response ? ` -> ${response.status} ${response.text.slice(0, 300)}` : '';
  return `${planned.operationId} [${planned.malformation}] ${planned.method} ${target}${body}${answer}: ${violations.join('; ')}`;
}

/**
 * The property, for each operation of the document: every malformed request is answered without a 5xx, every
 * 4xx as problem+json naming bad fields by JSON Pointer. Throws fast-check's report (seed, path, the smallest
 * failing batch it found) on the first violation.
 */
export async function checkMalformedRequests(options: CheckOptions): Promise<CheckResult> {
  const origin = new URL(options.origin);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const operations = operationsOf(options.document);
  if (operations.length === 0) throw new Error('the document has no operations');
  const batch = options.batch ?? 16;
  const perOperation = Math.max(options.minimumPerOperation ?? 0, Math.ceil(options.total / operations.length));
  const runs = Math.ceil(perOperation / batch);
  const tallies = new Map<string, Tally>();
  const failed: string[] = [];
  try {
    for (const [index, operation] of operations.entries()) {
      const tally: Tally = { requests: 0, byStatus: {} };
      tallies.set(operation.operationId, tally);
      const details = await fc.check(
        fc.asyncProperty(
          fc.array(malformedRequests(operation, options), { minLength: batch, maxLength: batch }),
          async (requests) => {
            const failures: string[] = [];
            await Promise.all(
              requests.map(async (planned) => {
                let response: ReceivedResponse | undefined;
                let violations: string[];
                try {
                  response = await send(origin, agent, planned);
                  violations = problemViolations(response, planned.expectation);
                } catch (error) {
                  violations = [`no answer: ${(error as Error).message}`];
                }
                tally.requests++;
                const key = response ? String(response.status) : 'none';
                tally.byStatus[key] = (tally.byStatus[key] ?? 0) + 1;
                if (violations.length) failures.push(describe(planned, response, violations));
              }),
            );
            if (failures.length)
              throw new Error(`${failures.length} of ${requests.length} answered badly:\n${failures.join('\n')}`);
          },
        ),
        // One seed for the whole run, moved on per operation so operations do not share their draws. No shrinking:
        // a batch's report already names each request that was answered badly, and shrinking a batch of HTTP
        // requests costs minutes.
        { seed: options.seed + index, numRuns: runs, endOnFailure: true },
      );
      if (details.failed) {
        const why =
          details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
        failed.push(
          `${operation.operationId}: property failed (seed ${details.seed}, path ${details.counterexamplePath}): ${why}`,
        );
      }
    }
    // Every operation is tried before reporting, so one run shows every operation that answers badly.
    if (failed.length) throw new Error(failed.join('\n\n'));
  } finally {
    agent.destroy();
  }
  let requests = 0;
  for (const tally of tallies.values()) requests += tally.requests;
  return { seed: options.seed, perOperation: tallies, requests };
}

/** The per-operation counts as a table for the test's output. */
export function formatTallies(result: CheckResult): string {
  const statuses = [...new Set([...result.perOperation.values()].flatMap((t) => Object.keys(t.byStatus)))].sort();
  const rows = [...result.perOperation].map(
    ([operationId, t]) => `| ${operationId} | ${t.requests} | ${statuses.map((s) => t.byStatus[s] ?? 0).join(' | ')} |`,
  );
  return [
    `malformed requests: seed ${result.seed}, ${result.requests} requests over ${result.perOperation.size} operations`,
    `| operation | requests | ${statuses.join(' | ')} |`,
    `| --- | --- | ${statuses.map(() => '---').join(' | ')} |`,
    ...rows,
  ].join('\n');
}
