/**
 * `npm run screenshots`: refreshes the README's pictures of the worklist, a task form with errors and a case page.
 * It starts the product as `npm start` does (on a scratch data directory, with the demo staff), starts three
 * prison cases through the API, and photographs the pages in Debian's Chromium as Sam Patel sees them.
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { signIn, startProduct } from '../test/support/browser';

const OUT = path.join(__dirname, '..', 'docs', 'screenshots');
// Thomas Brown, a record of poor data quality, and Jayne Smyth (who opted out of the SCR) in the Spine sandbox.
const PEOPLE = ['9000000068', '9000000033', '9000000017'];

/** The whole page, or (for a long form) its first 1,800 pixels. */
async function shoot(page: Page, name: string, fullPage = true): Promise<void> {
  const file = path.join(OUT, `${name}.png`);
  if (!fullPage) await page.setViewportSize({ width: 1280, height: 1800 });
  await page.screenshot({ path: file, fullPage });
  await page.setViewportSize({ width: 1280, height: 900 });
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

async function main(): Promise<void> {
  console.log('starting Throughcare on a scratch data directory (about a minute)...');
  const product = await startProduct('throughcare-screenshots-');
  try {
    const token = await product.token('Sam Patel');
    for (const nhsNumber of PEOPLE) {
      const started = await fetch(`${product.base}/api/v1/cases`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ pathway: 'sms-prison', nhsNumber, settingOdsCode: 'XPRS01' }),
      });
      if (started.status !== 201)
        throw new Error(`starting a case answered ${started.status}: ${await started.text()}`);
    }
    const context = await product.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await signIn(page, product.base, '/worklist', 'Sam Patel');
    // The pathway opens each reception screen a moment after its case starts.
    for (let i = 0; i < 60 && (await page.getByRole('link', { name: /^Reception/ }).count()) < PEOPLE.length; i += 1) {
      await page.waitForTimeout(500);
      await page.reload();
    }
    await shoot(page, 'worklist');

    await page.getByRole('link', { name: /^Reception.* for 900 000 0068$/ }).click();
    await page.getByRole('button', { name: 'Submit' }).click();
    await page.waitForSelector('.nhsuk-error-summary');
    await shoot(page, 'task-form-errors', false);

    await page.getByRole('link', { name: 'View the case record' }).click();
    await shoot(page, 'case');
    await context.close();
  } finally {
    await product.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
