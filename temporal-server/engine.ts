/**
 * The history engine: Temporal's state machines for runs, workflow tasks, activities, timers, children,
 * signals, cancellation, updates and continue-as-new, applied to a `Run` inside one `Tx`. It owns the event
 * sequences sdk-core checks (command events in command order right after WORKFLOW_TASK_COMPLETED, events that
 * arrive during an in-flight workflow task buffered until it completes, follow-up events linked by id).
 */
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-return -- protobuf messages and pg rows are dynamically shaped (Msg); fields are checked where they are read */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { alreadyStarted, failedPrecondition, invalidArgument, notFound, type TemporalServiceError } from './errors';
import {
  CommandType,
  decodeEvent,
  durationToMs,
  EventType,
  IdConflictPolicy,
  IdReusePolicy,
  messageFromJson,
  messageToJson,
  msToDuration,
  msToTimestamp,
  ParentClosePolicy,
  positiveMs,
  RetryState,
  TimeoutType,
  unpackAny,
  WorkflowStatus,
  WorkflowTaskFailedCause,
  type Msg,
} from './proto';
import { TaskKind, type Run, type Tx } from './store';
import { TimerKind, type ActivityState, type ParentRef, type RetryPolicyState, type RunState } from './state';

const DEFAULT_WORKFLOW_TASK_TIMEOUT_MS = 10_000;
const MAX_WORKFLOW_TASK_TIMEOUT_MS = 120_000;
const SUGGEST_CAN_BYTES = 4 * 1024 * 1024;
const SUGGEST_CAN_EVENTS = 4096;

const eventTypeName: Record<number, string> = Object.fromEntries(Object.entries(EventType).map(([n, v]) => [v, n]));
function attributesTypeName(eventType: number): string {
  return `temporal.api.history.v1.${eventTypeName[eventType]}EventAttributes`;
}

const ACTIVITY_CLOSED_EVENTS = new Set<number>([
  EventType.ActivityTaskCompleted,
  EventType.ActivityTaskFailed,
  EventType.ActivityTaskTimedOut,
  EventType.ActivityTaskCanceled,
]);
const TIMER_FIRED_EVENT = new Set<number>([EventType.TimerFired]);

/** Where the buffer holds an event of one of `types` whose attribute `field` is `value`, or -1. */
function bufferedIndex(s: RunState, types: Set<number>, field: string, value: string | number): number {
  return s.buffered.findIndex((b) => types.has(b.t as number) && String((b.a as Msg)[field]) === String(value));
}

const ACTIVITY_TIMER_KINDS = [
  TimerKind.ActivityScheduleToClose,
  TimerKind.ActivityScheduleToStart,
  TimerKind.ActivityStartToClose,
  TimerKind.ActivityHeartbeat,
  TimerKind.ActivityRetry,
];

export interface StartParams {
  namespace: string;
  workflowId: string;
  workflowType: string;
  taskQueue: string;
  input?: Msg | null;
  header?: Msg | null;
  memo?: Msg | null;
  searchAttributes?: Msg | null;
  retryPolicy?: Msg | null;
  executionTimeoutMs?: number;
  runTimeoutMs?: number;
  taskTimeoutMs?: number;
  identity?: string;
  requestId?: string;
  firstRunId?: string;
  continuedExecutionRunId?: string;
  initiator?: number;
  continuedFailure?: Msg | null;
  lastCompletionResult?: Msg | null;
  attempt?: number;
  executionExpiration?: number;
  backoffMs?: number;
  parent?: ParentRef;
  root?: { workflowId: string; runId: string };
  signal?: { signalName: string; input?: Msg | null; header?: Msg | null; identity?: string };
  userMetadata?: Msg | null;
}

export interface EngineHooks {
  logger: Logger;
  /**
   * Decodes search attribute payloads to stored values (null = remove) against the namespace's registered
   * types; throws (with a message for the worker or client) when one is unknown or malformed.
   */
  decodeSearchAttributes(namespace: string, indexedFields: Record<string, Msg>): Record<string, unknown>;
}

export function defaultRetryPolicy(p: Msg | null | undefined): RetryPolicyState {
  const initial = positiveMs(p?.initialInterval) ?? 1000;
  return {
    initialIntervalMs: initial,
    backoffCoefficient: p?.backoffCoefficient && p.backoffCoefficient >= 1 ? Number(p.backoffCoefficient) : 2,
    maximumIntervalMs: positiveMs(p?.maximumInterval) ?? initial * 100,
    maximumAttempts: Number(p?.maximumAttempts ?? 0),
    nonRetryableErrorTypes: (p?.nonRetryableErrorTypes as string[] | undefined) ?? [],
  };
}

/** An activity started in the response to the workflow task that scheduled it, with what its task carries. */
export interface EagerActivity {
  act: ActivityState;
  header?: Msg;
  input?: Msg;
  priority?: Msg;
}

export function retryPolicyToProto(p: RetryPolicyState): Msg {
  return {
    initialInterval: msToDuration(p.initialIntervalMs),
    backoffCoefficient: p.backoffCoefficient,
    maximumInterval: msToDuration(p.maximumIntervalMs),
    maximumAttempts: p.maximumAttempts,
    nonRetryableErrorTypes: p.nonRetryableErrorTypes,
  };
}

function failureType(failure: Msg | undefined): string | undefined {
  return failure?.applicationFailureInfo?.type as string | undefined;
}

function isNonRetryable(policy: RetryPolicyState, failure: Msg | undefined): boolean {
  if (failure?.applicationFailureInfo?.nonRetryable) return true;
  const type = failureType(failure);
  return !!type && policy.nonRetryableErrorTypes.includes(type);
}

/** The retry decision shared by activities and workflows: a backoff in ms, or the final retry state. */
export function decideRetry(
  policy: RetryPolicyState | undefined,
  attempt: number,
  failure: Msg | undefined,
  now: number,
  deadline: number | undefined,
): { backoffMs: number } | { retryState: number } {
  if (!policy) return { retryState: RetryState.RetryPolicyNotSet };
  if (isNonRetryable(policy, failure)) return { retryState: RetryState.NonRetryableFailure };
  if (policy.maximumAttempts > 0 && attempt >= policy.maximumAttempts)
    return { retryState: RetryState.MaximumAttemptsReached };
  const override = positiveMs(failure?.applicationFailureInfo?.nextRetryDelay);
  const backoffMs =
    override ??
    Math.min(policy.initialIntervalMs * Math.pow(policy.backoffCoefficient, attempt - 1), policy.maximumIntervalMs);
  if (deadline !== undefined && now + backoffMs >= deadline) return { retryState: RetryState.Timeout };
  return { backoffMs };
}

/**
 * The retry decision for an attempt that ended after ResetActivity marked it: the next attempt is attempt 1, due
 * at once whatever the backoff and the attempts used (the counter was reset); a non-retryable failure and the
 * schedule-to-close deadline still end the activity.
 */
function retryAfterReset(
  policy: RetryPolicyState,
  failure: Msg | undefined,
  now: number,
  deadline: number | undefined,
): { backoffMs: number } | { retryState: number } {
  if (isNonRetryable(policy, failure)) return { retryState: RetryState.NonRetryableFailure };
  if (deadline !== undefined && now >= deadline) return { retryState: RetryState.Timeout };
  return { backoffMs: 0 };
}

export class Engine {
  constructor(private readonly hooks: EngineHooks) {}

  // ---- runs ---------------------------------------------------------------------------------------------

  newRunState(tx: Tx, p: StartParams, runId: string): RunState {
    const taskTimeout = Math.min(p.taskTimeoutMs || DEFAULT_WORKFLOW_TASK_TIMEOUT_MS, MAX_WORKFLOW_TASK_TIMEOUT_MS);
    return {
      workflowTaskTimeoutMs: taskTimeout,
      runTimeoutMs: p.runTimeoutMs ?? 0,
      executionTimeoutMs: p.executionTimeoutMs ?? 0,
      executionExpiration: p.executionExpiration ?? (p.executionTimeoutMs ? tx.now + p.executionTimeoutMs : undefined),
      retryPolicy: p.retryPolicy ? defaultRetryPolicy(p.retryPolicy) : undefined,
      attempt: p.attempt ?? 1,
      firstRunId: p.firstRunId ?? runId,
      originalRunId: runId,
      parent: p.parent,
      root: p.root,
      nextEventId: 1,
      historySizeBytes: 0,
      lastWftStartedId: 0,
      buffered: [],
      activities: {},
      timers: {},
      children: {},
      updates: {},
      memo: p.memo ? messageToJson('temporal.api.common.v1.Memo', p.memo) : undefined,
      searchAttributes: p.searchAttributes
        ? messageToJson('temporal.api.common.v1.SearchAttributes', p.searchAttributes)
        : undefined,
      requestIds: p.requestId ? [p.requestId] : [],
      startTime: tx.now,
      executionTime: tx.now + (p.backoffMs ?? 0),
    };
  }

