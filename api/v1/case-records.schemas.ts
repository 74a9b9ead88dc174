/**
 * Schemas of the case record's operations: the timeline, task drafts, appointments, contacts and their consent,
 * and the PDS search. Spread into SCHEMAS (schemas.ts), so ajv validates with them and the OpenAPI document
 * publishes them.
 */
import { APPOINTMENT_OUTCOMES } from '../../engine/appointments';
import { TIMELINE_CATEGORIES } from '../../engine/case-timeline';
import { cursor, limit, nullable } from './paging.schemas';

type JsonSchema = Record<string, unknown>;

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const uuid = { type: 'string', format: 'uuid' } as const;
const instant = { type: 'string', format: 'date-time' } as const;
const text = (maxLength: number, description?: string): JsonSchema => ({
  type: 'string',
  minLength: 1,
  maxLength,
  pattern: '\\S',
  ...(description ? { description } : {}),
});

export const CASE_RECORD_SCHEMAS: Record<string, JsonSchema> = {
  TaskDraftRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['answers'],
    properties: {
      answers: {
        type: 'object',
        description:
          'the answers so far: any subset of the task’s form fields (TaskDetail.form.schema), not yet checked against its rules',
      },
    },
  },
  TaskDraft: {
    type: 'object',
    required: ['taskId', 'answers', 'savedAt', 'saves'],
    properties: {
      taskId: { type: 'string' },
      answers: { type: 'object' },
      savedAt: instant,
      saves: { type: 'integer', description: 'how many times you have saved a draft of this task' },
    },
  },
  CaseTimelineQuery: {
    type: 'object',
    additionalProperties: false,
    properties: {
      kind: { enum: [...TIMELINE_CATEGORIES], description: 'only events of this kind (`task`: opened, completed...)' },
      limit,
      cursor,
    },
  },
  TimelineEvent: {
    type: 'object',
    required: ['eventId', 'kind', 'at', 'by', 'ref', 'detail'],
    properties: {
      eventId: { type: 'string' },
      kind: { type: 'string', description: '`case.opened`, `task.completed`, `appointment.missed`, `note.written`...' },
      at: instant,
      by: nullable({ type: 'string' }),
      ref: { type: 'object', properties: { type: { type: 'string' }, id: { type: 'string' } } },
      detail: { type: 'object', description: 'what happened, without clinical content' },
      clinical: {
        type: 'object',
        description: 'clinical content (note text, alert wording, codes, reasons); never shown to ops',
      },
      contact: {
        type: 'object',
        description: 'where (an appointment’s location); never shown for a restricted record, nor to ops',
      },
    },
  },
  TimelinePage: {
    type: 'object',
    required: ['items', 'nextCursor', 'total'],
    properties: {
      items: { type: 'array', items: ref('TimelineEvent') },
      nextCursor: nullable({ type: 'string' }),
      total: { type: 'integer', description: 'events of the case (of the kind asked for) in all' },
    },
  },
  AppointmentListQuery: {
    type: 'object',
    additionalProperties: false,
    properties: { status: { enum: ['booked', ...APPOINTMENT_OUTCOMES] }, limit, cursor },
  },
  Appointment: {
    type: 'object',
    description:
      'An appointment and every change of its status. Its location is never shown for a restricted record, nor to ops; nor are the reasons given, to ops.',
    required: ['appointmentId', 'startsAt', 'agency', 'status', 'history'],
    properties: {
      appointmentId: uuid,
      caseId: nullable(uuid),
      kind: nullable({ type: 'string' }),
      startsAt: instant,
      endsAt: nullable(instant),
      location: { type: 'string' },
      agency: { type: 'string' },
      agencyContactId: nullable(uuid),
      status: { enum: ['booked', ...APPOINTMENT_OUTCOMES] },
      bookedBy: { type: 'string' },
      bookedAt: instant,
      history: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            status: { type: 'string' },
            fromStatus: nullable({ type: 'string' }),
            at: instant,
            by: { type: 'string' },
            reason: nullable({ type: 'string' }),
          },
        },
      },
    },
  },
  AppointmentPage: {
    type: 'object',
    required: ['items', 'nextCursor'],
    properties: { items: { type: 'array', items: ref('Appointment') }, nextCursor: nullable({ type: 'string' }) },
  },
  BookAppointmentRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['kind', 'startsAt', 'location', 'agency'],
    properties: {
      kind: {
        type: 'string',
        pattern: '^[a-z][a-z0-9-]{0,63}$',
        description: 'what kind of appointment: gp, community-substance-misuse, probation, housing, mental-health...',
      },
      startsAt: instant,
      endsAt: instant,
      location: text(500, 'where'),
      agency: text(255, 'with whom: the agency or service'),
      agencyContactId: { ...uuid, description: 'the agency as one of the person’s contacts, when on record' },
    },
  },
  AppointmentOutcomeRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['outcome'],
    properties: {
      outcome: { enum: [...APPOINTMENT_OUTCOMES] },
      reason: text(2000),
    },
  },
  AppointmentOutcome: {
    type: 'object',
    required: ['appointment', 'changed', 'workflow'],
    properties: {
      appointment: ref('Appointment'),
      changed: { type: 'boolean', description: 'false when the appointment already had this status' },
      workflow: {
        type: 'object',
        description:
          '`delivered`: a pathway of the case was waiting for this outcome and was told (`message`); `not-awaited`: none was (`reason`)',
        properties: {
          outcome: { enum: ['delivered', 'not-awaited'] },
          reason: { type: 'string' },
          message: ref('CaseMessageResult'),
        },
      },
    },
  },
  Contact: {
    type: 'object',
    description:
      'A contact with the current consent to share with them and every decision. For a restricted record, no email, phone or address.',
    required: ['contactId', 'kind', 'name', 'relationship', 'channel', 'consent', 'consentHistory'],
    properties: {
      contactId: uuid,
      kind: { enum: ['agency', 'family_member'] },
      name: { type: 'string' },
      organisation: nullable({ type: 'string' }),
      relationship: { type: 'string' },
      channel: { enum: ['email', 'sms', 'letter'] },
      email: nullable({ type: 'string' }),
      phone: nullable({ type: 'string' }),
      address: nullable({ type: 'object' }),
      consent: {
        type: 'object',
        properties: {
          status: { enum: ['not_recorded', 'given', 'withdrawn'] },
          decidedAt: nullable(instant),
          recordedBy: nullable({ type: 'string' }),
        },
      },
      consentHistory: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            status: { enum: ['given', 'withdrawn'] },
            decidedAt: instant,
            recordedAt: instant,
            recordedBy: { type: 'string' },
            note: nullable({ type: 'string' }),
          },
        },
      },
      createdAt: instant,
    },
  },
  ContactList: {
    type: 'object',
    required: ['items'],
    properties: { items: { type: 'array', items: ref('Contact') } },
  },
  AddContactRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['kind', 'name', 'relationship', 'channel'],
    properties: {
      kind: { enum: ['agency', 'family_member'] },
      name: text(255),
      organisation: text(255, 'for an agency: the organisation'),
      relationship: text(255, 'how they relate to the person: probation practitioner, mother, GP'),
      channel: { enum: ['email', 'sms', 'letter'], description: 'how they are told; its address is required' },
      email: { type: 'string', format: 'email', maxLength: 320 },
      phone: { type: 'string', pattern: '^\\+?[0-9 ]{7,20}$', maxLength: 32 },
      address: {
        type: 'object',
        additionalProperties: false,
        required: ['lines', 'postcode'],
        properties: {
          lines: { type: 'array', minItems: 1, maxItems: 6, items: text(255) },
          postcode: { type: 'string', pattern: '^[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}$' },
        },
      },
    },
    allOf: [
      { if: { properties: { channel: { const: 'email' } }, required: ['channel'] }, then: { required: ['email'] } },
      { if: { properties: { channel: { const: 'sms' } }, required: ['channel'] }, then: { required: ['phone'] } },
      { if: { properties: { channel: { const: 'letter' } }, required: ['channel'] }, then: { required: ['address'] } },
    ],
  },
  ConsentRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['status', 'decidedAt'],
    properties: {
      status: { enum: ['given', 'withdrawn'] },
      decidedAt: { ...instant, description: 'when the person decided (not in the future)' },
      note: text(2000),
    },
  },
  PatientSearchQuery: {
    type: 'object',
    additionalProperties: false,
    required: ['birthdate'],
    properties: {
      family: text(35, 'family name; may end with * after its first two characters (not in a fuzzy search)'),
      given: text(35, 'first given name; may end with * after its first two characters (not in a fuzzy search)'),
      birthdate: { type: 'string', format: 'date', description: 'date of birth, YYYY-MM-DD (PDS requires it)' },
      gender: { enum: ['male', 'female', 'other', 'unknown'] },
      postcode: { type: 'string', pattern: '^[A-Za-z0-9 ]{2,8}\\*?$', description: 'spaces ignored; may end with *' },
      fuzzy: { type: 'boolean', description: 'sound-alike and transposed names; also searches history' },
      limit: { type: 'integer', minimum: 1, maximum: 50, default: 10, description: 'at most this many people' },
    },
  },
  PatientSearchResults: {
    type: 'object',
    required: ['outcome', 'items'],
    properties: {
      outcome: {
        enum: ['matches', 'too-many-matches'],
        description: '`too-many-matches`: more people than the limit matched and PDS named none: refine the search',
      },
      items: {
        type: 'array',
        items: {
          type: 'object',
          required: ['nhsNumber', 'restricted', 'score', 'patientId'],
          properties: {
            nhsNumber: { type: 'string' },
            name: nullable({ type: 'object' }),
            birthDate: nullable({ type: 'string' }),
            gender: nullable({ type: 'string' }),
            deceasedAt: nullable({ type: 'string' }),
            restricted: { type: 'boolean', description: 'PDS R/V: no address, telephone, email or GP' },
            score: { type: 'number', description: '1 is an exact match' },
            address: { type: 'object' },
            phone: { type: 'string' },
            email: { type: 'string' },
            gpOdsCode: { type: 'string' },
            patientId: { ...nullable(uuid), description: 'our record of this person, when we hold one' },
          },
        },
      },
    },
  },
};
