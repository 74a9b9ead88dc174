/**
 * throughcare/exclusive-gateway-default: an exclusive gateway that chooses between several conditions needs
 * a default flow, or a case whose data matches no condition stops there with an incident.
 */
import { elementOf, elementsOf, is } from '../moddle';
import { reportFinding, type LintRuleFactory } from './rule';

const exclusiveGatewayDefault: LintRuleFactory = () => ({
  check(node, reporter) {
    if (!is(node, 'bpmn:ExclusiveGateway')) return;
    const conditional = elementsOf(node, 'outgoing').filter((flow) => elementOf(flow, 'conditionExpression'));
    if (conditional.length >= 2 && !elementOf(node, 'default')) {
      reportFinding(
        reporter,
        node,
        'Exclusive gateway has conditional flows and no default flow; a case matching no condition would stop here',
        'Mark one outgoing sequence flow as the default flow (it is taken when no condition is true).',
      );
    }
  },
});

export default exclusiveGatewayDefault;
