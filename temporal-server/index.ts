/**
 * Public face of the embedded Temporal server: a Temporal-compatible gRPC frontend (WorkflowService,
 * OperatorService, TestService) persisting to PostgreSQL, and a time-skipping test environment.
 */
export { startTemporalServer, type TemporalServer, type TemporalServerOptions } from './server';
export {
  createTestWorkflowEnvironment,
  type EmbeddedTestWorkflowEnvironment,
  type TestWorkflowEnvironmentOptions,
} from './testing';
