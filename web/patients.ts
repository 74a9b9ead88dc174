/**
 * Finding a patient (by NHS number, or on PDS by name and date of birth), their page (the banner, their cases in
 * the settings one works in) and starting a case for them. Every read and change is an /api/v1 operation.
 */
import { isValidNhsNumber, normaliseNhsNumber } from '../domain/nhs-number';
import { NotFoundError, ValidationError } from '../domain/errors';
import type { CaseListItem, PatientBanner, PatientSearchResult } from '../engine';
import { PATHWAYS, readFormSchema } from '../pathways';
import { addContact, contactFormView, listContacts } from './contacts';
import type { PageContext } from './index';
import {
  calendarDateOf,
  call,
  dateTimeValuesOf,
  errorSummaryOf,
  fieldErrorsOf,
  fieldsOf,
  isBlank,
  londonInstantOf,
  problemsOr,
  type DateTimeValues,
  type FieldErrors,
} from './page-helpers';

/** A start variable asked on the form: a date and time (London) whose controls are named and identified by `field`. */
interface TimeVariable {
  readonly name: string;
  readonly title: string;
  readonly required: boolean;
  readonly field: string;
}

interface StartablePathway {
  readonly id: string;
  readonly name: string;
  readonly times: readonly TimeVariable[];
}

let startable: readonly StartablePathway[] | undefined;

/**
 * The shipped pathways a person can start here: those whose start form requires nothing but dates and times (asked
 * on the form). identify-person is left out: only its calling pathway can give what it starts with. The list
 * comes from the shipped catalogue and the public start forms, because the people who may start a case
 * (clinicians, team leads) may not list the deployed pathways (`pathway.list` is the commissioners' and ops').
 */
export function startablePathways(): readonly StartablePathway[] {
  startable ??= PATHWAYS.flatMap(({ processId, name }) => {
    let schema;
    try {
      schema = readFormSchema(`${processId}-start`);
    } catch {
      return [{ id: processId, name, times: [] }];
    }
    const properties = schema.properties as Record<string, { type?: unknown; format?: unknown; title?: unknown }>;
    const times = Object.entries(properties)
      .filter(([, p]) => p.type === 'string' && p.format === 'date-time')
      .map(([variable, p]) => ({
        name: variable,
        title: typeof p.title === 'string' ? p.title : variable,
        required: (schema.required ?? []).includes(variable),
        field: `start-${variable}`,
      }));
    const asked = new Set(times.map((t) => t.name));
    return (schema.required ?? []).every((r) => asked.has(r)) ? [{ id: processId, name, times }] : [];
  });
  return startable;
}

/**
 * The date and time fields of the start form, each once however many pathways ask it (custody reception and the
 * journey both ask the arrival in custody), with the pathways that use it. Not revealed under each pathway's
 * radio: the NHS.UK radios script marks such a radio with ARIA a radio may not have.
 */
function timeFields(): { field: string; title: string; pathways: string }[] {
  const fields = new Map<string, { field: string; title: string; pathways: string[] }>();
  for (const pathway of startablePathways())
    for (const time of pathway.times) {
      const entry = fields.get(time.field) ?? { field: time.field, title: time.title, pathways: [] };
      entry.pathways.push(pathway.name);
      fields.set(time.field, entry);
    }
  return [...fields.values()].map((f) => ({ ...f, pathways: f.pathways.join(' and ') }));
}

/** A pathway's name as people know it, or its id. */
export function pathwayName(pathwayId: string): string {
  return PATHWAYS.find((p) => p.processId === pathwayId)?.name ?? pathwayId;
}

interface SearchValues {
  nhsNumber?: string;
  family?: string;
  given?: string;
  birthdate?: DateTimeValues;
}

