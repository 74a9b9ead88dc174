/**
 * ResetWorkflowExecution to a workflow-task boundary: a new run whose history is the base run's events up to
 * the chosen task's WORKFLOW_TASK_STARTED, then WORKFLOW_TASK_FAILED (cause RESET_WORKFLOW), the base run's
 * later signals re-applied, and a new workflow task. The new run's state is rebuilt from those events; the base
 * run is terminated if it is still running.
 */
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument -- history events are dynamically shaped protobuf objects (Msg) */
import { randomUUID } from 'node:crypto';
import type { Engine } from './engine';
import { defaultRetryPolicy } from './engine';
import { invalidArgument, notFound } from './errors';
import {
  decodeEvent,
  durationToMs,
  EventType,
  positiveMs,
  timestampToMs,
  WorkflowTaskFailedCause,
  type Msg,
} from './proto';
import { TaskKind, type Run, type Tx } from './store';
import { TimerKind, type RunState } from './state';

const ResetReapplyType = { Unspecified: 0, Signal: 1, None: 2, AllEligible: 3 } as const;

export async function resetWorkflow(tx: Tx, engine: Engine, base: Run, req: Msg): Promise<Run> {
  const finishId = Number(req.workflowTaskFinishEventId ?? 0);
  const all = (await tx.readEvents(base, 0)).map((b) => ({ bytes: b, event: decodeEvent(b) }));
  const finish = all.find((e) => Number(e.event.eventId) === finishId)?.event;
  const finishTypes: number[] = [
    EventType.WorkflowTaskCompleted,
    EventType.WorkflowTaskFailed,
    EventType.WorkflowTaskTimedOut,
  ];
  if (!finish || !finishTypes.includes(Number(finish.eventType)))
    throw invalidArgument(
      'WorkflowTaskFinishEventId must name a WorkflowTaskCompleted, WorkflowTaskFailed or WorkflowTaskTimedOut event.',
    );
  const kept = all.filter((e) => Number(e.event.eventId) < finishId);
  const started = kept[kept.length - 1]?.event;
  if (!started || Number(started.eventType) !== EventType.WorkflowTaskStarted)
    throw invalidArgument('WorkflowTaskFinishEventId must directly follow a WorkflowTaskStarted event.');

  const newRunId = randomUUID();
  const now = tx.now;
  const b = base.state;
  const state: RunState = {
    ...b,
    executionExpiration: b.executionExpiration,
    nextEventId: finishId,
    historySizeBytes: kept.reduce((n, e) => n + e.bytes.length, 0),
    lastWftStartedId: 0,
    wft: undefined,
    buffered: [],
    needWft: false,
    sticky: undefined,
    activities: {},
    timers: {},
    children: {},
    updates: {},
    cancelRequested: false,
    requestIds: req.requestId ? [String(req.requestId)] : [],
    closeTime: undefined,
    closeEventId: undefined,
    newExecutionRunId: undefined,
  };
  rebuildState(
    state,
    kept.map((e) => e.event),
    now,
  );

  if (base.isRunning) await engine.terminate(tx, base, String(req.reason || 'reset'), undefined, req.identity ?? '');
  const run = tx.createRun({
    namespace: base.namespace,
    workflowId: base.workflowId,
    runId: newRunId,
    workflowType: base.workflowType,
    taskQueue: base.taskQueue,
    state,
    requestId: req.requestId ? String(req.requestId) : null,
  });
  run.searchAttributes = { ...base.searchAttributes };
  for (const e of kept) run.newEvents.push({ id: Number(e.event.eventId), bytes: e.bytes });

  // The reset task: it failed "because of the reset", and a fresh one follows.
  state.wft = {
    scheduledId: Number(started.workflowTaskStartedEventAttributes?.scheduledEventId ?? 0),
    attempt: 1,
    scheduledTime: now,
    onSticky: false,
  };
  tx.addEvent(run, EventType.WorkflowTaskFailed, {
    scheduledEventId: state.wft.scheduledId,
    startedEventId: Number(started.eventId),
    cause: WorkflowTaskFailedCause.ResetWorkflow,
    failure: { message: String(req.reason || 'reset'), source: 'Server' },
    identity: req.identity ?? '',
    baseRunId: base.runId,
    newRunId,
  });
  state.wft = undefined;
  const reapply = Number(req.resetReapplyType ?? ResetReapplyType.Signal);
  if (reapply !== ResetReapplyType.None) {
    for (const e of all) {
      if (Number(e.event.eventId) < finishId) continue;
      const signaled = e.event.workflowExecutionSignaledEventAttributes;
      if (signaled) tx.addEvent(run, EventType.WorkflowExecutionSignaled, signaled);
    }
  }
  engine.scheduleWorkflowTask(tx, run);

  // Re-arm what the kept history left pending.
  for (const act of Object.values(state.activities)) {
    tx.addTask(run, TaskKind.Activity, act.taskQueue, act.scheduledId, act.attempt);
    if (act.scheduleToCloseMs > 0)
      tx.addTimer(run, TimerKind.ActivityScheduleToClose, act.scheduledId, act.scheduledTime + act.scheduleToCloseMs);
  }
  for (const [timerId, t] of Object.entries(state.timers))
    tx.addTimer(run, TimerKind.UserTimer, timerId, t.fireAt, t.startedId);
  if (state.runTimeoutMs > 0) tx.addTimer(run, TimerKind.RunTimeout, 0, now + state.runTimeoutMs);
  if (state.executionExpiration) tx.addTimer(run, TimerKind.ExecutionTimeout, 0, state.executionExpiration);
  return run;
}

