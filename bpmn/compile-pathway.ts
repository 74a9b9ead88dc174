/**
 * BPMN 2.0 XML (Zeebe vocabulary) → pathway IR. The compiler is total over what bpmn-moddle can read: every
 * flow node becomes an IR element (ones we do not execute become `unsupported`, for lint to name), and every
 * Zeebe attribute the interpreter needs is copied across verbatim, marked literal or FEEL. Judging the
 * content (unknown task types, bad FEEL, bad timers) is lint's job, not the compiler's.
 */
import {
  IR_VERSION,
  type EventTrigger,
  type IoMapping,
  type PathwayElement,
  type PathwayIR,
  type SequenceFlow,
  type TimerDefinition,
  type ValueExpression,
} from './ir';
import { PathwayCompileError } from './errors';
import {
  booleanOf,
  elementOf,
  elementsOf,
  expressionBodyOf,
  extensionOf,
  extensionsOf,
  is,
  processesOf,
  propertiesOf,
  readBpmn,
  formIdOf,
  stringOf,
  type ModdleElement,
} from './moddle';

/** Zeebe's default number of job attempts when `retries` is absent. */
export const DEFAULT_RETRIES = 3;

/** Reads a Zeebe attribute: `=expr` is FEEL, anything else a literal. */
export function toValueExpression(text: string): ValueExpression {
  const trimmed = text.trim();
  return trimmed.startsWith('=') ? { feel: trimmed.slice(1).trim() } : { literal: text };
}

function optionalValue(text: string | undefined): ValueExpression | undefined {
  return text === undefined || text.trim() === '' ? undefined : toValueExpression(text);
}

function idsOf(element: ModdleElement, property: string): string[] {
  return elementsOf(element, property)
    .map((ref) => ref.id)
    .filter((id): id is string => typeof id === 'string');
}

function ioMappingsOf(element: ModdleElement, property: 'inputParameters' | 'outputParameters'): IoMapping[] {
  const mapping = extensionOf(element, 'zeebe:IoMapping');
  return elementsOf(mapping, property).map((parameter) => ({
    source: toValueExpression(stringOf(parameter, 'source') ?? ''),
    target: stringOf(parameter, 'target') ?? '',
  }));
}

function headersOf(element: ModdleElement): Record<string, string> {
  const out: Record<string, string> = {};
  for (const headers of extensionsOf(element, 'zeebe:TaskHeaders')) {
    for (const header of elementsOf(headers, 'values')) {
      const key = stringOf(header, 'key');
      if (key !== undefined) out[key] = stringOf(header, 'value') ?? '';
    }
  }
  return out;
}

function timerOf(definition: ModdleElement): TimerDefinition | undefined {
  const candidates = [
    ['duration', 'timeDuration'],
    ['date', 'timeDate'],
    ['cycle', 'timeCycle'],
  ] as const;
  for (const [type, property] of candidates) {
    const body = expressionBodyOf(definition, property);
    if (body !== undefined) return { timerType: type, value: toValueExpression(body) };
  }
  return undefined;
}

/** The trigger of an event: its single event definition, or none. Several definitions are unsupported. */
export function triggerOf(event: ModdleElement): EventTrigger {
  const definitions = elementsOf(event, 'eventDefinitions');
  const [definition] = definitions;
  if (!definition) return { type: 'none' };
  if (definitions.length > 1) return { type: 'unsupported', bpmnType: 'multiple event definitions' };
  if (is(definition, 'bpmn:TimerEventDefinition')) {
    const timer = timerOf(definition);
    return timer ? { type: 'timer', timer } : { type: 'unsupported', bpmnType: 'bpmn:TimerEventDefinition (empty)' };
  }
  if (is(definition, 'bpmn:MessageEventDefinition')) {
    const message = elementOf(definition, 'messageRef');
    const correlationKey = optionalValue(stringOf(extensionOf(message, 'zeebe:Subscription'), 'correlationKey'));
    return {
      type: 'message',
      messageName: toValueExpression(stringOf(message, 'name') ?? ''),
      ...(correlationKey ? { correlationKey } : {}),
    };
  }
  if (is(definition, 'bpmn:ErrorEventDefinition')) {
    const error = elementOf(definition, 'errorRef');
    const errorCode = stringOf(error, 'errorCode');
    const errorName = stringOf(error, 'name');
    return { type: 'error', ...(errorCode ? { errorCode } : {}), ...(errorName ? { errorName } : {}) };
  }
  if (is(definition, 'bpmn:EscalationEventDefinition')) {
    const escalationCode = stringOf(elementOf(definition, 'escalationRef'), 'escalationCode');
    return { type: 'escalation', ...(escalationCode ? { escalationCode } : {}) };
  }
  if (is(definition, 'bpmn:TerminateEventDefinition')) return { type: 'terminate' };
  return { type: 'unsupported', bpmnType: definition.$type };
}