  /** Creates a run with its Started event and first workflow task (or its backoff timer). */
  createRun(tx: Tx, p: StartParams, runId = randomUUID()): Run {
    const state = this.newRunState(tx, p, runId);
    const run = tx.createRun({
      namespace: p.namespace,
      workflowId: p.workflowId,
      runId,
      workflowType: p.workflowType,
      taskQueue: p.taskQueue,
      state,
      requestId: p.requestId ?? null,
    });
    if (p.searchAttributes?.indexedFields) {
      const decoded = this.hooks.decodeSearchAttributes(p.namespace, p.searchAttributes.indexedFields);
      for (const [k, v] of Object.entries(decoded)) if (v !== null && v !== undefined) run.searchAttributes[k] = v;
    }
    const retry = state.retryPolicy ? retryPolicyToProto(state.retryPolicy) : undefined;
    state.startedEventId = tx.addEvent(run, EventType.WorkflowExecutionStarted, {
      workflowType: { name: p.workflowType },
      taskQueue: { name: p.taskQueue, kind: 1 },
      input: p.input ?? undefined,
      header: p.header ?? undefined,
      workflowExecutionTimeout: p.executionTimeoutMs ? msToDuration(p.executionTimeoutMs) : undefined,
      workflowRunTimeout: p.runTimeoutMs ? msToDuration(p.runTimeoutMs) : undefined,
      workflowTaskTimeout: msToDuration(state.workflowTaskTimeoutMs),
      continuedExecutionRunId: p.continuedExecutionRunId ?? '',
      initiator: p.initiator ?? 0,
      continuedFailure: p.continuedFailure ?? undefined,
      lastCompletionResult: p.lastCompletionResult ?? undefined,
      originalExecutionRunId: runId,
      identity: p.identity ?? '',
      firstExecutionRunId: state.firstRunId,
      retryPolicy: retry,
      attempt: state.attempt,
      workflowExecutionExpirationTime: state.executionExpiration ? msToTimestamp(state.executionExpiration) : undefined,
      firstWorkflowTaskBackoff: p.backoffMs ? msToDuration(p.backoffMs) : undefined,
      memo: p.memo ?? undefined,
      searchAttributes: p.searchAttributes ?? undefined,
      parentWorkflowNamespace: p.parent?.namespace ?? '',
      parentWorkflowExecution: p.parent ? { workflowId: p.parent.workflowId, runId: p.parent.runId } : undefined,
      parentInitiatedEventId: p.parent?.initiatedId ?? 0,
      rootWorkflowExecution: p.root ?? undefined,
      workflowId: p.workflowId,
    });
    if (p.signal) {
      tx.addEvent(run, EventType.WorkflowExecutionSignaled, {
        signalName: p.signal.signalName,
        input: p.signal.input ?? undefined,
        identity: p.signal.identity ?? '',
        header: p.signal.header ?? undefined,
      });
    }
    if (p.backoffMs && p.backoffMs > 0) {
      tx.addTimer(run, TimerKind.WorkflowTaskBackoff, 0, tx.now + p.backoffMs);
    } else {
      this.scheduleWorkflowTask(tx, run);
    }
    if (state.runTimeoutMs > 0)
      tx.addTimer(run, TimerKind.RunTimeout, 0, tx.now + (p.backoffMs ?? 0) + state.runTimeoutMs);
    if (state.executionExpiration) tx.addTimer(run, TimerKind.ExecutionTimeout, 0, state.executionExpiration);
    return run;
  }

  /**
   * StartWorkflowExecution's policy checks (request-id dedupe, id reuse and conflict policies) and the start.
   * Returns the run and whether it was started by this call.
   */
  async startWorkflow(
    tx: Tx,
    p: StartParams,
    reusePolicy: number,
    conflictPolicy: number,
  ): Promise<{ run: Run; started: boolean }> {
    // Most starts are of a new workflow id. The first attempt skips the read that looks for other runs and
    // inserts only if there are none; when there are, the write fails and the next attempt reads.
    const assumeFirst = tx.attempt === 1 && !tx.cache.knowsWorkflowId(p.namespace, p.workflowId);
    const current = assumeFirst ? undefined : await tx.loadCurrentRun(p.namespace, p.workflowId);
    if (current) {
      if (p.requestId && current.state.requestIds.includes(p.requestId)) return { run: current, started: false };
      if (current.isRunning) {
        if (p.signal) {
          this.signal(tx, current, p.signal.signalName, p.signal.input, p.signal.header, p.signal.identity);
          return { run: current, started: false };
        }
        const policy =
          reusePolicy === IdReusePolicy.TerminateIfRunning ? IdConflictPolicy.TerminateExisting : conflictPolicy;
        if (policy === IdConflictPolicy.UseExisting) {
          if (p.requestId) current.state.requestIds.push(p.requestId);
          current.dirty = true;
          return { run: current, started: false };
        }
        if (policy === IdConflictPolicy.TerminateExisting) {
          await this.terminate(tx, current, 'terminated by start with TERMINATE_EXISTING', undefined, p.identity ?? '');
        } else {
          throw alreadyStarted(
            `Workflow execution is already running. WorkflowId: ${p.workflowId}, RunId: ${current.runId}.`,
            current.requestId ?? '',
            current.runId,
          );
        }
      } else if (reusePolicy === IdReusePolicy.RejectDuplicate) {
        throw alreadyStarted(
          `Workflow execution already finished and WorkflowIdReusePolicy is REJECT_DUPLICATE. WorkflowId: ${p.workflowId}, RunId: ${current.runId}.`,
          current.requestId ?? '',
          current.runId,
        );
      } else if (
        reusePolicy === IdReusePolicy.AllowDuplicateFailedOnly &&
        (current.status === WorkflowStatus.Completed || current.status === WorkflowStatus.ContinuedAsNew)
      ) {
        throw alreadyStarted(
          `Workflow execution already finished successfully and WorkflowIdReusePolicy is ALLOW_DUPLICATE_FAILED_ONLY. WorkflowId: ${p.workflowId}, RunId: ${current.runId}.`,
          current.requestId ?? '',
          current.runId,
        );
      }
    }
    const run = this.createRun(tx, p);
    run.assumedFirstOfId = assumeFirst;
    return { run, started: true };
  }

  // ---- workflow tasks -----------------------------------------------------------------------------------

  scheduleWorkflowTask(tx: Tx, run: Run, attempt = 1): void {
    const s = run.state;
    if (s.wft || !run.isRunning) return;
    const onSticky = !!s.sticky;
    const scheduledId = tx.addEvent(run, EventType.WorkflowTaskScheduled, {
      taskQueue: { name: run.taskQueue, kind: 1 },
      startToCloseTimeout: msToDuration(s.workflowTaskTimeoutMs),
      attempt,
    });
    s.wft = { scheduledId, attempt, scheduledTime: tx.now, onSticky };
    s.needWft = false;
    tx.addTask(run, TaskKind.Workflow, onSticky ? s.sticky!.name : run.taskQueue, scheduledId, attempt);
    if (onSticky) tx.addTimer(run, TimerKind.StickyTimeout, scheduledId, tx.now + s.sticky!.scheduleToStartMs);
  }

  /** Marks the scheduled workflow task started: writes WORKFLOW_TASK_STARTED and arms its timeout. */
  startWorkflowTask(tx: Tx, run: Run, identity: string, requestId: string): number {
    const s = run.state;
    const wft = s.wft!;
    const events = s.nextEventId;
    const suggest = s.historySizeBytes > SUGGEST_CAN_BYTES || events > SUGGEST_CAN_EVENTS;
    const reasons: number[] = [];
    if (s.historySizeBytes > SUGGEST_CAN_BYTES) reasons.push(2);
    if (events > SUGGEST_CAN_EVENTS) reasons.push(1);
    const startedId = tx.addEvent(run, EventType.WorkflowTaskStarted, {
      scheduledEventId: wft.scheduledId,
      identity,
      requestId,
      historySizeBytes: s.historySizeBytes,
      suggestContinueAsNew: suggest,
      suggestContinueAsNewReasons: reasons,
    });
    wft.startedId = startedId;
    wft.startedTime = tx.now;
    wft.requestId = requestId;
    wft.unseenUpdates = [];
    tx.addTimer(run, TimerKind.WorkflowTaskTimeout, wft.scheduledId, tx.now + s.workflowTaskTimeoutMs, startedId, true);
    return startedId;
  }

  /**
   * An event from outside the workflow task: appended now (and a workflow task scheduled) unless a task is in
   * flight, in which case it is buffered until that task completes.
   */
  deliver(tx: Tx, run: Run, events: Array<[number, Msg]>): void {
    if (!run.isRunning) return;
    const s = run.state;
    if (s.wft?.startedId !== undefined) {
      for (const [type, attrs] of events)
        s.buffered.push({ t: type, a: messageToJson(attributesTypeName(type), attrs) });
      s.needWft = true;
      run.dirty = true;
      return;
    }
    for (const [type, attrs] of events) tx.addEvent(run, type, attrs);
    this.scheduleWorkflowTask(tx, run);
  }

