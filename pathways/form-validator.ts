/**
 * Validates a clinician's form submission against the shipped JSON Schema (draft 2020-12) for that form,
 * and turns failures into plain-English problems located by JSON Pointer.
 *
 * The schemas carry a few `x-` keywords of their own, registered here so ajv's strict mode accepts them:
 * - `x-error-messages`: the message to show, keyed by property path (`medications`, `substanceUse/alcohol`),
 *   for an answer that is missing or not one the form accepts. An answer that is there but of the wrong type,
 *   too long, with too many items or out of range is told what limit it breaks instead (see `describeErrors`).
 *   ajv-errors is not installed, so the mapping happens in `describeErrors` below.
 * - `x-not-in-future`: a date or date-time that cannot be later than now (a clock is injected for tests).
 * - `x-throughcare-source`, `x-throughcare-form`, `x-enum-titles`, `x-snomed`: annotations only (where a
 *   rule comes from, national or local; titles for choices; SNOMED CT codes for reportable outcomes).
 */
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { NotFoundError, ValidationError, type FieldProblem } from '../domain/errors';
import { FORMS_DIRECTORY, listFormIds, readFormSchema, type FormSchema } from './catalogue';

export const ANNOTATION_KEYWORDS = [
  'x-error-messages',
  'x-throughcare-source',
  'x-throughcare-form',
  'x-enum-titles',
  'x-snomed',
] as const;

/** How far ahead of the server clock a device's timestamp may be before it counts as "in the future". */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

export interface FormValidatorOptions {
  /** The clock used by `x-not-in-future`; defaults to the system clock. */
  readonly now?: () => Date;
  /** Where the `<formId>.schema.json` files live; defaults to the shipped forms. */
  readonly formsDirectory?: string;
  /** The forms by id, in place of a directory: the installed versions (engine/form-registry.ts). */
  readonly schemas?: ReadonlyMap<string, FormSchema>;
}

export type FormValidationResult =
  { readonly valid: true } | { readonly valid: false; readonly problems: FieldProblem[] };

export interface FormValidator {
  readonly formIds: readonly string[];
  validate(formId: string, submission: unknown): FormValidationResult;
  /** Throws `ValidationError` (code VALIDATION_FAILED) listing every problem, or `NotFoundError` for an unknown form. */
  assertValid(formId: string, submission: unknown): void;
}

/** Builds the ajv instance every form is compiled with; exported so other parts validate forms the same way. */
export function createFormAjv(now: () => Date = () => new Date()): Ajv2020 {
  // strictRequired is off because conditional branches (`if`/`then`) name fields declared at the top level
  // verbose: errors carry the failing value and its schema, so a wrong type can be named ("not a number")
  const ajv = new Ajv2020({ allErrors: true, $data: true, strict: true, strictRequired: false, verbose: true });
  addFormats(ajv);
  for (const keyword of ANNOTATION_KEYWORDS) ajv.addKeyword({ keyword });
  ajv.addKeyword({
    keyword: 'x-not-in-future',
    type: 'string',
    schemaType: 'boolean',
    validate: (enabled: boolean, value: string) => !enabled || isNotInFuture(value, now()),
  });
  return ajv;
}

function isNotInFuture(value: string, now: Date): boolean {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return value <= now.toISOString().slice(0, 10);
  const at = Date.parse(value);
  // an unparseable value is the `format` keyword's failure to report, not this one's
  return Number.isNaN(at) || at <= now.getTime() + CLOCK_SKEW_MS;
}

export function createFormValidator(options: FormValidatorOptions = {}): FormValidator {
  const directory = options.formsDirectory ?? FORMS_DIRECTORY;
  const ajv = createFormAjv(options.now);
  const formIds = options.schemas ? [...options.schemas.keys()].sort() : listFormIds(directory);
  const compiled = new Map<string, { schema: FormSchema; validate: ValidateFunction }>();

  function compiledForm(formId: string): { schema: FormSchema; validate: ValidateFunction } {
    const known = compiled.get(formId);
    if (known) return known;
    if (!formIds.includes(formId)) throw new NotFoundError(`No form schema named ${formId}`);
    const schema = options.schemas?.get(formId) ?? readFormSchema(formId, directory);
    let entry: { schema: FormSchema; validate: ValidateFunction };
    try {
      entry = { schema, validate: ajv.compile(schema) };
    } catch (error) {
      // ajv registers the $id before compiling; forget it so the next attempt reports the same error
      ajv.removeSchema(schema.$id);
      throw error;
    }
    compiled.set(formId, entry);
    return entry;
  }

  function validate(formId: string, submission: unknown): FormValidationResult {
    const { schema, validate: check } = compiledForm(formId);
    if (check(submission)) return { valid: true };
    return { valid: false, problems: describeErrors(schema, check.errors ?? []) };
  }

  return {
    formIds,
    validate,
    assertValid(formId, submission) {
      const result = validate(formId, submission);
      if (!result.valid)
        throw new ValidationError(`The ${formId} form has ${result.problems.length} problem(s)`, result.problems);
    },
  };
}

