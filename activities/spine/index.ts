/**
 * Public face of the Spine activities: the PDS/SCR HTTP client, its typed errors, and the Temporal activities
 * built on it. Workflows import only the activity types from here.
 */
export { createSpineClient } from './spine.client';
export type { SpineCallOptions, SpineClient, SpineClientOptions } from './spine.client';
export type { SpineAuthOptions } from './spine-auth';
export type { RetryPolicy } from './spine-http';
export { SpineError, isSpineError, SPINE_ERROR_CODES } from './spine-errors';
export type { SpineErrorCode, SpineErrorDetails } from './spine-errors';
export { createSpineActivities } from './spine.activities';
export type { ContactSuggestion, PatientMatch, SpineActivities, SpineActivityDeps } from './spine.activities';
export { SCR_MEDICATION_KINDS } from './spine.types';
export type {
  Coding,
  Gender,
  PdsPatient,
  PdsRelatedPerson,
  PdsSearchMatch,
  PdsSearchQuery,
  PdsSearchResult,
  PersonName,
  PostalAddress,
  ScrAllergy,
  ScrMedication,
  ScrMedicationKind,
  ScrPermissionCode,
  ScrSummary,
} from './spine.types';
