/**
 * The queued tasks of every task queue, in memory: the matching side of the server, which hands each task to
 * exactly one poller without a database round trip. PostgreSQL's `tasks` table stays the durable copy: a task
 * row is written in the same statement as the transition that queues it and deleted in the same statement as
 * the one that starts it, and the queues are loaded from the table when the server starts. That is also why
 * one server process owns a schema at a time (see WorkflowService.start).
 *
 * Workflow tasks on a worker's sticky queue have no row: like the sticky queues themselves they do not outlive
 * the process (after a restart they are served from the normal queue, from each run's state). Because no row
 * stands for them, one a transition drops is dropped here too, and time skipping waits while any is queued.
 */
import { Notifier } from './notifier';
import type { QueuedTask } from './store';

export class TaskQueues {
  private readonly queues = new Map<string, QueuedTask[]>();
  /** Queued tasks without a row, by run, so that a run's can be dropped without scanning every queue. */
  private readonly unstoredByRun = new Map<string, Set<QueuedTask>>();

  add(key: string, task: QueuedTask): void {
    const queue = this.queues.get(key);
    if (queue) queue.push(task);
    else this.queues.set(key, [task]);
    this.trackUnstored(task);
  }

  /** The oldest task of the queue, now the caller's: it must start it or give it back. */
  take(key: string): QueuedTask | undefined {
    const queue = this.queues.get(key);
    const task = queue?.shift();
    if (queue?.length === 0) this.queues.delete(key);
    if (task && !task.stored) this.untrackUnstored(task);
    return task;
  }

  /** Returns a taken task to the head of its queue (its transition failed, so its row is still there). */
  giveBack(key: string, task: QueuedTask): void {
    const queue = this.queues.get(key);
    if (queue) queue.unshift(task);
    else this.queues.set(key, [task]);
    this.trackUnstored(task);
  }

  /** Drops the queued unstored tasks of a run of `kind` (0: every kind) and `ref` (0: every ref). */
  removeUnstored(runId: string, kind: number, ref: number): void {
    const tasks = this.unstoredByRun.get(runId);
    if (!tasks) return;
    for (const task of tasks) {
      if ((kind !== 0 && task.kind !== kind) || (ref !== 0 && task.ref !== ref)) continue;
      const key = Notifier.taskKey(task.namespace, task.queue, task.kind);
      const queue = this.queues.get(key) ?? [];
      const at = queue.indexOf(task);
      if (at >= 0) queue.splice(at, 1);
      if (queue.length === 0) this.queues.delete(key);
      this.untrackUnstored(task);
    }
  }

  /** Whether any task without a row (on a sticky queue) is waiting. */
  holdsUnstored(): boolean {
    return this.unstoredByRun.size > 0;
  }

  clear(): void {
    this.queues.clear();
    this.unstoredByRun.clear();
  }

  private trackUnstored(task: QueuedTask): void {
    if (task.stored) return;
    const tasks = this.unstoredByRun.get(task.runId);
    if (tasks) tasks.add(task);
    else this.unstoredByRun.set(task.runId, new Set([task]));
  }

  private untrackUnstored(task: QueuedTask): void {
    const tasks = this.unstoredByRun.get(task.runId);
    tasks?.delete(task);
    if (tasks?.size === 0) this.unstoredByRun.delete(task.runId);
  }
}
