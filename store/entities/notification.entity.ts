/**
 * The notification outbox: a message is first written here (with the record change that caused it), then
 * delivered by an activity that claims the row, so a message is sent at most once per id. The local inbox
 * holds what was "sent" when no real transport (GOV.UK Notify, SMTP) is configured.
 */
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { CaseSchema } from './case.entity';
import { ContactChannel, ContactSchema } from './contact.entity';
import { PatientSchema } from './patient.entity';
import { StaffSchema } from './staff.entity';

export const NotificationStatus = {
  Pending: 'pending',
  /** Claimed by a delivery attempt; if that attempt died mid-way the outcome is unknown (see notify/). */
  Sending: 'sending',
  Sent: 'sent',
  Failed: 'failed',
} as const;
export type NotificationStatus = (typeof NotificationStatus)[keyof typeof NotificationStatus];

export const NotificationSchema = defineEntity({
  name: 'Notification',
  tableName: 'notification_outbox',
  properties: {
    /** The idempotency key, chosen by the caller (`<workflow id>/<element id>/<contact id>`). */
    id: p.string().length(255).primary(),
    patient: () => p.manyToOne(PatientSchema).nullable().index(),
    case: () => p.manyToOne(CaseSchema).nullable().index(),
    /** The recipient: a contact of the patient (agency, family member) or a member of staff; exactly one. */
    contact: () => p.manyToOne(ContactSchema).nullable().index(),
    staff: () => p.manyToOne(StaffSchema).nullable().index(),
    channel: p.enum(Object.values(ContactChannel)),
    /** A template name (or a GOV.UK Notify template id). */
    template: p.string().length(255),
    personalisation: p.json<Record<string, string>>(),
    status: p.enum(Object.values(NotificationStatus)).default(NotificationStatus.Pending),
    attempts: p.integer().default(0),
    lastError: p.text().nullable(),
    nextAttemptAt: p.datetime().nullable(),
    createdAt: p.datetime().defaultRaw('now()'),
    claimedAt: p.datetime().nullable(),
    sentAt: p.datetime().nullable(),
    transport: p.string().length(32).nullable(),
    providerReference: p.string().length(255).nullable(),
  },
  indexes: [
    {
      name: 'notification_outbox_unsent',
      expression: `create index "notification_outbox_unsent" on "notification_outbox" ("status", "next_attempt_at") where status in ('pending', 'sending', 'failed')`,
    },
  ],
  checks: [
    { name: 'notification_outbox_sent_recorded', expression: `(status = 'sent') = (sent_at is not null)` },
    {
      name: 'notification_outbox_one_recipient',
      expression: `(contact_id is null) <> (staff_id is null)`,
    },
  ],
});
export type Notification = InferEntity<typeof NotificationSchema>;

export const InboxMessageSchema = defineEntity({
  name: 'InboxMessage',
  tableName: 'inbox_messages',
  properties: {
    id: p.uuid().primary(),
    /** One inbox message per outbox row, however often delivery is retried. */
    notificationId: p.string().length(255).unique(),
    channel: p.enum(Object.values(ContactChannel)),
    recipient: p.string().length(500),
    subject: p.string().length(500),
    body: p.text(),
    deliveredAt: p.datetime().defaultRaw('now()'),
  },
});
export type InboxMessage = InferEntity<typeof InboxMessageSchema>;