  private flushBuffered(tx: Tx, run: Run): void {
    const s = run.state;
    const buffered = s.buffered;
    s.buffered = [];
    for (const b of buffered) {
      const attrs = messageFromJson(attributesTypeName(b.t as number), b.a as Msg);
      // The "previous event" marker survives the JSON round trip as -1.
      if (Number(attrs.startedEventId) === -1) attrs.startedEventId = -1;
      tx.addEvent(run, b.t as number, attrs);
    }
  }

  async failWorkflowTask(
    tx: Tx,
    run: Run,
    eventType: number,
    attrs: Msg,
    opts: { clearSticky: boolean },
  ): Promise<void> {
    const s = run.state;
    const wft = s.wft!;
    tx.addEvent(run, eventType, { scheduledEventId: wft.scheduledId, startedEventId: wft.startedId ?? 0, ...attrs });
    await tx.deleteTimers(run, [TimerKind.WorkflowTaskTimeout, TimerKind.StickyTimeout]);
    if (opts.clearSticky) s.sticky = undefined;
    s.wft = undefined;
    this.flushBuffered(tx, run);
    this.scheduleWorkflowTask(tx, run, wft.attempt + 1);
  }

  /**
   * RespondWorkflowTaskCompleted. Returns an error to send after the transaction commits (UnhandledCommand
   * writes a WorkflowTaskFailed event that must be kept).
   */
  async completeWorkflowTask(
    tx: Tx,
    run: Run,
    req: Msg,
  ): Promise<{ error?: TemporalServiceError; eagerActivities?: EagerActivity[] }> {
    const s = run.state;
    const wft = s.wft!;
    const commands = (req.commands as Msg[] | undefined) ?? [];
    const closing = new Set<number>([
      CommandType.CompleteWorkflowExecution,
      CommandType.FailWorkflowExecution,
      CommandType.CancelWorkflowExecution,
      CommandType.ContinueAsNewWorkflowExecution,
    ]);
    const closeIndex = commands.findIndex((c) => closing.has(c.commandType));
    if (closeIndex >= 0 && closeIndex !== commands.length - 1) {
      // Core moves terminal commands last (flag 3); anything else after a close is a client bug.
      const rest = commands.slice(closeIndex + 1).filter((c) => c.commandType !== CommandType.ProtocolMessage);
      if (rest.length > 0) throw invalidArgument('invalid command sequence: close command must be the last command');
    }
    const unseen = (wft.unseenUpdates?.length ?? 0) > 0;
    if (closeIndex >= 0 && (s.buffered.length > 0 || unseen)) {
      await this.failWorkflowTask(
        tx,
        run,
        EventType.WorkflowTaskFailed,
        { cause: WorkflowTaskFailedCause.UnhandledCommand, identity: req.identity ?? '' },
        { clearSticky: false },
      );
      return { error: invalidArgument('UnhandledCommand') };
    }

    const bad = this.validateCommands(run, commands);
    if (bad) {
      await this.failWorkflowTask(
        tx,
        run,
        EventType.WorkflowTaskFailed,
        { cause: bad.cause, failure: { message: bad.message, source: 'Server' }, identity: req.identity ?? '' },
        { clearSticky: true },
      );
      this.hooks.logger.warn({ runId: run.runId, cause: bad.cause, message: bad.message }, 'workflow task rejected');
      return { error: invalidArgument(bad.message) };
    }

    const completedId = tx.addEvent(run, EventType.WorkflowTaskCompleted, {
      scheduledEventId: wft.scheduledId,
      startedEventId: wft.startedId,
      identity: req.identity ?? '',
      binaryChecksum: req.binaryChecksum ?? '',
      sdkMetadata: req.sdkMetadata ?? undefined,
      meteringMetadata: req.meteringMetadata ?? undefined,
      workerVersion: req.workerVersionStamp ?? undefined,
      deployment: req.deployment ?? undefined,
    });
    await tx.deleteTimers(run, [TimerKind.WorkflowTaskTimeout, TimerKind.StickyTimeout]);
    s.lastWftStartedId = wft.startedId!;
    s.wft = undefined;
    const stickyQueue = req.stickyAttributes?.workerTaskQueue?.name as string | undefined;
    s.sticky = stickyQueue
      ? { name: stickyQueue, scheduleToStartMs: positiveMs(req.stickyAttributes.scheduleToStartTimeout) ?? 10_000 }
      : undefined;

    const messages = new Map<string, Msg>();
    for (const m of (req.messages as Msg[] | undefined) ?? []) messages.set(m.id, m);
    const post: Array<() => Promise<void>> = [];
    const eager: EagerActivity[] = [];
    let needWft = !!req.forceCreateNewWorkflowTask;

    for (const cmd of commands) {
      if (!run.isRunning) break;
      const r = await this.processCommand(tx, run, cmd, completedId, messages, post, eager);
      if (r === 'needWft') needWft = true;
    }
    for (const m of messages.values()) {
      if (!run.isRunning) break;
      this.processProtocolMessage(tx, run, m, completedId);
    }
    if (run.isRunning) {
      for (const p of post) await p();
      if (post.length > 0) needWft = true;
    }
    if (run.isRunning) {
      if (s.buffered.length > 0) needWft = true;
      this.flushBuffered(tx, run);
      if (s.needWft || needWft || Object.values(s.updates).some((u) => u.stage === 'admitted'))
        this.scheduleWorkflowTask(tx, run);
    }
    // Eager activities start now and go back in this task's response, saving the worker a poll; one the
    // workflow cancelled or closed over in the same task is simply dropped.
    const started = run.isRunning
      ? eager.filter((e) => s.activities[e.act.scheduledId] === e.act && e.act.phase === 'scheduled')
      : [];
    for (const e of started) this.startActivity(tx, run, e.act, String(req.identity ?? ''));
    return { eagerActivities: started };
  }

  /** Checks commands before anything is written, so a bad task fails whole (as Temporal's server does). */
  private validateCommands(run: Run, commands: Msg[]): { cause: number; message: string } | undefined {
    const s = run.state;
    const timerIds = new Set(Object.keys(s.timers));
    const activityIds = new Set(Object.values(s.activities).map((a) => a.activityId));
    const cancelledActivities = new Set<number>();
    const cancelledTimers = new Set<string>();
    for (const cmd of commands) {
      switch (cmd.commandType) {
        case CommandType.StartTimer: {
          const id = String(cmd.startTimerCommandAttributes?.timerId ?? '');
          if (timerIds.has(id))
            return {
              cause: WorkflowTaskFailedCause.StartTimerDuplicateId,
              message: `StartTimer: duplicate timer id ${id}`,
            };
          timerIds.add(id);
          break;
        }
        case CommandType.ScheduleActivityTask: {
          const a = cmd.scheduleActivityTaskCommandAttributes ?? {};
          const id = String(a.activityId ?? '');
          if (!id || !a.activityType?.name)
            return {
              cause: WorkflowTaskFailedCause.BadScheduleActivityAttributes,
              message: 'ScheduleActivityTask: activityId and activityType are required',
            };
          if (activityIds.has(id))
            return {
              cause: WorkflowTaskFailedCause.ScheduleActivityDuplicateId,
              message: `ScheduleActivityTask: duplicate activity id ${id}`,
            };
          activityIds.add(id);
          if (!positiveMs(a.scheduleToCloseTimeout) && !positiveMs(a.startToCloseTimeout))
            return {
              cause: WorkflowTaskFailedCause.BadScheduleActivityAttributes,
              message: 'ScheduleActivityTask: a valid StartToClose or ScheduleToCloseTimeout is not set on the command',
            };
          break;
        }
        case CommandType.UpsertWorkflowSearchAttributes:
        case CommandType.StartChildWorkflowExecution:
        case CommandType.ContinueAsNewWorkflowExecution: {
          const a =
            cmd.upsertWorkflowSearchAttributesCommandAttributes ??
            cmd.startChildWorkflowExecutionCommandAttributes ??
            cmd.continueAsNewWorkflowExecutionCommandAttributes ??
            {};
          const fields = a.searchAttributes?.indexedFields as Record<string, Msg> | undefined;
          if (fields) {
            try {
              this.hooks.decodeSearchAttributes(String(a.namespace || run.namespace), fields);
            } catch (err) {
              return { cause: WorkflowTaskFailedCause.BadSearchAttributes, message: (err as Error).message };
            }
          }
          break;
        }
        case CommandType.RequestCancelActivityTask: {
          // An activity that finished while this task was in flight can still be cancelled: its result is
          // buffered, and Temporal records the request (the SDK expects the event for its command).
          const scheduledId = Number(cmd.requestCancelActivityTaskCommandAttributes?.scheduledEventId ?? 0);
          const act = s.activities[scheduledId];
          const known = act
            ? !act.cancelRequested
            : bufferedIndex(s, ACTIVITY_CLOSED_EVENTS, 'scheduledEventId', scheduledId) >= 0;
          if (!known || cancelledActivities.has(scheduledId))
            return {
              cause: WorkflowTaskFailedCause.BadRequestCancelActivityAttributes,
              message: `RequestCancelActivityTask: no open activity was scheduled by event ${scheduledId}`,
            };
          cancelledActivities.add(scheduledId);
          break;
        }
        case CommandType.CancelTimer: {
          const id = String(cmd.cancelTimerCommandAttributes?.timerId ?? '');
          const known = s.timers[id] !== undefined || bufferedIndex(s, TIMER_FIRED_EVENT, 'timerId', id) >= 0;
          if (!known || cancelledTimers.has(id))
            return {
              cause: WorkflowTaskFailedCause.BadCancelTimerAttributes,
              message: `CancelTimer: no running timer has id ${id}`,
            };
          cancelledTimers.add(id);
          break;
        }
        case CommandType.CompleteWorkflowExecution:
        case CommandType.FailWorkflowExecution:
        case CommandType.CancelWorkflowExecution:
        case CommandType.RequestCancelExternalWorkflowExecution:
        case CommandType.RecordMarker:
        case CommandType.SignalExternalWorkflowExecution:
        case CommandType.ProtocolMessage:
        case CommandType.ModifyWorkflowProperties:
          break;
        default:
          return {
            cause: WorkflowTaskFailedCause.UnhandledCommand,
            message: `command type ${cmd.commandType} is not supported by the embedded server`,
          };
      }
    }
    return undefined;
  }

