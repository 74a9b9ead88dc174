/**
 * Staff: the people who use Throughcare, their roles and the settings they work in (which scopes what they see).
 */
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { SettingSchema } from './setting.entity';

export const StaffRole = {
  Clinician: 'clinician',
  /** As clinician, plus the team's tasks and reassigning them. */
  TeamLead: 'team-lead',
  Commissioner: 'commissioner',
  Ops: 'ops',
  Admin: 'admin',
} as const;
export type StaffRole = (typeof StaffRole)[keyof typeof StaffRole];

export const StaffSchema = defineEntity({
  name: 'Staff',
  tableName: 'staff',
  properties: {
    id: p
      .uuid()
      .primary()
      .onCreate(() => randomUUID()),
    /** The subject of the person's OIDC token: how a bearer token is tied to a staff record. */
    subject: p.string().length(255).unique(),
    displayName: p.string().length(255),
    email: p.string().length(320).nullable(),
    // onCreate as well as the column default: MikroORM 6 renders a missing array as nothing in a batch insert.
    roles: p
      .array<StaffRole>()
      .default([])
      .onCreate(() => []),
    /**
     * The job roles notices are addressed to (`sms-team-lead`, `custody-sergeant`, `release-team`...): the
     * `notify.notifyStaff` service task tells the active staff of the case's setting who hold a duty.
     */
    duties: p
      .array<string>()
      .default([])
      .onCreate(() => []),
    settings: () => p.manyToMany(SettingSchema).pivotTable('staff_settings').owner(),
    active: p.boolean().default(true),
    createdAt: p.datetime().defaultRaw('now()'),
  },
  checks: [
    {
      name: 'staff_roles_known',
      expression: `roles <@ array['clinician', 'team-lead', 'commissioner', 'ops', 'admin']::text[]`,
    },
  ],
});
export type Staff = InferEntity<typeof StaffSchema>;
