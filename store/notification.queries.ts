/**
 * What the ops console asks of the notification outbox: which messages failed for good, and which are stuck
 * (waiting past their next attempt, or claimed by an attempt that never finished). Index: outbox_unsent.
 */
import { type StoreEntityManager } from './store';
import { NotificationSchema, type Notification } from './entities';

/** Messages marked failed (provider refusal, attempts spent, unknown outcome, consent), newest first. */
export function findFailedNotifications(em: StoreEntityManager, limit = 200): Promise<Notification[]> {
  return em.find(NotificationSchema, { status: 'failed' }, { orderBy: { createdAt: 'desc', id: 'asc' }, limit });
}

/**
 * Messages that should have moved on by `now`: pending past their next attempt by more than `graceMs`, or
 * claimed (`sending`) for longer than that. Either means no worker is working on them.
 */
export function findStuckNotifications(
  em: StoreEntityManager,
  now: Date,
  graceMs = 10 * 60_000,
  limit = 200,
): Promise<Notification[]> {
  const before = new Date(now.getTime() - graceMs);
  return em.find(
    NotificationSchema,
    {
      $or: [
        { status: 'pending', nextAttemptAt: { $lt: before } },
        { status: 'pending', nextAttemptAt: null, createdAt: { $lt: before } },
        { status: 'sending', claimedAt: { $lt: before } },
      ],
    },
    { orderBy: { createdAt: 'asc', id: 'asc' }, limit },
  );
}