  private async processCommand(
    tx: Tx,
    run: Run,
    cmd: Msg,
    completedId: number,
    messages: Map<string, Msg>,
    post: Array<() => Promise<void>>,
    eager: EagerActivity[],
  ): Promise<'ok' | 'needWft'> {
    const s = run.state;
    switch (cmd.commandType) {
      case CommandType.ScheduleActivityTask:
        return this.scheduleActivity(tx, run, cmd.scheduleActivityTaskCommandAttributes ?? {}, completedId, eager);
      case CommandType.RequestCancelActivityTask: {
        const scheduledId = Number(cmd.requestCancelActivityTaskCommandAttributes?.scheduledEventId ?? 0);
        const act = s.activities[scheduledId];
        const cancelId = tx.addEvent(run, EventType.ActivityTaskCancelRequested, {
          scheduledEventId: scheduledId,
          workflowTaskCompletedEventId: completedId,
        });
        if (!act) return 'ok'; // it already finished; its buffered result follows the request
        if (act.phase !== 'started') {
          tx.addEvent(run, EventType.ActivityTaskCanceled, {
            scheduledEventId: scheduledId,
            startedEventId: 0,
            latestCancelRequestedEventId: cancelId,
            identity: '',
          });
          delete s.activities[scheduledId];
          await tx.deleteTimers(run, ACTIVITY_TIMER_KINDS, scheduledId);
          await tx.deleteTasks(run, TaskKind.Activity, scheduledId);
          return 'needWft';
        }
        act.cancelRequested = true;
        act.cancelRequestedId = cancelId;
        return 'ok';
      }
      case CommandType.StartTimer: {
        const a = cmd.startTimerCommandAttributes ?? {};
        const timerId = String(a.timerId ?? '');
        const ms = durationToMs(a.startToFireTimeout) ?? 0;
        const startedId = tx.addEvent(run, EventType.TimerStarted, {
          timerId,
          startToFireTimeout: a.startToFireTimeout ?? msToDuration(0),
          workflowTaskCompletedEventId: completedId,
        });
        s.timers[timerId] = { startedId, fireAt: tx.now + ms };
        tx.addTimer(run, TimerKind.UserTimer, timerId, tx.now + ms, startedId);
        return 'ok';
      }
      case CommandType.CancelTimer: {
        const timerId = String(cmd.cancelTimerCommandAttributes?.timerId ?? '');
        let startedId = s.timers[timerId]?.startedId;
        if (startedId === undefined) {
          // It fired while this task was in flight: the cancel takes its buffered TimerFired back, as Temporal does.
          const [fired] = s.buffered.splice(bufferedIndex(s, TIMER_FIRED_EVENT, 'timerId', timerId), 1);
          startedId = Number((fired?.a as Msg).startedEventId);
        }
        tx.addEvent(run, EventType.TimerCanceled, {
          timerId,
          startedEventId: startedId,
          workflowTaskCompletedEventId: completedId,
          identity: '',
        });
        delete s.timers[timerId];
        await tx.deleteTimers(run, [TimerKind.UserTimer], timerId);
        return 'ok';
      }
      case CommandType.CompleteWorkflowExecution: {
        const a = cmd.completeWorkflowExecutionCommandAttributes ?? {};
        await this.closeRun(tx, run, WorkflowStatus.Completed, EventType.WorkflowExecutionCompleted, {
          result: a.result ?? undefined,
          workflowTaskCompletedEventId: completedId,
        });
        return 'ok';
      }
      case CommandType.FailWorkflowExecution: {
        const failure = cmd.failWorkflowExecutionCommandAttributes?.failure ?? undefined;
        await this.failWorkflow(tx, run, failure, completedId);
        return 'ok';
      }
      case CommandType.CancelWorkflowExecution: {
        await this.closeRun(tx, run, WorkflowStatus.Canceled, EventType.WorkflowExecutionCanceled, {
          details: cmd.cancelWorkflowExecutionCommandAttributes?.details ?? undefined,
          workflowTaskCompletedEventId: completedId,
        });
        return 'ok';
      }
      case CommandType.RecordMarker: {
        const a = cmd.recordMarkerCommandAttributes ?? {};
        tx.addEvent(run, EventType.MarkerRecorded, {
          markerName: a.markerName ?? '',
          details: a.details ?? {},
          header: a.header ?? undefined,
          failure: a.failure ?? undefined,
          workflowTaskCompletedEventId: completedId,
        });
        return 'ok';
      }
      case CommandType.ContinueAsNewWorkflowExecution:
        await this.continueAsNew(tx, run, cmd.continueAsNewWorkflowExecutionCommandAttributes ?? {}, completedId);
        return 'ok';
      case CommandType.StartChildWorkflowExecution:
        this.initiateChild(tx, run, cmd.startChildWorkflowExecutionCommandAttributes ?? {}, completedId, post);
        return 'ok';
      case CommandType.SignalExternalWorkflowExecution: {
        const a = cmd.signalExternalWorkflowExecutionCommandAttributes ?? {};
        const initiatedId = tx.addEvent(run, EventType.SignalExternalWorkflowExecutionInitiated, {
          namespace: a.namespace || run.namespace,
          workflowExecution: a.execution ?? {},
          signalName: a.signalName ?? '',
          input: a.input ?? undefined,
          control: a.control ?? '',
          childWorkflowOnly: !!a.childWorkflowOnly,
          header: a.header ?? undefined,
          workflowTaskCompletedEventId: completedId,
        });
        post.push(() => this.signalExternal(tx, run, a, initiatedId));
        return 'ok';
      }
      case CommandType.RequestCancelExternalWorkflowExecution: {
        const a = cmd.requestCancelExternalWorkflowExecutionCommandAttributes ?? {};
        const execution = { workflowId: a.workflowId ?? '', runId: a.runId ?? '' };
        const initiatedId = tx.addEvent(run, EventType.RequestCancelExternalWorkflowExecutionInitiated, {
          namespace: a.namespace || run.namespace,
          workflowExecution: execution,
          control: a.control ?? '',
          childWorkflowOnly: !!a.childWorkflowOnly,
          reason: a.reason ?? '',
          workflowTaskCompletedEventId: completedId,
        });
        post.push(() => this.cancelExternal(tx, run, a, execution, initiatedId));
        return 'ok';
      }
      case CommandType.UpsertWorkflowSearchAttributes: {
        const sa = cmd.upsertWorkflowSearchAttributesCommandAttributes?.searchAttributes ?? { indexedFields: {} };
        tx.addEvent(run, EventType.UpsertWorkflowSearchAttributes, {
          searchAttributes: sa,
          workflowTaskCompletedEventId: completedId,
        });
        this.upsertSearchAttributes(run, sa.indexedFields ?? {});
        return 'ok';
      }
      case CommandType.ModifyWorkflowProperties: {
        const memo = cmd.modifyWorkflowPropertiesCommandAttributes?.upsertedMemo ?? { fields: {} };
        tx.addEvent(run, EventType.WorkflowPropertiesModified, {
          upsertedMemo: memo,
          workflowTaskCompletedEventId: completedId,
        });
        const current = s.memo ? messageFromJson('temporal.api.common.v1.Memo', s.memo) : { fields: {} };
        const fields: Record<string, Msg> = { ...(current.fields ?? {}) };
        for (const [k, v] of Object.entries((memo.fields ?? {}) as Record<string, Msg>)) {
          if (!v?.data || (v.data as Buffer).length === 0 || (v.data as Buffer).toString() === 'null') delete fields[k];
          else fields[k] = v;
        }
        s.memo = messageToJson('temporal.api.common.v1.Memo', { fields });
        return 'ok';
      }
      case CommandType.ProtocolMessage: {
        const id = cmd.protocolMessageCommandAttributes?.messageId as string | undefined;
        const m = id ? messages.get(id) : undefined;
        if (m) {
          messages.delete(id!);
          this.processProtocolMessage(tx, run, m, completedId);
        }
        return 'ok';
      }
      default:
        return 'ok';
    }
  }