/** A node's flows in one direction: those it lists first (modelers list them), then any only the flows name. */
interface FlowIndex {
  readonly incoming: Map<string, string[]>;
  readonly outgoing: Map<string, string[]>;
}

function linkedFlows(node: ModdleElement, direction: 'incoming' | 'outgoing', index: FlowIndex): string[] {
  const byRef = index[direction].get(node.id ?? '') ?? [];
  const listed = idsOf(node, direction).filter((id) => byRef.includes(id));
  return [...listed, ...byRef.filter((id) => !listed.includes(id))];
}

function compileElement(
  node: ModdleElement,
  boundaryIndex: Map<string, string[]>,
  flowIndex: FlowIndex,
): PathwayElement {
  const id = node.id ?? '';
  const name = stringOf(node, 'name');
  const documentation = elementsOf(node, 'documentation')
    .map((doc) => stringOf(doc, 'text') ?? '')
    .join('\n')
    .trim();
  const base = {
    id,
    ...(name ? { name } : {}),
    incoming: linkedFlows(node, 'incoming', flowIndex),
    outgoing: linkedFlows(node, 'outgoing', flowIndex),
    inputs: ioMappingsOf(node, 'inputParameters'),
    outputs: ioMappingsOf(node, 'outputParameters'),
    properties: propertiesOf(node),
    boundaryEvents: boundaryIndex.get(id) ?? [],
    ...(documentation ? { documentation } : {}),
  };

  switch (node.$type) {
    case 'bpmn:StartEvent': {
      const formId = linkedFormIdOf(node);
      return { ...base, kind: 'startEvent', trigger: triggerOf(node), ...(formId ? { formId } : {}) };
    }
    case 'bpmn:UserTask': {
      const assignment = extensionOf(node, 'zeebe:AssignmentDefinition');
      const schedule = extensionOf(node, 'zeebe:TaskSchedule');
      const formId = linkedFormIdOf(node);
      const optional = {
        formId,
        assignee: optionalValue(stringOf(assignment, 'assignee')),
        candidateGroups: optionalValue(stringOf(assignment, 'candidateGroups')),
        candidateUsers: optionalValue(stringOf(assignment, 'candidateUsers')),
        dueDate: optionalValue(stringOf(schedule, 'dueDate')),
        followUpDate: optionalValue(stringOf(schedule, 'followUpDate')),
        priority: optionalValue(stringOf(extensionOf(node, 'zeebe:PriorityDefinition'), 'priority')),
      };
      return {
        ...base,
        kind: 'userTask',
        ...withoutUndefined(optional),
        headers: headersOf(node),
        isZeebeUserTask: extensionOf(node, 'zeebe:UserTask') !== undefined,
      };
    }
    case 'bpmn:ServiceTask': {
      const definition = extensionOf(node, 'zeebe:TaskDefinition');
      const retriesText = stringOf(definition, 'retries');
      const retries =
        retriesText !== undefined && /^\d+$/.test(retriesText.trim()) ? Number(retriesText) : DEFAULT_RETRIES;
      return {
        ...base,
        kind: 'serviceTask',
        taskType: stringOf(definition, 'type') ?? '',
        retries,
        headers: headersOf(node),
      };
    }
    case 'bpmn:CallActivity': {
      const called = extensionOf(node, 'zeebe:CalledElement');
      return {
        ...base,
        kind: 'callActivity',
        processId: toValueExpression(stringOf(called, 'processId') ?? ''),
        propagateAllChildVariables: booleanOf(called, 'propagateAllChildVariables') ?? true,
        propagateAllParentVariables: booleanOf(called, 'propagateAllParentVariables') ?? true,
      };
    }
    case 'bpmn:IntermediateCatchEvent':
      return { ...base, kind: 'intermediateCatchEvent', trigger: triggerOf(node) };
    case 'bpmn:IntermediateThrowEvent':
      return { ...base, kind: 'intermediateThrowEvent', trigger: triggerOf(node) };
    case 'bpmn:BoundaryEvent':
      return {
        ...base,
        kind: 'boundaryEvent',
        attachedTo: elementOf(node, 'attachedToRef')?.id ?? '',
        interrupting: booleanOf(node, 'cancelActivity') ?? true,
        trigger: triggerOf(node),
      };
    case 'bpmn:EndEvent':
      return { ...base, kind: 'endEvent', trigger: triggerOf(node) };
    case 'bpmn:ExclusiveGateway': {
      const defaultFlow = elementOf(node, 'default')?.id;
      return { ...base, kind: 'exclusiveGateway', ...(defaultFlow ? { defaultFlow } : {}) };
    }
    case 'bpmn:ParallelGateway':
      return { ...base, kind: 'parallelGateway' };
    case 'bpmn:EventBasedGateway':
      return { ...base, kind: 'eventBasedGateway' };
    default:
      return { ...base, kind: 'unsupported', bpmnType: node.$type };
  }
}