/** `GET /patients`: the two searches, and the people PDS matched. */
export async function findPatientPage(ctx: PageContext): Promise<void> {
  const q = fieldsOf(ctx.req.query);
  const by = q('by');
  if (by === 'nhs') {
    const nhsNumber = q('nhsNumber');
    if (isValidNhsNumber(nhsNumber)) return ctx.redirect(`/patients/${normaliseNhsNumber(nhsNumber)}`);
    const message = nhsNumber.trim()
      ? 'Enter a valid NHS number: 10 digits, the last being its check digit, such as 943 476 5919'
      : 'Enter an NHS number';
    return renderSearch(ctx, { nhsNumber }, { nhsNumber: message }, 400);
  }
  if (by !== 'demographics') return renderSearch(ctx, {}, {}, 200);

  const values: SearchValues = {
    family: q('family'),
    given: q('given'),
    birthdate: dateTimeValuesOf(q, 'birthdate', false),
  };
  const birthdate = calendarDateOf(values.birthdate!);
  if (!isBlank(values.birthdate!) && !birthdate)
    return renderSearch(ctx, values, { 'birthdate-day': 'Date of birth must be a real date, such as 14 3 1985' }, 400);
  const query: Record<string, string> = {
    ...(values.family?.trim() ? { family: values.family.trim() } : {}),
    ...(values.given?.trim() ? { given: values.given.trim() } : {}),
    ...(birthdate ? { birthdate } : {}),
  };
  const result = await problemsOr(() => call(ctx, 'searchPatients', { query }));
  if ('problems' in result) {
    const errors = fieldErrorsOf(
      result.problems,
      {
        '/query/family': { id: 'family', label: 'Family name', missing: 'Enter the family name' },
        '/query/given': { id: 'given', label: 'Given name', missing: 'Enter the given name' },
        '/query/birthdate': { id: 'birthdate-day', label: 'Date of birth', missing: 'Enter the date of birth' },
      },
      'family',
    );
    return renderSearch(ctx, values, errors, 400);
  }
  const found = result.ok.body as { outcome: 'matches' | 'too-many-matches'; items: PatientSearchResult[] };
  renderSearch(ctx, values, {}, 200, {
    tooMany: found.outcome === 'too-many-matches',
    items: found.items.map((m) => ({
      ...m,
      displayName: m.name ? [...m.name.prefix, ...m.name.given, m.name.family ?? ''].join(' ').trim() : null,
    })),
  });
}

function renderSearch(
  ctx: PageContext,
  values: SearchValues,
  errors: FieldErrors,
  status: number,
  results?: { tooMany: boolean; items: unknown[] },
): void {
  ctx.render(
    'patients.njk',
    {
      title: 'Find a patient',
      current: 'patients',
      values,
      errors,
      results,
      ...(Object.keys(errors).length ? { errorSummary: errorSummaryOf(errors) } : {}),
    },
    status,
  );
}

interface StartForm {
  readonly values: { pathway?: string; settingOdsCode?: string; times?: Record<string, DateTimeValues> };
  readonly errors: FieldErrors;
}

/** `GET /patients/:nhsNumber`: the banner, their cases here, and a form to start one. */
export async function patientPage(ctx: PageContext): Promise<void> {
  await renderPatient(ctx, { values: {}, errors: {} }, 200);
}

/** The add-contact form as sent, with what to correct, when a contact was refused. */
interface ContactSent {
  readonly values: Record<string, unknown>;
  readonly errors: Record<string, string>;
  readonly summary: { text: string; href: string }[];
}

