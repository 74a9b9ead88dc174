/**
 * The pathway designer's pages, for commissioners: drafts and deployed pathways (`/designer`), a draft's editor (save,
 * download, simulate, publish: one form, so each action takes what is drawn), a pathway's versions with who, when,
 * why and how many cases run each, and two versions compared. Every read and change is an API operation (the
 * designer routes, `listPathways`, `diffPathwayVersions`, `simulatePathway`), so the policy and validation are the
 * API's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConflictError, NotFoundError, ValidationError, type FieldProblem } from '../domain/errors';
import type { PathwayDiff, ElementChange } from '../bpmn/diff-pathway';
import type { LintFinding } from '../bpmn';
import type { PathwayDraftSummary, PathwayDraftView, PathwayVersionHistoryEntry } from '../engine/pathway-drafts';
import { formSchemaId } from '../engine/form-registry';
import { lintOptionsWith } from '../engine/lint-options';
import type { SimulationEventKind, SimulationReport } from '../simulation';
import type { ClientBundle, ClientBundles } from './client-bundles';
import type { PageContext } from './index';
import { jsonForScript } from './ops-pathway';
import { call, errorSummaryOf, fieldErrorsOf, fieldsOf, type FieldErrors } from './page-helpers';

export const DESIGNER_BUNDLE: ClientBundle = {
  name: 'pathway-designer',
  entry: path.join(__dirname, 'client', 'pathway-designer.ts'),
};
export const DIFF_BUNDLE: ClientBundle = {
  name: 'pathway-diff',
  entry: path.join(__dirname, 'client', 'pathway-diff.ts'),
};
export const FORM_PREVIEW_BUNDLE: ClientBundle = {
  name: 'form-preview',
  entry: path.join(__dirname, 'client', 'form-preview.ts'),
};

/** The shipped scenarios (pathways/scenarios), offered as a draft's starting script by the pathway they run. */
const SCENARIOS_DIRECTORY = path.join(__dirname, '..', 'pathways', 'scenarios');

const draftHref = (draftId: string) => `/designer/drafts/${encodeURIComponent(draftId)}`;
const versionsHref = (pathwayId: string) => `/designer/pathways/${encodeURIComponent(pathwayId)}`;

/** A shipped scenario of the pathway, as its file has it, or an empty script. */
function scenarioFor(pathwayId: string): string {
  let files: string[];
  try {
    files = fs
      .readdirSync(SCENARIOS_DIRECTORY)
      .filter((file) => file.endsWith('.scenario.json'))
      .sort();
  } catch {
    return '';
  }
  for (const file of files) {
    const text = fs.readFileSync(path.join(SCENARIOS_DIRECTORY, file), 'utf8');
    try {
      if ((JSON.parse(text) as { pathway?: unknown }).pathway === pathwayId) return text;
    } catch {
      continue;
    }
  }
  return '';
}

function lintSummaryOf(findings: readonly LintFinding[]): string {
  const errors = findings.filter((f) => f.severity === 'error').length;
  const warnings = findings.length - errors;
  if (findings.length === 0) return 'No problems found';
  return `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`;
}

/** `GET /designer` */
export async function designerPage(
  ctx: PageContext,
  form: { values?: Record<string, string>; errors?: FieldErrors } = {},
): Promise<void> {
  const [drafts, pathways] = await Promise.all([
    call(ctx, 'listPathwayDrafts', {}).then((r) => (r.body as { items: PathwayDraftSummary[] }).items),
    call(ctx, 'listPathways', { query: { limit: '200' } }).then(
      (r) => (r.body as { items: { pathwayId: string; name?: string; latestVersion: number }[] }).items,
    ),
  ]);
  const errors = form.errors ?? {};
  const notice = fieldsOf(ctx.req.query)('discarded') ? 'The draft was discarded.' : undefined;
  ctx.render(
    'designer.njk',
    {
      title: 'Pathway designer',
      current: 'designer',
      notice,
      drafts: drafts.map((d) => ({ ...d, href: draftHref(d.draftId) })),
      pathways: pathways.map((p) => ({ ...p, name: p.name ?? p.pathwayId, versionsHref: versionsHref(p.pathwayId) })),
      values: form.values ?? {},
      errors,
      csrfToken: ctx.csrfToken,
      ...(Object.keys(errors).length ? { errorSummary: errorSummaryOf(errors) } : {}),
    },
    Object.keys(errors).length ? 400 : 200,
  );
}