/** Replays the kept events into the pending-activity, timer and child maps of a run's state. */
function rebuildState(state: RunState, events: Msg[], now: number): void {
  let lastCompletedStarted = 0;
  for (const e of events) {
    const id = Number(e.eventId);
    const time = timestampToMs(e.eventTime) ?? now;
    switch (Number(e.eventType)) {
      case EventType.WorkflowTaskCompleted:
        lastCompletedStarted = Number(e.workflowTaskCompletedEventAttributes?.startedEventId ?? 0);
        break;
      case EventType.ActivityTaskScheduled: {
        const a = e.activityTaskScheduledEventAttributes ?? {};
        state.activities[id] = {
          scheduledId: id,
          activityId: String(a.activityId ?? ''),
          activityType: String(a.activityType?.name ?? ''),
          taskQueue: String(a.taskQueue?.name ?? ''),
          scheduleToCloseMs: positiveMs(a.scheduleToCloseTimeout) ?? 0,
          scheduleToStartMs: positiveMs(a.scheduleToStartTimeout) ?? 0,
          startToCloseMs: positiveMs(a.startToCloseTimeout) ?? 0,
          heartbeatMs: positiveMs(a.heartbeatTimeout) ?? 0,
          retry: defaultRetryPolicy(a.retryPolicy),
          attempt: 1,
          phase: 'scheduled',
          scheduledTime: now,
          attemptScheduledTime: now,
        };
        break;
      }
      case EventType.ActivityTaskCompleted:
      case EventType.ActivityTaskFailed:
      case EventType.ActivityTaskTimedOut:
      case EventType.ActivityTaskCanceled: {
        const attrs = Object.values(e).find((v) => v && typeof v === 'object' && 'scheduledEventId' in v) as
          Msg | undefined;
        delete state.activities[Number(attrs?.scheduledEventId ?? 0)];
        break;
      }
      case EventType.TimerStarted: {
        const a = e.timerStartedEventAttributes ?? {};
        state.timers[String(a.timerId)] = { startedId: id, fireAt: time + (durationToMs(a.startToFireTimeout) ?? 0) };
        break;
      }
      case EventType.TimerFired:
      case EventType.TimerCanceled: {
        const a = e.timerFiredEventAttributes ?? e.timerCanceledEventAttributes ?? {};
        delete state.timers[String(a.timerId)];
        break;
      }
      case EventType.StartChildWorkflowExecutionInitiated: {
        const a = e.startChildWorkflowExecutionInitiatedEventAttributes ?? {};
        state.children[id] = {
          initiatedId: id,
          namespace: String(a.namespace ?? ''),
          workflowId: String(a.workflowId ?? ''),
          workflowType: String(a.workflowType?.name ?? ''),
          parentClosePolicy: Number(a.parentClosePolicy || 1),
        };
        break;
      }
      case EventType.ChildWorkflowExecutionStarted: {
        const a = e.childWorkflowExecutionStartedEventAttributes ?? {};
        const c = state.children[Number(a.initiatedEventId)];
        if (c) {
          c.runId = String(a.workflowExecution?.runId ?? '');
          c.startedId = id;
        }
        break;
      }
      case EventType.StartChildWorkflowExecutionFailed:
      case EventType.ChildWorkflowExecutionCompleted:
      case EventType.ChildWorkflowExecutionFailed:
      case EventType.ChildWorkflowExecutionCanceled:
      case EventType.ChildWorkflowExecutionTimedOut:
      case EventType.ChildWorkflowExecutionTerminated: {
        const attrs = Object.values(e).find((v) => v && typeof v === 'object' && 'initiatedEventId' in v) as
          Msg | undefined;
        delete state.children[Number(attrs?.initiatedEventId ?? 0)];
        break;
      }
      case EventType.WorkflowExecutionCancelRequested:
        state.cancelRequested = true;
        break;
      default:
        break;
    }
  }
  state.lastWftStartedId = lastCompletedStarted;
}

/** ResetWorkflowExecution needs an existing run (running or closed). */
export function assertResettable(run: Run | undefined): asserts run is Run {
  if (!run) throw notFound('workflow execution not found');
}
