/**
 * Polls `read` until `done` accepts its value, for state another process or a workflow reaches
 * asynchronously. Fails with `what` once `timeoutMs` has passed.
 */
export async function eventually<T>(
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  { timeoutMs = 30_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) {
      // What it was last, so a failure says what happened instead (cut short: a value can be a whole worklist).
      const last = JSON.stringify(value) ?? String(value);
      throw new Error(`${what}: not reached within ${timeoutMs / 1000} s; last seen: ${last.slice(0, 2_000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