/** `POST /designer/drafts`: from a deployed version, or from a file's XML. */
export async function createDraftPost(ctx: PageContext): Promise<void> {
  const field = fieldsOf(ctx.req.body);
  const [xml, pathwayId, version] = [field('xml').replace(/\r\n/g, '\n'), field('pathwayId'), field('version')];
  const body = pathwayId ? { pathwayId, version: Number(version) } : { xml };
  try {
    const created = await call(ctx, 'createPathwayDraft', { body });
    ctx.redirect(draftHref((created.body as PathwayDraftSummary).draftId));
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const fields = {
      '/xml': { id: 'designer-open-xml', label: 'BPMN XML', missing: 'Paste the BPMN XML, or choose a file' },
    };
    await designerPage(ctx, { values: { xml }, errors: fieldErrorsOf(error.problems, fields, 'designer-open-xml') });
  }
}

interface EditorState {
  readonly xml?: string;
  readonly scenario?: string;
  readonly changeNote?: string;
  readonly errors?: FieldErrors;
  readonly notice?: string;
  readonly simulation?: SimulationReport;
}

const EVENT_KINDS: Record<SimulationEventKind, string> = {
  'task-opened': 'Task opened',
  'task-completed': 'Task completed',
  'task-cancelled': 'Task withdrawn',
  timer: 'Timer fired',
  reminder: 'Reminder',
  overdue: 'Overdue',
  notice: 'Notice',
  notification: 'Notification',
  message: 'Message',
  incident: 'Incident',
  'case-ended': 'Case ended',
  expectation: 'Expectation',
};

async function draftOf(ctx: PageContext): Promise<PathwayDraftView> {
  const draftId = String(ctx.req.params['draftId']);
  try {
    return (await call(ctx, 'getPathwayDraft', { params: { draftId } })).body as PathwayDraftView;
  } catch (error) {
    if (error instanceof ValidationError) throw new NotFoundError('There is no such draft');
    throw error;
  }
}

async function renderEditor(
  ctx: PageContext,
  bundles: ClientBundles,
  draft: PathwayDraftView,
  state: EditorState,
  status = 200,
): Promise<void> {
  const errors = state.errors ?? {};
  const bundle = await bundles.urlsOf(DESIGNER_BUNDLE.name);
  // What the canvas lints against: the forms installed now, as the server's lint before publish.
  const forms = ((await call(ctx, 'listInstalledForms', {})).body as { items: InstalledForm[] }).items;
  const { taskTypes, formIds } = lintOptionsWith(forms.map((form) => form.formId));
  ctx.render(
    'designer-draft.njk',
    {
      title: draft.name,
      current: 'designer',
      draft,
      action: draftHref(draft.draftId),
      newerVersion:
        draft.basedOnVersion !== null && draft.latestVersion !== null && draft.latestVersion > draft.basedOnVersion,
      xml: state.xml ?? draft.xml,
      findings: draft.findings,
      lintSummary: lintSummaryOf(draft.findings),
      scenario: state.scenario ?? scenarioFor(draft.pathwayId),
      changeNote: state.changeNote ?? '',
      notice: state.notice,
      simulation: state.simulation
        ? {
            ...state.simulation,
            seconds: (state.simulation.realMs / 1000).toFixed(1),
            events: state.simulation.events.map((e) => ({ ...e, kindText: EVENT_KINDS[e.kind] })),
          }
        : undefined,
      bundle,
      designerData: jsonForScript({ lintOptions: { taskTypes, formIds } }),
      errors,
      csrfToken: ctx.csrfToken,
      ...(Object.keys(errors).length ? { errorSummary: errorSummaryOf(errors) } : {}),
    },
    status,
  );
}

