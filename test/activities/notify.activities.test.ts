/**
 * Notification delivery against a real PostgreSQL and a real SMTP server started by the test: sent once,
 * retried after a temporary refusal, failed for good after the last attempt or a permanent refusal, never
 * resent when an earlier attempt's outcome is unknown, and the local inbox when nothing is configured.
 */
import { randomUUID } from 'node:crypto';
import { type AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { SMTPServer } from 'smtp-server';
import { silentLogger } from '../../log';
import {
  createNotificationTransport,
  createNotifyActivities,
  type NotificationTransport,
} from '../../activities/notify';
import { createRecordActivities, type RecordActivities } from '../../activities/records';
import { nextValidNhsNumber, seedSetting } from '../store/seed';
import { useMigratedStore } from '../store/store-fixture';

const db = useMigratedStore('notify');
const system = { id: 'system:workflow', role: 'system' };

interface Received {
  to: string[];
  data: string;
}

/** A local SMTP server; `replies` decides the answer to each message in turn (undefined = accept). */
async function startSmtpServer(replies: (number | undefined)[] = []) {
  const received: Received[] = [];
  let messageNumber = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const reply = replies[messageNumber++];
        if (reply) {
          const error = Object.assign(new Error(reply >= 500 ? 'Mailbox unavailable' : 'Try again later'), {
            responseCode: reply,
          });
          callback(error);
          return;
        }
        received.push({ to: session.envelope.rcptTo.map((r) => r.address), data: Buffer.concat(chunks).toString() });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let records: RecordActivities;
let odsCode: string;

beforeAll(async () => {
  records = createRecordActivities({ store: db.store, logger: silentLogger });
  odsCode = (
    await seedSetting(db.store.fork(), {
      odsCode: 'RXX01',
      name: 'Probation Leeds',
      kind: 'community_service',
      prisonType: null,
    })
  ).odsCode;
});

function knex() {
  return db.store.orm.em.getConnection().getKnex();
}

/** An agency contact on a fresh case with one pending outbox row; returns the notification id. */
async function enqueueToAgency(channel: 'email' | 'sms' = 'email'): Promise<string> {
  const caseId = randomUUID();
  await records.openCase({
    caseId,
    workflowId: `case-${caseId}`,
    nhsNumber: nextValidNhsNumber(),
    settingOdsCode: odsCode,
    pathwayId: 'release',
    pathwayVersion: 1,
    actor: system,
  });
  const { patient_id: patientId } = await knex()('cases')
    .where({ id: caseId })
    .first<{ patient_id: string }>('patient_id');
  const contactId = randomUUID();
  await records.addContact({
    contactId,
    patientId,
    kind: 'agency',
    name: 'Probation Practitioner',
    relationship: 'probation practitioner',
    channel,
    email: 'pp@probation.example.gov.uk',
    phone: '07700900123',
    actor: system,
  });
  const notificationId = `case-${caseId}/MissedAppointment/${contactId}`;
  await records.enqueueNotification({
    notificationId,
    contactId,
    caseId,
    template: 'missed-appointment',
    personalisation: { service: 'Forward Leeds', date: '1 December 2026', contactPoint: 'the release team' },
    actor: system,
  });
  return notificationId;
}

async function outboxRow(id: string) {
  return knex()('notification_outbox').where({ id }).first<{
    status: string;
    attempts: number;
    last_error: string | null;
    next_attempt_at: string | null;
    sent_at: string | null;
    provider_reference: string | null;
    transport: string | null;
  }>();
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApplicationFailure) return error;
    throw error;
  }
  throw new Error('expected delivery to fail');
}

function smtpActivities(url: string, maxAttempts = 3) {
  const transport = createNotificationTransport({ smtpUrl: url, store: db.store, logger: silentLogger });
  db.onClose(() => transport.close());
  return {
    transport,
    notify: createNotifyActivities({
      store: db.store,
      logger: silentLogger,
      transport,
      maxAttempts,
      initialRetryDelayMs: 10,
    }),
  };
}

