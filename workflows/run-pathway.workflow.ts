/**
 * `runPathway`: the one workflow that runs every pathway. It is a thin shell around the pure interpreter
 * (./pathway): it turns the interpreter's commands into Temporal calls (activities by name, child
 * workflows, durable timers) and Temporal's callbacks (update, signal, activity and child results, timer
 * expiry) into interpreter events. The IR travels in the start input, so a running case stays on the
 * pathway version it started with whatever is deployed later.
 *
 * Persisted API (never rename; evolve with `patched()` or new names): workflow type `runPathway`, updates
 * `completeTask`, `correlateMessage` and `terminatePathway`, signals `deliverMessage` and `childEscalated`, query
 * `state`, activities `openTask`, `closeTask`, `resolvePathway`, `raiseIncident`, `closeIncident`, the service-task
 * activity names the pathways use, and the patches `buffer-messages` and `incidents`.
 *
 * Incidents: in a pathway started with the `incidents` patch, a failure nothing in the BPMN catches (a service
 * task out of attempts, a failed child pathway, a FEEL error at an element) stops only its token, which waits at
 * the element; `raiseIncident` records it and opens a "Resolve incident" task for ops, and completing that task
 * through `completeTask` (form `incident-resolution`) retries or skips the element. Pathways started before the
 * patch fail as they always did, so their histories replay.
 *
 * Attribution: a `completeTask` update may say who acted (`actedBy`). The shell passes that person to `closeTask` and
 * to each service task the completion's step schedules, and from a service task to the steps its own completion
 * schedules, until the token waits again; a step retried after an incident keeps its person (carried across
 * continue-as-new in `attributions`). What the pathway does by itself (a timer, a message) names nobody, so its
 * activities write as `system:pathway`. Only activity inputs change with it, never which commands are issued or
 * in what order, so no patch is needed: older histories (without `actedBy`) replay to the same commands.
 *
 * Messages are kept, as Zeebe buffers a published message: one nothing waits for yet stays in the interpreter
 * state until its time to live runs out and is caught when the pathway reaches a catch event for it. Histories
 * recorded before that dropped such a message, so the `deliverMessage` signal keeps it only where the
 * `buffer-messages` patch is in effect; `correlateMessage` is new, so every history that has it keeps messages.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';

import type { SearchAttributeUpdatePair } from '@temporalio/common';

import { type PathwayIR } from '../bpmn/ir';
import { addIsoDuration, formatInstant, isZeroDuration, parseIsoDuration } from '../bpmn/iso8601';
import {
  canEverCatch,
  describePathway,
  findOpenIncident,
  findOpenTask,
  handle,
  messageReach,
  nextTimer,
  openIncidents,
  readIncidentResolution,
  start,
  whyNotSkippable,
  type BufferedMessage,
  type MessageCatcher,
  type MessageReach,
  type PathwayCommand,
  type PathwayEvent,
  type PathwayState,
  type PathwayView,
  type Step,
  type Variables,
} from './pathway';
import {
  ACTIVITY_FAILING_SIGNAL,
  STUCK_SIGNAL_KEYS,
  changedSignals,
  stuckSignals,
  type ActivityFailingInput,
  type FailingActivity,
  type StuckSignalName,
  type StuckSignalValue,
  type StuckSignals,
} from './pathway/stuck-signals';
import { planMigration, type ElementMapping, type MigrationMove } from './pathway/migrate';

// ---- the persisted API ---------------------------------------------------------------------------------

export interface RunPathwayInput {
  /** The compiled pathway (pinned: the run never looks at newer versions). */
  readonly ir: PathwayIR;
  readonly variables?: Variables;
  /** The case this run belongs to; passed to every activity. */
  readonly caseId: string;
  /** The deployed version's id, for projections and the monitor (opaque here). */
  readonly pathwayVersionId?: string;
  /** IRs for call activities by process id, pinned at start; others are resolved by `resolvePathway`. */
  readonly calledPathways?: Readonly<Record<string, PathwayIR>>;
  /** Start at a message start event instead of the none start event. */
  readonly startEventId?: string;
  /** Set by continue-as-new: the interpreter state to carry on from. */
  readonly resumeState?: PathwayState;
  /**
   * Continue as new once the history has this many events, besides whenever the server suggests it: keeps
   * replay of long-running cases (daily reminders for months) short.
   */
  readonly historyLengthLimit?: number;
  /** Set on a child pathway: the parent's call activity instance, so escalations reach the right element. */
  readonly parentInstanceId?: string;
  /**
   * Set on a child pathway: messages the parent kept for it, to wait here until they are caught or expire.
   * Read only at the start; after continue-as-new they are in `resumeState`.
   */
  readonly messages?: readonly BufferedMessage[];
  /** Set by continue-as-new: the task completions that carried an id, by task id (see `TaskCompletion`). */
  readonly completions?: Readonly<Record<string, TaskCompletion>>;
  /**
   * Set by continue-as-new: the person each service task still waiting (in an incident) acts for, by activity id,
   * so that a retry after continue-as-new writes the record in the same name (see `ActingPerson`).
   */
  readonly attributions?: Readonly<Record<string, ActingPerson>>;
  /** Set on a child pathway: the setting of its case, for the ops console's scope (the `CaseSetting` attribute). */
  readonly caseSetting?: string;
}

/**
 * The person whose task completion the record is written for: what the completion says (`actedBy`), carried to
 * the `closeTask` activity and to each service task the completion's token reaches before it waits again (the
 * assessment, note, alert or notification that follows a form), so that those records and their audit events
 * name the person instead of `system:pathway`. What the pathway does by itself (a timer, a message, a step after
 * a wait) has none. Optional everywhere: histories recorded before it replay as they were.
 */
export interface ActingPerson {
  /** Their staff id (the audit event's actor id). */
  readonly id: string;
  /** The role the policy allowed the completion under (`clinician`, `team-lead`, `ops`). */
  readonly role: string;
  /** Their OIDC subject. */
  readonly subject: string;
  /** The HTTP request that completed the task, to follow one action from the request to every record it led to. */
  readonly requestId?: string;
  /** The setting through which the policy allowed it, and why (HL7 v3 PurposeOfUse), for the audit events. */
  readonly settingOdsCode?: string;
  readonly purpose?: string;
}

