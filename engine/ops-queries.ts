/**
 * The ops console's views as List Filter queries over the cases' stuck signals (workflows/pathway/stuck-signals.ts),
 * so they run the same on the embedded server and on a Temporal cluster. Every query the console sends is scoped to
 * the settings the person works in and to case workflows, here and nowhere else.
 */
import { ValidationError } from '../domain/errors';
import { WORKFLOW_TYPE } from './case-engine';

export const OPS_VIEWS = ['failing', 'overdue', 'idle', 'waiting'] as const;
export type OpsView = (typeof OPS_VIEWS)[number];

/** How long without a move makes a case idle, and how long a message may be waited for: defaults the console shows. */
export interface OpsThresholds {
  /** Attempts after which a retrying activity counts as failing. */
  readonly failingAttempts: number;
  /** An idle case has not moved for this long (List Filter duration, e.g. `14d`). */
  readonly idleAfter: string;
  /** A case waiting for a message longer than this is listed as waiting. */
  readonly messageWaitAfter: string;
}

// Failing from the second attempt: the worker reports from then on, and Spine calls get three attempts in all, the
// third failure becoming an incident, so a higher default would find them only once they are incidents.
export const DEFAULT_OPS_THRESHOLDS: OpsThresholds = { failingAttempts: 2, idleAfter: '14d', messageWaitAfter: '7d' };

const DURATION = /^\d+[mhdw]$/;

/** The List Filter condition of a view (without the scope). */
export function viewCondition(view: OpsView, thresholds: OpsThresholds = DEFAULT_OPS_THRESHOLDS): string {
  if (!DURATION.test(thresholds.idleAfter) || !DURATION.test(thresholds.messageWaitAfter)) {
    const message = 'A threshold must be a whole number of minutes, hours, days or weeks, such as 14d';
    throw new ValidationError(message, [{ pointer: '/thresholds', detail: message }]);
  }
  switch (view) {
    case 'failing':
      return (
        `(ExecutionStatus = 'Failed' OR (ExecutionStatus = 'Running' AND ` +
        `(FailingAttempts >= ${Math.max(1, Math.trunc(thresholds.failingAttempts))} OR OpenIncidentCount > 0)))`
      );
    case 'overdue':
      return `(ExecutionStatus = 'Running' AND OverdueFrom < NOW())`;
    case 'idle':
      // Nothing for a person to do, nothing failing (that is the failing view), no message awaited and nothing
      // planned ahead: only time will not move it on.
      return (
        `(ExecutionStatus = 'Running' AND OpenTaskCount = 0 AND OpenIncidentCount = 0 AND FailingAttempts = 0 AND ` +
        `MessageWaitSince IS NULL AND ` +
        `WaitingSince < NOW() - ${thresholds.idleAfter} AND (NextDueAt IS NULL OR NextDueAt < NOW()))`
      );
    case 'waiting':
      return `(ExecutionStatus = 'Running' AND MessageWaitSince < NOW() - ${thresholds.messageWaitAfter})`;
  }
}

function quoted(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/**
 * A query limited to case workflows of the given settings, with an optional condition (a view's, or one an
 * operator typed, which is parenthesised so its OR cannot widen the scope). No ORDER BY: the server's default
 * order (newest start first) can be read off its start-time index and stop at a page, while `ORDER BY StartTime
 * DESC` sorts nulls last, which that index cannot give, so every match would be sorted (bench/README.md, bench:ops).
 */
export function scopedQuery(settings: readonly string[], condition?: string): string {
  if (settings.length === 0) {
    const message = 'You work in no setting, so there are no cases to show';
    throw new ValidationError(message, [{ pointer: '/settings', detail: message }]);
  }
  const parts = [`WorkflowType = ${quoted(WORKFLOW_TYPE)}`, `CaseSetting IN (${settings.map(quoted).join(', ')})`];
  if (condition !== undefined && condition.trim() !== '') parts.push(`(${condition})`);
  return parts.join(' AND ');
}

/**
 * A condition over the case workflows of the whole installation, without a setting scope: only for what shows no
 * case (the designer's count of cases running each pathway version). Parenthesised as scopedQuery's is.
 */
export function installationQuery(condition: string): string {
  return `WorkflowType = ${quoted(WORKFLOW_TYPE)} AND (${condition})`;
}

export { quoted as quoteListFilterValue };

/** A case's own workflow is `case-<id>`; its child pathways' ids extend it (`case-<id>/<call activity>...`). */
export function isCaseWorkflowId(workflowId: string): boolean {
  return /^case-[0-9a-f-]{36}$/.test(workflowId);
}

/** The condition selecting every child pathway (at any depth) of a workflow. */
export function childWorkflowsCondition(workflowId: string): string {
  return `WorkflowId STARTS_WITH ${quoted(`${workflowId}/`)}`;
}