describe('deliverNotification over SMTP', () => {
  it('sends the rendered message once and records the provider reference', async () => {
    const smtp = await startSmtpServer();
    db.onClose(smtp.close);
    const { notify, transport } = smtpActivities(smtp.url);
    expect(transport.name).toBe('smtp');
    const id = await enqueueToAgency();

    const first = await notify.deliverNotification(id);
    const second = await notify.deliverNotification(id);

    expect(first).toMatchObject({ status: 'sent', alreadySent: false });
    expect(second).toMatchObject({ status: 'sent', alreadySent: true, providerReference: first.providerReference });
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]?.to).toEqual(['pp@probation.example.gov.uk']);
    expect(smtp.received[0]?.data).toContain('Subject: Missed appointment: Forward Leeds');
    expect(smtp.received[0]?.data).toContain('An appointment with Forward Leeds on 1 December 2026 was missed.');
    expect(await outboxRow(id)).toMatchObject({
      status: 'sent',
      attempts: 1,
      transport: 'smtp',
      provider_reference: first.providerReference,
      last_error: null,
    });
  });

  it('retries after a temporary refusal, then sends', async () => {
    const smtp = await startSmtpServer([451]);
    db.onClose(smtp.close);
    const { notify } = smtpActivities(smtp.url);
    const id = await enqueueToAgency();

    const failure = await failureOf(notify.deliverNotification(id));

    expect(failure).toMatchObject({ type: 'DELIVERY_FAILED', nonRetryable: false });
    expect(failure.nextRetryDelay).toBe(10);
    const afterFirst = await outboxRow(id);
    expect(afterFirst).toMatchObject({ status: 'pending', attempts: 1, last_error: expect.stringContaining('451') });
    expect(afterFirst?.next_attempt_at).not.toBeNull();

    const result = await notify.deliverNotification(id);

    expect(result.alreadySent).toBe(false);
    expect(smtp.received).toHaveLength(1);
    expect(await outboxRow(id)).toMatchObject({ status: 'sent', attempts: 2, last_error: null, next_attempt_at: null });
  });

  it('marks the message failed, visibly, after the last allowed attempt', async () => {
    const smtp = await startSmtpServer([421, 421, 421]);
    db.onClose(smtp.close);
    const { notify } = smtpActivities(smtp.url, 2);
    const id = await enqueueToAgency();

    const first = await failureOf(notify.deliverNotification(id));
    const last = await failureOf(notify.deliverNotification(id));
    const afterwards = await failureOf(notify.deliverNotification(id));

    expect(first.nonRetryable).toBe(false);
    expect(last).toMatchObject({ type: 'DELIVERY_REJECTED', nonRetryable: true });
    expect(afterwards).toMatchObject({ type: 'DELIVERY_REJECTED', nonRetryable: true });
    expect(smtp.received).toHaveLength(0);
    expect(await outboxRow(id)).toMatchObject({
      status: 'failed',
      attempts: 2,
      last_error: expect.stringContaining('421'),
    });
  });

  it('fails at once on a permanent refusal, without the address in the recorded error', async () => {
    const smtp = await startSmtpServer([550]);
    db.onClose(smtp.close);
    const { notify } = smtpActivities(smtp.url);
    const id = await enqueueToAgency();

    const failure = await failureOf(notify.deliverNotification(id));

    expect(failure).toMatchObject({ type: 'DELIVERY_REJECTED', nonRetryable: true });
    const row = await outboxRow(id);
    expect(row).toMatchObject({ status: 'failed', attempts: 1 });
    expect(row?.last_error).not.toContain('probation.example.gov.uk');
  });

  it('refuses to send a text message over SMTP', async () => {
    const smtp = await startSmtpServer();
    db.onClose(smtp.close);
    const { notify } = smtpActivities(smtp.url);
    const id = await enqueueToAgency('sms');

    expect(await failureOf(notify.deliverNotification(id))).toMatchObject({ nonRetryable: true });
    expect(await outboxRow(id)).toMatchObject({ status: 'failed' });
  });

  it('does not resend a message whose earlier attempt died after claiming it', async () => {
    const smtp = await startSmtpServer();
    db.onClose(smtp.close);
    const { notify } = smtpActivities(smtp.url);
    const id = await enqueueToAgency();
    // an attempt claimed the row and the worker died before recording the outcome
    await knex()('notification_outbox')
      .where({ id })
      .update({ status: 'sending', attempts: 1, claimed_at: knex().fn.now() });

    const failure = await failureOf(notify.deliverNotification(id));

    expect(failure).toMatchObject({ type: 'DELIVERY_OUTCOME_UNKNOWN', nonRetryable: true });
    expect(smtp.received).toHaveLength(0);
    expect(await outboxRow(id)).toMatchObject({
      status: 'failed',
      last_error: expect.stringContaining('outcome unknown'),
    });
  });

  it('does not send when consent was withdrawn after the message was queued', async () => {
    const smtp = await startSmtpServer();
    db.onClose(smtp.close);
    const { notify } = smtpActivities(smtp.url);
    const id = await enqueueToAgency();
    const { contact_id: contactId } = await knex()('notification_outbox')
      .where({ id })
      .first<{ contact_id: string }>('contact_id');
    await records.recordContactConsent({
      consentEventId: randomUUID(),
      contactId,
      status: 'withdrawn',
      decidedAt: new Date().toISOString(),
      actor: system,
    });

    expect(await failureOf(notify.deliverNotification(id))).toMatchObject({ nonRetryable: true });
    expect(smtp.received).toHaveLength(0);
    expect(await outboxRow(id)).toMatchObject({
      status: 'failed',
      last_error: expect.stringContaining('consent withdrawn'),
    });
  });
});

describe('deliverNotification to the local inbox', () => {
  let transport: NotificationTransport;

  beforeAll(() => {
    transport = createNotificationTransport({ store: db.store, logger: silentLogger });
  });

  it('is the transport when neither GOV.UK Notify nor SMTP is configured', () => {
    expect(transport.name).toBe('local-inbox');
  });

  it('puts one rendered message in the inbox however often delivery runs', async () => {
    const notify = createNotifyActivities({ store: db.store, logger: silentLogger, transport });
    const id = await enqueueToAgency();

    const first = await notify.deliverNotification(id);
    await notify.deliverNotification(id);

    const inbox = await knex()('inbox_messages')
      .where({ notification_id: id })
      .select('id', 'subject', 'recipient', 'channel');
    expect(inbox).toEqual([
      {
        id: first.providerReference,
        subject: 'Missed appointment: Forward Leeds',
        recipient: 'Probation Practitioner <pp@probation.example.gov.uk>',
        channel: 'email',
      },
    ]);
    expect(await outboxRow(id)).toMatchObject({ status: 'sent', transport: 'local-inbox' });
  });

  it('delivers text messages too, so every channel can be tried locally', async () => {
    const notify = createNotifyActivities({ store: db.store, logger: silentLogger, transport });
    const id = await enqueueToAgency('sms');
    await notify.deliverNotification(id);
    expect(await knex()('inbox_messages').where({ notification_id: id }).first('recipient')).toEqual({
      recipient: 'Probation Practitioner <07700900123>',
    });
  });
});
