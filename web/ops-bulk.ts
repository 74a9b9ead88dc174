/**
 * A bulk action of the ops console (`/ops/bulk/{id}`): the exact cases its preview froze and the query it ran, with
 * Apply and Cancel while it is a preview; once applied, its progress (counts by outcome, each case's outcome and
 * detail) and Stop while it runs. Without JavaScript, "Refresh progress" reloads the page; with it, a script
 * (web/assets/ops-bulk.js) follows the operation's JSON from the API and updates the page in place.
 */
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors';
import type { BulkOperation } from '../engine/ops-bulk';
import type { PageContext } from './index';
import { bulkStatusText, opsCaseHref } from './ops';
import { call } from './page-helpers';
import { mayEver } from '../api/policy';

export const BULK_OUTCOME_TEXT: Record<BulkOperation['cases'][number]['outcome'], string> = {
  pending: 'To do',
  succeeded: 'Done',
  failed: 'Failed',
  skipped: 'Skipped',
};

function operationIdOf(ctx: PageContext): string {
  return String(ctx.req.params['operationId'] ?? '');
}

/** A mistyped address has an id the API refuses as malformed: to a person, that page does not exist. */
async function readOperation(ctx: PageContext, operationId: string): Promise<BulkOperation> {
  try {
    return (await call(ctx, 'getBulkOperation', { params: { operationId } })).body as BulkOperation;
  } catch (error) {
    if (error instanceof ValidationError) throw new NotFoundError(`No bulk operation ${operationId}`);
    throw error;
  }
}

/** `GET /ops/bulk/:operationId` */
export async function bulkPage(ctx: PageContext): Promise<void> {
  await renderBulk(ctx, undefined, 200);
}

async function renderBulk(ctx: PageContext, problem: string | undefined, status: number): Promise<void> {
  const operation = await readOperation(ctx, operationIdOf(ctx));
  const done = operation.progress.total - operation.progress.pending;
  const actionText = operation.action === 'retry' ? 'Retry' : 'Cancel';
  ctx.render(
    'ops-bulk.njk',
    {
      title: `${actionText} ${operation.progress.total} case${operation.progress.total === 1 ? '' : 's'}`,
      current: 'ops',
      operation,
      actionText,
      statusText: bulkStatusText(operation),
      done,
      mayAct: mayEver(ctx.principal, 'ops.act'),
      cases: operation.cases.map((c) => ({
        ...c,
        href: opsCaseHref(c.caseId),
        outcomeText: BULK_OUTCOME_TEXT[c.outcome],
      })),
      outcomes: (['succeeded', 'skipped', 'failed', 'pending'] as const).map((outcome) => ({
        outcome,
        text: BULK_OUTCOME_TEXT[outcome],
        count: operation.progress[outcome],
      })),
      href: `/ops/bulk/${operation.id}`,
      csrfToken: ctx.csrfToken,
      ...(problem ? { errorSummary: [{ text: problem, href: '#bulk-status' }] } : {}),
    },
    status,
  );
}

/** Apply or stop: a conflict (someone else applied or stopped it meanwhile) is shown on the page as it is now. */
function bulkAction(operationId: 'applyBulkOperation' | 'cancelBulkOperation') {
  return async (ctx: PageContext): Promise<void> => {
    const id = operationIdOf(ctx);
    try {
      await call(ctx, operationId, { params: { operationId: id } });
    } catch (error) {
      if (error instanceof ValidationError) throw new NotFoundError(`No bulk operation ${id}`);
      if (!(error instanceof ConflictError)) throw error;
      return renderBulk(ctx, error.message, 409);
    }
    ctx.redirect(`/ops/bulk/${id}`);
  };
}

/** `POST /ops/bulk/:operationId/apply`: acts on exactly the frozen cases, in the background. */
export const applyBulkPost = bulkAction('applyBulkOperation');

/** `POST /ops/bulk/:operationId/cancel`: a preview is discarded; a running one stops before its next case. */
export const cancelBulkPost = bulkAction('cancelBulkOperation');
