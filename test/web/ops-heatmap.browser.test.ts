/**
 * The pathway heatmap in a real browser, as an ops engineer meets it: `throughcare up` through bin/throughcare.js
 * (so the client bundle is built by the product itself, from a clean clone's sources), Oakley Ops signed in by
 * clicking the demo user on the development issuer's page, one case admitted to the demo prison. With JavaScript on
 * the diagram is drawn with a badge on the element the case waits in; with it off, and for keyboard users, the
 * table has the same counts and links. axe-core checks the page against WCAG 2.2 AA. Then the case is moved to a new
 * version from the console's migration page: a refused mapping first, then a check that passes, then the move.
 */
import type { Browser } from 'playwright-core';
import { seriousViolations, signIn, startProduct, type RunningProduct } from '../support/browser';
import { eventually } from '../support/eventually';

jest.setTimeout(240_000);

const PAGE = '/ops/pathways/sms-prison/versions/latest';

describe('the pathway heatmap in the browser', () => {
  let product: RunningProduct;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    product = await startProduct('throughcare-heatmap-');
    ({ base, browser } = product);
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
    // Through the API the page calls: the case is counted once it waits at its reception screen.
    const token = await product.token('Oakley Ops');
    await eventually(
      'the case waits at its reception screen',
      async () => {
        const res = await fetch(`${base}/api/v1${PAGE}/heatmap`, { headers: { authorization: `Bearer ${token}` } });
        return (await res.json()) as { elements?: { elementId: string; running: number }[] };
      },
      (heatmap) => (heatmap.elements?.find((e) => e.elementId === 'ReceptionScreening')?.running ?? 0) > 0,
      { timeoutMs: 60_000, intervalMs: 500 },
    );
  });

  afterAll(async () => {
    await product?.stop();
  });

  for (const javaScriptEnabled of [true, false]) {
    it(`shows the counts on the diagram and in the table, JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, async () => {
      const context = await browser.newContext({ javaScriptEnabled });
      const page = await context.newPage();
      try {
        await signIn(page, base, PAGE, 'Oakley Ops');
        await expect(page.title()).resolves.toMatch(/^Prison substance misuse service version \d+ – Throughcare$/);

        // The table: the reception screen first (the busiest), its running count a link to those cases.
        const table = page.getByRole('table', { name: /Cases at each element/ });
        const firstRow = table.getByRole('row').nth(1);
        await expect(firstRow.getByRole('rowheader').textContent()).resolves.toContain('Reception health screen');
        await expect(firstRow.textContent()).resolves.toContain('ReceptionScreening');
        const running = firstRow.getByRole('link', { name: /^1 running at Reception health screen/ });
        const href = await running.getAttribute('href');
        const query = new URL(href!, base).searchParams.get('query');
        expect(new URL(href!, base).pathname).toBe('/ops');
        expect(query).toMatch(
          /^CurrentElements = 'ReceptionScreening' AND PathwayId = 'sms-prison' AND PathwayVersion = \d+/,
        );

        // The version picker names this version as the current page.
        const versions = page.getByRole('navigation', { name: 'Versions of sms-prison' });
        await expect(versions.locator('[aria-current="page"]').textContent()).resolves.toMatch(/^Version \d+$/);

        const diagram = page.getByRole('region', { name: /^Diagram of Prison substance misuse service/ });
        if (javaScriptEnabled) {
          // bpmn-js drew it, with a badge in words on the element the case waits in.
          await page.waitForSelector('#pathway-diagram[data-heatmap-ready="true"]', { timeout: 30_000 });
          await expect(diagram.locator('svg .djs-element').count()).resolves.toBeGreaterThan(10);
          const badge = diagram.locator('.djs-overlay .app-heatmap-badge').filter({ hasText: '1 running' });
          await expect(badge.count()).resolves.toBe(1);
          await expect(badge.getByRole('link', { name: /^1 running at Reception/ }).getAttribute('href')).resolves.toBe(
            href,
          );
          expect(await seriousViolations(page)).toEqual([]);

          // Keyboard: the skip link moves past the diagram, and the next Tab is the table's first count.
          await page.getByRole('link', { name: 'Skip the diagram to the table of counts' }).focus();
          await page.keyboard.press('Enter');
          await page.keyboard.press('Tab');
          await expect(page.evaluate("document.activeElement?.closest('table')?.id")).resolves.toBe(
            'element-counts-table',
          );
        } else {
          await expect(diagram.textContent()).resolves.toContain('The diagram needs JavaScript');
        }
      } finally {
        await context.close();
      }
    });
  }

  it('moves the running case to a new version: a refused mapping moves nothing, a passing check then moves it', async () => {
    // Casey Commissioner deploys a version 2 (the shipped XML with another process name).
    const commissioner = { authorization: `Bearer ${await product.token('Casey Commissioner')}` };
    const xml = await (
      await fetch(`${base}/api/v1/pathways/sms-prison/versions/latest/bpmn`, { headers: commissioner })
    ).text();
    const changed = xml.replace(/(<bpmn:process [^>]*name=")([^"]*)"/, '$1$2 (revised)"');
    expect(changed).not.toBe(xml);
    const deployed = await fetch(`${base}/api/v1/pathways`, {
      method: 'POST',
      headers: { ...commissioner, 'content-type': 'application/xml' },
      body: changed,
    });
    expect(deployed.status).toBe(201);
    const { version: newVersion } = (await deployed.json()) as { version: number };
    const oldVersion = newVersion - 1;

    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await signIn(page, base, `/ops/pathways/sms-prison/versions/${oldVersion}`, 'Oakley Ops');
      await page
        .getByRole('link', { name: `Move the running cases of version ${oldVersion} to another version` })
        .click();
      await expect(page.title()).resolves.toBe(`Move running cases of version ${oldVersion} – Throughcare`);
      await expect(page.getByRole('radio', { name: `Version ${newVersion}` }).isChecked()).resolves.toBe(true);
      expect(await seriousViolations(page)).toEqual([]);

      // A line that is not a pair is named before anything is asked of the cases.
      const mapping = page.getByRole('textbox', { name: /Element mapping/ });
      await mapping.fill('ReceptionScreening');
      await page.getByRole('button', { name: 'Check each case' }).click();
      await expect(page.getByRole('alert').textContent()).resolves.toContain('Line 1 is not an old element id');

      // A mapping that would drop the case's open task: refused, and nothing is offered to move.
      await mapping.fill('ReceptionScreening = NoSuchElement');
      await page.getByRole('button', { name: 'Check each case' }).click();
      await expect(page.locator('#migration-outcome').textContent()).resolves.toContain('1 of 1 case cannot move');
      await expect(page.locator('#migration-cases').textContent()).resolves.toContain('Cannot move');
      await expect(page.getByRole('button', { name: /^Move \d+ case/ }).count()).resolves.toBe(0);
      expect(await seriousViolations(page)).toEqual([]);

      // No mapping: the case can move, and only now is moving offered.
      await page.getByRole('textbox', { name: /Element mapping/ }).fill('');
      await page.getByRole('button', { name: 'Check each case' }).click();
      await expect(page.locator('#migration-outcome').textContent()).resolves.toContain(
        `The case can move to version ${newVersion}`,
      );
      await expect(page.locator('#migration-cases').textContent()).resolves.toMatch(
        /Open task: ReceptionScreening → ReceptionScreening/,
      );
      await page.getByRole('button', { name: `Move 1 case to version ${newVersion}` }).click();
      await expect(page.locator('#migration-outcome').textContent()).resolves.toMatch(
        new RegExp(`Moved 1 of 1 case to version ${newVersion}`),
      );
      expect(await seriousViolations(page)).toEqual([]);

      // The case now waits at its reception screen in version 2, and the operations log says who moved it.
      const ops = { authorization: `Bearer ${await product.token('Oakley Ops')}` };
      const heatmap = (await (
        await fetch(`${base}/api/v1/ops/pathways/sms-prison/versions/${newVersion}/heatmap`, { headers: ops })
      ).json()) as { elements: { elementId: string; running: number }[] };
      expect(heatmap.elements.find((e) => e.elementId === 'ReceptionScreening')?.running).toBe(1);
      await page.goto(`${base}/ops/log`);
      await expect(page.locator('main').textContent()).resolves.toMatch(/migrate/i);
    } finally {
      await context.close();
    }
  });

  it('serves the diagram’s script and styles, cached for good, and adds no inline script', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await signIn(page, base, PAGE, 'Oakley Ops');
      const script = await page.locator('script[src^="/assets/bundles/pathway-heatmap-"]').getAttribute('src');
      const style = await page.locator('link[href^="/assets/bundles/pathway-heatmap-"]').getAttribute('href');
      for (const asset of [script!, style!]) {
        const res = await fetch(`${base}${asset}`);
        expect(res.status).toBe(200);
        expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      }
      // Every script of this page loads a file or holds data; the one inline script is the NHS.UK template's own
      // (`js-enabled`), which takes the CSP nonce (`cspNonce`).
      const inline = await page.evaluate(
        `[...document.querySelectorAll('script:not([src])')].filter((s) =>
          s.getAttribute('type') !== 'application/json' && !s.textContent.includes('js-enabled')).length`,
      );
      expect(inline).toBe(0);
    } finally {
      await context.close();
    }
  });
});
