/**
 * throughcare/no-unreachable: every element must be reachable from a start event by sequence flows (a
 * boundary event is reachable when the activity it is attached to is). An unreachable review is a review
 * that never happens.
 */
import { elementOf, elementsOf, is, type ModdleElement } from '../moddle';
import { reportFinding, type LintRuleFactory } from './rule';

const noUnreachable: LintRuleFactory = () => ({
  check(node, reporter) {
    if (!is(node, 'bpmn:Process')) return;
    const nodes = elementsOf(node, 'flowElements').filter((element) => is(element, 'bpmn:FlowNode'));
    const boundaryByHost = new Map<ModdleElement, ModdleElement[]>();
    for (const element of nodes) {
      const host = is(element, 'bpmn:BoundaryEvent') ? elementOf(element, 'attachedToRef') : undefined;
      if (host) boundaryByHost.set(host, [...(boundaryByHost.get(host) ?? []), element]);
    }
    const reached = new Set<ModdleElement>();
    const queue = nodes.filter((element) => is(element, 'bpmn:StartEvent'));
    while (queue.length > 0) {
      const current = queue.shift() as ModdleElement;
      if (reached.has(current)) continue;
      reached.add(current);
      for (const flow of elementsOf(current, 'outgoing')) {
        const target = elementOf(flow, 'targetRef');
        if (target) queue.push(target);
      }
      queue.push(...(boundaryByHost.get(current) ?? []));
    }
    for (const element of nodes) {
      if (reached.has(element)) continue;
      reportFinding(
        reporter,
        element,
        'Element cannot be reached from the start event, so it never runs',
        'Connect it with a sequence flow from an element on the path from the start event, or delete it.',
      );
    }
    return undefined;
  },
});

export default noUnreachable;
