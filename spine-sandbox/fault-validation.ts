/**
 * Checks faults before the registry holds them, wherever they come from (the `faults` option, `setFault`, the
 * control plane, `--faults FILE`): their shape with ajv, then what only the sandbox's data can tell (a superseding
 * number it knows, a record to mark restricted). Every problem is reported at once, located by JSON Pointer.
 */
import Ajv, { type ErrorObject } from 'ajv';
import { isValidNhsNumber } from '../domain/nhs-number';
import { type SandboxData } from './fixtures';
import {
  defaultApiOf,
  FAULT_KINDS,
  type FaultKind,
  type SandboxFault,
  type SandboxFaultEntry,
  type SupersedingRecord,
  WILDCARD,
} from './faults';

export interface FaultProblem {
  /** Where in the JSON sent the problem is (`/0/retryAfterSeconds`); `''` is the whole body. */
  pointer?: string;
  /** A path or command-line parameter at fault, when it is not in the body. */
  parameter?: string;
  detail: string;
}

export class FaultValidationError extends Error {
  override readonly name = 'FaultValidationError';
  constructor(readonly problems: readonly FaultProblem[]) {
    super(
      `Invalid Spine sandbox fault:\n${problems.map((p) => `  - ${p.pointer ?? p.parameter ?? ''} ${p.detail}`).join('\n')}`,
    );
  }
}

const KIND_NAMES = Object.keys(FAULT_KINDS) as FaultKind[];
const RETRY_AFTER = { type: 'integer', minimum: 0, maximum: 86_400 };
// FHIR dateTime: a date, or a date and time with a zone.
const FHIR_DATE_TIME = '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2}))?$';

/** Properties each kind takes besides the common ones, and which of them it requires. */
const KIND_PROPERTIES: Record<FaultKind, { properties: Record<string, object>; required?: string[] }> = {
  'not-found': { properties: {} },
  invalidated: { properties: {} },
  superseded: {
    properties: {
      newNhsNumber: { type: 'string' },
      record: {
        type: 'object',
        required: ['resourceType', 'id'],
        properties: {
          resourceType: { type: 'string', const: 'Patient' },
          id: { type: 'string' },
          meta: { type: 'object' },
        },
      },
    },
    required: ['newNhsNumber'],
  },
  restricted: { properties: {} },
  deceased: { properties: { deceasedDateTime: { type: 'string', pattern: FHIR_DATE_TIME } } },
  'opted-out': { properties: {} },
  'permission-not-recorded': { properties: {} },
  'no-current-record': { properties: {} },
  'stale-document': { properties: {} },
  'access-denied': { properties: {} },
  'rate-limited': { properties: { retryAfterSeconds: RETRY_AFTER } },
  unavailable: { properties: { retryAfterSeconds: RETRY_AFTER } },
  slow: { properties: { delayMs: { type: 'integer', minimum: 0, maximum: 600_000 } }, required: ['delayMs'] },
  'malformed-request': { properties: { diagnostics: { type: 'string', minLength: 1, maxLength: 500 } } },
};

function faultSchema(withNumber: boolean): object {
  return {
    type: 'object',
    required: withNumber ? ['nhsNumber', 'kind'] : ['kind'],
    discriminator: { propertyName: 'kind' },
    oneOf: KIND_NAMES.map((kind) => {
      const apis: readonly string[] = FAULT_KINDS[kind].apis;
      return {
        type: 'object',
        properties: {
          ...(withNumber ? { nhsNumber: { type: 'string' } } : {}),
          kind: { type: 'string', const: kind },
          api: { type: 'string', enum: apis.length > 1 ? [...apis, 'both'] : apis },
          times: { type: 'integer', minimum: 1 },
          forSeconds: { type: 'number', exclusiveMinimum: 0 },
          per: { type: 'string', enum: ['number', 'request-id'] },
          ...KIND_PROPERTIES[kind].properties,
        },
        required: KIND_PROPERTIES[kind].required ?? [],
        additionalProperties: false,
      };
    }),
  };
}

// strictRequired is off: the top level requires `kind` (and `nhsNumber`) that only the oneOf branches declare,
// as ajv's discriminator asks.
const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, discriminator: true });
const validateOne = ajv.compile(faultSchema(false));
const validateMany = ajv.compile({ type: 'array', items: faultSchema(false) });
const validateList = ajv.compile({ type: 'array', items: faultSchema(true) });