async function renderPatient(ctx: PageContext, form: StartForm, status: number, contact?: ContactSent): Promise<void> {
  const sent = String(ctx.req.params['nhsNumber'] ?? '');
  let patient: PatientBanner | null = null;
  try {
    patient = (await call(ctx, 'getPatient', { params: { nhsNumber: sent } })).body as PatientBanner;
  } catch (error) {
    if (error instanceof ValidationError)
      return renderSearch(ctx, { nhsNumber: sent }, { nhsNumber: 'Enter a valid NHS number' }, 400);
    // No record of them in one's settings (or none at all): a case can still be started for them here.
    if (!(error instanceof NotFoundError)) throw error;
  }
  const nhsNumber = patient?.nhsNumber ?? normaliseNhsNumber(sent);
  const cases = patient
    ? ((await call(ctx, 'listCases', { query: { nhsNumber, limit: '50' } })).body as { items: CaseListItem[] }).items
    : [];
  const contacts = patient ? await listContacts(ctx, nhsNumber) : [];
  const settings = ctx.principal.settings;
  // What they chose, else the setting they said they are working in, else their only one.
  const chosenSetting =
    form.values.settingOdsCode ?? ctx.workingSetting ?? (settings.length === 1 ? settings[0] : undefined);
  ctx.render(
    'patient.njk',
    {
      title: patient?.name ?? `NHS number ${nhsNumber}`,
      current: 'patients',
      patient,
      nhsNumber,
      cases: cases.map((c) => ({ ...c, pathwayName: pathwayName(c.pathwayId) })),
      pathways: startablePathways(),
      timeFields: timeFields(),
      settingItems: [
        ...(settings.length === 1 ? [] : [{ value: '', text: 'Choose a setting' }]),
        ...settings.map((ods) => ({ value: ods, text: ods, selected: ods === chosenSetting })),
      ],
      form,
      contacts,
      contactForm: contactFormView(contact?.values, contact?.errors),
      csrfToken: ctx.csrfToken,
      ...(Object.keys(form.errors).length ? { errorSummary: errorSummaryOf(form.errors) } : {}),
      ...(contact ? { errorSummary: contact.summary } : {}),
    },
    status,
  );
}

/** `POST /patients/:nhsNumber/cases`: starts the chosen pathway in the chosen setting, then shows the case. */
export async function startCasePost(ctx: PageContext): Promise<void> {
  const field = fieldsOf(ctx.req.body);
  const pathway = field('pathway');
  const settingOdsCode = field('settingOdsCode');
  const chosen = startablePathways().find((p) => p.id === pathway);
  const times: Record<string, DateTimeValues> = {};
  const variables: Record<string, string> = {};
  const errors: FieldErrors = {};
  for (const time of chosen?.times ?? []) {
    const value = dateTimeValuesOf(field, time.field);
    times[time.field] = value;
    // Left blank: now, as the hint says.
    const instant = isBlank(value) ? new Date().toISOString() : londonInstantOf(value);
    if (instant) variables[time.name] = instant;
    else
      errors[`${time.field}-day`] =
        `${time.title} must be a real date and a time such as 09:30, or leave them blank for now`;
  }
  const values = { pathway, settingOdsCode, times };
  if (Object.keys(errors).length) return renderPatient(ctx, { values, errors }, 400);

  const result = await problemsOr(() =>
    call(ctx, 'startCase', {
      body: {
        ...(pathway ? { pathway } : {}),
        nhsNumber: String(ctx.req.params['nhsNumber'] ?? ''),
        ...(settingOdsCode ? { settingOdsCode } : {}),
        variables,
      },
    }),
  );
  if ('problems' in result) {
    const fields: Parameters<typeof fieldErrorsOf>[1] = {
      '/pathway': { id: 'pathway', label: 'Pathway', missing: 'Select the pathway to start' },
      '/settingOdsCode': { id: 'settingOdsCode', label: 'Setting', missing: 'Select the setting the case is in' },
      '/nhsNumber': { id: 'pathway', label: 'NHS number' },
    };
    for (const time of chosen?.times ?? [])
      fields[`/variables/${time.name}`] = { id: `${time.field}-day`, label: time.title };
    return renderPatient(ctx, { values, errors: fieldErrorsOf(result.problems, fields, 'pathway') }, 400);
  }
  const started = result.ok.body as { caseId: string };
  ctx.redirect(`/cases/${encodeURIComponent(started.caseId)}`);
}

/** `POST /patients/:nhsNumber/contacts`: adds a contact, then back to the person's contacts. */
export async function addContactPost(ctx: PageContext): Promise<void> {
  const nhsNumber = String(ctx.req.params['nhsNumber'] ?? '');
  const result = await addContact(ctx, nhsNumber);
  if ('ok' in result) return ctx.redirect(`/patients/${nhsNumber}#contacts`);
  await renderPatient(ctx, { values: {}, errors: {} }, 400, result);
}
