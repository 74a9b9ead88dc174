/**
 * A form as the worklist's task page shows it, for the designer's live preview: the same renderer (form-view.ts)
 * and the same template (form-fields.njk), with a submission's answers filled in and its problems shown at their
 * questions and in the NHS.UK error summary, as a clinician submitting it would see them.
 */
import type nunjucks from 'nunjucks';
import type { FieldProblem } from '../../domain/errors';
import type { FormSchema } from '../../pathways';
import { createRenderer } from '../render';
import { fieldErrors, formValues, formView } from './form-view';

const TEMPLATE = `{% from "nhsuk/components/error-summary/macro.njk" import errorSummary %}
{% from "form-fields.njk" import formFields %}
{% if summary.length %}{{ errorSummary({ titleText: "There is a problem", errorList: summary }) }}{% endif %}
<h2>{{ form.title }}</h2>
{{ formFields(form) }}`;

let renderer: nunjucks.Environment | undefined;

/**
 * The form's fields as HTML. `problems` are the submission's, by JSON Pointer into the submission (as
 * `describeErrors` gives them).
 */
export function renderFormPreview(
  schema: FormSchema,
  submission: Record<string, unknown> | undefined,
  problems: readonly FieldProblem[],
): string {
  renderer ??= createRenderer();
  const { byField, summary } = fieldErrors(problems, '', schema);
  const form = formView(schema, submission ? formValues(schema, submission) : {}, byField);
  return renderer.renderString(TEMPLATE, { form, summary }).trim();
}
