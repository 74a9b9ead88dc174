/**
 * Contacts and consent on the patient page: the agencies and family members to tell when the person misses an
 * appointment after release, each with the person's current decision about sharing with them. Adding a contact
 * is the API's AddContactRequest rendered by the same form renderer as a task's form (its JSON Schema with
 * the words people read added here), so the channel's address is asked under the channel chosen. Consent is
 * recorded on a page of its own per contact (one form per page keeps every field id unique).
 */
import { ValidationError } from '../domain/errors';
import { SCHEMAS } from '../api/v1/schemas';
import type { FormSchema } from '../pathways';
import { createFormAjv, describeErrors } from '../pathways/form-validator';
import { fieldErrors, formValues, formView, readSubmission } from './forms/form-view';
import type { PageContext } from './index';
import { call } from './page-helpers';

export interface Contact {
  readonly contactId: string;
  readonly kind: 'agency' | 'family_member';
  readonly name: string;
  readonly organisation: string | null;
  readonly relationship: string;
  readonly channel: 'email' | 'sms' | 'letter';
  readonly consent: { readonly status: 'not_recorded' | 'given' | 'withdrawn'; readonly decidedAt: string | null };
}

type Schema = Record<string, unknown> & { properties: Record<string, Record<string, unknown>> };

/** The API's request schema with the labels, choices and messages a person reads. */
function worded(
  name: string,
  title: string,
  words: Record<string, { title: string; description?: string; choices?: Record<string, string> }>,
  messages: Record<string, string>,
): FormSchema {
  const schema = SCHEMAS[name] as Schema;
  const properties = Object.fromEntries(
    Object.entries(schema.properties).map(([property, definition]) => {
      const word = words[property];
      return [
        property,
        {
          ...definition,
          ...(word ? { title: word.title } : {}),
          ...(word?.description ? { description: word.description } : {}),
          ...(word?.choices ? { 'x-enum-titles': word.choices } : {}),
        },
      ];
    }),
  );
  return { ...schema, $id: `web:${name}`, title, properties, 'x-error-messages': messages };
}

export const CONTACT_FORM = worded(
  'AddContactRequest',
  'Add a contact',
  {
    kind: {
      title: 'Who they are',
      choices: { agency: 'An agency (probation, GP, treatment service)', family_member: 'A family member or friend' },
    },
    name: { title: 'Name' },
    organisation: { title: 'Organisation', description: 'For an agency' },
    relationship: { title: 'Relationship to the person', description: 'For example probation practitioner, mother' },
    channel: { title: 'How they are told', choices: { email: 'Email', sms: 'Text message', letter: 'Letter' } },
    email: { title: 'Email address' },
    phone: { title: 'Mobile phone number' },
    address: { title: 'Postal address' },
  },
  {
    kind: 'Choose who they are.',
    name: 'Enter their name.',
    organisation: 'Enter the organisation, or leave it empty.',
    relationship: 'Enter how they relate to the person.',
    channel: 'Choose how they are told.',
    email: 'Enter an email address, like name@example.com.',
    phone: 'Enter a phone number of 7 to 20 digits, like 07700 900123.',
    address: 'Enter the address lines and a postcode, like LS1 6AE.',
  },
);

export const CONSENT_FORM = worded(
  'ConsentRequest',
  'Record the person’s decision',
  {
    status: {
      title: 'Does the person agree to Throughcare telling this contact?',
      choices: { given: 'Yes, they agree', withdrawn: 'No, or they have withdrawn their agreement' },
    },
    decidedAt: { title: 'When they decided' },
    note: { title: 'Note', description: 'For example how they said it, or any limit on what may be shared' },
  },
  {
    status: 'Choose whether the person agrees.',
    decidedAt: 'Enter when they decided. It cannot be in the future.',
    note: 'Keep the note to 2,000 characters.',
  },
);

// Checked here first with the form's own words (as a task's form is), then by the API, which has the last say.
const formAjv = createFormAjv();
const checkContact = formAjv.compile(CONTACT_FORM);
const checkConsent = formAjv.compile(CONSENT_FORM);