/** The kind at `instancePath` of the checked value, to name it in problems. */
function kindAt(value: unknown, instancePath: string): string | undefined {
  let node: unknown = value;
  for (const part of instancePath.split('/').slice(1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  const kind = (node as { kind?: unknown } | null)?.kind;
  return typeof kind === 'string' ? kind : undefined;
}

function describe(error: ErrorObject, value: unknown): FaultProblem {
  const path = error.instancePath;
  const params = error.params as Record<string, unknown>;
  // Errors inside a fault (its own properties) sit one level below the fault: find the fault to name its kind.
  const faultPath = error.keyword === 'required' || error.keyword === 'additionalProperties' ? path : parentOf(path);
  const kind = kindAt(value, faultPath);
  const ofKind = kind === undefined ? 'a fault' : `a ${kind} fault`;
  switch (error.keyword) {
    case 'required':
      return { pointer: `${path}/${String(params.missingProperty)}`, detail: `is required for ${ofKind}` };
    case 'additionalProperties':
      return {
        pointer: `${path}/${String(params.additionalProperty)}`,
        detail: `is not a property of ${ofKind}`,
      };
    case 'discriminator':
      return {
        pointer: `${path}/kind`,
        detail:
          params.error === 'mapping'
            ? `must be one of: ${KIND_NAMES.join(', ')}`
            : 'must be a string naming the kind of fault',
      };
    case 'enum':
      if (path.endsWith('/api') && kind !== undefined)
        return {
          pointer: path,
          detail: `must be one of: ${(params.allowedValues as string[]).join(', ')} for ${ofKind}`,
        };
      return { pointer: path, detail: `must be one of: ${(params.allowedValues as string[]).join(', ')}` };
    case 'const':
      return { pointer: path, detail: `must be "${String(params.allowedValue)}"` };
    case 'pattern':
      return { pointer: path, detail: 'must be a FHIR dateTime (2024-05-01 or 2024-05-01T09:30:00Z)' };
    default:
      return { pointer: path, detail: error.message ?? 'is not valid' };
  }
}

/** One problem per place: a missing `kind` also fails the discriminator, which would say the same thing again. */
function describeAll(errors: readonly ErrorObject[] | null | undefined, value: unknown): FaultProblem[] {
  const seen = new Set<string>();
  return (errors ?? [])
    .map((error) => describe(error, value))
    .filter((problem) => {
      const key = problem.pointer ?? '';
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

function parentOf(pointer: string): string {
  return pointer.slice(0, Math.max(0, pointer.lastIndexOf('/')));
}

export interface FaultCheckContext {
  data: SandboxData;
  now: () => number;
}

/** The record the sandbox answers a number with (following its fixed supersessions), if any. */
function hasPdsRecord(data: SandboxData, nhsNumber: string): boolean {
  if (data.invalidated.has(nhsNumber)) return false;
  return data.patients.has(data.superseded.get(nhsNumber) ?? nhsNumber);
}

function checkNhsNumber(value: string, allowWildcard: boolean): string | undefined {
  if (allowWildcard && value === WILDCARD) return undefined;
  if (!/^\d{10}$/.test(value)) return `must be 10 digits${allowWildcard ? ' or * (every number)' : ''}`;
  if (!isValidNhsNumber(value)) return 'is not a valid NHS number (its Modulus 11 check digit is wrong)';
  return undefined;
}

/** What only the sandbox's data can tell, and defaults filled in. `at` is the fault's JSON Pointer. */
function checkAndComplete(
  fault: SandboxFault,
  nhsNumber: string,
  at: string,
  context: FaultCheckContext,
  problems: FaultProblem[],
): SandboxFault {
  const { data } = context;
  const known = [...data.patients.keys()].join(', ');
  if (fault.per !== undefined && fault.times === undefined)
    problems.push({ pointer: `${at}/per`, detail: 'only counts something with times: give times too' });
  // Kind and API first: that is how a listed fault reads best.
  const { kind, api, ...rest } = fault;
  const completed = { kind, api: api ?? defaultApiOf(kind), ...rest } as SandboxFault;
  if (fault.times !== undefined && fault.per === undefined) completed.per = 'number';
  switch (completed.kind) {
    case 'superseded': {
      const numberProblem = checkNhsNumber(completed.newNhsNumber, false);
      if (nhsNumber === WILDCARD)
        problems.push({ pointer: `${at}/kind`, detail: 'superseded needs a number of its own, not *' });
      if (numberProblem) problems.push({ pointer: `${at}/newNhsNumber`, detail: numberProblem });
      else if (completed.newNhsNumber === nhsNumber)
        problems.push({ pointer: `${at}/newNhsNumber`, detail: 'must differ from the number it supersedes' });
      else if (completed.record && completed.record.id !== completed.newNhsNumber)
        problems.push({ pointer: `${at}/record/id`, detail: `must be the newNhsNumber, ${completed.newNhsNumber}` });
      else if (!completed.record && !hasPdsRecord(data, completed.newNhsNumber))
        problems.push({
          pointer: `${at}/newNhsNumber`,
          detail: `the sandbox has no record for ${completed.newNhsNumber}: give the record to answer with, or use one of ${known}`,
        });
      if (completed.record) {
        const record: SupersedingRecord = structuredClone(completed.record);
        // Reads answer the version as the ETag, and restriction is read from meta.security.
        record.meta = { ...record.meta, versionId: record.meta?.versionId ?? '1' };
        completed.record = record;
      }
      break;
    }
    case 'restricted':
    case 'deceased':
      if (nhsNumber !== WILDCARD && !hasPdsRecord(data, nhsNumber))
        problems.push({
          pointer: `${at}/kind`,
          detail: `the sandbox has no PDS record for ${nhsNumber} to mark ${completed.kind}: use one of ${known}`,
        });
      if (completed.kind === 'deceased' && completed.deceasedDateTime === undefined)
        // As PDS writes it: seconds and a +00:00 zone.
        completed.deceasedDateTime = new Date(context.now()).toISOString().replace(/\.\d{3}Z$/, '+00:00');
      break;
    case 'permission-not-recorded':
    case 'no-current-record':
    case 'stale-document':
      if (nhsNumber !== WILDCARD && !data.scr.has(nhsNumber))
        problems.push({
          pointer: `${at}/kind`,
          detail: `the sandbox has no SCR for ${nhsNumber}: use one of ${[...data.scr.keys()].join(', ')}`,
        });
      // A stale pointer once is what a client must survive: it re-reads the pointer and finds the current id.
      if (completed.kind === 'stale-document' && completed.times === undefined) {
        completed.times = 1;
        completed.per ??= 'number';
      }
      break;
    case 'rate-limited':
      completed.retryAfterSeconds ??= 1;
      break;
    case 'not-found':
    case 'invalidated':
    case 'opted-out':
    case 'access-denied':
    case 'unavailable':
    case 'slow':
    case 'malformed-request':
      break;
  }
  return completed;
}

type Checked<T> = { ok: true; value: T } | { ok: false; problems: FaultProblem[] };

/**
 * A control-plane or `setFault` body for one number: a fault object, or a list of them (the number's faults in
 * order). `nhsNumber` is the path's, `*` for every number.
 */
export function checkFaultsFor(nhsNumber: string, body: unknown, context: FaultCheckContext): Checked<SandboxFault[]> {
  const numberProblem = checkNhsNumber(nhsNumber, true);
  if (numberProblem) return { ok: false, problems: [{ parameter: 'nhsNumber', detail: numberProblem }] };
  const isList = Array.isArray(body);
  const validate = isList ? validateMany : validateOne;
  if (body === undefined || body === null || (typeof body !== 'object' && !isList))
    return { ok: false, problems: [{ pointer: '', detail: 'must be a JSON fault object, or a list of them' }] };
  if (!validate(body)) return { ok: false, problems: describeAll(validate.errors, body) };
  const faults = (isList ? body : [body]) as SandboxFault[];
  const problems: FaultProblem[] = [];
  const completed = faults.map((fault, i) =>
    checkAndComplete(fault, nhsNumber, isList ? `/${i}` : '', context, problems),
  );
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: completed };
}

/** A list of faults each naming its number (the `faults` option, `--faults FILE`), grouped by number in order. */
export function checkFaultList(list: unknown, context: FaultCheckContext): Checked<Map<string, SandboxFault[]>> {
  if (!validateList(list)) return { ok: false, problems: describeAll(validateList.errors, list) };
  const problems: FaultProblem[] = [];
  const byNumber = new Map<string, SandboxFault[]>();
  (list as SandboxFaultEntry[]).forEach(({ nhsNumber, ...fault }, i) => {
    const numberProblem = checkNhsNumber(nhsNumber, true);
    if (numberProblem) {
      problems.push({ pointer: `/${i}/nhsNumber`, detail: numberProblem });
      return;
    }
    const completed = checkAndComplete(fault, nhsNumber, `/${i}`, context, problems);
    byNumber.set(nhsNumber, [...(byNumber.get(nhsNumber) ?? []), completed]);
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: byNumber };
}
