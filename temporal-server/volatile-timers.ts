/**
 * The in-memory timers of VOLATILE_TIMER_KINDS (state.ts): armed and cancelled once the transition that asked for
 * them is written, re-armed from the runs' state when the server starts. A timer that fires runs the same engine
 * transition as a stored one, which checks it against the run's state, so a stale one does nothing.
 */
export interface VolatileTimer {
  namespace: string;
  runId: string;
  kind: string;
  ref: string;
  seq: number;
  fireAt: number;
  /** Holds time skipping while armed (see WorkflowService.isBusy). */
  holdsLock: boolean;
}

interface Armed {
  timer: VolatileTimer;
  handle: NodeJS.Timeout;
}

export class VolatileTimers {
  /** Armed timers by run, then by `kind/ref`: a run has at most one timer of a kind for each ref. */
  private readonly byRun = new Map<string, Map<string, Armed>>();
  private locks = 0;

  constructor(
    private readonly now: () => number,
    private readonly fire: (timer: VolatileTimer) => Promise<void>,
  ) {}

  arm(timer: VolatileTimer): void {
    this.cancel(timer.runId, timer.kind, timer.ref);
    const key = `${timer.kind}/${timer.ref}`;
    let timers = this.byRun.get(timer.runId);
    if (!timers) this.byRun.set(timer.runId, (timers = new Map<string, Armed>()));
    // A fired timer stays armed (and holding time skipping) until its transition is written, so the clock cannot
    // skip ahead between the timer firing and the work it schedules.
    const delay = Math.max(0, Math.min(timer.fireAt - this.now(), 2 ** 31 - 1));
    const handle = setTimeout(() => void this.fire(timer).finally(() => this.remove(timer.runId, key, armed)), delay);
    handle.unref();
    const armed: Armed = { timer, handle };
    timers.set(key, armed);
    if (timer.holdsLock) this.locks++;
  }

  /** Cancels a run's timers of `kind` ('*' for every kind) and `ref` ('' for every ref). */
  cancel(runId: string, kind: string, ref: string): void {
    const timers = this.byRun.get(runId);
    if (!timers) return;
    for (const [key, armed] of timers) {
      if ((kind === '*' || armed.timer.kind === kind) && (ref === '' || armed.timer.ref === ref)) {
        clearTimeout(armed.handle);
        this.remove(runId, key, armed);
      }
    }
  }

  holdsLock(): boolean {
    return this.locks > 0;
  }

  clear(): void {
    for (const timers of this.byRun.values()) for (const armed of timers.values()) clearTimeout(armed.handle);
    this.byRun.clear();
    this.locks = 0;
  }

  private remove(runId: string, key: string, armed: Armed): void {
    const timers = this.byRun.get(runId);
    if (timers?.get(key) !== armed) return;
    timers.delete(key);
    if (timers.size === 0) this.byRun.delete(runId);
    if (armed.timer.holdsLock) this.locks--;
  }
}