/** `GET /designer/drafts/:draftId` */
export function draftPage(bundles: ClientBundles) {
  return async (ctx: PageContext): Promise<void> => {
    const notice = fieldsOf(ctx.req.query)('saved') ? 'The draft was saved.' : undefined;
    await renderEditor(ctx, bundles, await draftOf(ctx), { ...(notice ? { notice } : {}) });
  };
}

const EDITOR_FIELDS = {
  '/xml': { id: 'designer-xml', label: 'BPMN XML', missing: 'The draft has no BPMN XML' },
  '/changeNote': { id: 'designer-change-note', label: 'Change note', missing: 'Say what changed and why' },
  '/scenario': { id: 'designer-scenario', label: 'Scenario' },
};

/** Where a problem of the simulation's scenario points, on the page: the scenario box, with the field it names. */
function scenarioErrors(problems: readonly { pointer: string; detail: string }[]): FieldErrors {
  const problem = problems.find((p) => p.pointer.startsWith('/scenario')) ?? problems[0];
  const where = problem?.pointer.replace(/^\/scenario/, '') || '';
  return { 'designer-scenario': `Scenario${where ? ` ${where}` : ''}: ${problem?.detail ?? 'is not valid'}` };
}

/**
 * `POST /designer/drafts/:draftId`: saves what was sent, then does what was asked (`intent`): nothing more (save),
 * send the file (download), run the scenario (simulate) or publish. A save refused because someone saved since
 * shows the page again with what this person sent, so nothing they drew is lost.
 */
export function draftPost(bundles: ClientBundles) {
  return async (ctx: PageContext): Promise<void> => {
    const field = fieldsOf(ctx.req.body);
    // A text box sends its lines ending CR LF; the drafts keep the XML as files have it.
    const xml = field('xml').replace(/\r\n/g, '\n');
    const [intent, scenario, changeNote] = [field('intent'), field('scenario'), field('changeNote')];
    const sent = { xml, scenario, changeNote };
    const draftId = String(ctx.req.params['draftId']);
    let draft = await draftOf(ctx);
    try {
      if (xml !== draft.xml) {
        draft = (
          await call(ctx, 'savePathwayDraft', {
            params: { draftId },
            body: { xml, revision: Number(field('revision')) },
          })
        ).body as PathwayDraftView;
      }
    } catch (error) {
      if (error instanceof ConflictError)
        return renderEditor(ctx, bundles, draft, { ...sent, errors: { 'designer-xml': error.message } }, 409);
      if (error instanceof ValidationError)
        return renderEditor(
          ctx,
          bundles,
          draft,
          { ...sent, errors: fieldErrorsOf(error.problems, EDITOR_FIELDS, 'designer-xml') },
          400,
        );
      throw error;
    }

    switch (intent) {
      case 'download':
        return ctx.download({
          name: `${draft.pathwayId}.bpmn`,
          type: 'application/xml',
          body: draft.xml,
        });
      case 'simulate': {
        let parsed: unknown;
        try {
          parsed = JSON.parse(scenario);
        } catch (error) {
          const detail = error instanceof Error ? error.message : String(error);
          return renderEditor(
            ctx,
            bundles,
            draft,
            { ...sent, errors: { 'designer-scenario': `The scenario is not JSON: ${detail}` } },
            400,
          );
        }
        try {
          const report = await call(ctx, 'simulatePathway', {
            body: { xml: draft.xml, scenario: parsed as Record<string, unknown> },
          });
          return renderEditor(ctx, bundles, draft, { ...sent, simulation: report.body as SimulationReport });
        } catch (error) {
          if (!(error instanceof ValidationError)) throw error;
          const errors = error.problems.some((p) => p.pointer.startsWith('/scenario'))
            ? scenarioErrors(error.problems)
            : fieldErrorsOf(error.problems, EDITOR_FIELDS, 'designer-xml');
          return renderEditor(ctx, bundles, draft, { ...sent, errors }, 400);
        }
      }
      case 'publish':
        try {
          const published = (
            await call(ctx, 'publishPathwayDraft', {
              params: { draftId },
              body: { ...(changeNote.trim() ? { changeNote } : {}), revision: draft.revision },
            })
          ).body as { pathwayId: string; version: number };
          return ctx.redirect(`${versionsHref(published.pathwayId)}?published=${published.version}`);
        } catch (error) {
          if (error instanceof ValidationError)
            return renderEditor(
              ctx,
              bundles,
              draft,
              { ...sent, errors: fieldErrorsOf(error.problems, EDITOR_FIELDS, 'designer-xml') },
              400,
            );
          if (error instanceof ConflictError)
            return renderEditor(ctx, bundles, draft, { ...sent, errors: { 'designer-xml': error.message } }, 409);
          throw error;
        }
      default:
        return ctx.redirect(`${draftHref(draftId)}?saved=1`);
    }
  };
}

