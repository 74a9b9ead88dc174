/**
 * The record store's public face: open it, migrate it, and the entity schemas to query with.
 * Other folders import from here, never from the files inside.
 */
export { openStore, type Store, type StoreEntityManager } from './store';
export {
  migrateDatabase,
  pendingMigrations,
  createMigration,
  schemaDifferences,
  type CreatedMigration,
  type CreateMigrationOptions,
} from './migrate';
export { StoreError, InvalidNhsNumberError, PendingMigrationsError } from './errors';
export * from './entities';
export { findMyOpenTasks, findClaimableTasks, findOpenTasksOfCase, findOverdueTasks } from './worklist.queries';
export { findFailedNotifications, findStuckNotifications } from './notification.queries';
export {
  findPatientIdByNhsNumber,
  listPatientFlags,
  type ListPatientFlagsOptions,
  type PatientFlagView,
  type PatientRef,
} from './patient-identity.queries';
