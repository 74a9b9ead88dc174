/**
 * Messages to a case (recall, transfer, appointment outcome): correlated now, or kept until the case can catch
 * them, through the case workflow's `correlateMessage` update.
 */
import { ApplicationFailure, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { parseIsoDuration } from '../bpmn';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors';
import { CaseSchema, CaseSettingReason } from '../store';
import type { CorrelateMessageInput, CorrelateMessageResult } from '../workflows';
import { CORRELATE_MESSAGE_UPDATE, workflowIdOf, type CaseEngine } from './case-engine';
import { handoverSettingsIn, recordCaseSettings } from './case-settings';

export interface SendMessageInput {
  readonly name: string;
  /** Defaults to the case id, the key the shipped pathways correlate on. */
  readonly correlationKey?: string;
  readonly variables?: Record<string, unknown>;
  /**
   * ISO 8601 duration to keep the message for when nothing waits for it yet (`PT0S`: deliver only to a catch
   * event waiting now). Defaults to the workflow's DEFAULT_MESSAGE_TIME_TO_LIVE, 24 hours.
   */
  readonly timeToLive?: string;
  /** Who sent it, for the record of a handover it makes. */
  readonly sentBy?: string;
}

/** What one workflow of the case (its own, or a running child pathway's) did with a message. */
export type MessageDelivery = { readonly workflowId: string } & (
  | CorrelateMessageResult
  /** That pathway (and the pathways it calls) can never catch it; nothing was recorded there. */
  | { readonly outcome: 'refused'; readonly reason: string }
  /** The child pathway ended before the message reached it. */
  | { readonly outcome: 'closed'; readonly reason: string }
);

export interface MessageCaseResult {
  readonly caseId: string;
  readonly messageName: string;
  readonly correlationKey: string;
  /** `correlated` when a workflow of the case caught it now, else `buffered` (kept until caught or expired). */
  readonly outcome: 'correlated' | 'buffered';
  /** Per workflow, the case's own first, then its running child pathways. */
  readonly deliveries: MessageDelivery[];
}

/**
 * Delivers a message to the case: to its workflow and to every running child (a journey's call activities),
 * as Zeebe correlates a message to every subscription with its key, through the `correlateMessage` update,
 * so each workflow answers what it did: caught it now, or kept it until a catch event for it is reached or
 * its time to live runs out. Children are asked before their parent, and a parent keeps a message for the
 * pathways it has yet to call only when no running child caught or kept it, so a journey catches it once.
 *
 * Refused (nothing recorded anywhere) with a ValidationError when no pathway of the case can ever catch it,
 * and with a ConflictError when the case is closed or no workflow caught or kept it (time to live zero).
 */
export async function messageCase(
  engine: CaseEngine,
  caseId: string,
  message: SendMessageInput,
): Promise<MessageCaseResult> {
  if (typeof message.name !== 'string' || message.name.trim() === '')
    throw new ValidationError('The message has no name', [{ pointer: '/name', detail: 'is required' }]);
  if (message.timeToLive !== undefined && !parseIsoDuration(message.timeToLive)) {
    throw new ValidationError(`The time to live of message '${message.name}' is not valid`, [
      {
        pointer: '/timeToLive',
        detail: `must be an ISO 8601 duration such as PT1H or P1D, not '${message.timeToLive}'`,
      },
    ]);
  }
  const correlationKey = message.correlationKey ?? caseId;
  const input: CorrelateMessageInput = {
    name: message.name,
    correlationKey,
    variables: message.variables ?? {},
    ...(message.timeToLive !== undefined ? { timeToLive: message.timeToLive } : {}),
  };
  const rootId = workflowIdOf(caseId);
  const closed = (status: string) =>
    new ConflictError(
      `Case ${caseId} is closed (${status.toLowerCase().replace(/_/g, ' ')}): message '${message.name}' was not delivered`,
    );

  /** Children first (depth first), then the workflow itself; `took`: some workflow caught or kept it. */
  const deliver = async (workflowId: string): Promise<{ deliveries: MessageDelivery[]; took: boolean }> => {
    const isRoot = workflowId === rootId;
    const handle = engine.client.workflow.getHandle(workflowId);
    let description;
    try {
      description = await handle.describe();
    } catch (error) {
      if (isRoot || !(error instanceof WorkflowNotFoundError)) throw error;
      return { deliveries: [{ workflowId, outcome: 'closed', reason: 'the child pathway has ended' }], took: false };
    }
    if (description.status.name !== 'RUNNING') {
      if (isRoot) throw closed(description.status.name);
      return { deliveries: [{ workflowId, outcome: 'closed', reason: 'the child pathway has ended' }], took: false };
    }
    const below: MessageDelivery[] = [];
    let took = false;
    for (const child of description.raw.pendingChildren ?? []) {
      if (!child.workflowId) continue;
      const result = await deliver(child.workflowId);
      below.push(...result.deliveries);
      took ||= result.took;
    }
    try {
      const result = await handle.executeUpdate<CorrelateMessageResult, [CorrelateMessageInput]>(
        CORRELATE_MESSAGE_UPDATE,
        { args: [{ ...input, holdForCalledPathways: !took }] },
      );
      const kept = result.outcome === 'correlated' || result.outcome === 'buffered';
      return { deliveries: [{ workflowId, ...result }, ...below], took: took || kept };
    } catch (error) {
      const refusal = refusalOf(error);
      if (!refusal) {
        if (!(error instanceof WorkflowNotFoundError)) throw error;
        if (isRoot) throw closed((await handle.describe()).status.name);
        return {
          deliveries: [{ workflowId, outcome: 'closed', reason: 'the child pathway has ended' }, ...below],
          took,
        };
      }
      if (isRoot) {
        if (refusal.type === 'PATHWAY_NOT_ACTIVE') throw closed('ended');
        throw new ValidationError(`Case ${caseId} can never catch message '${message.name}'`, [
          { pointer: '/name', detail: refusal.message },
        ]);
      }
      const outcome = refusal.type === 'PATHWAY_NOT_ACTIVE' ? 'closed' : 'refused';
      return { deliveries: [{ workflowId, outcome, reason: refusal.message }, ...below], took };
    }
  };

  let deliveries: MessageDelivery[];
  try {
    deliveries = (await deliver(rootId)).deliveries;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw await caseNotFoundOrClosed(engine, caseId, message.name);
    throw error;
  }
  const outcome = deliveries.some((d) => d.outcome === 'correlated')
    ? 'correlated'
    : deliveries.some((d) => d.outcome === 'buffered')
      ? 'buffered'
      : undefined;
  if (!outcome) {
    const reasons = deliveries.flatMap((d) => ('reason' in d ? [d.reason] : []));
    throw new ConflictError(
      `Message '${message.name}' was not delivered to case ${caseId}: ${[...new Set(reasons)].join('; ') || 'nothing waits for it'}`,
    );
  }
  // A message naming the setting a later stage runs in (the court outcome's prisonOdsCode) hands the case over.
  await recordCaseSettings(
    engine.store,
    caseId,
    handoverSettingsIn(message.variables),
    CaseSettingReason.HandedOver,
    message.sentBy ?? 'system:engine',
  );
  engine.logger.info({ caseId, messageName: message.name, outcome }, 'case message delivered');
  return { caseId, messageName: message.name, correlationKey, outcome, deliveries };
}

/** The refusal of the `correlateMessage` validator (its ApplicationFailure type and words), if that is the error. */
function refusalOf(error: unknown): { type: string; message: string } | undefined {
  if (!(error instanceof WorkflowUpdateFailedError)) return undefined;
  const cause = error.cause;
  if (!(cause instanceof ApplicationFailure) || !cause.type) return undefined;
  return { type: cause.type, message: cause.message };
}

/** A case the engine no longer knows may still be on record, closed: say so rather than "no such case". */
async function caseNotFoundOrClosed(engine: CaseEngine, caseId: string, messageName: string): Promise<Error> {
  const row = /^[0-9a-f-]{36}$/i.test(caseId) ? await engine.store.fork().findOne(CaseSchema, { id: caseId }) : null;
  if (!row) return new NotFoundError(`No case ${caseId} is known to the workflow engine`);
  return new ConflictError(
    `Case ${caseId} is closed (${row.status}${row.closeReason ? `: ${row.closeReason}` : ''}): message '${messageName}' was not delivered`,
  );
}
