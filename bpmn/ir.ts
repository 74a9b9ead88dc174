/**
 * The pathway intermediate representation (IR): the plain-JSON form a BPMN process compiles to.
 * It travels inside a workflow's start input and is stored with each deployed pathway version, so it must
 * stay JSON (no classes, no functions, no undefined-dependent meaning) and every change to its shape bumps
 * `IR_VERSION`. Sandbox-safe: types and constants only, no imports.
 */

/**
 * Bump when the IR's shape or meaning changes; the interpreter refuses an IR version it does not know. An
 * optional field the interpreter does not read (`startFormId`) is added without a bump: deployed versions and
 * the IR inside running cases' start input stay version 1, and a bump would make the interpreter refuse them.
 */
export const IR_VERSION = 1 as const;

/**
 * A Zeebe attribute value. Zeebe reads a value that starts with `=` as a FEEL expression and anything else
 * as a literal string; the compiler keeps that distinction explicit (`feel` holds the expression without `=`).
 */
export type ValueExpression = { readonly feel: string } | { readonly literal: string };

/** `zeebe:ioMapping` input or output: `source` is evaluated, its value is written to the variable `target`. */
export interface IoMapping {
  readonly source: ValueExpression;
  /** A variable name, or a dotted path (`review.outcome`) that writes into a nested context. */
  readonly target: string;
}

export const TIMER_TYPES = ['duration', 'date', 'cycle'] as const;
export type TimerType = (typeof TIMER_TYPES)[number];

/** `bpmn:timerEventDefinition` with exactly one of timeDuration / timeDate / timeCycle. */
export interface TimerDefinition {
  readonly timerType: TimerType;
  /** ISO 8601 literal (`P5D`, `2026-01-01T09:00:00Z`, `R3/P1D`) or a FEEL expression returning one. */
  readonly value: ValueExpression;
}

export interface MessageDefinition {
  /** `bpmn:message` name (literal, or FEEL when it starts with `=`). */
  readonly messageName: ValueExpression;
  /** `zeebe:subscription correlationKey`, evaluated when the subscription opens. */
  readonly correlationKey?: ValueExpression;
}

/** What an event waits for or throws. */
export type EventTrigger =
  | { readonly type: 'none' }
  | { readonly type: 'timer'; readonly timer: TimerDefinition }
  | ({ readonly type: 'message' } & MessageDefinition)
  /** errorCode absent on a boundary event: catches every error. */
  | { readonly type: 'error'; readonly errorCode?: string; readonly errorName?: string }
  | { readonly type: 'escalation'; readonly escalationCode?: string }
  | { readonly type: 'terminate' }
  /** An event definition the interpreter does not execute (signal, conditional, link, compensation...). */
  | { readonly type: 'unsupported'; readonly bpmnType: string };

export type EventTriggerType = EventTrigger['type'];

interface ElementBase {
  readonly id: string;
  readonly name?: string;
  /** Sequence flow ids, in document order. */
  readonly incoming: readonly string[];
  readonly outgoing: readonly string[];
  /** `zeebe:ioMapping` inputs: evaluated on entry into the element's local variables. */
  readonly inputs: readonly IoMapping[];
  /** `zeebe:ioMapping` outputs: evaluated on completion into process variables. */
  readonly outputs: readonly IoMapping[];
  /** `zeebe:properties` name/value pairs (free-form metadata such as SNOMED CT codes). */
  readonly properties: Readonly<Record<string, string>>;
  /** Ids of boundary events attached to this element (activities only; empty otherwise). */
  readonly boundaryEvents: readonly string[];
  /** Documentation text, if any. */
  readonly documentation?: string;
}

export interface StartEventElement extends ElementBase {
  readonly kind: 'startEvent';
  readonly trigger: EventTrigger;
  /** `zeebe:formDefinition formId` on a start event (a form that starts the pathway). */
  readonly formId?: string;
}

export interface UserTaskElement extends ElementBase {
  readonly kind: 'userTask';
  /** `zeebe:formDefinition formId` (or formKey for job-worker user tasks). */
  readonly formId?: string;
  /** `zeebe:assignmentDefinition`. Literal groups/users are comma-separated lists. */
  readonly assignee?: ValueExpression;
  readonly candidateGroups?: ValueExpression;
  readonly candidateUsers?: ValueExpression;
  /** `zeebe:taskSchedule`: date-times (or, our extension, durations from entry). */
  readonly dueDate?: ValueExpression;
  readonly followUpDate?: ValueExpression;
  /**
   * `zeebe:priorityDefinition priority`, if present: a whole number from 0 to 100 (literal, checked by lint) or FEEL
   * evaluated when the task opens. Absent: the worklist's default, 50 (Camunda's).
   */
  readonly priority?: ValueExpression;
  /** `zeebe:taskHeaders`. */
  readonly headers: Readonly<Record<string, string>>;
  /** True when `zeebe:userTask` is present (a Camunda user task rather than a job-worker one). */
  readonly isZeebeUserTask: boolean;
}

