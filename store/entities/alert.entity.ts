/**
 * Alerts (flags such as self-harm risk, withdrawal risk, restricted record). One row per alert: raised once,
 * resolved at most once. The database lets the row change in exactly that one way (active to resolved, the
 * raise fields untouched) and never deletes it, so the row is its own complete history; re-raising is a new
 * alert. Who did each step is also in the audit events.
 */
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { CaseSchema } from './case.entity';
import { PatientSchema } from './patient.entity';

export const AlertSeverity = {
  Low: 'low',
  Medium: 'medium',
  High: 'high',
} as const;
export type AlertSeverity = (typeof AlertSeverity)[keyof typeof AlertSeverity];

export const AlertStatus = {
  Active: 'active',
  Resolved: 'resolved',
} as const;
export type AlertStatus = (typeof AlertStatus)[keyof typeof AlertStatus];

export const AlertSchema = defineEntity({
  name: 'Alert',
  tableName: 'alerts',
  properties: {
    id: p.uuid().primary(),
    patient: () => p.manyToOne(PatientSchema),
    case: () => p.manyToOne(CaseSchema).nullable().index(),
    /** A local or NOMIS code (`HA` ACCT open, `SH` self-harm, REFERENCE §5.3) or a SNOMED CT concept id. */
    code: p.string().length(64),
    codeSystem: p.string().length(255),
    display: p.string().length(255),
    severity: p.enum(Object.values(AlertSeverity)),
    status: p.enum(Object.values(AlertStatus)).default(AlertStatus.Active),
    raisedAt: p.datetime().defaultRaw('now()'),
    raisedBy: p.string().length(255),
    raiseReason: p.text().nullable(),
    resolvedAt: p.datetime().nullable(),
    resolvedBy: p.string().length(255).nullable(),
    resolutionReason: p.text().nullable(),
  },
  indexes: [
    {
      name: 'alerts_active_by_patient',
      expression: `create index "alerts_active_by_patient" on "alerts" ("patient_id") where status = 'active'`,
    },
    { name: 'alerts_patient_id_index', properties: ['patient'] },
  ],
  checks: [
    {
      name: 'alerts_resolution_recorded',
      expression: `(status = 'resolved') = (resolved_at is not null and resolved_by is not null)`,
    },
  ],
});
export type Alert = InferEntity<typeof AlertSchema>;
