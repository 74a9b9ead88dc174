/**
 * Moving a version's running cases to another version of their pathway, as an ops engineer does it in the console:
 * choose the version to move to and, for elements renamed or replaced, a mapping of old element ids to new ones;
 * "Check each case" runs the API's dry run (`migrateOpsCases` with `dryRun`), which says per case what would move
 * where or why it cannot; only after a check that every case passes does the page offer to move them, and moving
 * checks each case again (a case that changed in between is refused by its own workflow and reported).
 */
import { NotFoundError, ValidationError } from '../domain/errors';
import type { PathwayVersionSummary } from '../engine';
import type { CaseMigration, MigrationReport } from '../engine/ops-migration';
import type { PageContext } from './index';
import { opsCaseHref } from './ops';
import { call, errorSummaryOf, fieldErrorsOf, fieldsOf, type FieldErrors } from './page-helpers';

/** The migration page of a version (`version` a number, or `latest`). */
export function opsMigrationHref(pathwayId: string, version: number | string): string {
  return `/ops/pathways/${encodeURIComponent(pathwayId)}/versions/${version}/migrate`;
}

const FIELDS = {
  '/toVersion': { id: 'migration-to', label: 'Version to move to', missing: 'Choose the version to move the cases to' },
  '/mapping': { id: 'migration-mapping', label: 'Element mapping' },
};

/**
 * `old = new` a line (also `old -> new` or `old → new`); blank lines are skipped. A line that is not a pair is
 * named with its number, so a long mapping can be fixed where it is wrong.
 */
export function parseElementMapping(text: string): { mapping: Record<string, string> } | { error: string } {
  const mapping: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const parts = line.split(/=|->|→/).map((part) => part.trim());
    const [from, to] = parts;
    if (parts.length !== 2 || !from || !to || /\s/.test(from) || /\s/.test(to))
      return { error: `Line ${index + 1} is not an old element id, = and a new element id, like ScreenV1 = Screen` };
    if (Object.hasOwn(mapping, from)) return { error: `Line ${index + 1} maps ${from} a second time` };
    mapping[from] = to;
  }
  return { mapping };
}

interface MigrationForm {
  readonly toVersion?: string;
  readonly mappingText?: string;
  readonly errors?: FieldErrors;
  readonly report?: MigrationReport;
}

async function versionsOf(ctx: PageContext, pathwayId: string): Promise<PathwayVersionSummary[]> {
  const listed = await call(ctx, 'listPathways', { query: { pathway: pathwayId } }).catch((error: unknown) => {
    if (error instanceof ValidationError) throw new NotFoundError('There is no such pathway');
    throw error;
  });
  const versions = (listed.body as { items: { versions: PathwayVersionSummary[] }[] }).items[0]?.versions ?? [];
  if (versions.length === 0) throw new NotFoundError('There is no such pathway');
  return versions;
}

async function renderMigration(ctx: PageContext, form: MigrationForm, status = 200): Promise<void> {
  const pathwayId = String(ctx.req.params['pathwayId']);
  const versions = await versionsOf(ctx, pathwayId);
  const asked = String(ctx.req.params['version']);
  const from =
    asked === 'latest'
      ? versions.reduce((a, b) => (b.version > a.version ? b : a))
      : versions.find((v) => String(v.version) === asked);
  if (!from) throw new NotFoundError('There is no such pathway version');
  const targets = versions.filter((v) => v.version !== from.version).sort((a, b) => b.version - a.version);
  const toVersion = form.toVersion ?? (targets[0] ? String(targets[0].version) : '');
  const report = form.report;
  const errors = form.errors ?? {};
  ctx.render(
    'ops-migration.njk',
    {
      title: `Move running cases of version ${from.version}`,
      current: 'ops',
      pathwayId,
      fromVersion: from.version,
      action: opsMigrationHref(pathwayId, from.version),
      heatmapHref: `/ops/pathways/${encodeURIComponent(pathwayId)}/versions/${from.version}`,
      settings: ctx.principal.settings.join(', '),
      targets: targets.map((v) => ({
        value: String(v.version),
        text: `Version ${v.version}`,
        deployedAt: v.deployedAt,
        checked: String(v.version) === toVersion,
      })),
      toVersion,
      mappingText: form.mappingText ?? '',
      report: report ? reportView(report) : undefined,
      errors,
      csrfToken: ctx.csrfToken,
      ...(Object.keys(errors).length ? { errorSummary: errorSummaryOf(errors) } : {}),
    },
    status,
  );
}

