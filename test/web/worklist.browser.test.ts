/**
 * The worklist in a real browser, as a clinician meets it: `throughcare up` (through bin/throughcare.js, the
 * development issuer, demo settings and staff), Debian's Chromium driven by playwright-core, signed in by clicking
 * a demo user on the issuer's page. The same journey runs with JavaScript off, and axe-core checks each page
 * against WCAG 2.2 AA. Without Chromium the test fails saying how to install it: it is never skipped.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { chromium, type Browser, type Page } from 'playwright-core';
import { runCli, type CliProcess } from '../support/cli-process';
import { chromiumPath, freePort } from '../support/browser';

jest.setTimeout(240_000);

describe('the worklist in the browser', () => {
  let dataDir: string;
  let up: CliProcess;
  let base: string;
  let browser: Browser;
  let caseId: string;

  beforeAll(async () => {
    const executablePath = await chromiumPath();
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'throughcare-web-'));
    const port = await freePort();
    base = `http://localhost:${port}`;
    // As a newcomer's `npm start` runs it (jest sets NODE_ENV=test, which would skip the demo settings).
    up = runCli(['up'], { PORT: String(port), DATA_DIR: dataDir, NODE_ENV: 'development' });
    await up.waitFor(/Throughcare is ready/, 180_000);
    const token = runCli(['dev-token', '--user', 'Sam Patel'], { DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
    expect(await token.exited()).toBe(0);
    // A case admitted to the demo prison, so its reception screening is in Sam Patel's worklist.
    const started = await fetch(`${base}/api/v1/cases`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token.stdout().trim()}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        pathway: 'sms-prison',
        nhsNumber: '9000000068',
        settingOdsCode: 'XPRS01',
        variables: { receptionDate: new Date().toISOString() },
      }),
    });
    expect(started.status).toBe(201);
    caseId = ((await started.json()) as { caseId: string }).caseId;
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  });

  afterAll(async () => {
    await browser?.close();
    up?.child.kill('SIGINT');
    await up?.exited();
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  /** Opens the worklist signed out, is sent to sign in, and clicks the demo user on the issuer's page. */
  async function signInThroughWorklist(page: Page, name: string): Promise<void> {
    await page.goto(`${base}/worklist`);
    await page.getByRole('button', { name }).click();
    await page.waitForURL(`${base}/worklist`);
  }

  async function seriousViolations(page: Page): Promise<string[]> {
    const results = await new AxeBuilder({ page })
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'])
      .analyze();
    return results.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  }

  for (const javaScriptEnabled of [true, false]) {
    it(`signs in and shows the reception screening in the worklist, JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, async () => {
      const context = await browser.newContext({ javaScriptEnabled });
      const page = await context.newPage();
      try {
        await signInThroughWorklist(page, 'Sam Patel');
        await expect(page.title()).resolves.toBe('Worklist – Throughcare');
        const row = page.getByRole('row', { name: /Reception/ }).filter({ hasText: '900 000 0068' });
        await expect(row.count()).resolves.toBeGreaterThan(0);
        await expect(page.getByRole('navigation', { name: 'Worklist views' }).textContent()).resolves.toContain(
          'Unassigned',
        );
        // axe runs inside the page, so it checks the pages with JavaScript on; the markup is the same off.
        if (javaScriptEnabled) expect(await seriousViolations(page)).toEqual([]);

        // "My tasks": nothing is assigned to Sam yet, and the page says so.
        await page.getByRole('link', { name: 'My tasks' }).click();
        await expect(page.getByText('You have no open tasks assigned to you.').count()).resolves.toBe(1);

        // Claim it from its row (a form with the session's CSRF token): it is Sam's, in "My tasks"; then give it back.
        await page.getByRole('link', { name: 'All tasks in my settings' }).click();
        await row.getByRole('button', { name: /^Claim Reception/ }).click();
        await expect(row.getByRole('cell', { name: /^You/ }).count()).resolves.toBe(1);
        await page.getByRole('link', { name: 'My tasks' }).click();
        await row.getByRole('button', { name: /^Give back Reception/ }).click();
        await expect(page.getByText('You have no open tasks assigned to you.').count()).resolves.toBe(1);

        // Filters are a form that works without scripts: only overdue tasks (none: the case is new).
        await page.getByRole('link', { name: 'All tasks in my settings' }).click();
        await page.getByLabel('Only overdue tasks').check();
        await page.getByRole('button', { name: 'Apply filters' }).click();
        await expect(page.getByText('No open tasks match these filters.').count()).resolves.toBe(1);
        await expect(page.getByLabel('Only overdue tasks').isChecked()).resolves.toBe(true);

        await page.goto(`${base}/`);
        await expect(page.getByText('Signed in as').textContent()).resolves.toContain('Sam Patel');
        if (javaScriptEnabled) expect(await seriousViolations(page)).toEqual([]);
      } finally {
        await context.close();
      }
    });
  }

  it('sends a person who is not signed in to sign in, and back to the page they asked for', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${base}/worklist?view=unassigned`);
      expect(new URL(page.url()).pathname).toMatch(/^\/dev-oidc\//);
      await page.getByRole('button', { name: 'Morgan Lead' }).click();
      await page.waitForURL(`${base}/worklist?view=unassigned`);
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Worklist');
      // A post that did not come from one of our forms (no CSRF token) changes nothing.
      const forged = await context.request.post(`${base}/worklist/claim`, {
        form: { taskId: `case-${caseId}/ReceptionScreening#1`, returnTo: '/worklist' },
        maxRedirects: 0,
      });
      expect(forged.status()).toBe(403);
    } finally {
      await context.close();
    }
  });

  it('answers someone whose role has no worklist with an NHS.UK page saying so, not a JSON problem', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      const answers: number[] = [];
      page.on('response', (response) => {
        if (new URL(response.url()).pathname === '/worklist') answers.push(response.status());
      });
      await signInThroughWorklist(page, 'Casey Commissioner');
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
        'You do not have access to this page',
      );
      expect(answers.at(-1)).toBe(403);
    } finally {
      await context.close();
    }
  });
});
