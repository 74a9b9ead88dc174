/**
 * Cases: the projection of one journey (one workflow run) of one person in one setting. The workflow is the
 * source of truth for where the journey is; this row lets the worklist, ops and reports find it quickly.
 */
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { PatientSchema } from './patient.entity';
import { SettingSchema } from './setting.entity';

export const CaseStatus = {
  Open: 'open',
  Closed: 'closed',
} as const;
export type CaseStatus = (typeof CaseStatus)[keyof typeof CaseStatus];

export const CaseSchema = defineEntity({
  name: 'Case',
  tableName: 'cases',
  properties: {
    id: p
      .uuid()
      .primary()
      .onCreate(() => randomUUID()),
    patient: () => p.manyToOne(PatientSchema).index(),
    setting: () => p.manyToOne(SettingSchema).index(),
    pathwayId: p.string().length(255),
    pathwayVersion: p.integer(),
    /** The business key of the workflow run (`case-<id>`): unique, so a second start cannot make a second case. */
    workflowId: p.string().length(255).unique(),
    status: p.enum(Object.values(CaseStatus)).default(CaseStatus.Open),
    openedAt: p.datetime(),
    closedAt: p.datetime().nullable(),
    closeReason: p.string().length(255).nullable(),
  },
  checks: [{ name: 'cases_closed_at_when_closed', expression: `(status = 'closed') = (closed_at is not null)` }],
});
export type Case = InferEntity<typeof CaseSchema>;
