/**
 * The settings a case belongs to: the one it was opened in, and each one a journey has handed it over to
 * (custody -> court -> prison -> community). Who may see a case follows from this list (api/policy.ts): a
 * clinician sees the cases of the settings they work in. Append-only, enforced by the database: a handover
 * adds a row, and a setting a case once passed through keeps it, as the record it holds stays there too.
 */
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { CaseSchema } from './case.entity';
import { SettingSchema } from './setting.entity';

export const CaseSettingReason = {
  /** The setting the case was started in. */
  Opened: 'opened',
  /** A stage of the journey runs there (the journey's `prisonOdsCode`, from its start or the court outcome). */
  HandedOver: 'handed-over',
} as const;
export type CaseSettingReason = (typeof CaseSettingReason)[keyof typeof CaseSettingReason];

export const CaseSettingSchema = defineEntity({
  name: 'CaseSetting',
  tableName: 'case_settings',
  properties: {
    case: () => p.manyToOne(CaseSchema).primary(),
    setting: () => p.manyToOne(SettingSchema).primary().index(),
    reason: p.enum(Object.values(CaseSettingReason)),
    recordedAt: p.datetime().defaultRaw('now()'),
    recordedBy: p.string().length(255),
  },
});
export type CaseSetting = InferEntity<typeof CaseSettingSchema>;
