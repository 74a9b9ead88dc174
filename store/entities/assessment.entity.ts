/**
 * Assessments: form submissions (risk assessment, TOP, reviews) with their coded events. Append-only, enforced
 * by the database: a correction is a new assessment that names the one it corrects.
 */
import { defineEntity, p, type EntitySchema, type InferEntity } from '@mikro-orm/core';
import { CaseSchema } from './case.entity';
import { PatientSchema } from './patient.entity';
import { WorklistTaskSchema } from './worklist-task.entity';

export interface CorrectedAssessment {
  id: string;
}

function assessmentSchemaForSelfReference(): EntitySchema<CorrectedAssessment> {
  return AssessmentSchema as unknown as EntitySchema<CorrectedAssessment>;
}

export const AssessmentSchema = defineEntity({
  name: 'Assessment',
  tableName: 'assessments',
  properties: {
    /** Chosen by the caller: the idempotency key of the submission. */
    id: p.uuid().primary(),
    patient: () => p.manyToOne(PatientSchema).index(),
    case: () => p.manyToOne(CaseSchema).index(),
    task: () => p.manyToOne(WorklistTaskSchema).nullable().index(),
    formId: p.string().length(255),
    formVersion: p.string().length(64),
    data: p.json<Record<string, unknown>>(),
    /** SNOMED CT concept ids the submission records (REFERENCE §7.3), for outcome reports. */
    // onCreate as well as the column default: MikroORM 6 renders a missing array as nothing in a batch insert.
    snomedCodes: p
      .array()
      .default([])
      .onCreate(() => []),
    submittedBy: p.string().length(255),
    submittedAt: p.datetime().defaultRaw('now()'),
    /** The assessment this one corrects; each can be corrected once, so corrections form a chain. */
    corrects: () => p.manyToOne(assessmentSchemaForSelfReference()).nullable().unique(),
    correctionReason: p.text().nullable(),
  },
  checks: [
    {
      name: 'assessments_correction_has_reason',
      expression: '(corrects_id is null) = (correction_reason is null)',
    },
  ],
});
export type Assessment = InferEntity<typeof AssessmentSchema>;
