/**
 * Pathway versions: deploy (compile, lint, store immutably), list and fetch. A version is never changed
 * once stored; deploying identical XML again returns the version that already holds it.
 */
import { createHash } from 'node:crypto';
import { compilePathway, hasLintErrors, type LintFinding, type LintOptions, type PathwayIR } from '../bpmn';
import { NotFoundError, ValidationError } from '../domain/errors';
import { PathwayVersionSchema, type Store } from '../store';

export interface PathwayVersionSummary {
  readonly pathwayId: string;
  readonly name: string | undefined;
  readonly version: number;
  readonly checksum: string;
  readonly deployedBy: string;
  readonly deployedAt: string;
}

export interface DeployedPathway extends PathwayVersionSummary {
  /** False when the same XML had already been deployed and that version was returned. */
  readonly created: boolean;
  /** Warnings found while linting (errors refuse the deployment). */
  readonly findings: readonly LintFinding[];
}

/** A pathway refused for its lint errors; `findings` carries every finding, each naming its element. */
export class PathwayLintError extends ValidationError {
  constructor(
    pathwayId: string | undefined,
    readonly findings: readonly LintFinding[],
  ) {
    const errors = findings.filter((f) => f.severity === 'error');
    super(
      `Pathway ${pathwayId ?? ''} has ${errors.length} lint error(s) and was not deployed`.replace('  ', ' '),
      errors.map((f) => ({ pointer: `/elements/${f.id}`, detail: `${f.message} Fix: ${f.fix}` })),
    );
  }
}

export interface DeployOptions extends LintOptions {
  /** Who deployed it (staff id or username), recorded with the version. */
  readonly deployedBy: string;
}

export function checksumOf(xml: string): string {
  return createHash('sha256').update(xml, 'utf8').digest('hex');
}

export async function deployPathway(store: Store, xml: string, options: DeployOptions): Promise<DeployedPathway> {
  const { ir, findings } = await compilePathway(xml, options);
  if (hasLintErrors(findings)) throw new PathwayLintError(ir.processId, findings);
  const checksum = checksumOf(xml);
  const em = store.fork();
  return em.transactional(async (tx) => {
    // Serialise deployments of one pathway so two deploys cannot both take the next version number.
    await tx.execute('select pg_advisory_xact_lock(hashtext(?))', [ir.processId]);
    const existing = await tx.findOne(PathwayVersionSchema, { pathwayId: ir.processId, checksum });
    if (existing) return { ...summarise(existing), created: false, findings };
    const latest = await tx.findOne(
      PathwayVersionSchema,
      { pathwayId: ir.processId },
      { orderBy: { version: 'desc' } },
    );
    const created = tx.create(PathwayVersionSchema, {
      pathwayId: ir.processId,
      version: (latest?.version ?? 0) + 1,
      checksum,
      bpmnXml: xml,
      ir,
      deployedBy: options.deployedBy,
      deployedAt: new Date(),
    });
    await tx.flush();
    return { ...summarise(created), created: true, findings };
  });
}

/** Every deployed version, newest first within each pathway. */
export async function listPathwayVersions(store: Store, pathwayId?: string): Promise<PathwayVersionSummary[]> {
  const rows = await store
    .fork()
    .find(PathwayVersionSchema, pathwayId ? { pathwayId } : {}, { orderBy: { pathwayId: 'asc', version: 'desc' } });
  return rows.map(summarise);
}

export interface PathwayVersionDetail extends PathwayVersionSummary {
  readonly ir: PathwayIR;
  readonly bpmnXml: string;
}

/** One version, or the latest when `version` is omitted. */
export async function getPathwayVersion(
  store: Store,
  pathwayId: string,
  version?: number,
): Promise<PathwayVersionDetail> {
  const row = await store
    .fork()
    .findOne(PathwayVersionSchema, version === undefined ? { pathwayId } : { pathwayId, version }, {
      orderBy: { version: 'desc' },
    });
  if (!row)
    throw new NotFoundError(
      version === undefined ? `No pathway ${pathwayId} is deployed` : `Pathway ${pathwayId} has no version ${version}`,
    );
  return { ...summarise(row), ir: row.ir as PathwayIR, bpmnXml: row.bpmnXml };
}

function summarise(row: {
  pathwayId: string;
  version: number;
  checksum: string;
  deployedBy: string;
  deployedAt: Date;
  ir: unknown;
}): PathwayVersionSummary {
  return {
    pathwayId: row.pathwayId,
    name: (row.ir as PathwayIR).name,
    version: row.version,
    checksum: row.checksum,
    deployedBy: row.deployedBy,
    deployedAt: row.deployedAt.toISOString(),
  };
}
