/**
 * Audit events: who read or wrote which part of a person's record, when and why. Append-only, enforced by the
 * database. These are records, not log lines: they are queried, reported on and kept.
 */
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { PatientSchema } from './patient.entity';

export const AuditAction = {
  Read: 'read',
  Create: 'create',
  Update: 'update',
} as const;
export type AuditAction = (typeof AuditAction)[keyof typeof AuditAction];

/** HL7 v3 PurposeOfUse codes the record uses. */
export const AuditPurpose = {
  Treatment: 'TREAT',
  EmergencyTreatment: 'ETREAT',
} as const;
export type AuditPurpose = (typeof AuditPurpose)[keyof typeof AuditPurpose];

export const AuditEventSchema = defineEntity({
  name: 'AuditEvent',
  tableName: 'audit_events',
  properties: {
    id: p.uuid().primary(),
    /** A staff id, or `system:<component>` for a workflow acting on its own timer. */
    actorId: p.string().length(255),
    actorRole: p.string().length(64),
    action: p.enum(Object.values(AuditAction)),
    entityType: p.string().length(64),
    entityId: p.string().length(255),
    patient: () => p.manyToOne(PatientSchema).nullable(),
    reason: p.text().nullable(),
    occurredAt: p.datetime().defaultRaw('now()'),
    requestId: p.string().length(255).nullable(),
    /**
     * Why the record was accessed, as HL7 v3 PurposeOfUse: `TREAT` (care, with the person's permission where it
     * is needed) or `ETREAT` (emergency treatment: the Summary Care Record viewed without recorded permission,
     * under an emergency access reason). Null where the purpose is the write itself.
     */
    purpose: p.string().length(32).nullable(),
    /** The OIDC subject of the person who acted through the API (`actorId` is their staff id when known). */
    actorSubject: p.string().length(255).nullable(),
    /** The ODS code of the setting through which the access was allowed (the case's setting they work in). */
    settingOdsCode: p.string().length(16).nullable(),
    /** The API operation, as the policy names it (`case.read`, `task.complete`, `patient.read`...). */
    operation: p.string().length(64).nullable(),
  },
  indexes: [
    { name: 'audit_events_patient_occurred', properties: ['patient', 'occurredAt'] },
    { name: 'audit_events_actor_occurred', properties: ['actorId', 'occurredAt'] },
  ],
});
export type AuditEvent = InferEntity<typeof AuditEventSchema>;