/** `POST /designer/drafts/:draftId/discard` */
export async function discardDraftPost(ctx: PageContext): Promise<void> {
  const draftId = String(ctx.req.params['draftId']);
  await call(ctx, 'discardPathwayDraft', {
    params: { draftId },
    query: { revision: fieldsOf(ctx.req.body)('revision') },
  });
  ctx.redirect('/designer?discarded=1');
}

/** `GET /designer/pathways/:pathwayId` */
export async function pathwayVersionsPage(ctx: PageContext): Promise<void> {
  const pathwayId = String(ctx.req.params['pathwayId']);
  let versions: PathwayVersionHistoryEntry[];
  try {
    versions = (
      (await call(ctx, 'listPathwayVersionHistory', { params: { pathwayId } })).body as {
        items: PathwayVersionHistoryEntry[];
      }
    ).items;
  } catch (error) {
    if (error instanceof ValidationError) throw new NotFoundError('There is no such pathway');
    throw error;
  }
  const name = versions[0]?.name ?? pathwayId;
  const published = fieldsOf(ctx.req.query)('published');
  const item = (v: PathwayVersionHistoryEntry, selected: boolean) => ({
    value: String(v.version),
    text: `Version ${v.version}`,
    selected,
  });
  ctx.render('designer-versions.njk', {
    title: `Versions of ${name}`,
    current: 'designer',
    pathwayId,
    name,
    versions,
    notice: published ? `Version ${published} was published. New cases start on it.` : undefined,
    diffAction: `${versionsHref(pathwayId)}/diff`,
    fromItems: versions.map((v, i) => item(v, i === 1)),
    toItems: versions.map((v, i) => item(v, i === 0)),
    csrfToken: ctx.csrfToken,
  });
}

const KIND_WORDS = (type: string) =>
  type
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .replace(/^./, (c) => c.toUpperCase());
const PROPERTY_WORDS: Record<string, string> = {
  name: 'name',
  extensionElements: 'its settings (form, assignment, due date, timer or task type)',
  conditionExpression: 'condition',
  eventDefinitions: 'trigger',
};

