/**
 * Moving running cases to a newer version of their pathway, as ops do it: with an element mapping, a dry run per
 * case first (the `migrationPlan` query of each case's workflow), and nothing applied unless every case's plan
 * holds. A case that changed between the dry run and applying is refused by its own workflow (the `migratePathway`
 * update validates again, atomically with applying), and reported as such; the others move. The record store's
 * case row follows its workflow; the operations log says who moved which cases.
 */
import { ValidationError } from '../domain/errors';
import {
  migratePathwayUpdate,
  migrationPlanQuery,
  type ElementMapping,
  type MigratePathwayResult,
  type MigrationMove,
} from '../workflows';
import type { CaseEngine } from './case-engine';
import { knexOf } from './case-settings';
import { caseIdOfWorkflow, logOpsAction, type OpsActor } from './ops';
import { isCaseWorkflowId, quoteListFilterValue, scopedQuery } from './ops-queries';
import { getPathwayVersion } from './pathways';

export interface MigrationRequest {
  readonly pathwayId: string;
  readonly fromVersion: number;
  readonly toVersion: number;
  readonly mapping?: ElementMapping;
  /** Only check, per case: nothing changes. */
  readonly dryRun: boolean;
  /** The person's settings: only their cases move. */
  readonly settings: readonly string[];
}

export type CaseMigration = { readonly caseId: string; readonly workflowId: string } & (
  | { readonly outcome: 'planned' | 'migrated'; readonly moves: MigrationMove[] }
  | { readonly outcome: 'refused' | 'failed'; readonly problems: string[] }
);

export interface MigrationReport {
  readonly pathwayId: string;
  readonly fromVersion: number;
  readonly toVersion: number;
  readonly dryRun: boolean;
  /** Whether the cases were moved: false on a dry run, and when any case's plan was refused. */
  readonly applied: boolean;
  readonly cases: CaseMigration[];
}

/** The most cases one migration moves: more, and it is done in parts (by setting, or with a smaller query). */
export const MAX_MIGRATED_CASES = 1_000;

export async function migrateCases(
  engine: CaseEngine,
  request: MigrationRequest,
  actor: OpsActor,
): Promise<MigrationReport> {
  if (request.toVersion === request.fromVersion)
    throw new ValidationError('Choose another version to move to', [
      { pointer: '/toVersion', detail: 'is the version the cases run already' },
    ]);
  const target = await getPathwayVersion(engine.store, request.pathwayId, request.toVersion);
  await getPathwayVersion(engine.store, request.pathwayId, request.fromVersion);
  const query = scopedQuery(
    request.settings,
    `PathwayId = ${quoteListFilterValue(request.pathwayId)} AND PathwayVersion = ${request.fromVersion} AND ExecutionStatus = 'Running'`,
  );
  const workflowIds: string[] = [];
  for await (const info of engine.client.workflow.list({ query })) {
    // Child pathways run their own process's versions; a case is moved by its own workflow.
    if (isCaseWorkflowId(info.workflowId)) workflowIds.push(info.workflowId);
    if (workflowIds.length > MAX_MIGRATED_CASES)
      throw new ValidationError(`More than ${MAX_MIGRATED_CASES} cases run that version: move them by setting`, [
        { pointer: '/fromVersion', detail: `more than ${MAX_MIGRATED_CASES} running cases` },
      ]);
  }
  const plans: CaseMigration[] = await Promise.all(
    workflowIds.map(async (workflowId): Promise<CaseMigration> => {
      const caseId = caseIdOfWorkflow(workflowId);
      const plan = await engine.client.workflow
        .getHandle(workflowId)
        .query(migrationPlanQuery, { ir: target.ir, ...(request.mapping ? { mapping: request.mapping } : {}) });
      return plan.ok
        ? { caseId, workflowId, outcome: 'planned', moves: plan.moves }
        : { caseId, workflowId, outcome: 'refused', problems: plan.problems };
    }),
  );
  const refused = plans.some((plan) => plan.outcome === 'refused');
  const report = (applied: boolean, cases: CaseMigration[]): MigrationReport => ({
    pathwayId: request.pathwayId,
    fromVersion: request.fromVersion,
    toVersion: request.toVersion,
    dryRun: request.dryRun,
    applied,
    cases,
  });
  if (request.dryRun || refused || plans.length === 0) return report(false, plans);

  const pathwayVersionId = `${request.pathwayId}@${request.toVersion}`;
  const cases: CaseMigration[] = [];
  for (const plan of plans) {
    try {
      const result: MigratePathwayResult = await engine.client.workflow
        .getHandle(plan.workflowId)
        .executeUpdate(migratePathwayUpdate, {
          args: [
            {
              ir: target.ir,
              pathwayVersionId,
              migratedBy: actor.id,
              ...(request.mapping ? { mapping: request.mapping } : {}),
            },
          ],
        });
      await knexOf(engine.store)('cases').where({ id: plan.caseId }).update({ pathway_version: request.toVersion });
      cases.push({ caseId: plan.caseId, workflowId: plan.workflowId, outcome: 'migrated', moves: result.moves });
    } catch (error) {
      const message =
        error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
      cases.push({ caseId: plan.caseId, workflowId: plan.workflowId, outcome: 'failed', problems: [message] });
    }
  }
  await logOpsAction(engine, actor, {
    action: 'migrate',
    caseIds: cases.filter((c) => c.outcome === 'migrated').map((c) => c.caseId),
    outcome: cases.every((c) => c.outcome === 'migrated') ? 'succeeded' : 'partly failed',
    detail: {
      pathwayId: request.pathwayId,
      fromVersion: request.fromVersion,
      toVersion: request.toVersion,
      mapping: request.mapping ?? {},
      failed: cases.filter((c) => c.outcome === 'failed').map((c) => c.caseId),
    },
  });
  return report(true, cases);
}
