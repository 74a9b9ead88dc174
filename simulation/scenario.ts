/**
 * The scenario file: what a simulation does to a pathway, step by step (see scenario.schema.json and README.md).
 * Validated with ajv against the published schema, then the checks a schema cannot make (a duration that parses, a
 * form that exists, instants in order); every problem is named by JSON Pointer into the file.
 */
import Ajv2020, { type ErrorObject } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { addIsoDuration, parseIsoDateTime, parseIsoDuration } from '../bpmn';
import { ValidationError, type FieldProblem } from '../domain/errors';
import { listFormIds } from '../pathways';
import SCENARIO_SCHEMA from './scenario.schema.json';

export { SCENARIO_SCHEMA };

/** The Spine sandbox's Mr Thomas Brown: living, unrestricted, on PDS. */
export const DEFAULT_PATIENT = '9000000068';

type Vars = Record<string, unknown>;

export interface CompleteStep {
  readonly complete: {
    readonly task: string;
    readonly example?: string;
    readonly data?: Vars;
    readonly unset?: readonly string[];
  };
}
export interface MessageStep {
  readonly message: {
    readonly name: string;
    readonly correlationKey?: string;
    readonly variables?: Vars;
    readonly timeToLive?: string;
  };
}
export interface AdvanceStep {
  readonly advance: string;
}
export interface AdvanceToStep {
  readonly advanceTo: string;
}
export interface ExpectTaskStep {
  readonly expectTask: { readonly task: string; readonly open?: boolean; readonly dueAt?: string };
}
export interface ExpectNoticeStep {
  readonly expectNotice: {
    readonly to: string;
    readonly kind?: string;
    readonly subject?: string;
    readonly at?: string;
  };
}
export interface ExpectEndedStep {
  readonly expectEnded: { readonly status?: 'completed' | 'terminated' };
}
export type ScenarioStep =
  CompleteStep | MessageStep | AdvanceStep | AdvanceToStep | ExpectTaskStep | ExpectNoticeStep | ExpectEndedStep;

export interface Scenario {
  readonly title?: string;
  readonly pathway: string;
  readonly start: string;
  readonly patient?: string;
  readonly variables?: Vars;
  readonly steps: readonly ScenarioStep[];
}

const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validateShape = ajv.compile<Scenario>(SCENARIO_SCHEMA);

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** ajv's errors as problems at the field they are about (a missing or unknown field named itself). */
function problemsOf(errors: readonly ErrorObject[]): FieldProblem[] {
  const seen = new Map<string, string>();
  for (const error of errors) {
    const params = error.params as { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown[] };
    let pointer = error.instancePath;
    if (error.keyword === 'required' && params.missingProperty !== undefined)
      pointer += `/${escapePointer(params.missingProperty)}`;
    if (error.keyword === 'additionalProperties' && params.additionalProperty !== undefined)
      pointer += `/${escapePointer(params.additionalProperty)}`;
    const detail =
      error.keyword === 'additionalProperties'
        ? 'is not a field of a scenario here'
        : error.keyword === 'required'
          ? 'is required'
          : error.keyword === 'maxProperties' || error.keyword === 'minProperties'
            ? 'a step is exactly one of complete, message, advance, advanceTo, expectTask, expectNotice, expectEnded'
            : error.keyword === 'enum'
              ? `must be one of ${(params.allowedValues ?? []).map((v) => JSON.stringify(v)).join(', ')}`
              : (error.message ?? 'is not valid');
    if (!seen.has(pointer)) seen.set(pointer, detail);
  }
  return [...seen].map(([pointer, detail]) => ({ pointer, detail }));
}

/** What the schema cannot say: durations that parse, forms that exist, instants that only move forward. */
function meaningProblems(scenario: Scenario): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const forms = new Set(listFormIds());
  let latest = parseIsoDateTime(scenario.start);
  if (latest === undefined)
    problems.push({ pointer: '/start', detail: 'must be a date and time with its zone, e.g. 2027-03-01T09:00:00Z' });
  const durationOf = (text: string) => {
    const d = parseIsoDuration(text);
    return d !== undefined && Object.values(d).some((n) => n > 0) ? d : undefined;
  };
  scenario.steps.forEach((step, i) => {
    const at = `/steps/${i}`;
    if ('advance' in step) {
      const duration = durationOf(step.advance);
      if (!duration)
        problems.push({
          pointer: `${at}/advance`,
          detail: `must be an ISO 8601 duration such as P5D or PT2H, not '${step.advance}'`,
        });
      else if (latest !== undefined) latest = addIsoDuration(latest, duration);
    }
    if ('advanceTo' in step) {
      const target = parseIsoDateTime(step.advanceTo);
      if (target === undefined)
        problems.push({ pointer: `${at}/advanceTo`, detail: 'must be a date and time with its zone' });
      else if (latest !== undefined && target < latest)
        problems.push({
          pointer: `${at}/advanceTo`,
          detail: 'is earlier than the start or a step before it: the clock only moves on',
        });
      else latest = target;
    }
    if ('complete' in step && step.complete.example !== undefined && !forms.has(step.complete.example))
      problems.push({ pointer: `${at}/complete/example`, detail: `no form ${step.complete.example} is installed` });
    if ('complete' in step && step.complete.unset?.length && step.complete.example === undefined)
      problems.push({ pointer: `${at}/complete/unset`, detail: 'leaves out answers of an example: name the example' });
    if ('message' in step && step.message.timeToLive !== undefined && !durationOf(step.message.timeToLive))
      problems.push({ pointer: `${at}/message/timeToLive`, detail: 'must be an ISO 8601 duration such as P1D' });
    for (const [field, value] of [
      ['expectTask/dueAt', 'expectTask' in step ? step.expectTask.dueAt : undefined],
      ['expectNotice/at', 'expectNotice' in step ? step.expectNotice.at : undefined],
    ] as const)
      if (value !== undefined && parseIsoDateTime(value) === undefined)
        problems.push({ pointer: `${at}/${field}`, detail: 'must be a date and time with its zone' });
  });
  return problems;
}

/**
 * The scenario, if it is one; otherwise a ValidationError naming every problem by JSON Pointer into the file
 * (`/steps/2/complete/task`).
 */
export function validateScenario(value: unknown): Scenario {
  if (!validateShape(value))
    throw new ValidationError('The scenario has problems', problemsOf(validateShape.errors ?? []));
  const problems = meaningProblems(value);
  if (problems.length) throw new ValidationError('The scenario has problems', problems);
  return value;
}

/** The step's action, for messages: `complete ReviewX`, `advance P5D`. */
export function describeStep(step: ScenarioStep): string {
  if ('complete' in step) return `complete ${step.complete.task}`;
  if ('message' in step) return `message ${step.message.name}`;
  if ('advance' in step) return `advance ${step.advance}`;
  if ('advanceTo' in step) return `advanceTo ${step.advanceTo}`;
  if ('expectTask' in step) return `expectTask ${step.expectTask.task}`;
  if ('expectNotice' in step) return `expectNotice to ${step.expectNotice.to}`;
  return 'expectEnded';
}

/** `$caseId` and `$now` standing for a whole string value, at any depth, replaced by their values. */
export function withPlaceholders<T>(value: T, values: { readonly caseId: string; readonly now: string }): T {
  if (value === '$caseId') return values.caseId as T;
  if (value === '$now') return values.now as T;
  if (Array.isArray(value)) return value.map((item: unknown) => withPlaceholders(item, values)) as T;
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value as Vars).map(([key, item]) => [key, withPlaceholders(item, values)]),
    ) as T;
  return value;
}
