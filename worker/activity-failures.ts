/**
 * Tells a case's workflow that one of its activities keeps failing. Temporal retries a failed activity on the
 * server, so the workflow sees nothing until the retries run out (a Spine outage is retried for about 32 hours);
 * the ops console must find such a case long before. This worker interceptor signals `activityFailing` to the run
 * after each failed attempt from the second on (a single blip that the next attempt fixes is not news), and the
 * workflow keeps it in its stuck signals (FailingAttempts, LastErrorType) until an activity of that type settles.
 * Reporting never changes the activity's outcome: a report that cannot be sent is logged and dropped.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';
import type { Context } from '@temporalio/activity';
import type { Logger } from '../log';
import { ACTIVITY_FAILING_SIGNAL, type ActivityFailingInput } from '../workflows/pathway/stuck-signals';

const CASE_WORKFLOW_TYPE = 'runPathway';
/** Reported from this attempt on: the first failure is often a blip the next attempt fixes. */
export const FIRST_REPORTED_ATTEMPT = 2;

export interface ActivityFailureReporting {
  readonly client: Client;
  readonly logger: Logger;
  /** Also told of every failed attempt (the metrics counter), whatever its workflow. */
  readonly onFailure?: (activityType: string, errorType: string) => void;
}

export function errorTypeOf(error: unknown): string {
  if (error instanceof ApplicationFailure) return error.type ?? 'ApplicationFailure';
  return error instanceof Error ? error.name : 'Error';
}

class ReportFailures implements ActivityInboundCallsInterceptor {
  constructor(
    private readonly ctx: Context,
    private readonly reporting: ActivityFailureReporting,
  ) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    try {
      return await next(input);
    } catch (error) {
      this.report(error);
      throw error;
    }
  }

  private report(error: unknown): void {
    const { info } = this.ctx;
    const errorType = errorTypeOf(error);
    this.reporting.onFailure?.(info.activityType, errorType);
    const final = error instanceof ApplicationFailure && error.nonRetryable;
    // A final failure reaches the workflow itself; cancellation is not a failure.
    if (final || info.isLocal || this.ctx.cancellationSignal.aborted) return;
    const run = info.workflowExecution;
    if (!run || info.workflowType !== CASE_WORKFLOW_TYPE || info.attempt < FIRST_REPORTED_ATTEMPT) return;
    const failing: ActivityFailingInput = { activityType: info.activityType, attempt: info.attempt, errorType };
    const { workflowId, runId } = run;
    this.reporting.client.workflow
      .getHandle(workflowId, runId)
      .signal(ACTIVITY_FAILING_SIGNAL, failing)
      .catch((reportError: unknown) =>
        this.reporting.logger.warn(
          { err: reportError, workflowId, activityType: info.activityType, attempt: info.attempt },
          'could not tell the case its activity is failing',
        ),
      );
  }
}

/** For Worker.create({ interceptors: { activity: [...] } }). */
export function reportActivityFailures(reporting: ActivityFailureReporting) {
  return (ctx: Context) => ({ inbound: new ReportFailures(ctx, reporting) });
}
