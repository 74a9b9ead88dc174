/**
 * The installed forms, in the record store (`form_versions`): every version of each form's JSON Schema with its
 * example submissions, none ever changed. What the worklist shows, the API checks a submission against and the
 * lint lets a pathway name is the latest version of each form.
 *
 * The shipped forms (pathways/forms) are installed as versions the first time the registry is read, and again
 * whenever a release changes one; a commissioner installs new forms and new versions from the designer, each
 * checked as the shipped ones are tested (conventions, the valid example accepted, each invalid one refused on its
 * field).
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { ConflictError, NotFoundError, ValidationError, type FieldProblem } from '../domain/errors';
import {
  checkForm,
  createFormValidator,
  invalidSubmission,
  listFormIds,
  readFormExamples,
  readFormSchema,
  type FormExamples,
  type FormSchema,
  type FormValidator,
  type InvalidFormExample,
} from '../pathways';
import type { Store } from '../store';
import { knexOf } from './case-settings';

export type FormSource = 'shipped' | 'designer';

export interface InstalledFormVersion {
  readonly formId: string;
  readonly version: number;
  readonly title: string;
  readonly schema: FormSchema;
  readonly examples: FormExamples;
  /** What an assessment's `form_version` records: `sha256:` and 16 hex digits of the schema as JSON. */
  readonly digest: string;
  readonly source: FormSource;
  /** OIDC subject of who installed it (`throughcare` for a shipped form). */
  readonly installedBy: string;
  readonly installedAt: string;
  readonly changeNote: string | null;
}

export interface FormInstall {
  readonly formId: string;
  readonly schema: Record<string, unknown>;
  readonly examples: { readonly valid: Record<string, unknown>; readonly invalid?: readonly InvalidFormExample[] };
  readonly installedBy: string;
  readonly changeNote: string;
  /** The version the change was made from; absent for a new form. A different latest version is a conflict. */
  readonly basedOnVersion?: number;
}

export interface FormRegistry {
  /** The latest version of each installed form, by form id. */
  latest(): Promise<ReadonlyMap<string, InstalledFormVersion>>;
  /** The latest version of one form; NotFoundError when there is no such form. */
  form(formId: string): Promise<InstalledFormVersion>;
  /** Every version of one form, newest first. */
  versions(formId: string): Promise<InstalledFormVersion[]>;
  /**
   * A validator over the latest versions, compiled once per set of versions (and clock). `now` is the clock
   * `x-not-in-future` answers are held to: the system clock by default, the simulated one in a simulation.
   */
  validator(now?: () => Date): Promise<FormValidator>;
  /** Checks a form and installs it as the next version (1 for a new form). */
  install(form: FormInstall): Promise<InstalledFormVersion>;
  /**
   * Makes another installation's forms the latest here, each already checked where it was installed: a form
   * whose latest version here has a different schema gets that one as its next version. For a simulation's
   * scratch store, which runs a draft with the forms of the installation it simulates.
   */
  adopt(forms: Iterable<InstalledFormVersion>): Promise<void>;
}

export const SHIPPED_BY = 'throughcare';
const FORM_ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const MAX_FORM_ID_LENGTH = 64;

/** The `$id` every form carries: forms are compiled together, and two forms with one `$id` would clash. */
export const formSchemaId = (formId: string): string =>
  `https://throughcare.example/pathways/forms/${formId}.schema.json`;

export function formDigest(schema: unknown): string {
  return `sha256:${createHash('sha256').update(JSON.stringify(schema)).digest('hex').slice(0, 16)}`;
}

interface FormVersionRow {
  form_id: string;
  version: number;
  title: string;
  schema: FormSchema;
  examples: FormExamples;
  digest: string;
  source: FormSource;
  installed_by: string;
  installed_at: Date;
  change_note: string | null;
}

const versionOf = (row: FormVersionRow): InstalledFormVersion => ({
  formId: row.form_id,
  version: row.version,
  title: row.title,
  schema: row.schema,
  examples: row.examples,
  digest: row.digest,
  source: row.source,
  installedBy: row.installed_by,
  installedAt: new Date(row.installed_at).toISOString(),
  changeNote: row.change_note,
});

const registries = new WeakMap<Store, FormRegistry>();

