/**
 * The queued tasks of every task queue, in memory: the matching side of the server, which hands each task to
 * exactly one poller without a database round trip. PostgreSQL's `tasks` table stays the durable copy: a task
 * row is written in the same statement as the transition that queues it and deleted in the same statement as
 * the one that starts it, and the queues are loaded from the table when the server starts. That is also why
 * one server process owns a schema at a time (see WorkflowService.start).
 */
import type { QueuedTask } from './store';

export class TaskQueues {
  private readonly queues = new Map<string, QueuedTask[]>();

  add(key: string, task: QueuedTask): void {
    const queue = this.queues.get(key);
    if (queue) queue.push(task);
    else this.queues.set(key, [task]);
  }

  /** The oldest task of the queue, now the caller's: it must start it or give it back. */
  take(key: string): QueuedTask | undefined {
    const queue = this.queues.get(key);
    const task = queue?.shift();
    if (queue?.length === 0) this.queues.delete(key);
    return task;
  }

  /** Returns a taken task to the head of its queue (its transition failed, so its row is still there). */
  giveBack(key: string, task: QueuedTask): void {
    const queue = this.queues.get(key);
    if (queue) queue.unshift(task);
    else this.queues.set(key, [task]);
  }

  clear(): void {
    this.queues.clear();
  }
}
