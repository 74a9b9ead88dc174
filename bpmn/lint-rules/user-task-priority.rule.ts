/**
 * throughcare/user-task-priority: a literal `zeebe:priorityDefinition priority` is a whole number from 0 to 100
 * (Camunda 8's range; 50 when absent), which the worklist stores and filters on. A FEEL priority (`=...`) is
 * checked by feel-syntax; at run time a value outside 0..100 is kept to the nearest bound.
 */
import { extensionOf, is, stringOf } from '../moddle';
import { reportFinding, type LintRuleFactory } from './rule';

export const PRIORITY_MIN = 0;
export const PRIORITY_MAX = 100;

const userTaskPriority: LintRuleFactory = () => ({
  check(node, reporter) {
    if (!is(node, 'bpmn:UserTask')) return;
    const priority = stringOf(extensionOf(node, 'zeebe:PriorityDefinition'), 'priority')?.trim();
    if (priority === undefined || priority.startsWith('=')) return;
    if (/^\d{1,3}$/.test(priority) && Number(priority) >= PRIORITY_MIN && Number(priority) <= PRIORITY_MAX) return;
    reportFinding(
      reporter,
      node,
      `User task priority '${priority}' is not a whole number from ${PRIORITY_MIN} to ${PRIORITY_MAX}`,
      `Set Priority to a whole number from ${PRIORITY_MIN} to ${PRIORITY_MAX} (50 is the default; 70 or more shows as high priority, 90 or more as urgent), or to a FEEL expression starting with '='.`,
    );
  },
});

export default userTaskPriority;