/** Whether a value is an ActingPerson: the update's validator refuses a completion naming someone malformed. */
function isActingPerson(value: unknown): value is ActingPerson {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const person = value as Record<string, unknown>;
  const text = (v: unknown) => typeof v === 'string' && v !== '' && v.length <= 255;
  const optional = (v: unknown) => v === undefined || text(v);
  return (
    text(person['id']) &&
    text(person['role']) &&
    text(person['subject']) &&
    optional(person['requestId']) &&
    optional(person['settingOdsCode']) &&
    optional(person['purpose'])
  );
}

export interface RunPathwayResult {
  readonly status: 'completed' | 'terminated';
  readonly variables: Variables;
}

export interface CompleteTaskInput {
  readonly taskId: string;
  /** The submitted form data; becomes process variables through the task's output mappings. */
  readonly data?: Variables;
  /** Who completed it (user id), for the projection and audit written by `closeTask`. */
  readonly completedBy?: string;
  /** The person who acted, for the records the completion leads to and their audit events (see ActingPerson). */
  readonly actedBy?: ActingPerson;
  /**
   * The submission's id, chosen by the client (also the update id): the same completion sent again, after its
   * answer was lost, gets the first answer instead of a refusal, even once the run has continued as new.
   */
  readonly completionId?: string;
}

/** A person ends the pathway; its open tasks and incidents are withdrawn with the reason. */
export interface TerminatePathwayInput {
  readonly reason: string;
  /** Who ended it (user id), for the worklist, the audit trail and the case view. */
  readonly terminatedBy: string;
}

export interface TerminatePathwayResult {
  readonly status: 'terminated';
  readonly terminatedAt: string;
}

/** The longest termination reason taken: it is kept in the state, on every withdrawn task and in the audit trail. */
const MAX_TERMINATION_REASON = 2000;

/** Failure types of the `terminatePathway` validator: nothing is recorded when it refuses. */
export const TERMINATE_PATHWAY_REFUSALS = {
  notActive: 'PATHWAY_NOT_ACTIVE',
  invalid: 'INVALID_TERMINATION',
} as const;

export interface CompleteTaskResult {
  readonly taskId: string;
  readonly completedAt: string;
  /** The pathway's status after the completion was applied. */
  readonly status: PathwayState['status'];
}

/** A task completion that carried an id, and the answer it got. */
export interface TaskCompletion {
  readonly completionId: string;
  readonly result: CompleteTaskResult;
}

export interface DeliverMessageInput {
  readonly name: string;
  readonly correlationKey: string;
  readonly variables?: Variables;
}

export interface CorrelateMessageInput {
  readonly name: string;
  readonly correlationKey: string;
  readonly variables?: Variables;
  /**
   * ISO 8601 duration to keep the message for when nothing waits for it yet (default
   * DEFAULT_MESSAGE_TIME_TO_LIVE); `PT0S` delivers it only to a subscription that is open now.
   */
  readonly timeToLive?: string;
  /**
   * Also keep it for the pathways this one calls, to go with the first of their children to start. The
   * sender sets it when no running child of this workflow caught or kept the message already, so that a
   * journey's message is caught at most once.
   */
  readonly holdForCalledPathways?: boolean;
}

/** Where a kept message can be caught: in this pathway, or in a pathway it calls (`processId`). */
export type CatchEventRef = Omit<MessageCatcher, 'kind'>;

/** What became of a message, answered synchronously. */
export type CorrelateMessageResult =
  | {
      readonly outcome: 'correlated';
      readonly processId: string;
      /** The catch event, boundary event or event-gateway target that caught it. */
      readonly elementId: string;
      readonly name?: string;
      /** The element instance it completed, interrupted or resolved. */
      readonly instanceId: string;
      /** The pathway's status after it moved on. */
      readonly status: PathwayState['status'];
    }
  | {
      readonly outcome: 'buffered';
      readonly processId: string;
      readonly messageId: string;
      readonly expiresAt: string;
      /** The elements that will catch it when the pathway (or a child pathway) reaches one of them. */
      readonly catchEvents: CatchEventRef[];
    }
  /** Nothing waited for it and it was not to be kept here; `reason` says why. Nothing was recorded. */
  | { readonly outcome: 'ignored'; readonly processId: string; readonly reason: string };

/** Failure types of the `correlateMessage` validator: nothing is recorded when it refuses. */
export const CORRELATE_MESSAGE_REFUSALS = {
  notCatchable: 'MESSAGE_NOT_CATCHABLE',
  notActive: 'PATHWAY_NOT_ACTIVE',
  invalid: 'INVALID_MESSAGE',
} as const;

/**
 * How long a message nothing waits for yet is kept: 24 hours. The messages pathways catch report events in
 * other systems (a discharge, a recall, a court outcome, an appointment outcome), so one that arrives before
 * the pathway reaches its catch event is usually minutes or hours early: a clinician has not yet saved the
 * form before it. A day covers that, overnight included. Much longer would let a duplicate or stale notice be
 * caught by a later episode (sms-prison goes round again after a recall), and a pathway that is days behind
 * its messages is a backlog to see in the case view, not something to paper over; a sender that knows better
 * passes its own time to live.
 */
export const DEFAULT_MESSAGE_TIME_TO_LIVE = 'P1D';

/**
 * A clinician completes a user task: accepted or rejected at once, answered once the steps the completion
 * started have settled (see SETTLE_BEFORE_ANSWER_PATCH), so the answer's next tasks are already in the worklist.
 */
export const completeTaskUpdate = defineUpdate<CompleteTaskResult, [CompleteTaskInput]>('completeTask');
/** A message event (recall, transfer, release...) for a waiting message catch or boundary event. */
export const deliverMessageSignal = defineSignal<[DeliverMessageInput]>('deliverMessage');
/**
 * A message delivered with an answer: caught now by a waiting catch or boundary event, or kept until it is
 * caught or expires. The validator refuses, recording nothing, a message the pathway can never catch.
 */
