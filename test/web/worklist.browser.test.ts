/**
 * The worklist in a real browser, as a clinician meets it: `throughcare up` (through bin/throughcare.js, the
 * development issuer, demo settings and staff), Debian's Chromium driven by playwright-core, signed in by clicking
 * a demo user on the issuer's page. The same journey runs with JavaScript off, and axe-core checks each page
 * against WCAG 2.2 AA. Without Chromium the test fails saying how to install it: it is never skipped.
 */
import type { Browser, Page } from 'playwright-core';
import { seriousViolations, signIn, startProduct, type RunningProduct } from '../support/browser';
import { eventually } from '../support/eventually';

jest.setTimeout(240_000);

describe('the worklist in the browser', () => {
  let product: RunningProduct;
  let base: string;
  let browser: Browser;
  let caseId: string;

  beforeAll(async () => {
    product = await startProduct('throughcare-web-');
    ({ base, browser } = product);
    // A case admitted to the demo prison, so its reception screening is in Sam Patel's worklist.
    const started = await fetch(`${base}/api/v1/cases`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await product.token('Sam Patel')}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        pathway: 'sms-prison',
        nhsNumber: '9000000068',
        settingOdsCode: 'XPRS01',
        variables: { receptionDate: new Date().toISOString() },
      }),
    });
    expect(started.status).toBe(201);
    caseId = ((await started.json()) as { caseId: string }).caseId;
    // The task reaches the worklist once the case's workflow has opened it: on a busy machine, after a while.
    const token = await product.token('Sam Patel');
    await eventually(
      'the reception screening is in the worklist',
      async () => {
        const res = await fetch(`${base}/api/v1/tasks?caseId=${caseId}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        return ((await res.json()) as { items?: { caseId?: string }[] }).items ?? [];
      },
      (items) => items.some((task) => task.caseId === caseId),
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  });

  afterAll(async () => {
    await product?.stop();
  });

  /** Opens the worklist signed out, is sent to sign in, and clicks the demo user on the issuer's page. */
  function signInThroughWorklist(page: Page, name: string): Promise<void> {
    return signIn(page, base, '/worklist', name);
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

        // Filters are a form that works without scripts. The screen comes before cell allocation: priority 70,
        // said in words, kept by "High", not by "Urgent".
        await page.getByRole('link', { name: 'All tasks in my settings' }).click();
        await expect(row.getByText('High priority').count()).resolves.toBe(1);
        await page.getByLabel('Priority', { exact: true }).selectOption('high');
        await page.getByRole('button', { name: 'Apply filters' }).click();
        await expect(row.count()).resolves.toBeGreaterThan(0);
        await page.getByLabel('Priority', { exact: true }).selectOption('urgent');
        await page.getByRole('button', { name: 'Apply filters' }).click();
        await expect(row.count()).resolves.toBe(0);
        await page.getByLabel('Priority', { exact: true }).selectOption('');
        // Only overdue tasks (none: the case is new).
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

  it('saves a filtered view shared with the prison, which a colleague there sees and opens', async () => {
    const samContext = await browser.newContext();
    const priyaContext = await browser.newContext();
    try {
      const sam = await samContext.newPage();
      await signInThroughWorklist(sam, 'Sam Patel');
      await sam.getByLabel('Setting', { exact: true }).selectOption('XPRS01');
      await sam.getByLabel('Order', { exact: true }).selectOption('created');
      await sam.getByRole('button', { name: 'Apply filters' }).click();
      await sam.waitForURL(/setting=XPRS01/);

      // Without a name: the error summary, linked to the field, and the form open where it was.
      await sam.getByText('Save this view').click();
      const refused = sam.waitForResponse((r) => r.url() === `${base}/worklist/views`);
      await sam.getByRole('button', { name: 'Save view' }).click();
      expect((await refused).status()).toBe(400);
      await expect(sam.title()).resolves.toBe('Error: Worklist – Throughcare');
      await expect(sam.getByRole('link', { name: 'Enter a name for this view' }).getAttribute('href')).resolves.toBe(
        '#view-name',
      );

      await sam.getByLabel('Name', { exact: true }).fill('Prison, newest first');
      await sam.getByLabel('Share with').selectOption('XPRS01');
      await sam.getByRole('button', { name: 'Save view' }).click();
      await sam.waitForURL(/\/worklist\?.*sort=created/);
      const saved = sam.getByRole('region', { name: 'Saved views' });
      await expect(saved.getByRole('link', { name: 'Prison, newest first' }).count()).resolves.toBe(1);
      await expect(saved.textContent()).resolves.toContain('Shared with XPRS01');

      // The same name again is more likely a slip than a wish to replace it: said so, at the field.
      await sam.getByText('Save this view').click();
      await sam.getByLabel('Name', { exact: true }).fill('Prison, newest first');
      await sam.getByRole('button', { name: 'Save view' }).click();
      await expect(
        sam.getByRole('link', { name: /You already have a view called ‘Prison, newest first’/ }).getAttribute('href'),
      ).resolves.toBe('#view-name');
      await expect(sam.getByLabel('Name', { exact: true }).inputValue()).resolves.toBe('Prison, newest first');

      // Priya works in the prison too: on her own desk, the view is there, Sam's to delete, not hers.
      const priya = await priyaContext.newPage();
      await signInThroughWorklist(priya, 'Priya Shah');
      const theirs = priya.getByRole('region', { name: 'Saved views' });
      await expect(theirs.textContent()).resolves.toContain('Shared by Sam Patel with XPRS01');
      await expect(theirs.getByRole('button', { name: /Delete/ }).count()).resolves.toBe(0);
      expect(await seriousViolations(priya)).toEqual([]);
      await theirs.getByRole('link', { name: 'Prison, newest first' }).click();
      await priya.waitForURL(/setting=XPRS01/);
      expect(new URL(priya.url()).searchParams.get('sort')).toBe('created');
      await expect(priya.getByLabel('Setting', { exact: true }).inputValue()).resolves.toBe('XPRS01');
      await expect(priya.getByLabel('Order', { exact: true }).inputValue()).resolves.toBe('created');
      const row = priya.getByRole('row', { name: /Reception/ }).filter({ hasText: '900 000 0068' });
      await expect(row.count()).resolves.toBeGreaterThan(0);

      // Sam deletes it; it is gone for both.
      await saved.getByRole('button', { name: 'Delete the saved view Prison, newest first' }).click();
      await expect(saved.getByRole('link', { name: 'Prison, newest first' }).count()).resolves.toBe(0);
      await priya.reload();
      await expect(theirs.getByRole('link', { name: 'Prison, newest first' }).count()).resolves.toBe(0);
    } finally {
      await samContext.close();
      await priyaContext.close();
    }
  });

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
      await expect(page.locator('main').textContent()).resolves.toContain('ask your team lead');
      await expect(page.locator('main').textContent()).resolves.not.toContain('task.list');
    } finally {
      await context.close();
    }
  });
});