  upsertSearchAttributes(run: Run, indexedFields: Record<string, Msg>): void {
    const s = run.state;
    const current = s.searchAttributes
      ? messageFromJson('temporal.api.common.v1.SearchAttributes', s.searchAttributes)
      : { indexedFields: {} };
    const fields: Record<string, Msg> = { ...(current.indexedFields ?? {}) };
    const decoded = this.hooks.decodeSearchAttributes(run.namespace, indexedFields);
    for (const [k, v] of Object.entries(indexedFields)) {
      if (decoded[k] === undefined || decoded[k] === null) {
        delete fields[k];
        delete run.searchAttributes[k];
      } else {
        fields[k] = v;
        run.searchAttributes[k] = decoded[k];
      }
    }
    s.searchAttributes = messageToJson('temporal.api.common.v1.SearchAttributes', { indexedFields: fields });
    run.dirty = true;
  }

  // ---- updates ------------------------------------------------------------------------------------------

  private processProtocolMessage(tx: Tx, run: Run, m: Msg, completedId: number): void {
    const s = run.state;
    const updateId = String(m.protocolInstanceId ?? '');
    const u = s.updates[updateId];
    if (!u || !m.body) return;
    const body = unpackAny(m.body);
    const typeUrl = String(m.body.type_url ?? m.body.typeUrl ?? '');
    if (typeUrl.endsWith('temporal.api.update.v1.Acceptance')) {
      if (u.stage !== 'admitted') return;
      u.acceptedEventId = tx.addEvent(run, EventType.WorkflowExecutionUpdateAccepted, {
        protocolInstanceId: updateId,
        acceptedRequestMessageId: body.acceptedRequestMessageId ?? `${updateId}/request`,
        acceptedRequestSequencingEventId: body.acceptedRequestSequencingEventId ?? 0,
        acceptedRequest: body.acceptedRequest ?? messageFromJson('temporal.api.update.v1.Request', u.request),
      });
      u.stage = 'accepted';
    } else if (typeUrl.endsWith('temporal.api.update.v1.Rejection')) {
      if (u.stage !== 'admitted') return;
      u.stage = 'rejected';
      u.outcome = messageToJson('temporal.api.update.v1.Outcome', { failure: body.failure });
    } else if (typeUrl.endsWith('temporal.api.update.v1.Response')) {
      if (u.stage !== 'accepted') return;
      tx.addEvent(run, EventType.WorkflowExecutionUpdateCompleted, {
        meta: body.meta ?? { updateId },
        acceptedEventId: u.acceptedEventId ?? 0,
        outcome: body.outcome ?? {},
      });
      u.stage = 'completed';
      u.outcome = messageToJson('temporal.api.update.v1.Outcome', body.outcome ?? {});
    }
    void completedId;
    run.dirty = true;
  }

  /** Admits an update (deduplicated by id) and makes sure a workflow task will deliver it. */
  admitUpdate(tx: Tx, run: Run, request: Msg): void {
    const s = run.state;
    const id = String(request.meta?.updateId ?? '');
    if (s.updates[id]) return;
    s.updates[id] = { id, stage: 'admitted', request: messageToJson('temporal.api.update.v1.Request', request) };
    run.dirty = true;
    if (s.wft?.startedId !== undefined) {
      (s.wft.unseenUpdates ??= []).push(id);
      s.needWft = true;
    } else {
      this.scheduleWorkflowTask(tx, run);
    }
  }

  // ---- activities ---------------------------------------------------------------------------------------

  /**
   * Schedules an activity. One the worker asked to run eagerly (on the workflow's own task queue, as Temporal
   * allows) is collected in `eager` instead of queued: it starts when the workflow task completes.
   */
  private scheduleActivity(tx: Tx, run: Run, a: Msg, completedId: number, eager: EagerActivity[]): 'ok' {
    const s = run.state;
    const activityId = String(a.activityId ?? '');
    const activityType = String(a.activityType?.name ?? '');
    const runTimeout = s.runTimeoutMs;
    let s2c = positiveMs(a.scheduleToCloseTimeout) ?? 0;
    let s2s = positiveMs(a.scheduleToStartTimeout) ?? 0;
    let st2c = positiveMs(a.startToCloseTimeout) ?? 0;
    let hb = positiveMs(a.heartbeatTimeout) ?? 0;
    if (s2c > 0) {
      if (st2c === 0 || st2c > s2c) st2c = s2c;
      if (s2s === 0 || s2s > s2c) s2s = s2c;
    } else if (st2c > 0) {
      s2c = runTimeout;
    }
    if (runTimeout > 0) {
      s2c = s2c === 0 ? runTimeout : Math.min(s2c, runTimeout);
      st2c = Math.min(st2c, runTimeout);
    }
    if (hb > st2c) hb = st2c;
    const retry = defaultRetryPolicy(a.retryPolicy);
    const taskQueue = String(a.taskQueue?.name || run.taskQueue);
    const scheduledId = tx.addEvent(run, EventType.ActivityTaskScheduled, {
      activityId,
      activityType: { name: activityType },
      taskQueue: { name: taskQueue, kind: 1 },
      header: a.header ?? undefined,
      input: a.input ?? undefined,
      scheduleToCloseTimeout: msToDuration(s2c),
      scheduleToStartTimeout: msToDuration(s2s),
      startToCloseTimeout: msToDuration(st2c),
      heartbeatTimeout: msToDuration(hb),
      workflowTaskCompletedEventId: completedId,
      retryPolicy: retryPolicyToProto(retry),
      useWorkflowBuildId: !!a.useWorkflowBuildId,
      priority: a.priority ?? undefined,
    });
    const act: ActivityState = {
      scheduledId,
      activityId,
      activityType,
      taskQueue,
      scheduleToCloseMs: s2c,
      scheduleToStartMs: s2s,
      startToCloseMs: st2c,
      heartbeatMs: hb,
      retry,
      attempt: 1,
      phase: 'scheduled',
      scheduledTime: tx.now,
      attemptScheduledTime: tx.now,
    };
    s.activities[scheduledId] = act;
    if (s2c > 0) tx.addTimer(run, TimerKind.ActivityScheduleToClose, scheduledId, tx.now + s2c);
    if (a.requestEagerExecution && taskQueue === run.taskQueue) {
      eager.push({
        act,
        header: a.header ?? undefined,
        input: a.input ?? undefined,
        priority: a.priority ?? undefined,
      });
      return 'ok';
    }
    tx.addTask(run, TaskKind.Activity, taskQueue, scheduledId, 1);
    if (s2s > 0 && (s2c === 0 || s2s < s2c))
      tx.addTimer(run, TimerKind.ActivityScheduleToStart, scheduledId, tx.now + s2s, 1);
    return 'ok';
  }

  startActivity(tx: Tx, run: Run, act: ActivityState, identity: string): void {
    act.phase = 'started';
    act.startedTime = tx.now;
    act.startedIdentity = identity;
    act.lastWorkerIdentity = identity;
    act.startedRequestId = randomUUID();
    act.lastHeartbeatTime = undefined;
    tx.addTimer(run, TimerKind.ActivityStartToClose, act.scheduledId, tx.now + act.startToCloseMs, act.attempt, true);
    if (act.heartbeatMs > 0)
      tx.addTimer(run, TimerKind.ActivityHeartbeat, act.scheduledId, tx.now + act.heartbeatMs, act.attempt, true);
    run.dirty = true;
  }

  private activityStartedEvent(act: ActivityState): [number, Msg] {
    return [
      EventType.ActivityTaskStarted,
      {
        scheduledEventId: act.scheduledId,
        identity: act.startedIdentity ?? '',
        requestId: act.startedRequestId ?? '',
        attempt: act.attempt,
        lastFailure: act.lastFailure ? messageFromJson('temporal.api.failure.v1.Failure', act.lastFailure) : undefined,
      },
    ];
  }

  private async removeActivity(tx: Tx, run: Run, act: ActivityState): Promise<void> {
    delete run.state.activities[act.scheduledId];
    await tx.deleteTimers(run, ACTIVITY_TIMER_KINDS, act.scheduledId);
    run.dirty = true;
  }

  async completeActivity(
    tx: Tx,
    run: Run,
    act: ActivityState,
    result: Msg | undefined,
    identity: string,
  ): Promise<void> {
    await this.removeActivity(tx, run, act);
    this.deliver(tx, run, [
      this.activityStartedEvent(act),
      [EventType.ActivityTaskCompleted, { result, scheduledEventId: act.scheduledId, startedEventId: -1, identity }],
    ]);
  }

  async cancelActivity(
    tx: Tx,
    run: Run,
    act: ActivityState,
    details: Msg | undefined,
    identity: string,
  ): Promise<void> {
    await this.removeActivity(tx, run, act);
    this.deliver(tx, run, [
      this.activityStartedEvent(act),
      [
        EventType.ActivityTaskCanceled,
        {
          details,
          latestCancelRequestedEventId: act.cancelRequestedId ?? 0,
          scheduledEventId: act.scheduledId,
          startedEventId: -1,
          identity,
        },
      ],
    ]);
  }

