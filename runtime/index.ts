export { startThroughcare, StartInterruptedError, localUrl, type RunningThroughcare } from './up';
export { Readiness, type ReadinessReport, type DependencyReport } from './readiness';
export type { StartedPart } from './part';
