/**
 * Delivery of the notification outbox, at most once per id.
 *
 * An attempt first claims the row (pending -> sending, attempts + 1) in its own transaction, then sends, then
 * records the outcome. A failed send puts the row back to pending with the error and lets Temporal retry;
 * the attempt that spends the last allowed try, or meets a final refusal, marks it failed for ops to see.
 * If an attempt dies between claiming and recording, the next one finds the row still `sending`: the message
 * may have gone, so it is not sent again; the row is marked failed with that explanation instead.
 */
import { type Logger } from '../../log';
import { type ContactChannel, type PostalAddress, type Store } from '../../store';
import {
  ActivityError,
  ActivityErrorCode,
  DeliveryError,
  NotFoundError,
  toActivityError,
  withFailureConversion,
} from '../errors';
import { redactAddresses, type NotificationTransport, type OutboundMessage } from './transports';

export interface NotifyActivitiesDeps {
  store: Store;
  logger: Logger;
  transport: NotificationTransport;
  /** Attempts before a message is marked failed; keep the workflow's retry policy at least this generous. */
  maxAttempts?: number;
  /** Delay before the second attempt, doubling each time (recorded as the row's next attempt time). */
  initialRetryDelayMs?: number;
  maxRetryDelayMs?: number;
}

export interface DeliveryResult {
  id: string;
  status: 'sent';
  providerReference: string;
  /** True when an earlier attempt had already delivered it and this call sent nothing. */
  alreadySent: boolean;
}

interface ClaimedRow {
  id: string;
  channel: ContactChannel;
  template: string;
  personalisation: Record<string, string>;
  attempts: number;
  claimed_at: string;
  contact_name: string;
  email: string | null;
  phone: string | null;
  address: PostalAddress | null;
  kind: string;
  consent_status: string;
  is_restricted: boolean;
  /** False for a member of staff no longer active (always true for a contact). */
  staff_active: boolean;
}

