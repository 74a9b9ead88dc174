/**
 * throughcare/complete-definitions: the references an executed element needs to run are present. A message
 * catch event needs a message with a name and a correlation key (or no case could receive it); a call
 * activity needs the process id of the pathway it calls; an error end event needs an error code for a
 * parent's error boundary event to match, and an escalation throw event an escalation code.
 */
import { elementOf, elementsOf, extensionOf, is, stringOf, type ModdleElement } from '../moddle';
import { reportFinding, type LintRuleFactory } from './rule';

function isCatching(node: ModdleElement): boolean {
  return is(node, 'bpmn:IntermediateCatchEvent') || is(node, 'bpmn:BoundaryEvent') || is(node, 'bpmn:StartEvent');
}

const completeDefinitions: LintRuleFactory = () => ({
  check(node, reporter) {
    if (is(node, 'bpmn:CallActivity')) {
      if (!stringOf(extensionOf(node, 'zeebe:CalledElement'), 'processId')?.trim()) {
        reportFinding(
          reporter,
          node,
          'Call activity does not say which pathway it calls',
          'Set Called element > Process ID (zeebe:calledElement processId) to the id of the pathway to run.',
        );
      }
      return;
    }
    for (const definition of elementsOf(node, 'eventDefinitions')) {
      if (is(definition, 'bpmn:MessageEventDefinition') && isCatching(node)) {
        const message = elementOf(definition, 'messageRef');
        if (!message || !stringOf(message, 'name')?.trim()) {
          reportFinding(
            reporter,
            node,
            'Message event has no message name, so no message can reach it',
            'Select or create a global message with a name (e.g. "recall") for this event.',
          );
        } else if (
          !is(node, 'bpmn:StartEvent') &&
          !stringOf(extensionOf(message, 'zeebe:Subscription'), 'correlationKey')?.trim()
        ) {
          reportFinding(
            reporter,
            node,
            `Message '${stringOf(message, 'name') ?? ''}' has no correlation key, so it cannot be matched to this case`,
            "Set the message's Subscription correlation key to a FEEL expression such as =caseId.",
          );
        }
      }
      if (
        is(definition, 'bpmn:EscalationEventDefinition') &&
        (is(node, 'bpmn:EndEvent') || is(node, 'bpmn:IntermediateThrowEvent'))
      ) {
        if (!stringOf(elementOf(definition, 'escalationRef'), 'escalationCode')?.trim()) {
          reportFinding(
            reporter,
            node,
            'Escalation event throws no escalation code, so the parent pathway cannot tell it apart',
            'Select or create a global escalation with an escalation code (e.g. MISSED_APPOINTMENT).',
          );
        }
      }
      if (is(definition, 'bpmn:ErrorEventDefinition') && is(node, 'bpmn:EndEvent')) {
        if (!stringOf(elementOf(definition, 'errorRef'), 'errorCode')?.trim()) {
          reportFinding(
            reporter,
            node,
            'Error end event throws no error code, so no error boundary event can tell it apart',
            'Select or create a global error with an error code (e.g. NOT_ELIGIBLE) for this end event.',
          );
        }
      }
    }
  },
});

export default completeDefinitions;
