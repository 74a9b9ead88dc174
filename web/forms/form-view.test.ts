import fs from 'node:fs';
import path from 'node:path';
import express from 'express';
import request from 'supertest';
import { FORMS_DIRECTORY, listFormIds, readFormSchema, type FormSchema } from '../../pathways/catalogue';
import { createFormValidator } from '../../pathways/form-validator';
import { createRenderer } from '../render';
import {
  FORM_ERROR_KEY,
  fieldErrors,
  formValues,
  formView,
  readSubmission,
  type FieldView,
  type FormView,
} from './form-view';

const renderer = createRenderer();
const formIds = listFormIds();

function render(form: FormView): string {
  return renderer.renderString('{% from "form-fields.njk" import formFields %}{{ formFields(form) }}', { form });
}

function validExample(formId: string): Record<string, unknown> {
  const file = path.join(FORMS_DIRECTORY, 'examples', `${formId}.examples.json`);
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { valid: Record<string, unknown> }).valid;
}

function idsOf(html: string): string[] {
  return [...html.matchAll(/\sid="([^"]*)"/g)].map((m) => m[1] ?? '');
}

function decodeEntities(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

function attributesOf(tag: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const [, name, value] of tag.matchAll(/([\w-]+)(?:="([^"]*)")?/g))
    if (name) attributes[name] = decodeEntities(value ?? '');
  return attributes;
}

/**
 * What a browser submits for the rendered fields (HTML "successful controls"): every text input and textarea,
 * even empty and even inside a hidden reveal; ticked radios and checkboxes; the selected option. Textarea line
 * ends are sent as CRLF.
 */
function successfulControls(html: string): [string, string][] {
  const controls: [string, string][] = [];
  const tags = /<input\b([^>]*)>|<textarea\b([^>]*)>([\s\S]*?)<\/textarea>|<select\b([^>]*)>([\s\S]*?)<\/select>/g;
  for (const [, input, textarea, content, select, options] of html.matchAll(tags)) {
    if (input !== undefined) {
      const a = attributesOf(input);
      const checkable = a.type === 'radio' || a.type === 'checkbox';
      if (a.name && (!checkable || 'checked' in a)) controls.push([a.name, a.value ?? '']);
    } else if (textarea !== undefined) {
      const name = attributesOf(textarea).name;
      if (name) controls.push([name, decodeEntities(content ?? '').replace(/\r?\n/g, '\r\n')]);
    } else if (select !== undefined) {
      const name = attributesOf(select).name;
      const chosen = [...(options ?? '').matchAll(/<option\b([^>]*)>/g)].map((m) => attributesOf(m[1] ?? ''));
      const selected = chosen.find((o) => 'selected' in o) ?? chosen[0];
      if (name && selected) controls.push([name, selected.value ?? '']);
    }
  }
  return controls;
}

// The body as the app's routes read it: express.urlencoded({ extended: false }).
const echo = express()
  .use(express.urlencoded({ extended: false }))
  .post('/', (req, res) => {
    res.json(req.body);
  });

async function post(controls: [string, string][]): Promise<Record<string, unknown>> {
  const response = await request(echo).post('/').type('form').send(new URLSearchParams(controls).toString());
  return response.body as Record<string, unknown>;
}

/** Saved answers → the form as shown → what the browser posts → the body → JSON again. */
async function roundTrip(schema: FormSchema, data: Record<string, unknown>): Promise<Record<string, unknown>> {
  const html = render(formView(schema, formValues(schema, data), {}));
  return readSubmission(schema, await post(successfulControls(html)));
}

/** Date-times compared as instants: the form writes them as `toISOString()` gives them (with milliseconds). */
function sameInstants(value: unknown): unknown {
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value))
    return new Date(value).toISOString();
  if (Array.isArray(value)) return value.map(sameInstants);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, sameInstants(v)]));
  return value;
}