/** The store's form registry: one per store, so its cache of versions and compiled validators is shared. */
export function formRegistryOf(store: Store): FormRegistry {
  let registry = registries.get(store);
  if (!registry) {
    registry = createFormRegistry(knexOf(store));
    registries.set(store, registry);
  }
  return registry;
}

function createFormRegistry(knex: Knex): FormRegistry {
  const byKey = new Map<string, InstalledFormVersion>();
  const key = (formId: string, version: number) => `${formId}@${version}`;
  const systemClock = () => new Date();
  const compiled = new WeakMap<() => Date, { signature: string; validator: FormValidator }>();
  let shipped: Promise<void> | undefined;

  async function ensureShipped(): Promise<void> {
    shipped ??= installShippedForms(knex).then(
      () => undefined,
      (error: unknown) => {
        shipped = undefined; // try again at the next read
        throw error;
      },
    );
    await shipped;
  }

  async function latest(): Promise<ReadonlyMap<string, InstalledFormVersion>> {
    await ensureShipped();
    // The heads alone, from the primary key; only versions not seen before are read in full.
    const heads = (await knex('form_versions')
      .select('form_id')
      .max({ version: 'version' })
      .groupBy('form_id')
      .orderBy('form_id')) as { form_id: string; version: number }[];
    const unseen = heads.filter((head) => !byKey.has(key(head.form_id, head.version)));
    if (unseen.length > 0) {
      const rows = (await knex('form_versions')
        .select('*')
        .whereIn(
          ['form_id', 'version'],
          unseen.map((head) => [head.form_id, head.version]),
        )) as FormVersionRow[];
      for (const row of rows) byKey.set(key(row.form_id, row.version), versionOf(row));
    }
    return new Map(heads.map((head) => [head.form_id, byKey.get(key(head.form_id, head.version))!]));
  }

  async function form(formId: string): Promise<InstalledFormVersion> {
    const found = (await latest()).get(formId);
    if (!found) throw new NotFoundError(`No form ${formId} is installed`);
    return found;
  }

  return {
    latest,
    form,
    async versions(formId) {
      await ensureShipped();
      const rows = (await knex('form_versions')
        .select('*')
        .where('form_id', formId)
        .orderBy('version', 'desc')) as FormVersionRow[];
      if (rows.length === 0) throw new NotFoundError(`No form ${formId} is installed`);
      return rows.map(versionOf);
    },
    async validator(now = systemClock) {
      const forms = await latest();
      const signature = [...forms.values()].map((f) => key(f.formId, f.version)).join(',');
      let known = compiled.get(now);
      if (known?.signature !== signature) {
        const schemas = new Map([...forms].map(([id, f]) => [id, f.schema]));
        known = { signature, validator: createFormValidator({ schemas, now }) };
        compiled.set(now, known);
      }
      return known.validator;
    },
    async adopt(forms) {
      const here = await latest();
      for (const form of forms) {
        const current = here.get(form.formId);
        if (current?.digest === form.digest) continue;
        await insertNextVersion(knex, form);
      }
    },
    async install(input) {
      const current = (await latest()).get(input.formId);
      assertInstallable(input, current);
      const schema = input.schema as FormSchema;
      const digest = formDigest(schema);
      if (current?.digest === digest)
        throw new ConflictError(`Version ${current.version} of ${input.formId} already has this schema`);
      const row = await insertNextVersion(
        knex,
        {
          formId: input.formId,
          title: schema.title,
          schema,
          examples: { valid: input.examples.valid, invalid: input.examples.invalid ?? [] },
          digest,
          source: 'designer',
          installedBy: input.installedBy,
          changeNote: input.changeNote,
        },
        current?.version ?? 0,
      );
      if (!row)
        throw new ConflictError(`${input.formId} was installed by someone else at the same time: open it again`);
      return versionOf(row);
    },
  };
}