/** `GET /designer/pathways/:pathwayId/diff?from=&to=` */
export function pathwayDiffPage(bundles: ClientBundles) {
  return async (ctx: PageContext): Promise<void> => {
    const pathwayId = String(ctx.req.params['pathwayId']);
    const query = fieldsOf(ctx.req.query);
    const [from, to] = [query('from'), query('to')];
    let diff: PathwayDiff & { from: number; to: number };
    try {
      diff = (await call(ctx, 'diffPathwayVersions', { params: { pathwayId }, query: { from, to } }))
        .body as typeof diff;
    } catch (error) {
      if (error instanceof ValidationError) throw new NotFoundError('There are no such versions to compare');
      throw error;
    }
    const xmlOf = async (version: number) =>
      (await call(ctx, 'getPathwayBpmn', { params: { pathwayId, version: String(version) } })).body as string;
    const [before, after, bundle] = await Promise.all([
      xmlOf(diff.from),
      xmlOf(diff.to),
      bundles.urlsOf(DIFF_BUNDLE.name),
    ]);
    const rows = (changes: readonly ElementChange[]) =>
      changes.map((c) => ({
        ...c,
        kindText: KIND_WORDS(c.type),
        propertiesText: (c.properties ?? []).map((p) => PROPERTY_WORDS[p] ?? p).join(', '),
      }));
    const ids = (changes: readonly ElementChange[]) => changes.map((c) => c.id);
    ctx.render('designer-diff.njk', {
      title: `Version ${diff.from} compared with version ${diff.to}`,
      current: 'designer',
      pathwayId,
      versionsHref: versionsHref(pathwayId),
      diff,
      added: rows(diff.added),
      removed: rows(diff.removed),
      changed: rows(diff.changed),
      layoutChanged: rows(diff.layoutChanged),
      bundle,
      diffData: jsonForScript({
        before: { xml: before, label: `Version ${diff.from}` },
        after: { xml: after, label: `Version ${diff.to}` },
        added: ids(diff.added),
        removed: ids(diff.removed),
        changed: ids(diff.changed),
      }),
    });
  };
}

interface InstalledForm {
  readonly formId: string;
  readonly version: number;
  readonly title: string;
  readonly source: 'shipped' | 'designer';
  readonly installedAt: string;
  readonly usedBy: readonly {
    readonly pathwayId: string;
    readonly version: number;
    readonly elementIds: readonly string[];
  }[];
}

interface InstalledFormDetail extends InstalledForm {
  readonly schema: unknown;
  readonly examples: readonly {
    readonly name: string;
    readonly valid: boolean;
    readonly field?: string;
    readonly detail?: string;
    readonly submission: Record<string, unknown>;
  }[];
  readonly versions: readonly {
    readonly version: number;
    readonly source: string;
    readonly installedBy: string;
    readonly installedAt: string;
    readonly changeNote: string | null;
  }[];
}

const formHref = (formId: string) => `/designer/forms/${encodeURIComponent(formId)}`;

/** `GET /designer/forms`: the installed forms, each with its version and where it is used; and a new one to start. */
export async function formsPage(ctx: PageContext): Promise<void> {
  const forms = ((await call(ctx, 'listInstalledForms', {})).body as { items: InstalledForm[] }).items;
  ctx.render('designer-forms.njk', {
    title: 'Forms',
    current: 'designer',
    forms: forms.map((form) => ({
      ...form,
      href: formHref(form.formId),
      usedByText: form.usedBy.map((use) => `${use.pathwayId} (${use.elementIds.join(', ')})`).join('; '),
    })),
  });
}

/** A form to start from: one question, in the forms' conventions (a title, an error message for each answer). */
function newFormSchema(formId: string): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: formSchemaId(formId),
    title: 'New form',
    type: 'object',
    additionalProperties: false,
    required: ['answer'],
    properties: {
      answer: {
        type: 'string',
        title: 'Answer',
        minLength: 1,
        maxLength: 2000,
        'x-throughcare-source': { rule: 'local' },
      },
    },
    'x-error-messages': { answer: 'Enter the answer' },
  };
}

const pretty = (value: unknown) => JSON.stringify(value, null, 2);

/** What the editor shows: the fields as written, and the last check's result. */
interface FormEditorState {
  /** The new form's id as written; only for a new form. */
  readonly newFormId?: string;
  readonly schema: string;
  readonly submission: string;
  /** The examples the form must refuse, as a JSON array. */
  readonly invalid: string;
  readonly changeNote?: string;
  readonly preview?: {
    readonly valid: boolean;
    readonly problems: readonly { pointer: string; detail: string }[];
    readonly html: string;
  };
  readonly errors?: FieldErrors;
  readonly notice?: string;
}