/**
 * One problem per field. The form's own message (`x-error-messages`) says what a right answer is, so it is
 * shown when the answer is missing or not one the form accepts: a choice it does not offer, a wrong format,
 * too short, in the future, a condition not met. An answer that is there but breaks a limit (the wrong type,
 * too long, too many items, out of range) is told that limit instead: "Describe the health conditions" to a
 * 2,001-character description would tell the clinician to enter what they entered. An answer sent as null
 * counts as missing. Anything else the form has no message for gets ajv's.
 */
export function describeErrors(schema: FormSchema, errors: readonly ErrorObject[]): FieldProblem[] {
  const messages = schema['x-error-messages'] ?? {};
  const byPointer = new Map<string, string>();
  for (const error of errors) {
    // an `if` error only says "must match then"; the `then` branch reports the real field
    if (error.keyword === 'if') continue;
    const pointer = pointerOf(error);
    if (byPointer.has(pointer)) continue;
    byPointer.set(pointer, limitMessage(error) ?? messageFor(pointer, messages) ?? fallbackMessage(error));
  }
  return [...byPointer].map(([pointer, detail]) => ({ pointer, detail }));
}

/** The message for an answer that is present but breaks a limit, or undefined for any other failure. */
function limitMessage(error: ErrorObject): string | undefined {
  const { limit } = error.params as { limit?: number };
  switch (error.keyword) {
    case 'type':
      // null is how a client sends an unanswered field: that answer is missing, and the form's message fits
      return error.data === null
        ? undefined
        : `This answer must be ${expectedType(error)}, not ${describeValue(error.data)}.`;
    case 'maxLength':
      return `This answer is too long: it must be ${String(limit)} character${limit === 1 ? '' : 's'} or fewer.`;
    case 'maxItems':
      return `There are too many: give at most ${String(limit)}.`;
    case 'minimum':
      return `This answer must be ${String(limit)} or more.`;
    case 'maximum':
      return `This answer must be ${String(limit)} or less.`;
    case 'exclusiveMinimum':
      return `This answer must be more than ${String(limit)}.`;
    case 'exclusiveMaximum':
      return `This answer must be less than ${String(limit)}.`;
    default:
      return undefined;
  }
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  string: 'text',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a set of answers',
};
const FORMAT_NAMES: Readonly<Record<string, string>> = {
  date: 'a date as text, such as 2026-11-23',
  'date-time': 'a date and time as text, such as 2026-11-23T09:30:00Z',
};
const VALUE_NAMES: Readonly<Record<string, string>> = {
  string: 'text',
  boolean: 'true or false',
  object: 'a set of answers',
};

function expectedType(error: ErrorObject): string {
  // ajv joins the allowed types with commas (`integer,null`)
  const { type } = error.params as { type?: string | string[] };
  const types = (Array.isArray(type) ? type : (type ?? '').split(',')).filter((t) => t !== '' && t !== 'null');
  const format = (error.parentSchema as { format?: unknown } | undefined)?.format;
  if (types.length === 1 && types[0] === 'string' && typeof format === 'string' && FORMAT_NAMES[format])
    return FORMAT_NAMES[format];
  return types.map((t) => TYPE_NAMES[t] ?? t).join(' or ') || 'empty';
}

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'number') return Number.isInteger(value) ? 'a number' : 'a number with decimals';
  return VALUE_NAMES[typeof value] ?? typeof value;
}

function pointerOf(error: ErrorObject): string {
  const params = error.params as { missingProperty?: string; additionalProperty?: string };
  if (error.keyword === 'required' && params.missingProperty)
    return `${error.instancePath}/${escapePointer(params.missingProperty)}`;
  if (error.keyword === 'additionalProperties' && params.additionalProperty)
    return `${error.instancePath}/${escapePointer(params.additionalProperty)}`;
  return error.instancePath;
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Looks up `a/b/c`, then `a/b`, then `a`, with array indexes written as `*`. */
function messageFor(pointer: string, messages: Readonly<Record<string, string>>): string | undefined {
  const segments = pointer
    .split('/')
    .slice(1)
    .map((s) => (/^\d+$/.test(s) ? '*' : s));
  for (let length = segments.length; length > 0; length--) {
    const message: unknown = messages[segments.slice(0, length).join('/')];
    // A form being designed may map a field to something other than text: not a message to show.
    if (typeof message === 'string' && message) return message;
  }
  return undefined;
}

function fallbackMessage(error: ErrorObject): string {
  if (error.keyword === 'additionalProperties') return 'This field is not part of the form.';
  if (error.keyword === 'x-not-in-future') return 'This date cannot be in the future.';
  return `This answer is not valid: it ${error.message ?? 'does not match the form'}.`;
}

export { FORMS_DIRECTORY };
