/** JSON Schemas of the settings and staff operations (directory.routes.ts), spread into SCHEMAS. */
import { PrisonType, SettingKind, StaffRole } from '../../store';
import { cursor, limit, nextCursor } from './paging.schemas';
import type { JsonSchema } from './schemas';

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const odsCode = { type: 'string', pattern: '^[A-Z0-9]{3,16}$', description: 'ODS code of a setting' } as const;
const duty = { type: 'string', pattern: '^[a-z][a-z0-9]*(-[a-z0-9]+)*$', maxLength: 64 } as const;

export const DIRECTORY_SCHEMAS: Record<string, JsonSchema> = {
  SettingListQuery: {
    type: 'object',
    additionalProperties: false,
    properties: { kind: { enum: Object.values(SettingKind) }, limit, cursor },
  },
  Setting: {
    type: 'object',
    required: ['settingId', 'odsCode', 'name', 'kind', 'prisonType', 'createdAt'],
    properties: {
      settingId: { type: 'string', format: 'uuid' },
      odsCode,
      name: { type: 'string' },
      kind: { enum: Object.values(SettingKind) },
      prisonType: { anyOf: [{ enum: Object.values(PrisonType) }, { type: 'null' }] },
      createdAt: { type: 'string', format: 'date-time' },
    },
  },
  SettingList: {
    type: 'object',
    required: ['items', 'nextCursor', 'total'],
    properties: { items: { type: 'array', items: ref('Setting') }, nextCursor, total: { type: 'integer' } },
  },
  AddSettingRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['odsCode', 'name', 'kind'],
    properties: {
      odsCode,
      name: { type: 'string', minLength: 1, maxLength: 255 },
      kind: { enum: Object.values(SettingKind) },
      prisonType: { enum: Object.values(PrisonType), description: 'a prison’s establishment type; prisons only' },
    },
  },
  StaffListQuery: {
    type: 'object',
    additionalProperties: false,
    properties: {
      setting: { ...odsCode, description: 'only the staff of this setting (one you work in)' },
      duty: { ...duty, description: 'only the staff holding this duty' },
      active: { type: 'boolean', description: 'only active (true) or inactive (false) staff' },
      limit,
      cursor,
    },
  },
  StaffMember: {
    type: 'object',
    required: ['staffId', 'subject', 'name', 'duties', 'roles', 'settings', 'active'],
    properties: {
      staffId: { type: 'string', format: 'uuid' },
      subject: { type: 'string', description: 'the OIDC subject that signs in as them' },
      name: { type: 'string' },
      email: { anyOf: [{ type: 'string' }, { type: 'null' }] },
      duties: { type: 'array', items: { type: 'string' } },
      roles: { type: 'array', items: { enum: Object.values(StaffRole) } },
      settings: { type: 'array', items: odsCode },
      active: { type: 'boolean' },
      created: { type: 'boolean', description: 'after a change: true when they were added, false when updated' },
    },
  },
  StaffList: {
    type: 'object',
    required: ['items', 'nextCursor', 'total'],
    properties: { items: { type: 'array', items: ref('StaffMember') }, nextCursor, total: { type: 'integer' } },
  },
  StaffRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'email', 'settings'],
    description:
      'A member of staff, added, or updated when the subject is already in the directory (everything given replaces what it held; active again)',
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 255 },
      email: { type: 'string', format: 'email', maxLength: 320 },
      duties: { type: 'array', items: duty, maxItems: 32, default: [] },
      settings: { type: 'array', items: odsCode, minItems: 1, maxItems: 64, description: 'settings they work in' },
      roles: {
        type: 'array',
        items: { enum: Object.values(StaffRole) },
        maxItems: 5,
        description: 'default clinician',
      },
      subject: {
        type: 'string',
        minLength: 1,
        maxLength: 255,
        description: 'the OIDC subject that will sign in as them; default mailto:EMAIL',
      },
    },
  },
};
