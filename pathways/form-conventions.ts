/**
 * What a pathway form must be, beyond compiling, so the worklist can show it and clinicians can be told what is
 * wrong with an answer (README.md, Forms): JSON Schema 2020-12; an object of named questions, titled, refusing
 * fields it does not have (the renderer draws one field per property); a plain-English message for every question;
 * at least one required answer (except a pathway's start form, which may need nothing); and each question marked as
 * a national rule, with its sources, or a local choice. The shipped forms are held to it (test/pathways/forms.test.ts)
 * and so is a form the designer previews.
 */
import type { ValidateFunction } from 'ajv/dist/2020';
import { ValidationError, type FieldProblem } from '../domain/errors';
import type { FormSchema } from './catalogue';
import { createFormAjv, describeErrors } from './form-validator';

export const FORM_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';
/** The source ids of ../shared/domain/REFERENCE.md section 0, which a national rule cites. */
export const REFERENCE_SOURCE_IDS: readonly string[] = Array.from({ length: 24 }, (_, i) => `S${i + 1}`);
/** The evidence tags a national rule's sources may carry (REFERENCE.md); INFERRED is not enough for a rule. */
export const NATIONAL_RULE_EVIDENCE = ['READ', 'READ-2nd', 'UNVERIFIED'] as const;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const escapePointer = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');

/** A start form's id: `<processId>-start` (it types the variables a pathway is started with). */
export const isStartFormId = (formId: string | undefined): boolean => formId?.endsWith('-start') ?? false;

/**
 * How a form schema breaks the conventions, each problem named by a JSON Pointer into the schema; empty when it
 * keeps them all. `startForm`: a pathway's start form, which may require nothing.
 */
export function formConventionProblems(
  schema: unknown,
  options: { readonly startForm?: boolean } = {},
): FieldProblem[] {
  if (!isObject(schema)) return [{ pointer: '', detail: 'must be a JSON Schema object' }];
  const problems: FieldProblem[] = [];
  const problem = (pointer: string, detail: string) => problems.push({ pointer, detail });
  if (schema['$schema'] !== FORM_SCHEMA_DIALECT) problem('/$schema', `must be "${FORM_SCHEMA_DIALECT}"`);
  if (schema['type'] !== 'object') problem('/type', 'must be "object": a form is a set of answers');
  if (typeof schema['title'] !== 'string' || schema['title'].trim() === '')
    problem('/title', 'must name the form: the worklist shows it above the questions');
  if (schema['additionalProperties'] !== false)
    problem('/additionalProperties', 'must be false, so that an answer to a question the form does not ask is refused');
  const properties = schema['properties'];
  if (!isObject(properties) || Object.keys(properties).length === 0) {
    problem('/properties', 'must hold the questions, one property each');
    return problems;
  }
  const names = Object.keys(properties);
  const messages = isObject(schema['x-error-messages']) ? schema['x-error-messages'] : {};
  for (const name of names)
    if (typeof messages[name] !== 'string' || messages[name].trim() === '')
      problem(`/x-error-messages/${escapePointer(name)}`, 'must give the plain-English message for this question');
  for (const key of Object.keys(messages))
    if (!names.includes(key)) problem(`/x-error-messages/${escapePointer(key)}`, 'names no question of the form');
  const required = schema['required'];
  if (!options.startForm && (!Array.isArray(required) || required.length === 0))
    problem('/required', 'must name at least one answer the form needs');
  for (const [name, property] of Object.entries(properties)) {
    const at = `/properties/${escapePointer(name)}/x-throughcare-source`;
    const mark = isObject(property) ? property['x-throughcare-source'] : undefined;
    if (!isObject(mark) || (mark['rule'] !== 'national' && mark['rule'] !== 'local')) {
      problem(
        at,
        'must mark the question as a national rule ({"rule": "national", ...}) or a local choice ({"rule": "local"})',
      );
      continue;
    }
    if (mark['rule'] !== 'national') continue;
    const sources = mark['sources'];
    if (!Array.isArray(sources) || sources.length === 0)
      problem(`${at}/sources`, 'must cite the sources of a national rule (S1 to S24)');
    else
      sources.forEach((source, index) => {
        if (typeof source !== 'string' || !REFERENCE_SOURCE_IDS.includes(source))
          problem(`${at}/sources/${index}`, 'must be a source id of the reference, S1 to S24');
      });
    if (!NATIONAL_RULE_EVIDENCE.includes(mark['evidence'] as (typeof NATIONAL_RULE_EVIDENCE)[number]))
      problem(`${at}/evidence`, `must be one of ${NATIONAL_RULE_EVIDENCE.join(', ')}`);
  }
  return problems;
}

export interface FormCheck {
  /** The form's conventions broken, at `/schema/...`, and the submission's problems, at `/submission/...`. */
  readonly problems: FieldProblem[];
  /** The submission's problems alone, by pointer into the submission, as a clinician would be told them. */
  readonly submissionProblems: FieldProblem[];
}

/**
 * Checks a form being designed as the product would use it: compiled with the forms' own ajv (a ValidationError,
 * unprocessable, at `/schema` with ajv's message when it does not compile), held to the conventions, and the
 * submission, when there is one, validated against it with the messages a clinician would see.
 */
export function checkForm(
  schema: Record<string, unknown>,
  submission?: unknown,
  now: () => Date = () => new Date(),
): FormCheck {
  const refuse = (pointer: string, detail: string) =>
    new ValidationError('The form schema does not compile', [{ pointer, detail }], { unprocessable: true });
  // An async schema's validator answers a promise, which would pass every submission.
  if (schema['$async'] !== undefined) throw refuse('/schema/$async', 'forms are validated at once: remove $async');
  // A fresh ajv each time: a schema's $id registers in its ajv, and a shipped form's $id would clash with it.
  const ajv = createFormAjv(now);
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema);
  } catch (error) {
    throw refuse('/schema', error instanceof Error ? error.message : String(error));
  }
  const formId = isObject(schema['x-throughcare-form']) ? schema['x-throughcare-form']['formId'] : undefined;
  const conventions = formConventionProblems(schema, { startForm: isStartFormId(formId as string | undefined) });
  const submissionProblems =
    submission === undefined || validate(submission) ? [] : describeErrors(schema as FormSchema, validate.errors ?? []);
  return {
    problems: [
      ...conventions.map((p) => ({ ...p, pointer: `/schema${p.pointer}` })),
      ...submissionProblems.map((p) => ({ ...p, pointer: `/submission${p.pointer}` })),
    ],
    submissionProblems,
  };
}
