/**
 * Former identifiers of a patient: an NHS number the person was known by before their record was re-keyed
 * (PDS answered with the number that superseded it, or a trace by demographics found their real one). The
 * patient row holds the current number; these rows keep the old ones, so a case started with an old number
 * still finds the same person, and the history of who re-keyed what, when and why stays readable.
 * Append-only, enforced by the database; one former owner per number.
 */
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { CaseSchema } from './case.entity';
import { PatientSchema } from './patient.entity';

export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';

/** Why a number stopped being the patient's current one. */
export const IdentifierChangeReason = {
  /** PDS answered a read of the number with another record (a merge, REFERENCE §1.10). */
  SupersededOnPds: 'superseded-on-pds',
  /** PDS did not know (or had invalidated) the number and a person traced the patient by demographics. */
  TracedByDemographics: 'traced-by-demographics',
} as const;
export type IdentifierChangeReason = (typeof IdentifierChangeReason)[keyof typeof IdentifierChangeReason];

/** FHIR Identifier.use: these rows are all former numbers. */
export const IdentifierUse = {
  Old: 'old',
} as const;
export type IdentifierUse = (typeof IdentifierUse)[keyof typeof IdentifierUse];

export const PatientIdentifierSchema = defineEntity({
  name: 'PatientIdentifier',
  tableName: 'patient_identifiers',
  properties: {
    id: p.uuid().primary(),
    patient: () => p.manyToOne(PatientSchema).index(),
    system: p.string().length(255),
    value: p.string().length(64),
    /** FHIR Identifier.use: always `old` here (the current number is the patient row's). */
    use: p.enum(Object.values(IdentifierUse)),
    reason: p.enum(Object.values(IdentifierChangeReason)),
    /** When it stopped being the current number. */
    replacedAt: p.datetime().defaultRaw('now()'),
    replacedBy: p.string().length(255),
    /** The case whose pathway re-keyed the record. */
    replacedInCase: () => p.manyToOne(CaseSchema).nullable(),
  },
  uniques: [{ name: 'patient_identifiers_system_value_unique', properties: ['system', 'value'] }],
});
export type PatientIdentifier = InferEntity<typeof PatientIdentifierSchema>;
