/**
 * The pathway interpreter's state, the commands it asks its shell to carry out and the events the shell
 * feeds back. All plain JSON: the state is carried across continue-as-new and returned by the `state` query;
 * commands and events are the only way the pure interpreter touches the world.
 */

export type Variables = Record<string, unknown>;

export const PATHWAY_STATUSES = ['active', 'completed', 'terminated', 'failed'] as const;
export type PathwayStatus = (typeof PATHWAY_STATUSES)[number];

/** An error a pathway ends with, or a child/activity failed with. `code` is what error events match. */
export interface PathwayError {
  readonly code: string;
  readonly message: string;
  readonly elementId?: string;
}

/** What an active element instance is waiting for. */
export type Wait =
  | {
      readonly type: 'userTask';
      readonly formId?: string;
      readonly assignee?: string;
      readonly candidateGroups: string[];
      readonly candidateUsers: string[];
      readonly dueDate?: string;
      readonly followUpDate?: string;
      readonly priority?: number;
    }
  | { readonly type: 'serviceTask'; readonly taskType: string }
  | { readonly type: 'callActivity'; readonly processId: string }
  | { readonly type: 'timer'; readonly timerId: string }
  | { readonly type: 'message'; readonly subscriptionId: string }
  | { readonly type: 'eventGateway' }
  /** Entering the element failed (a FEEL error in its inputs, a condition, a date, a timer): entered again on retry. */
  | { readonly type: 'entering'; readonly viaFlow?: string }
  /**
   * The element's work is done but its output mappings failed: they are evaluated again, with `result`, on retry.
   * `propagate: false` is a call activity whose child's variables only leave through output mappings.
   */
  | { readonly type: 'leaving'; readonly result: Variables; readonly propagate: boolean };

/** An element a token is waiting in (user task, service task, call activity, catch event, event gateway). */
export interface ElementInstance {
  /** `<elementId>#<n>`: also the task id, activity id or child id the shell uses. */
  readonly id: string;
  readonly elementId: string;
  readonly enteredAt: string;
  /** Local variables from the element's input mappings. */
  readonly local: Variables;
  readonly wait: Wait;
  /** Set while the instance waits in an incident: the open incident's id (see PathwayIncident). */
  readonly incidentId?: string;
}

/**
 * What went wrong at an element that nothing in the pathway catches: a service task whose activity ran out of
 * attempts (or failed for good), a called pathway that failed, an element that could not be entered or left
 * (`enteringFailed`: a FEEL error in its inputs, a condition, a date, a timer; `leavingFailed`: in its output
 * mappings). The token waits at the element until a person retries or skips it; other branches and timers go on.
 */
export const INCIDENT_KINDS = ['activityFailed', 'childFailed', 'enteringFailed', 'leavingFailed'] as const;
export type IncidentKind = (typeof INCIDENT_KINDS)[number];

/** How an incident ended: retried (its element runs again), skipped (its element is left without output), or cancelled with its element. */
export const INCIDENT_RESOLUTIONS = ['retried', 'skipped', 'cancelled'] as const;
export type IncidentResolution = (typeof INCIDENT_RESOLUTIONS)[number];

export interface PathwayIncident {
  /** `<instance id>/incident#<n>` (from the state's counter): also the id of the task that resolves it. */
  readonly id: string;
  readonly instanceId: string;
  readonly elementId: string;
  readonly elementName?: string;
  readonly kind: IncidentKind;
  /** The service task's type (`pds.lookupPatient`), or the called pathway's process id. */
  readonly taskType?: string;
  readonly calledProcessId?: string;
  /** The failure's type (ApplicationFailure.type, a BPMN error code) or one of INCIDENT_CODES. */
  readonly errorCode: string;
  readonly message: string;
  /** Attempts made, when known (a service task that ran out of them). */
  readonly attempts?: number;
  /** Whether the last failure was retryable (false: the activity said trying again would not help). */
  readonly retryable?: boolean;
  readonly raisedAt: string;
  /** Set when it is resolved; the incident stays in the state so that a second resolution is told apart. */
  resolution?: {
    readonly outcome: IncidentResolution;
    readonly at: string;
    readonly reason?: string;
  };
}

/** Why a person ended the pathway (`terminatePathway`). */
export interface PathwayTermination {
  readonly reason: string;
  readonly terminatedBy: string;
  readonly at: string;
}