function linkedFormIdOf(node: ModdleElement): string | undefined {
  const form = extensionOf(node, 'zeebe:FormDefinition');
  const formId = formIdOf(form);
  return formId && formId.trim() !== '' ? formId.trim() : undefined;
}

function withoutUndefined<T extends Record<string, unknown>>(record: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) if (value !== undefined) out[key] = value;
  return out as { [K in keyof T]?: Exclude<T[K], undefined> };
}

/** Picks the process a pathway file describes: the first executable one, else the first. */
export function selectProcess(definitions: ModdleElement): ModdleElement {
  const [process] = processesOf(definitions);
  if (!process) throw new PathwayCompileError('BPMN_NO_PROCESS', 'The BPMN file contains no bpmn:process.');
  return process;
}

/** Compiles an already-read process element to IR (used by compilePathway and by lint rules that need flow). */
export function compileProcess(process: ModdleElement): PathwayIR {
  const flowElements = elementsOf(process, 'flowElements');
  const boundaryIndex = new Map<string, string[]>();
  for (const node of flowElements) {
    if (!is(node, 'bpmn:BoundaryEvent') || !node.id) continue;
    const attachedTo = elementOf(node, 'attachedToRef')?.id;
    if (attachedTo) boundaryIndex.set(attachedTo, [...(boundaryIndex.get(attachedTo) ?? []), node.id]);
  }

  // A flow's sourceRef and targetRef are what BPMN defines; a node's incoming/outgoing lists are optional copies.
  const flowIndex: FlowIndex = { incoming: new Map(), outgoing: new Map() };
  for (const node of flowElements) {
    if (!is(node, 'bpmn:SequenceFlow') || !node.id) continue;
    const source = elementOf(node, 'sourceRef')?.id;
    const target = elementOf(node, 'targetRef')?.id;
    if (source) flowIndex.outgoing.set(source, [...(flowIndex.outgoing.get(source) ?? []), node.id]);
    if (target) flowIndex.incoming.set(target, [...(flowIndex.incoming.get(target) ?? []), node.id]);
  }

  const elements: Record<string, PathwayElement> = {};
  const flows: Record<string, SequenceFlow> = {};
  for (const node of flowElements) {
    if (!node.id) continue;
    if (is(node, 'bpmn:SequenceFlow')) {
      const source = elementOf(node, 'sourceRef');
      const body = expressionBodyOf(node, 'conditionExpression');
      const name = stringOf(node, 'name');
      flows[node.id] = {
        id: node.id,
        ...(name ? { name } : {}),
        sourceRef: source?.id ?? '',
        targetRef: elementOf(node, 'targetRef')?.id ?? '',
        ...(body !== undefined && body.trim() !== '' ? { condition: body.trim().replace(/^=\s*/, '') } : {}),
        isDefault: source !== undefined && elementOf(source, 'default')?.id === node.id,
      };
    } else if (is(node, 'bpmn:FlowNode')) {
      elements[node.id] = compileElement(node, boundaryIndex, flowIndex);
    }
    // Data objects, data stores and associations carry no behaviour; they are left out of the IR.
  }

  const starts = Object.values(elements).filter((element) => element.kind === 'startEvent');
  const start = starts.find((element) => element.trigger.type === 'none') ?? starts[0];
  const name = stringOf(process, 'name');
  const versionTag = stringOf(extensionOf(process, 'zeebe:VersionTag'), 'value');
  return {
    irVersion: IR_VERSION,
    processId: process.id ?? '',
    ...(name ? { name } : {}),
    ...(versionTag ? { versionTag } : {}),
    startEventId: start?.id ?? '',
    ...(start?.formId ? { startFormId: start.formId } : {}),
    elements,
    flows,
    properties: propertiesOf(process),
  };
}

/** Compiles BPMN XML to IR without linting. Throws PathwayCompileError only when there is no IR to return. */
export async function compilePathwayIR(xml: string): Promise<PathwayIR> {
  const { rootElement } = await readBpmn(xml);
  return compileProcess(selectProcess(rootElement));
}