export const correlateMessageUpdate = defineUpdate<CorrelateMessageResult, [CorrelateMessageInput]>('correlateMessage');
export interface ChildEscalatedInput {
  /** The parent's call activity instance id (the child's `parentInstanceId`). */
  readonly childId: string;
  readonly escalationCode?: string;
}

/** A child pathway threw an escalation; the parent's call activity may catch it with a boundary event. */
export const childEscalatedSignal = defineSignal<[ChildEscalatedInput]>('childEscalated');

/**
 * Sent by the worker (worker/activity-failures.ts) when an activity of this run failed an attempt and will be
 * retried: the ops console finds cases by how long their activities have been failing, which the workflow itself
 * cannot see until the retries run out.
 */
export const activityFailingSignal = defineSignal<[ActivityFailingInput]>(ACTIVITY_FAILING_SIGNAL);
/**
 * A person ends the pathway (`throughcare case terminate`): every open task and incident is cancelled with the
 * reason, child pathways are cancelled (closing their tasks), and the run completes with status `terminated`.
 * The only way a person ends a case early; Temporal's own terminate would run none of this.
 */
export const terminatePathwayUpdate = defineUpdate<TerminatePathwayResult, [TerminatePathwayInput]>('terminatePathway');

/** Moves the running pathway to another version of its process (workflows/pathway/migrate.ts); ops only. */
export interface MigratePathwayInput {
  readonly ir: PathwayIR;
  /** `<pathway id>@<version>` of the version moved to. */
  readonly pathwayVersionId: string;
  readonly mapping?: ElementMapping;
  readonly migratedBy: string;
}
export interface MigratePathwayResult {
  readonly pathwayVersionId: string;
  readonly moves: MigrationMove[];
}
/** Failure type of the `migratePathway` validator: a refused plan changes nothing. */
export const MIGRATION_REFUSED = 'MIGRATION_REFUSED';
export const migratePathwayUpdate = defineUpdate<MigratePathwayResult, [MigratePathwayInput]>('migratePathway');
/** The plan a migration would follow, without applying it: the per-case dry run. */
export const migrationPlanQuery = defineQuery<
  { ok: true; moves: MigrationMove[] } | { ok: false; problems: string[] },
  [Pick<MigratePathwayInput, 'ir' | 'mapping'>]
>('migrationPlan');
/** Where the pathway is: status, variables, open tasks with due dates, pending timers, trail. */
export const stateQuery = defineQuery<PathwayView>('state');

/** Input of every service-task activity: one object, so activities can grow fields without breaking. */
export interface ServiceTaskActivityInput {
  readonly caseId: string;
  readonly processId: string;
  readonly elementId: string;
  /** Unique per execution of the element: an idempotency key for the activity's side effects. */
  readonly activityId: string;
  readonly variables: Variables;
  readonly headers: Record<string, string>;
  /** Set when the step follows a person's task completion: whom its records name (see ActingPerson). */
  readonly actedBy?: ActingPerson;
}

/** What a service-task activity may return: variables for the pathway (via its output mappings). */
export type ServiceTaskActivityResult = Variables | undefined | null | void;

export type OpenTaskActivityInput = Extract<PathwayCommand, { type: 'openUserTask' }> & {
  readonly caseId: string;
  readonly processId: string;
  readonly pathwayVersionId?: string;
};
export type CloseTaskActivityInput = Extract<PathwayCommand, { type: 'closeUserTask' }> & {
  readonly caseId: string;
  readonly processId: string;
  readonly completedBy?: string;
  /** The person who completed it, when the completion said (its audit event names them). */
  readonly actedBy?: ActingPerson;
  /** The completion that completed it and when the workflow took it, when it carried an id (for the worklist). */
  readonly completionId?: string;
  readonly completedAt?: string;
};

export type RaiseIncidentActivityInput = Extract<PathwayCommand, { type: 'raiseIncident' }> & {
  readonly caseId: string;
  readonly processId: string;
  readonly pathwayVersionId?: string;
};
export type CloseIncidentActivityInput = Extract<PathwayCommand, { type: 'closeIncident' }> & {
  readonly caseId: string;
  readonly processId: string;
  /** Who resolved it (the `completeTask` of its task); absent when it was cancelled with its element. */
  readonly resolvedBy?: string;
  /** The person who resolved it, when the completion said (its audit event names them). */
  readonly actedBy?: ActingPerson;
  readonly completionId?: string;
  readonly resolvedAt?: string;
};

/** The activities the shell itself calls (implemented by the worklist and pathway store activities). */
export interface PathwayShellActivities {
  /** Projects an opened user task into the worklist (idempotent by taskId). */
  openTask(input: OpenTaskActivityInput): Promise<void>;
  /** Marks a user task completed or cancelled in the worklist (idempotent by taskId). */
  closeTask(input: CloseTaskActivityInput): Promise<void>;
  /** The latest deployed IR of a process id, for call activities not pinned in `calledPathways`. */
  resolvePathway(input: { processId: string }): Promise<PathwayIR>;
  /** Records an incident and opens the worklist task that resolves it (idempotent by incident id). */
  raiseIncident(input: RaiseIncidentActivityInput): Promise<void>;
  /** Records how an incident ended and closes its worklist task (idempotent by incident id). */
  closeIncident(input: CloseIncidentActivityInput): Promise<void>;
}

type ActivityFunction = (input: unknown) => Promise<unknown>;

const SHELL_ACTIVITY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
};

const shellActivities = proxyActivities<PathwayShellActivities>(SHELL_ACTIVITY_OPTIONS);

// One proxy per retry count: a service task's `retries` is its total number of attempts, as in Zeebe.
const serviceTaskProxies = new Map<number, Record<string, ActivityFunction>>();
function serviceTaskActivities(retries: number): Record<string, ActivityFunction> {
  let proxy = serviceTaskProxies.get(retries);
  if (!proxy) {
    proxy = proxyActivities<Record<string, ActivityFunction>>({
      startToCloseTimeout: '5 minutes',
      retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: Math.max(1, retries) },
    });
    serviceTaskProxies.set(retries, proxy);
  }
  return proxy;
}

