/**
 * Each form's example submissions (`forms/examples/<formId>.examples.json`): one valid submission, and named invalid
 * ones written as changes to it (`set` some answers, `unset` others) with the field each must be refused on. The
 * tests hold every form to them; the designer shows them beside a form's schema.
 */
import fs from 'node:fs';
import path from 'node:path';
import { FORMS_DIRECTORY } from './catalogue';

/** An invalid example: the valid submission with some answers changed, refused on `field`. */
export interface InvalidFormExample {
  readonly name: string;
  readonly field: string;
  /** The message expected when it is not the field's own (a limit broken, a field the form does not have). */
  readonly detail?: string;
  readonly set?: Readonly<Record<string, unknown>>;
  readonly unset?: readonly string[];
}

export interface FormExamples {
  readonly valid: Record<string, unknown>;
  readonly invalid: readonly InvalidFormExample[];
}

export function readFormExamples(formId: string, directory: string = FORMS_DIRECTORY): FormExamples {
  if (!/^[a-z0-9-]+$/.test(formId)) throw new Error(`Not a form id: ${formId}`);
  return JSON.parse(
    fs.readFileSync(path.join(directory, 'examples', `${formId}.examples.json`), 'utf8'),
  ) as FormExamples;
}

/** The submission an invalid example stands for: a copy of the valid one, with its changes made. */
export function invalidSubmission(
  valid: Readonly<Record<string, unknown>>,
  example: InvalidFormExample,
): Record<string, unknown> {
  const submission: Record<string, unknown> = { ...structuredClone(valid), ...structuredClone(example.set ?? {}) };
  for (const key of example.unset ?? []) delete submission[key];
  return submission;
}