/**
 * Where an example cannot come back from the form exactly:
 * - identify-person-start's example is the PDS answer as the pathway passes it on: `patient` carries properties
 *   its schema does not describe (restricted, deceased, gpOdsCode, supersededNhsNumber), so no question asks
 *   them, and its optional possibleDuplicateOf is null, which an empty box gives back as left out.
 * - possible-duplicate-record's notes are required for "different people", so the form asks them under that
 *   choice only; with "same person" there is no box for them and an answer left in the hidden box is dropped.
 * - ticked checkboxes come back in the order the form lists them (sms-referral's dependence).
 */
function representable(formId: string, example: Record<string, unknown>): Record<string, unknown> {
  switch (formId) {
    case 'identify-person-start': {
      const { nhsNumber, patientId, identity } = example.patient as Record<string, unknown>;
      return { ...example, patient: { nhsNumber, patientId, identity } };
    }
    case 'possible-duplicate-record': {
      const { notes: _dropped, ...asked } = example;
      return asked;
    }
    case 'sms-referral':
      return { ...example, dependence: ['alcohol-dependence', 'opioid-dependence'] };
    default:
      return example;
  }
}

function allFields(fields: readonly FieldView[]): FieldView[] {
  return fields.flatMap((f) => [
    f,
    ...allFields(f.fields ?? []),
    ...allFields((f.options ?? []).flatMap((o) => o.fields)),
  ]);
}

function find(form: FormView, name: string): FieldView {
  const field = allFields(form.fields).find((f) => f.name === name);
  if (!field) throw new Error(`No field ${name}`);
  return field;
}

describe('every shipped form', () => {
  it.each(formIds)('%s renders empty, filled in and with every question in error, with unique ids', (formId) => {
    const schema = readFormSchema(formId);
    const filled = formValues(schema, validExample(formId));
    const everyError = Object.fromEntries(
      allFields(formView(schema, filled, {}).fields).map((f) => [f.name, `Problem with ${f.name}`]),
    );
    for (const form of [formView(schema, {}, {}), formView(schema, filled, {}), formView(schema, filled, everyError)]) {
      const html = render(form);
      expect(html).toContain('nhsuk-form-group');
      const ids = idsOf(html);
      expect(ids.filter((id, index) => ids.indexOf(id) !== index)).toEqual([]);
      expect(ids.every((id) => /^[A-Za-z][\w-]*$/.test(id))).toBe(true);
    }
  });

  it.each(formIds)('%s gives its valid example back after a trip through the browser', async (formId) => {
    const schema = readFormSchema(formId);
    const example = validExample(formId);
    const submitted = await roundTrip(schema, example);
    expect(sameInstants(submitted)).toEqual(sameInstants(representable(formId, example)));
    const validator = createFormValidator({ now: () => new Date('2027-01-01T00:00:00Z') });
    expect(validator.validate(formId, submitted)).toEqual({ valid: true });
  });
});

