/**
 * The server's clock. In normal mode it is wall time. With time skipping it is wall time plus an offset that
 * jumps forward to the next due timer whenever nothing holds the lock (the Java test server's design): the
 * explicit lock count starts at 1, as the test client unlocks it only while it awaits a workflow's result.
 */
export interface Clock {
  readonly timeSkipping: boolean;
  now(): number;
}

export class WallClock implements Clock {
  readonly timeSkipping = false;
  now(): number {
    return Date.now();
  }
}

interface Sleeper {
  until: number;
  resolve: () => void;
}

export class SkippingClock implements Clock {
  readonly timeSkipping = true;
  private offset: number;
  /** Explicit locks from TestService; may go negative when unlocks race ahead of locks, as with concurrent waits. */
  private lockCount = 1;
  private sleepers: Sleeper[] = [];
  onChange: () => void = () => undefined;

  /**
   * `startsAt` (ms since epoch) sets the virtual time at start, in the past as well as the future: a fresh server
   * has nothing scheduled yet, so nothing can be due before it. A pathway simulation starts on the day it names.
   */
  constructor(startsAt?: number) {
    this.offset = startsAt === undefined ? 0 : startsAt - Date.now();
  }

  now(): number {
    return Date.now() + this.offset;
  }

  isLocked(): boolean {
    return this.lockCount > 0;
  }

  lock(): void {
    this.lockCount++;
  }

  unlock(): void {
    this.lockCount--;
    this.onChange();
  }

  /**
   * Sets virtual time to `target`, back as well as forward: only for a server with nothing running, which no timer
   * can see go back (WorkflowService.restartClock checks that).
   */
  setTime(target: number): void {
    this.offset = target - Date.now();
    this.wakeSleepers();
  }

  /** Moves virtual time forward to `target` (never backwards) and wakes sleepers that are now due. */
  advanceTo(target: number): void {
    const now = this.now();
    if (target > now) this.offset += target - now;
    this.wakeSleepers();
  }

  /** Earliest sleeper deadline, a candidate for the next jump. */
  nextSleeper(): number | undefined {
    let min: number | undefined;
    for (const s of this.sleepers) if (min === undefined || s.until < min) min = s.until;
    return min;
  }

  sleepUntil(until: number): Promise<void> {
    if (until <= this.now()) return Promise.resolve();
    return new Promise((resolve) => {
      this.sleepers.push({ until, resolve });
      // A wall-clock fallback: if skipping is locked the sleeper still wakes when real time catches up.
      const timer = setTimeout(() => this.wakeSleepers(), Math.min(Math.max(0, until - this.now()), 2 ** 31 - 1));
      timer.unref();
      this.onChange();
    });
  }

  wakeSleepers(): void {
    const now = this.now();
    const due = this.sleepers.filter((s) => s.until <= now);
    if (due.length === 0) return;
    this.sleepers = this.sleepers.filter((s) => s.until > now);
    for (const s of due) s.resolve();
  }
}
