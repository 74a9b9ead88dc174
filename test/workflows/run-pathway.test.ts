import { readFileSync } from 'node:fs';
import path from 'node:path';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';

import { compilePathwayIR } from '../../bpmn';
import { compileFixture } from '../../bpmn/fixtures/load-fixture';
import { createTestWorkflowEnvironment, type EmbeddedTestWorkflowEnvironment } from '../../temporal-server';
import {
  completeTaskUpdate,
  correlateMessageUpdate,
  deliverMessageSignal,
  runPathway,
  stateQuery,
  terminatePathwayUpdate,
  type CloseTaskActivityInput,
  type OpenTaskActivityInput,
  type PathwayView,
  type ServiceTaskActivityInput,
} from '../../workflows';
import { useFreshDatabase } from '../support/database';
import { installQuietRuntime } from '../support/sdk-runtime';
import { CASE_SEARCH_ATTRIBUTES } from '../../worker/case-search-attributes';

const db = useFreshDatabase('run_pathway');
const TASK_QUEUE = 'pathways';
const DAY = 86_400_000;

/** Simple test activities: they record what the pathway asked for. */
const calls = {
  opened: [] as OpenTaskActivityInput[],
  closed: [] as CloseTaskActivityInput[],
  reminders: [] as ServiceTaskActivityInput[],
  lookups: [] as ServiceTaskActivityInput[],
};
const activities = {
  openTask: (input: OpenTaskActivityInput): Promise<void> => {
    calls.opened.push(input);
    return Promise.resolve();
  },
  closeTask: (input: CloseTaskActivityInput): Promise<void> => {
    calls.closed.push(input);
    return Promise.resolve();
  },
  resolvePathway: (): Promise<never> => Promise.reject(new Error('every called pathway is pinned in these tests')),
  'pds-lookup': (input: ServiceTaskActivityInput): Promise<never> => {
    calls.lookups.push(input);
    return Promise.reject(
      ApplicationFailure.nonRetryable('No PDS match for the demographics given', 'PATIENT_NOT_FOUND'),
    );
  },
  'send-reminder': (input: ServiceTaskActivityInput): Promise<Record<string, unknown>> => {
    calls.reminders.push(input);
    return Promise.resolve({ lastReminderNo: calls.reminders.length });
  },
};