describe('dates and times', () => {
  const screen = readFormSchema('prison-reception-sms');
  const reception = (day: string, month: string, year: string, time: string): unknown =>
    readSubmission(screen, {
      'receptionAt-day': day,
      'receptionAt-month': month,
      'receptionAt-year': year,
      'receptionAt-time': time,
    }).receptionAt;

  it('reads a date-time as London time: BST in summer, GMT in winter', () => {
    expect(reception('1', '7', '2026', '14:30')).toBe('2026-07-01T13:30:00.000Z');
    expect(reception('01', '12', '2026', '14:30')).toBe('2026-12-01T14:30:00.000Z');
    expect(reception('1', '7', '2026', '0905')).toBe('2026-07-01T08:05:00.000Z');
  });

  it('reads times around the clock changes of 2026', () => {
    // 29 March: 01:00 GMT becomes 02:00 BST, so 01:30 is never shown; it is read as 02:30 BST
    expect(reception('29', '3', '2026', '00:59')).toBe('2026-03-29T00:59:00.000Z');
    expect(reception('29', '3', '2026', '01:30')).toBe('2026-03-29T01:30:00.000Z');
    expect(reception('29', '3', '2026', '02:00')).toBe('2026-03-29T01:00:00.000Z');
    // 25 October: 02:00 BST becomes 01:00 GMT, so 01:30 is shown twice; the later (GMT) one is taken
    expect(reception('25', '10', '2026', '00:30')).toBe('2026-10-24T23:30:00.000Z');
    expect(reception('25', '10', '2026', '01:30')).toBe('2026-10-25T01:30:00.000Z');
    expect(reception('25', '10', '2026', '02:00')).toBe('2026-10-25T02:00:00.000Z');
  });

  it('shows a saved instant on London time', () => {
    expect(formValues(screen, { receptionAt: '2026-07-01T13:30:00Z' })).toEqual({
      'receptionAt-day': '1',
      'receptionAt-month': '7',
      'receptionAt-year': '2026',
      'receptionAt-time': '14:30',
    });
    expect(formValues(screen, { receptionAt: '2026-10-24T23:30:00Z' })['receptionAt-day']).toBe('25');
  });

  it('keeps an impossible or incomplete date as text the schema refuses against its own question', () => {
    const review = readFormSchema('sms-review');
    const example = validExample('sms-review');
    const validator = createFormValidator({ now: () => new Date('2027-01-01T00:00:00Z') });
    const posted = readSubmission(review, {
      'reviewedOn-day': '31',
      'reviewedOn-month': '2',
      'reviewedOn-year': '2026',
    });
    expect(posted.reviewedOn).toBe('31/2/2026');
    const result = validator.validate('sms-review', { ...example, reviewedOn: posted.reviewedOn });
    expect(result).toEqual({
      valid: false,
      problems: [{ pointer: '/reviewedOn', detail: review['x-error-messages']?.reviewedOn }],
    });

    expect(reception('1', '', '2026', '14:30')).toBe('1//2026 14:30');
    expect(reception('1', '7', '2026', '25:00')).toBe('1/7/2026 25:00');
    expect(reception('1', '7', '2026', '')).toBe('1/7/2026');
    expect(reception('', '', '', '')).toBeUndefined();
    for (const bad of ['1//2026 14:30', '1/7/2026 25:00']) {
      const problems = validator.validate('prison-reception-sms', {
        ...validExample('prison-reception-sms'),
        receptionAt: bad,
      });
      expect(problems).toMatchObject({ valid: false, problems: [{ pointer: '/receptionAt' }] });
    }
  });
});

