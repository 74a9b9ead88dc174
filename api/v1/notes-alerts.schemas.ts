/**
 * Schemas of the notes and alerts operations. Spread into SCHEMAS (schemas.ts), so ajv validates requests with
 * them and the OpenAPI document publishes them.
 */
import { ALERT_CODE_SYSTEMS, ALERT_SEVERITIES, ALERT_STATUSES, LOCAL_ALERT_CODE_SYSTEM } from '../../engine/alerts';
import { cursor, limit, nullable } from './paging.schemas';

type JsonSchema = Record<string, unknown>;

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const uuid = { type: 'string', format: 'uuid' } as const;
const instant = { type: 'string', format: 'date-time' } as const;
/** Text a person writes: something other than white space, within a limit. */
const text = (maxLength: number, description: string): JsonSchema => ({
  type: 'string',
  minLength: 1,
  maxLength,
  pattern: '\\S',
  description,
});

export const NOTE_ALERT_SCHEMAS: Record<string, JsonSchema> = {
  NoteListQuery: { type: 'object', additionalProperties: false, properties: { limit, cursor } },
  AddNoteRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['body'],
    properties: { body: text(10_000, 'the note, as written; it can be amended, never changed') },
  },
  AmendNoteRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['body', 'reason'],
    properties: {
      body: text(10_000, 'the corrected note: a new note that points at the one it corrects, which stays as it was'),
      reason: text(1_000, 'why the note is amended'),
    },
  },
  Note: {
    type: 'object',
    description: 'For ops, `body` and `amendmentReason` are withheld (clinical content).',
    properties: {
      noteId: uuid,
      caseId: nullable(uuid),
      body: { type: 'string' },
      author: {
        type: 'object',
        properties: {
          id: { type: 'string', description: 'a staff id, or system:pathway' },
          role: { type: 'string' },
          name: nullable({ type: 'string' }),
        },
      },
      writtenAt: instant,
      amends: nullable(uuid),
      amendmentReason: nullable({ type: 'string' }),
      amendedBy: nullable({
        type: 'object',
        description: 'the note that corrects this one',
        properties: { noteId: uuid, writtenAt: instant },
      }),
    },
  },
  NotePage: {
    type: 'object',
    required: ['items', 'nextCursor'],
    properties: { items: { type: 'array', items: ref('Note') }, nextCursor: nullable({ type: 'string' }) },
  },
  AlertListQuery: {
    type: 'object',
    additionalProperties: false,
    properties: {
      status: { enum: [...ALERT_STATUSES, 'any'], default: 'active' },
      limit,
      cursor,
    },
  },
  RaiseAlertRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['code', 'display', 'severity'],
    properties: {
      code: {
        type: 'string',
        pattern: '^[A-Za-z0-9_]{1,64}$',
        description:
          'a local or NOMIS alert code (`SELF_HARM_RISK`, `HA` ACCT open), or with the SNOMED CT code system a concept id',
      },
      codeSystem: {
        enum: [...ALERT_CODE_SYSTEMS],
        default: LOCAL_ALERT_CODE_SYSTEM,
        description: 'http://snomed.info/sct, or the local alert codes (the default)',
      },
      display: text(255, 'what the alert says, as shown in the banner'),
      severity: { enum: [...ALERT_SEVERITIES] },
      reason: text(2_000, 'why it is raised'),
      caseId: { ...uuid, description: 'the case it is raised in, one of the person’s' },
    },
  },
  ResolveAlertRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['reason'],
    properties: { reason: text(2_000, 'why it no longer applies; kept beside the raise') },
  },
  Alert: {
    type: 'object',
    properties: {
      alertId: uuid,
      caseId: nullable(uuid),
      code: { type: 'string' },
      codeSystem: { type: 'string' },
      display: { type: 'string' },
      severity: { enum: [...ALERT_SEVERITIES] },
      status: { enum: [...ALERT_STATUSES] },
      raisedAt: instant,
      raisedBy: { type: 'string' },
      raiseReason: nullable({ type: 'string' }),
      resolution: nullable({
        type: 'object',
        properties: { at: instant, by: { type: 'string' }, reason: nullable({ type: 'string' }) },
      }),
    },
  },
  AlertPage: {
    type: 'object',
    required: ['items', 'nextCursor'],
    properties: { items: { type: 'array', items: ref('Alert') }, nextCursor: nullable({ type: 'string' }) },
  },
};
