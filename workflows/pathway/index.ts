/**
 * The pure pathway interpreter (no I/O, no clock, no randomness): safe in the workflow sandbox and in plain
 * unit tests alike.
 */
export { start, handle, INCIDENT_CODES, type IncidentCode, type StartOptions } from './interpreter';
export {
  describePathway,
  findOpenTask,
  nextTimer,
  type ActiveElementView,
  type BufferedMessageView,
  type MessageSubscriptionView,
  type OpenTaskView,
  type PathwayView,
  type PendingTimerView,
} from './describe-pathway';
export {
  canEverCatch,
  messageCatchersIn,
  messageReach,
  type MessageCatcher,
  type MessageReach,
} from './message-catchers';
export {
  INCIDENT_ACTIONS,
  INCIDENT_CANDIDATE_GROUP,
  INCIDENT_FORM_ID,
  findOpenIncident,
  openIncidents,
  readIncidentResolution,
  whyNotSkippable,
  type IncidentAction,
  type IncidentResolutionRequest,
} from './incidents';
export * from './types';
export { planMigration, type ElementMapping, type MigrationMove, type MigrationPlan } from './migrate';