const OUTCOMES: Record<CaseMigration['outcome'], { text: string; tag: string }> = {
  planned: { text: 'Can move', tag: 'nhsuk-tag--blue' },
  migrated: { text: 'Moved', tag: 'nhsuk-tag--green' },
  refused: { text: 'Cannot move', tag: 'nhsuk-tag--red' },
  failed: { text: 'Not moved', tag: 'nhsuk-tag--red' },
};

const capitalised = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

function reportView(report: MigrationReport) {
  const count = (outcome: CaseMigration['outcome']) => report.cases.filter((c) => c.outcome === outcome).length;
  return {
    ...report,
    planned: count('planned'),
    migrated: count('migrated'),
    refused: count('refused'),
    failed: count('failed'),
    // Apply only what a complete, passing check has shown.
    canApply: report.dryRun && report.cases.length > 0 && count('refused') === 0,
    cases: report.cases.map((c) => ({
      ...c,
      href: opsCaseHref(c.caseId),
      outcomeText: OUTCOMES[c.outcome].text,
      outcomeTag: OUTCOMES[c.outcome].tag,
      details: 'moves' in c ? c.moves.map((m) => `${capitalised(m.what)}: ${m.from} → ${m.to}`) : c.problems,
    })),
  };
}

/** `GET /ops/pathways/:pathwayId/versions/:version/migrate` */
export async function opsMigrationPage(ctx: PageContext): Promise<void> {
  await renderMigration(ctx, {});
}

/** `POST /ops/pathways/:pathwayId/versions/:version/migrate`: `intent` is `check` (a dry run) or `apply`. */
export async function opsMigrationPost(ctx: PageContext): Promise<void> {
  const field = fieldsOf(ctx.req.body);
  const [toVersion, mappingText, intent] = [field('toVersion').trim(), field('mapping'), field('intent')];
  const form = { toVersion, mappingText };
  const errors: FieldErrors = {};
  if (!/^[1-9]\d{0,8}$/.test(toVersion)) errors[FIELDS['/toVersion'].id] = FIELDS['/toVersion'].missing;
  const parsed = parseElementMapping(mappingText);
  if ('error' in parsed) errors[FIELDS['/mapping'].id] = parsed.error;
  const fromVersion = String(ctx.req.params['version']);
  if (!/^[1-9]\d{0,8}$/.test(fromVersion)) throw new NotFoundError('There is no such pathway version');
  if (Object.keys(errors).length > 0 || 'error' in parsed) return renderMigration(ctx, { ...form, errors }, 400);
  try {
    const result = await call(ctx, 'migrateOpsCases', {
      params: { pathwayId: String(ctx.req.params['pathwayId']) },
      body: {
        fromVersion: Number(fromVersion),
        toVersion: Number(toVersion),
        ...(Object.keys(parsed.mapping).length ? { mapping: parsed.mapping } : {}),
        dryRun: intent !== 'apply',
      },
    });
    return renderMigration(ctx, { ...form, report: result.body as MigrationReport });
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    if (error.problems.some((p) => p.pointer.startsWith('/path/')))
      throw new NotFoundError('There is no such pathway version');
    return renderMigration(
      ctx,
      { ...form, errors: fieldErrorsOf(error.problems, FIELDS, FIELDS['/toVersion'].id) },
      400,
    );
  }
}