/**
 * What a failed activity tells an incident: attempts made (its retries, when they ran out) and whether the last
 * failure was retryable.
 */
function attemptsOf(error: unknown, retries: number): { attempts?: number; retryable?: boolean } {
  if (!(error instanceof ActivityFailure)) return {};
  const cause = error.cause;
  const retryable = cause instanceof ApplicationFailure ? !cause.nonRetryable : undefined;
  return {
    ...(error.retryState === 'MAXIMUM_ATTEMPTS_REACHED' ? { attempts: Math.max(1, retries) } : {}),
    ...(error.retryState === 'NON_RETRYABLE_FAILURE'
      ? { retryable: false }
      : retryable === undefined
        ? {}
        : { retryable }),
  };
}

/** The BPMN error code of a failure: the ApplicationFailure type, under any activity/child wrappers. */
function failureCode(error: unknown): { errorCode?: string; message: string } {
  let cause: unknown = error;
  while (cause instanceof ActivityFailure || cause instanceof ChildWorkflowFailure) cause = cause.cause;
  if (!(cause instanceof ApplicationFailure))
    return { message: error instanceof Error ? error.message : String(error) };
  return cause.type ? { errorCode: cause.type, message: cause.message } : { message: cause.message };
}

function shouldContinueAsNew(historyLengthLimit: number | undefined): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || (historyLengthLimit !== undefined && info.historyLength >= historyLengthLimit);
}

function nowIso(): string {
  // Workflow time: the SDK makes Date deterministic (the activation's time), so replay sees the same instant.
  return new Date().toISOString();
}

/**
 * Gates the stuck signals (workflows/pathway/stuck-signals.ts): each is an UpsertWorkflowSearchAttributes command,
 * which histories recorded before do not have.
 */
const STUCK_SIGNALS_PATCH = 'stuck-signals';

/** A stuck signal as the SDK's typed update (a datetime as a Date; null removes the attribute). */
function signalUpdate(name: StuckSignalName, value: StuckSignalValue): SearchAttributeUpdatePair {
  const key = STUCK_SIGNAL_KEYS[name];
  const typed = value !== null && key.type === 'DATETIME' ? new Date(value as string) : value;
  return { key, value: typed } as SearchAttributeUpdatePair;
}

/** Gates message buffering: histories recorded before it dropped a message nothing waited for. */
const BUFFER_MESSAGES_PATCH = 'buffer-messages';

/**
 * Gates incidents: a pathway started before them fails when a failure is not caught, and its history replays
 * only if it still does. Decided once, at the start of the case (carried in the state across continue-as-new):
 * a running case started before keeps failing as it did; a new case raises incidents.
 */
const INCIDENTS_PATCH = 'incidents';
/** A pathway ended by a terminate end event waits for its cancelled child pathways to close their tasks. */
const WAIT_FOR_CANCELLED_CHILDREN_PATCH = 'wait-for-cancelled-children';
/**
 * Gates the completion's answer waiting for the steps it started (service tasks, worklist projections) to
 * settle: a clinician who submits a form lands on the next task of the case, which exists by then. Histories
 * recorded before answered at once, and replay the same way.
 */
const SETTLE_BEFORE_ANSWER_PATCH = 'settle-before-answer';
/**
 * The longest a completion's answer waits for its steps to settle: a service task slowed by a failing Spine
 * retries for minutes, and the clinician is then answered with the completion alone (the next task follows).
 */
const SETTLE_BEFORE_ANSWER_LIMIT = '3 seconds';

function expiryAfter(timeToLive: string): string {
  const duration = parseIsoDuration(timeToLive) ?? parseIsoDuration(DEFAULT_MESSAGE_TIME_TO_LIVE);
  return duration ? formatInstant(addIsoDuration(Date.now(), duration)) : nowIso();
}

function refuse(type: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}

/** Catch events where a running pathway can catch it (a message start event only starts one). */
function catchEventsOf(catchers: readonly MessageCatcher[]): CatchEventRef[] {
  return catchers.filter((c) => c.kind !== 'startEvent').map(({ kind: _kind, ...ref }) => ref);
}

/** Why a message was neither caught nor kept, for its sender. */
function ignoredReason(reach: MessageReach, message: CorrelateMessageInput, kept: boolean, timeToLive: string): string {
  if (kept) {
    const duration = parseIsoDuration(timeToLive);
    return duration && isZeroDuration(duration)
      ? 'nothing waits for it now and its time to live is zero'
      : 'nothing waits for it now';
  }
  if (reach.here.length > 0 && catchEventsOf(reach.here).length === 0)
    return 'only a message start event of this pathway names it: that starts a pathway, a running one never catches it';
  if (Object.keys(reach.called).length > 0 && !message.holdForCalledPathways)
    return 'only pathways this one calls catch it, and it was not to be kept for them here (a running child pathway caught or kept it)';
  return 'nothing in this pathway catches it, and no pathway it calls is known to';
}

/** The called pathways a message is held for: those with an element that catches it in a running pathway. */
function heldForOf(reach: MessageReach): string[] {
  return Object.entries(reach.called)
    .filter(([, catchers]) => catchEventsOf(catchers).length > 0)
    .map(([processId]) => processId);
}

// ---- the workflow -----------------------------------------------------------------------------------------

