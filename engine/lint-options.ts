import type { LintOptions } from '../bpmn';
import { listFormIds, SERVICE_TASK_TYPES } from '../pathways';

/** What a pathway may refer to in this installation: the registered service task types and the published forms. */
export function installedLintOptions(): Required<Pick<LintOptions, 'taskTypes' | 'formIds'>> {
  return { taskTypes: [...SERVICE_TASK_TYPES], formIds: listFormIds() };
}
