/** Ending a case early, with the reason: its open tasks and incidents withdrawn, the reason kept and audited. */
import { terminateCase } from '../../engine';
import { roleFor } from '../policy';
import { caseIdParam, decideOnCase, type RouteSpec } from './operation';

export const CASE_TERMINATE_ROUTES: readonly RouteSpec[] = [
  {
    method: 'post',
    path: '/cases/{caseId}/terminate',
    operationId: 'terminateCase',
    summary:
      'End a case early, with the reason: its open tasks and incidents are withdrawn and its child pathways cancelled',
    tag: 'cases',
    action: 'case.terminate',
    patientData: true,
    params: caseIdParam,
    body: 'TerminateCaseRequest',
    success: { status: 200, schema: 'TerminatedCase', description: 'the case is closed with the reason' },
    async handle(ctx) {
      const { found, decision } = await decideOnCase(ctx, 'case.terminate');
      const reason = ctx.body['reason'] as string;
      const terminated = await terminateCase(ctx.engine, found.caseId, {
        reason,
        terminatedBy: ctx.principal.subject,
        role: roleFor(ctx.principal, decision),
      });
      await ctx.audit([
        {
          decision,
          action: 'update',
          operation: 'case.terminate',
          entityType: 'Case',
          entityId: found.caseId,
          patientId: found.patientId,
          reason: `terminated: ${terminated.reason}`,
        },
      ]);
      return { body: terminated };
    },
  },
];
