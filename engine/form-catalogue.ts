/**
 * The installed forms as the pathway designer shows them: each form's title and where the deployed pathways use
 * it (the latest version of each pathway: its user tasks, and its start event for a start form), and one form's
 * JSON Schema with its example submissions.
 */
import type { PathwayIR } from '../bpmn';
import { NotFoundError } from '../domain/errors';
import {
  FORMS_DIRECTORY,
  invalidSubmission,
  listFormIds,
  readFormExamples,
  readFormSchema,
  type FormSchema,
} from '../pathways';
import type { Store } from '../store';
import { knexOf } from './case-settings';

export interface FormUse {
  readonly pathwayId: string;
  /** The latest deployed version of the pathway. */
  readonly version: number;
  /** The user tasks showing the form, or the start event of a start form. */
  readonly elementIds: readonly string[];
}

export interface InstalledForm {
  readonly formId: string;
  readonly title: string;
  readonly usedBy: readonly FormUse[];
}

export interface FormExampleSubmission {
  readonly name: string;
  readonly valid: boolean;
  /** For an invalid example: the field it is refused on, and the message expected when it is not the field's own. */
  readonly field?: string;
  readonly detail?: string;
  readonly submission: Record<string, unknown>;
}

export interface InstalledFormDetail extends InstalledForm {
  readonly schema: FormSchema;
  /** The valid example first, then each named invalid one, as whole submissions. */
  readonly examples: readonly FormExampleSubmission[];
}

/** Which elements of the latest version of each deployed pathway show each form. */
async function formUses(store: Store): Promise<Map<string, FormUse[]>> {
  const rows = (await knexOf(store)
    .select('pathway_id', 'version', 'ir')
    .from('pathway_versions')
    .distinctOn('pathway_id')
    .orderBy([
      { column: 'pathway_id', order: 'asc' },
      { column: 'version', order: 'desc' },
    ])) as { pathway_id: string; version: number; ir: PathwayIR }[];
  const uses = new Map<string, FormUse[]>();
  for (const { pathway_id: pathwayId, version, ir } of rows) {
    const byForm = new Map<string, string[]>();
    const add = (formId: string | undefined, elementId: string) => {
      if (formId) byForm.set(formId, [...(byForm.get(formId) ?? []), elementId]);
    };
    add(ir.startFormId, ir.startEventId);
    for (const element of Object.values(ir.elements)) if (element.kind === 'userTask') add(element.formId, element.id);
    for (const [formId, elementIds] of byForm)
      uses.set(formId, [...(uses.get(formId) ?? []), { pathwayId, version, elementIds: elementIds.sort() }]);
  }
  return uses;
}

export async function listInstalledForms(store: Store): Promise<InstalledForm[]> {
  const uses = await formUses(store);
  return listFormIds(FORMS_DIRECTORY).map((formId) => ({
    formId,
    title: readFormSchema(formId).title,
    usedBy: uses.get(formId) ?? [],
  }));
}

export async function getInstalledForm(store: Store, formId: string): Promise<InstalledFormDetail> {
  if (!listFormIds(FORMS_DIRECTORY).includes(formId)) throw new NotFoundError(`No form ${formId} is installed`);
  const schema = readFormSchema(formId);
  const { valid, invalid } = readFormExamples(formId);
  return {
    formId,
    title: schema.title,
    usedBy: (await formUses(store)).get(formId) ?? [],
    schema,
    examples: [
      { name: 'valid', valid: true, submission: valid },
      ...invalid.map((example) => ({
        name: example.name,
        valid: false,
        field: example.field,
        ...(example.detail !== undefined ? { detail: example.detail } : {}),
        submission: invalidSubmission(valid, example),
      })),
    ],
  };
}
