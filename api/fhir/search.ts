/**
 * The query string of a FHIR search, checked with ajv against a JSON Schema built from the resource table
 * (resources.ts): only the parameters a resource declares, each problem named by JSON Pointer `/query/<name>`.
 * `_lastUpdated` may be given twice (a range); every other parameter once.
 */
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import { ValidationError, type FieldProblem } from '../../domain/errors';
import { checkedNhsNumber, type UpdatedBound } from '../../engine';
import { NHS_NUMBER_SYSTEM, type FhirResourceSpec, type SearchParameterName } from './resources';

export const DEFAULT_COUNT = 50;
export const MAX_COUNT = 200;

/** FHIR `id`: what a logical id may be. */
export const FHIR_ID_PATTERN = '^[A-Za-z0-9.-]{1,64}$';

/** Parameters every search takes besides the resource's own: page size and the cursor of the next page. */
export const RESULT_PARAMETERS = {
  _count: {
    type: 'number',
    documentation: `Page size, 1 to ${MAX_COUNT} (default ${DEFAULT_COUNT})`,
    schema: { type: 'integer', minimum: 1, maximum: MAX_COUNT, default: DEFAULT_COUNT },
  },
  _cursor: {
    type: 'string',
    documentation: 'Where the next page starts: follow the Bundle’s `next` link rather than building it',
    schema: { type: 'string', maxLength: 512, pattern: '^[A-Za-z0-9_-]+$' },
  },
} as const;

// FHIR date / dateTime (time zone required with a time; seconds optional, as search values often omit them).
const DATE =
  '([0-9]{4})(?:-(0[1-9]|1[0-2])(?:-(0[1-9]|[12][0-9]|3[01])(?:T([01][0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9])(\\.[0-9]{1,9})?)?(Z|[+-](?:0[0-9]|1[0-4]):[0-5][0-9]))?)?)?';
const PREFIXED_DATE = new RegExp(`^(eq|gt|ge|lt|le)?${DATE}$`);

const NHS_NUMBER_TOKEN = `^(${NHS_NUMBER_SYSTEM.replace(/[.]/g, '\\.')}\\|)?[0-9]{10}$`;

function parameterSchema(spec: FhirResourceSpec, name: SearchParameterName): Record<string, unknown> {
  switch (name) {
    case '_id':
      return { type: 'string', pattern: '^[A-Za-z0-9.-]{1,64}(,[A-Za-z0-9.-]{1,64}){0,99}$' };
    case 'identifier':
    case 'patient':
      return { type: 'string', pattern: NHS_NUMBER_TOKEN };
    case 'status': {
      const code = `(${(spec.statuses ?? []).join('|')})`;
      return { type: 'string', pattern: `^${code}(,${code})*$` };
    }
    case '_lastUpdated':
      return { type: 'array', maxItems: 2, items: { type: 'string', pattern: PREFIXED_DATE.source } };
  }
}

export function searchQuerySchema(spec: FhirResourceSpec): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...Object.fromEntries(spec.searchParams.map((name) => [name, parameterSchema(spec, name)])),
      ...Object.fromEntries(Object.entries(RESULT_PARAMETERS).map(([name, p]) => [name, p.schema])),
    },
  };
}

const ajv = new Ajv2020({ allErrors: true, strict: true, coerceTypes: true, useDefaults: true });

export interface SearchQuery {
  readonly ids?: string[];
  readonly nhsNumber?: string;
  readonly statuses?: string[];
  readonly updated?: UpdatedBound[];
  readonly count: number;
  readonly cursor?: string;
}

const escapePointer = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');

function problemsOf(errors: readonly ErrorObject[] | null | undefined): FieldProblem[] {
  const seen = new Map<string, string>();
  for (const error of errors ?? []) {
    const params = error.params as { additionalProperty?: string };
    // A parameter given twice is named as the parameter, not by the index of one of its values.
    const name =
      error.keyword === 'additionalProperties' && params.additionalProperty !== undefined
        ? escapePointer(params.additionalProperty)
        : (error.instancePath.split('/')[1] ?? '');
    const detail =
      error.keyword === 'additionalProperties'
        ? 'is not a search parameter of this resource (see /fhir/R4/metadata)'
        : error.keyword === 'maxItems'
          ? 'may be given at most twice'
          : `${error.message ?? 'is not valid'}`;
    if (!seen.has(name)) seen.set(name, detail);
  }
  return [...seen].map(([name, detail]) => ({ pointer: `/query/${name}`, detail }));
}

