/**
 * Settings: the organisations a person passes through (custody suites, courts, prisons, community services),
 * each identified by its ODS code so that records and notifications name the same place the NHS does.
 */
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';

export const SettingKind = {
  CustodySuite: 'custody_suite',
  Court: 'court',
  Prison: 'prison',
  CommunityService: 'community_service',
} as const;
export type SettingKind = (typeof SettingKind)[keyof typeof SettingKind];

/** The kinds of secure estate a prison setting can be (HMPPS establishment types). */
export const PrisonType = {
  HMP: 'HMP',
  YOI: 'YOI',
  STC: 'STC',
  SCH: 'SCH',
  IRC: 'IRC',
} as const;
export type PrisonType = (typeof PrisonType)[keyof typeof PrisonType];

export const SettingSchema = defineEntity({
  name: 'Setting',
  tableName: 'settings',
  properties: {
    id: p
      .uuid()
      .primary()
      .onCreate(() => randomUUID()),
    odsCode: p.string().length(16).unique(),
    name: p.string().length(255),
    kind: p.enum(Object.values(SettingKind)),
    // Only prisons have an establishment type; the check below keeps the two columns consistent.
    prisonType: p.enum(Object.values(PrisonType)).nullable(),
    createdAt: p.datetime().defaultRaw('now()'),
  },
  checks: [
    {
      name: 'settings_prison_type_only_for_prisons',
      expression: `(kind = 'prison') = (prison_type is not null)`,
    },
  ],
});
export type Setting = InferEntity<typeof SettingSchema>;
