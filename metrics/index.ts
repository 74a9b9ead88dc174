/**
 * metrics/: Prometheus metrics of a running Throughcare (`GET /metrics`): cases, overdue work, workflow runs,
 * timer lag, task backlog, the record store's pool, activity failures and the process's own figures.
 */
export {
  createMetrics,
  MetricsUnavailableError,
  type Metrics,
  type MetricsOptions,
  type ActivityFailureRecorder,
} from './metrics';
export type { MetricsSources } from './sources';
export { metricsRouter } from './router';
