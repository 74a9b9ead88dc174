/**
 * The per-run mutable state, stored as one JSON blob in `executions.state` and rewritten in the same
 * transaction as the events it reflects. Payload-bearing values are kept as protobuf JSON (bytes in base64).
 */
import type { Msg } from './proto';

export const TimerKind = {
  UserTimer: 'timer',
  WorkflowTaskTimeout: 'wft_timeout',
  StickyTimeout: 'sticky_timeout',
  WorkflowTaskBackoff: 'wft_backoff',
  ActivityScheduleToClose: 'act_s2c',
  ActivityScheduleToStart: 'act_s2s',
  ActivityStartToClose: 'act_st2c',
  ActivityHeartbeat: 'act_hb',
  ActivityRetry: 'act_retry',
  RunTimeout: 'wf_run_timeout',
  ExecutionTimeout: 'wf_exec_timeout',
} as const;

/**
 * Timers that only guard work in flight, kept in memory and never written to the database: a sticky queue's
 * schedule-to-start (sticky queues do not survive a restart anyway, see WorkflowService.start) and the timeouts
 * of started workflow and activity tasks, which the server re-arms from each run's state when it starts. They
 * were most of the rows the server wrote per workflow.
 */
export const VOLATILE_TIMER_KINDS: ReadonlySet<string> = new Set([
  TimerKind.StickyTimeout,
  TimerKind.WorkflowTaskTimeout,
  TimerKind.ActivityStartToClose,
  TimerKind.ActivityHeartbeat,
]);

export interface RetryPolicyState {
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  maximumAttempts: number;
  nonRetryableErrorTypes: string[];
}

export interface ActivityState {
  scheduledId: number;
  activityId: string;
  activityType: string;
  taskQueue: string;
  scheduleToCloseMs: number;
  scheduleToStartMs: number;
  startToCloseMs: number;
  heartbeatMs: number;
  retry: RetryPolicyState;
  attempt: number;
  phase: 'scheduled' | 'started' | 'backoff';
  scheduledTime: number;
  attemptScheduledTime: number;
  startedTime?: number;
  startedIdentity?: string;
  startedRequestId?: string;
  lastHeartbeatTime?: number;
  heartbeatDetails?: Msg;
  lastFailure?: Msg;
  lastWorkerIdentity?: string;
  nextAttemptTime?: number;
  cancelRequested?: boolean;
  cancelRequestedId?: number;
  /**
   * ResetActivity while an attempt was in flight: that attempt runs on (its heartbeats answer activityReset), and
   * once it fails or times out the next attempt is attempt 1, at once, its heartbeat details cleared if `heartbeat`.
   */
  reset?: { heartbeat: boolean };
}

export interface TimerState {
  startedId: number;
  fireAt: number;
}

export interface ChildState {
  initiatedId: number;
  namespace: string;
  workflowId: string;
  workflowType: string;
  runId?: string;
  startedId?: number;
  parentClosePolicy: number;
}

export interface UpdateState {
  id: string;
  stage: 'admitted' | 'accepted' | 'completed' | 'rejected';
  request: Msg;
  acceptedEventId?: number;
  outcome?: Msg;
}

export interface WorkflowTaskState {
  scheduledId: number;
  startedId?: number;
  attempt: number;
  scheduledTime: number;
  startedTime?: number;
  onSticky: boolean;
  requestId?: string;
  /** Updates and events admitted while this task was in flight: the worker has not seen them. */
  unseenUpdates?: string[];
}

export interface ParentRef {
  namespace: string;
  workflowId: string;
  runId: string;
  initiatedId: number;
}

export interface RunState {
  workflowTaskTimeoutMs: number;
  runTimeoutMs: number;
  executionTimeoutMs: number;
  executionExpiration?: number;
  retryPolicy?: RetryPolicyState;
  attempt: number;
  firstRunId: string;
  originalRunId: string;
  parent?: ParentRef;
  root?: { workflowId: string; runId: string };
  nextEventId: number;
  historySizeBytes: number;
  lastWftStartedId: number;
  wft?: WorkflowTaskState;
  buffered: Msg[];
  needWft?: boolean;
  sticky?: { name: string; scheduleToStartMs: number };
  activities: Record<string, ActivityState>;
  timers: Record<string, TimerState>;
  children: Record<string, ChildState>;
  updates: Record<string, UpdateState>;
  cancelRequested?: boolean;
  memo?: Msg;
  searchAttributes?: Msg;
  requestIds: string[];
  startTime: number;
  executionTime: number;
  closeTime?: number;
  closeEventId?: number;
  newExecutionRunId?: string;
  startedEventId?: number;
}
