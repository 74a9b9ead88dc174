/**
 * A person's contacts (agencies, nominated family members) with the consent to share with each: list, add, and
 * record consent given or withdrawn (a new consent event each time). A restricted record never shows a contact's
 * email, phone or address, to anyone (the view's contactDetails, as everywhere).
 */
import { addContact, checkedNhsNumber, findPatient, listContacts, recordContactConsent } from '../../engine';
import { NotFoundError, ValidationError } from '../../domain/errors';
import type { AddContactInput } from '../../activities/records';
import { withoutContactDetails, type Decision } from '../policy';
import { actorOf, decide, requireRole, nhsNumberParam, type RouteContext, type RouteSpec } from './operation';
import { PARAMETER_SCHEMAS } from './schemas';

const NOT_FOUND = 'No record of this person in the settings you work in';

async function patientOr404(ctx: RouteContext, action: 'contact.list' | 'contact.create' | 'contact.consent') {
  const nhsNumber = checkedNhsNumber(ctx.params['nhsNumber']!, '/path/nhsNumber');
  requireRole(ctx.principal, action);
  const patient = await findPatient(ctx.engine.store, nhsNumber);
  if (!patient) throw new NotFoundError(NOT_FOUND);
  const decision = decide(
    ctx.principal,
    action,
    { settings: patient.settings, restricted: patient.restricted },
    NOT_FOUND,
  );
  return { patient, decision };
}

const shown = <T>(decision: Decision & { allowed: true }, value: T): unknown =>
  decision.view.contactDetails ? value : withoutContactDetails(value);

const recordActor = (ctx: RouteContext, decision: Decision & { allowed: true }, operation: string) => ({
  ...actorOf(ctx, decision),
  operation,
  purpose: decision.purpose,
});

export const CONTACT_ROUTES: readonly RouteSpec[] = [
  {
    method: 'get',
    path: '/patients/{nhsNumber}/contacts',
    operationId: 'listContacts',
    summary: 'A person’s contacts (agencies, family) with the current consent to share with each',
    tag: 'contacts',
    action: 'contact.list',
    patientData: true,
    params: nhsNumberParam,
    success: { status: 200, schema: 'ContactList', description: 'the contacts' },
    async handle(ctx) {
      const { patient, decision } = await patientOr404(ctx, 'contact.list');
      const contacts = await listContacts(ctx.engine.store, patient.patientId);
      await ctx.audit([
        {
          decision,
          action: 'read',
          operation: 'contact.list',
          entityType: 'Patient',
          entityId: patient.patientId,
          patientId: patient.patientId,
          reason: `contacts (${contacts.length})`,
        },
      ]);
      return { body: { items: shown(decision, contacts) } };
    },
  },
  {
    method: 'post',
    path: '/patients/{nhsNumber}/contacts',
    operationId: 'addContact',
    summary: 'Add a contact (an agency, a nominated family member) and how to reach them',
    tag: 'contacts',
    action: 'contact.create',
    patientData: true,
    params: nhsNumberParam,
    body: 'AddContactRequest',
    success: { status: 201, schema: 'Contact', description: 'the contact as recorded (consent not yet recorded)' },
    async handle(ctx) {
      const { patient, decision } = await patientOr404(ctx, 'contact.create');
      const b = ctx.body;
      const optional = (name: 'organisation' | 'email' | 'phone') =>
        typeof b[name] === 'string' ? { [name]: b[name] } : {};
      // The record activity writes the audit event with the contact, in the same transaction.
      const contact = await addContact(
        ctx.engine.store,
        {
          patientId: patient.patientId,
          kind: b['kind'] as AddContactInput['kind'],
          name: b['name'] as string,
          relationship: b['relationship'] as string,
          channel: b['channel'] as AddContactInput['channel'],
          ...optional('organisation'),
          ...optional('email'),
          ...optional('phone'),
          ...(b['address'] ? { address: b['address'] as NonNullable<AddContactInput['address']> } : {}),
          actor: recordActor(ctx, decision, 'contact.create'),
        },
        ctx.engine.logger,
      );
      return { status: 201, body: shown(decision, contact) };
    },
  },
  {
    method: 'post',
    path: '/patients/{nhsNumber}/contacts/{contactId}/consent',
    operationId: 'recordContactConsent',
    summary: 'Record that the person gave or withdrew consent to share with a contact (kept with every earlier one)',
    tag: 'contacts',
    action: 'contact.consent',
    patientData: true,
    params: { ...nhsNumberParam, contactId: PARAMETER_SCHEMAS.uuid },
    body: 'ConsentRequest',
    success: { status: 200, schema: 'Contact', description: 'the contact with its consent now' },
    async handle(ctx) {
      const { patient, decision } = await patientOr404(ctx, 'contact.consent');
      const decidedAt = ctx.body['decidedAt'] as string;
      // Five minutes of clock skew allowed, as the forms allow.
      if (Date.parse(decidedAt) > Date.now() + 5 * 60_000)
        throw new ValidationError('Consent cannot be decided in the future', [
          { pointer: '/decidedAt', detail: 'must not be in the future' },
        ]);
      const contact = await recordContactConsent(
        ctx.engine.store,
        {
          patientId: patient.patientId,
          contactId: ctx.params['contactId']!,
          status: ctx.body['status'] as 'given' | 'withdrawn',
          decidedAt,
          ...(typeof ctx.body['note'] === 'string' ? { note: ctx.body['note'] } : {}),
          actor: recordActor(ctx, decision, 'contact.consent'),
        },
        ctx.engine.logger,
      );
      return { body: shown(decision, contact) };
    },
  },
];