  /** A failed or timed-out attempt: retry after the backoff, or record the final failure. */
  async failActivityAttempt(
    tx: Tx,
    run: Run,
    act: ActivityState,
    failure: Msg,
    opts: { timeoutType?: number; identity?: string; heartbeatDetails?: Msg },
  ): Promise<void> {
    if (opts.heartbeatDetails)
      act.heartbeatDetails = messageToJson('temporal.api.common.v1.Payloads', opts.heartbeatDetails);
    const finalTimeout =
      opts.timeoutType === TimeoutType.ScheduleToClose || opts.timeoutType === TimeoutType.ScheduleToStart;
    const deadline = act.scheduleToCloseMs > 0 ? act.scheduledTime + act.scheduleToCloseMs : undefined;
    const reset = act.reset;
    const decision = finalTimeout
      ? { retryState: RetryState.Timeout }
      : reset
        ? retryAfterReset(act.retry, opts.timeoutType ? undefined : failure, tx.now, deadline)
        : decideRetry(act.retry, act.attempt, opts.timeoutType ? undefined : failure, tx.now, deadline);
    if ('backoffMs' in decision && !act.cancelRequested) {
      await tx.deleteTimers(run, [TimerKind.ActivityStartToClose, TimerKind.ActivityHeartbeat], act.scheduledId);
      act.lastFailure = messageToJson('temporal.api.failure.v1.Failure', failure);
      act.attempt = reset ? 1 : act.attempt + 1;
      act.reset = undefined;
      if (reset?.heartbeat) {
        act.heartbeatDetails = undefined;
        act.lastHeartbeatTime = undefined;
      }
      act.phase = 'backoff';
      act.nextAttemptTime = tx.now + decision.backoffMs;
      act.startedTime = undefined;
      if (decision.backoffMs <= 0) {
        this.dispatchActivityAttempt(tx, run, act);
      } else {
        tx.addTimer(run, TimerKind.ActivityRetry, act.scheduledId, act.nextAttemptTime, act.attempt);
      }
      run.dirty = true;
      return;
    }
    const retryState = 'retryState' in decision ? decision.retryState : RetryState.CancelRequested;
    const wasStarted = act.phase === 'started';
    await this.removeActivity(tx, run, act);
    const events: Array<[number, Msg]> = [];
    if (wasStarted) events.push(this.activityStartedEvent(act));
    if (opts.timeoutType) {
      events.push([
        EventType.ActivityTaskTimedOut,
        { failure, scheduledEventId: act.scheduledId, startedEventId: wasStarted ? -1 : 0, retryState },
      ]);
    } else {
      events.push([
        EventType.ActivityTaskFailed,
        {
          failure,
          scheduledEventId: act.scheduledId,
          startedEventId: wasStarted ? -1 : 0,
          identity: opts.identity ?? '',
          retryState,
        },
      ]);
    }
    this.deliver(tx, run, events);
  }

  makeActivityAttemptReady(tx: Tx, run: Run, act: ActivityState): void {
    act.phase = 'scheduled';
    act.attemptScheduledTime = tx.now;
    act.nextAttemptTime = undefined;
    tx.addTask(run, TaskKind.Activity, act.taskQueue, act.scheduledId, act.attempt);
    run.dirty = true;
  }

  /** The next attempt, due now: queued for a worker, with its own schedule-to-start timeout. */
  private dispatchActivityAttempt(tx: Tx, run: Run, act: ActivityState): void {
    this.makeActivityAttemptReady(tx, run, act);
    if (act.scheduleToStartMs > 0)
      tx.addTimer(run, TimerKind.ActivityScheduleToStart, act.scheduledId, tx.now + act.scheduleToStartMs, act.attempt);
  }

  /**
   * ResetActivity on one pending activity: its attempt counter goes back to 1. One waiting for its next attempt
   * (in its retry backoff, or queued and not yet picked up) is dispatched at once as attempt 1, or at a random
   * time within `jitterMs`, its per-attempt timeouts starting afresh; schedule-to-close still counts from the
   * first schedule. Its last failure goes, as Temporal's does: attempt 1 has no earlier attempt. One with an
   * attempt in flight is only marked: that attempt runs on, and when it fails or times out the next attempt is
   * attempt 1, at once (failActivityAttempt). Like Temporal's, a reset writes no history event.
   */
  async resetActivity(
    tx: Tx,
    run: Run,
    act: ActivityState,
    opts: { resetHeartbeat: boolean; jitterMs: number },
  ): Promise<void> {
    run.dirty = true;
    if (act.phase === 'started') {
      act.reset = { heartbeat: opts.resetHeartbeat || !!act.reset?.heartbeat };
      return;
    }
    if (opts.resetHeartbeat) {
      act.heartbeatDetails = undefined;
      act.lastHeartbeatTime = undefined;
    }
    // The retry timer, queued task and schedule-to-start timeout of the attempt being replaced: attempt numbers
    // restart at 1, so a stale one could otherwise pass for a later attempt's.
    await tx.deleteTimers(run, [TimerKind.ActivityRetry, TimerKind.ActivityScheduleToStart], act.scheduledId);
    await tx.deleteTasks(run, TaskKind.Activity, act.scheduledId);
    act.attempt = 1;
    act.lastFailure = undefined;
    if (opts.jitterMs > 0) {
      act.phase = 'backoff';
      act.nextAttemptTime = tx.now + Math.floor(Math.random() * opts.jitterMs);
      tx.addTimer(run, TimerKind.ActivityRetry, act.scheduledId, act.nextAttemptTime, act.attempt);
      return;
    }
    this.dispatchActivityAttempt(tx, run, act);
  }

  timeoutFailure(act: ActivityState, timeoutType: number): Msg {
    const names: Record<number, string> = {
      1: 'StartToClose',
      2: 'ScheduleToStart',
      3: 'ScheduleToClose',
      4: 'Heartbeat',
    };
    return {
      message: `activity ${names[timeoutType] ?? ''} timeout`,
      source: 'Server',
      timeoutFailureInfo: {
        timeoutType,
        lastHeartbeatDetails: act.heartbeatDetails
          ? messageFromJson('temporal.api.common.v1.Payloads', act.heartbeatDetails)
          : undefined,
      },
      cause: act.lastFailure ? messageFromJson('temporal.api.failure.v1.Failure', act.lastFailure) : undefined,
    };
  }

  // ---- signals, cancellation, termination ---------------------------------------------------------------

  signal(
    tx: Tx,
    run: Run,
    signalName: string,
    input: Msg | null | undefined,
    header: Msg | null | undefined,
    identity: string | undefined,
    external?: { initiatedId: number; execution: Msg },
  ): void {
    this.deliver(tx, run, [
      [
        EventType.WorkflowExecutionSignaled,
        {
          signalName,
          input: input ?? undefined,
          identity: identity ?? '',
          header: header ?? undefined,
          externalWorkflowExecution: external?.execution,
        },
      ],
    ]);
  }

  requestCancel(
    tx: Tx,
    run: Run,
    reason: string,
    identity: string,
    external?: { initiatedId: number; execution: Msg },
  ): void {
    if (run.state.cancelRequested) return;
    run.state.cancelRequested = true;
    this.deliver(tx, run, [
      [
        EventType.WorkflowExecutionCancelRequested,
        {
          cause: reason,
          identity,
          externalInitiatedEventId: external?.initiatedId ?? 0,
          externalWorkflowExecution: external?.execution,
        },
      ],
    ]);
  }

  async terminate(tx: Tx, run: Run, reason: string, details: Msg | undefined, identity: string): Promise<void> {
    await this.closeRun(tx, run, WorkflowStatus.Terminated, EventType.WorkflowExecutionTerminated, {
      reason,
      details,
      identity,
    });
  }

  private async signalExternal(tx: Tx, source: Run, a: Msg, initiatedId: number): Promise<void> {
    const ns = String(a.namespace || source.namespace);
    const exec = a.execution ?? {};
    const target = await tx.loadCurrentRun(ns, String(exec.workflowId ?? ''), exec.runId || undefined);
    if (target && target.isRunning) {
      this.signal(tx, target, String(a.signalName ?? ''), a.input, a.header, '', {
        initiatedId,
        execution: source.execution,
      });
      tx.addEvent(source, EventType.ExternalWorkflowExecutionSignaled, {
        initiatedEventId: initiatedId,
        namespace: ns,
        workflowExecution: { workflowId: target.workflowId, runId: target.runId },
        control: a.control ?? '',
      });
    } else {
      tx.addEvent(source, EventType.SignalExternalWorkflowExecutionFailed, {
        cause: 1,
        workflowTaskCompletedEventId: 0,
        namespace: ns,
        workflowExecution: exec,
        initiatedEventId: initiatedId,
        control: a.control ?? '',
      });
    }
  }

