/**
 * simulation/: run a pathway (a draft's BPMN) through a scenario on the time-skipping server, in a scratch world
 * of its own, and answer the timeline of what fired when. Used by the designer's API, `throughcare pathway test`
 * and the tests of the shipped scenarios (pathways/scenarios/).
 */
export {
  checkSimulationRequest,
  createSimulator,
  type SimulationReport,
  type Simulator,
  type SimulatorOptions,
} from './simulator';
export { SCENARIO_SCHEMA, validateScenario, type Scenario, type ScenarioStep } from './scenario';
export { SIMULATION_EVENT_KINDS, type SimulationEvent, type SimulationEventKind } from './timeline';
export { formatReport, formatTimelineLine } from './report-text';
export { siblingDatabaseUrl, STAFF, STAFF_DUTIES, STAFF_EMAIL, addSimulationStaff, type StaffKey } from './world';
