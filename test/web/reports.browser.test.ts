/**
 * The reports in a real browser, as a team lead and a commissioner meet them: `throughcare up` through
 * bin/throughcare.js on a database this test also writes to, seeded with cases, reviews, assessments and appointments
 * straight into the record store (test/reports/report-world.ts), so every report has rows. Each report renders with
 * its chart and table and passes axe (WCAG 2.2 AA); its CSV downloads; the filters work without JavaScript; and a
 * commissioner reaches the outcome reports only, none of which names a person.
 */
import fs from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { openStore, type Store } from '../../store';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { seriousViolations, signIn, startProduct, type RunningProduct } from '../support/browser';
import { ReportWorld, topAnswers, type SeededCase } from '../reports/report-world';

jest.setTimeout(600_000);

const PRISON = 'XPRS01';
const OCTOBER = 'from=2026-10-01&to=2026-10-31';
const DAY_MS = 86_400_000;
const daysFromNow = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString();

/** Each report's page, with the filters that find the seeded rows, and whether it draws a chart. */
const TEAM_LEAD_REPORTS: readonly { id: string; query: string; chart: boolean }[] = [
  { id: 'caseload', query: '', chart: true },
  { id: 'upcoming-reviews', query: 'within=28', chart: false },
  { id: 'overdue-milestones', query: '', chart: true },
  { id: 'weekly-activity', query: OCTOBER, chart: true },
  { id: 'release-continuity', query: OCTOBER, chart: true },
  { id: 'missed-appointments', query: OCTOBER, chart: false },
  { id: 'milestone-compliance', query: OCTOBER, chart: true },
  { id: 'brief-interventions', query: OCTOBER, chart: true },
  { id: 'top-change', query: OCTOBER, chart: true },
  { id: 'snomed-outcomes', query: OCTOBER, chart: true },
  { id: 'ndtms-extract', query: 'month=2026-10', chart: false },
];
const OUTCOME_REPORTS = ['milestone-compliance', 'brief-interventions', 'top-change', 'snomed-outcomes'];