/** The form being edited: a new one (`new`), or the latest version of an installed one with its versions. */
type EditedForm = { readonly formId: 'new' } | { readonly formId: string; readonly installed: InstalledFormDetail };

async function renderEditorOfForm(
  ctx: PageContext,
  bundles: ClientBundles,
  form: EditedForm,
  state: FormEditorState,
  status = 200,
): Promise<void> {
  const errors = state.errors ?? {};
  const installed = 'installed' in form ? form.installed : undefined;
  const bundle = await bundles.urlsOf(FORM_PREVIEW_BUNDLE.name);
  ctx.render(
    'designer-form.njk',
    {
      title: installed?.title ?? 'New form',
      current: 'designer',
      formId: form.formId,
      installed,
      nextVersion: installed ? installed.version + 1 : 1,
      action: formHref(form.formId),
      newFormId: state.newFormId ?? '',
      schema: state.schema,
      submission: state.submission,
      invalid: state.invalid,
      changeNote: state.changeNote ?? '',
      preview: state.preview,
      notice: state.notice,
      bundle,
      errors,
      csrfToken: ctx.csrfToken,
      ...(Object.keys(errors).length ? { errorSummary: errorSummaryOf(errors) } : {}),
    },
    status,
  );
}

async function readInstalledForm(ctx: PageContext, formId: string): Promise<InstalledFormDetail> {
  try {
    return (await call(ctx, 'getInstalledForm', { params: { formId } })).body as InstalledFormDetail;
  } catch (error) {
    if (error instanceof ValidationError) throw new NotFoundError('There is no such form');
    throw error;
  }
}

/** `GET /designer/forms/:formId` (`new` for a new one): its schema and examples, to edit, preview and install. */
export const formPage =
  (bundles: ClientBundles) =>
  async (ctx: PageContext): Promise<void> => {
    const formId = String(ctx.req.params['formId']);
    if (formId === 'new')
      return renderEditorOfForm(
        ctx,
        bundles,
        { formId },
        {
          schema: pretty(newFormSchema('new-form')),
          submission: pretty({ answer: 'An answer' }),
          invalid: pretty([{ name: 'no answer', field: 'answer', unset: ['answer'] }]),
        },
      );
    const installed = await readInstalledForm(ctx, formId);
    const installedNow = Number(ctx.req.query['installed']);
    await renderEditorOfForm(
      ctx,
      bundles,
      { formId, installed },
      {
        schema: pretty(installed.schema),
        submission: pretty(installed.examples.find((e) => e.valid)?.submission ?? {}),
        invalid: pretty(invalidExamplesOf(installed)),
        ...(installedNow === installed.version
          ? { notice: `Version ${installedNow} is installed: pathways published from now on can show it.` }
          : {}),
      },
    );
  };

/** An installed form's refused examples as the install request takes them (changes to the valid one). */
function invalidExamplesOf(form: InstalledFormDetail): unknown[] {
  const valid = form.examples.find((e) => e.valid)?.submission ?? {};
  return form.examples
    .filter((e) => !e.valid)
    .map(({ name, field, detail, submission }) => {
      const set = Object.fromEntries(
        Object.entries(submission).filter(([key, value]) => JSON.stringify(valid[key]) !== JSON.stringify(value)),
      );
      const unset = Object.keys(valid).filter((key) => !(key in submission));
      return {
        name,
        field,
        ...(detail !== undefined ? { detail } : {}),
        ...(Object.keys(set).length ? { set } : {}),
        ...(unset.length ? { unset } : {}),
      };
    });
}

/** Where the install and preview operations' problems are shown on the page. */
const FORM_FIELDS = {
  '/formId': { id: 'form-id', label: 'Form ID' },
  '/schema': { id: 'form-schema', label: 'Schema' },
  '/submission': { id: 'form-submission', label: 'Example submission' },
  '/examples/valid': { id: 'form-submission', label: 'Example submission' },
  '/examples/invalid': { id: 'form-invalid', label: 'Examples it must refuse' },
  '/changeNote': { id: 'form-change-note', label: 'Change note' },
};

