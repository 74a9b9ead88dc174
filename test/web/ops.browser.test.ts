/**
 * The ops console in a real browser, as an ops engineer meets it: `throughcare up` through bin/throughcare.js, Oakley
 * Ops signed in by clicking the demo user on the development issuer's page, and cases made to fail by the embedded
 * Spine sandbox's faults (its control plane, `/_sandbox/faults`, at the address `up` publishes in runtime.json):
 * admitted to the prison pathway, each case first traces the person on PDS (`LookUpPerson`), which fails.
 *
 * - Two people's PDS answers 503 every time: their trace runs out of its 3 attempts within seconds and waits in an
 *   incident, so the failing view finds them with its default threshold.
 * - One person's PDS answers 503 asking to be retried in 6 s, then in an hour: the trace has failed twice and waits
 *   an hour for its last attempt, a pending activity with a failure, found by the failing view from attempt 2.
 *
 * Each journey runs with JavaScript on and off; axe-core checks every page the console has.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { seriousViolations, signIn, startProduct, type RunningProduct } from '../support/browser';
import { eventually } from '../support/eventually';

jest.setTimeout(300_000);

/** Sandbox test patients: 9000000009 is left alone (it is what /ready asks the sandbox for). */
const INCIDENT_PEOPLE = ['9000000025', '9000000033'];
const RETRYING_PERSON = '9000000017';

interface OpsCaseRow {
  caseId: string;
  openIncidentCount: number;
  failingAttempts: number;
}

