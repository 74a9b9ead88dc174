import fs from 'node:fs/promises';

export default async function globalTeardown(): Promise<void> {
  const state = globalThis.__throughcareTestPostgres;
  if (!state?.running) return;
  await state.running.stop();
  if (state.dir) await fs.rm(state.dir, { recursive: true, force: true });
}
