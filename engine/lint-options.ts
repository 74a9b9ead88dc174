import type { LintOptions } from '../bpmn';
import { listFormIds, SERVICE_TASK_TYPES } from '../pathways';
import type { Store } from '../store';
import { formRegistryOf } from './form-registry';

export type InstallationLintOptions = Required<Pick<LintOptions, 'taskTypes' | 'formIds'>>;

/** What a pathway may refer to: the registered service task types and the forms named. */
export function lintOptionsWith(formIds: Iterable<string>): InstallationLintOptions {
  return { taskTypes: [...SERVICE_TASK_TYPES], formIds: [...formIds] };
}

/** What a pathway may refer to in this installation: the forms installed in its record store. */
export async function installedLintOptions(store: Store): Promise<InstallationLintOptions> {
  return lintOptionsWith((await formRegistryOf(store).latest()).keys());
}

/** What a pathway may refer to with only the release's own forms (pathways/forms): a file linted without a database. */
export function shippedLintOptions(): InstallationLintOptions {
  return lintOptionsWith(listFormIds());
}
