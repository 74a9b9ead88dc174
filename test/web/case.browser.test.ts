/**
 * Finding a patient and working their case in a real browser, as a clinician does: `throughcare up` (through
 * bin/throughcare.js, the development issuer, demo settings and staff, the embedded Spine sandbox), Debian's
 * Chromium driven by playwright-core, signed in by clicking a demo user. Sam Patel finds 900 000 0068 by NHS
 * number, starts a prison substance misuse case in the demo prison, sees its reception screening in "what is
 * next", writes and amends a note, raises and resolves an alert, books an appointment and records it missed, and
 * sees all of it in the timeline. The journey runs with JavaScript on and off; axe-core checks the pages against
 * WCAG 2.2 AA, and forms left wrong show the NHS error summary linked to the field.
 */
import type { Browser, Page } from 'playwright-core';
import { seriousViolations, startProduct, type RunningProduct } from '../support/browser';

// A loaded two-core machine (a CI rehearsal may run beside it): generous waits throughout.
jest.setTimeout(420_000);

describe('the patient and case pages in the browser', () => {
  let product: RunningProduct;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    product = await startProduct('throughcare-web-case-');
    ({ base, browser } = product);
  });

  afterAll(async () => {
    await product?.stop();
  });

  /** Clicks a form's button and answers the status of the document it loaded (after any redirect). */
  async function post(page: Page, click: () => Promise<void>): Promise<number> {
    const navigation = page.waitForNavigation({ timeout: 90_000 });
    await click();
    const response = await navigation;
    return response?.status() ?? 0;
  }

  /** The error summary's links: their words and where they point. */
  async function errorLinks(page: Page): Promise<{ text: string; href: string | null }[]> {
    const links = page.locator('.nhsuk-error-summary a');
    const found: { text: string; href: string | null }[] = [];
    for (let i = 0; i < (await links.count()); i++)
      found.push({
        text: (await links.nth(i).textContent())?.trim() ?? '',
        href: await links.nth(i).getAttribute('href'),
      });
    return found;
  }

  for (const javaScriptEnabled of [true, false]) {
    it(`finds a patient, starts a case and works it, JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, async () => {
      const context = await browser.newContext({ javaScriptEnabled });
      const page = await context.newPage();
      page.setDefaultTimeout(60_000);
      const tag = javaScriptEnabled ? 'on' : 'off';
      try {
        // Sent to sign in, and back to the search.
        await page.goto(`${base}/patients`);
        await page.getByRole('button', { name: 'Sam Patel' }).click();
        await page.waitForURL(`${base}/patients`);
        await expect(page.title()).resolves.toBe('Find a patient – Throughcare');
        await expect(
          page.getByRole('link', { name: 'Find a patient' }).first().getAttribute('aria-current'),
        ).resolves.toBe('page');
        if (javaScriptEnabled) expect(await seriousViolations(page)).toEqual([]);

        // A number whose check digit is wrong: the error summary links to the field.
        await page.getByLabel('NHS number').fill('900 000 0069');
        expect(await post(page, () => page.getByRole('button', { name: 'Find by NHS number' }).click())).toBe(400);
        expect(await errorLinks(page)).toEqual([expect.objectContaining({ href: '#nhsNumber' })]);
        expect((await errorLinks(page))[0]!.text).toMatch(/valid NHS number/);
        await expect(page.title()).resolves.toBe('Error: Find a patient – Throughcare');
        await expect(page.getByLabel('NHS number').inputValue()).resolves.toBe('900 000 0069');

        await page.getByLabel('NHS number').fill('900 000 0068');
        await page.getByRole('button', { name: 'Find by NHS number' }).click();
        await page.waitForURL(`${base}/patients/9000000068`);
        await expect(page.getByRole('heading', { name: 'Start a case' }).count()).resolves.toBe(1);
        if (javaScriptEnabled) expect(await seriousViolations(page)).toEqual([]);

        // Start a prison substance misuse case in the demo prison, reception time left as now.
        await page.getByLabel('Prison substance misuse service').check();
        await page.getByLabel('Setting', { exact: true }).selectOption('XPRS01');
        await page.getByRole('button', { name: 'Start case' }).click();
        await page.waitForURL(/\/cases\/[0-9a-f-]{36}$/, { timeout: 90_000 });
        const caseUrl = page.url();
        await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
          'Prison substance misuse service case',
        );
        await expect(page.getByTestId('patient-banner').textContent()).resolves.toContain('900 000 0068');

        // The workflow opens the reception screening in its own time: reload until "what is next" shows it.
        const reception = page.getByRole('link', { name: /Reception/ });
        const deadline = Date.now() + 120_000;
        while ((await reception.count()) === 0) {
          if (Date.now() > deadline) throw new Error(`no reception task on the case page:\n${await page.content()}`);
          await new Promise((resolve) => setTimeout(resolve, 1_000));
          await page.reload();
        }
        expect(decodeURIComponent((await reception.first().getAttribute('href')) ?? '')).toMatch(
          /^\/tasks\/case-[0-9a-f-]{36}\/ReceptionScreening#\d+$/,
        );
        if (javaScriptEnabled) expect(await seriousViolations(page)).toEqual([]);

        // An empty note is refused: the summary links to the note's field, and the page says so with a 400.
        expect(await post(page, () => page.getByRole('button', { name: 'Add note' }).click())).toBe(400);
        expect(await errorLinks(page)).toEqual([{ text: 'Enter the note', href: '#note-body' }]);
        if (javaScriptEnabled) expect(await seriousViolations(page)).toEqual([]);

        // Write a note, then amend it: the original stays, marked amended, beside its amendment.
        const original = `Settled on the wing (${tag}).`;
        const amended = `Settled on the wing (${tag}); eating and drinking.`;
        await page.getByLabel('Note', { exact: true }).fill(original);
        expect(await post(page, () => page.getByRole('button', { name: 'Add note' }).click())).toBe(200);
        expect(page.url()).toBe(`${caseUrl}#notes`);
        const originalNote = page.getByTestId('note').filter({ hasText: original });
        await expect(originalNote.count()).resolves.toBe(1);
        await originalNote.locator('summary').click();
        await originalNote.getByLabel('Amended note').fill(amended);
        await originalNote.getByLabel('Why you are amending it').fill('Added what was missed');
        expect(await post(page, () => originalNote.getByRole('button', { name: 'Save amendment' }).click())).toBe(200);
        await expect(originalNote.textContent()).resolves.toContain('Amended');
        await expect(originalNote.textContent()).resolves.toContain('see the amendment');
        const amendment = page.getByTestId('note').filter({ hasText: amended });
        await expect(amendment.textContent()).resolves.toContain('Added what was missed');
        await expect(amendment.textContent()).resolves.toContain('Amendment');

        // Raise an alert: it is in the banner; resolve it: it is not. (Alerts are the person's: each run its own.)
        const [code, alertText] = javaScriptEnabled
          ? ['OVERDOSE_RISK', 'Overdose risk']
          : ['WITHDRAWAL_RISK', 'Withdrawal risk'];
        await page.getByLabel('Type of alert').selectOption(code);
        await page.getByRole('radio', { name: 'High' }).check();
        expect(await post(page, () => page.getByRole('button', { name: 'Raise alert' }).click())).toBe(200);
        await expect(page.getByTestId('patient-banner').textContent()).resolves.toMatch(
          new RegExp(`High alert\\s+${alertText}`),
        );
        await page
          .locator('summary')
          .filter({ hasText: `the alert ${alertText}` })
          .click();
        await page.getByLabel(`Why it no longer applies to the alert ${alertText}`).fill('Reviewed: risk has passed');
        expect(await post(page, () => page.getByRole('button', { name: `Resolve alert ${alertText}` }).click())).toBe(
          200,
        );
        await expect(page.getByTestId('patient-banner').textContent()).resolves.not.toContain(alertText);

        // Book an appointment a week ahead, then record it missed.
        const day = new Date(Date.now() + 7 * 86_400_000);
        await page.getByLabel('Type of appointment').selectOption('gp');
        await page.locator('#appointment-startsAt-day').fill(String(day.getUTCDate()));
        await page.locator('#appointment-startsAt-month').fill(String(day.getUTCMonth() + 1));
        await page.locator('#appointment-startsAt-year').fill(String(day.getUTCFullYear()));
        await page.getByLabel('Time', { exact: true }).fill('14:30');
        await page.getByLabel('Where').fill('Healthcare centre, B wing');
        await page.getByLabel('With', { exact: true }).fill('Prison GP');
        expect(await post(page, () => page.getByRole('button', { name: 'Book appointment' }).click())).toBe(200);
        const appointment = page.getByTestId('appointment').filter({ hasText: 'GP with Prison GP' });
        await expect(appointment.textContent()).resolves.toContain('Booked');
        await expect(appointment.textContent()).resolves.toContain('14:30');
        await appointment.locator('summary').click();
        await appointment.getByLabel('Missed').check();
        expect(await post(page, () => appointment.getByRole('button', { name: 'Record outcome' }).click())).toBe(200);
        await expect(appointment.locator('.nhsuk-tag').first().textContent()).resolves.toMatch(/Missed/);

        // All of it in the timeline, newest first.
        const timeline = (await page.getByTestId('timeline').textContent()) ?? '';
        const order = [
          'Appointment missed: Prison GP',
          'Appointment booked: Prison GP',
          `Alert resolved: ${alertText} (high)`,
          `Alert raised: ${alertText} (high)`,
          'Note amended',
          'Note written',
        ].map((entry) => timeline.indexOf(entry));
        expect(order.every((at) => at >= 0)).toBe(true);
        expect([...order].sort((a, b) => a - b)).toEqual(order);
        expect(timeline).toContain(amended);
        expect(timeline).toContain('Task opened: Reception');
        if (javaScriptEnabled) expect(await seriousViolations(page)).toEqual([]);

        // The patient's page lists the case, with the banner.
        await page.getByRole('link', { name: 'All cases of this patient' }).click();
        await page.waitForURL(`${base}/patients/9000000068`);
        const caseLink = page.locator(`a[href="${new URL(caseUrl).pathname}"]`);
        await expect(caseLink.count()).resolves.toBe(1);
        await expect(page.getByTestId('patient-banner').textContent()).resolves.toContain('900 000 0068');
        if (javaScriptEnabled) expect(await seriousViolations(page)).toEqual([]);
      } finally {
        await context.close();
      }
    });
  }

  it('adds a contact, asking for the address of the channel chosen, and records the person’s consent', async () => {
    // Contacts belong to a person's record: a case for them makes one (as the journey tests above do).
    const started = await fetch(`${base}/api/v1/cases`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await product.token('Sam Patel')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ pathway: 'sms-prison', nhsNumber: '9000000068', settingOdsCode: 'XPRS01' }),
    });
    expect(started.status).toBe(201);
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(60_000);
    try {
      await page.goto(`${base}/patients/9000000068`);
      await page.getByRole('button', { name: 'Sam Patel' }).click();
      await page.waitForURL(`${base}/patients/9000000068`);
      const contacts = page.locator('#contacts ~ table').first();

      // Nothing chosen: the error summary names each question, linked to it.
      expect(await post(page, () => page.getByRole('button', { name: 'Add contact' }).click())).toBe(400);
      expect((await errorLinks(page)).map((l) => l.text)).toEqual(
        expect.arrayContaining(['Choose who they are.', 'Enter their name.', 'Choose how they are told.']),
      );

      // A text message needs a phone number: asked under that choice.
      await page.getByLabel('A family member or friend').check();
      await page.getByLabel('Name', { exact: true }).fill('Ann Brown');
      await page.getByLabel('Relationship to the person').fill('mother');
      await page.getByLabel('Text message').check();
      await page.getByLabel('Mobile phone number').fill('07700 900123');
      expect(await post(page, () => page.getByRole('button', { name: 'Add contact' }).click())).toBe(200);
      await expect(contacts.getByRole('row', { name: /Ann Brown/ }).textContent()).resolves.toContain('Not asked yet');

      await contacts.getByRole('link', { name: /Record a decision about Ann Brown/ }).click();
      expect(await seriousViolations(page)).toEqual([]);
      await page.getByLabel('Yes, they agree').check();
      const now = new Date();
      const london = new Intl.DateTimeFormat('en-GB', {
        timeZone: 'Europe/London',
        day: 'numeric',
        month: 'numeric',
        year: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      }).formatToParts(new Date(now.getTime() - 60_000));
      const part = (type: string) => london.find((p) => p.type === type)!.value;
      await page.getByLabel('Day').fill(part('day'));
      await page.getByLabel('Month').fill(part('month'));
      await page.getByLabel('Year').fill(part('year'));
      await page.getByLabel('Time').fill(`${part('hour')}:${part('minute')}`);
      expect(await post(page, () => page.getByRole('button', { name: 'Save decision' }).click())).toBe(200);
      await expect(contacts.getByRole('row', { name: /Ann Brown/ }).textContent()).resolves.toContain('Agreed');
      expect(await seriousViolations(page)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('searches PDS by name and date of birth, and says when the date is not real', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(60_000);
    try {
      await page.goto(`${base}/patients`);
      await page.getByRole('button', { name: 'Sam Patel' }).click();
      await page.waitForURL(`${base}/patients`);
      await page.getByLabel('Family name').fill('Brown');
      await page.getByLabel('Given name (optional)').fill('Thomas');
      await page.getByLabel('Day').fill('31');
      await page.getByLabel('Month').fill('2');
      await page.getByLabel('Year').fill('1985');
      expect(await post(page, () => page.getByRole('button', { name: 'Search PDS' }).click())).toBe(400);
      expect(await errorLinks(page)).toEqual([expect.objectContaining({ href: '#birthdate-day' })]);

      await page.getByLabel('Day').fill('14');
      await page.getByLabel('Month').fill('3');
      expect(await post(page, () => page.getByRole('button', { name: 'Search PDS' }).click())).toBe(200);
      const row = page.getByRole('row').filter({ hasText: '900 000 0068' });
      await expect(row.count()).resolves.toBe(1);
      await expect(row.textContent()).resolves.toContain('14 March 1985');
      expect(await seriousViolations(page)).toEqual([]);
      await row.getByRole('link').click();
      await page.waitForURL(`${base}/patients/9000000068`);
    } finally {
      await context.close();
    }
  });
});