describe('reports in the browser', () => {
  let db: TestDatabase;
  let store: Store;
  let product: RunningProduct;
  let base: string;
  let browser: Browser;
  const people: SeededCase[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('reports_browser');
    product = await startProduct('throughcare-reports-', { DATABASE_URL: db.url });
    ({ base, browser } = product);
    store = await openStore(db.url);
    await seed(new ReportWorld(store.orm.em.getConnection().getKnex()));
  });

  afterAll(async () => {
    await product?.stop();
    await store?.close();
    await db?.drop();
  });

  /** Ten people at the demo prison, received in October: reviews, screens, interventions, TOP, codes, releases. */
  async function seed(world: ReportWorld): Promise<void> {
    await world.knownSetting(PRISON);
    for (let i = 0; i < 10; i++) {
      const person = await world.case({ setting: PRISON, openedAt: `2026-10-0${(i % 9) + 1}T09:00:00Z` });
      people.push(person);
      await world.task(person, {
        elementId: 'FiveDayReview',
        status: 'completed',
        dueAt: `2026-10-1${i % 9}T22:59:59Z`,
        completedAt: `2026-10-1${i % 9}T${i < 7 ? '10' : '23'}:59:00Z`,
      });
      // Now: one review due soon for each, a few overdue, some assigned.
      await world.task(person, {
        elementId: 'TwentyEightDayReview',
        dueAt: daysFromNow(i < 6 ? 3 + i : -10 - i),
        ...(i % 2 ? { assignee: 'sam.patel@demo.throughcare.test' } : {}),
      });
      await world.assessment(
        person,
        'prison-reception-sms',
        { receptionAt: `2026-10-0${(i % 9) + 1}T10:00:00Z`, alcoholScreen: { tool: 'AUDIT-C', decision: 'hazardous' } },
        { submittedAt: `2026-10-0${(i % 9) + 1}T10:00:00Z` },
      );
      await world.assessment(
        person,
        'sms-brief-intervention',
        {
          deliveredOn: '2026-10-12',
          interventionType: 'alcohol-brief',
          outcome: 'completed',
          deliveredBy: 'Sam Patel',
        },
        { submittedAt: '2026-10-12T12:00:00Z' },
      );
      // Referred with NDTMS consent (two declined: left out of the extract), coded for the outcomes report.
      await world.assessment(
        person,
        'sms-referral',
        {
          referralDate: '2026-10-15',
          referralSource: 'reception-screen',
          drug1: 'alcohol',
          ndtmsConsent: i < 8 ? 'given' : 'declined',
        },
        { submittedAt: '2026-10-15T12:00:00Z', snomedCodes: ['201521000000104'] },
      );
      const top = (stage: 'start' | 'review', date: string, alcohol: number[]) =>
        world.assessment(person, 'top-secure-setting', topAnswers(stage, date, { alcohol, psychologicalHealth: 8 }), {
          submittedAt: `${date}T12:00:00Z`,
        });
      await top('start', '2026-10-05', [7, 7, 7, 7]);
      await top('review', '2026-10-25', [i % 3, 1, 0, 0]);
      await world.appointment(person, {
        startsAt: `2026-10-2${i % 9}T09:00:00Z`,
        status: i < 6 ? 'attended' : 'missed',
      });
    }
  }

  async function openReport(page: Page, id: string, query: string): Promise<void> {
    await page.goto(`${base}/reports/${id}${query ? `?${query}` : ''}`);
    await page.locator('h1').waitFor();
  }

  it('shows a team lead every report of their settings with its chart, table and CSV, each passing axe', async () => {
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 1000 } });
    const page = await context.newPage();
    try {
      await signIn(page, base, '/reports', 'Morgan Lead');
      await expect(page.title()).resolves.toBe('Reports – Throughcare');
      for (const heading of ['Workforce', 'Outcomes', 'Returns'])
        await expect(page.getByRole('heading', { name: heading }).count()).resolves.toBe(1);
      expect(await seriousViolations(page)).toEqual([]);

      for (const { id, query, chart } of TEAM_LEAD_REPORTS) {
        await openReport(page, id, query);
        const table = page.locator('#report-table');
        expect({ id, rows: (await table.locator('tbody tr').count()) > 0 }).toEqual({ id, rows: true });
        expect({ id, chart: (await page.locator('#report-chart svg[role="img"]').count()) === 1 }).toEqual({
          id,
          chart,
        });
        expect({ id, violations: await seriousViolations(page) }).toEqual({ id, violations: [] });
        const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#report-csv').click()]);
        const csv = await fs.readFile(await download.path(), 'utf8');
        const header = (await table.locator('thead th').allTextContents()).map((h) => h.trim());
        expect({ id, firstLine: csv.split('\r\n')[0] }).toEqual({
          id,
          firstLine: expect.stringContaining(header[0]!),
        });
      }
      // A list names the people it is about: the upcoming reviews are theirs.
      await openReport(page, 'upcoming-reviews', 'within=28');
      const listed = await page.locator('#report-table').textContent();
      expect(people.some((p) => listed!.replace(/\s/g, '').includes(p.nhsNumber))).toBe(true);
    } finally {
      await context.close();
    }
  });

  it('filters without JavaScript, and names a date that is not one', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    try {
      await signIn(page, base, '/reports/weekly-activity', 'Morgan Lead');
      const from = page.getByRole('group', { name: 'From' });
      await from.getByLabel('Day').fill('1');
      await from.getByLabel('Month').fill('10');
      await from.getByLabel('Year').fill('2026');
      const to = page.getByRole('group', { name: 'To' });
      await to.getByLabel('Day').fill('31');
      await to.getByLabel('Month').fill('10');
      await to.getByLabel('Year').fill('2026');
      await page.getByRole('button', { name: 'Show report' }).click();
      await expect(page.locator('#report-applied').textContent()).resolves.toContain(
        '1 October 2026 to 31 October 2026',
      );
      await expect(page.locator('#report-table tbody tr').count()).resolves.toBeGreaterThan(0);

      await from.getByLabel('Day').fill('31');
      await from.getByLabel('Month').fill('2');
      await page.getByRole('button', { name: 'Show report' }).click();
      await expect(page.getByRole('alert').textContent()).resolves.toContain('From must be a real date');
    } finally {
      await context.close();
    }
  });

  it('gives a commissioner the outcome reports only, and none of them names a person', async () => {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    try {
      await signIn(page, base, '/reports', 'Casey Commissioner');
      await expect(page.getByRole('heading', { name: 'Outcomes' }).count()).resolves.toBe(1);
      await expect(page.getByRole('heading', { name: 'Workforce' }).count()).resolves.toBe(0);
      const seen: string[] = [];
      for (const id of OUTCOME_REPORTS) {
        await openReport(page, id, OCTOBER);
        await expect(page.locator('#report-chart svg').count()).resolves.toBe(1);
        expect({ id, violations: await seriousViolations(page) }).toEqual({ id, violations: [] });
        seen.push(await page.content());
        const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#report-csv').click()]);
        seen.push(await fs.readFile(await download.path(), 'utf8'));
      }
      for (const text of seen)
        for (const person of people) {
          expect(text.replace(/\s/g, '')).not.toContain(person.nhsNumber);
          expect(text).not.toContain(person.patientId);
          expect(text).not.toContain(person.caseId);
        }
      // The workforce reports and the extract are refused.
      for (const id of ['caseload', 'upcoming-reviews', 'ndtms-extract']) {
        const response = await page.goto(`${base}/reports/${id}`);
        expect({ id, status: response?.status() }).toEqual({ id, status: 403 });
      }
    } finally {
      await context.close();
    }
  });
});
