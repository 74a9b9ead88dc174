/**
 * throughcare/supported-element: every flow node must be something the pathway interpreter executes. A
 * pathway that deploys but stops with an incident at an unknown element strands a person's care; this
 * rule refuses it at design time instead.
 */
import { triggerOf } from '../compile-pathway';
import { is, type ModdleElement } from '../moddle';
import { isTopLevel, reportFinding, type LintRuleFactory } from './rule';

export const EXECUTED_TYPES = [
  'bpmn:StartEvent',
  'bpmn:EndEvent',
  'bpmn:UserTask',
  'bpmn:ServiceTask',
  'bpmn:CallActivity',
  'bpmn:IntermediateCatchEvent',
  'bpmn:IntermediateThrowEvent',
  'bpmn:BoundaryEvent',
  'bpmn:ExclusiveGateway',
  'bpmn:ParallelGateway',
  'bpmn:EventBasedGateway',
];

/** The event triggers each event kind executes. */
export const EXECUTED_TRIGGERS: Record<string, readonly string[]> = {
  'bpmn:StartEvent': ['none', 'message'],
  'bpmn:EndEvent': ['none', 'error', 'terminate', 'escalation'],
  'bpmn:IntermediateCatchEvent': ['timer', 'message'],
  'bpmn:IntermediateThrowEvent': ['none', 'escalation'],
  'bpmn:BoundaryEvent': ['timer', 'message', 'error', 'escalation'],
};

const FIX_ELEMENT =
  'Model it with the supported elements: user task, service task, call activity, timer and message events, ' +
  'exclusive, parallel or event-based gateways, escalation events, and none, error or terminate end events.';

function describe(node: ModdleElement): string {
  return node.$type
    .replace(/^bpmn:/, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();
}

const supportedElement: LintRuleFactory = () => ({
  check(node, reporter) {
    if (!is(node, 'bpmn:FlowNode') || !isTopLevel(node)) return;
    if (!EXECUTED_TYPES.includes(node.$type)) {
      reportFinding(reporter, node, `A ${describe(node)} is not executed by Throughcare pathways`, FIX_ELEMENT);
      return;
    }
    const loop = node['loopCharacteristics'] as ModdleElement | undefined;
    if (loop) {
      // The interpreter has no loops: such an activity would run once where the modeller asked for many.
      const kind = is(loop, 'bpmn:MultiInstanceLoopCharacteristics') ? 'multi-instance' : 'loop';
      reportFinding(
        reporter,
        node,
        `A ${kind} ${describe(node)} is not executed by Throughcare pathways: it would run only once`,
        'Remove the marker and model each run explicitly (one branch per item behind a parallel gateway), or loop back with an exclusive gateway.',
      );
    }
    const allowed = EXECUTED_TRIGGERS[node.$type];
    if (!allowed) return;
    const trigger = triggerOf(node);
    if (!allowed.includes(trigger.type)) {
      const what = trigger.type === 'unsupported' ? trigger.bpmnType.replace(/^bpmn:/, '') : `${trigger.type} event`;
      reportFinding(
        reporter,
        node,
        `A ${describe(node)} with a ${what} is not executed by Throughcare pathways`,
        `Use one of: ${allowed.map((type) => `${type} ${describe(node)}`).join(', ')}.`,
      );
      return;
    }
    if (is(node, 'bpmn:BoundaryEvent') && trigger.type === 'escalation') {
      const host = node['attachedToRef'] as ModdleElement | undefined;
      if (host && !is(host, 'bpmn:CallActivity')) {
        reportFinding(
          reporter,
          node,
          `An escalation boundary event on a ${describe(host)} never fires: only a called pathway escalates`,
          'Attach the escalation boundary event to a call activity, or remove it.',
        );
      }
    }
    if (is(node, 'bpmn:BoundaryEvent') && trigger.type === 'error') {
      const host = node['attachedToRef'] as ModdleElement | undefined;
      if (host && !is(host, 'bpmn:ServiceTask') && !is(host, 'bpmn:CallActivity')) {
        reportFinding(
          reporter,
          node,
          `An error boundary event on a ${describe(host)} never fires: only service tasks and call activities fail`,
          'Attach the error boundary event to a service task or call activity, or remove it.',
        );
      }
    }
  },
});

export default supportedElement;