export async function runPathway(input: RunPathwayInput): Promise<RunPathwayResult> {
  const { caseId } = input;
  // Both change only when ops move the case to another version of its pathway (`migratePathway`).
  let ir = input.ir;
  let pathwayVersionId = input.pathwayVersionId;
  const scopes = new Map<string, CancellationScope>();
  let inFlight = 0;
  let projectionsInFlight = 0;
  let serviceTasksInFlight = 0;
  let version = 0;
  const completedBy = new Map<string, string>();
  // Completions with an id, kept for the life of the case (carried over continue-as-new): the server forgets an
  // update id when the run continues as new, so the workflow itself recognises the same completion sent again.
  const completions = new Map<string, TaskCompletion>(Object.entries(input.completions ?? {}));
  const completing = new Map<string, { completionId: string; completedAt: string }>();
  const actedBy = new Map<string, ActingPerson>();
  /** Who submitted the completion that closes this task or incident, and its id: read once, then forgotten. */
  function takeSubmission(id: string) {
    const submission = { by: completedBy.get(id), completion: completing.get(id), person: actedBy.get(id) };
    completedBy.delete(id);
    completing.delete(id);
    actedBy.delete(id);
    return submission;
  }
  // The person each running service task acts for, by activity id: set when a completion's step schedules it,
  // passed on to the steps its own completion schedules, kept while it waits in an incident (a retry acts for
  // the same person), forgotten when it ends. Only the activities' inputs change with it, never the commands.
  const attributions = new Map<string, ActingPerson>(Object.entries(input.attributions ?? {}));
  // Activities the worker reported failing, by activity type, until one of that type settles; reports for a type
  // with nothing in flight (one that arrives after its activity settled) are stale and dropped.
  const failing = new Map<string, FailingActivity>();
  const inFlightByType = new Map<string, number>();
  function scheduled(activityType: string): void {
    inFlightByType.set(activityType, (inFlightByType.get(activityType) ?? 0) + 1);
  }
  const keepsStuckSignals = patched(STUCK_SIGNALS_PATCH);
  let publishedSignals: StuckSignals | undefined;
  /** Upserts the stuck signals that changed since the last upsert (none at all in histories from before them). */
  function publishStuckSignals(): void {
    if (!keepsStuckSignals) return;
    const next = stuckSignals({
      state,
      failing,
      ...(pathwayVersionId ? { pathwayVersionId } : {}),
      ...(caseSettingOf() ? { caseSetting: caseSettingOf() } : {}),
    });
    const changed = Object.entries(changedSignals(publishedSignals, next)) as [StuckSignalName, StuckSignalValue][];
    if (changed.length === 0) return;
    upsertSearchAttributes(changed.map(([name, value]) => signalUpdate(name, value)));
    publishedSignals = next;
  }
  function caseSettingOf(): string | undefined {
    const setting = state.variables['settingOdsCode'];
    return typeof setting === 'string' && setting !== '' ? setting : input.caseSetting;
  }
  function settled(activityType: string): void {
    const left = (inFlightByType.get(activityType) ?? 1) - 1;
    if (left > 0) inFlightByType.set(activityType, left);
    else inFlightByType.delete(activityType);
    if (failing.delete(activityType)) version += 1;
  }

  // Messages the parent kept for this pathway: held in turn for the pathways this one calls that catch them.
  const inherited = (input.messages ?? []).map(({ heldFor: _heldFor, ...message }) => {
    const heldFor = heldForOf(messageReach(ir, input.calledPathways, message.messageName));
    return heldFor.length > 0 ? { ...message, heldFor } : message;
  });
  // The state exists before any handler is registered, so a query or update can never see it unset.
  const first = input.resumeState
    ? { state: input.resumeState, commands: [] }
    : start(ir, input.variables ?? {}, nowIso(), {
        ...(input.startEventId ? { startEventId: input.startEventId } : {}),
        ...(inherited.length > 0 ? { messages: inherited } : {}),
        incidents: patched(INCIDENTS_PATCH),
      });
  let state: PathwayState = first.state;
  const startCommands = first.commands;
  let terminatedByPerson = false;

  /** Feeds an event to the interpreter and carries out its commands; `person`: whose action the event is. */
  function dispatch(event: PathwayEvent, person?: ActingPerson): Step {
    const step = handle(ir, state, event, nowIso());
    state = step.state;
    version += 1;
    execute(step.commands, person);
    return step;
  }

  function track<T>(promise: Promise<T>): Promise<T> {
    inFlight += 1;
    return promise.finally(() => {
      inFlight -= 1;
      version += 1;
    });
  }

  /** Worklist projections must land even when the pathway ends in the same step that closed the task. */
  function project(promise: Promise<void>, what: string, taskId: string): void {
    projectionsInFlight += 1;
    scheduled(what);
    void track(promise)
      .catch((error: unknown) => log.error(`${what} failed`, { taskId, error: String(error) }))
      .finally(() => {
        projectionsInFlight -= 1;
        settled(what);
      });
  }

  function runInScope(id: string, body: () => Promise<void>): void {
    const scope = new CancellationScope();
    scopes.set(id, scope);
    void track(
      scope.run(body).catch((error: unknown) => {
        if (!isCancellation(error)) log.error('pathway scope failed', { id, error: String(error) });
      }),
    ).finally(() => scopes.delete(id));
  }

  function execute(commands: readonly PathwayCommand[], person?: ActingPerson): void {
    for (const command of commands) {
      switch (command.type) {
        case 'openUserTask':
          project(
            shellActivities.openTask({
              ...command,
              caseId,
              processId: ir.processId,
              ...(pathwayVersionId ? { pathwayVersionId } : {}),
            }),
            'openTask',
            command.taskId,
          );
          break;
        case 'closeUserTask': {
          const { by, completion, person: completer } = takeSubmission(command.taskId);
          project(
            shellActivities.closeTask({
              ...command,
              caseId,
              processId: ir.processId,
              ...(by ? { completedBy: by } : {}),
              ...(completer ? { actedBy: completer } : {}),
              ...completion,
            }),
            'closeTask',
            command.taskId,
          );
          break;
        }
        case 'raiseIncident':
          project(
            shellActivities.raiseIncident({
              ...command,
              caseId,
              processId: ir.processId,
              ...(pathwayVersionId ? { pathwayVersionId } : {}),
            }),
            'raiseIncident',
            command.incident.id,
          );
          break;
        case 'closeIncident': {
          // Resolved through the `completeTask` update of its task: who, and the completion, as for a user task.
          const { by, completion, person: resolver } = takeSubmission(command.incidentId);
          project(
            shellActivities.closeIncident({
              ...command,
              caseId,
              processId: ir.processId,
              ...(by ? { resolvedBy: by } : {}),
              ...(resolver ? { actedBy: resolver } : {}),
              ...(completion ? { completionId: completion.completionId, resolvedAt: completion.completedAt } : {}),
            }),
            'closeIncident',
            command.incidentId,
          );
          break;
        }
        case 'executeServiceTask': {
          // A retried step keeps the person it first acted for; a new one acts for the person of this event.
          const actor = attributions.get(command.activityId) ?? person;
          if (actor) attributions.set(command.activityId, actor);
          runInScope(command.activityId, async () => {
            const activity = serviceTaskActivities(command.retries)[command.taskType];
            const activityInput: ServiceTaskActivityInput = {
              caseId,
              processId: ir.processId,
              elementId: command.elementId,
              activityId: command.activityId,
              variables: command.input,
              headers: command.headers,
              ...(actor ? { actedBy: actor } : {}),
            };
            serviceTasksInFlight += 1;
            scheduled(command.taskType);
            try {
              const result = (await (activity as ActivityFunction)(activityInput)) as ServiceTaskActivityResult;
              attributions.delete(command.activityId);
              dispatch({ type: 'serviceTaskCompleted', activityId: command.activityId, result: result ?? {} }, actor);
            } catch (error) {
              if (isCancellation(error)) throw error;
              dispatch(
                {
                  type: 'serviceTaskFailed',
                  activityId: command.activityId,
                  ...failureCode(error),
                  ...attemptsOf(error, command.retries),
                },
                actor,
              );
              // Kept only while the step waits in an incident, for its retry.
              if (!state.instances[command.activityId]?.incidentId) attributions.delete(command.activityId);
            } finally {
              serviceTasksInFlight -= 1;
              settled(command.taskType);
            }
          });
          break;
        }
        case 'cancelServiceTask':
          attributions.delete(command.activityId);
          scopes.get(command.activityId)?.cancel();
          break;
        case 'startChildPathway':
          runInScope(command.childId, async () => {
            try {
              const childIr =
                input.calledPathways?.[command.processId] ??
                (await shellActivities.resolvePathway({ processId: command.processId }));
              // A retried call activity starts a child of its own: the failed child's id (and so the ids of
              // everything it recorded: tasks, documents) must not be reused by a run from scratch.
              const suffix = command.rerun ? `/${command.rerun}` : '';
              const child = await startChild(runPathway, {
                workflowId: `${workflowInfo().workflowId}/${command.childId}${suffix}`,
                args: [
                  {
                    ir: childIr,
                    variables: command.variables,
                    caseId,
                    parentInstanceId: command.childId,
                    ...(caseSettingOf() ? { caseSetting: caseSettingOf() } : {}),
                    ...(input.calledPathways ? { calledPathways: input.calledPathways } : {}),
                    ...(command.messages ? { messages: command.messages } : {}),
                  },
                ],
              });
              const result = await child.result();
              dispatch({ type: 'childCompleted', childId: command.childId, variables: result.variables });
            } catch (error) {
              if (isCancellation(error)) throw error;
              dispatch({ type: 'childFailed', childId: command.childId, ...failureCode(error) });
            }
          });
          break;
        case 'cancelChildPathway':
          scopes.get(command.childId)?.cancel();
          break;
        case 'escalate': {
          const parent = workflowInfo().parent;
          if (!parent || !input.parentInstanceId) {
            log.info('escalation not caught: the pathway has no parent', { elementId: command.elementId });
            break;
          }
          void track(
            getExternalWorkflowHandle(parent.workflowId).signal(childEscalatedSignal, {
              childId: input.parentInstanceId,
              ...(command.escalationCode ? { escalationCode: command.escalationCode } : {}),
            }),
          ).catch((error: unknown) => log.error('escalation signal failed', { error: String(error) }));
          break;
        }
        case 'startTimer':
        case 'cancelTimer':
        case 'subscribeMessage':
        case 'unsubscribeMessage':
        case 'complete':
        case 'fail':
          // Timers and subscriptions are read from the state by the loop below; the end by its status.
          break;
      }
    }
  }

  async function closeOpenTasksOnCancel(): Promise<void> {
    const open = Object.values(state.instances).filter((instance) => instance.wait.type === 'userTask');
    // Incident tasks too (only pathways started with incidents have any, so older histories replay as they were).
    const incidents = openIncidents(state);
    await CancellationScope.nonCancellable(() =>
      Promise.all([
        ...open.map((instance) =>
          shellActivities.closeTask({
            type: 'closeUserTask',
            taskId: instance.id,
            elementId: instance.elementId,
            outcome: 'cancelled',
            caseId,
            processId: ir.processId,
          }),
        ),
        ...incidents.map((incident) =>
          shellActivities.closeIncident({
            type: 'closeIncident',
            incidentId: incident.id,
            instanceId: incident.instanceId,
            elementId: incident.elementId,
            resolution: 'cancelled',
            reason: 'the case was cancelled',
            caseId,
            processId: ir.processId,
          }),
        ),
      ]),
    );
  }

  setHandler(stateQuery, () => describePathway(ir, state));

  setHandler(
    completeTaskUpdate,
    async (update) => {
      const taskId = update.taskId;
      // The same completion again (only reaches here once the run has continued as new): the first answer.
      const earlier = completions.get(taskId);
      if (earlier && earlier.completionId === update.completionId) return earlier.result;
      // The task an incident opened resolves it: its form says retry, skip or correct-and-retry.
      const incident = findOpenIncident(state, taskId);
      const resolution = incident ? readIncidentResolution(update.data) : undefined;
      if (!findOpenTask(state, taskId) && (!incident || typeof resolution !== 'object')) {
        throw ApplicationFailure.create({
          type: 'TASK_NOT_OPEN',
          message: `Task '${taskId}' is not open`,
          nonRetryable: true,
        });
      }
      if (update.completedBy) completedBy.set(taskId, update.completedBy);
      const completedAt = nowIso();
      if (update.completionId) completing.set(taskId, { completionId: update.completionId, completedAt });
      if (update.actedBy) actedBy.set(taskId, update.actedBy);
      // Resolving an incident is audited in the resolver's name, but a retried step keeps the person it acted for.
      if (typeof resolution === 'object') dispatch({ type: 'incidentResolved', incidentId: taskId, ...resolution });
      else dispatch({ type: 'taskCompleted', taskId, data: update.data ?? {} }, update.actedBy);
      if (patched(SETTLE_BEFORE_ANSWER_PATCH)) {
        // condition() with a timeout is a durable timer, cancelled as soon as the steps settle.
        await condition(() => projectionsInFlight === 0 && serviceTasksInFlight === 0, SETTLE_BEFORE_ANSWER_LIMIT);
      }
      const result: CompleteTaskResult = { taskId, completedAt, status: state.status };
      if (update.completionId) completions.set(taskId, { completionId: update.completionId, result });
      return result;
    },
    {
      validator: (update: CompleteTaskInput) => {
        if (typeof update?.taskId !== 'string' || update.taskId === '') throw new Error('taskId is required');
        if (update.actedBy !== undefined && !isActingPerson(update.actedBy))
          throw new Error('actedBy must name the person who acted: id, role and subject');
        if (update.completionId !== undefined) {
          if (typeof update.completionId !== 'string' || update.completionId === '')
            throw new Error('completionId must be a non-empty string');
          if (completions.get(update.taskId)?.completionId === update.completionId) return;
          for (const [otherTaskId, other] of completions) {
            if (other.completionId === update.completionId)
              throw new Error(`Completion '${update.completionId}' already completed task '${otherTaskId}'`);
          }
        }
        if (
          update.data !== undefined &&
          (typeof update.data !== 'object' || update.data === null || Array.isArray(update.data))
        ) {
          throw new Error('data must be an object of variables');
        }
        if (state.status !== 'active')
          throw new Error(`The pathway is ${state.status}; task '${update.taskId}' cannot be completed`);
        if (findOpenTask(state, update.taskId)) return;
        if (findOpenIncident(state, update.taskId)) {
          const resolution = readIncidentResolution(update.data);
          if (typeof resolution === 'string') throw new Error(`Incident '${update.taskId}': ${resolution}`);
          const notSkippable = resolution.action === 'skip' ? whyNotSkippable(ir, state, update.taskId) : undefined;
          if (notSkippable) throw new Error(`Incident '${update.taskId}' cannot be skipped: ${notSkippable}`);
          return;
        }
        const known =
          state.trail.some((entry) => entry.instanceId === update.taskId) ||
          state.incidents?.[update.taskId] !== undefined;
        throw new Error(
          known
            ? `Task '${update.taskId}' is already completed or closed`
            : `Task '${update.taskId}' is not a task of this pathway`,
        );
      },
    },
  );

  setHandler(
    terminatePathwayUpdate,
    (termination): TerminatePathwayResult => {
      terminatedByPerson = true;
      dispatch({ type: 'terminate', reason: termination.reason.trim(), terminatedBy: termination.terminatedBy });
      return { status: 'terminated', terminatedAt: state.termination?.at ?? nowIso() };
    },
    {
      validator: (termination: TerminatePathwayInput) => {
        if (typeof termination?.reason !== 'string' || termination.reason.trim() === '')
          throw refuse(TERMINATE_PATHWAY_REFUSALS.invalid, 'a reason is required: it is kept with the case');
        if (termination.reason.length > MAX_TERMINATION_REASON)
          throw refuse(
            TERMINATE_PATHWAY_REFUSALS.invalid,
            `the reason is longer than ${MAX_TERMINATION_REASON} characters`,
          );
        if (typeof termination.terminatedBy !== 'string' || termination.terminatedBy === '')
          throw refuse(TERMINATE_PATHWAY_REFUSALS.invalid, 'terminatedBy is required');
        if (state.status !== 'active')
          throw refuse(TERMINATE_PATHWAY_REFUSALS.notActive, `The pathway is ${state.status}; it cannot be terminated`);
      },
    },
  );

  setHandler(migrationPlanQuery, (request) => {
    const plan = planMigration(ir, request.ir, state, request.mapping);
    return plan.ok ? { ok: true, moves: plan.moves } : plan;
  });

  setHandler(
    migratePathwayUpdate,
    (migration): MigratePathwayResult => {
      const plan = planMigration(ir, migration.ir, state, migration.mapping);
      // The validator has just checked it; a plan refused here would be a bug, and changes nothing.
      if (!plan.ok) throw refuse(MIGRATION_REFUSED, plan.problems.join('; '));
      state = plan.state;
      ir = migration.ir;
      pathwayVersionId = migration.pathwayVersionId;
      version += 1;
      log.info('pathway migrated', { pathwayVersionId, migratedBy: migration.migratedBy });
      return { pathwayVersionId, moves: plan.moves };
    },
    {
      validator: (migration: MigratePathwayInput) => {
        if (typeof migration?.pathwayVersionId !== 'string' || typeof migration.migratedBy !== 'string')
          throw refuse(MIGRATION_REFUSED, 'pathwayVersionId and migratedBy are required');
        if (typeof migration.ir !== 'object' || migration.ir === null)
          throw refuse(MIGRATION_REFUSED, 'the version to move to is missing');
        const plan = planMigration(ir, migration.ir, state, migration.mapping);
        if (!plan.ok) throw refuse(MIGRATION_REFUSED, plan.problems.join('; '));
      },
    },
  );

  setHandler(activityFailingSignal, (failure) => {
    if (typeof failure.activityType !== 'string' || !Number.isInteger(failure.attempt)) return;
    if (!inFlightByType.has(failure.activityType)) return;
    failing.set(failure.activityType, {
      attempts: failure.attempt,
      errorType: String(failure.errorType || 'Error'),
      reportedAt: nowIso(),
    });
    version += 1;
  });

  setHandler(childEscalatedSignal, (escalation) => {
    dispatch({
      type: 'childEscalated',
      childId: escalation.childId,
      ...(escalation.escalationCode ? { escalationCode: escalation.escalationCode } : {}),
    });
  });

  setHandler(deliverMessageSignal, (message) => {
    // Kept (for the default time to live) only when this pathway itself can catch it: a signal carries no word
    // on whether a running child took it, so it is never held for called pathways.
    const keep =
      patched(BUFFER_MESSAGES_PATCH) && catchEventsOf(messageReach(ir, undefined, message.name).here).length > 0;
    dispatch({
      type: 'messageReceived',
      messageName: message.name,
      correlationKey: message.correlationKey,
      ...(message.variables ? { variables: message.variables } : {}),
      ...(keep ? { expiresAt: expiryAfter(DEFAULT_MESSAGE_TIME_TO_LIVE) } : {}),
    });
  });

  setHandler(
    correlateMessageUpdate,
    (message): CorrelateMessageResult => {
      // Marks the history as keeping messages, as the signal does (a no-op for the update's own behaviour).
      patched(BUFFER_MESSAGES_PATCH);
      const reach = messageReach(ir, input.calledPathways, message.name);
      const here = catchEventsOf(reach.here);
      const heldFor = message.holdForCalledPathways ? heldForOf(reach) : [];
      const timeToLive = message.timeToLive ?? DEFAULT_MESSAGE_TIME_TO_LIVE;
      const keep = here.length > 0 || heldFor.length > 0;
      const step = dispatch({
        type: 'messageReceived',
        messageName: message.name,
        correlationKey: message.correlationKey,
        ...(message.variables ? { variables: message.variables } : {}),
        ...(keep ? { expiresAt: expiryAfter(timeToLive) } : {}),
        ...(heldFor.length > 0 ? { heldFor } : {}),
      });
      const processId = ir.processId;
      const outcome = step.message ?? { outcome: 'dropped' };
      switch (outcome.outcome) {
        case 'correlated': {
          const name = ir.elements[outcome.elementId]?.name;
          return {
            outcome: 'correlated',
            processId,
            elementId: outcome.elementId,
            ...(name ? { name } : {}),
            instanceId: outcome.instanceId,
            status: state.status,
          };
        }
        case 'buffered':
          return {
            outcome: 'buffered',
            processId,
            messageId: outcome.messageId,
            expiresAt: outcome.expiresAt,
            catchEvents: [...here, ...heldFor.flatMap((id) => catchEventsOf(reach.called[id] ?? []))],
          };
        case 'dropped':
          return { outcome: 'ignored', processId, reason: ignoredReason(reach, message, keep, timeToLive) };
      }
    },
    {
      validator: (message: CorrelateMessageInput) => {
        if (typeof message?.name !== 'string' || message.name === '')
          throw refuse(CORRELATE_MESSAGE_REFUSALS.invalid, 'name is required');
        if (typeof message.correlationKey !== 'string')
          throw refuse(CORRELATE_MESSAGE_REFUSALS.invalid, 'correlationKey must be a string');
        if (
          message.variables !== undefined &&
          (typeof message.variables !== 'object' || message.variables === null || Array.isArray(message.variables))
        ) {
          throw refuse(CORRELATE_MESSAGE_REFUSALS.invalid, 'variables must be an object of variables');
        }
        if (message.timeToLive !== undefined && !parseIsoDuration(String(message.timeToLive))) {
          throw refuse(
            CORRELATE_MESSAGE_REFUSALS.invalid,
            `timeToLive must be an ISO 8601 duration such as PT1H or P1D, not '${String(message.timeToLive)}'`,
          );
        }
        if (state.status !== 'active') {
          throw refuse(
            CORRELATE_MESSAGE_REFUSALS.notActive,
            `The pathway is ${state.status}; message '${message.name}' cannot be delivered`,
          );
        }
        if (!canEverCatch(messageReach(ir, input.calledPathways, message.name))) {
          throw refuse(
            CORRELATE_MESSAGE_REFUSALS.notCatchable,
            `No message catch event, boundary event, event-based gateway or message start event of pathway ` +
              `'${ir.processId}' or the pathways it calls catches message '${message.name}'`,
          );
        }
      },
    },
  );

  execute(startCommands);

  try {
    while (state.status === 'active') {
      publishStuckSignals();
      const timer = nextTimer(state);
      const seen = version;
      if (timer) {
        const wait = Date.parse(timer.dueAt) - Date.now();
        if (wait <= 0) {
          dispatch({ type: 'timerFired', timerId: timer.id });
          continue;
        }
        // condition() with a timeout is a durable timer the SDK cancels when something else happens first.
        await condition(() => version !== seen, wait);
      } else {
        await condition(() => version !== seen);
      }
      if (state.status === 'active' && inFlight === 0 && shouldContinueAsNew(input.historyLengthLimit)) {
        await condition(allHandlersFinished);
        // Attributions are those of this run's waiting steps, not the ones this run started with.
        const { attributions: _started, ...carried } = input;
        await continueAsNew<typeof runPathway>({
          ...carried,
          ir,
          ...(pathwayVersionId ? { pathwayVersionId } : {}),
          variables: state.variables,
          resumeState: state,
          ...(completions.size > 0 ? { completions: Object.fromEntries(completions) } : {}),
          ...(attributions.size > 0 ? { attributions: Object.fromEntries(attributions) } : {}),
        });
      }
    }
  } catch (error) {
    // A cancelled case must not leave its tasks open in clinicians' worklists.
    if (isCancellation(error)) await closeOpenTasksOnCancel();
    throw error;
  }

  // Ended by a person or by a terminate end event: children are cancelled first, so that they close their own
  // tasks before this run ends (a child still running when its parent closes is terminated by the server, and
  // runs no code, so its tasks would stay open in worklists with nobody able to complete them).
  const waitForChildren =
    terminatedByPerson || (state.status === 'terminated' && patched(WAIT_FOR_CANCELLED_CHILDREN_PATCH));
  await condition(() => projectionsInFlight === 0 && allHandlersFinished() && (!waitForChildren || scopes.size === 0));
  publishStuckSignals();
  if (state.status === 'failed') {
    const error = state.error ?? { code: 'PATHWAY_FAILED', message: 'The pathway failed' };
    throw ApplicationFailure.create({ type: error.code, message: error.message, nonRetryable: true, details: [error] });
  }
  return { status: state.status === 'terminated' ? 'terminated' : 'completed', variables: state.variables };
}
