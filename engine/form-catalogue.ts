/**
 * The installed forms as the pathway designer shows them (engine/form-registry.ts holds them): each form's latest
 * version and where the deployed pathways use it (the latest version of each pathway: its user tasks, and its start
 * event for a start form), one form's JSON Schema with its example submissions and versions, and installing one.
 */
import type { PathwayIR } from '../bpmn';
import { invalidSubmission, type FormSchema } from '../pathways';
import type { Store } from '../store';
import { knexOf } from './case-settings';
import { formRegistryOf, type FormInstall, type InstalledFormVersion } from './form-registry';

export interface FormUse {
  readonly pathwayId: string;
  /** The latest deployed version of the pathway. */
  readonly version: number;
  /** The user tasks showing the form, or the start event of a start form. */
  readonly elementIds: readonly string[];
}

/** One version of a form, without its schema: what lists show. */
export interface InstalledFormVersionSummary {
  readonly formId: string;
  readonly version: number;
  readonly title: string;
  readonly digest: string;
  readonly source: 'shipped' | 'designer';
  readonly installedBy: string;
  readonly installedAt: string;
  readonly changeNote: string | null;
}

/** The latest version of a form and where the latest version of each deployed pathway shows it. */
export interface InstalledForm extends InstalledFormVersionSummary {
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
  /** Every version, newest first. */
  readonly versions: readonly InstalledFormVersionSummary[];
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
  const [forms, uses] = await Promise.all([formRegistryOf(store).latest(), formUses(store)]);
  return [...forms.values()].map((form) => ({ ...summaryOf(form), usedBy: uses.get(form.formId) ?? [] }));
}

export async function getInstalledForm(store: Store, formId: string): Promise<InstalledFormDetail> {
  const registry = formRegistryOf(store);
  const form = await registry.form(formId);
  const { valid, invalid } = form.examples;
  return {
    ...summaryOf(form),
    usedBy: (await formUses(store)).get(formId) ?? [],
    schema: form.schema,
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
    versions: (await registry.versions(formId)).map(summaryOf),
  };
}

/** Installs a form from the designer as its next version; `basedOnVersion` absent for a new one. */
export async function installForm(store: Store, form: FormInstall): Promise<InstalledFormVersionSummary> {
  return summaryOf(await formRegistryOf(store).install(form));
}

function summaryOf(form: InstalledFormVersion): InstalledFormVersionSummary {
  return {
    formId: form.formId,
    version: form.version,
    title: form.title,
    digest: form.digest,
    source: form.source,
    installedBy: form.installedBy,
    installedAt: form.installedAt,
    changeNote: form.changeNote,
  };
}
