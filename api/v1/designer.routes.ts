/**
 * The pathway designer's operations, for commissioners: drafts saved on the server (created from a file or a
 * deployed version, saved with the revision they change, discarded), published as a new version with a change
 * note through the ordinary deploy, each version's history with how many cases run it, and the installed forms with
 * a live preview of a form being designed. Drafts and forms hold nobody's data; publishing is audited as a deploy is.
 */
import { ValidationError } from '../../domain/errors';
import {
  createPathwayDraft,
  discardPathwayDraft,
  getInstalledForm,
  getPathwayDraft,
  installForm,
  listInstalledForms,
  listPathwayDrafts,
  pathwayVersionHistory,
  PathwayLintError,
  publishPathwayDraft,
  savePathwayDraft,
  type DraftSource,
  type FormInstall,
} from '../../engine';
import { checkForm, type FormSchema } from '../../pathways';
import { renderFormPreview } from '../../web/forms/form-preview';
import { DISCARD_QUERY, formIdParam } from './designer.schemas';
import { allowInstallationAction, type RouteSpec } from './operation';
import { pathwayIdParam } from './pathways.schemas';
import { PARAMETER_SCHEMAS } from './schemas';

const draftIdParam = { draftId: PARAMETER_SCHEMAS.uuid };
const TAG = 'designer';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export const DESIGNER_ROUTES: readonly RouteSpec[] = [
  {
    method: 'get',
    path: '/designer/drafts',
    operationId: 'listPathwayDrafts',
    summary: 'Pathway drafts, the last saved first (without their XML)',
    tag: TAG,
    action: 'pathway.design',
    patientData: false,
    success: { status: 200, schema: 'PathwayDraftList', description: 'every draft' },
    async handle(ctx) {
      allowInstallationAction(ctx, 'pathway.design');
      return { body: { items: await listPathwayDrafts(ctx.engine.store) } };
    },
  },
  {
    method: 'post',
    path: '/designer/drafts',
    operationId: 'createPathwayDraft',
    summary: 'Start a draft from BPMN XML, or from a deployed version ({"pathwayId", "version"})',
    tag: TAG,
    action: 'pathway.design',
    patientData: false,
    body: 'PathwayDraftCreate',
    success: { status: 201, schema: 'PathwayDraft', description: 'the draft, with its lint findings' },
    problems: { '422': 'the XML is not BPMN (not XML, or no process in it)' },
    async handle(ctx) {
      allowInstallationAction(ctx, 'pathway.design');
      const { xml, pathwayId, version, name } = ctx.body as {
        xml?: string;
        pathwayId?: string;
        version?: number;
        name?: string;
      };
      if (xml !== undefined && pathwayId !== undefined)
        throw new ValidationError('Start a draft from XML or from a deployed version, not both', [
          { pointer: '/pathwayId', detail: 'give either xml, or pathwayId and version' },
        ]);
      const source: DraftSource = xml !== undefined ? { xml } : { pathwayId: pathwayId!, version: version! };
      const draft = await createPathwayDraft(ctx.engine.store, source, {
        by: ctx.principal.subject,
        ...(name !== undefined ? { name } : {}),
      });
      return { status: 201, body: draft };
    },
  },
  {
    method: 'get',
    path: '/designer/drafts/{draftId}',
    operationId: 'getPathwayDraft',
    summary: 'One draft: its XML, its revision and its lint findings now',
    tag: TAG,
    action: 'pathway.design',
    patientData: false,
    params: draftIdParam,
    success: { status: 200, schema: 'PathwayDraft', description: 'the draft' },
    async handle(ctx) {
      allowInstallationAction(ctx, 'pathway.design');
      return { body: await getPathwayDraft(ctx.engine.store, ctx.params['draftId']!) };
    },
  },
  {
    method: 'put',
    path: '/designer/drafts/{draftId}',
    operationId: 'savePathwayDraft',
    summary: 'Save a draft: new XML over the revision you have (lint findings never block a save)',
    tag: TAG,
    action: 'pathway.design',
    patientData: false,
    params: draftIdParam,
    body: 'PathwayDraftSave',
    success: { status: 200, schema: 'PathwayDraft', description: 'the draft at its next revision' },
    problems: {
      '409': 'someone saved the draft since your revision: open it again before saving',
      '422': 'the XML is not BPMN (not XML, or no process in it)',
    },
    async handle(ctx) {
      allowInstallationAction(ctx, 'pathway.design');
      const { xml, revision, name } = ctx.body as { xml: string; revision: number; name?: string };
      const draft = await savePathwayDraft(
        ctx.engine.store,
        ctx.params['draftId']!,
        { xml, revision, ...(name !== undefined ? { name } : {}) },
        ctx.principal.subject,
      );
      return { body: draft };
    },
  },
  {
    method: 'delete',
    path: '/designer/drafts/{draftId}',
    operationId: 'discardPathwayDraft',
    summary: 'Discard a draft (drafts are not records); with ?revision=, only if nobody saved it since',
    tag: TAG,
    action: 'pathway.design',
    patientData: false,
    params: draftIdParam,
    query: DISCARD_QUERY,
    success: { status: 204, description: 'discarded' },
    problems: { '409': 'someone saved the draft since that revision' },
    async handle(ctx) {
      allowInstallationAction(ctx, 'pathway.design');
      await discardPathwayDraft(ctx.engine.store, ctx.params['draftId']!, ctx.query['revision'] as number | undefined);
      return { status: 204, body: undefined };
    },
  },
  {
    method: 'post',
    path: '/designer/drafts/{draftId}/publish',
    operationId: 'publishPathwayDraft',
    summary:
      'Publish a draft as a new immutable version with a change note (the deploy and its lint gate); the draft is then removed',
    tag: TAG,
    action: 'pathway.deploy',
    patientData: false,
    params: draftIdParam,
    body: 'PathwayDraftPublish',
    success: { status: 201, schema: 'PublishedPathway', description: 'the new version' },
    problems: {
      '409': 'the draft was saved since your revision, or it is identical to a deployed version',
      '422': 'lint found errors (each named at /elements/{elementId}), or the XML is not BPMN',
    },
    async handle(ctx) {
      // Reading the draft is designing; what it does is a deploy, audited as one.
      allowInstallationAction(ctx, 'pathway.design');
      const decision = allowInstallationAction(ctx, 'pathway.deploy');
      const { changeNote, revision } = ctx.body as { changeNote: string; revision?: number };
      const published = await publishPathwayDraft(
        ctx.engine.store,
        ctx.params['draftId']!,
        { changeNote, ...(revision !== undefined ? { revision } : {}) },
        ctx.principal.subject,
      ).catch((error: unknown) => {
        if (error instanceof PathwayLintError)
          throw new ValidationError(error.message, error.problems, { unprocessable: true });
        throw error;
      });
      await ctx.audit([
        {
          decision,
          action: 'create',
          operation: 'pathway.deploy',
          entityType: 'PathwayVersion',
          entityId: `${published.pathwayId}:${published.version}`,
          patientId: null,
          reason:
            `published ${published.pathwayId} version ${published.version} from draft ${ctx.params['draftId']!} ` +
            `(sha256 ${published.checksum})`,
        },
      ]);
      return { status: 201, body: published };
    },
  },
  {
    method: 'get',
    path: '/designer/pathways/{pathwayId}/versions',
    operationId: 'listPathwayVersionHistory',
    summary:
      'Every version of a pathway, newest first: who deployed it, when, its change note, and how many cases run it now',
    tag: TAG,
    action: 'pathway.design',
    patientData: false,
    params: { pathwayId: pathwayIdParam },
    success: { status: 200, schema: 'PathwayVersionHistory', description: 'the versions' },
    async handle(ctx) {
      allowInstallationAction(ctx, 'pathway.design');
      return { body: { items: await pathwayVersionHistory(ctx.engine, ctx.params['pathwayId']!) } };
    },
  },
  {
    method: 'get',
    path: '/designer/forms',
    operationId: 'listInstalledForms',
    summary: 'The installed forms: id, title, and which deployed pathways show each (user tasks, start events)',
    tag: TAG,
    action: 'pathway.design',
    patientData: false,
    success: { status: 200, schema: 'InstalledFormList', description: 'every installed form, by id' },
    async handle(ctx) {
      allowInstallationAction(ctx, 'pathway.design');
      return { body: { items: await listInstalledForms(ctx.engine.store) } };
    },
  },
  {
    method: 'get',
    path: '/designer/forms/{formId}',
    operationId: 'getInstalledForm',
    summary: 'One installed form: its JSON Schema and its example submissions',
    tag: TAG,
    action: 'pathway.design',
    patientData: false,
    params: { formId: formIdParam },
    success: { status: 200, schema: 'InstalledFormDetail', description: 'the form' },
    async handle(ctx) {
      allowInstallationAction(ctx, 'pathway.design');
      return { body: await getInstalledForm(ctx.engine.store, ctx.params['formId']!) };
    },
  },
  {
    method: 'post',
    path: '/designer/forms',
    operationId: 'installForm',
    summary:
      'Install a form, or a new version of one, for pathways to show: checked as the shipped forms are (conventions, the valid example accepted, each invalid one refused on its field)',
    tag: TAG,
    action: 'form.install',
    patientData: false,
    body: 'FormInstallRequest',
    success: { status: 201, schema: 'InstalledFormVersion', description: 'the version installed' },
    problems: {
      '409': 'the form is installed already (for a new one), a later version was installed since, or nothing changed',
      '422': 'the schema does not compile, breaks a convention, or an example is not treated as it says',
    },
    async handle(ctx) {
      const decision = allowInstallationAction(ctx, 'form.install');
      const body = ctx.body as Omit<FormInstall, 'installedBy'>;
      const installed = await installForm(ctx.engine.store, { ...body, installedBy: ctx.principal.subject });
      await ctx.audit([
        {
          decision,
          action: 'create',
          operation: 'form.install',
          entityType: 'FormVersion',
          entityId: `${installed.formId}:${installed.version}`,
          patientId: null,
          reason: `installed ${installed.formId} version ${installed.version} (${installed.digest})`,
        },
      ]);
      return { status: 201, body: installed };
    },
  },
  {
    method: 'post',
    path: '/designer/forms/preview',
    operationId: 'previewForm',
    summary:
      'Check a form being designed (it compiles as forms do, keeps their conventions, and the submission passes it) and render it as the worklist does',
    tag: TAG,
    action: 'pathway.design',
    patientData: false,
    body: 'FormPreviewRequest',
    success: { status: 200, schema: 'FormPreview', description: 'whether it is valid, every problem, and the HTML' },
    problems: { '422': 'the schema does not compile (named at /schema, with ajv’s message)' },
    handle(ctx) {
      allowInstallationAction(ctx, 'pathway.design');
      const schema = ctx.body['schema'] as Record<string, unknown>;
      const submission = ctx.body['submission'];
      const { problems, submissionProblems } = checkForm(schema, submission);
      const html = renderFormPreview(
        schema as FormSchema,
        isRecord(submission) ? submission : undefined,
        submissionProblems,
      );
      return Promise.resolve({ body: { valid: problems.length === 0, problems, html } });
    },
  },
];
