/**
 * workflows/: the deterministic, sandboxed workflow code. The worker bundles this file, so everything it
 * exports must be safe in the workflow sandbox (no I/O, no node built-ins). Clients import the update,
 * signal and query definitions from here to talk to running pathways.
 */
export {
  runPathway,
  completeTaskUpdate,
  correlateMessageUpdate,
  deliverMessageSignal,
  childEscalatedSignal,
  terminatePathwayUpdate,
  TERMINATE_PATHWAY_REFUSALS,
  type TerminatePathwayInput,
  type TerminatePathwayResult,
  type ChildEscalatedInput,
  stateQuery,
  type RunPathwayInput,
  type RunPathwayResult,
  type CompleteTaskInput,
  type ActingPerson,
  type CompleteTaskResult,
  type DeliverMessageInput,
  type CorrelateMessageInput,
  type CorrelateMessageResult,
  type CatchEventRef,
  CORRELATE_MESSAGE_REFUSALS,
  DEFAULT_MESSAGE_TIME_TO_LIVE,
  type ServiceTaskActivityInput,
  type ServiceTaskActivityResult,
  type OpenTaskActivityInput,
  type CloseTaskActivityInput,
  type RaiseIncidentActivityInput,
  type CloseIncidentActivityInput,
  type PathwayShellActivities,
} from './run-pathway.workflow';
export * from './pathway';
