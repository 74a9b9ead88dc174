/**
 * throughcare/user-task-form: a clinician completes a user task through a form, so every user task names
 * one (`zeebe:formDefinition formId`) and, when the known forms are passed in as `formIds`, a known one.
 */
import { extensionOf, formIdOf, is } from '../moddle';
import { reportFinding, stringListOption, type LintRuleFactory } from './rule';

const userTaskForm: LintRuleFactory = (config) => {
  const formIds = stringListOption(config, 'formIds');
  return {
    check(node, reporter) {
      if (!is(node, 'bpmn:UserTask')) return;
      const form = extensionOf(node, 'zeebe:FormDefinition');
      const formId = formIdOf(form)?.trim();
      if (!formId) {
        reportFinding(
          reporter,
          node,
          'User task has no form, so a clinician has nothing to complete',
          'Link a form: Form > Type "Camunda Form (linked)" with the form id (zeebe:formDefinition formId).',
        );
        return;
      }
      if (formIds && !formIds.includes(formId)) {
        reportFinding(
          reporter,
          node,
          `User task form '${formId}' is not a known form`,
          `Use one of the published forms (${formIds.join(', ') || 'none published'}), or publish a form with id '${formId}'.`,
        );
      }
    },
  };
};

export default userTaskForm;