export interface PendingTimer {
  readonly id: string;
  /** The timer event (intermediate, boundary or event-gateway target) that fires. */
  readonly elementId: string;
  /** The element instance the timer belongs to (the activity of a boundary event, the catch or gateway). */
  readonly ownerId: string;
  readonly dueAt: string;
  /** For cycles: the interval (ISO duration) and repetitions still to fire after this one (null: no end). */
  readonly cycle?: { readonly interval: string; readonly remaining: number | null };
}

export interface MessageSubscription {
  readonly id: string;
  readonly elementId: string;
  readonly ownerId: string;
  readonly messageName: string;
  readonly correlationKey: string;
}

/**
 * A message no subscription was waiting for when it arrived, kept until `expiresAt` (its time to live), as
 * Zeebe buffers a published message: the oldest unexpired one with the same name and correlation key is
 * correlated as soon as a subscription for it opens, and each is correlated at most once.
 */
export interface BufferedMessage {
  /** `message:<name>#<n>`: deterministic, from the state's counter. */
  readonly id: string;
  readonly messageName: string;
  readonly correlationKey: string;
  readonly variables: Variables;
  readonly receivedAt: string;
  readonly expiresAt: string;
  /**
   * Process ids of called pathways (call activities of this pathway) that can catch it: the first call
   * activity of one of them to start takes it along to its child pathway, unless this pathway catches it first.
   */
  readonly heldFor?: readonly string[];
}

export interface TrailEntry {
  readonly elementId: string;
  readonly name?: string;
  readonly kind: string;
  readonly instanceId?: string;
  readonly enteredAt: string;
  leftAt?: string;
  /** How the element was left (`retried`: an element whose entry failed, entered again; `skipped`: by a person). */
  outcome?: 'completed' | 'cancelled' | 'interrupted' | 'failed' | 'fired' | 'retried' | 'skipped';
}

export interface PathwayState {
  readonly irVersion: number;
  readonly processId: string;
  status: PathwayStatus;
  variables: Variables;
  /** Counter behind every instance, timer and subscription id: deterministic by construction. */
  nextSeq: number;
  instances: Record<string, ElementInstance>;
  timers: Record<string, PendingTimer>;
  subscriptions: Record<string, MessageSubscription>;
  /** Messages waiting to be caught, oldest first. Absent in states from before messages were buffered. */
  bufferedMessages?: BufferedMessage[];
  /** Parallel joins: tokens that have arrived per gateway and incoming flow. */
  joins: Record<string, Record<string, number>>;
  trail: TrailEntry[];
  startedAt: string;
  endedAt?: string;
  error?: PathwayError;
  /**
   * Incidents by id, open and resolved. Present (even empty) when the pathway raises incidents: a failure
   * nothing catches then waits for a person instead of failing the pathway. Absent in states of pathways
   * started before incidents (the `incidents` patch): those still fail, as their histories did.
   */
  incidents?: Record<string, PathwayIncident>;
  /** Set when a person ended the pathway. */
  termination?: PathwayTermination;
}

/** What the shell must do. Ids are the interpreter's; the shell keys its promises and scopes by them. */
export type PathwayCommand =
  | {
      readonly type: 'openUserTask';
      readonly taskId: string;
      readonly elementId: string;
      readonly name?: string;
      readonly formId?: string;
      readonly assignee?: string;
      readonly candidateGroups: string[];
      readonly candidateUsers: string[];
      readonly dueDate?: string;
      readonly followUpDate?: string;
      readonly priority?: number;
      /** Process variables merged with the task's input mappings: what the form shows. */
      readonly input: Variables;
    }
  | {
      readonly type: 'closeUserTask';
      readonly taskId: string;
      readonly elementId: string;
      readonly outcome: 'completed' | 'cancelled';
      /** Why a cancelled task was withdrawn, when a person said (the pathway was terminated). */
      readonly reason?: string;
    }
  | {
      readonly type: 'executeServiceTask';
      readonly activityId: string;
      readonly elementId: string;
      readonly taskType: string;
      /** Attempts in total, for the activity retry policy. */
      readonly retries: number;
      readonly input: Variables;
      readonly headers: Record<string, string>;
    }
  | { readonly type: 'cancelServiceTask'; readonly activityId: string }
  | { readonly type: 'startTimer'; readonly timerId: string; readonly elementId: string; readonly dueAt: string }
  | { readonly type: 'cancelTimer'; readonly timerId: string }
  | {
      readonly type: 'subscribeMessage';
      readonly subscriptionId: string;
      readonly elementId: string;
      readonly messageName: string;
      readonly correlationKey: string;
    }
  | { readonly type: 'unsubscribeMessage'; readonly subscriptionId: string }
  | {
      readonly type: 'startChildPathway';
      readonly childId: string;
      readonly elementId: string;
      readonly processId: string;
      readonly variables: Variables;
      /** Buffered messages held for this called pathway: they go with the child and wait there instead. */
      readonly messages?: BufferedMessage[];
      /**
       * Set when a person retried the call activity after its child failed: tells the new child apart from the
       * failed one (its workflow id, and so the ids of everything it records, must not be the failed run's).
       */
      readonly rerun?: string;
    }
  | { readonly type: 'cancelChildPathway'; readonly childId: string }
  /** An escalation thrown here: for the parent pathway's call activity to catch (uncaught, it changes nothing). */
  | { readonly type: 'escalate'; readonly elementId: string; readonly escalationCode?: string }
  | { readonly type: 'complete'; readonly variables: Variables; readonly terminated: boolean }
  | { readonly type: 'fail'; readonly error: PathwayError }
  /** A failure nothing catches: record it and open a task for a person to resolve it. */
  | { readonly type: 'raiseIncident'; readonly incident: PathwayIncident }
  /** An incident ended: retried or skipped by a person (the task that resolved it), or cancelled with its element. */
  | {
      readonly type: 'closeIncident';
      readonly incidentId: string;
      readonly instanceId: string;
      readonly elementId: string;
      readonly resolution: IncidentResolution;
      readonly reason?: string;
      /** For a retry with corrected variables: their names (the values went into the pathway's variables). */
      readonly correctedVariables?: string[];
    };

