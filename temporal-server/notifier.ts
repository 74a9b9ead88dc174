/**
 * In-process wake-ups for long polls: task pollers wait per (namespace, queue, kind), history/update/query
 * waiters per run. Only callers that are actually waiting hold an entry; a waiting workflow costs nothing.
 */
export class Notifier {
  private readonly taskWaiters = new Map<string, Array<() => void>>();
  private readonly runWaiters = new Map<string, Set<() => void>>();
  private readonly closeWaiters = new Map<string, Set<() => void>>();

  static taskKey(namespace: string, queue: string, kind: number): string {
    return `${namespace}\u0000${queue}\u0000${kind}`;
  }

  /** Wakes one waiting poller for the queue (the woken poller re-reads the database). */
  notifyTask(key: string, count = 1): void {
    const list = this.taskWaiters.get(key);
    if (!list) return;
    for (let i = 0; i < count && list.length > 0; i++) list.shift()!();
    if (list.length === 0) this.taskWaiters.delete(key);
  }

  /**
   * Waits for a task notification, the timeout, or `cancelled` (the poll's client went away). A waiter that
   * stops waiting leaves the list at once, so a notification is never spent on a poller that is gone.
   */
  waitTask(key: string, timeoutMs: number, cancelled?: Promise<void>): Promise<void> {
    return new Promise((resolve) => {
      let list = this.taskWaiters.get(key);
      if (!list) this.taskWaiters.set(key, (list = []));
      const leave = (): void => {
        clearTimeout(timer);
        const l = this.taskWaiters.get(key);
        if (l) {
          const i = l.indexOf(done);
          if (i >= 0) l.splice(i, 1);
          if (l.length === 0) this.taskWaiters.delete(key);
        }
        resolve();
      };
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(leave, timeoutMs);
      list.push(done);
      void cancelled?.then(leave);
    });
  }

  /** Close-only waiters (a client awaiting a result) are woken only when the run has closed. */
  notifyRun(runId: string, closed = true): void {
    if (closed) this.notifyRunSet(this.closeWaiters, runId);
    this.notifyRunSet(this.runWaiters, runId);
  }

  private notifyRunSet(map: Map<string, Set<() => void>>, runId: string): void {
    const set = map.get(runId);
    if (!set) return;
    map.delete(runId);
    for (const fn of set) fn();
  }

  waitRun(runId: string, timeoutMs: number, closeOnly = false): Promise<void> {
    const map = closeOnly ? this.closeWaiters : this.runWaiters;
    return new Promise((resolve) => {
      let set = map.get(runId);
      if (!set) map.set(runId, (set = new Set()));
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const s = map.get(runId);
        if (s) {
          s.delete(done);
          if (s.size === 0) map.delete(runId);
        }
        resolve();
      }, timeoutMs);
      set.add(done);
    });
  }

  wakeAllPollers(): void {
    for (const list of this.taskWaiters.values()) for (const fn of list) fn();
    this.taskWaiters.clear();
    for (const map of [this.runWaiters, this.closeWaiters]) {
      for (const set of map.values()) for (const fn of set) fn();
      map.clear();
    }
  }
}