describe('the ops console in the browser', () => {
  let product: RunningProduct;
  let base: string;
  let browser: Browser;
  let spine: string;
  let opsToken: string;
  const incidentCases: string[] = [];
  let retryingCase: string;

  /** Cases of a view, as the console's API lists them for Oakley Ops. */
  async function listed(query: string): Promise<OpsCaseRow[]> {
    const res = await fetch(`${base}/api/v1/ops/cases?${query}`, { headers: { authorization: `Bearer ${opsToken}` } });
    return ((await res.json()) as { items?: OpsCaseRow[] }).items ?? [];
  }

  async function setFaults(nhsNumber: string, faults: unknown): Promise<void> {
    const res = await fetch(`${spine}/_sandbox/faults/${nhsNumber}`, { method: 'PUT', body: JSON.stringify(faults) });
    expect(res.status).toBe(200);
  }

  /** How many requests for the person the sandbox has failed on purpose: a retry shows as one more. */
  async function faultsUsed(nhsNumber: string): Promise<number> {
    const res = await fetch(`${spine}/_sandbox/faults/${nhsNumber}`);
    const { faults } = (await res.json()) as { faults: { used: number }[] };
    return faults.reduce((sum, fault) => sum + fault.used, 0);
  }

  beforeAll(async () => {
    product = await startProduct('throughcare-ops-');
    ({ base, browser } = product);
    spine = (
      JSON.parse(await fs.readFile(path.join(product.dataDir, 'runtime.json'), 'utf8')) as { spineBaseUrl: string }
    ).spineBaseUrl;
    opsToken = await product.token('Oakley Ops');
    const samToken = await product.token('Sam Patel');
    const admit = async (nhsNumber: string) => {
      const res = await fetch(`${base}/api/v1/cases`, {
        method: 'POST',
        headers: { authorization: `Bearer ${samToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          pathway: 'sms-prison',
          nhsNumber,
          settingOdsCode: 'XPRS01',
          variables: { receptionDate: new Date().toISOString() },
        }),
      });
      expect(res.status).toBe(201);
      return ((await res.json()) as { caseId: string }).caseId;
    };
    for (const nhsNumber of INCIDENT_PEOPLE) {
      await setFaults(nhsNumber, { kind: 'unavailable' });
      incidentCases.push(await admit(nhsNumber));
    }
    await setFaults(RETRYING_PERSON, [
      { kind: 'unavailable', retryAfterSeconds: 6, times: 1 },
      { kind: 'unavailable', retryAfterSeconds: 3600 },
    ]);
    retryingCase = await admit(RETRYING_PERSON);

    await eventually(
      'the traces that ran out of attempts wait in incidents, found by the failing view',
      () => listed('view=failing'),
      (items) => incidentCases.every((id) => items.some((c) => c.caseId === id && c.openIncidentCount > 0)),
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    await eventually(
      'the trace that waits an hour has failed twice',
      () => listed('view=failing&failingAttempts=2'),
      (items) => items.some((c) => c.caseId === retryingCase && c.failingAttempts >= 2),
      { timeoutMs: 60_000, intervalMs: 500 },
    );
  });

  afterAll(async () => {
    await product?.stop();
  });

  async function opsPage(
    javaScriptEnabled: boolean,
    target = '/ops',
  ): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ javaScriptEnabled });
    const page = await context.newPage();
    await signIn(page, base, target, 'Oakley Ops');
    return { context, page };
  }

  /** The bulk page's cases as shown: each row's case id, outcome and detail. */
  async function bulkRows(page: Page): Promise<{ caseId: string | null; outcome?: string; detail?: string }[]> {
    const rows = page.locator('#bulk-cases tbody tr');
    const shown = [];
    for (let i = 0; i < (await rows.count()); i += 1) {
      const row = rows.nth(i);
      shown.push({
        caseId: await row.getAttribute('data-case-id'),
        outcome: (await row.locator('[data-outcome]').textContent())?.trim(),
        detail: (await row.locator('[data-detail]').textContent())?.trim(),
      });
    }
    return shown;
  }

  for (const javaScriptEnabled of [true, false]) {
    const js = `JavaScript ${javaScriptEnabled ? 'on' : 'off'}`;

    it(`finds a failing case, opens it and retries its activity now, ${js}`, async () => {
      const { context, page } = await opsPage(javaScriptEnabled);
      try {
        await expect(page.title()).resolves.toBe('Ops console – Throughcare');
        const views = page.getByRole('navigation', { name: 'Case views' });
        await expect(views.locator('[aria-current="page"]').textContent()).resolves.toMatch(/^Failing \(\d+\)$/);
        // The default view (failing from the second attempt) finds the cases waiting in incidents and the trace
        // still retrying; with the threshold at 3, the retrying trace (2 attempts so far) drops out.
        for (const id of [...incidentCases, retryingCase]) {
          await expect(page.getByRole('link', { name: `Case ${id}` }).count()).resolves.toBe(1);
        }
        if (javaScriptEnabled) expect(await seriousViolations(page)).toEqual([]);
        await page.getByText('Thresholds of the views').click();
        await page.getByLabel('Failing from attempt').fill('3');
        await page.getByRole('button', { name: 'Search' }).click();
        await page.waitForURL(/failingAttempts=3/);
        await expect(page.getByRole('link', { name: `Case ${retryingCase}` }).count()).resolves.toBe(0);

        if (!(await page.getByLabel('Failing from attempt').isVisible()))
          await page.getByText('Thresholds of the views').click();
        await page.getByLabel('Failing from attempt').fill('2');
        await page.getByRole('button', { name: 'Search' }).click();
        await page.waitForURL(/failingAttempts=2/);
        const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: `Case ${retryingCase}` }) });
        await expect(row.textContent()).resolves.toContain('SPINE_UNAVAILABLE');
        await expect(row.textContent()).resolves.toContain('LookUpPerson');
        // The pathway and version link to the heatmap of that version.
        await expect(
          row.getByRole('link', { name: /^sms-prison v\d+ heatmap$/ }).getAttribute('href'),
        ).resolves.toMatch(/^\/ops\/pathways\/sms-prison\/versions\/\d+$/);

        await row.getByRole('link', { name: `Case ${retryingCase}` }).click();
        await page.waitForURL(`${base}/ops/cases/${retryingCase}`);
        await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(`Case ${retryingCase}`);
        const activity = page.getByRole('row').filter({ hasText: 'pds.lookupPatient' });
        await expect(activity.textContent()).resolves.toContain('SPINE_UNAVAILABLE');
        await expect(activity.textContent()).resolves.toMatch(/\d of 3/);
        await expect(
          page.locator('#where').locator('xpath=following-sibling::table[1]').textContent(),
        ).resolves.toContain('Trace person on PDS');
        if (javaScriptEnabled) expect(await seriousViolations(page)).toEqual([]);

        // Retry now: the trace asks PDS again at once instead of in an hour (the sandbox counts the request).
        const before = await faultsUsed(RETRYING_PERSON);
        await activity.getByRole('button', { name: 'Retry now pds.lookupPatient' }).click();
        await page.waitForURL(/done=retried/);
        await expect(page.getByRole('status').first().textContent()).resolves.toContain(
          'Retried now: activity pds.lookupPatient',
        );
        await eventually(
          'PDS is asked again',
          () => faultsUsed(RETRYING_PERSON),
          (used) => used > before,
          {
            timeoutMs: 20_000,
            intervalMs: 250,
          },
        );

        // Its event history, a page of its own, 100 events at a time.
        await page.getByRole('link', { name: /^See the event history/ }).click();
        await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
          `Event history of case ${retryingCase}`,
        );
        await expect(page.getByRole('cell', { name: 'WorkflowExecutionStarted' }).count()).resolves.toBe(1);
        if (javaScriptEnabled) expect(await seriousViolations(page)).toEqual([]);
      } finally {
        await context.close();
      }
    });

    it(`previews a bulk retry of the failing view, applies it to exactly those cases and shows each outcome, ${js}`, async () => {
      // The previous run's retry failed the traces again: wait until both wait in incidents once more.
      await eventually(
        'both traces wait in incidents',
        () => listed('view=failing'),
        (items) => incidentCases.every((id) => items.some((c) => c.caseId === id && c.openIncidentCount > 0)),
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      // Failing from the third attempt: the incidents, not the trace still retrying (two attempts so far).
      const { context, page } = await opsPage(javaScriptEnabled, '/ops?view=failing&failingAttempts=3');
      try {
        await page.getByRole('button', { name: 'Retry these cases' }).click();
        await page.waitForURL(/\/ops\/bulk\/[0-9a-f-]{36}$/);
        const bulkUrl = page.url();
        await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toMatch(/^Retry \d+ cases?$/);
        await expect(page.locator('#bulk-query').textContent()).resolves.toContain('OpenIncidentCount > 0');
        const frozen = (await bulkRows(page)).map((row) => row.caseId);
        expect(frozen).toEqual(expect.arrayContaining(incidentCases));
        expect(frozen).not.toContain(retryingCase);
        if (javaScriptEnabled) expect(await seriousViolations(page)).toEqual([]);

        await page
          .getByRole('button', { name: `Apply to ${frozen.length} case${frozen.length === 1 ? '' : 's'}` })
          .click();
        // Applied: the same page again, now with its progress (each retry takes a second or more, so it is running).
        await page.getByRole('heading', { name: 'Progress' }).waitFor();
        expect(page.url()).toBe(bulkUrl);
        const status = page.locator('#bulk-status');
        await expect(status.textContent()).resolves.toMatch(/Running|Completed/);
        if (javaScriptEnabled) {
          await expect(status.textContent()).resolves.toBe('Running');
          await page.evaluate('window.sameDocument = 1');
          // The script follows the progress and updates this page in place: no reload.
          await page.waitForFunction(
            "document.querySelector('#bulk-status').textContent.trim() === 'Completed'",
            null,
            {
              timeout: 60_000,
            },
          );
          await expect(page.evaluate('window.sameDocument')).resolves.toBe(1);
          await expect(page.locator('#bulk-live').textContent()).resolves.toContain(
            `${frozen.length} of ${frozen.length} cases done`,
          );
        } else {
          // Without scripts, "Refresh progress" reloads the page until the action has finished.
          await eventually(
            'the bulk action has finished',
            async () => {
              const text = (await status.textContent())?.trim();
              if (text === 'Running') await page.getByRole('link', { name: 'Refresh progress' }).click();
              return text;
            },
            (text) => text === 'Completed',
            { timeoutMs: 60_000, intervalMs: 500 },
          );
        }
        // Each frozen case, and only those, with its outcome and what was done.
        const outcomes = await bulkRows(page);
        expect(outcomes.map((o) => o.caseId)).toEqual(frozen);
        for (const id of incidentCases) {
          expect(outcomes.find((o) => o.caseId === id)).toEqual({
            caseId: id,
            outcome: 'Done',
            detail: 'retried incident at LookUpPerson',
          });
        }
        await expect(page.locator('[data-count="succeeded"]').textContent()).resolves.toBe(String(frozen.length));
        if (javaScriptEnabled) expect(await seriousViolations(page)).toEqual([]);
        // The progress script is a file and the page's own content holds no inline script (a strict CSP is coming;
        // the NHS.UK template's one-line `js-enabled` script takes the template's `cspNonce`).
        await expect(page.locator('script[src="/assets/ops-bulk.js"]').count()).resolves.toBe(1);
        await expect(page.locator('main script, #bulk-progress script').count()).resolves.toBe(0);

        // It is in the console's recent bulk actions and in the operations log.
        await page.goto(`${base}/ops`);
        await expect(page.getByRole('region', { name: 'Recent bulk actions' }).textContent()).resolves.toContain(
          'Completed',
        );
        if (javaScriptEnabled) expect(await seriousViolations(page)).toEqual([]);
        await page.getByRole('link', { name: 'Operations log' }).click();
        const log = page.getByRole('table', { name: /Actions taken on cases/ });
        await expect(log.getByRole('row').filter({ hasText: 'bulk-retry.apply' }).count()).resolves.toBeGreaterThan(0);
        if (javaScriptEnabled) expect(await seriousViolations(page)).toEqual([]);
      } finally {
        await context.close();
      }
    });

    it(`shows a query the engine refuses in the error summary, linked to the query box, ${js}`, async () => {
      const { context, page } = await opsPage(javaScriptEnabled);
      try {
        await page.getByLabel('Query', { exact: true }).fill('PathwayId = ');
        const refused = page.waitForResponse(
          (r) => new URL(r.url()).pathname === '/ops' && r.request().method() === 'GET',
        );
        await page.getByRole('button', { name: 'Search' }).click();
        expect((await refused).status()).toBe(400);
        await expect(page.title()).resolves.toBe('Error: Ops console – Throughcare');
        const summary = page.getByRole('link', { name: /^The query cannot be run: .*position \d+/ });
        await expect(summary.getAttribute('href')).resolves.toBe('#query');
        await expect(page.getByLabel('Query', { exact: true }).inputValue()).resolves.toBe('PathwayId = ');
        // The full query, with the position the message names marked.
        await expect(page.locator('#full-query mark').count()).resolves.toBe(1);
        if (javaScriptEnabled) expect(await seriousViolations(page)).toEqual([]);

        // The heatmap's counts link to the cases a query finds, in no view: here, every trace waiting on PDS.
        await page.goto(`${base}/ops?${new URLSearchParams({ query: "CurrentElements = 'LookUpPerson'" }).toString()}`);
        await expect(
          page.getByRole('navigation', { name: 'Case views' }).locator('[aria-current="page"]').textContent(),
        ).resolves.toBe('All cases');
        for (const id of [...incidentCases, retryingCase]) {
          await expect(page.getByRole('link', { name: `Case ${id}` }).count()).resolves.toBe(1);
        }

        // A query that runs can be saved for the team, and the saved search fills the query box.
        await page.getByLabel('Query', { exact: true }).fill("LastErrorType = 'SPINE_UNAVAILABLE'");
        await page.getByRole('button', { name: 'Search' }).click();
        await page.getByText('Save this search').click();
        await page.getByLabel('Name', { exact: true }).fill(`PDS down (${javaScriptEnabled ? 'js' : 'no js'})`);
        await page.getByLabel('Share with the team of').selectOption('XPRS01');
        await page.getByRole('button', { name: 'Save search' }).click();
        await page.waitForURL(/saved=/);
        await page.goto(`${base}/ops?view=failing`);
        await page.getByRole('link', { name: `PDS down (${javaScriptEnabled ? 'js' : 'no js'})` }).click();
        await expect(page.getByLabel('Query', { exact: true }).inputValue()).resolves.toBe(
          "LastErrorType = 'SPINE_UNAVAILABLE'",
        );
      } finally {
        await context.close();
      }
    });
  }

  it('stops a running bulk action before its next case, JavaScript off', async () => {
    await eventually(
      'both traces wait in incidents',
      () => listed('view=failing'),
      (items) => incidentCases.every((id) => items.some((c) => c.caseId === id && c.openIncidentCount > 0)),
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const { context, page } = await opsPage(false, '/ops?view=failing');
    try {
      await page.getByRole('button', { name: 'Retry these cases' }).click();
      await page.waitForURL(/\/ops\/bulk\/[0-9a-f-]{36}$/);
      await page.getByRole('button', { name: /^Apply to \d+ cases?$/ }).click();
      await page.getByRole('heading', { name: 'Progress' }).waitFor();
      // Each case's retry takes a second or more: the first is still being worked on.
      await page.getByRole('button', { name: 'Stop' }).click();
      await expect(page.locator('#bulk-status').textContent()).resolves.toBe('Stopped');
      await expect(page.getByRole('button', { name: 'Stop' }).count()).resolves.toBe(0);
      const rows = await bulkRows(page);
      // The case in hand when it stopped may finish; the cases after it are left as they were.
      expect(rows.at(-1)?.outcome).toBe('To do');
      await expect(page.locator('[data-count="pending"]').textContent()).resolves.not.toBe('0');
    } finally {
      await context.close();
    }
  });

  it('shows an incident’s case with a link to the task that resolves it, and refuses an action without its reason', async () => {
    const { context, page } = await opsPage(true, `/ops/cases/${incidentCases[0]}`);
    try {
      await eventually(
        'the trace waits in an incident again',
        () => listed('view=failing'),
        (items) => items.some((c) => c.caseId === incidentCases[0] && c.openIncidentCount > 0),
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      await page.reload();
      const resolve = page.getByRole('link', { name: 'Resolve the incident at Trace person on PDS' });
      await expect(resolve.getAttribute('href')).resolves.toMatch(
        new RegExp(`^/tasks/${encodeURIComponent(`case-${incidentCases[0]}/`)}LookUpPerson`),
      );
      await expect(page.getByRole('navigation', { name: 'Journey of this case' }).textContent()).resolves.toContain(
        'Prison substance misuse service',
      );
      // Reassigning its open tasks (the incident's, here) names the person by their subject in the directory.
      await page.getByLabel('Give every open task of this case to').fill('mailto:nobody@demo.throughcare.test');
      await page.getByRole('button', { name: 'Reassign tasks' }).click();
      await expect(
        page.getByRole('link', { name: /^Person: must be the subject of active staff/ }).getAttribute('href'),
      ).resolves.toBe('#reassign-assignee');
      await page.getByLabel('Give every open task of this case to').fill('mailto:sam.patel@demo.throughcare.test');
      await page.getByRole('button', { name: 'Reassign tasks' }).click();
      await expect(page.getByRole('status').first().textContent()).resolves.toContain(
        '1 open task(s) reassigned to mailto:sam.patel@demo.throughcare.test',
      );
      await page.getByRole('button', { name: 'Cancel the case' }).click();
      await expect(
        page.getByRole('link', { name: 'Enter why the case is cancelled' }).getAttribute('href'),
      ).resolves.toBe('#cancel-reason');
      expect(await seriousViolations(page)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('offers the console to the ops role only', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await signIn(page, base, '/worklist', 'Sam Patel');
      await expect(page.getByRole('link', { name: 'Ops console' }).count()).resolves.toBe(0);
      const answer = await page.goto(`${base}/ops`);
      expect(answer?.status()).toBe(403);
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
        'You do not have access to this page',
      );
    } finally {
      await context.close();
    }
  });
});