export type PathwayCommandType = PathwayCommand['type'];

/** What happened, as the shell reports it. */
export type PathwayEvent =
  | { readonly type: 'taskCompleted'; readonly taskId: string; readonly data: Variables }
  | { readonly type: 'serviceTaskCompleted'; readonly activityId: string; readonly result: Variables }
  | {
      readonly type: 'serviceTaskFailed';
      readonly activityId: string;
      /** The failure's type (ApplicationFailure.type), matched against error boundary codes. */
      readonly errorCode?: string;
      readonly message: string;
      /** Attempts made, when the shell knows (the task's retries, when they ran out). */
      readonly attempts?: number;
      /** Whether the failure was retryable (false: non-retryable, so the attempts stopped early). */
      readonly retryable?: boolean;
    }
  | { readonly type: 'timerFired'; readonly timerId: string }
  | {
      readonly type: 'messageReceived';
      readonly messageName: string;
      readonly correlationKey: string;
      readonly variables?: Variables;
      /**
       * Keep the message until this instant when nothing waits for it yet. Without it (or when it has passed)
       * a message nobody waits for is dropped: the behaviour of histories recorded before buffering.
       */
      readonly expiresAt?: string;
      /** Also keep it for these called pathways (see BufferedMessage.heldFor). */
      readonly heldFor?: readonly string[];
    }
  | { readonly type: 'childCompleted'; readonly childId: string; readonly variables: Variables }
  | { readonly type: 'childFailed'; readonly childId: string; readonly errorCode?: string; readonly message: string }
  | { readonly type: 'childEscalated'; readonly childId: string; readonly escalationCode?: string }
  /**
   * A person resolved an incident: `retry` runs its element again from the same instance (after merging
   * `variables`, the corrections, into the pathway's variables); `skip` leaves the element without output and
   * the token moves on (`reason` says why).
   */
  | {
      readonly type: 'incidentResolved';
      readonly incidentId: string;
      readonly action: 'retry' | 'skip';
      readonly variables?: Variables;
      readonly reason?: string;
    }
  /** A person ends the pathway: every open task and incident is cancelled and it ends `terminated`. */
  | { readonly type: 'terminate'; readonly reason: string; readonly terminatedBy: string };

export type PathwayEventType = PathwayEvent['type'];

/** What became of a `messageReceived` event. */
export type MessageOutcome =
  | {
      readonly outcome: 'correlated';
      /** The catch event, boundary event or event-gateway target that caught it. */
      readonly elementId: string;
      /** The element instance it completed, interrupted or resolved (the owner of the subscription). */
      readonly instanceId: string;
    }
  | { readonly outcome: 'buffered'; readonly messageId: string; readonly expiresAt: string }
  /** Nothing waits for it and it was not to be kept (no `expiresAt`, or the pathway is not active). */
  | { readonly outcome: 'dropped' };

export interface Step {
  readonly state: PathwayState;
  readonly commands: PathwayCommand[];
  /** Set by `handle` for a `messageReceived` event. */
  readonly message?: MessageOutcome;
}