export interface ServiceTaskElement extends ElementBase {
  readonly kind: 'serviceTask';
  /** `zeebe:taskDefinition type`: the activity name the workflow calls. Empty when missing. */
  readonly taskType: string;
  /** `zeebe:taskDefinition retries` (attempts in total); Zeebe's default is 3. */
  readonly retries: number;
  readonly headers: Readonly<Record<string, string>>;
}

export interface CallActivityElement extends ElementBase {
  readonly kind: 'callActivity';
  /** `zeebe:calledElement processId`. */
  readonly processId: ValueExpression;
  /** Zeebe default true: all child variables flow back when there are no output mappings. */
  readonly propagateAllChildVariables: boolean;
  /** Zeebe default true: all parent variables flow into the child besides the input mappings. */
  readonly propagateAllParentVariables: boolean;
}

export interface IntermediateCatchEventElement extends ElementBase {
  readonly kind: 'intermediateCatchEvent';
  readonly trigger: EventTrigger;
}

export interface IntermediateThrowEventElement extends ElementBase {
  readonly kind: 'intermediateThrowEvent';
  readonly trigger: EventTrigger;
}

export interface BoundaryEventElement extends ElementBase {
  readonly kind: 'boundaryEvent';
  readonly attachedTo: string;
  /** `cancelActivity`: true unless the modeller made it non-interrupting. */
  readonly interrupting: boolean;
  readonly trigger: EventTrigger;
}

export interface EndEventElement extends ElementBase {
  readonly kind: 'endEvent';
  readonly trigger: EventTrigger;
}

export interface ExclusiveGatewayElement extends ElementBase {
  readonly kind: 'exclusiveGateway';
  /** Sequence flow id of the default flow. */
  readonly defaultFlow?: string;
}

export interface ParallelGatewayElement extends ElementBase {
  readonly kind: 'parallelGateway';
}

export interface EventBasedGatewayElement extends ElementBase {
  readonly kind: 'eventBasedGateway';
}

/** Any other flow node (subprocess, script task, inclusive gateway...): kept so lint can name it. */
export interface UnsupportedElement extends ElementBase {
  readonly kind: 'unsupported';
  readonly bpmnType: string;
}

export type PathwayElement =
  | StartEventElement
  | UserTaskElement
  | ServiceTaskElement
  | CallActivityElement
  | IntermediateCatchEventElement
  | IntermediateThrowEventElement
  | BoundaryEventElement
  | EndEventElement
  | ExclusiveGatewayElement
  | ParallelGatewayElement
  | EventBasedGatewayElement
  | UnsupportedElement;

export type ElementKind = PathwayElement['kind'];

export interface SequenceFlow {
  readonly id: string;
  readonly name?: string;
  readonly sourceRef: string;
  readonly targetRef: string;
  /** FEEL condition without the leading `=`. */
  readonly condition?: string;
  /** True when this flow is its source gateway's default flow. */
  readonly isDefault: boolean;
}

export interface PathwayIR {
  readonly irVersion: typeof IR_VERSION;
  /** `bpmn:process id`: the pathway's stable key (also the call activity `processId`). */
  readonly processId: string;
  readonly name?: string;
  /** `zeebe:versionTag`, if the modeller set one. */
  readonly versionTag?: string;
  /** The none start event (or, when there is none, the first start event). */
  readonly startEventId: string;
  /**
   * The form of that start event (`zeebe:formDefinition formId`): a JSON Schema of the variables a case must
   * be started with, checked before the case starts. Absent when the pathway declares none (and in IR compiled
   * before start forms were recorded), in which case any variables are accepted.
   */
  readonly startFormId?: string;
  readonly elements: Readonly<Record<string, PathwayElement>>;
  readonly flows: Readonly<Record<string, SequenceFlow>>;
  /** `zeebe:properties` on the process. */
  readonly properties: Readonly<Record<string, string>>;
}

/** A lint finding: data for the designer, the CLI and deploy, never an exception. */
export interface LintFinding {
  /** BPMN element id the finding is about (a flow, a node, the process). */
  readonly id: string;
  /** The element's name, when it has one, so a commissioner recognises it. */
  readonly name?: string;
  /** Rule name: bpmnlint's own (`no-disconnected`) or ours (`throughcare/known-task-type`). */
  readonly rule: string;
  readonly severity: 'error' | 'warning';
  readonly message: string;
  /** How to fix it, in the modeller's terms. */
  readonly fix: string;
}
