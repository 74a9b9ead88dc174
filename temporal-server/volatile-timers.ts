/**
 * The in-memory timers of VOLATILE_TIMER_KINDS (state.ts): armed and cancelled once the transition that asked for
 * them is written, re-armed from the runs' state when the server starts. A timer that fires runs the same engine
 * transition as a stored one, which checks it against the run's state, so a stale one does nothing. A timer
 * whose transition could not be written fires again shortly: no row stands for it, so dropping it would leave
 * its run waiting forever (a started workflow task that never times out, a task on a dead sticky queue).
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
  readonly timer: VolatileTimer;
  handle: NodeJS.Timeout;
}

export class VolatileTimers {
  /** Armed timers by run, then by `kind/ref`: a run has at most one timer of a kind for each ref. */
  private readonly byRun = new Map<string, Map<string, Armed>>();
  private locks = 0;

  constructor(
    private readonly now: () => number,
    /** Runs the timer's transition; false when it could not be written, and the timer fires again later. */
    private readonly fire: (timer: VolatileTimer) => Promise<boolean>,
    private readonly retryMs = 1_000,
  ) {}

  arm(timer: VolatileTimer): void {
    this.cancel(timer.runId, timer.kind, timer.ref);
    const key = `${timer.kind}/${timer.ref}`;
    let timers = this.byRun.get(timer.runId);
    if (!timers) this.byRun.set(timer.runId, (timers = new Map<string, Armed>()));
    // A fired timer stays armed (and holding time skipping) until its transition is written, so the clock cannot
    // skip ahead between the timer firing and the work it schedules; one whose transition failed stays armed to
    // fire again, unless a transition cancelled or replaced it meanwhile.
    const fire = (): void => {
      void this.fire(timer).then(
        (done) => (done ? this.remove(timer.runId, key, armed) : this.retry(timer.runId, key, armed, fire)),
        () => this.retry(timer.runId, key, armed, fire),
      );
    };
    const delay = Math.max(0, Math.min(timer.fireAt - this.now(), 2 ** 31 - 1));
    const armed: Armed = { timer, handle: setTimeout(fire, delay) };
    armed.handle.unref();
    timers.set(key, armed);
    if (timer.holdsLock) this.locks++;
  }

  private retry(runId: string, key: string, armed: Armed, fire: () => void): void {
    if (this.byRun.get(runId)?.get(key) !== armed) return;
    armed.handle = setTimeout(fire, this.retryMs);
    armed.handle.unref();
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