  private async cancelExternal(tx: Tx, source: Run, a: Msg, exec: Msg, initiatedId: number): Promise<void> {
    const ns = String(a.namespace || source.namespace);
    const target = await tx.loadCurrentRun(ns, String(exec.workflowId ?? ''), exec.runId || undefined);
    if (target && target.isRunning) {
      this.requestCancel(tx, target, String(a.reason ?? ''), '', { initiatedId, execution: source.execution });
      tx.addEvent(source, EventType.ExternalWorkflowExecutionCancelRequested, {
        initiatedEventId: initiatedId,
        namespace: ns,
        workflowExecution: { workflowId: target.workflowId, runId: target.runId },
      });
    } else {
      tx.addEvent(source, EventType.RequestCancelExternalWorkflowExecutionFailed, {
        cause: 1,
        workflowTaskCompletedEventId: 0,
        namespace: ns,
        workflowExecution: exec,
        initiatedEventId: initiatedId,
        control: a.control ?? '',
      });
    }
  }

  // ---- children -----------------------------------------------------------------------------------------

  private initiateChild(tx: Tx, run: Run, a: Msg, completedId: number, post: Array<() => Promise<void>>): void {
    const ns = String(a.namespace || run.namespace);
    const initiatedId = tx.addEvent(run, EventType.StartChildWorkflowExecutionInitiated, {
      namespace: ns,
      workflowId: a.workflowId ?? '',
      workflowType: a.workflowType ?? {},
      taskQueue: { name: a.taskQueue?.name || run.taskQueue, kind: 1 },
      input: a.input ?? undefined,
      workflowExecutionTimeout: a.workflowExecutionTimeout ?? undefined,
      workflowRunTimeout: a.workflowRunTimeout ?? undefined,
      workflowTaskTimeout: a.workflowTaskTimeout ?? undefined,
      parentClosePolicy: a.parentClosePolicy ?? 0,
      control: a.control ?? '',
      workflowTaskCompletedEventId: completedId,
      workflowIdReusePolicy: a.workflowIdReusePolicy ?? 0,
      retryPolicy: a.retryPolicy ?? undefined,
      cronSchedule: a.cronSchedule ?? '',
      header: a.header ?? undefined,
      memo: a.memo ?? undefined,
      searchAttributes: a.searchAttributes ?? undefined,
      priority: a.priority ?? undefined,
    });
    run.state.children[initiatedId] = {
      initiatedId,
      namespace: ns,
      workflowId: String(a.workflowId ?? ''),
      workflowType: String(a.workflowType?.name ?? ''),
      parentClosePolicy: Number(a.parentClosePolicy || ParentClosePolicy.Terminate),
    };
    post.push(() => this.startChild(tx, run, a, initiatedId, ns));
  }

  private async startChild(tx: Tx, parent: Run, a: Msg, initiatedId: number, ns: string): Promise<void> {
    const child = parent.state.children[initiatedId]!;
    const existing = await tx.loadCurrentRun(ns, child.workflowId);
    const reuse = Number(a.workflowIdReusePolicy || IdReusePolicy.AllowDuplicate);
    const blocked =
      existing &&
      (existing.isRunning ||
        reuse === IdReusePolicy.RejectDuplicate ||
        (reuse === IdReusePolicy.AllowDuplicateFailedOnly && existing.status === WorkflowStatus.Completed));
    if (blocked) {
      delete parent.state.children[initiatedId];
      tx.addEvent(parent, EventType.StartChildWorkflowExecutionFailed, {
        namespace: ns,
        workflowId: child.workflowId,
        workflowType: { name: child.workflowType },
        cause: 1,
        control: a.control ?? '',
        initiatedEventId: initiatedId,
        workflowTaskCompletedEventId: 0,
      });
      return;
    }
    const root = parent.state.root ?? { workflowId: parent.workflowId, runId: parent.runId };
    const childRun = this.createRun(tx, {
      namespace: ns,
      workflowId: child.workflowId,
      workflowType: child.workflowType,
      taskQueue: String(a.taskQueue?.name || parent.taskQueue),
      input: a.input,
      header: a.header,
      memo: a.memo,
      searchAttributes: a.searchAttributes,
      retryPolicy: a.retryPolicy,
      executionTimeoutMs: positiveMs(a.workflowExecutionTimeout),
      runTimeoutMs: positiveMs(a.workflowRunTimeout),
      taskTimeoutMs: positiveMs(a.workflowTaskTimeout),
      parent: { namespace: parent.namespace, workflowId: parent.workflowId, runId: parent.runId, initiatedId },
      root,
    });
    child.runId = childRun.runId;
    child.startedId = tx.addEvent(parent, EventType.ChildWorkflowExecutionStarted, {
      namespace: ns,
      initiatedEventId: initiatedId,
      workflowExecution: childRun.execution,
      workflowType: { name: child.workflowType },
      header: a.header ?? undefined,
    });
  }

  private async notifyParent(tx: Tx, child: Run, eventType: number, attrs: Msg): Promise<void> {
    const ref = child.state.parent;
    if (!ref) return;
    const parent = await tx.loadRun(ref.namespace, ref.runId);
    if (!parent || !parent.isRunning) return;
    const info = parent.state.children[ref.initiatedId];
    if (!info) return;
    delete parent.state.children[ref.initiatedId];
    parent.dirty = true;
    const typeName = String(child.workflowType);
    const childEventType: Record<number, number> = {
      [EventType.WorkflowExecutionCompleted]: EventType.ChildWorkflowExecutionCompleted,
      [EventType.WorkflowExecutionFailed]: EventType.ChildWorkflowExecutionFailed,
      [EventType.WorkflowExecutionCanceled]: EventType.ChildWorkflowExecutionCanceled,
      [EventType.WorkflowExecutionTimedOut]: EventType.ChildWorkflowExecutionTimedOut,
      [EventType.WorkflowExecutionTerminated]: EventType.ChildWorkflowExecutionTerminated,
    };
    const type = childEventType[eventType];
    if (!type) return;
    const common = {
      namespace: child.namespace,
      workflowExecution: child.execution,
      workflowType: { name: typeName },
      initiatedEventId: ref.initiatedId,
      startedEventId: info.startedId ?? 0,
    };
    const specific: Msg =
      type === EventType.ChildWorkflowExecutionCompleted
        ? { result: attrs.result }
        : type === EventType.ChildWorkflowExecutionFailed
          ? { failure: attrs.failure, retryState: attrs.retryState ?? RetryState.RetryPolicyNotSet }
          : type === EventType.ChildWorkflowExecutionCanceled
            ? { details: attrs.details }
            : type === EventType.ChildWorkflowExecutionTimedOut
              ? { retryState: attrs.retryState ?? RetryState.Timeout }
              : {};
    this.deliver(tx, parent, [[type, { ...common, ...specific }]]);
  }

  private async applyParentClosePolicy(tx: Tx, run: Run): Promise<void> {
    for (const child of Object.values(run.state.children)) {
      if (!child.runId || child.parentClosePolicy === ParentClosePolicy.Abandon) continue;
      const target = await tx.loadCurrentRun(child.namespace, child.workflowId);
      if (!target || !target.isRunning) continue;
      if (child.parentClosePolicy === ParentClosePolicy.RequestCancel) {
        this.requestCancel(tx, target, 'by parent close policy', '');
      } else {
        await this.terminate(tx, target, 'by parent close policy', undefined, '');
      }
    }
  }

  // ---- closing ------------------------------------------------------------------------------------------

  async closeRun(tx: Tx, run: Run, status: number, eventType: number, attrs: Msg, newRunId?: string): Promise<void> {
    if (!run.isRunning) return;
    const s = run.state;
    // A forced close (terminate, timeout) abandons the in-flight task; its completion will get NOT_FOUND.
    s.buffered = [];
    s.wft = undefined;
    s.closeEventId = tx.addEvent(run, eventType, attrs);
    run.status = status as Run['status'];
    s.closeTime = tx.now;
    s.newExecutionRunId = newRunId;
    s.activities = {};
    s.timers = {};
    s.sticky = undefined;
    await tx.deleteAllTimersAndTasks(run);
    if (status !== WorkflowStatus.ContinuedAsNew && !newRunId) {
      await this.notifyParent(tx, run, eventType, attrs);
      await this.applyParentClosePolicy(tx, run);
    }
  }

  private async failWorkflow(tx: Tx, run: Run, failure: Msg | undefined, completedId: number): Promise<void> {
    const s = run.state;
    const decision = s.retryPolicy
      ? decideRetry(s.retryPolicy, s.attempt, failure, tx.now, s.executionExpiration)
      : { retryState: RetryState.RetryPolicyNotSet };
    if ('backoffMs' in decision) {
      const startedAttrs = await this.startedAttributes(tx, run);
      const newRunId = randomUUID();
      await this.closeRun(
        tx,
        run,
        WorkflowStatus.Failed,
        EventType.WorkflowExecutionFailed,
        {
          failure,
          retryState: RetryState.InProgress,
          workflowTaskCompletedEventId: completedId,
          newExecutionRunId: newRunId,
        },
        newRunId,
      );
      this.createRun(
        tx,
        {
          ...this.inheritedStart(run, startedAttrs),
          attempt: s.attempt + 1,
          backoffMs: decision.backoffMs,
          continuedExecutionRunId: run.runId,
          initiator: 2,
          continuedFailure: failure,
        },
        newRunId,
      );
      return;
    }
    await this.closeRun(tx, run, WorkflowStatus.Failed, EventType.WorkflowExecutionFailed, {
      failure,
      retryState: decision.retryState,
      workflowTaskCompletedEventId: completedId,
    });
  }

