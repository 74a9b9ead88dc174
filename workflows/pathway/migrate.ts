/**
 * Moving a running pathway to another version of the same process: each element where the case waits (its
 * instances, timers and message subscriptions) is carried to the element the mapping names, or to the element
 * with the same id. The plan is refused, whole, when carrying would lose anything a person or the pathway is
 * waiting on: an open task, a pending timer or a message wait whose element is missing or of another kind in the
 * new version, a boundary event that no longer sits on its activity, a called pathway that changed, or tokens
 * waiting at a parallel join. Instance, timer and subscription ids do not change, so the worklist's tasks, the
 * running activities and child pathways stay those of the case. Pure.
 */
import type { PathwayElement, PathwayIR } from '../../bpmn/ir';
import type { PathwayState } from './types';

/** Old element id → new element id; an element not named keeps its id. */
export type ElementMapping = Readonly<Record<string, string>>;

export interface MigrationMove {
  readonly from: string;
  readonly to: string;
  /** What waits there: a user task, service task, call activity, timer, message, event gateway. */
  readonly what: string;
}

export type MigrationPlan =
  | { readonly ok: true; readonly moves: MigrationMove[]; readonly state: PathwayState }
  | { readonly ok: false; readonly problems: string[] };

function sameMessage(a: PathwayElement | undefined, messageName: string): boolean {
  if (!a || !('trigger' in a) || a.trigger.type !== 'message') return false;
  // A FEEL message name is evaluated when the subscription opens: only a literal can be compared now.
  return !('literal' in a.trigger.messageName) || a.trigger.messageName.literal === messageName;
}

function describe(element: PathwayElement): string {
  return element.name ? `'${element.name}' (${element.id})` : `'${element.id}'`;
}

export function planMigration(
  from: PathwayIR,
  to: PathwayIR,
  state: PathwayState,
  mapping: ElementMapping = {},
): MigrationPlan {
  const problems: string[] = [];
  if (from.processId !== to.processId)
    problems.push(`Version of '${to.processId}' is not a version of '${from.processId}'`);
  if (state.status !== 'active') problems.push(`The pathway is ${state.status}: there is nothing to move`);
  for (const [source, target] of Object.entries(mapping)) {
    if (!from.elements[source]) problems.push(`The mapping names '${source}', which is not in the running version`);
    if (!to.elements[target]) problems.push(`The mapping names '${target}', which is not in the new version`);
  }
  const target = (elementId: string) => mapping[elementId] ?? elementId;
  const moves: MigrationMove[] = [];

  for (const instance of Object.values(state.instances)) {
    const old = from.elements[instance.elementId];
    const next = to.elements[target(instance.elementId)];
    const what = instance.wait.type === 'userTask' ? 'open task' : instance.wait.type;
    if (!old) continue;
    if (!next) {
      problems.push(`${describe(old)} holds a ${what} but has no counterpart in the new version: map it`);
      continue;
    }
    if (next.kind !== old.kind) {
      problems.push(`${describe(old)} holds a ${what}, but ${describe(next)} is a ${next.kind}, not a ${old.kind}`);
      continue;
    }
    if (old.kind === 'serviceTask' && next.kind === 'serviceTask' && old.taskType !== next.taskType)
      problems.push(`${describe(old)} runs '${old.taskType}', but ${describe(next)} runs '${next.taskType}'`);
    if (
      old.kind === 'callActivity' &&
      next.kind === 'callActivity' &&
      JSON.stringify(old.processId) !== JSON.stringify(next.processId)
    )
      problems.push(`${describe(old)} calls another pathway than ${describe(next)}`);
    moves.push({ from: old.id, to: next.id, what });
  }

  for (const timer of Object.values(state.timers)) {
    const old = from.elements[timer.elementId];
    const next = to.elements[target(timer.elementId)];
    if (!old) continue;
    const isTimer = (e: PathwayElement | undefined) =>
      e !== undefined &&
      (e.kind === 'boundaryEvent' || e.kind === 'intermediateCatchEvent') &&
      e.trigger.type === 'timer';
    if (!next || !isTimer(next)) {
      problems.push(`${describe(old)} has a pending timer (due ${timer.dueAt}) but no timer event to move to: map it`);
      continue;
    }
    const owner = state.instances[timer.ownerId];
    if (next.kind === 'boundaryEvent' && owner && next.attachedTo !== target(owner.elementId))
      problems.push(`${describe(next)} is not on the activity its timer's owner moves to`);
    moves.push({ from: old.id, to: next.id, what: 'timer' });
  }

  for (const subscription of Object.values(state.subscriptions)) {
    const old = from.elements[subscription.elementId];
    const next = to.elements[target(subscription.elementId)];
    if (!old) continue;
    if (!sameMessage(next, subscription.messageName)) {
      problems.push(
        `${describe(old)} waits for message '${subscription.messageName}', which ${next ? describe(next) : 'no element of the new version'} does not catch: map it`,
      );
      continue;
    }
    const owner = state.instances[subscription.ownerId];
    if (next?.kind === 'boundaryEvent' && owner && next.attachedTo !== target(owner.elementId))
      problems.push(`${describe(next)} is not on the activity its message wait's owner moves to`);
    moves.push({ from: old.id, to: next!.id, what: 'message wait' });
  }

  for (const [gatewayId, arrived] of Object.entries(state.joins)) {
    if (Object.keys(arrived).length === 0) continue;
    const next = to.elements[target(gatewayId)];
    const flowsKept = Object.keys(arrived).every((flowId) => to.flows[flowId]?.targetRef === next?.id);
    if (!next || next.kind !== 'parallelGateway' || !flowsKept)
      problems.push(`Tokens wait at the parallel join '${gatewayId}', which the new version does not keep as it is`);
  }

  if (problems.length > 0) return { ok: false, problems };
  const migrated = JSON.parse(JSON.stringify(state)) as PathwayState;
  for (const instance of Object.values(migrated.instances))
    (instance as { elementId: string }).elementId = target(instance.elementId);
  for (const timer of Object.values(migrated.timers))
    (timer as { elementId: string }).elementId = target(timer.elementId);
  for (const subscription of Object.values(migrated.subscriptions))
    (subscription as { elementId: string }).elementId = target(subscription.elementId);
  migrated.joins = Object.fromEntries(Object.entries(migrated.joins).map(([id, arrived]) => [target(id), arrived]));
  return { ok: true, moves: moves.sort((a, b) => a.from.localeCompare(b.from)), state: migrated };
}
