/**
 * throughcare/known-task-type: a service task names the activity it runs (`zeebe:taskDefinition type`), and
 * that activity must exist in the worker's registry (passed in as `taskTypes`), or the case would retry a
 * task no worker can take. Also checks `retries` is a whole number.
 */
import { extensionOf, is, stringOf } from '../moddle';
import { reportFinding, stringListOption, type LintRuleFactory } from './rule';

const knownTaskType: LintRuleFactory = (config) => {
  const taskTypes = stringListOption(config, 'taskTypes');
  return {
    check(node, reporter) {
      if (!is(node, 'bpmn:ServiceTask')) return;
      const definition = extensionOf(node, 'zeebe:TaskDefinition');
      const type = stringOf(definition, 'type')?.trim();
      if (!type) {
        reportFinding(
          reporter,
          node,
          'Service task has no task type, so no activity would run it',
          'Set Task definition > Type (zeebe:taskDefinition type) to one of the registered activity names.',
        );
        return;
      }
      if (type.startsWith('=')) {
        reportFinding(
          reporter,
          node,
          `Service task type '${type}' is an expression; pathways call activities by fixed name`,
          'Set Task definition > Type to a literal activity name.',
        );
      } else if (taskTypes && !taskTypes.includes(type)) {
        reportFinding(
          reporter,
          node,
          `Service task type '${type}' is not a known activity`,
          `Use one of the registered activity names (${taskTypes.join(', ') || 'none registered'}), or register an activity called '${type}'.`,
        );
      }
      const retries = stringOf(definition, 'retries');
      if (retries !== undefined && !/^\s*\d+\s*$/.test(retries)) {
        reportFinding(
          reporter,
          node,
          `Service task retries '${retries}' is not a whole number`,
          'Set Task definition > Retries to a whole number of attempts, such as 3.',
        );
      }
    },
  };
};

export default knownTaskType;
