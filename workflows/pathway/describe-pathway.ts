/**
 * Read models over an interpreter state: what the `state` query returns (including the messages waiting to
 * be caught) and what the completeTask validator checks. Pure.
 */
import { type PathwayIR } from '../../bpmn/ir';
import {
  type ElementInstance,
  type PathwayError,
  type PathwayIncident,
  type PathwayState,
  type PathwayStatus,
  type PathwayTermination,
  type TrailEntry,
  type Variables,
} from './types';

export interface OpenTaskView {
  readonly taskId: string;
  readonly elementId: string;
  readonly name?: string;
  readonly formId?: string;
  readonly assignee?: string;
  readonly candidateGroups: string[];
  readonly candidateUsers: string[];
  readonly dueDate?: string;
  readonly followUpDate?: string;
  readonly openedAt: string;
}

export interface PendingTimerView {
  readonly timerId: string;
  readonly elementId: string;
  readonly name?: string;
  readonly dueAt: string;
  /** For repeating timers: how many more times it fires after the pending one (null: without end). */
  readonly repeatsRemaining?: number | null;
}

export interface ActiveElementView {
  readonly instanceId: string;
  readonly elementId: string;
  readonly name?: string;
  readonly kind: string;
  readonly enteredAt: string;
  /** Set while it waits in an incident. */
  readonly incidentId?: string;
}

export interface MessageSubscriptionView {
  readonly subscriptionId: string;
  readonly elementId: string;
  readonly messageName: string;
  readonly correlationKey: string;
}

/** A message nothing was waiting for when it arrived, kept until it expires (its variables are not shown). */
export interface BufferedMessageView {
  readonly messageId: string;
  readonly messageName: string;
  readonly correlationKey: string;
  readonly receivedAt: string;
  readonly expiresAt: string;
  /** Called pathways it is also held for (it goes with the first of their children to start). */
  readonly heldFor?: readonly string[];
}

export interface PathwayView {
  readonly processId: string;
  readonly status: PathwayStatus;
  readonly variables: Variables;
  readonly activeElements: ActiveElementView[];
  readonly openTasks: OpenTaskView[];
  readonly pendingTimers: PendingTimerView[];
  readonly messageSubscriptions: MessageSubscriptionView[];
  /** Messages waiting to be caught, oldest first; one may have expired since the pathway last moved. */
  readonly bufferedMessages: BufferedMessageView[];
  readonly trail: TrailEntry[];
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly error?: PathwayError;
  /**
   * Incidents, oldest first, open ones without `resolution`. An open one's id is the run-local id of the task
   * that resolves it (its worklist id is `<workflow id>/<incident id>`, as for user tasks).
   */
  readonly incidents: PathwayIncident[];
  /** Why and by whom the pathway was terminated, when a person ended it. */
  readonly termination?: PathwayTermination;
}

function nameOf(ir: PathwayIR, elementId: string): { name?: string } {
  const name = ir.elements[elementId]?.name;
  return name ? { name } : {};
}

/** The open user task with this id, or undefined when it is unknown, closed or already completed. */
export function findOpenTask(state: PathwayState, taskId: string): ElementInstance | undefined {
  const instance = state.instances[taskId];
  return state.status === 'active' && instance?.wait.type === 'userTask' ? instance : undefined;
}

export function describePathway(ir: PathwayIR, state: PathwayState): PathwayView {
  const instances = Object.values(state.instances);
  return {
    processId: state.processId,
    status: state.status,
    variables: state.variables,
    activeElements: instances.map((instance) => ({
      instanceId: instance.id,
      elementId: instance.elementId,
      ...nameOf(ir, instance.elementId),
      kind: ir.elements[instance.elementId]?.kind ?? 'unknown',
      enteredAt: instance.enteredAt,
      ...(instance.incidentId ? { incidentId: instance.incidentId } : {}),
    })),
    openTasks: instances.flatMap((instance) => {
      if (instance.wait.type !== 'userTask') return [];
      const { type: _type, priority: _priority, ...task } = instance.wait;
      return [
        {
          taskId: instance.id,
          elementId: instance.elementId,
          ...nameOf(ir, instance.elementId),
          ...task,
          openedAt: instance.enteredAt,
        },
      ];
    }),
    pendingTimers: Object.values(state.timers)
      .map((timer) => ({
        timerId: timer.id,
        elementId: timer.elementId,
        ...nameOf(ir, timer.elementId),
        dueAt: timer.dueAt,
        ...(timer.cycle ? { repeatsRemaining: timer.cycle.remaining } : {}),
      }))
      .sort((a, b) => a.dueAt.localeCompare(b.dueAt)),
    messageSubscriptions: Object.values(state.subscriptions).map((s) => ({
      subscriptionId: s.id,
      elementId: s.elementId,
      messageName: s.messageName,
      correlationKey: s.correlationKey,
    })),
    bufferedMessages: (state.bufferedMessages ?? []).map((m) => ({
      messageId: m.id,
      messageName: m.messageName,
      correlationKey: m.correlationKey,
      receivedAt: m.receivedAt,
      expiresAt: m.expiresAt,
      ...(m.heldFor ? { heldFor: m.heldFor } : {}),
    })),
    trail: state.trail,
    startedAt: state.startedAt,
    ...(state.endedAt ? { endedAt: state.endedAt } : {}),
    ...(state.error ? { error: state.error } : {}),
    incidents: Object.values(state.incidents ?? {}).sort(
      (a, b) => a.raisedAt.localeCompare(b.raisedAt) || a.id.localeCompare(b.id),
    ),
    ...(state.termination ? { termination: state.termination } : {}),
  };
}

/** The earliest pending timer, which the shell sleeps until. */
export function nextTimer(state: PathwayState): { id: string; dueAt: string } | undefined {
  let next: { id: string; dueAt: string } | undefined;
  for (const timer of Object.values(state.timers)) {
    if (!next || timer.dueAt < next.dueAt) next = { id: timer.id, dueAt: timer.dueAt };
  }
  return next;
}
