/**
 * The public face of activities/: `createActivities(deps)` builds every activity the worker registers, with
 * its dependencies closed over (Temporal's pattern), and `ACTIVITY_NAMES` lists them. The names are the
 * `runPathway` shell's activities, every service task type of `SERVICE_TASK_TYPES` (a BPMN task type is
 * called by its name) and `deliverNotification`, so the linter's task-type list and the worker cannot drift
 * apart: a test checks the registry against both.
 */
import { type Logger } from '../log';
import { SERVICE_TASK_TYPES } from '../pathways';
import { type Store } from '../store';
import { type NotificationTransport } from './notify';
import { createPathwayTaskActivities } from './pathway-tasks';
import { createIncidentActivities } from './records/incidents';
import type { PathwayShellActivities } from '../workflows/run-pathway.workflow';
import { type SpineClient } from './spine';

export interface ActivityDependencies {
  store: Store;
  spine: SpineClient;
  transport: NotificationTransport;
  logger: Logger;
}

/** The activities `runPathway` calls itself (see `PathwayShellActivities` in workflows/). */
export const SHELL_ACTIVITY_NAMES = [
  'openTask',
  'closeTask',
  'resolvePathway',
  'raiseIncident',
  'closeIncident',
] as const satisfies readonly (keyof PathwayShellActivities)[];
// Fails to compile when the shell gains an activity this list does not name.
type MissingShellActivity = Exclude<keyof PathwayShellActivities, (typeof SHELL_ACTIVITY_NAMES)[number]>;
const everyShellActivityNamed: [MissingShellActivity] extends [never] ? true : never = true;
void everyShellActivityNamed;

/** Every activity name the worker registers. Persisted in workflow histories: never rename one. */
export const ACTIVITY_NAMES = [...SHELL_ACTIVITY_NAMES, ...SERVICE_TASK_TYPES, 'deliverNotification'] as const;
export type ActivityName = (typeof ACTIVITY_NAMES)[number];

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Temporal's worker takes activities of any signature
export type ActivityFunction = (...args: any[]) => Promise<unknown>;

/** Builds the worker's activities: `Worker.create({ activities: createActivities(deps), ... })`. */
export function createActivities(deps: ActivityDependencies): Record<ActivityName, ActivityFunction> {
  const activities = { ...createPathwayTaskActivities(deps), ...createIncidentActivities(deps) };
  return activities satisfies Record<ActivityName, ActivityFunction>;
}

export { ActivityError, ActivityErrorCode, toActivityError, toApplicationFailure } from './errors';
export {
  createNotificationTransport,
  createLocalInboxTransport,
  createSmtpTransport,
  type NotificationTransport,
} from './notify';
export { createSpineClient, type SpineClient } from './spine';
export { createPathwayTaskActivities, uuidFromKey, type PathwayTaskActivitiesDeps } from './pathway-tasks';
export { createIncidentActivities, type IncidentActivitiesDeps } from './records/incidents';
