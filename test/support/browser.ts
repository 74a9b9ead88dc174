/** Where the browser tests find Chromium (Debian's `chromium` package, or CHROMIUM_PATH), and the product they drive. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort } from '../../store/embedded-postgres';
import { runCli } from './cli-process';

export { freePort };

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

/**
 * The product as a newcomer's `npm start` runs it: `throughcare up` through bin/throughcare.js on a scratch data
 * directory, with the development issuer and demo settings and staff, and Debian's Chromium to drive it.
 */
export interface RunningProduct {
  readonly base: string;
  readonly dataDir: string;
  readonly browser: Browser;
  /** A bearer token for a demo person, for setting up through the API what the test is not about. */
  token(name: string): Promise<string>;
  stop(): Promise<void>;
}

/** `env`: what the product is configured with besides (`DATABASE_URL` for a database the test also reads). */
export async function startProduct(prefix: string, env: Record<string, string> = {}): Promise<RunningProduct> {
  const executablePath = await chromiumPath();
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  const port = await freePort();
  // As a newcomer's `npm start` runs it (jest sets NODE_ENV=test, which would skip the demo settings).
  const up = runCli(['up'], { ...env, PORT: String(port), DATA_DIR: dataDir, NODE_ENV: 'development' });
  await up.waitFor(/Throughcare is ready/, 240_000);
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  return {
    base: `http://localhost:${port}`,
    dataDir,
    browser,
    async token(name) {
      const token = runCli(['dev-token', '--user', name], { ...env, DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
      if ((await token.exited()) !== 0) throw new Error(`dev-token --user ${name} failed`);
      return token.stdout().trim();
    },
    async stop() {
      await browser.close();
      up.child.kill('SIGINT');
      await up.exited();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Opens `target` signed out, is sent to the development issuer, and clicks the demo person there. */
export async function signIn(page: Page, base: string, target: string, name: string): Promise<void> {
  await page.goto(`${base}${target}`);
  await page.getByRole('button', { name }).click();
  await page.waitForURL(`${base}${target}`);
}

/** axe-core's serious and critical WCAG 2.2 AA findings on the page as it is now. */
export async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'])
    .analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}
