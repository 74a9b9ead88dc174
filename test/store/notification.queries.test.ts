/**
 * The ops console's view of the outbox: failed messages, and messages no worker is moving.
 */
import { randomUUID } from 'node:crypto';
import {
  ContactSchema,
  findFailedNotifications,
  findStuckNotifications,
  NotificationSchema,
  type Notification,
} from '../../store';
import { seedPatient } from './seed';
import { useMigratedStore } from './store-fixture';

const db = useMigratedStore('outbox');
const now = new Date('2026-11-22T12:00:00Z');
const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000);

beforeAll(async () => {
  const em = db.store.fork();
  const patient = await seedPatient(em);
  const contact = em.create(ContactSchema, {
    id: randomUUID(),
    patient,
    kind: 'agency',
    name: 'Probation',
    relationship: 'probation practitioner',
    channel: 'email',
    email: 'pp@example.gov.uk',
  });
  const message = (id: string, overrides: Partial<Notification>) =>
    em.create(NotificationSchema, {
      id,
      contact,
      patient,
      channel: 'email',
      template: 'missed-appointment',
      personalisation: {},
      createdAt: minutesAgo(60),
      ...overrides,
    });
  message('fresh', { createdAt: minutesAgo(1) });
  message('waiting-for-retry', { attempts: 1, nextAttemptAt: minutesAgo(-5) });
  message('forgotten', { createdAt: minutesAgo(30) });
  message('overdue-retry', { attempts: 2, nextAttemptAt: minutesAgo(20) });
  message('claimed-and-abandoned', { status: 'sending', attempts: 1, claimedAt: minutesAgo(30) });
  message('being-sent', { status: 'sending', attempts: 1, claimedAt: minutesAgo(1) });
  message('sent', { status: 'sent', attempts: 1, sentAt: minutesAgo(50) });
  message('refused', { status: 'failed', attempts: 1, lastError: 'SMTP 550' });
  await em.flush();
});

it('lists the messages that failed for good', async () => {
  const failed = await findFailedNotifications(db.store.fork());
  expect(failed.map((n) => [n.id, n.lastError])).toEqual([['refused', 'SMTP 550']]);
});

it('lists the messages no worker is moving', async () => {
  const stuck = await findStuckNotifications(db.store.fork(), now);
  expect(stuck.map((n) => n.id).sort()).toEqual(['claimed-and-abandoned', 'forgotten', 'overdue-retry']);
});
