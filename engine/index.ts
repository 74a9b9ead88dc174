/**
 * engine/: the pathway engine's application services, shared by the CLI and the API: deploy and read
 * pathway versions; start, inspect and drive cases through the Temporal client.
 */
export * from './pathways';
export * from './pathway-drafts';
export * from './form-catalogue';
export { installedLintOptions, lintOptionsWith, shippedLintOptions } from './lint-options';
export {
  formRegistryOf,
  formSchemaId,
  type FormInstall,
  type FormRegistry,
  type InstalledFormVersion,
} from './form-registry';
export { workflowIdOf, type CaseEngine } from './case-engine';
export * from './cases';
export * from './case-messages';
export * from './tasks';
export * from './incidents';
export * from './case-termination';
export * from './staff';
export * from './settings';
export * from './case-settings';
export * from './case-list';
export * from './worklist';
export * from './patients';
export * from './notes';
export * from './alerts';
export type { RecordWriter } from './record-writer';
export * from './case-timeline';
export * from './task-drafts';
export * from './worklist-views';
export * from './appointments';
export * from './contacts';
export * from './patient-search';
export * from './fhir-reads';
export { pageInMemory, type Page } from './paging';
