import { VolatileTimers, type VolatileTimer } from './volatile-timers';

const timer = (overrides: Partial<VolatileTimer> = {}): VolatileTimer => ({
  namespace: 'default',
  runId: 'run',
  kind: 'wft_timeout',
  ref: '5',
  seq: 6,
  fireAt: Date.now(),
  holdsLock: true,
  ...overrides,
});

// The clock is jest's: a loaded machine cannot make a retry late and the test fail (it did, in CI).
const wait = (ms: number): Promise<void> => jest.advanceTimersByTimeAsync(ms);

describe('in-memory timers', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('fires a timer again when its transition could not be written, holding time skipping until it is', async () => {
    // Given a timer whose first two firings fail to be written
    const outcomes = [false, false, true];
    let fired = 0;
    const timers = new VolatileTimers(
      () => Date.now(),
      () => Promise.resolve(outcomes[fired++]!),
      5,
    );

    // When it falls due
    timers.arm(timer());
    await wait(60);

    // Then it fired until written, and no longer holds time skipping
    expect(fired).toBe(3);
    expect(timers.holdsLock()).toBe(false);
  });

  it('fires a timer again when its transition threw', async () => {
    let fired = 0;
    const timers = new VolatileTimers(
      () => Date.now(),
      () => (++fired === 1 ? Promise.reject(new Error('database gone')) : Promise.resolve(true)),
      5,
    );

    timers.arm(timer());
    await wait(60);

    expect(fired).toBe(2);
    expect(timers.holdsLock()).toBe(false);
  });

  it('does not fire again a failed timer that a transition cancelled meanwhile', async () => {
    // Given a timer whose firing failed
    let fired = 0;
    const timers = new VolatileTimers(
      () => Date.now(),
      () => {
        fired++;
        return Promise.resolve(false);
      },
      20,
    );
    timers.arm(timer());
    await wait(10);

    // When a transition cancels it before it fires again
    timers.cancel('run', 'wft_timeout', '5');
    await wait(60);

    // Then it fired only once
    expect(fired).toBe(1);
    expect(timers.holdsLock()).toBe(false);
  });

  it('does not let a failed timer replace the one a later transition armed', async () => {
    // Given a timer whose firing failed, and a later transition that arms the same kind and ref for later
    const fired: number[] = [];
    const timers = new VolatileTimers(
      () => Date.now(),
      (t) => {
        fired.push(t.seq);
        return Promise.resolve(t.seq !== 6);
      },
      10,
    );
    timers.arm(timer({ seq: 6 }));
    await wait(5);
    timers.arm(timer({ seq: 8, fireAt: Date.now() + 30 }));

    // When both would have fired
    await wait(80);

    // Then the old one was not retried over the new one, which fired once
    expect(fired).toEqual([6, 8]);
    expect(timers.holdsLock()).toBe(false);
  });
});