describe('reading a posted form', () => {
  it('shows what was typed again when the saved answers are shown after the schema refused them', () => {
    const screen = readFormSchema('prison-reception-sms');
    const body = {
      'receptionAt-day': '31',
      'receptionAt-month': '2',
      'receptionAt-year': '2026',
      'receptionAt-time': '25:00',
      alcoholScore: 'seven',
      communityPrescription: 'true',
      'prescription.dailyDoseMg': '1,000',
    };
    const shownAgain = formValues(screen, readSubmission(screen, body));
    expect(shownAgain).toEqual({ ...body, 'prescription.dailyDoseMg': '1000' });
    expect(find(formView(screen, shownAgain, {}), 'receptionAt').date).toEqual({
      day: '31',
      month: '2',
      year: '2026',
      time: '25:00',
    });
    const incident = readFormSchema('incident-resolution');
    const variables = { action: 'correct-and-retry', variables: '{ not json' };
    expect(formValues(incident, readSubmission(incident, variables))).toEqual(variables);
  });

  it('types answers, leaves empty ones out, and keeps unreadable numbers for the schema to refuse', () => {
    const screen = readFormSchema('prison-reception-sms');
    expect(
      readSubmission(screen, {
        beforeCellAllocation: 'true',
        alcoholUse: 'within-limits',
        alcoholScore: '7',
        drugUse: '',
        'escortRecordHealth.handoverId': '',
        communityPrescription: 'true',
        'prescription.dailyDoseMg': '1,000.5',
        'prescription.medicine': 'methadone',
        noReferralReason: '  Declined  ',
      }),
    ).toEqual({
      beforeCellAllocation: true,
      alcoholUse: 'within-limits',
      alcoholScore: 7,
      communityPrescription: true,
      prescription: { dailyDoseMg: 1000.5, medicine: 'methadone' },
      noReferralReason: 'Declined',
    });
    expect(readSubmission(screen, { alcoholScore: 'seven' }).alcoholScore).toBe('seven');
  });

  it('drops the answer to a revealed question when its choice is not made, and keeps it when it is', () => {
    const screen = readFormSchema('prison-reception-sms');
    const body = { beforeCellAllocation: 'true', delayReason: 'Typed before changing the answer' };
    expect(readSubmission(screen, body)).toEqual({ beforeCellAllocation: true });
    expect(readSubmission(screen, { ...body, beforeCellAllocation: 'false' })).toEqual({
      beforeCellAllocation: false,
      delayReason: 'Typed before changing the answer',
    });
    // a whole group revealed by "Yes"
    const prescription = { communityPrescription: 'false', 'prescription.medicine': 'methadone' };
    expect(readSubmission(screen, prescription)).toEqual({ communityPrescription: false });

    const secondStage = readFormSchema('prison-second-stage-health');
    const ticked = { physicalHealthConditions: ['asthma', 'other'], otherConditions: 'Eczema' };
    expect(readSubmission(secondStage, ticked)).toEqual(ticked);
    expect(readSubmission(secondStage, { ...ticked, physicalHealthConditions: 'asthma' })).toEqual({
      physicalHealthConditions: ['asthma'],
    });
  });

  it('keeps the answer to a question needed for several choices, which is always shown', () => {
    const screen = readFormSchema('prison-reception-sms');
    expect(readSubmission(screen, { alcoholUse: 'none', alcoholScreenTool: 'AUDIT' })).toEqual({
      alcoholUse: 'none',
      alcoholScreenTool: 'AUDIT',
    });
  });

  it('drops list rows left empty, and shows the rest in the same order the JSON has them', () => {
    const screening = readFormSchema('custody-health-screening');
    const body = {
      takingMedication: 'true',
      'medications.0.name': 'Insulin',
      'medications.1.name': '',
      'medications.1.lastTakenAt-day': '',
      'medications.2.name': 'Methadone',
      'medications.2.lastTakenAt-day': '2',
    };
    const submitted = readSubmission(screening, body);
    expect(submitted.medications).toEqual([{ name: 'Insulin' }, { name: 'Methadone', lastTakenAt: '2//' }]);

    const view = formView(screening, body, { 'medications.1.lastTakenAt': 'Enter the time last taken' });
    const rows = find(view, 'medications').fields ?? [];
    expect(rows.map((row) => row.fields?.[0]?.value)).toEqual(['Insulin', 'Methadone', '']);
    expect(find(view, 'medications.1.lastTakenAt')).toMatchObject({ error: 'Enter the time last taken' });
  });

  it('gives null for an empty answer the schema requires but allows to be null', () => {
    const top = readFormSchema('top-secure-setting');
    const submitted = readSubmission(top, { 'injectingRiskBehaviour.daysInjected': '3' });
    expect(submitted.injectingRiskBehaviour).toEqual({
      daysInjected: 3,
      sharedNeedleOrSyringe: null,
      sharedSpoonWaterOrFilter: null,
    });
    expect((submitted.substanceUse as Record<string, unknown>).tobacco).toEqual({
      weeklyDays: [null, null, null, null],
    });
  });

  it('reveals a question required by dependentRequired under a single choice, and hints at it otherwise', () => {
    const schema: FormSchema = {
      $id: 'test',
      title: 'Test',
      type: 'object',
      properties: {
        consent: { type: 'array', items: { enum: ['given'] }, 'x-enum-titles': {} },
        sharing: { type: 'boolean', title: 'Sharing?' },
        consentDate: { type: 'string', format: 'date', title: 'Date consent given' },
        sharingWith: { type: 'string', title: 'Shared with' },
      },
      dependentRequired: { consent: ['consentDate'], sharing: ['sharingWith'] },
    };
    const view = formView(schema, {}, {});
    expect(find(view, 'consent').options?.[0]?.fields.map((f) => f.name)).toEqual(['consentDate']);
    expect(find(view, 'sharingWith').hint).toBe('Needed if you answer “Sharing?”.');
    expect(
      readSubmission(schema, { 'consentDate-day': '1', 'consentDate-month': '1', 'consentDate-year': '2026' }),
    ).toEqual({});
  });
});