/** The bounds `_lastUpdated` values set: a value names a span as long as its precision (a day, a minute...). */
export function updatedBounds(values: readonly string[]): UpdatedBound[] {
  return values.flatMap((value): UpdatedBound[] => {
    const match = PREFIXED_DATE.exec(value);
    if (!match) throw invalidDate();
    const [, prefix = 'eq', year, month, day, hour, minute, second, fraction, zone] = match;
    const offsetMinutes =
      zone === undefined || zone === 'Z'
        ? 0
        : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
    const dayOfMonth = Number(day ?? 1);
    // Built in a leap year, then moved to the year asked for: Date.UTC reads years below 100 as 19xx.
    const local = new Date(
      Date.UTC(
        2000,
        Number(month ?? 1) - 1,
        dayOfMonth,
        Number(hour ?? 0),
        Number(minute ?? 0),
        Number(second ?? 0),
        fraction ? Number(fraction.slice(1, 4).padEnd(3, '0')) : 0,
      ),
    );
    local.setUTCFullYear(Number(year));
    // A day the month does not have rolls over into the next month: 30 February is not a date.
    if (local.getUTCDate() !== dayOfMonth) throw invalidDate();
    const startMs = local.getTime();
    const start = new Date(startMs - offsetMinutes * 60_000);
    const end = new Date(start);
    if (day === undefined && month === undefined) end.setUTCFullYear(end.getUTCFullYear() + 1);
    else if (day === undefined) end.setUTCMonth(end.getUTCMonth() + 1);
    else if (hour === undefined) end.setUTCDate(end.getUTCDate() + 1);
    else if (second === undefined) end.setTime(end.getTime() + 60_000);
    else if (fraction === undefined) end.setTime(end.getTime() + 1_000);
    else end.setTime(end.getTime() + 1);
    switch (prefix) {
      case 'eq':
        return [
          { op: '>=', at: start },
          { op: '<', at: end },
        ];
      case 'gt':
        return [{ op: '>=', at: end }];
      case 'ge':
        return [{ op: '>=', at: start }];
      case 'lt':
        return [{ op: '<', at: start }];
      default:
        return [{ op: '<', at: end }];
    }
  });
}

function invalidDate(): ValidationError {
  return new ValidationError('_lastUpdated is not a date', [
    { pointer: '/query/_lastUpdated', detail: 'must be a date or dateTime, optionally prefixed eq, gt, ge, lt or le' },
  ]);
}

const compiled = new WeakMap<FhirResourceSpec, ValidateFunction>();

/** The search the query string asks for, or a ValidationError naming each bad parameter. */
export function parseSearchQuery(spec: FhirResourceSpec, raw: Record<string, unknown>): SearchQuery {
  let validate = compiled.get(spec);
  if (!validate) compiled.set(spec, (validate = ajv.compile(searchQuerySchema(spec))));
  const problems: FieldProblem[] = [];
  const query: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (name === '_lastUpdated') query[name] = Array.isArray(value) ? value : [value];
    else if (typeof value === 'string') query[name] = value;
    else problems.push({ pointer: `/query/${escapePointer(name)}`, detail: 'must be given once, as text' });
  }
  if (!validate(query)) problems.push(...problemsOf(validate.errors));
  const taken = new Set(problems.map((p) => p.pointer));
  const token = (name: 'patient' | 'identifier') => {
    const value = query[name];
    if (typeof value !== 'string' || taken.has(`/query/${name}`)) return undefined;
    try {
      return checkedNhsNumber(value.slice(value.lastIndexOf('|') + 1), `/query/${name}`);
    } catch (error) {
      if (error instanceof ValidationError) problems.push(...error.problems);
      return undefined;
    }
  };
  const nhsNumber = token('patient') ?? token('identifier');
  let updated: UpdatedBound[] | undefined;
  if (Array.isArray(query['_lastUpdated']) && !taken.has('/query/_lastUpdated')) {
    try {
      updated = updatedBounds(query['_lastUpdated'] as string[]);
    } catch (error) {
      if (error instanceof ValidationError) problems.push(...error.problems);
      else throw error;
    }
  }
  if (problems.length) throw new ValidationError(`The search has ${problems.length} problem(s)`, problems);
  const list = (name: string) => (typeof query[name] === 'string' ? query[name].split(',') : undefined);
  const ids = list('_id');
  const statuses = list('status');
  return {
    ...(ids ? { ids } : {}),
    ...(nhsNumber ? { nhsNumber } : {}),
    ...(statuses ? { statuses } : {}),
    ...(updated ? { updated } : {}),
    count: query['_count'] as number,
    ...(typeof query['_cursor'] === 'string' ? { cursor: query['_cursor'] } : {}),
  };
}
