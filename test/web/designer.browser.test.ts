/**
 * The pathway designer in a real browser, as a commissioner meets it: `throughcare up` through bin/throughcare.js (the
 * modeller bundled by the product itself, from a clean clone's sources), Casey Commissioner signed in by clicking the
 * demo user on the development issuer's page.
 *
 * With JavaScript on: open the shipped SMS pathway as a draft, add a user task from the palette (the live lint finds
 * it has no name, no form and no flows), name it and give it a form in the properties panel (those findings go),
 * put it after the care plan (through bpmn-js's own modelling API, standing in for dragging flows), simulate the draft
 * to its 13-week review with the shipped scenario, publish version N+1 with a change note, and compare it with N.
 * With JavaScript off: the same draft page edits the XML in its text box, saves it and downloads it. axe-core checks
 * each page against WCAG 2.2 AA.
 */
import fs from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { compilePathway } from '../../bpmn';
import { shippedLintOptions } from '../../engine';
import { seriousViolations, signIn, startProduct, type RunningProduct } from '../support/browser';
import { eventually } from '../support/eventually';

jest.setTimeout(300_000);

const NEW_TASK = 'Check the care plan with the person';

describe('the pathway designer in the browser', () => {
  let product: RunningProduct;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    product = await startProduct('throughcare-designer-');
    ({ base, browser } = product);
  });

  afterAll(async () => {
    await product?.stop();
  });

  /** The version the SMS pathway is at now, through the API the designer reads. */
  async function latestSmsVersion(): Promise<number> {
    const res = await fetch(`${base}/api/v1/pathways?pathway=sms-prison`, {
      headers: { authorization: `Bearer ${await product.token('Casey Commissioner')}` },
    });
    return ((await res.json()) as { items: { latestVersion: number }[] }).items[0]!.latestVersion;
  }

  async function openSmsDraft(page: Page): Promise<void> {
    await signIn(page, base, '/designer', 'Casey Commissioner');
    await expect(page.title()).resolves.toBe('Pathway designer – Throughcare');
    await page
      .getByRole('button', { name: /^Edit a draft of Prison substance misuse service from version \d+$/ })
      .click();
    await page.waitForURL(/\/designer\/drafts\/[0-9a-f-]{36}$/);
    await expect(page.title()).resolves.toBe('Prison substance misuse service – Throughcare');
  }

  /** The findings the canvas's lint lists for one element. */
  const findingsOf = (page: Page, elementId: string) =>
    page.locator(`#designer-findings li[data-element-id="${elementId}"]`).allTextContents();

  it('adds a user task with a form, simulates to the 13-week review, publishes N+1 and compares it with N', async () => {
    const before = await latestSmsVersion();
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    try {
      await openSmsDraft(page);
      await page.waitForSelector('#designer-canvas[data-designer-ready="true"]', { timeout: 60_000 });
      await page.waitForSelector('#designer-canvas[data-linted="true"]');
      await expect(page.locator('#designer-lint-summary').textContent()).resolves.toMatch(
        /^(No problems found|0 errors)/,
      );
      // The palette offers what the interpreter runs, and nothing else.
      const palette = await page.evaluate<string[]>(
        `[...document.querySelectorAll('.djs-palette .entry[data-action^="create."]')].map((e) => e.getAttribute('data-action'))`,
      );
      expect(palette.sort()).toEqual(
        [
          'create.call-activity',
          'create.end-event',
          'create.exclusive-gateway',
          'create.message-catch',
          'create.parallel-gateway',
          'create.service-task',
          'create.start-event',
          'create.timer-catch',
          'create.user-task',
        ].sort(),
      );
      expect(await seriousViolations(page)).toEqual([]);

      // A user task from the palette, dropped on the canvas: the live lint finds what it lacks.
      const canvas = (await page.locator('#designer-canvas').boundingBox())!;
      await page.locator('.djs-palette [data-action="create.user-task"]').click();
      await page.mouse.move(canvas.x + 320, canvas.y + canvas.height - 120);
      await page.mouse.click(canvas.x + 320, canvas.y + canvas.height - 120);
      const taskId = await page.evaluate<string>("window.throughcareDesigner.get('selection').get()[0]?.id");
      expect(taskId).toMatch(/^Activity_/);
      await expect(findingsOf(page, taskId)).resolves.toEqual(
        expect.arrayContaining([
          expect.stringContaining('User task has no form'),
          expect.stringContaining('Element is missing label/name'),
        ]),
      );

      // Named and given a form in the properties panel: those findings go.
      const group = (id: string) =>
        page.locator(`#designer-properties [data-group-id="group-${id}"] .bio-properties-panel-group-header`);
      await group('general').click();
      await page.locator('#bio-properties-panel-name').fill(NEW_TASK);
      await group('form').click();
      await page.locator('#bio-properties-panel-formType').selectOption('camunda-form-linked');
      await page.locator('#bio-properties-panel-formId').fill('sms-review');
      await page.locator('#bio-properties-panel-formId').press('Tab');
      await eventually(
        'the form and name findings go',
        () => findingsOf(page, taskId),
        (findings) => !findings.some((finding) => /no form|missing label/.test(finding)),
        { timeoutMs: 10_000 },
      );

      // After the care plan, before it is saved: the flow between them goes through the new task.
      await page.evaluate(`(() => {
        const modeler = window.throughcareDesigner;
        const registry = modeler.get('elementRegistry');
        const modeling = modeler.get('modeling');
        const carePlan = registry.get('CarePlan');
        const save = registry.get('SaveCarePlan');
        const task = registry.get(${JSON.stringify(taskId)});
        modeling.moveShape(task, { x: carePlan.x - task.x, y: carePlan.y + 160 - task.y });
        modeling.removeConnection(registry.get('Flow_CarePlan_to_SaveCarePlan'));
        modeling.connect(carePlan, task);
        modeling.connect(task, save);
      })()`);
      await eventually(
        'every finding of the new task goes',
        () => findingsOf(page, taskId),
        (f) => f.length === 0,
        {
          timeoutMs: 10_000,
        },
      );
      await expect(page.locator('#designer-lint-summary').textContent()).resolves.toMatch(
        /^(No problems found|0 errors)/,
      );

      // Simulated to the 13-week review with the shipped scenario (filled in for this pathway).
      await expect(page.locator('#designer-scenario').inputValue()).resolves.toContain('"ThirteenWeekReview"');
      await page.getByRole('button', { name: 'Run the simulation' }).click();
      const result = page.locator('#simulation-result');
      await result.waitFor({ timeout: 120_000 });
      await expect(result.getByRole('heading', { level: 3 }).textContent()).resolves.toMatch(/^Passed: \d+ events/);
      const opened = page.locator(
        '#simulation-timeline tr[data-kind="task-opened"][data-element-id="ThirteenWeekReview"]',
      );
      await expect(opened.textContent()).resolves.toContain('due');
      await expect(page.locator('#simulation-timeline tr[data-kind="overdue"]').count()).resolves.toBeGreaterThan(0);
      expect(await seriousViolations(page)).toEqual([]);

      // Published as N+1 with a change note (the simulation saved the draft: what is published is what was drawn).
      await page.waitForSelector('#designer-canvas[data-designer-ready="true"]', { timeout: 60_000 });
      await page.getByLabel('What changed, and why').fill('Check the care plan with the person before it is saved');
      await page.getByRole('button', { name: 'Publish a new version' }).click();
      await page.waitForURL(/\/designer\/pathways\/sms-prison\?published=\d+$/);
      await expect(page.locator('#designer-notice').textContent()).resolves.toContain(
        `Version ${before + 1} was published`,
      );
      const newest = page.locator('#pathway-versions tbody tr').first();
      await expect(newest.textContent()).resolves.toMatch(
        new RegExp(`Version ${before + 1}[\\s\\S]*Casey Commissioner[\\s\\S]*Check the care plan with the person`),
      );
      expect(await seriousViolations(page)).toEqual([]);

      // Any version can be the start of a new draft (here the one before this change).
      await expect(
        page.getByRole('button', { name: `Edit a draft from version ${before}`, exact: true }).count(),
      ).resolves.toBe(1);

      // Compared with N: the new task and its flows added, the old flow removed, in tables and on both diagrams.
      await page.getByLabel('From version', { exact: true }).selectOption(String(before));
      await page.getByLabel('To version', { exact: true }).selectOption(String(before + 1));
      await page.getByRole('button', { name: 'Compare' }).click();
      await expect(page.title()).resolves.toBe(`Version ${before} compared with version ${before + 1} – Throughcare`);
      await expect(page.locator('#diff-added').textContent()).resolves.toContain(NEW_TASK);
      await expect(page.locator('#diff-removed').textContent()).resolves.toContain('Flow_CarePlan_to_SaveCarePlan');
      await page.waitForSelector('#diff-diagrams[data-diff-ready]', { timeout: 60_000 });
      await expect(page.locator('#diff-after .djs-element.app-diff--added').count()).resolves.toBeGreaterThanOrEqual(3);
      await expect(page.locator('#diff-before .djs-element.app-diff--removed').count()).resolves.toBe(1);
      expect(await seriousViolations(page)).toEqual([]);
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('edits, saves and downloads the XML with JavaScript off', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, acceptDownloads: true });
    const page = await context.newPage();
    try {
      await openSmsDraft(page);
      const xml = page.getByLabel('BPMN XML');
      const text = await xml.inputValue();
      expect(text).toContain('<bpmn:process id="sms-prison"');
      // Set as a paste would (typing 100 kB into a text box takes Chromium half a minute).
      const edited = text.replace('name="Agree care plan"', 'name="Agree the care plan"');
      expect(edited).not.toBe(text);
      await xml.evaluate((box, value) => {
        (box as unknown as { value: string }).value = value;
      }, edited);
      await page.getByRole('button', { name: 'Save draft' }).click();
      await expect(page.locator('#designer-notice').textContent()).resolves.toContain('The draft was saved.');
      await expect(page.locator('#designer-saved').textContent()).resolves.toContain('(revision 2)');

      const download = page.waitForEvent('download');
      await page.getByRole('button', { name: 'Download .bpmn' }).click();
      const file = await download;
      expect(file.suggestedFilename()).toBe('sms-prison.bpmn');
      const saved = await fs.readFile(await file.path(), 'utf8');
      expect(saved).toContain('name="Agree the care plan"');
      // Camunda Modeler's format (the Zeebe namespace, diagram interchange), and clean to the installation's lint.
      expect(saved).toContain('xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"');
      expect(saved).toContain('<bpmndi:BPMNDiagram');
      const { findings } = await compilePathway(saved, shippedLintOptions());
      expect(findings.filter((finding) => finding.severity === 'error')).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('designs a new form: the preview follows the typing, problems are named, and it installs as version 1', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    try {
      await signIn(page, base, '/designer/forms', 'Casey Commissioner');
      await page.getByRole('link', { name: 'Design a new form' }).click();
      await page.waitForURL(/\/designer\/forms\/new$/);
      const preview = page.getByRole('region', { name: 'The form as a clinician sees it' });
      // Shown without pressing anything: the page asks for its first preview itself.
      await preview.getByRole('heading', { name: 'New form' }).waitFor();

      const schema = {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        $id: 'https://throughcare.example/pathways/forms/alcohol-follow-up.schema.json',
        title: 'Alcohol follow-up',
        type: 'object',
        additionalProperties: false,
        required: ['drinkingDays'],
        properties: {
          drinkingDays: {
            type: 'integer',
            minimum: 0,
            maximum: 28,
            title: 'Days drinking in the last 28',
            'x-throughcare-source': { rule: 'local' },
          },
        },
        'x-error-messages': { drinkingDays: 'Enter the number of days, 0 to 28' },
      };
      await page.getByLabel('Form ID', { exact: true }).fill('alcohol-follow-up');
      await page.getByLabel('JSON Schema').fill(JSON.stringify(schema, null, 2));
      await page.getByLabel('Example submission it must accept (JSON)').fill('{ "drinkingDays": 40 }');
      // Typing, not pressing: the preview and its problems follow.
      await preview.getByRole('heading', { name: 'Alcohol follow-up' }).waitFor();
      await expect(preview.getByLabel('Days drinking in the last 28').count()).resolves.toBe(1);
      await page.locator('#form-problems', { hasText: '/submission/drinkingDays' }).waitFor();

      await page.getByLabel('Example submission it must accept (JSON)').fill('{ "drinkingDays": 3 }');
      await page
        .getByLabel('Examples it must refuse (JSON list)')
        .fill('[{ "name": "a month and more", "field": "drinkingDays", "set": { "drinkingDays": 29 } }]');
      await page.locator('#form-check', { hasText: 'the example passes it' }).waitFor();
      expect(await seriousViolations(page)).toEqual([]);

      // Installing without a change note is refused, naming the field; with one, it is version 1.
      await page.getByRole('button', { name: 'Install as version 1' }).click();
      await expect(page.getByRole('alert').textContent()).resolves.toContain('Change note');
      await page.getByLabel('Change note').fill('Follow-up question for alcohol use');
      await page.getByRole('button', { name: 'Install as version 1' }).click();
      await page.waitForURL(/\/designer\/forms\/alcohol-follow-up\?installed=1$/);
      await expect(page.locator('#designer-notice').textContent()).resolves.toContain('Version 1 is installed');
      await expect(page.locator('#form-versions tbody tr').allTextContents()).resolves.toEqual([
        expect.stringContaining('Follow-up question for alcohol use'),
      ]);
      expect(await seriousViolations(page)).toEqual([]);
      // The API serves it where forms are, and the designer lists it.
      const served = await fetch(`${base}/api/v1/forms/alcohol-follow-up.schema.json`);
      expect(await served.json()).toEqual(schema);
      await page.goto(`${base}/designer/forms`);
      await expect(
        page.locator('#designer-forms tr', { hasText: 'alcohol-follow-up' }).textContent(),
      ).resolves.toContain('Alcohol follow-up');
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('checks and previews a form with JavaScript off, and names what an example submission gets wrong', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    try {
      await signIn(page, base, '/designer/forms', 'Casey Commissioner');
      await expect(page.locator('#designer-forms').textContent()).resolves.toContain('sms-review');
      await page.locator('#designer-forms tr', { hasText: 'sms-review' }).getByRole('link').click();
      await expect(page.locator('#form-versions tbody tr').count()).resolves.toBe(1);
      await page.getByRole('button', { name: 'Check and preview' }).click();
      await expect(page.locator('#form-check').textContent()).resolves.toContain('the example passes it');
      const preview = page.getByRole('region', { name: 'The form as a clinician sees it' });
      await expect(preview.locator('input, textarea, select').count()).resolves.toBeGreaterThan(0);

      await page.getByLabel('Example submission it must accept (JSON)').fill('{}');
      await page.getByRole('button', { name: 'Check and preview' }).click();
      await expect(page.locator('#form-problems li').count()).resolves.toBeGreaterThan(0);
      await expect(page.locator('#form-problems').textContent()).resolves.toContain('/submission/');

      await page.getByLabel('JSON Schema').fill('{ "title": ');
      await page.getByRole('button', { name: 'Check and preview' }).click();
      await expect(page.getByRole('alert').textContent()).resolves.toContain('The schema is not JSON');
    } finally {
      await context.close();
    }
  });
});
