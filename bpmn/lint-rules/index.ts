/**
 * Throughcare's own bpmnlint rules, registered under the plugin name `throughcare` (rule names such as
 * `throughcare/known-task-type`). To add a rule: write `<name>.rule.ts` exporting a factory, add it here,
 * give it a severity in `THROUGHCARE_RULES`, and add `<name>.test.ts` with valid/invalid fixtures.
 */
import completeDefinitions from './complete-definitions.rule';
import exclusiveGatewayDefault from './exclusive-gateway-default.rule';
import feelSyntax from './feel-syntax.rule';
import knownTaskType from './known-task-type.rule';
import noUnreachable from './no-unreachable.rule';
import { type LintRuleFactory } from './rule';
import startEventForm from './start-event-form.rule';
import supportedElement from './supported-element.rule';
import timerIso8601 from './timer-iso8601.rule';
import userTaskForm from './user-task-form.rule';
import userTaskPriority from './user-task-priority.rule';

export type { LintRule, LintRuleFactory, RuleReporter } from './rule';

export const THROUGHCARE_PLUGIN = 'throughcare';

export const throughcareRules: Record<string, LintRuleFactory> = {
  'supported-element': supportedElement,
  'known-task-type': knownTaskType,
  'user-task-form': userTaskForm,
  'user-task-priority': userTaskPriority,
  'start-event-form': startEventForm,
  'feel-syntax': feelSyntax,
  'timer-iso8601': timerIso8601,
  'exclusive-gateway-default': exclusiveGatewayDefault,
  'no-unreachable': noUnreachable,
  'complete-definitions': completeDefinitions,
};

/** Severity of each of our rules; options (`taskTypes`, `formIds`) are added by lintPathway. */
export const THROUGHCARE_RULES: Record<string, 'error' | 'warn'> = {
  'supported-element': 'error',
  'known-task-type': 'error',
  'user-task-form': 'error',
  'user-task-priority': 'error',
  'start-event-form': 'error',
  'feel-syntax': 'error',
  'timer-iso8601': 'error',
  'exclusive-gateway-default': 'warn',
  'no-unreachable': 'error',
  'complete-definitions': 'error',
};
