/**
 * The clinician's main journey in a real browser, as the issue asks for it: sign in as a demo clinician, find a
 * patient, start the prison substance misuse pathway, complete the reception screen with a validation error
 * first, save a draft, have a team lead reassign it, and see it on the case's timeline. It runs with JavaScript
 * on (axe-core checks every page) and off, and once with the keyboard alone. The product is `throughcare up`
 * through bin/throughcare.js, driven by Debian's Chromium: never skipped.
 */
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { readFormSchema } from '../../pathways';
import { formValues } from '../../web/forms/form-view';
import examples from '../../pathways/forms/examples/prison-reception-sms.examples.json';
import { eventually } from '../support/eventually';
import { seriousViolations, signIn, startProduct, type RunningProduct } from '../support/browser';

jest.setTimeout(300_000);

const RECEPTION = /^Reception health screen/;

describe('the clinician’s journey in the browser', () => {
  let product: RunningProduct;

  beforeAll(async () => {
    product = await startProduct('throughcare-journey-');
  });

  afterAll(async () => {
    await product?.stop();
  });

  /** Every page the journey meets is checked by axe when scripts run (axe runs inside the page). */
  async function checked(page: Page, javaScriptEnabled: boolean): Promise<void> {
    if (javaScriptEnabled) expect(await seriousViolations(page)).toEqual([]);
  }

  /** Fills the form's controls by name with what the browser would post for these answers. */
  async function fillAnswers(page: Page, answers: Record<string, unknown>): Promise<void> {
    const values = formValues(readFormSchema('prison-reception-sms'), answers);
    // Choices first: with scripts on, they reveal the questions that depend on them.
    const entries = Object.entries(values);
    for (const [name, value] of entries) {
      const choices = page.locator(`input[name="${name}"][type="radio"], input[name="${name}"][type="checkbox"]`);
      if ((await choices.count()) === 0) continue;
      for (const chosen of ([] as string[]).concat(value))
        await choices.and(page.locator(`[value="${chosen}"]`)).check();
    }
    for (const [name, value] of entries) {
      const control = page.locator(
        `input[name="${name}"]:not([type="radio"]):not([type="checkbox"]), textarea[name="${name}"], select[name="${name}"]`,
      );
      if ((await control.count()) === 0) continue;
      const text = ([] as string[]).concat(value)[0] ?? '';
      if ((await control.evaluate((el) => el.tagName)) === 'SELECT') await control.selectOption(text);
      else await control.fill(text);
    }
  }

  async function openReceptionFromCase(page: Page): Promise<void> {
    // The pathway opens its first task a moment after the case starts: the case page shows it once it is there.
    const link = page.getByRole('link', { name: RECEPTION });
    await eventually(
      'the reception screen is on the case page',
      async () => {
        if ((await link.count()) === 0) await page.reload();
        return link.count();
      },
      (count) => count > 0,
    );
    await link.first().click();
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toMatch(RECEPTION);
  }

  for (const javaScriptEnabled of [true, false]) {
    it(`finds a patient, starts the pathway, corrects, drafts, is reassigned and completes, JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, async () => {
      const nhsNumber = javaScriptEnabled ? '9000000009' : '9000000017';
      const clinician = await product.browser.newContext({ javaScriptEnabled });
      const lead = await product.browser.newContext({ javaScriptEnabled });
      try {
        const page = await clinician.newPage();
        await signIn(page, product.base, '/patients', 'Sam Patel');
        await checked(page, javaScriptEnabled);

        // Find the person by NHS number, then start the prison substance misuse pathway for them.
        await page.getByLabel('NHS number', { exact: true }).fill(nhsNumber);
        await page.getByRole('button', { name: 'Find by NHS number' }).click();
        await checked(page, javaScriptEnabled);
        await page.getByLabel('Prison substance misuse service').check();
        await page.getByLabel('Setting', { exact: true }).selectOption('XPRS01');
        await page.getByRole('button', { name: 'Start case' }).click();
        await page.waitForURL(/\/cases\/[0-9a-f-]{36}/);
        const casePath = new URL(page.url()).pathname;
        await checked(page, javaScriptEnabled);

        // The reception screen, submitted empty: the NHS error summary links each problem to its field.
        await openReceptionFromCase(page);
        await checked(page, javaScriptEnabled);
        const taskUrl = page.url();
        await page.getByRole('button', { name: 'Submit' }).click();
        const summary = page.locator('.nhsuk-error-summary');
        await expect(summary.getByRole('heading').textContent()).resolves.toContain('There is a problem');
        await expect(summary.getByRole('link').count()).resolves.toBeGreaterThan(3);
        await expect(summary.textContent()).resolves.toContain('Choose how the person uses alcohol.');
        await expect(page.title()).resolves.toMatch(/^Error: /);
        await checked(page, javaScriptEnabled);
        const alcohol = summary.getByRole('link', { name: 'Choose how the person uses alcohol.' });
        const target = (await alcohol.getAttribute('href'))!;
        expect(await page.locator(target).count()).toBe(1);

        // Some answers, saved as a draft: they are there when the task is opened again.
        // The form's own valid example, received an hour ago (not months ago, which would make every review overdue).
        const answers = { ...examples.valid, receptionAt: new Date(Date.now() - 3_600_000).toISOString() };
        await fillAnswers(page, { alcoholUse: answers['alcoholUse'], drugUse: answers['drugUse'] });
        await page.getByRole('button', { name: 'Save draft' }).click();
        await expect(page.getByRole('status').first().textContent()).resolves.toContain('Your draft is saved');
        await page.goto(taskUrl);
        await expect(page.getByLabel('Possibly dependent', { exact: true }).isChecked()).resolves.toBe(true);

        // A team lead gives the task to Priya Shah, by name.
        const leadPage = await lead.newPage();
        await signIn(leadPage, product.base, new URL(taskUrl).pathname, 'Morgan Lead');
        await leadPage.getByLabel('Give this task to').selectOption({ label: 'Priya Shah' });
        await leadPage.getByRole('button', { name: 'Reassign' }).click();
        await expect(leadPage.getByRole('status').first().textContent()).resolves.toContain('The task is reassigned');
        await checked(leadPage, javaScriptEnabled);

        // Sam completes it with every answer (a colleague may complete a task assigned to another): on to the
        // next task of the case, or back to the worklist.
        await page.goto(taskUrl);
        await fillAnswers(page, answers);
        await page.getByRole('button', { name: 'Submit' }).click();
        await page.waitForURL((url) => url.pathname !== new URL(taskUrl).pathname);
        await expect(page.getByRole('status').first().textContent()).resolves.toMatch(/completed/);
        await checked(page, javaScriptEnabled);

        // The case's timeline says who completed the reception screen.
        await page.goto(`${product.base}${casePath}`);
        const timeline = page.locator('#timeline ~ *');
        await eventually(
          'the completed reception screen is on the timeline',
          async () => {
            await page.reload();
            return (await timeline.allTextContents()).join(' ');
          },
          (text) => /Task completed: Reception health screen/.test(text),
        );
        await checked(page, javaScriptEnabled);
      } finally {
        await clinician.close();
        await lead.close();
      }
    });
  }

  it('lets someone who works in two settings choose one, which the worklist and a new case then start from', async () => {
    const context = await product.browser.newContext();
    try {
      const page = await context.newPage();
      await signIn(page, product.base, '/worklist', 'Sam Patel');
      await expect(page.getByLabel('Setting', { exact: true }).inputValue()).resolves.toBe('');
      await page.getByRole('link', { name: 'Choose setting' }).click();
      await checked(page, true);
      await page.getByLabel('XCOM01').check();
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL(`${product.base}/worklist`);
      await expect(page.getByLabel('Setting', { exact: true }).inputValue()).resolves.toBe('XCOM01');
      await expect(page.getByRole('link', { name: 'Working in XCOM01' }).count()).resolves.toBe(1);
      await page.goto(`${product.base}/patients/9000000068`);
      await expect(page.getByLabel('Setting', { exact: true }).inputValue()).resolves.toBe('XCOM01');
      // A setting that is not theirs is refused, naming the field.
      const forged = await page.request.post(`${product.base}/setting`, {
        form: { setting: 'XCUS01', _csrf: await page.locator('input[name="_csrf"]').first().inputValue() },
      });
      expect(forged.status()).toBe(400);
    } finally {
      await context.close();
    }
  });

  it('is done with the keyboard alone: find, start, open the task, follow an error to its field', async () => {
    const context: BrowserContext = await product.browser.newContext();
    try {
      const page = await context.newPage();
      await signIn(page, product.base, '/patients', 'Priya Shah');

      /** Presses Tab until `target` has focus (as a person would), failing if it never does. */
      async function tabTo(target: Locator, presses = 80): Promise<void> {
        for (let i = 0; i < presses; i += 1) {
          await page.keyboard.press('Tab');
          if (await target.evaluate((el) => el === el.ownerDocument.activeElement)) return;
        }
        throw new Error(`could not reach ${target.toString()} with the Tab key`);
      }

      await tabTo(page.getByLabel('NHS number', { exact: true }));
      await page.keyboard.type('9000000025');
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/patients\/9000000025/);
      // Tab reaches a group of radios once; the arrow keys choose within it.
      await tabTo(page.locator('input[name="pathway"]').first());
      const pathway = page.getByLabel('Prison substance misuse service');
      for (let i = 0; i < 10 && !(await pathway.isChecked()); i += 1) await page.keyboard.press('ArrowDown');
      await expect(pathway.isChecked()).resolves.toBe(true);
      await tabTo(page.getByLabel('Setting', { exact: true }));
      await page.keyboard.press('ArrowDown');
      await tabTo(page.getByRole('button', { name: 'Start case' }));
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/cases\//);

      const link = page.getByRole('link', { name: RECEPTION });
      await eventually(
        'the reception screen is on the case page',
        async () => {
          if ((await link.count()) === 0) await page.reload();
          return link.count();
        },
        (count) => count > 0,
      );
      await tabTo(link.first());
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/tasks\//);
      await tabTo(page.getByRole('button', { name: 'Submit' }), 200);
      await page.keyboard.press('Enter');
      // The error summary takes focus; its first link moves focus to the field.
      await page.waitForSelector('.nhsuk-error-summary');
      const first = page.locator('.nhsuk-error-summary a').first();
      await tabTo(first);
      const href = (await first.getAttribute('href'))!;
      await page.keyboard.press('Enter');
      await expect(page.locator(href).evaluate((el) => el === el.ownerDocument.activeElement)).resolves.toBe(true);
    } finally {
      await context.close();
    }
  });
});