describe('how questions are shown', () => {
  it('nests a question revealed by one choice in that choice, and hints when the rest are needed', () => {
    const view = formView(readFormSchema('prison-reception-sms'), {}, {});
    const names = view.fields.map((f) => f.name);
    const yes = find(view, 'communityPrescription').options?.find((o) => o.value === 'true');
    expect(yes?.fields.map((f) => f.name)).toEqual(['prescription', 'firstNightPrescribingIndicated']);
    expect(names).not.toContain('prescription');
    expect(find(view, 'delayReason')).toMatchObject({ label: 'Why it was done after cell allocation', required: true });
    expect(find(view, 'alcoholScore').hint).toContain(
      'Needed if the answer to “Alcohol” is “Drinks, no sign of dependence” or “Possibly dependent or intoxicated”.',
    );
    expect(find(view, 'noReferralReason').hint).toBe('Needed for some answers to other questions.');
    // forbidden for some answers, required for none: an optional question in its place
    expect(find(view, 'summaryCareRecordEmergencyReason').label).toBe(
      'Emergency access to the Summary Care Record (optional)',
    );

    const check = formView(readFormSchema('custody-observation-check'), {}, {});
    expect(find(check, 'actionTaken').hint).toBe(
      'Needed if the answer to “Rousing” is “Could not be roused”, or if the answer to “Condition” is “Some concern” or “Deteriorating”.',
    );
    expect(find(check, 'emergencyHelpCalled').name).toBe('emergencyHelpCalled');
    expect(check.fields.map((f) => f.name)).not.toContain('emergencyHelpCalled');
  });

  it('shows booleans as Yes/No radios, enums with their titles, and marks optional questions', () => {
    const view = formView(readFormSchema('custody-health-screening'), { hasAllergies: 'false' }, {});
    expect(find(view, 'hasAllergies')).toMatchObject({ kind: 'radios', value: 'false' });
    expect(find(view, 'hasAllergies').options?.map((o) => [o.text, o.checked])).toEqual([
      ['Yes', false],
      ['No', true],
    ]);
    expect(find(view, 'substances').kind).toBe('checkboxes');
    expect(find(view, 'notes').label).toMatch(/\(optional\)$/);
    expect(find(view, 'screenedAt')).toMatchObject({ kind: 'dateTime', firstControlId: 'screenedAt-day' });

    const secondStage = formView(readFormSchema('prison-second-stage-health'), {}, {});
    const conditions = find(secondStage, 'physicalHealthConditions').options ?? [];
    expect(conditions.at(-1)).toMatchObject({ value: 'none', exclusive: true, dividerBefore: 'or' });
  });

  it('offers a long list of choices as a select', () => {
    const months = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
    const schema: FormSchema = {
      $id: 'test',
      title: 'Test',
      type: 'object',
      required: ['month'],
      properties: { month: { type: 'string', title: 'Month', enum: months } },
    };
    const view = formView(schema, { month: 'mar' }, {});
    expect(find(view, 'month')).toMatchObject({ kind: 'select', value: 'mar' });
    expect(render(view)).toMatch(
      /<select class="nhsuk-select" id="month" name="month">[\s\S]*<option value="mar" selected>Mar<\/option>/,
    );
    expect(readSubmission(schema, { month: 'mar' })).toEqual({ month: 'mar' });
  });

  it('renders errors with the NHS error message, linked to the control by aria-describedby', () => {
    const schema = readFormSchema('prison-reception-sms');
    const { byField } = fieldErrors(
      [
        { pointer: '/data/alcoholUse', detail: 'Choose how the person uses alcohol.' },
        { pointer: '/data/receptionAt', detail: 'Enter the date & time of reception.' },
        { pointer: '/data/prescription/dailyDoseMg', detail: 'This answer must be 500 or less.' },
        { pointer: '/data', detail: 'The form could not be read.' },
      ],
      '/data',
      schema,
    );
    const html = render(
      formView(schema, { communityPrescription: 'true', 'prescription.dailyDoseMg': '900' }, byField),
    );
    expect(html).toMatch(
      /<span class="nhsuk-error-message" id="alcoholUse-error">\s*<span class="nhsuk-u-visually-hidden">Error: <\/span>Choose how the person uses alcohol\./,
    );
    expect(html).toContain('Enter the date &amp; time of reception.');
    expect(html).toMatch(/<fieldset[^>]*aria-describedby="receptionAt-error"/);
    expect(html).toMatch(/id="prescription-dailyDoseMg"[^>]*aria-describedby="prescription-dailyDoseMg-error"/);
    expect(html).toMatch(/class="nhsuk-input nhsuk-input--error[^"]*" id="prescription-dailyDoseMg"[^>]*value="900"/);
    expect(html).toMatch(
      /id="form-error">\s*<span class="nhsuk-u-visually-hidden">Error: <\/span>The form could not be read\./,
    );
    // the reveal holding the error is open
    expect(html).toMatch(/class="nhsuk-radios__conditional" id="conditional-communityPrescription"/);
  });
});