async function waitForState(
  handle: WorkflowHandle<typeof runPathway>,
  predicate: (view: PathwayView) => boolean,
): Promise<PathwayView> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const view = await handle.query(stateQuery);
    if (predicate(view)) return view;
    if (Date.now() > deadline)
      throw new Error(
        `state never matched: ${JSON.stringify({ status: view.status, error: view.error, active: view.activeElements })}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function openTask(view: PathwayView, elementId: string): string {
  const task = view.openTasks.find((t) => t.elementId === elementId);
  if (!task) throw new Error(`no open task ${elementId}`);
  return task.taskId;
}

describe('runPathway on the time-skipping server', () => {
  let testEnv: EmbeddedTestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let sequence = 0;

  function workflowId(name: string): string {
    sequence += 1;
    return `case-${name}-${sequence}`;
  }

  beforeAll(async () => {
    installQuietRuntime();
    testEnv = await createTestWorkflowEnvironment({ databaseUrl: db.url, searchAttributes: CASE_SEARCH_ATTRIBUTES });
    worker = await Worker.create({
      connection: testEnv.nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowsPath: require.resolve('../../workflows'),
      activities,
    });
    running = worker.run();
  }, 120_000);

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await testEnv?.teardown();
  });

  it('repeats a non-interrupting R3/P1D reminder while the review stays open', async () => {
    const ir = await compileFixture('boundary-timers');
    const handle = await testEnv.client.workflow.start(runPathway, {
      taskQueue: TASK_QUEUE,
      workflowId: workflowId('reminders'),
      args: [{ ir, caseId: 'c-remind', variables: { overdueAfterDays: 7 } }],
    });
    await waitForState(handle, (v) => v.openTasks.length === 1);

    await testEnv.sleep('4 days');
    const view = await waitForState(handle, (v) => v.trail.filter((e) => e.elementId === 'ReminderSent').length === 3);

    expect(calls.reminders.filter((r) => r.caseId === 'c-remind')).toHaveLength(3);
    expect(view.openTasks.map((t) => t.elementId)).toEqual(['FiveDayReview']);
    expect(view.pendingTimers.map((t) => t.elementId)).toEqual(['Overdue']);

    await handle.executeUpdate(completeTaskUpdate, { args: [{ taskId: openTask(view, 'FiveDayReview') }] });
    expect((await handle.result()).status).toBe('completed');
  }, 60_000);

  it('takes the message branch of an event-based gateway when the message is delivered', async () => {
    const ir = await compileFixture('event-gateway');
    const handle = await testEnv.client.workflow.start(runPathway, {
      taskQueue: TASK_QUEUE,
      workflowId: workflowId('released'),
      args: [{ ir, caseId: 'c-rel', variables: { caseId: 'c-rel' } }],
    });
    await waitForState(handle, (v) => v.messageSubscriptions.length === 1);

    await handle.signal(deliverMessageSignal, {
      name: 'release',
      correlationKey: 'c-rel',
      variables: { releaseDate: '2026-04-01' },
    });
    const view = await waitForState(handle, (v) => v.openTasks.length === 1);

    expect(view.openTasks[0]?.elementId).toBe('ReleasePlan');
    expect(view.pendingTimers).toEqual([]);
    await handle.executeUpdate(completeTaskUpdate, { args: [{ taskId: openTask(view, 'ReleasePlan') }] });
    expect((await handle.result()).variables).toMatchObject({ releasedOn: '2026-04-01' });
  }, 60_000);

  it('takes the timer branch of an event-based gateway when 28 days pass first', async () => {
    const ir = await compileFixture('event-gateway');
    const handle = await testEnv.client.workflow.start(runPathway, {
      taskQueue: TASK_QUEUE,
      workflowId: workflowId('review-due'),
      args: [{ ir, caseId: 'c-due', variables: { caseId: 'c-due' } }],
    });
    await waitForState(handle, (v) => v.pendingTimers.length === 1);

    await testEnv.sleep('29 days');
    const view = await waitForState(handle, (v) => v.openTasks.length === 1);

    expect(view.openTasks[0]?.elementId).toBe('Review');
    expect(view.messageSubscriptions).toEqual([]);
    await handle.terminate('test finished');
  }, 60_000);

  it('rejects completing an unknown task or the same task twice in the update validator', async () => {
    const ir = await compileFixture('parallel');
    const handle = await testEnv.client.workflow.start(runPathway, {
      taskQueue: TASK_QUEUE,
      workflowId: workflowId('validator'),
      args: [{ ir, caseId: 'c-val' }],
    });
    const view = await waitForState(handle, (v) => v.openTasks.length === 2);
    const taskId = openTask(view, 'HealthScreen');

    await expect(
      handle.executeUpdate(completeTaskUpdate, { args: [{ taskId: 'NoSuchTask#1' }] }),
    ).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
    await handle.executeUpdate(completeTaskUpdate, { args: [{ taskId }] });
    const again = handle.executeUpdate(completeTaskUpdate, { args: [{ taskId }] });

    await expect(again).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
    await expect(again).rejects.toMatchObject({ cause: { message: expect.stringContaining('already completed') } });
    const after = await handle.query(stateQuery);
    expect(after.openTasks.map((t) => t.elementId)).toEqual(['SubstanceScreen']);
    await handle.terminate('test finished');
  }, 60_000);

  it('runs a call activity as a child pathway and maps its outputs back', async () => {
    const ir = await compileFixture('call-activity');
    const childIr = await compileFixture('child-review');
    const parentId = workflowId('call');
    const handle = await testEnv.client.workflow.start(runPathway, {
      taskQueue: TASK_QUEUE,
      workflowId: parentId,
      args: [{ ir, caseId: 'c-call', variables: { caseId: 'c-call' }, calledPathways: { ChildReview: childIr } }],
    });
    const parentView = await waitForState(handle, (v) => v.activeElements.length === 1);
    const childId = `${parentId}/${parentView.activeElements[0]?.instanceId ?? ''}`;
    const child = testEnv.client.workflow.getHandle<typeof runPathway>(childId);

    const childView = await waitForState(child, (v) => v.openTasks.length === 1);
    expect(childView.variables).toEqual({ caseId: 'c-call', reviewDay: 28 });
    await child.executeUpdate(completeTaskUpdate, {
      args: [{ taskId: openTask(childView, 'Review'), data: { outcome: 'improving' } }],
    });

    expect(await handle.result()).toEqual({
      status: 'completed',
      variables: { caseId: 'c-call', reviewOutcome: 'improving' },
    });
  }, 60_000);
  it('catches a failed service task by its ApplicationFailure type with an error boundary event', async () => {
    const ir = await compileFixture('error-boundary');
    const handle = await testEnv.client.workflow.start(runPathway, {
      taskQueue: TASK_QUEUE,
      workflowId: workflowId('pds-miss'),
      args: [{ ir, caseId: 'c-pds' }],
    });

    const view = await waitForState(handle, (v) => v.openTasks.length === 1);

    expect(view.openTasks[0]?.elementId).toBe('ManualCheck');
    expect(calls.lookups.filter((l) => l.caseId === 'c-pds')).toEqual([
      expect.objectContaining({ elementId: 'LookupPatient', activityId: expect.stringMatching(/^LookupPatient#/) }),
    ]);
    await handle.terminate('test finished');
  }, 60_000);

  it("catches a child pathway's error end event at the call activity", async () => {
    const ir = await compileFixture('call-activity');
    // The child always ends at its error end event.
    const child = await compileFixture('error-end');
    const failingChild = { ...child, flows: { ...child.flows, No: { ...child.flows['No']!, condition: 'true' } } };
    const handle = await testEnv.client.workflow.start(runPathway, {
      taskQueue: TASK_QUEUE,
      workflowId: workflowId('child-error'),
      args: [
        {
          ir,
          caseId: 'c-child-error',
          variables: { caseId: 'c-child-error' },
          calledPathways: { ChildReview: failingChild },
        },
      ],
    });

    const result = await handle.result();

    expect(result.status).toBe('completed');
    const view = await handle.query(stateQuery);
    expect(view.trail.map((e) => e.elementId)).toEqual(['Start', 'RunReview', 'ReviewFailed', 'FailedEnd']);
  }, 60_000);

  it('continues as new on a long history and carries the pathway state across', async () => {
    const ir = await compileFixture('boundary-timers');
    const id = workflowId('continue');
    const handle = await testEnv.client.workflow.start(runPathway, {
      taskQueue: TASK_QUEUE,
      workflowId: id,
      args: [{ ir, caseId: 'c-can', variables: { overdueAfterDays: 7 }, historyLengthLimit: 20 }],
    });
    const first = await handle.describe();
    await waitForState(handle, (v) => v.openTasks.length === 1);

    await testEnv.sleep('4 days');
    const latest = testEnv.client.workflow.getHandle<typeof runPathway>(id);
    const view = await waitForState(latest, (v) => v.trail.filter((e) => e.elementId === 'ReminderSent').length === 3);

    expect((await latest.describe()).runId).not.toBe(first.runId);
    expect(view.trail[0]).toMatchObject({ elementId: 'Start' });
    expect(view.openTasks.map((t) => t.elementId)).toEqual(['FiveDayReview']);
    await latest.executeUpdate(completeTaskUpdate, { args: [{ taskId: openTask(view, 'FiveDayReview') }] });
    expect((await latest.result()).status).toBe('completed');
  }, 60_000);

  it("lets a child pathway's escalation reach the parent's call activity", async () => {
    const ir = await compileFixture('escalation');
    const childIr = await compileFixture('escalation-child');
    const handle = await testEnv.client.workflow.start(runPathway, {
      taskQueue: TASK_QUEUE,
      workflowId: workflowId('escalation'),
      args: [{ ir, caseId: 'c-esc', calledPathways: { AppointmentDiary: childIr } }],
    });

    const view = await waitForState(handle, (v) => v.openTasks.length === 1);

    expect(view.openTasks[0]?.elementId).toBe('NotifyAgencies');
    expect(view.activeElements.map((e) => e.elementId).sort()).toEqual(['Appointments', 'NotifyAgencies']);
    await handle.terminate('test finished');
  }, 60_000);

  describe('messages sent before the pathway waits for them', () => {
    const childStage = () =>
      compilePathwayIR(
        readFileSync(path.join(__dirname, '..', 'fixtures', 'bpmn', 'child-waits-for-message.bpmn'), 'utf8'),
      );
    async function startBuffering(name: string, caseId: string): Promise<WorkflowHandle<typeof runPathway>> {
      const handle = await testEnv.client.workflow.start(runPathway, {
        taskQueue: TASK_QUEUE,
        workflowId: workflowId(name),
        args: [
          {
            ir: await compileFixture('message-buffering'),
            caseId,
            variables: { caseId },
            calledPathways: { ChildStage: await childStage() },
          },
        ],
      });
      await waitForState(handle, (v) => v.openTasks.length === 1);
      return handle;
    }

    it('keeps a discharge sent early and delivers it when the pathway reaches its catch event', async () => {
      const handle = await startBuffering('early-discharge', 'c-early');

      const kept = await handle.executeUpdate(correlateMessageUpdate, {
        args: [{ name: 'prison.discharge', correlationKey: 'c-early', variables: { reason: 'sentence served' } }],
      });

      expect(kept).toEqual({
        outcome: 'buffered',
        processId: 'MessageBuffering',
        messageId: expect.any(String),
        expiresAt: expect.any(String),
        catchEvents: [{ processId: 'MessageBuffering', elementId: 'AwaitDischarge', name: 'Discharged from prison' }],
      });
      const waiting = await handle.query(stateQuery);
      expect(waiting.bufferedMessages).toEqual([
        expect.objectContaining({ messageName: 'prison.discharge', correlationKey: 'c-early' }),
      ]);
      const [buffered] = waiting.bufferedMessages;
      // The default time to live: 24 hours from when it arrived.
      expect(Date.parse(buffered?.expiresAt ?? '') - Date.parse(buffered?.receivedAt ?? '')).toBe(DAY);

      await handle.executeUpdate(completeTaskUpdate, { args: [{ taskId: openTask(waiting, 'CarePlan') }] });
      const view = await waitForState(handle, (v) => v.activeElements.some((e) => e.elementId === 'RecallWatch'));

      expect(view.variables).toMatchObject({ dischargeReason: 'sentence served' });
      expect(view.bufferedMessages).toEqual([]);
      const recalled = await handle.executeUpdate(correlateMessageUpdate, {
        args: [{ name: 'prison.recall', correlationKey: 'c-early', timeToLive: 'PT0S' }],
      });
      expect(recalled).toMatchObject({ outcome: 'correlated', elementId: 'Recalled', name: 'Recalled to custody' });
      await handle.terminate('test finished');
    }, 60_000);

    it('does not deliver a kept message whose time to live ran out first', async () => {
      const handle = await startBuffering('expired-discharge', 'c-expired');
      await handle.executeUpdate(correlateMessageUpdate, {
        args: [{ name: 'prison.discharge', correlationKey: 'c-expired', timeToLive: 'PT1H' }],
      });

      await testEnv.sleep('2 hours');
      const waiting = await handle.query(stateQuery);
      await handle.executeUpdate(completeTaskUpdate, { args: [{ taskId: openTask(waiting, 'CarePlan') }] });
      const view = await waitForState(handle, (v) => v.activeElements.some((e) => e.elementId === 'AwaitDischarge'));

      expect(view.bufferedMessages).toEqual([]);
      expect(view.messageSubscriptions).toEqual([
        expect.objectContaining({ messageName: 'prison.discharge', correlationKey: 'c-expired' }),
      ]);
      await handle.terminate('test finished');
    }, 60_000);

    it('refuses, recording nothing, a message the pathway and the pathways it calls can never catch', async () => {
      const handle = await startBuffering('uncatchable', 'c-never');

      const refused = handle.executeUpdate(correlateMessageUpdate, {
        args: [{ name: 'court.outcome', correlationKey: 'c-never' }],
      });

      await expect(refused).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
      await expect(refused).rejects.toMatchObject({
        cause: { type: 'MESSAGE_NOT_CATCHABLE', message: expect.stringContaining("message 'court.outcome'") },
      });
      await expect(
        handle.executeUpdate(correlateMessageUpdate, {
          args: [{ name: 'prison.discharge', correlationKey: 'c-never', timeToLive: 'tomorrow' }],
        }),
      ).rejects.toMatchObject({ cause: { type: 'INVALID_MESSAGE' } });
      const { events } = await handle.fetchHistory();
      expect((events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes)).toEqual([]);
      expect((await handle.query(stateQuery)).bufferedMessages).toEqual([]);
      await handle.terminate('test finished');
    }, 60_000);

    it('holds a message for a called pathway and hands it to the child pathway when it starts', async () => {
      const handle = await startBuffering('held-for-child', 'c-held');

      const held = await handle.executeUpdate(correlateMessageUpdate, {
        args: [{ name: 'custody.leaving', correlationKey: 'c-held', holdForCalledPathways: true }],
      });
      expect(held).toMatchObject({
        outcome: 'buffered',
        catchEvents: [{ processId: 'ChildStage', elementId: 'PersonLeaves', name: 'Person leaves custody' }],
      });
      const notHeld = await handle.executeUpdate(correlateMessageUpdate, {
        args: [{ name: 'custody.leaving', correlationKey: 'c-held' }],
      });
      expect(notHeld).toMatchObject({ outcome: 'ignored' });
      await handle.executeUpdate(correlateMessageUpdate, {
        args: [{ name: 'prison.discharge', correlationKey: 'c-held' }],
      });
      await handle.executeUpdate(correlateMessageUpdate, {
        args: [{ name: 'prison.recall', correlationKey: 'c-held' }],
      });

      const view = await handle.query(stateQuery);
      await handle.executeUpdate(completeTaskUpdate, { args: [{ taskId: openTask(view, 'CarePlan') }] });

      // Discharge, recall, then the follow-up child starts with custody.leaving and catches it at once.
      expect(await handle.result()).toMatchObject({ status: 'completed' });
      const done = await handle.query(stateQuery);
      expect(done.trail.map((e) => e.elementId)).toEqual([
        'Start',
        'CarePlan',
        'AwaitDischarge',
        'RecallWatch',
        'Recalled',
        'FollowUp',
        'RecallEnd',
      ]);
    }, 60_000);

    it('keeps a message delivered by the deliverMessage signal too', async () => {
      const handle = await startBuffering('signal', 'c-signal');

      await handle.signal(deliverMessageSignal, { name: 'prison.discharge', correlationKey: 'c-signal' });
      const waiting = await waitForState(handle, (v) => v.bufferedMessages.length === 1);
      await handle.executeUpdate(completeTaskUpdate, { args: [{ taskId: openTask(waiting, 'CarePlan') }] });

      await waitForState(handle, (v) => v.activeElements.some((e) => e.elementId === 'RecallWatch'));
      const { events } = await handle.fetchHistory();
      const patches = (events ?? []).flatMap((e) =>
        (e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads ?? []).map((p) =>
          Buffer.from(p.data ?? new Uint8Array()).toString('utf8'),
        ),
      );
      // New histories are marked, so a replay keeps messages where they were kept and nowhere else (and raises
      // incidents, marked at the start, only in cases that started with them; and answers a completion once its
      // steps have settled only where it did; and keeps its stuck signals, marked at the start).
      expect(patches).toEqual([
        expect.stringContaining('"id":"stuck-signals"'),
        expect.stringContaining('"id":"incidents"'),
        expect.stringContaining('"id":"buffer-messages"'),
        expect.stringContaining('"id":"settle-before-answer"'),
      ]);
      await handle.terminate('test finished');
    }, 60_000);
  });

  it('replays its own histories without nondeterminism', async () => {
    const ir = await compileFixture('boundary-timers');
    const handle = await testEnv.client.workflow.start(runPathway, {
      taskQueue: TASK_QUEUE,
      workflowId: workflowId('replay'),
      args: [{ ir, caseId: 'c-replay', variables: { overdueAfterDays: 2 } }],
    });
    await waitForState(handle, (v) => v.openTasks.length === 1);
    await testEnv.sleep('3 days');
    const view = await waitForState(handle, (v) => v.openTasks.some((t) => t.elementId === 'Escalate'));
    await handle.executeUpdate(completeTaskUpdate, { args: [{ taskId: openTask(view, 'Escalate') }] });
    await handle.result();

    const history = await handle.fetchHistory();

    await expect(
      Worker.runReplayHistory({ workflowsPath: require.resolve('../../workflows') }, history, handle.workflowId),
    ).resolves.toBeUndefined();
  }, 90_000);

  it('closes its open tasks in the worklist when the case is cancelled', async () => {
    const ir = await compileFixture('parallel');
    const handle = await testEnv.client.workflow.start(runPathway, {
      taskQueue: TASK_QUEUE,
      workflowId: workflowId('cancel'),
      args: [{ ir, caseId: 'c-cancel' }],
    });
    await waitForState(handle, (v) => v.openTasks.length === 2);

    await handle.cancel();

    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    expect(
      calls.closed
        .filter((c) => c.caseId === 'c-cancel')
        .map((c) => [c.elementId, c.outcome])
        .sort(),
    ).toEqual([
      ['HealthScreen', 'cancelled'],
      ['SubstanceScreen', 'cancelled'],
    ]);
  }, 60_000);

  it('withdraws the tasks of a running child pathway when a person terminates the case', async () => {
    const ir = await compileFixture('call-activity');
    const childIr = await compileFixture('child-review');
    const parentId = workflowId('terminate');
    const handle = await testEnv.client.workflow.start(runPathway, {
      taskQueue: TASK_QUEUE,
      workflowId: parentId,
      args: [{ ir, caseId: 'c-term', variables: { caseId: 'c-term' }, calledPathways: { ChildReview: childIr } }],
    });
    const parentView = await waitForState(handle, (v) => v.activeElements.length === 1);
    const child = testEnv.client.workflow.getHandle<typeof runPathway>(
      `${parentId}/${parentView.activeElements[0]?.instanceId ?? ''}`,
    );
    await waitForState(child, (v) => v.openTasks.length === 1);

    const terminated = await handle.executeUpdate(terminatePathwayUpdate, {
      args: [{ reason: 'Released from court', terminatedBy: 'nurse-1' }],
    });

    expect(terminated).toEqual({ status: 'terminated', terminatedAt: expect.any(String) });
    expect(await handle.result()).toMatchObject({ status: 'terminated' });
    // The child was cancelled before the parent ended, so it closed its own task.
    expect((await child.describe()).status.name).toBe('CANCELLED');
    expect(calls.closed.filter((c) => c.caseId === 'c-term').map((c) => [c.elementId, c.outcome])).toEqual([
      ['Review', 'cancelled'],
    ]);
    expect((await handle.query(stateQuery)).termination).toMatchObject({
      reason: 'Released from court',
      terminatedBy: 'nurse-1',
    });
    await expect(
      handle.executeUpdate(terminatePathwayUpdate, { args: [{ reason: 'again', terminatedBy: 'nurse-1' }] }),
    ).rejects.toBeDefined();
  }, 60_000);

  it('fires a 13-week review timer, then opens the review and completes it through the update', async () => {
    const ir = await compileFixture('timer-catch');
    const before = await testEnv.currentTimeMs();
    const handle = await testEnv.client.workflow.start(runPathway, {
      taskQueue: TASK_QUEUE,
      workflowId: workflowId('thirteen-weeks'),
      args: [{ ir, caseId: 'c-13w', variables: { referenceDate: '2000-01-03T09:00:00Z' } }],
    });

    const pending = await handle.query(stateQuery);
    expect(pending.pendingTimers).toEqual([expect.objectContaining({ elementId: 'ThirteenWeeks' })]);
    await testEnv.sleep('92 days');
    const view = await waitForState(handle, (v) => v.openTasks.length > 0);

    expect((await testEnv.currentTimeMs()) - before).toBeGreaterThanOrEqual(91 * DAY);
    expect(view.trail.map((e) => e.elementId)).toEqual(['Start', 'ThirteenWeeks', 'AnniversaryDate', 'Review']);
    expect(calls.opened.some((o) => o.caseId === 'c-13w' && o.elementId === 'Review' && o.formId === 'review')).toBe(
      true,
    );

    const completion = await handle.executeUpdate(completeTaskUpdate, {
      args: [{ taskId: openTask(view, 'Review'), data: { outcome: 'stable' }, completedBy: 'nurse-1' }],
    });
    expect(completion.status).toBe('completed');
    expect(await handle.result()).toEqual({
      status: 'completed',
      variables: { referenceDate: '2000-01-03T09:00:00Z', outcome: 'stable' },
    });
    expect(calls.closed).toContainEqual(
      expect.objectContaining({ caseId: 'c-13w', outcome: 'completed', completedBy: 'nurse-1' }),
    );
  }, 60_000);
});