/** Problems in the form's own words, or none. */
function problemsOf(check: typeof checkContact, schema: FormSchema, data: unknown) {
  return check(data) ? [] : describeErrors(schema, check.errors ?? []);
}

/** The person's contacts, for their page; none when the record is not theirs to see. */
export async function listContacts(ctx: PageContext, nhsNumber: string): Promise<Contact[]> {
  return ((await call(ctx, 'listContacts', { params: { nhsNumber } })).body as { items: Contact[] }).items;
}

/** The add-contact form as the patient page shows it: empty, or as sent with what to correct. */
export function contactFormView(values: Record<string, unknown> = {}, errors: Record<string, string> = {}) {
  return formView(CONTACT_FORM, values, errors);
}

/**
 * `POST /patients/:nhsNumber/contacts`: adds the contact, or answers with the problems for the patient page to
 * show (the form as sent, its errors and the error summary).
 */
export async function addContact(
  ctx: PageContext,
  nhsNumber: string,
): Promise<
  | { ok: true }
  | { values: Record<string, unknown>; errors: Record<string, string>; summary: { text: string; href: string }[] }
> {
  const body = ctx.req.body as Record<string, unknown>;
  const data = readSubmission(CONTACT_FORM, body);
  try {
    const problems = problemsOf(checkContact, CONTACT_FORM, data);
    if (problems.length) throw new ValidationError('The contact has problems', problems);
    await call(ctx, 'addContact', { params: { nhsNumber }, body: data });
    return { ok: true };
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const { byField, summary } = fieldErrors(error.problems, '', CONTACT_FORM);
    return { values: body, errors: byField, summary };
  }
}

async function contactOf(ctx: PageContext, nhsNumber: string, contactId: string): Promise<Contact> {
  const contact = (await listContacts(ctx, nhsNumber)).find((c) => c.contactId === contactId);
  if (!contact)
    throw new ValidationError('No such contact', [
      { pointer: '/path/contactId', detail: 'is not a contact of this person' },
    ]);
  return contact;
}

function renderConsent(
  ctx: PageContext,
  nhsNumber: string,
  contact: Contact,
  values: Record<string, unknown>,
  errors: Record<string, string>,
  summary?: { text: string; href: string }[],
): void {
  ctx.render(
    'consent.njk',
    {
      title: `Consent to tell ${contact.name}`,
      current: 'patients',
      nhsNumber,
      contact,
      form: formView(CONSENT_FORM, values, errors),
      action: `/patients/${nhsNumber}/contacts/${contact.contactId}/consent`,
      csrfToken: ctx.csrfToken,
      ...(summary?.length ? { errorSummary: summary } : {}),
    },
    summary?.length ? 400 : 200,
  );
}

/** `GET /patients/:nhsNumber/contacts/:contactId/consent`: the decision form, the current decision shown. */
export async function consentPage(ctx: PageContext): Promise<void> {
  const nhsNumber = String(ctx.req.params['nhsNumber'] ?? '');
  const contact = await contactOf(ctx, nhsNumber, String(ctx.req.params['contactId'] ?? ''));
  renderConsent(ctx, nhsNumber, contact, formValues(CONSENT_FORM, {}), {});
}

/** `POST .../consent`: records the decision (a new entry; earlier ones stay), then back to the contacts. */
export async function consentPost(ctx: PageContext): Promise<void> {
  const nhsNumber = String(ctx.req.params['nhsNumber'] ?? '');
  const contact = await contactOf(ctx, nhsNumber, String(ctx.req.params['contactId'] ?? ''));
  const body = ctx.req.body as Record<string, unknown>;
  const data = readSubmission(CONSENT_FORM, body);
  try {
    const problems = problemsOf(checkConsent, CONSENT_FORM, data);
    if (problems.length) throw new ValidationError('The decision has problems', problems);
    await call(ctx, 'recordContactConsent', { params: { nhsNumber, contactId: contact.contactId }, body: data });
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const { byField, summary } = fieldErrors(error.problems, '', CONSENT_FORM);
    renderConsent(ctx, nhsNumber, contact, body, byField, summary);
    return;
  }
  ctx.redirect(`/patients/${nhsNumber}#contacts`);
}
