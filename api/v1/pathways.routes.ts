/**
 * Pathways: list deployed versions, read one (described, or its BPMN XML), lint BPMN, deploy it. Pathways belong to
 * the installation, not to a setting: commissioners do all of it, ops read versions (api/policy.ts).
 */
import { ValidationError } from '../../domain/errors';
import {
  deployPathway,
  getPathwayVersion,
  installedLintOptions,
  lintInstalledPathway,
  listPathwayVersions,
  pageInMemory,
  PathwayLintError,
  showPathwayVersion,
  type PathwayVersionSummary,
} from '../../engine';
import { allowInstallationAction, pageOf, type RouteContext, type RouteSpec } from './operation';
import { pathwayIdParam, versionParam } from './pathways.schemas';

const versionOf = (ctx: RouteContext) =>
  ctx.params['version'] === 'latest' ? undefined : Number(ctx.params['version']);

const versionParams = { pathwayId: pathwayIdParam, version: versionParam };

export const PATHWAY_ROUTES: readonly RouteSpec[] = [
  {
    method: 'get',
    path: '/pathways',
    operationId: 'listPathways',
    summary: 'Deployed pathways and their versions, newest version first',
    tag: 'pathways',
    action: 'pathway.list',
    patientData: false,
    query: 'PathwayListQuery',
    success: { status: 200, schema: 'PathwayList', description: 'deployed pathways by id, a page at a time' },
    async handle(ctx) {
      allowInstallationAction(ctx, 'pathway.list');
      const versions = await listPathwayVersions(ctx.engine.store, ctx.query['pathway'] as string | undefined);
      const byPathway = new Map<string, PathwayVersionSummary[]>();
      for (const v of versions) byPathway.set(v.pathwayId, [...(byPathway.get(v.pathwayId) ?? []), v]);
      const items = [...byPathway].map(([pathwayId, list]) => ({
        pathwayId,
        ...(list[0]!.name ? { name: list[0]!.name } : {}),
        latestVersion: list[0]!.version,
        versions: list,
      }));
      return { body: pageInMemory(items, (p) => [p.pathwayId], { ...pageOf(ctx.query), keyLength: 1 }) };
    },
  },
  {
    method: 'get',
    path: '/pathways/{pathwayId}/versions/{version}',
    operationId: 'getPathwayVersion',
    summary: 'One deployed version: its start variables, user tasks and forms, timers, and the messages it catches',
    tag: 'pathways',
    action: 'pathway.read',
    patientData: false,
    params: versionParams,
    success: { status: 200, schema: 'PathwayVersion', description: 'the version' },
    async handle(ctx) {
      allowInstallationAction(ctx, 'pathway.read');
      return { body: await showPathwayVersion(ctx.engine.store, ctx.params['pathwayId']!, versionOf(ctx)) };
    },
  },
  {
    method: 'get',
    path: '/pathways/{pathwayId}/versions/{version}/bpmn',
    operationId: 'getPathwayBpmn',
    summary: 'The BPMN 2.0 XML of one deployed version, exactly as deployed',
    tag: 'pathways',
    action: 'pathway.read',
    patientData: false,
    params: versionParams,
    success: { status: 200, schema: 'BpmnXml', description: 'the XML', contentType: 'application/xml' },
    async handle(ctx) {
      allowInstallationAction(ctx, 'pathway.read');
      const version = await getPathwayVersion(ctx.engine.store, ctx.params['pathwayId']!, versionOf(ctx));
      return { body: version.bpmnXml, contentType: 'application/xml' };
    },
  },
  {
    method: 'post',
    path: '/pathways/lint',
    operationId: 'lintPathway',
    summary: 'Lint BPMN against the installed service task types and forms, without deploying it',
    tag: 'pathways',
    action: 'pathway.lint',
    patientData: false,
    body: 'BpmnSource',
    xmlBody: true,
    success: { status: 200, schema: 'LintReport', description: 'the findings (errors would refuse a deployment)' },
    problems: { '422': 'the body is not BPMN (not XML, or no process in it)' },
    async handle(ctx) {
      allowInstallationAction(ctx, 'pathway.lint');
      const { ir, findings } = await lintInstalledPathway(ctx.engine.store, ctx.body['xml'] as string);
      const errors = findings.filter((f) => f.severity === 'error').length;
      return { body: { pathwayId: ir.processId, errors, warnings: findings.length - errors, findings } };
    },
  },
  {
    method: 'post',
    path: '/pathways',
    operationId: 'deployPathway',
    summary: 'Deploy BPMN as a new immutable version (the same XML again answers 200 with the version holding it)',
    tag: 'pathways',
    action: 'pathway.deploy',
    patientData: false,
    body: 'DeploySource',
    xmlBody: true,
    success: { status: 201, schema: 'DeployedPathway', description: 'the new version, with any lint warnings' },
    problems: { '422': 'lint found errors (each named at /elements/{elementId}), or the body is not BPMN' },
    async handle(ctx) {
      const decision = allowInstallationAction(ctx, 'pathway.deploy');
      const xml = ctx.body['xml'] as string;
      const changeNote = ctx.body['changeNote'] as string | undefined;
      await lintInstalledPathway(ctx.engine.store, xml);
      const deployed = await deployPathway(ctx.engine.store, xml, {
        ...(await installedLintOptions(ctx.engine.store)),
        deployedBy: ctx.principal.subject,
        ...(changeNote !== undefined ? { changeNote } : {}),
      }).catch((error: unknown) => {
        if (error instanceof PathwayLintError)
          throw new ValidationError(error.message, error.problems, { unprocessable: true });
        throw error;
      });
      if (deployed.created)
        await ctx.audit([
          {
            decision,
            action: 'create',
            operation: 'pathway.deploy',
            entityType: 'PathwayVersion',
            entityId: `${deployed.pathwayId}:${deployed.version}`,
            patientId: null,
            reason: `deployed ${deployed.pathwayId} version ${deployed.version} (sha256 ${deployed.checksum})`,
          },
        ]);
      return { status: deployed.created ? 201 : 200, body: deployed };
    },
  },
];