describe('fieldErrors', () => {
  const screen = readFormSchema('prison-reception-sms');

  it('maps pointers to control names and links the summary to each question’s first control, in form order', () => {
    const { byField, summary } = fieldErrors(
      [
        { pointer: '/data/summaryCareRecordConsent', detail: 'Record whether permission was given.' },
        { pointer: '/data/prescription/dailyDoseMg', detail: 'This answer must be 500 or less.' },
        { pointer: '/data/prescription/lastDoseAt', detail: 'Give the time of the last dose.' },
        { pointer: '/data/receptionAt', detail: 'Enter the date and time of reception.' },
        { pointer: '/data/escortRecordHealth/medicines/0/timeLastGiven', detail: 'Give a date and time.' },
        { pointer: '/data', detail: 'Something is wrong with the form.' },
        { pointer: '/data/unknownQuestion', detail: 'This field is not part of the form.' },
      ],
      '/data',
      screen,
    );
    expect(byField).toEqual({
      summaryCareRecordConsent: 'Record whether permission was given.',
      'prescription.dailyDoseMg': 'This answer must be 500 or less.',
      'prescription.lastDoseAt': 'Give the time of the last dose.',
      receptionAt: 'Enter the date and time of reception.',
      'escortRecordHealth.medicines.0.timeLastGiven': 'Give a date and time.',
      [FORM_ERROR_KEY]: 'Something is wrong with the form.',
    });
    expect(summary).toEqual([
      { text: 'Something is wrong with the form.', href: '#form-error' },
      { text: 'Enter the date and time of reception.', href: '#receptionAt-day' },
      { text: 'Give a date and time.', href: '#escortRecordHealth-medicines-0-timeLastGiven-day' },
      { text: 'This answer must be 500 or less.', href: '#prescription-dailyDoseMg' },
      { text: 'Give the time of the last dose.', href: '#prescription-lastDoseAt-day' },
      { text: 'Record whether permission was given.', href: '#summaryCareRecordConsent' },
    ]);
  });

  it('puts a problem with one item of a question on the question', () => {
    const screening = readFormSchema('custody-health-screening');
    const { byField, summary } = fieldErrors(
      [
        { pointer: '/data/substances/1', detail: 'Choose the substances.' },
        { pointer: '/data/medications', detail: 'Give each medicine.' },
      ],
      '/data',
      screening,
    );
    expect(byField).toEqual({ substances: 'Choose the substances.', medications: 'Give each medicine.' });
    expect(summary.map((s) => s.href)).toEqual(['#medications-0-name', '#substances']);
  });

  it('without the schema, takes each pointer as a control name', () => {
    const { byField, summary } = fieldErrors([{ pointer: '/data/prescription/dailyDoseMg', detail: 'Too high.' }]);
    expect(byField).toEqual({ 'prescription.dailyDoseMg': 'Too high.' });
    expect(summary).toEqual([{ text: 'Too high.', href: '#prescription-dailyDoseMg' }]);
    // each link still reaches the question: a date's inputs and a group's fieldset carry its id
    const html = render(formView(screen, { communityPrescription: 'true' }, {}));
    for (const id of ['receptionAt', 'prescription', 'alcoholUse', 'prescription-dailyDoseMg'])
      expect(idsOf(html)).toContain(id);
  });
});
