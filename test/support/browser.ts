/** Where the browser tests find Chromium: Debian's `chromium` package, or CHROMIUM_PATH. */
import fs from 'node:fs/promises';

export { freePort } from '../../store/embedded-postgres';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** The Chromium to drive; fails (never skips) with how to install it when there is none. */
export async function chromiumPath(): Promise<string> {
  const candidates = process.env['CHROMIUM_PATH'] ? [process.env['CHROMIUM_PATH']] : CANDIDATES;
  for (const candidate of candidates) {
    try {
      await fs.access(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // try the next
    }
  }
  throw new Error(
    `The browser tests need Chromium (looked for ${candidates.join(', ')}). Install it with ` +
      '`sudo apt-get install -y chromium` (Debian/Ubuntu), or set CHROMIUM_PATH to a Chromium or Chrome binary.',
  );
}