/** Everything that would stop a form being installed, each problem named by a pointer into the request. */
function assertInstallable(input: FormInstall, current: InstalledFormVersion | undefined): void {
  const problems: FieldProblem[] = [];
  const { formId, schema, examples } = input;
  if (!FORM_ID.test(formId) || formId.length > MAX_FORM_ID_LENGTH)
    problems.push({
      pointer: '/formId',
      detail: `must be lower-case letters and digits in words joined by hyphens, at most ${MAX_FORM_ID_LENGTH} characters`,
    });
  if (schema['$id'] !== formSchemaId(formId))
    problems.push({ pointer: '/schema/$id', detail: `must be "${formSchemaId(formId)}"` });
  const mark = schema['x-throughcare-form'] as { formId?: unknown } | undefined;
  if (mark?.formId !== undefined && mark.formId !== formId)
    problems.push({ pointer: '/schema/x-throughcare-form/formId', detail: `must be "${formId}", the form's id` });
  if (input.changeNote.trim() === '')
    problems.push({ pointer: '/changeNote', detail: 'must say what changed and why' });
  // throws a 422 ValidationError when the schema does not compile
  const { problems: formProblems } = checkForm(schema, examples.valid);
  problems.push(
    ...formProblems.map((p) => ({
      ...p,
      pointer: p.pointer.replace(/^\/submission/, '/examples/valid'),
    })),
  );
  if (formProblems.length === 0)
    (examples.invalid ?? []).forEach((example, index) => {
      const { submissionProblems } = checkForm(schema, invalidSubmission(examples.valid, example));
      const refused = submissionProblems.some(
        (p) => p.pointer === `/${example.field}` || p.pointer.startsWith(`/${example.field}/`),
      );
      if (!refused)
        problems.push({
          pointer: `/examples/invalid/${index}`,
          detail: `"${example.name}" must be refused on ${example.field}, and the form accepts it`,
        });
    });
  if (current && input.basedOnVersion !== current.version)
    throw new ConflictError(
      input.basedOnVersion === undefined
        ? `A form ${formId} is already installed; open it to install a new version`
        : `${formId} is now at version ${current.version}, not ${input.basedOnVersion}: open it again to see the change`,
    );
  if (!current && input.basedOnVersion !== undefined)
    problems.push({ pointer: '/basedOnVersion', detail: `no form ${formId} is installed to change` });
  if (problems.length > 0)
    throw new ValidationError(`The ${formId} form cannot be installed`, problems, { unprocessable: true });
}

/**
 * Installs each shipped form whose file differs from the last version shipped (a new form, or one a release
 * changed) as its next version. Idempotent, and safe when two processes start together: a version number taken
 * by the other is left to it.
 */
export async function installShippedForms(knex: Knex): Promise<number> {
  const lastShipped = new Map(
    (
      (await knex('form_versions')
        .distinctOn('form_id')
        .select('form_id', 'digest')
        .where('source', 'shipped')
        .orderBy([
          { column: 'form_id', order: 'asc' },
          { column: 'version', order: 'desc' },
        ])) as { form_id: string; digest: string }[]
    ).map((row) => [row.form_id, row.digest]),
  );
  let installed = 0;
  for (const formId of listFormIds()) {
    const schema = readFormSchema(formId);
    const digest = formDigest(schema);
    if (lastShipped.get(formId) === digest) continue;
    const row = await insertNextVersion(knex, {
      formId,
      title: schema.title,
      schema,
      examples: readFormExamples(formId),
      digest,
      source: 'shipped',
      installedBy: SHIPPED_BY,
      changeNote: 'Shipped with Throughcare',
    });
    if (row) installed += 1;
  }
  return installed;
}

type NewFormVersion = Omit<InstalledFormVersion, 'version' | 'installedAt'>;

/**
 * Inserts a form's next version, numbered in the statement itself, so two writers cannot take one number: the
 * loser inserts nothing (undefined). With `afterVersion`, only when that is still the form's latest version.
 */
async function insertNextVersion(
  knex: Knex,
  form: NewFormVersion,
  afterVersion?: number,
): Promise<FormVersionRow | undefined> {
  const { rows } = await knex.raw<{ rows: FormVersionRow[] }>(
    `insert into form_versions (form_id, version, title, schema, examples, digest, source, installed_by, change_note)
     select ?, coalesce(max(version), 0) + 1, ?, ?::json, ?::json, ?, ?, ?, ? from form_versions where form_id = ?
     ${afterVersion === undefined ? '' : 'having coalesce(max(version), 0) = ?'}
     on conflict (form_id, version) do nothing
     returning *`,
    [
      form.formId,
      form.title,
      JSON.stringify(form.schema),
      JSON.stringify(form.examples),
      form.digest,
      form.source,
      form.installedBy,
      form.changeNote,
      form.formId,
      ...(afterVersion === undefined ? [] : [afterVersion]),
    ],
  );
  return rows[0];
}
