/**
 * A person's contacts for the API: the agencies and family members who are told about their care, how to reach
 * them, and the consent to share with each. Written through the record activities: a contact row, and one
 * append-only consent event per decision, the row carrying the latest decision for quick filtering.
 */
import { randomUUID } from 'node:crypto';
import { createRecordActivities, type Actor, type AddContactInput } from '../activities/records';
import { NotFoundError } from '../domain/errors';
import type { Logger } from '../log';
import type { Store } from '../store';
import { knexOf } from './case-settings';

export interface ConsentEventView {
  readonly status: 'given' | 'withdrawn';
  readonly decidedAt: string;
  readonly recordedAt: string;
  readonly recordedBy: string;
  readonly note: string | null;
}

export interface ContactView {
  readonly contactId: string;
  readonly kind: 'agency' | 'family_member';
  readonly name: string;
  readonly organisation: string | null;
  readonly relationship: string;
  readonly channel: 'email' | 'sms' | 'letter';
  readonly email: string | null;
  readonly phone: string | null;
  readonly address: { lines: string[]; postcode: string } | null;
  /** The latest decision (by when it was decided), or `not_recorded`. */
  readonly consent: { readonly status: string; readonly decidedAt: string | null; readonly recordedBy: string | null };
  /** Every decision, as recorded (oldest first). */
  readonly consentHistory: ConsentEventView[];
  readonly createdAt: string;
}

interface ContactRow {
  id: string;
  patient_id: string;
  kind: ContactView['kind'];
  name: string;
  organisation: string | null;
  relationship: string;
  channel: ContactView['channel'];
  email: string | null;
  phone: string | null;
  address: ContactView['address'] | string | null;
  consent_status: string;
  consent_recorded_at: Date | null;
  consent_recorded_by: string | null;
  created_at: Date;
}

const iso = (value: Date | string) => new Date(value).toISOString();

async function viewsOf(store: Store, rows: readonly ContactRow[]): Promise<ContactView[]> {
  const events = rows.length
    ? await knexOf(store)('contact_consent_events')
        .whereIn(
          'contact_id',
          rows.map((r) => r.id),
        )
        .orderBy([{ column: 'recorded_at' }, { column: 'id' }])
        .select<
          {
            contact_id: string;
            status: 'given' | 'withdrawn';
            decided_at: Date;
            recorded_at: Date;
            recorded_by: string;
            note: string | null;
          }[]
        >()
    : [];
  return rows.map((r) => ({
    contactId: r.id,
    kind: r.kind,
    name: r.name,
    organisation: r.organisation,
    relationship: r.relationship,
    channel: r.channel,
    email: r.email,
    phone: r.phone,
    address: typeof r.address === 'string' ? (JSON.parse(r.address) as ContactView['address']) : r.address,
    consent: {
      status: r.consent_status,
      decidedAt: r.consent_recorded_at ? iso(r.consent_recorded_at) : null,
      recordedBy: r.consent_recorded_by,
    },
    consentHistory: events
      .filter((e) => e.contact_id === r.id)
      .map((e) => ({
        status: e.status,
        decidedAt: iso(e.decided_at),
        recordedAt: iso(e.recorded_at),
        recordedBy: e.recorded_by,
        note: e.note,
      })),
    createdAt: iso(r.created_at),
  }));
}

/** A person's contacts, agencies first, then by name. */
export async function listContacts(store: Store, patientId: string): Promise<ContactView[]> {
  const rows = await knexOf(store)('contacts')
    .where({ patient_id: patientId })
    .orderBy([{ column: 'kind' }, { column: 'name' }, { column: 'id' }])
    .select<ContactRow[]>();
  return viewsOf(store, rows);
}

/** One contact of the person; undefined when there is none with this id, or it is someone else's. */
export async function findContact(
  store: Store,
  patientId: string,
  contactId: string,
): Promise<ContactView | undefined> {
  const row = await knexOf(store)('contacts')
    .where({ id: contactId, patient_id: patientId })
    .first<ContactRow | undefined>();
  return row ? (await viewsOf(store, [row]))[0] : undefined;
}

export type AddContactCommand = Omit<AddContactInput, 'contactId'>;

export async function addContact(store: Store, command: AddContactCommand, logger: Logger): Promise<ContactView> {
  const contactId = randomUUID();
  await createRecordActivities({ store, logger }).addContact({ ...command, contactId });
  const contact = await findContact(store, command.patientId, contactId);
  if (!contact) throw new NotFoundError(`No contact ${contactId}`);
  return contact;
}

export interface RecordConsentCommand {
  readonly patientId: string;
  readonly contactId: string;
  readonly status: 'given' | 'withdrawn';
  readonly decidedAt: string;
  readonly note?: string;
  readonly actor: Actor;
}

/** A consent decision as a new event; the contact's current consent is then the latest decision. */
export async function recordContactConsent(
  store: Store,
  command: RecordConsentCommand,
  logger: Logger,
): Promise<ContactView> {
  if (!(await findContact(store, command.patientId, command.contactId)))
    throw new NotFoundError(`No contact ${command.contactId} of this person`);
  await createRecordActivities({ store, logger }).recordContactConsent({
    consentEventId: randomUUID(),
    contactId: command.contactId,
    status: command.status,
    decidedAt: command.decidedAt,
    ...(command.note !== undefined ? { note: command.note } : {}),
    actor: command.actor,
  });
  const contact = await findContact(store, command.patientId, command.contactId);
  if (!contact) throw new NotFoundError(`No contact ${command.contactId}`);
  return contact;
}