export function createNotifyActivities(deps: NotifyActivitiesDeps) {
  const { store, transport } = deps;
  const logger = deps.logger.child({ component: 'notify-activities', transport: transport.name });
  const maxAttempts = deps.maxAttempts ?? 5;
  const initialDelay = deps.initialRetryDelayMs ?? 5_000;
  const maxDelay = deps.maxRetryDelayMs ?? 15 * 60_000;
  const knex = () => store.orm.em.getConnection().getKnex();

  /** pending -> sending in one statement, so two attempts can never both hold the claim. */
  async function claim(id: string): Promise<ClaimedRow | undefined> {
    const claimed = await knex()('notification_outbox')
      .where({ id, status: 'pending' })
      .update({ status: 'sending', claimed_at: knex().fn.now(), attempts: knex().raw('attempts + 1') })
      .returning<{ id: string }[]>('id');
    if (claimed.length === 0) return undefined;
    // The recipient is a contact of the patient or a member of staff (the outbox holds exactly one of the two).
    return knex()('notification_outbox as n')
      .leftJoin('contacts as c', 'c.id', 'n.contact_id')
      .leftJoin('staff as s', 's.id', 'n.staff_id')
      .joinRaw('left join patients as p on p.id = coalesce(c.patient_id, n.patient_id)')
      .where('n.id', id)
      .first<ClaimedRow>(
        'n.id',
        'n.channel',
        'n.template',
        'n.personalisation',
        'n.attempts',
        'n.claimed_at',
        knex().raw('coalesce(c.name, s.display_name) as contact_name'),
        knex().raw('coalesce(c.email, s.email) as email'),
        'c.phone',
        'c.address',
        knex().raw(`coalesce(c.kind, 'staff') as kind`),
        knex().raw(`coalesce(c.consent_status, 'not_applicable') as consent_status`),
        knex().raw('coalesce(p.is_restricted, false) as is_restricted'),
        knex().raw('coalesce(s.active, true) as staff_active'),
      );
  }

  /** Writes the outcome of the attempt that holds the claim (identified by its claim time). */
  async function settle(row: ClaimedRow, changes: Record<string, unknown>): Promise<void> {
    await knex()('notification_outbox').where({ id: row.id, claimed_at: row.claimed_at }).update(changes);
  }

  async function explainUnclaimable(id: string): Promise<DeliveryResult> {
    const row = await knex()('notification_outbox')
      .where({ id })
      .first<
        { status: string; provider_reference: string | null; last_error: string | null; attempts: number } | undefined
      >('status', 'provider_reference', 'last_error', 'attempts');
    if (!row) throw new NotFoundError('notification', id);
    switch (row.status) {
      case 'sent':
        return { id, status: 'sent', providerReference: row.provider_reference ?? '', alreadySent: true };
      case 'failed':
        throw new ActivityError(
          `notification ${id} has failed: ${row.last_error ?? 'no error recorded'}`,
          ActivityErrorCode.DeliveryRejected,
          false,
          { details: { id, attempts: row.attempts } },
        );
      case 'sending': {
        const reason = 'outcome unknown: an earlier attempt stopped after claiming this message, so it was not resent';
        await knex()('notification_outbox')
          .where({ id, status: 'sending' })
          .update({ status: 'failed', last_error: reason, next_attempt_at: null });
        logger.warn({ notificationId: id }, 'notification left in sending by a dead attempt; marked failed');
        throw new ActivityError(`notification ${id}: ${reason}`, ActivityErrorCode.DeliveryOutcomeUnknown, false, {
          details: { id },
        });
      }
      default:
        // `pending` again: another attempt released it between our update and this read. Let Temporal retry.
        throw new ActivityError(
          `notification ${id} is ${row.status}; retrying`,
          ActivityErrorCode.DeliveryFailed,
          true,
        );
    }
  }

  /** Consent can be withdrawn between enqueue and delivery; the rules of enqueueNotification apply again. */
  function refusalByConsent(row: ClaimedRow): string | undefined {
    if (row.kind === 'staff' && !row.staff_active) return 'not sent: the member of staff is no longer active';
    if (row.consent_status === 'withdrawn') return 'not sent: consent withdrawn before delivery';
    if (row.kind === 'family_member' && row.is_restricted) return 'not sent: the record is restricted';
    if (row.kind === 'family_member' && row.consent_status !== 'given') return 'not sent: no consent recorded';
    return undefined;
  }

  async function deliverNotification(id: string): Promise<DeliveryResult> {
    const row = await claim(id);
    if (!row) return explainUnclaimable(id);

    const refusal = refusalByConsent(row);
    if (refusal) {
      await settle(row, { status: 'failed', last_error: refusal, next_attempt_at: null });
      throw new DeliveryError(`notification ${id} ${refusal}`, false, { details: { id } });
    }

    const message: OutboundMessage = {
      notificationId: row.id,
      channel: row.channel,
      template: row.template,
      personalisation: row.personalisation,
      recipient: { name: row.contact_name, email: row.email, phone: row.phone, address: row.address },
    };
    let providerReference: string;
    try {
      ({ providerReference } = await transport.send(message));
    } catch (sendError) {
      const error = toActivityError(sendError);
      const lastError = redactAddresses(error.message).slice(0, 2000);
      const final = !error.retryable || row.attempts >= maxAttempts;
      if (final) {
        await settle(row, { status: 'failed', last_error: lastError, next_attempt_at: null });
        logger.warn({ notificationId: id, attempts: row.attempts, code: error.code }, 'notification failed for good');
        throw new DeliveryError(`notification ${id} failed after ${row.attempts} attempt(s): ${lastError}`, false, {
          cause: sendError,
          details: { id, attempts: row.attempts },
        });
      }
      const delay = Math.min(maxDelay, initialDelay * 2 ** (row.attempts - 1));
      await settle(row, {
        status: 'pending',
        last_error: lastError,
        next_attempt_at: new Date(Date.now() + delay),
      });
      logger.info(
        { notificationId: id, attempts: row.attempts, delayMs: delay },
        'notification attempt failed; will retry',
      );
      throw new DeliveryError(`notification ${id} attempt ${row.attempts} failed: ${lastError}`, true, {
        cause: sendError,
        details: { id, attempts: row.attempts },
        nextRetryDelayMs: delay,
      });
    }

    await settle(row, {
      status: 'sent',
      sent_at: knex().fn.now(),
      provider_reference: providerReference,
      transport: transport.name,
      last_error: null,
      next_attempt_at: null,
    });
    logger.info({ notificationId: id, attempts: row.attempts }, 'notification sent');
    return { id, status: 'sent', providerReference, alreadySent: false };
  }

  return withFailureConversion({ deliverNotification });
}

export type NotifyActivities = ReturnType<typeof createNotifyActivities>;
