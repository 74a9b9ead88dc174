/**
 * Contacts: the agencies (probation, community treatment, GP, RECONNECT...) and family members who are told
 * about a person's care, how to reach them, and whether the person has consented. Consent changes are kept
 * as append-only events; the contact row carries the current state for quick filtering.
 */
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { PatientSchema } from './patient.entity';

export const ContactKind = {
  Agency: 'agency',
  FamilyMember: 'family_member',
} as const;
export type ContactKind = (typeof ContactKind)[keyof typeof ContactKind];

export const ContactChannel = {
  Email: 'email',
  Sms: 'sms',
  Letter: 'letter',
} as const;
export type ContactChannel = (typeof ContactChannel)[keyof typeof ContactChannel];

export const ConsentStatus = {
  NotRecorded: 'not_recorded',
  Given: 'given',
  Withdrawn: 'withdrawn',
} as const;
export type ConsentStatus = (typeof ConsentStatus)[keyof typeof ConsentStatus];

export interface PostalAddress {
  lines: string[];
  postcode: string;
}

export const ContactSchema = defineEntity({
  name: 'Contact',
  tableName: 'contacts',
  properties: {
    id: p.uuid().primary(),
    patient: () => p.manyToOne(PatientSchema).index(),
    kind: p.enum(Object.values(ContactKind)),
    name: p.string().length(255),
    /** For agencies: the organisation (`Probation Service, Leeds`). */
    organisation: p.string().length(255).nullable(),
    /** How they relate to the person: `probation practitioner`, `mother`, `GP`. */
    relationship: p.string().length(255),
    channel: p.enum(Object.values(ContactChannel)),
    email: p.string().length(320).nullable(),
    phone: p.string().length(32).nullable(),
    address: p.json<PostalAddress>().nullable(),
    /** Current consent to share with this contact; the history is in contact_consent_events. */
    consentStatus: p.enum(Object.values(ConsentStatus)).default(ConsentStatus.NotRecorded),
    consentRecordedAt: p.datetime().nullable(),
    consentRecordedBy: p.string().length(255).nullable(),
    createdAt: p.datetime().defaultRaw('now()'),
  },
  checks: [
    {
      name: 'contacts_channel_has_address',
      expression: `(channel <> 'email' or email is not null) and (channel <> 'sms' or phone is not null) and (channel <> 'letter' or address is not null)`,
    },
  ],
});
export type Contact = InferEntity<typeof ContactSchema>;

export const ContactConsentEventSchema = defineEntity({
  name: 'ContactConsentEvent',
  tableName: 'contact_consent_events',
  properties: {
    /** Chosen by the caller: the idempotency key of the consent decision. */
    id: p.uuid().primary(),
    contact: () => p.manyToOne(ContactSchema).index(),
    status: p.enum([ConsentStatus.Given, ConsentStatus.Withdrawn]),
    /** When the person gave or withdrew consent (may be before it was recorded). */
    decidedAt: p.datetime(),
    recordedAt: p.datetime().defaultRaw('now()'),
    recordedBy: p.string().length(255),
    note: p.text().nullable(),
  },
});
export type ContactConsentEvent = InferEntity<typeof ContactConsentEventSchema>;
