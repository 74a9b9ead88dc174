/**
 * The pathway interpreter: a pure, deterministic state machine over the IR. `start` and `handle` take the
 * current instant as an argument, never read a clock, draw no random numbers and do no I/O, so the same
 * inputs give the same state and commands on every replay. Tokens run from element to element until each
 * waits (user task, service task, call activity, timer, message, event-based gateway) or ends; what must
 * happen outside becomes a command for the workflow shell, and what happened outside comes back as an event.
 *
 * Semantics follow Zeebe where pathways can observe them: `=` FEEL attributes, input mappings into a local
 * scope, output mappings (or, without them, all result variables) into process variables, the default flow
 * of an exclusive gateway, joins that wait for a token on every incoming flow, first-event-wins event-based
 * gateways, cycles on non-interrupting boundary timers, error codes caught by error boundary events, and
 * message buffering: a message nothing waits for is kept until its expiry and correlated, oldest first and at
 * most once, when a subscription with its name and correlation key opens.
 *
 * Incidents, as Camunda raises them: a service task that runs out of attempts, a called pathway that fails, or
 * an element that cannot be entered or left (a FEEL error) with nothing to catch it stops the token at that
 * element, waiting for a person to retry or skip it (`incidentResolved`), while other branches and timers go on.
 * Pathways started before incidents (`StartOptions.incidents` off, no `incidents` in the state) fail instead,
 * exactly as they did, so their histories replay.
 */
import { evaluateValue, FeelEvaluationError, resolveInstant, toPlainValue } from '../../bpmn/feel';
import {
  IR_VERSION,
  type BoundaryEventElement,
  type CallActivityElement,
  type EventTrigger,
  type IoMapping,
  type PathwayElement,
  type PathwayIR,
  type ServiceTaskElement,
  type TimerDefinition,
  type UserTaskElement,
  type ValueExpression,
} from '../../bpmn/ir';
import { addIsoDuration, formatInstant, parseIsoDuration, parseRepeatingInterval } from '../../bpmn/iso8601';
import { findOpenIncident, whyNotSkippable } from './incidents';
import {
  type BufferedMessage,
  type ElementInstance,
  type IncidentResolution,
  type MessageOutcome,
  type MessageSubscription,
  type PathwayCommand,
  type PathwayError,
  type PathwayEvent,
  type PathwayIncident,
  type PathwayState,
  type Step,
  type TrailEntry,
  type Variables,
  type Wait,
} from './types';

/** Codes of the incidents the interpreter itself raises (not BPMN errors: no boundary event catches them). */
export const INCIDENT_CODES = {
  feel: 'FEEL_EVALUATION_FAILED',
  noFlow: 'NO_OUTGOING_FLOW_TAKEN',
  unsupported: 'UNSUPPORTED_ELEMENT',
  deadlock: 'PATHWAY_DEADLOCK',
  loop: 'PATHWAY_LOOP',
  timer: 'INVALID_TIMER',
  irVersion: 'UNSUPPORTED_IR_VERSION',
} as const;
export type IncidentCode = (typeof INCIDENT_CODES)[keyof typeof INCIDENT_CODES];

/** Element entries allowed in one step before a flow loop without a wait state is declared an incident. */
const STEP_BUDGET = 10_000;

class Incident extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly elementId?: string,
  ) {
    super(message);
    this.name = 'Incident';
  }
}

