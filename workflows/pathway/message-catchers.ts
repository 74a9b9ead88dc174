/**
 * Which elements of a pathway, and of the pathways it calls, can ever catch a message of a given name: what
 * the `correlateMessage` update's validator refuses a message on, which called pathways a parent holds a
 * message for, and where a sender is told a kept message will be caught. Read from the IR alone. Pure.
 */
import { type PathwayElement, type PathwayIR, type ValueExpression } from '../../bpmn/ir';

export interface MessageCatcher {
  /** The pathway the element belongs to. */
  readonly processId: string;
  readonly elementId: string;
  readonly name?: string;
  /** A message start event only starts a pathway; the others catch in a running one. */
  readonly kind: 'intermediateCatchEvent' | 'boundaryEvent' | 'startEvent';
}

export interface MessageReach {
  /** Elements of this pathway that can catch it. */
  readonly here: MessageCatcher[];
  /** By process id of each pathway this one calls directly: elements there, or in the pathways it calls. */
  readonly called: Readonly<Record<string, MessageCatcher[]>>;
  /**
   * True when it cannot be ruled out that some called pathway catches it: a call activity names its pathway
   * with a FEEL expression, or calls one that is not pinned in `calledPathways` (resolved when it starts).
   */
  readonly undetermined: boolean;
}

function mayBe(expression: ValueExpression, messageName: string): boolean {
  // A FEEL message name is only known when the subscription opens: it may be this one.
  return 'literal' in expression ? expression.literal === messageName : true;
}

function catcherOf(ir: PathwayIR, element: PathwayElement, messageName: string): MessageCatcher | undefined {
  if (element.kind !== 'intermediateCatchEvent' && element.kind !== 'boundaryEvent' && element.kind !== 'startEvent')
    return undefined;
  if (element.trigger.type !== 'message' || !mayBe(element.trigger.messageName, messageName)) return undefined;
  return {
    processId: ir.processId,
    elementId: element.id,
    ...(element.name ? { name: element.name } : {}),
    kind: element.kind,
  };
}

/** The elements of one pathway (not the ones it calls) that can catch `messageName`, in document order. */
export function messageCatchersIn(ir: PathwayIR, messageName: string): MessageCatcher[] {
  return Object.values(ir.elements).flatMap((element) => catcherOf(ir, element, messageName) ?? []);
}

/** Process ids of the call activities of one pathway; `undefined` for a call activity naming it with FEEL. */
function calledProcessIds(ir: PathwayIR): (string | undefined)[] {
  return Object.values(ir.elements).flatMap((element) =>
    element.kind === 'callActivity' ? ['literal' in element.processId ? element.processId.literal : undefined] : [],
  );
}

/**
 * Where `messageName` can be caught: in `ir` itself, and in each pathway it calls (and those call, through
 * `calledPathways`, the IRs pinned when the case started).
 */
export function messageReach(
  ir: PathwayIR,
  calledPathways: Readonly<Record<string, PathwayIR>> | undefined,
  messageName: string,
): MessageReach {
  let undetermined = false;
  const subtree = (processId: string, visited: Set<string>): MessageCatcher[] => {
    if (visited.has(processId)) return [];
    visited.add(processId);
    const called = calledPathways?.[processId];
    if (!called) {
      undetermined = true;
      return [];
    }
    const found = messageCatchersIn(called, messageName);
    for (const next of calledProcessIds(called)) {
      if (next === undefined) undetermined = true;
      else found.push(...subtree(next, visited));
    }
    return found;
  };
  const called: Record<string, MessageCatcher[]> = {};
  for (const processId of calledProcessIds(ir)) {
    if (processId === undefined) {
      undetermined = true;
      continue;
    }
    if (called[processId]) continue;
    const found = subtree(processId, new Set([ir.processId]));
    if (found.length > 0) called[processId] = found;
  }
  return { here: messageCatchersIn(ir, messageName), called, undetermined };
}

/** Whether a message of this name could ever be caught by the pathway or a pathway it calls. */
export function canEverCatch(reach: MessageReach): boolean {
  return reach.here.length > 0 || Object.keys(reach.called).length > 0 || reach.undetermined;
}
