/**
 * The queued tasks of every task queue, in memory: the matching side of the server, which hands each task to
 * exactly one poller without a database round trip. PostgreSQL's `tasks` table stays the durable copy: a task
 * row is written in the same statement as the transition that queues it and deleted in the same statement as
 * the one that starts it, and the queues are loaded from the table when the server starts. That is also why
 * one server process owns a schema at a time (see WorkflowService.start). Tasks on sticky queues have no row:
 * like the queues themselves, they do not outlive the process.
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

  /** Drops the queued tasks of a run of `kind` (0: every kind) and `ref` (0: every ref): they went stale. */
  remove(runId: string, kind: number, ref: number): void {
    for (const [key, queue] of this.queues) {
      const kept = queue.filter(
        (t) => !(t.runId === runId && (kind === 0 || t.kind === kind) && (ref === 0 || t.ref === ref)),
      );
      if (kept.length === 0) this.queues.delete(key);
      else if (kept.length !== queue.length) this.queues.set(key, kept);
    }
  }

  /** Whether any task that lives only in memory (on a sticky queue) is waiting. */
  holdsUnstored(): boolean {
    for (const queue of this.queues.values()) if (queue.some((t) => !t.stored)) return true;
    return false;
  }

  clear(): void {
    this.queues.clear();
  }
}