  private async startedAttributes(tx: Tx, run: Run): Promise<Msg> {
    const bytes = await tx.readEvent(run, run.state.startedEventId ?? 1);
    if (!bytes) return {};
    return decodeEvent(bytes).workflowExecutionStartedEventAttributes ?? {};
  }

  private inheritedStart(run: Run, started: Msg): StartParams {
    const s = run.state;
    return {
      namespace: run.namespace,
      workflowId: run.workflowId,
      workflowType: run.workflowType,
      taskQueue: run.taskQueue,
      input: started.input,
      header: started.header,
      memo: s.memo ? messageFromJson('temporal.api.common.v1.Memo', s.memo) : undefined,
      searchAttributes: s.searchAttributes
        ? messageFromJson('temporal.api.common.v1.SearchAttributes', s.searchAttributes)
        : undefined,
      retryPolicy: s.retryPolicy ? retryPolicyToProto(s.retryPolicy) : undefined,
      executionTimeoutMs: s.executionTimeoutMs || undefined,
      runTimeoutMs: s.runTimeoutMs || undefined,
      taskTimeoutMs: s.workflowTaskTimeoutMs,
      firstRunId: s.firstRunId,
      executionExpiration: s.executionExpiration,
      parent: s.parent,
      root: s.root,
    };
  }

  private async continueAsNew(tx: Tx, run: Run, a: Msg, completedId: number): Promise<void> {
    const s = run.state;
    const started = await this.startedAttributes(tx, run);
    const newRunId = randomUUID();
    const taskQueue = String(a.taskQueue?.name || run.taskQueue);
    const workflowType = String(a.workflowType?.name || run.workflowType);
    const runTimeoutMs = positiveMs(a.workflowRunTimeout) ?? (s.runTimeoutMs || undefined);
    const taskTimeoutMs = positiveMs(a.workflowTaskTimeout) ?? s.workflowTaskTimeoutMs;
    const backoffMs = positiveMs(a.backoffStartInterval) ?? 0;
    await this.closeRun(
      tx,
      run,
      WorkflowStatus.ContinuedAsNew,
      EventType.WorkflowExecutionContinuedAsNew,
      {
        newExecutionRunId: newRunId,
        workflowType: { name: workflowType },
        taskQueue: { name: taskQueue, kind: 1 },
        input: a.input ?? undefined,
        workflowRunTimeout: runTimeoutMs ? msToDuration(runTimeoutMs) : undefined,
        workflowTaskTimeout: msToDuration(taskTimeoutMs),
        workflowTaskCompletedEventId: completedId,
        backoffStartInterval: backoffMs ? msToDuration(backoffMs) : undefined,
        initiator: a.initiator || 1,
        failure: a.failure ?? undefined,
        lastCompletionResult: a.lastCompletionResult ?? undefined,
        header: a.header ?? undefined,
        memo: a.memo ?? undefined,
        searchAttributes: a.searchAttributes ?? undefined,
      },
      newRunId,
    );
    const inherited = this.inheritedStart(run, started);
    this.createRun(
      tx,
      {
        ...inherited,
        workflowType,
        taskQueue,
        input: a.input,
        header: a.header ?? inherited.header,
        memo: a.memo ?? inherited.memo,
        searchAttributes: a.searchAttributes ?? inherited.searchAttributes,
        retryPolicy: a.retryPolicy ?? inherited.retryPolicy,
        runTimeoutMs,
        taskTimeoutMs,
        backoffMs,
        continuedExecutionRunId: run.runId,
        initiator: a.initiator || 1,
        lastCompletionResult: a.lastCompletionResult,
        continuedFailure: a.failure,
        attempt: 1,
      },
      newRunId,
    );
  }

  // ---- timers -------------------------------------------------------------------------------------------

  /** Applies a due timer row to its run (already locked). Stale timers (seq/attempt mismatch) do nothing. */
  async fireTimer(tx: Tx, run: Run, timer: { kind: string; ref: string; seq: number }): Promise<void> {
    if (!run.isRunning) return;
    const s = run.state;
    switch (timer.kind) {
      case TimerKind.UserTimer: {
        const t = s.timers[timer.ref];
        if (!t || t.startedId !== timer.seq) return;
        delete s.timers[timer.ref];
        run.dirty = true;
        this.deliver(tx, run, [[EventType.TimerFired, { timerId: timer.ref, startedEventId: t.startedId }]]);
        return;
      }
      case TimerKind.WorkflowTaskTimeout: {
        const wft = s.wft;
        if (!wft || wft.scheduledId !== Number(timer.ref) || wft.startedId !== timer.seq) return;
        await this.failWorkflowTask(
          tx,
          run,
          EventType.WorkflowTaskTimedOut,
          { timeoutType: TimeoutType.StartToClose },
          {
            clearSticky: true,
          },
        );
        return;
      }
      case TimerKind.StickyTimeout: {
        const wft = s.wft;
        if (!wft || wft.scheduledId !== Number(timer.ref) || wft.startedId !== undefined || !wft.onSticky) return;
        this.moveWorkflowTaskToNormalQueue(tx, run);
        return;
      }
      case TimerKind.WorkflowTaskBackoff:
        this.scheduleWorkflowTask(tx, run);
        return;
      case TimerKind.RunTimeout:
      case TimerKind.ExecutionTimeout:
        await this.closeRun(tx, run, WorkflowStatus.TimedOut, EventType.WorkflowExecutionTimedOut, {
          retryState: RetryState.Timeout,
        });
        return;
      default:
        break;
    }
    const act = s.activities[timer.ref];
    if (!act) return;
    switch (timer.kind) {
      case TimerKind.ActivityScheduleToClose:
        await this.failActivityAttempt(tx, run, act, this.timeoutFailure(act, TimeoutType.ScheduleToClose), {
          timeoutType: TimeoutType.ScheduleToClose,
        });
        return;
      case TimerKind.ActivityScheduleToStart:
        if (act.phase !== 'scheduled' || act.attempt !== timer.seq) return;
        await this.failActivityAttempt(tx, run, act, this.timeoutFailure(act, TimeoutType.ScheduleToStart), {
          timeoutType: TimeoutType.ScheduleToStart,
        });
        return;
      case TimerKind.ActivityStartToClose:
        if (act.phase !== 'started' || act.attempt !== timer.seq) return;
        await this.failActivityAttempt(tx, run, act, this.timeoutFailure(act, TimeoutType.StartToClose), {
          timeoutType: TimeoutType.StartToClose,
        });
        return;
      case TimerKind.ActivityHeartbeat: {
        if (act.phase !== 'started' || act.attempt !== timer.seq) return;
        const last = act.lastHeartbeatTime ?? act.startedTime ?? tx.now;
        if (last + act.heartbeatMs > tx.now) {
          tx.addTimer(run, TimerKind.ActivityHeartbeat, act.scheduledId, last + act.heartbeatMs, act.attempt, true);
          return;
        }
        await this.failActivityAttempt(tx, run, act, this.timeoutFailure(act, TimeoutType.Heartbeat), {
          timeoutType: TimeoutType.Heartbeat,
        });
        return;
      }
      case TimerKind.ActivityRetry:
        if (act.phase !== 'backoff' || act.attempt !== timer.seq) return;
        this.dispatchActivityAttempt(tx, run, act);
        return;
      default:
        return;
    }
  }

  /** The sticky worker did not pick the task up in time (or shut down): serve it, with full history, on the normal queue. */
  moveWorkflowTaskToNormalQueue(tx: Tx, run: Run): void {
    const s = run.state;
    s.sticky = undefined;
    run.dirty = true;
    if (s.wft && s.wft.startedId === undefined && s.wft.onSticky) {
      s.wft.onSticky = false;
      // The row on the dead sticky queue would never be claimed (and would hold time skipping): drop it.
      void tx.deleteTasks(run, TaskKind.Workflow, s.wft.scheduledId);
      tx.addTask(run, TaskKind.Workflow, run.taskQueue, s.wft.scheduledId, s.wft.attempt);
    }
  }

  assertRunning(run: Run | undefined, what = 'workflow execution'): asserts run is Run {
    if (!run) throw notFound(`${what} not found`);
    if (!run.isRunning) throw notFound('workflow execution already completed');
  }

  assertFound(run: Run | undefined): asserts run is Run {
    if (!run) throw notFound('workflow execution not found');
  }

  failedPrecondition(message: string): TemporalServiceError {
    return failedPrecondition(message);
  }
}
