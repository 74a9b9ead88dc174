/**
 * Patient flags: what every setting must know about the person before anything else (deceased on PDS, a
 * restricted record, an identity PDS does not know, an invalidated NHS number, a possible duplicate record).
 * Person-level, unlike alerts: they are kept with the patient record, so every case, setting and pathway of
 * the person sees them, whichever case raised them. One active flag of each code per person (a partial unique
 * index); the database lets a row change only from active to resolved, once, and never deletes it, as for alerts.
 */
import { defineEntity, p, type EntitySchema, type InferEntity } from '@mikro-orm/core';
import { CaseSchema } from './case.entity';
import { PatientSchema } from './patient.entity';

/** The flags Throughcare raises itself. The column is text, so a new code needs no migration. */
export const PatientFlagCode = {
  /** PDS has no record of the NHS number (404 RESOURCE_NOT_FOUND): the person must be traced by demographics. */
  UnverifiedIdentity: 'UNVERIFIED_IDENTITY',
  /** PDS invalidated the NHS number (404 INVALIDATED_RESOURCE): Spine calls are suspended until a new trace. */
  InvalidatedNhsNumber: 'INVALIDATED_NHS_NUMBER',
  /** PDS records a death: a warning to check identity; it never blocks reception. */
  DeceasedOnPds: 'DECEASED_ON_PDS',
  /** PDS confidentiality R/V: never share address or location. */
  RestrictedRecord: 'RESTRICTED_RECORD',
  /** Another local record holds the NHS number PDS gave: a person must decide whether to merge them. */
  PossibleDuplicateRecord: 'POSSIBLE_DUPLICATE_RECORD',
} as const;
export type PatientFlagCode = (typeof PatientFlagCode)[keyof typeof PatientFlagCode];

export const PatientFlagSeverity = {
  /** Shown, never blocking (deceased on PDS, a possible duplicate). */
  Warning: 'warning',
  /** Changes what may be done (restricted record, unverified or invalidated identity). */
  High: 'high',
} as const;
export type PatientFlagSeverity = (typeof PatientFlagSeverity)[keyof typeof PatientFlagSeverity];

export const PatientFlagStatus = {
  Active: 'active',
  Resolved: 'resolved',
} as const;
export type PatientFlagStatus = (typeof PatientFlagStatus)[keyof typeof PatientFlagStatus];

/** The other record a flag points at (the possible duplicate). */
export interface FlaggedPatient {
  id: string;
}

function patientSchemaForRelatedRecord(): EntitySchema<FlaggedPatient> {
  return PatientSchema as unknown as EntitySchema<FlaggedPatient>;
}

export const PatientFlagSchema = defineEntity({
  name: 'PatientFlag',
  tableName: 'patient_flags',
  properties: {
    /** Chosen by the caller (derived from the activity execution): the idempotency key of the raise. */
    id: p.uuid().primary(),
    patient: () => p.manyToOne(PatientSchema).index(),
    code: p.string().length(64),
    display: p.string().length(255),
    severity: p.enum(Object.values(PatientFlagSeverity)),
    status: p.enum(Object.values(PatientFlagStatus)).default(PatientFlagStatus.Active),
    raisedAt: p.datetime().defaultRaw('now()'),
    raisedBy: p.string().length(255),
    raiseReason: p.text().nullable(),
    /** The case whose pathway raised it (provenance only: the flag belongs to the person). */
    raisedInCase: () => p.manyToOne(CaseSchema).nullable(),
    /** For a possible duplicate: the other record that holds the same NHS number. */
    relatedPatient: () => p.manyToOne(patientSchemaForRelatedRecord()).nullable(),
    resolvedAt: p.datetime().nullable(),
    resolvedBy: p.string().length(255).nullable(),
    resolutionReason: p.text().nullable(),
  },
  indexes: [
    {
      name: 'patient_flags_one_active_per_code',
      expression: `create unique index "patient_flags_one_active_per_code" on "patient_flags" ("patient_id", "code") where status = 'active'`,
    },
  ],
  checks: [
    {
      name: 'patient_flags_resolution_recorded',
      expression: `(status = 'resolved') = (resolved_at is not null and resolved_by is not null)`,
    },
  ],
});
export type PatientFlag = InferEntity<typeof PatientFlagSchema>;
