/**
 * Installed forms: each version of a form's JSON Schema with its example submissions, stored immutably. The worklist
 * shows, and the API and worker validate against, the latest version of each form; answers record the digest of the
 * version they were checked against. The shipped forms (pathways/forms) are installed as versions when the product
 * starts; a commissioner installs further versions, or new forms, from the designer.
 */
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export const FormVersionSchema = defineEntity({
  name: 'FormVersion',
  tableName: 'form_versions',
  properties: {
    formId: p.string().length(64).primary(),
    version: p.integer().primary(),
    title: p.string().length(255),
    // json, not jsonb: the order of a form's properties is the order of its questions, and jsonb would sort them.
    schema: p.json<unknown>().columnType('json'),
    /** `{ valid, invalid }`: the submission the form must accept and the named ones it must refuse (pathways/forms). */
    examples: p.json<unknown>().columnType('json'),
    /** `sha256:` and 16 hex digits of the schema as JSON: what an assessment's `form_version` records. */
    digest: p.string().length(64),
    /** `shipped` (from the release's pathways/forms) or `designer` (installed by a commissioner). */
    source: p.enum(['shipped', 'designer']),
    installedBy: p.string().length(255),
    installedAt: p.datetime().defaultRaw('now()'),
    changeNote: p.text().nullable(),
  },
  checks: [
    { name: 'form_versions_version_positive', expression: 'version >= 1' },
    { name: 'form_versions_form_id_format', expression: `form_id ~ '^[a-z0-9]+(-[a-z0-9]+)*$'` },
  ],
});
export type FormVersion = InferEntity<typeof FormVersionSchema>;