/**
 * `POST /designer/forms/:formId`: "Check and preview" checks the schema and the examples and shows the form as a
 * clinician would (the page's script posts it as you type); "Install" installs it as the form's next version.
 */
export const formPost =
  (bundles: ClientBundles) =>
  async (ctx: PageContext): Promise<void> => {
    const formId = String(ctx.req.params['formId']);
    const field = fieldsOf(ctx.req.body);
    const renderFormEditor = (form: EditedForm, state: FormEditorState, status?: number) =>
      renderEditorOfForm(ctx, bundles, form, state, status);
    const installed = formId === 'new' ? undefined : await readInstalledForm(ctx, formId);
    const form: EditedForm = installed ? { formId, installed } : { formId: 'new' };
    const state: FormEditorState = {
      ...(installed ? {} : { newFormId: field('formId').trim() }),
      schema: field('schema'),
      submission: field('submission'),
      invalid: field('invalid'),
      changeNote: field('changeNote'),
    };
    const errors: FieldErrors = {};
    const parsed = (text: string, id: string, label: string): unknown => {
      try {
        return JSON.parse(text);
      } catch (error) {
        errors[id] = `${label} is not JSON: ${error instanceof Error ? error.message : String(error)}`;
        return undefined;
      }
    };
    const schema = parsed(state.schema, 'form-schema', 'The schema');
    const submission = state.submission.trim()
      ? parsed(state.submission, 'form-submission', 'The example submission')
      : undefined;
    const invalid = state.invalid.trim() ? parsed(state.invalid, 'form-invalid', 'The examples it must refuse') : [];
    if (Object.keys(errors).length) return renderFormEditor(form, { ...state, errors }, 400);
    const install = field('action') === 'install';
    try {
      const preview = (
        await call(ctx, 'previewForm', {
          body: { schema: schema as Record<string, unknown>, ...(submission !== undefined ? { submission } : {}) },
        })
      ).body as NonNullable<FormEditorState['preview']>;
      if (!install) return renderFormEditor(form, { ...state, preview });
      const targetId = installed ? formId : (state.newFormId ?? '');
      const result = await call(ctx, 'installForm', {
        body: {
          formId: targetId,
          schema: schema as Record<string, unknown>,
          examples: { valid: submission ?? {}, invalid },
          changeNote: state.changeNote ?? '',
          ...(installed ? { basedOnVersion: installed.version } : {}),
        },
      });
      const { version } = result.body as { version: number };
      ctx.redirect(`${formHref(targetId)}?installed=${version}`);
    } catch (error) {
      if (error instanceof ConflictError)
        return renderFormEditor(
          form,
          { ...state, errors: { [installed ? 'form-schema' : 'form-id']: `${error.message}.` } },
          409,
        );
      if (!(error instanceof ValidationError)) throw error;
      await renderFormEditor(form, { ...state, errors: formFieldErrorsOf(error.problems) }, 400);
    }
  };

/** Each problem on the field its pointer is under (`/schema/$id` on the schema), all of a field's said together. */
function formFieldErrorsOf(problems: readonly FieldProblem[]): FieldErrors {
  const byField = new Map<string, string[]>();
  for (const { pointer, detail } of problems) {
    const under = Object.keys(FORM_FIELDS)
      .filter((prefix) => pointer === prefix || pointer.startsWith(`${prefix}/`))
      .sort((a, b) => b.length - a.length)[0];
    const { id, label } = under ? FORM_FIELDS[under as keyof typeof FORM_FIELDS] : FORM_FIELDS['/schema'];
    const at = under ? pointer.slice(under.length) : pointer;
    byField.set(id, [...(byField.get(id) ?? []), `${label}${at ? ` at ${at}` : ''}: ${detail}`]);
  }
  return Object.fromEntries([...byField].map(([id, texts]) => [id, texts.join('; ')]));
}
