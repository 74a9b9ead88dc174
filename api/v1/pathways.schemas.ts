/** JSON Schemas of the pathway operations (pathways.routes.ts), spread into SCHEMAS. */
import { CHANGE_NOTE_MAX } from '../../engine/pathway-drafts';
import { cursor, limit, nextCursor } from './paging.schemas';
import type { JsonSchema } from './schemas';

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const instant = { type: 'string', format: 'date-time' } as const;

/** A BPMN process id, as the pathway's XML names it (`sms-prison`, `CustodyReception`). */
export const pathwayIdParam = { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_.-]{0,254}$' } as const;
/** A version number, or `latest`. */
export const versionParam = {
  type: 'string',
  pattern: '^([1-9][0-9]{0,8}|latest)$',
  description: 'a version number, or latest',
} as const;

export const bpmnXml = { type: 'string', minLength: 1, maxLength: 1_000_000 } as const;
/** Why a version is made: recorded with it. */
export const changeNote = {
  type: 'string',
  minLength: 1,
  maxLength: CHANGE_NOTE_MAX,
  pattern: '\\S',
  description: 'why this version is made, recorded with it',
} as const;

export const finding = {
  type: 'object',
  required: ['id', 'rule', 'severity', 'message', 'fix'],
  properties: {
    id: { type: 'string', description: 'the BPMN element the finding is about' },
    name: { type: 'string' },
    rule: { type: 'string' },
    severity: { enum: ['error', 'warning'] },
    message: { type: 'string' },
    fix: { type: 'string', description: 'how to fix it, in the modeller’s terms' },
  },
} as const;

export const PATHWAY_SCHEMAS: Record<string, JsonSchema> = {
  PathwayListQuery: {
    type: 'object',
    additionalProperties: false,
    properties: { pathway: { ...pathwayIdParam, description: 'only this pathway' }, limit, cursor },
  },
  PathwayVersionSummary: {
    type: 'object',
    required: ['pathwayId', 'version', 'checksum', 'deployedBy', 'deployedAt'],
    properties: {
      pathwayId: { type: 'string' },
      name: { type: 'string' },
      version: { type: 'integer' },
      checksum: { type: 'string', description: 'SHA-256 of the BPMN XML' },
      deployedBy: { type: 'string' },
      deployedAt: instant,
      changeNote: { type: ['string', 'null'], description: 'why the version was made, as its publisher wrote it' },
    },
  },
  PathwayList: {
    type: 'object',
    required: ['items', 'nextCursor', 'total'],
    properties: {
      items: {
        type: 'array',
        items: {
          type: 'object',
          required: ['pathwayId', 'latestVersion', 'versions'],
          properties: {
            pathwayId: { type: 'string' },
            name: { type: 'string' },
            latestVersion: { type: 'integer' },
            versions: { type: 'array', items: ref('PathwayVersionSummary'), description: 'newest first' },
          },
        },
      },
      nextCursor,
      total: { type: 'integer', description: 'how many pathways' },
    },
  },
  PathwayVersion: {
    type: 'object',
    description:
      'One deployed version: its start variables (from its start form), user tasks and their forms, timers, and the messages it can catch',
    properties: {
      pathwayId: { type: 'string' },
      name: { type: 'string' },
      version: { type: 'integer' },
      checksum: { type: 'string' },
      deployedBy: { type: 'string' },
      deployedAt: instant,
      startFormId: { anyOf: [{ type: 'string' }, { type: 'null' }] },
      startFormInstalled: { type: 'boolean' },
      startVariables: { type: 'array', items: { type: 'object' } },
      userTasks: { type: 'array', items: { type: 'object' } },
      timers: { type: 'array', items: { type: 'object' } },
      messages: { type: 'array', items: { type: 'object' } },
    },
  },
  BpmnXml: { type: 'string', description: 'BPMN 2.0 XML, as deployed' },
  BpmnSource: {
    type: 'object',
    additionalProperties: false,
    required: ['xml'],
    description: 'the BPMN 2.0 XML: sent as the body itself (application/xml), or as {"xml": "..."}',
    properties: { xml: bpmnXml },
  },
  DeploySource: {
    type: 'object',
    additionalProperties: false,
    required: ['xml'],
    description:
      'the BPMN 2.0 XML: sent as the body itself (application/xml), or as {"xml": "...", "changeNote": "..."}',
    properties: { xml: bpmnXml, changeNote },
  },
  LintReport: {
    type: 'object',
    required: ['pathwayId', 'errors', 'warnings', 'findings'],
    properties: {
      pathwayId: { type: 'string' },
      errors: { type: 'integer', description: 'findings that would refuse a deployment' },
      warnings: { type: 'integer' },
      findings: { type: 'array', items: finding },
    },
  },
  DeployedPathway: {
    type: 'object',
    required: ['pathwayId', 'version', 'created', 'findings'],
    properties: {
      pathwayId: { type: 'string' },
      name: { type: 'string' },
      version: { type: 'integer' },
      checksum: { type: 'string' },
      deployedBy: { type: 'string' },
      deployedAt: instant,
      created: { type: 'boolean', description: 'false (and status 200) when this XML was already deployed' },
      findings: { type: 'array', items: finding, description: 'warnings (errors refuse the deployment)' },
    },
  },
};
