/**
 * throughcare/start-event-form: a pathway may declare the variables a case must be started with as a form on
 * its none start event (`zeebe:formDefinition formId`, as Camunda 8 start forms are linked). The engine checks
 * a case's start variables against that form before the case starts, so the form must name a published one
 * (when the known forms are passed in as `formIds`) and sit on the none start event the case starts from.
 * A start form is optional: a pathway without one starts with whatever variables it is given.
 */
import { elementsOf, extensionOf, formIdOf, is } from '../moddle';
import { reportFinding, stringListOption, type LintRuleFactory } from './rule';

const startEventForm: LintRuleFactory = (config) => {
  const formIds = stringListOption(config, 'formIds');
  return {
    check(node, reporter) {
      if (!is(node, 'bpmn:StartEvent')) return;
      const form = extensionOf(node, 'zeebe:FormDefinition');
      if (!form) return;
      const formId = formIdOf(form)?.trim();
      if (!formId) {
        reportFinding(
          reporter,
          node,
          'Start event has a form definition without a form id',
          'Give the start form its form id (zeebe:formDefinition formId), or remove the form definition.',
        );
        return;
      }
      if (elementsOf(node, 'eventDefinitions').length > 0) {
        reportFinding(
          reporter,
          node,
          `Start form '${formId}' is on a start event with a trigger: only a none start event can have a start form`,
          'Move the form to the none start event the case starts from; a message start takes its variables from the message.',
        );
        return;
      }
      if (formIds && !formIds.includes(formId)) {
        reportFinding(
          reporter,
          node,
          `Start form '${formId}' is not a known form`,
          `Use one of the published forms (${formIds.join(', ') || 'none published'}), or publish a form with id '${formId}'.`,
        );
      }
    },
  };
};

export default startEventForm;
