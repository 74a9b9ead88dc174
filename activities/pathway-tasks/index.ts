/** The pathway's activities (service task adapters and the shell's own): the public face of activities/pathway-tasks/. */
export {
  createPathwayTaskActivities,
  type PathwayTaskActivities,
  type PathwayTaskActivitiesDeps,
  type TaskVariables,
} from './pathway-tasks.activities';
export { uuidFromKey } from './task-context';
