/**
 * Patients: one row per person, keyed by NHS number, holding the demographics as last fetched from PDS.
 * The NHS number is checked (Modulus 11) before it is written; the database's own check catches raw SQL
 * that is not even ten digits.
 */
import { defineEntity, p, type EntitySchema, type InferEntity } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { isValidNhsNumber, normaliseNhsNumber } from '../../domain/nhs-number';
import { InvalidNhsNumberError } from '../errors';

/** PDS `meta.security` codes (REFERENCE §1.9): `R` removes location-sensitive fields. */
export const SecurityLabel = {
  Unrestricted: 'U',
  Restricted: 'R',
  VeryRestricted: 'V',
} as const;
export type SecurityLabel = (typeof SecurityLabel)[keyof typeof SecurityLabel];

/** Throws unless `nhsNumber` passes Modulus 11; returns it without spaces. */
export function checkNhsNumber(nhsNumber: string): string {
  if (!isValidNhsNumber(nhsNumber)) throw new InvalidNhsNumberError();
  return normaliseNhsNumber(nhsNumber);
}

function validateNhsNumber(entity: { nhsNumber: string }): void {
  entity.nhsNumber = checkNhsNumber(entity.nhsNumber);
}

/** What a patient row says about the record that superseded it: enough to follow the link. */
export interface SupersedingPatient {
  id: string;
  nhsNumber: string;
}

// A schema that names itself cannot have its type inferred, so the self-reference goes through a function
// whose declared return type breaks the cycle.
function patientSchemaForSelfReference(): EntitySchema<SupersedingPatient> {
  return PatientSchema as unknown as EntitySchema<SupersedingPatient>;
}

export const PatientSchema = defineEntity({
  name: 'Patient',
  tableName: 'patients',
  properties: {
    id: p
      .uuid()
      .primary()
      .onCreate(() => randomUUID()),
    nhsNumber: p.string().length(10).unique(),
    /** The PDS Patient resource (or the parts we keep) as last fetched; null until the first lookup. */
    demographics: p.json<Record<string, unknown>>().nullable(),
    demographicsFetchedAt: p.datetime().nullable(),
    securityLabel: p.enum(Object.values(SecurityLabel)).nullable(),
    /**
     * PDS label R: address, telecom and contacts are withheld and must never be forwarded to family or
     * agencies (REFERENCE §1.9). Kept as its own column so every query and notification rule can filter on it.
     */
    isRestricted: p.boolean().default(false),
    /** Set when PDS answered with another NHS number (a merge, REFERENCE §1.10): that record is the live one. */
    supersededBy: () => p.manyToOne(patientSchemaForSelfReference()).nullable(),
    createdAt: p.datetime().defaultRaw('now()'),
    updatedAt: p
      .datetime()
      .defaultRaw('now()')
      .onUpdate(() => new Date()),
  },
  checks: [
    { name: 'patients_nhs_number_ten_digits', expression: `nhs_number ~ '^[0-9]{10}$'` },
    // The function is created by migration 20261122023600-nhs-number-modulus-11.
    { name: 'patients_nhs_number_modulus_11', expression: 'throughcare_is_valid_nhs_number(nhs_number) is true' },
  ],
  hooks: {
    beforeCreate: [({ entity }) => validateNhsNumber(entity)],
    beforeUpdate: [({ entity }) => validateNhsNumber(entity)],
  },
});
export type Patient = InferEntity<typeof PatientSchema>;
