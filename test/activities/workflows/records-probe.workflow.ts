/**
 * A workflow that drives the record and notify activities as a pathway would, for the test that runs them
 * under a real Temporal worker. Deterministic: it imports activity types only.
 */
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { NotifyActivities } from '../../../activities/notify';
import type { RecordActivities } from '../../../activities/records';

const records = proxyActivities<RecordActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '50 milliseconds', maximumAttempts: 3 },
});
const notify = proxyActivities<NotifyActivities>({
  startToCloseTimeout: '10 seconds',
  // The activity decides when a message has failed for good (its maxAttempts); the policy only spaces tries.
  retry: { initialInterval: '50 milliseconds', backoffCoefficient: 1 },
});

export interface RecordsProbeInput {
  caseId: string;
  workflowId: string;
  contactId: string;
}

export interface RecordsProbeResult {
  completions: boolean[];
  refusal: { type: string | undefined; nonRetryable: boolean | undefined };
  delivery: { status: string; alreadySent: boolean };
}

const system = { id: 'system:workflow', role: 'system' };

export async function recordsProbe(input: RecordsProbeInput): Promise<RecordsProbeResult> {
  const review = `${input.workflowId}/FiveDayReview/1`;
  await records.openWorklistTask({
    taskId: review,
    caseId: input.caseId,
    workflowId: input.workflowId,
    elementId: 'FiveDayReview',
    name: '5-day review',
    actor: system,
  });
  const first = await records.completeWorklistTask({ taskId: review, completedBy: 'nurse-1', actor: system });
  const second = await records.completeWorklistTask({ taskId: review, completedBy: 'nurse-1', actor: system });

  const recall = `${input.workflowId}/Recall/1`;
  await records.openWorklistTask({
    taskId: recall,
    caseId: input.caseId,
    workflowId: input.workflowId,
    elementId: 'Recall',
    name: 'Recall',
    actor: system,
  });
  await records.cancelWorklistTask({ taskId: recall, reason: 'released', actor: system });
  let refusal: RecordsProbeResult['refusal'] = { type: undefined, nonRetryable: undefined };
  try {
    await records.completeWorklistTask({ taskId: recall, completedBy: 'nurse-1', actor: system });
  } catch (error) {
    // Workflows branch on the failure's type, never its message.
    if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure) {
      refusal = { type: error.cause.type ?? undefined, nonRetryable: error.cause.nonRetryable ?? undefined };
    } else {
      throw error;
    }
  }

  const notificationId = `${input.workflowId}/MissedAppointment/${input.contactId}`;
  await records.enqueueNotification({
    notificationId,
    contactId: input.contactId,
    caseId: input.caseId,
    template: 'missed-appointment',
    personalisation: { service: 'Forward Leeds', date: '1 December 2026' },
    actor: system,
  });
  const delivered = await notify.deliverNotification(notificationId);
  return {
    completions: [first.changed, second.changed],
    refusal,
    delivery: { status: delivered.status, alreadySent: delivered.alreadySent },
  };
}