interface Run {
  readonly ir: PathwayIR;
  readonly state: PathwayState;
  readonly commands: PathwayCommand[];
  readonly nowMs: number;
  readonly now: string;
  readonly queue: { elementId: string; viaFlow?: string }[];
  budget: number;
  /** What became of the `messageReceived` event being handled, for the shell to answer its sender. */
  message?: MessageOutcome;
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function createRun(ir: PathwayIR, state: PathwayState, now: string): Run {
  const nowMs = Date.parse(now);
  if (Number.isNaN(nowMs)) throw new TypeError(`'now' must be an ISO date-time, got '${now}'`);
  return { ir, state, commands: [], nowMs, now: formatInstant(nowMs), queue: [], budget: STEP_BUDGET };
}

function elementOf(run: Run, id: string): PathwayElement {
  const element = run.ir.elements[id];
  if (!element) throw new Incident(INCIDENT_CODES.unsupported, `The pathway has no element '${id}'`, id);
  return element;
}

function nextId(run: Run, prefix: string): string {
  run.state.nextSeq += 1;
  return `${prefix}#${run.state.nextSeq}`;
}

// ---- variables and FEEL -------------------------------------------------------------------------------

function contextOf(run: Run, local: Variables = {}): Variables {
  return { ...run.state.variables, ...local };
}

function evaluate(run: Run, value: ValueExpression, context: Variables, elementId: string): unknown {
  try {
    return evaluateValue(value, context, run.nowMs);
  } catch (error) {
    if (error instanceof FeelEvaluationError) throw new Incident(INCIDENT_CODES.feel, error.message, elementId);
    throw error;
  }
}

function setPath(target: Variables, path: string, value: unknown): void {
  const parts = path.split('.').filter((part) => part !== '');
  const last = parts.pop();
  if (last === undefined) return;
  let cursor = target;
  for (const part of parts) {
    const next = cursor[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cursor[part] = {};
    cursor = cursor[part] as Variables;
  }
  cursor[last] = value;
}

function applyInputs(run: Run, element: PathwayElement): Variables {
  const local: Variables = {};
  for (const input of element.inputs) {
    setPath(local, input.target, evaluate(run, input.source, contextOf(run, local), element.id));
  }
  return local;
}

/** Zeebe's rule: with output mappings only the mapped values leave; without, every result variable does. */
function applyOutputs(
  run: Run,
  outputs: readonly IoMapping[],
  elementId: string,
  local: Variables,
  result: Variables,
): void {
  mappedOutputs(run, outputs, elementId, local, result)();
}

/**
 * Evaluates the output mappings without changing anything yet, and returns what assigns them: a FEEL error
 * is thrown before any variable is touched, so an element whose outputs fail can wait in an incident as it was.
 */
function mappedOutputs(
  run: Run,
  outputs: readonly IoMapping[],
  elementId: string,
  local: Variables,
  result: Variables,
): () => void {
  const plain = toPlainValue(result) as Variables;
  if (outputs.length === 0) return () => Object.assign(run.state.variables, plain);
  const context = { ...run.state.variables, ...local, ...plain };
  const values = outputs.map((output) => [output.target, evaluate(run, output.source, context, elementId)] as const);
  return () => {
    for (const [target, value] of values) setPath(run.state.variables, target, value);
  };
}

/**
 * `mappedOutputs`, or the incident that stops them when the pathway raises incidents (else it is thrown, and
 * the pathway fails as before).
 */
function tryOutputs(
  run: Run,
  outputs: readonly IoMapping[],
  elementId: string,
  local: Variables,
  result: Variables,
): (() => void) | Incident {
  try {
    return mappedOutputs(run, outputs, elementId, local, result);
  } catch (error) {
    if (error instanceof Incident && raisesIncidents(run)) return error;
    throw error;
  }
}

function asText(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Candidate groups/users: a literal comma-separated list, or a FEEL list or string. */
function asList(value: unknown): string[] {
  if (Array.isArray(value)) return value.map((item) => String(item)).filter((item) => item !== '');
  if (typeof value === 'string') {
    return value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }
  return [];
}

// ---- trail ----------------------------------------------------------------------------------------------

function recordEntry(run: Run, element: PathwayElement, instanceId?: string, passedThrough = false): TrailEntry {
  const entry: TrailEntry = {
    elementId: element.id,
    ...(element.name ? { name: element.name } : {}),
    kind: element.kind,
    ...(instanceId ? { instanceId } : {}),
    enteredAt: run.now,
    ...(passedThrough ? { leftAt: run.now, outcome: 'completed' as const } : {}),
  };
  run.state.trail.push(entry);
  return entry;
}

function recordExit(run: Run, instanceId: string, outcome: NonNullable<TrailEntry['outcome']>): void {
  for (let i = run.state.trail.length - 1; i >= 0; i -= 1) {
    const entry = run.state.trail[i];
    if (entry?.instanceId === instanceId) {
      entry.leftAt = run.now;
      entry.outcome = outcome;
      return;
    }
  }
}

// ---- timers and subscriptions ------------------------------------------------------------------------------

interface ComputedTimer {
  dueAt: number;
  cycle?: { interval: string; remaining: number | null };
}

function computeTimer(run: Run, timer: TimerDefinition, context: Variables, elementId: string): ComputedTimer {
  const raw = evaluate(run, timer.value, context, elementId);
  const text = typeof raw === 'string' ? raw.trim() : '';
  const invalid = (): Incident =>
    new Incident(
      INCIDENT_CODES.timer,
      `Timer of '${elementId}' evaluated to '${asText(raw) ?? 'null'}', not a valid ${timer.timerType}`,
      elementId,
    );
  if (timer.timerType === 'cycle') {
    const cycle = parseRepeatingInterval(text);
    if (!cycle || cycle.repetitions === 0) throw invalid();
    const interval = text.split('/').at(-1) ?? '';
    const dueAt =
      cycle.start !== undefined
        ? (resolveInstant(cycle.start, run.nowMs) ?? run.nowMs)
        : addIsoDuration(run.nowMs, cycle.interval);
    return { dueAt, cycle: { interval, remaining: cycle.repetitions === null ? null : cycle.repetitions - 1 } };
  }
  const dueAt = resolveInstant(text, run.nowMs);
  if (dueAt === undefined) throw invalid();
  return { dueAt };
}

function startTimer(run: Run, timer: TimerDefinition, elementId: string, ownerId: string, context: Variables): string {
  const computed = computeTimer(run, timer, context, elementId);
  const id = nextId(run, `timer:${elementId}`);
  const dueAt = formatInstant(computed.dueAt);
  run.state.timers[id] = { id, elementId, ownerId, dueAt, ...(computed.cycle ? { cycle: computed.cycle } : {}) };
  run.commands.push({ type: 'startTimer', timerId: id, elementId, dueAt });
  return id;
}

function subscribe(
  run: Run,
  trigger: Extract<EventTrigger, { type: 'message' }>,
  elementId: string,
  ownerId: string,
  context: Variables,
): string {
  const messageName = asText(evaluate(run, trigger.messageName, context, elementId)) ?? '';
  const correlationKey = trigger.correlationKey
    ? (asText(evaluate(run, trigger.correlationKey, context, elementId)) ?? '')
    : '';
  const id = nextId(run, `message:${elementId}`);
  run.state.subscriptions[id] = { id, elementId, ownerId, messageName, correlationKey };
  run.commands.push({ type: 'subscribeMessage', subscriptionId: id, elementId, messageName, correlationKey });
  return id;
}

/** Cancels every timer and subscription the instance owns (its boundary events, or a gateway's events). */
function releaseOwned(run: Run, ownerId: string, except?: string): void {
  for (const timer of Object.values(run.state.timers)) {
    if (timer.ownerId !== ownerId || timer.id === except) continue;
    delete run.state.timers[timer.id];
    run.commands.push({ type: 'cancelTimer', timerId: timer.id });
  }
  for (const subscription of Object.values(run.state.subscriptions)) {
    if (subscription.ownerId !== ownerId || subscription.id === except) continue;
    delete run.state.subscriptions[subscription.id];
    run.commands.push({ type: 'unsubscribeMessage', subscriptionId: subscription.id });
  }
}

// ---- buffered messages ----------------------------------------------------------------------------------

/** Forgets buffered messages whose time to live has passed (a message expiring now is already gone). */
function dropExpiredMessages(run: Run): BufferedMessage[] {
  const buffered = (run.state.bufferedMessages ?? []).filter((m) => Date.parse(m.expiresAt) > run.nowMs);
  if (run.state.bufferedMessages) run.state.bufferedMessages = buffered;
  return buffered;
}

function bufferMessage(
  run: Run,
  event: Extract<PathwayEvent, { type: 'messageReceived' }>,
  expiresAt: string,
): BufferedMessage {
  const message: BufferedMessage = {
    id: nextId(run, `message:${event.messageName}`),
    messageName: event.messageName,
    correlationKey: event.correlationKey,
    variables: toPlainValue(clone(event.variables ?? {})) as Variables,
    receivedAt: run.now,
    expiresAt,
    ...(event.heldFor && event.heldFor.length > 0 ? { heldFor: [...event.heldFor] } : {}),
  };
  (run.state.bufferedMessages ??= []).push(message);
  return message;
}

/** A subscription's owner takes the message: the catch event completes, the boundary fires, the gateway resolves. */
function correlate(run: Run, subscription: MessageSubscription, owner: ElementInstance, variables: Variables): void {
  const element = elementOf(run, subscription.elementId);
  if (owner.wait.type === 'eventGateway') {
    resolveEventGateway(run, owner, element.id, variables);
  } else if (element.kind === 'boundaryEvent') {
    fireBoundary(run, element, owner, variables);
  } else {
    completeInstance(run, owner, variables);
  }
}

/**
 * Correlates the oldest unexpired buffered message that an open subscription (same name and correlation key)
 * waits for, as Zeebe does when a subscription opens. One at a time: the correlation moves tokens on, which may
 * open or withdraw subscriptions before the next one is looked at. Returns whether one was correlated.
 */
function correlateBufferedMessage(run: Run): boolean {
  if (!run.state.bufferedMessages?.length) return false;
  const buffered = dropExpiredMessages(run);
  const subscriptions = Object.values(run.state.subscriptions);
  for (const [index, message] of buffered.entries()) {
    const subscription = subscriptions.find(
      (s) =>
        s.messageName === message.messageName &&
        s.correlationKey === message.correlationKey &&
        run.state.instances[s.ownerId] !== undefined,
    );
    if (!subscription) continue;
    buffered.splice(index, 1);
    correlate(run, subscription, run.state.instances[subscription.ownerId] as ElementInstance, message.variables);
    return true;
  }
  return false;
}

/** Buffered messages held for a called pathway leave with its child (each goes to one child at most). */
function takeHeldMessages(run: Run, processId: string): BufferedMessage[] {
  if (!run.state.bufferedMessages?.length) return [];
  const buffered = dropExpiredMessages(run);
  const held = buffered.filter((m) => m.heldFor?.includes(processId));
  if (held.length === 0) return [];
  run.state.bufferedMessages = buffered.filter((m) => !held.includes(m));
  return held.map(({ heldFor: _heldFor, ...message }) => message);
}

// ---- entering elements ---------------------------------------------------------------------------------

function takeFlows(run: Run, element: PathwayElement, flowIds: readonly string[] = element.outgoing): void {
  for (const flowId of flowIds) {
    const flow = run.ir.flows[flowId];
    if (!flow) throw new Incident(INCIDENT_CODES.unsupported, `Sequence flow '${flowId}' is missing`, element.id);
    run.queue.push({ elementId: flow.targetRef, viaFlow: flow.id });
  }
}

function createInstance(run: Run, element: PathwayElement, local: Variables, wait: Wait, id?: string): ElementInstance {
  const instance: ElementInstance = {
    id: id ?? nextId(run, element.id),
    elementId: element.id,
    enteredAt: run.now,
    local,
    wait,
  };
  run.state.instances[instance.id] = instance;
  recordEntry(run, element, instance.id);
  return instance;
}

function attachBoundaryEvents(run: Run, element: PathwayElement, instance: ElementInstance): void {
  const context = contextOf(run, instance.local);
  for (const boundaryId of element.boundaryEvents) {
    const boundary = elementOf(run, boundaryId);
    if (boundary.kind !== 'boundaryEvent') continue;
    if (boundary.trigger.type === 'timer') startTimer(run, boundary.trigger.timer, boundary.id, instance.id, context);
    if (boundary.trigger.type === 'message') subscribe(run, boundary.trigger, boundary.id, instance.id, context);
  }
}

function openUserTask(run: Run, element: UserTaskElement): void {
  const local = applyInputs(run, element);
  const context = contextOf(run, local);
  const value = (expression: ValueExpression | undefined): unknown =>
    expression === undefined ? undefined : evaluate(run, expression, context, element.id);
  const instant = (expression: ValueExpression | undefined): string | undefined => {
    const raw = value(expression);
    if (raw === undefined || raw === null) return undefined;
    const ms = resolveInstant(raw, run.nowMs);
    if (ms === undefined) {
      throw new Incident(
        INCIDENT_CODES.feel,
        `Date '${asText(raw) ?? ''}' of '${element.id}' is not an ISO date-time or duration`,
        element.id,
      );
    }
    return formatInstant(ms);
  };
  const assignee = asText(value(element.assignee));
  const dueDate = instant(element.dueDate);
  const followUpDate = instant(element.followUpDate);
  const priorityValue = value(element.priority);
  const priority =
    typeof priorityValue === 'number'
      ? priorityValue
      : typeof priorityValue === 'string' && priorityValue.trim() !== ''
        ? Number(priorityValue)
        : undefined;
  const wait: Wait = {
    type: 'userTask',
    ...(element.formId ? { formId: element.formId } : {}),
    ...(assignee ? { assignee } : {}),
    candidateGroups: asList(value(element.candidateGroups)),
    candidateUsers: asList(value(element.candidateUsers)),
    ...(dueDate ? { dueDate } : {}),
    ...(followUpDate ? { followUpDate } : {}),
    ...(priority !== undefined && Number.isFinite(priority) ? { priority } : {}),
  };
  const instance = createInstance(run, element, local, wait);
  const { type: _type, ...task } = wait;
  run.commands.push({
    type: 'openUserTask',
    taskId: instance.id,
    elementId: element.id,
    ...(element.name ? { name: element.name } : {}),
    ...task,
    input: context,
  });
  attachBoundaryEvents(run, element, instance);
}

function enter(run: Run, elementId: string, viaFlow?: string): void {
  run.budget -= 1;
  if (run.budget < 0) {
    throw new Incident(
      INCIDENT_CODES.loop,
      `More than ${STEP_BUDGET} elements ran without waiting: a loop without a wait state`,
      elementId,
    );
  }
  const element = elementOf(run, elementId);
  switch (element.kind) {
    case 'startEvent':
      recordEntry(run, element, undefined, true);
      takeFlows(run, element);
      return;
    case 'userTask':
      openUserTask(run, element);
      return;
    case 'serviceTask': {
      const local = applyInputs(run, element);
      const instance = createInstance(run, element, local, { type: 'serviceTask', taskType: element.taskType });
      executeServiceTask(run, element, instance);
      attachBoundaryEvents(run, element, instance);
      return;
    }
    case 'callActivity': {
      const local = applyInputs(run, element);
      const processId = asText(evaluate(run, element.processId, contextOf(run, local), element.id)) ?? '';
      const instance = createInstance(run, element, local, { type: 'callActivity', processId });
      startChildPathway(run, element, instance);
      attachBoundaryEvents(run, element, instance);
      return;
    }
    case 'intermediateCatchEvent': {
      const local = applyInputs(run, element);
      const id = nextId(run, element.id);
      const context = contextOf(run, local);
      if (element.trigger.type === 'timer') {
        const timerId = startTimer(run, element.trigger.timer, element.id, id, context);
        createInstance(run, element, local, { type: 'timer', timerId }, id);
      } else if (element.trigger.type === 'message') {
        const subscriptionId = subscribe(run, element.trigger, element.id, id, context);
        createInstance(run, element, local, { type: 'message', subscriptionId }, id);
      } else {
        throw unsupported(element);
      }
      return;
    }
    case 'intermediateThrowEvent':
      if (element.trigger.type !== 'none' && element.trigger.type !== 'escalation') throw unsupported(element);
      recordEntry(run, element, undefined, true);
      applyOutputs(run, element.outputs, element.id, applyInputs(run, element), {});
      if (element.trigger.type === 'escalation') escalate(run, element.id, element.trigger.escalationCode);
      takeFlows(run, element);
      return;
    case 'exclusiveGateway':
      recordEntry(run, element, undefined, true);
      takeFlows(run, element, [chooseExclusiveFlow(run, element)]);
      return;
    case 'parallelGateway':
      passParallelGateway(run, element, viaFlow);
      return;
    case 'eventBasedGateway': {
      const instance = createInstance(run, element, {}, { type: 'eventGateway' });
      const context = contextOf(run);
      for (const flowId of element.outgoing) {
        const target = elementOf(run, run.ir.flows[flowId]?.targetRef ?? '');
        if (target.kind !== 'intermediateCatchEvent') throw unsupported(target);
        if (target.trigger.type === 'timer') startTimer(run, target.trigger.timer, target.id, instance.id, context);
        else if (target.trigger.type === 'message') subscribe(run, target.trigger, target.id, instance.id, context);
        else throw unsupported(target);
      }
      return;
    }
    case 'endEvent':
      endToken(run, element);
      return;
    case 'boundaryEvent':
      // Boundary events are never reached by a sequence flow; the modeller drew one into it.
      throw unsupported(element);
    case 'unsupported':
      throw unsupported(element);
  }
}

function executeServiceTask(run: Run, element: ServiceTaskElement, instance: ElementInstance): void {
  run.commands.push({
    type: 'executeServiceTask',
    activityId: instance.id,
    elementId: element.id,
    taskType: element.taskType,
    retries: element.retries,
    input: contextOf(run, instance.local),
    headers: { ...element.headers },
  });
}

function startChildPathway(run: Run, element: CallActivityElement, instance: ElementInstance, rerun?: string): void {
  const processId = instance.wait.type === 'callActivity' ? instance.wait.processId : '';
  const variables = element.propagateAllParentVariables ? contextOf(run, instance.local) : { ...instance.local };
  const messages = takeHeldMessages(run, processId);
  run.commands.push({
    type: 'startChildPathway',
    childId: instance.id,
    elementId: element.id,
    processId,
    variables,
    ...(messages.length > 0 ? { messages } : {}),
    ...(rerun ? { rerun } : {}),
  });
}

function unsupported(element: PathwayElement): Incident {
  const what =
    element.kind === 'unsupported'
      ? element.bpmnType
      : `${element.kind} (${'trigger' in element ? element.trigger.type : ''})`;
  return new Incident(
    INCIDENT_CODES.unsupported,
    `Element '${element.id}' (${what}) is not executed by the interpreter`,
    element.id,
  );
}

function chooseExclusiveFlow(run: Run, element: Extract<PathwayElement, { kind: 'exclusiveGateway' }>): string {
  const context = contextOf(run);
  let unconditional: string | undefined;
  for (const flowId of element.outgoing) {
    const flow = run.ir.flows[flowId];
    if (!flow || flowId === element.defaultFlow) continue;
    if (flow.condition === undefined) {
      unconditional ??= flowId;
      continue;
    }
    if (evaluate(run, { feel: flow.condition }, context, element.id) === true) return flowId;
  }
  const chosen = element.defaultFlow ?? unconditional;
  if (chosen === undefined) {
    throw new Incident(
      INCIDENT_CODES.noFlow,
      `No condition of gateway '${element.id}' is true and it has no default flow`,
      element.id,
    );
  }
  return chosen;
}

function passParallelGateway(
  run: Run,
  element: Extract<PathwayElement, { kind: 'parallelGateway' }>,
  viaFlow?: string,
): void {
  if (element.incoming.length <= 1 || viaFlow === undefined) {
    recordEntry(run, element, undefined, true);
    takeFlows(run, element);
    return;
  }
  const arrived = (run.state.joins[element.id] ??= {});
  arrived[viaFlow] = (arrived[viaFlow] ?? 0) + 1;
  if (!element.incoming.every((flowId) => (arrived[flowId] ?? 0) > 0)) return;
  for (const flowId of element.incoming) {
    const remaining = (arrived[flowId] ?? 1) - 1;
    if (remaining > 0) arrived[flowId] = remaining;
    else delete arrived[flowId];
  }
  if (Object.keys(arrived).length === 0) delete run.state.joins[element.id];
  recordEntry(run, element, undefined, true);
  takeFlows(run, element);
}

function endToken(run: Run, element: Extract<PathwayElement, { kind: 'endEvent' }>): void {
  recordEntry(run, element, undefined, true);
  applyOutputs(run, element.outputs, element.id, applyInputs(run, element), {});
  switch (element.trigger.type) {
    case 'none':
      return;
    case 'terminate':
      for (const instance of Object.values(run.state.instances)) cancelInstance(run, instance, 'cancelled');
      run.queue.length = 0;
      run.state.joins = {};
      finish(run, 'terminated');
      return;
    case 'error': {
      // A pathway has no subprocess to catch an error in, so an error end event ends the pathway with that
      // error; a parent pathway's call activity can catch it by code.
      const code = element.trigger.errorCode ?? element.trigger.errorName ?? 'ERROR';
      failPathway(run, {
        code,
        message: `Error end event '${element.name ?? element.id}' threw '${code}'`,
        elementId: element.id,
      });
      return;
    }
    case 'escalation':
      escalate(run, element.id, element.trigger.escalationCode);
      return;
    case 'timer':
    case 'message':
    case 'unsupported':
      throw unsupported(element);
  }
}

/** Escalations go up to the parent pathway, whose call activity may catch them; nothing here waits on them. */
function escalate(run: Run, elementId: string, escalationCode: string | undefined): void {
  run.commands.push({ type: 'escalate', elementId, ...(escalationCode ? { escalationCode } : {}) });
}

// ---- leaving and cancelling -------------------------------------------------------------------------------

function cancelInstance(
  run: Run,
  instance: ElementInstance,
  outcome: 'cancelled' | 'interrupted',
  alreadyEnded = false,
  reason?: string,
): void {
  delete run.state.instances[instance.id];
  releaseOwned(run, instance.id);
  recordExit(run, instance.id, outcome);
  if (instance.incidentId) {
    // Nothing runs while an incident is open (the activity failed, the child ended): only its task is withdrawn.
    closeIncident(run, instance, 'cancelled', reason === undefined ? {} : { reason });
    return;
  }
  if (alreadyEnded) return;
  switch (instance.wait.type) {
    case 'userTask':
      run.commands.push({
        type: 'closeUserTask',
        taskId: instance.id,
        elementId: instance.elementId,
        outcome: 'cancelled',
        ...(reason === undefined ? {} : { reason }),
      });
      return;
    case 'serviceTask':
      run.commands.push({ type: 'cancelServiceTask', activityId: instance.id });
      return;
    case 'callActivity':
      run.commands.push({ type: 'cancelChildPathway', childId: instance.id });
      return;
    case 'timer':
    case 'message':
    case 'eventGateway':
    case 'entering':
    case 'leaving':
      return;
  }
}

/**
 * The instance's work is done: map its results, release its boundary events and move on. When its output
 * mappings fail (and the pathway raises incidents) it waits in an incident instead, `leaving` with its result.
 */
function completeInstance(run: Run, instance: ElementInstance, result: Variables, propagate = true): void {
  const element = elementOf(run, instance.elementId);
  if (!raisesIncidents(run)) {
    // As pathways started before incidents did, step for step: their histories replay these commands.
    delete run.state.instances[instance.id];
    releaseOwned(run, instance.id);
    if (propagate || element.outputs.length > 0) applyOutputs(run, element.outputs, element.id, instance.local, result);
    recordExit(run, instance.id, 'completed');
    takeFlows(run, element);
    return;
  }
  const assign =
    propagate || element.outputs.length > 0
      ? tryOutputs(run, element.outputs, element.id, instance.local, result)
      : () => undefined;
  releaseOwned(run, instance.id);
  if (assign instanceof Incident) {
    const leaving: ElementInstance = {
      ...instance,
      wait: { type: 'leaving', result: toPlainValue(clone(result)) as Variables, propagate },
    };
    run.state.instances[instance.id] = leaving;
    openIncident(run, leaving, { kind: 'leavingFailed', errorCode: assign.code, message: assign.message });
    return;
  }
  delete run.state.instances[instance.id];
  assign();
  recordExit(run, instance.id, 'completed');
  takeFlows(run, element);
}

function fireBoundary(
  run: Run,
  boundary: BoundaryEventElement,
  owner: ElementInstance,
  result: Variables,
  alreadyEnded = false,
): void {
  if (!raisesIncidents(run)) {
    if (boundary.interrupting) cancelInstance(run, owner, 'interrupted', alreadyEnded);
    const entry = recordEntry(run, boundary, undefined, true);
    entry.outcome = 'fired';
    applyOutputs(run, boundary.outputs, boundary.id, owner.local, result);
    takeFlows(run, boundary);
    return;
  }
  // Evaluated first (cancelling the owner changes no variable), so that a failing mapping leaves nothing half done.
  const assign = tryOutputs(run, boundary.outputs, boundary.id, owner.local, result);
  if (boundary.interrupting) cancelInstance(run, owner, 'interrupted', alreadyEnded);
  if (assign instanceof Incident) {
    waitLeaving(run, boundary, owner.local, result, assign);
    return;
  }
  const entry = recordEntry(run, boundary, undefined, true);
  entry.outcome = 'fired';
  assign();
  takeFlows(run, boundary);
}

/** The event-based gateway's first event wins: the others are withdrawn and the winner's path is taken. */
function resolveEventGateway(run: Run, gateway: ElementInstance, catchEventId: string, result: Variables): void {
  if (!raisesIncidents(run)) {
    delete run.state.instances[gateway.id];
    releaseOwned(run, gateway.id);
    recordExit(run, gateway.id, 'completed');
    const catchEvent = elementOf(run, catchEventId);
    recordEntry(run, catchEvent, undefined, true);
    applyOutputs(run, catchEvent.outputs, catchEvent.id, {}, result);
    takeFlows(run, catchEvent);
    return;
  }
  const catchEvent = elementOf(run, catchEventId);
  const assign = tryOutputs(run, catchEvent.outputs, catchEvent.id, {}, result);
  delete run.state.instances[gateway.id];
  releaseOwned(run, gateway.id);
  recordExit(run, gateway.id, 'completed');
  if (assign instanceof Incident) {
    waitLeaving(run, catchEvent, {}, result, assign);
    return;
  }
  recordEntry(run, catchEvent, undefined, true);
  assign();
  takeFlows(run, catchEvent);
}

/** An event caught, but its output mappings failed: a token waits at it in an incident, `leaving` with the result. */
function waitLeaving(run: Run, element: PathwayElement, local: Variables, result: Variables, error: Incident): void {
  const wait: Wait = { type: 'leaving', result: toPlainValue(clone(result)) as Variables, propagate: true };
  const instance = createInstance(run, element, local, wait);
  openIncident(run, instance, { kind: 'leavingFailed', errorCode: error.code, message: error.message });
}

/**
 * A BPMN error raised by an activity or child: caught by a matching error boundary, else an incident at the
 * element (or, in a pathway started before incidents, the pathway fails).
 */
function raiseError(
  run: Run,
  owner: ElementInstance,
  code: string | undefined,
  message: string,
  attempts: { attempts?: number; retryable?: boolean } = {},
): void {
  const element = elementOf(run, owner.elementId);
  const boundaries = element.boundaryEvents
    .map((id) => run.ir.elements[id])
    .filter((b): b is BoundaryEventElement => b?.kind === 'boundaryEvent' && b.trigger.type === 'error');
  const catcher =
    boundaries.find((b) => b.trigger.type === 'error' && code !== undefined && b.trigger.errorCode === code) ??
    boundaries.find((b) => b.trigger.type === 'error' && b.trigger.errorCode === undefined);
  if (catcher) {
    fireBoundary(run, { ...catcher, interrupting: true }, owner, {}, true);
    return;
  }
  if (raisesIncidents(run)) {
    const isChild = owner.wait.type === 'callActivity';
    openIncident(run, owner, {
      kind: isChild ? 'childFailed' : 'activityFailed',
      errorCode: code ?? (isChild ? 'CHILD_PATHWAY_FAILED' : 'ACTIVITY_FAILED'),
      message,
      ...(attempts.attempts !== undefined ? { attempts: attempts.attempts } : {}),
      ...(attempts.retryable !== undefined ? { retryable: attempts.retryable } : {}),
    });
    return;
  }
  delete run.state.instances[owner.id];
  releaseOwned(run, owner.id);
  recordExit(run, owner.id, 'failed');
  failPathway(run, { code: code ?? 'ACTIVITY_FAILED', message, elementId: owner.elementId });
}

// ---- incidents --------------------------------------------------------------------------------------------

/** Whether a failure nothing catches becomes an incident (pathways started with the `incidents` patch) or fails the pathway. */
function raisesIncidents(run: Run): boolean {
  return run.state.incidents !== undefined;
}

type IncidentDetails = Pick<PathwayIncident, 'kind' | 'errorCode' | 'message' | 'attempts' | 'retryable'>;

/** The instance stops where it is, waiting for a person: the incident is recorded and its task opened. */
function openIncident(run: Run, instance: ElementInstance, details: IncidentDetails): void {
  const element = run.ir.elements[instance.elementId];
  const incident: PathwayIncident = {
    id: nextId(run, `${instance.id}/incident`),
    instanceId: instance.id,
    elementId: instance.elementId,
    ...(element?.name ? { elementName: element.name } : {}),
    kind: details.kind,
    ...(instance.wait.type === 'serviceTask' ? { taskType: instance.wait.taskType } : {}),
    ...(instance.wait.type === 'callActivity' ? { calledProcessId: instance.wait.processId } : {}),
    errorCode: details.errorCode,
    message: details.message,
    ...(details.attempts !== undefined ? { attempts: details.attempts } : {}),
    ...(details.retryable !== undefined ? { retryable: details.retryable } : {}),
    raisedAt: run.now,
  };
  (run.state.incidents ??= {})[incident.id] = incident;
  run.state.instances[instance.id] = { ...instance, incidentId: incident.id };
  run.commands.push({ type: 'raiseIncident', incident: clone(incident) });
}

/** Records how the instance's open incident ended and withdraws its task; the instance itself is the caller's. */
function closeIncident(
  run: Run,
  instance: ElementInstance,
  outcome: IncidentResolution,
  details: { reason?: string; correctedVariables?: string[] } = {},
): void {
  const incident = instance.incidentId ? run.state.incidents?.[instance.incidentId] : undefined;
  if (!incident || incident.resolution) return;
  incident.resolution = { outcome, at: run.now, ...(details.reason ? { reason: details.reason } : {}) };
  run.commands.push({
    type: 'closeIncident',
    incidentId: incident.id,
    instanceId: instance.id,
    elementId: instance.elementId,
    resolution: outcome,
    ...(details.reason ? { reason: details.reason } : {}),
    ...(details.correctedVariables?.length ? { correctedVariables: details.correctedVariables } : {}),
  });
}

/** A person's answer to an incident: retry the element from the same instance, or skip it. */
function resolveIncident(run: Run, event: Extract<PathwayEvent, { type: 'incidentResolved' }>): void {
  const incident = findOpenIncident(run.state, event.incidentId);
  const found = incident ? run.state.instances[incident.instanceId] : undefined;
  if (!incident || !found) return;
  if (event.action === 'skip') {
    if (whyNotSkippable(run.ir, run.state, incident.id) !== undefined) return;
    closeIncident(run, found, 'skipped', event.reason ? { reason: event.reason } : {});
    skipInstance(run, found);
    return;
  }
  const corrections = toPlainValue(clone(event.variables ?? {})) as Variables;
  Object.assign(run.state.variables, corrections);
  closeIncident(run, found, 'retried', {
    ...(event.reason ? { reason: event.reason } : {}),
    correctedVariables: Object.keys(corrections).sort(),
  });
  const { incidentId: _resolved, ...rest } = found;
  const instance: ElementInstance = rest;
  run.state.instances[instance.id] = instance;
  retryInstance(run, instance);
}

/** The element is left as completed without output: its boundary events are withdrawn and the token moves on. */
function skipInstance(run: Run, instance: ElementInstance): void {
  const element = elementOf(run, instance.elementId);
  delete run.state.instances[instance.id];
  releaseOwned(run, instance.id);
  recordExit(run, instance.id, 'skipped');
  if (element.kind === 'exclusiveGateway') {
    const flow = element.defaultFlow ?? element.outgoing[0];
    takeFlows(run, element, flow === undefined ? [] : [flow]);
    return;
  }
  takeFlows(run, element);
}

/** Runs the instance's element again where it failed: its activity, its child pathway, its entry or its exit. */
function retryInstance(run: Run, instance: ElementInstance): void {
  const element = elementOf(run, instance.elementId);
  const wait = instance.wait;
  switch (wait.type) {
    case 'serviceTask':
    case 'callActivity': {
      // Input mappings again, so that corrected variables reach the activity or child.
      let local: Variables;
      let processId = '';
      try {
        local = applyInputs(run, element);
        if (element.kind === 'callActivity')
          processId = asText(evaluate(run, element.processId, contextOf(run, local), element.id)) ?? '';
      } catch (error) {
        if (!(error instanceof Incident)) throw error;
        openIncident(run, instance, { kind: 'enteringFailed', errorCode: error.code, message: error.message });
        return;
      }
      const again: ElementInstance = {
        ...instance,
        local,
        ...(wait.type === 'callActivity' ? { wait: { type: 'callActivity', processId } } : {}),
      };
      run.state.instances[instance.id] = again;
      if (element.kind === 'serviceTask') executeServiceTask(run, element, again);
      else if (element.kind === 'callActivity') startChildPathway(run, element, again, nextId(run, 'rerun'));
      return;
    }
    case 'entering':
      // Entered afresh, as a new instance; the failed one is left in the trail as retried.
      delete run.state.instances[instance.id];
      recordExit(run, instance.id, 'retried');
      run.queue.push({ elementId: instance.elementId, ...(wait.viaFlow ? { viaFlow: wait.viaFlow } : {}) });
      return;
    case 'leaving': {
      const assign =
        wait.propagate || element.outputs.length > 0
          ? tryOutputs(run, element.outputs, element.id, instance.local, wait.result)
          : () => undefined;
      if (assign instanceof Incident) {
        openIncident(run, instance, { kind: 'leavingFailed', errorCode: assign.code, message: assign.message });
        return;
      }
      delete run.state.instances[instance.id];
      assign();
      recordExit(run, instance.id, 'completed');
      takeFlows(run, element);
      return;
    }
    case 'userTask':
    case 'timer':
    case 'message':
    case 'eventGateway':
      // Never in an incident: they fail only on entry (`entering`) or exit (`leaving`).
      return;
  }
}

/**
 * Enters an element; when the pathway raises incidents and entering it fails (an interpreter incident: a FEEL
 * error, no flow to take, an invalid timer), everything the attempt did is undone and a token waits at the
 * element in an incident instead. An element the IR does not have still fails the pathway.
 */
function enterOrWait(run: Run, elementId: string, viaFlow?: string): void {
  if (!raisesIncidents(run)) {
    enter(run, elementId, viaFlow);
    return;
  }
  // The trail is only appended to before an incident can be thrown (entries are closed only by a terminate or
  // error end event, after their last expression), so its length is saved instead of a copy of a long history.
  const { trail, ...rest } = run.state;
  const saved = { rest: clone(rest), trail: trail.length, commands: run.commands.length, queue: run.queue.length };
  try {
    enter(run, elementId, viaFlow);
  } catch (error) {
    const element = run.ir.elements[elementId];
    if (!(error instanceof Incident) || !element) throw error;
    restoreState(run, { ...saved.rest, trail: run.state.trail.slice(0, saved.trail) });
    run.commands.length = saved.commands;
    run.queue.length = saved.queue;
    const instance = createInstance(run, element, {}, { type: 'entering', ...(viaFlow ? { viaFlow } : {}) });
    openIncident(run, instance, { kind: 'enteringFailed', errorCode: error.code, message: error.message });
  }
}

/** Puts the state back as it was saved (the Run keeps its state object, so the fields are replaced in place). */
function restoreState(run: Run, saved: PathwayState): void {
  const target = run.state as unknown as Record<string, unknown>;
  for (const key of Object.keys(target)) if (!(key in saved)) delete target[key];
  Object.assign(target, saved);
}

function failPathway(run: Run, error: PathwayError): void {
  for (const instance of Object.values(run.state.instances)) cancelInstance(run, instance, 'cancelled');
  run.queue.length = 0;
  run.state.joins = {};
  run.state.error = error;
  run.state.status = 'failed';
  run.state.endedAt = run.now;
  run.commands.push({ type: 'fail', error });
}

function finish(run: Run, status: 'completed' | 'terminated'): void {
  run.state.status = status;
  run.state.endedAt = run.now;
  run.commands.push({ type: 'complete', variables: clone(run.state.variables), terminated: status === 'terminated' });
}

/**
 * Runs queued tokens until every one waits or ends. An interpreter incident that escapes (a deadlock, an
 * element or flow the IR lacks, or any incident in a pathway started before incidents) fails the pathway.
 */
function advance(run: Run): Step {
  try {
    // Tokens run until each waits; then a buffered message an opened subscription waits for moves one on.
    for (;;) {
      while (run.queue.length > 0 && run.state.status === 'active') {
        const next = run.queue.shift() as { elementId: string; viaFlow?: string };
        enterOrWait(run, next.elementId, next.viaFlow);
      }
      if (run.state.status !== 'active' || !correlateBufferedMessage(run)) break;
    }
    if (run.state.status === 'active' && Object.keys(run.state.instances).length === 0) {
      if (Object.keys(run.state.joins).length > 0) {
        const [gatewayId] = Object.keys(run.state.joins);
        throw new Incident(
          INCIDENT_CODES.deadlock,
          `Parallel gateway '${gatewayId ?? ''}' waits for tokens that can never arrive`,
          gatewayId,
        );
      }
      finish(run, 'completed');
    }
  } catch (error) {
    if (!(error instanceof Incident)) throw error;
    failPathway(run, {
      code: error.code,
      message: error.message,
      ...(error.elementId ? { elementId: error.elementId } : {}),
    });
  }
  return stepOf(run);
}

function stepOf(run: Run): Step {
  return { state: run.state, commands: run.commands, ...(run.message ? { message: run.message } : {}) };
}

// ---- public API --------------------------------------------------------------------------------------------

export interface StartOptions {
  /** Start at this start event instead of the IR's none start event (for message start events). */
  readonly startEventId?: string;
  /**
   * Messages the parent pathway held for this one (`startChildPathway.messages`): buffered from the start, with
   * their own expiry and `heldFor` as this pathway's shell worked it out, and correlated when subscriptions open.
   */
  readonly messages?: readonly BufferedMessage[];
  /**
   * Failures nothing catches become incidents (a token waits at the element for a person) instead of failing
   * the pathway. Off by default: what pathways started before incidents did, and their histories replay.
   */
  readonly incidents?: boolean;
}

/** Starts a pathway: runs from the start event until every token waits or ends. */
export function start(ir: PathwayIR, variables: Variables, now: string, options: StartOptions = {}): Step {
  const run = createRun(
    ir,
    {
      irVersion: ir.irVersion,
      processId: ir.processId,
      status: 'active',
      variables: toPlainValue(clone(variables ?? {})) as Variables,
      nextSeq: 0,
      instances: {},
      timers: {},
      subscriptions: {},
      bufferedMessages: [],
      joins: {},
      trail: [],
      startedAt: '',
      ...(options.incidents ? { incidents: {} } : {}),
    },
    now,
  );
  (run.state as { startedAt: string }).startedAt = run.now;
  for (const message of options.messages ?? []) {
    if (Date.parse(message.expiresAt) <= run.nowMs) continue;
    // New ids from this pathway's counter: the parent's could collide with ids this one makes later.
    run.state.bufferedMessages?.push({ ...clone(message), id: nextId(run, `message:${message.messageName}`) });
  }
  if ((ir.irVersion as number) !== IR_VERSION) {
    failPathway(run, {
      code: INCIDENT_CODES.irVersion,
      message: `IR version ${String(ir.irVersion)} is not ${IR_VERSION}`,
    });
    return { state: run.state, commands: run.commands };
  }
  const startId = options.startEventId ?? ir.startEventId;
  const startEvent = ir.elements[startId];
  if (!startEvent || startEvent.kind !== 'startEvent') {
    failPathway(run, { code: INCIDENT_CODES.unsupported, message: `The pathway has no start event '${startId}'` });
    return { state: run.state, commands: run.commands };
  }
  run.queue.push({ elementId: startId });
  return advance(run);
}

const DROPPED: MessageOutcome = { outcome: 'dropped' };

/**
 * Applies an event to a state. Events about things that no longer exist (a timer already cancelled, a task
 * already closed) change nothing and produce no commands: with concurrent timers, messages and completions
 * that is normal, not an error. A message nobody waits for is buffered until its `expiresAt` when it has one,
 * and otherwise dropped; `Step.message` says which.
 */
export function handle(ir: PathwayIR, state: PathwayState, event: PathwayEvent, now: string): Step {
  const run = createRun(ir, clone(state), now);
  if (run.state.status !== 'active') {
    return { state: run.state, commands: [], ...(event.type === 'messageReceived' ? { message: DROPPED } : {}) };
  }
  dropExpiredMessages(run);
  try {
    apply(run, event);
  } catch (error) {
    if (!(error instanceof Incident)) throw error;
    failPathway(run, {
      code: error.code,
      message: error.message,
      ...(error.elementId ? { elementId: error.elementId } : {}),
    });
    return stepOf(run);
  }
  return advance(run);
}

function apply(run: Run, event: PathwayEvent): void {
  const { state } = run;
  switch (event.type) {
    case 'taskCompleted': {
      const instance = state.instances[event.taskId];
      if (instance?.wait.type !== 'userTask') return;
      run.commands.push({
        type: 'closeUserTask',
        taskId: instance.id,
        elementId: instance.elementId,
        outcome: 'completed',
      });
      completeInstance(run, instance, event.data ?? {});
      return;
    }
    case 'serviceTaskCompleted': {
      const instance = state.instances[event.activityId];
      if (instance?.wait.type !== 'serviceTask' || instance.incidentId) return;
      completeInstance(run, instance, event.result ?? {});
      return;
    }
    case 'serviceTaskFailed':
    case 'childFailed': {
      const id = event.type === 'serviceTaskFailed' ? event.activityId : event.childId;
      const instance = state.instances[id];
      if (!instance || instance.incidentId) return;
      if (instance.wait.type !== 'serviceTask' && instance.wait.type !== 'callActivity') return;
      raiseError(
        run,
        instance,
        event.errorCode,
        event.message,
        event.type === 'serviceTaskFailed'
          ? {
              ...(event.attempts !== undefined ? { attempts: event.attempts } : {}),
              ...(event.retryable !== undefined ? { retryable: event.retryable } : {}),
            }
          : {},
      );
      return;
    }
    case 'childCompleted': {
      const instance = state.instances[event.childId];
      if (instance?.wait.type !== 'callActivity' || instance.incidentId) return;
      const element = elementOf(run, instance.elementId);
      const propagate = element.kind === 'callActivity' && element.propagateAllChildVariables;
      completeInstance(run, instance, event.variables ?? {}, propagate);
      return;
    }
    case 'childEscalated': {
      const instance = state.instances[event.childId];
      if (instance?.wait.type !== 'callActivity' || instance.incidentId) return;
      const boundaries = elementOf(run, instance.elementId)
        .boundaryEvents.map((id) => run.ir.elements[id])
        .filter((b): b is BoundaryEventElement => b?.kind === 'boundaryEvent' && b.trigger.type === 'escalation');
      const code = (b: BoundaryEventElement): string | undefined =>
        b.trigger.type === 'escalation' ? b.trigger.escalationCode : undefined;
      const catcher =
        boundaries.find((b) => event.escalationCode !== undefined && code(b) === event.escalationCode) ??
        boundaries.find((b) => code(b) === undefined);
      if (catcher) fireBoundary(run, catcher, instance, {});
      return;
    }
    case 'timerFired':
      fireTimer(run, event.timerId);
      return;
    case 'messageReceived': {
      const subscription = Object.values(state.subscriptions).find(
        (s) => s.messageName === event.messageName && s.correlationKey === event.correlationKey,
      );
      const owner = subscription ? state.instances[subscription.ownerId] : undefined;
      if (subscription && owner) {
        run.message = { outcome: 'correlated', elementId: subscription.elementId, instanceId: owner.id };
        correlate(run, subscription, owner, event.variables ?? {});
        return;
      }
      const expiresAtMs = event.expiresAt === undefined ? Number.NaN : Date.parse(event.expiresAt);
      if (!(expiresAtMs > run.nowMs)) {
        run.message = DROPPED;
        return;
      }
      const message = bufferMessage(run, event, formatInstant(expiresAtMs));
      run.message = { outcome: 'buffered', messageId: message.id, expiresAt: message.expiresAt };
      return;
    }
    case 'incidentResolved':
      resolveIncident(run, event);
      return;
    case 'terminate':
      terminate(run, event.reason, event.terminatedBy);
      return;
  }
}

/** A person ends the pathway: every task and incident is withdrawn with their reason, and it ends `terminated`. */
function terminate(run: Run, reason: string, terminatedBy: string): void {
  const why = `terminated by ${terminatedBy}: ${reason}`;
  for (const instance of Object.values(run.state.instances)) cancelInstance(run, instance, 'cancelled', false, why);
  run.queue.length = 0;
  run.state.joins = {};
  run.state.termination = { reason, terminatedBy, at: run.now };
  finish(run, 'terminated');
}

function fireTimer(run: Run, timerId: string): void {
  const { state } = run;
  const timer = state.timers[timerId];
  if (!timer) return;
  const owner = state.instances[timer.ownerId];
  if (!owner) {
    delete state.timers[timerId];
    return;
  }
  const element = elementOf(run, timer.elementId);
  if (owner.wait.type === 'eventGateway') {
    delete state.timers[timerId];
    resolveEventGateway(run, owner, element.id, {});
    return;
  }
  if (element.kind !== 'boundaryEvent') {
    delete state.timers[timerId];
    completeInstance(run, owner, {});
    return;
  }
  if (!element.interrupting && timer.cycle && timer.cycle.remaining !== 0) {
    // A repeating reminder: the next one is due an interval after this one was, not after it was handled.
    const interval = parseIsoDuration(timer.cycle.interval);
    if (interval) {
      const dueAt = formatInstant(addIsoDuration(Date.parse(timer.dueAt), interval));
      const remaining = timer.cycle.remaining === null ? null : timer.cycle.remaining - 1;
      state.timers[timerId] = { ...timer, dueAt, cycle: { interval: timer.cycle.interval, remaining } };
      run.commands.push({ type: 'startTimer', timerId, elementId: timer.elementId, dueAt });
    }
  } else {
    delete state.timers[timerId];
  }
  fireBoundary(run, element, owner, {});
}
