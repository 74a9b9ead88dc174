/** JSON Schemas of the pathway designer's operations (designer.routes.ts), spread into SCHEMAS. */
import { bpmnXml, changeNote, finding, pathwayIdParam } from './pathways.schemas';
import type { JsonSchema } from './schemas';

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const instant = { type: 'string', format: 'date-time' } as const;
const revision = {
  type: 'integer',
  minimum: 1,
  maximum: 2_147_483_647,
  description: 'the revision this change is made to: refused (409) when someone saved the draft since',
} as const;
const draftName = { type: 'string', minLength: 1, maxLength: 255, pattern: '\\S' } as const;
/** An installed form's id, as its file is named (`sms-review`). */
export const formIdParam = { type: 'string', pattern: '^[a-z0-9-]{1,128}$' } as const;
const formId = formIdParam;

/** The query of a discard: optionally the revision, so that a draft saved since is not discarded unseen. */
export const DISCARD_QUERY = 'PathwayDraftDiscardQuery';

const draftSummaryProperties = {
  draftId: { type: 'string', format: 'uuid' },
  pathwayId: { type: 'string', description: 'the BPMN process id in its XML' },
  name: { type: 'string' },
  basedOnVersion: { type: ['integer', 'null'], description: 'the deployed version it was started from' },
  revision: { type: 'integer', description: 'send it back with a save or a publish' },
  createdAt: instant,
  createdBy: { type: 'string' },
  updatedAt: instant,
  updatedBy: { type: 'string' },
} as const;
const draftSummaryRequired = Object.keys(draftSummaryProperties);

export const DESIGNER_SCHEMAS: Record<string, JsonSchema> = {
  PathwayDraftCreate: {
    type: 'object',
    additionalProperties: false,
    description: 'a new draft from BPMN XML (a file), or from a deployed version: {"pathwayId", "version"}',
    properties: {
      xml: bpmnXml,
      pathwayId: pathwayIdParam,
      version: { type: 'integer', minimum: 1, maximum: 999_999_999 },
      name: { ...draftName, description: 'what to call the draft (default: the process name in the XML)' },
    },
    dependentRequired: { pathwayId: ['version'], version: ['pathwayId'] },
    if: { not: { required: ['pathwayId'] } },
    then: { required: ['xml'] },
  },
  PathwayDraftSave: {
    type: 'object',
    additionalProperties: false,
    required: ['xml', 'revision'],
    properties: { xml: bpmnXml, revision, name: draftName },
  },
  PathwayDraftPublish: {
    type: 'object',
    additionalProperties: false,
    required: ['changeNote'],
    properties: { changeNote, revision },
  },
  [DISCARD_QUERY]: {
    type: 'object',
    additionalProperties: false,
    properties: { revision },
  },
  PathwayDraftSummary: { type: 'object', required: draftSummaryRequired, properties: draftSummaryProperties },
  PathwayDraftList: {
    type: 'object',
    required: ['items'],
    properties: { items: { type: 'array', items: ref('PathwayDraftSummary'), description: 'last saved first' } },
  },
  PathwayDraft: {
    type: 'object',
    required: [...draftSummaryRequired, 'xml', 'findings', 'latestVersion'],
    properties: {
      ...draftSummaryProperties,
      xml: { type: 'string' },
      findings: { type: 'array', items: finding, description: 'lint findings now: errors would refuse publishing' },
      latestVersion: {
        type: ['integer', 'null'],
        description: 'the newest deployed version of the pathway: above basedOnVersion, someone published since',
      },
    },
  },
  PublishedPathway: {
    type: 'object',
    required: ['pathwayId', 'version', 'deployedBy', 'deployedAt', 'changeNote', 'draftRemoved'],
    properties: {
      pathwayId: { type: 'string' },
      name: { type: 'string' },
      version: { type: 'integer' },
      checksum: { type: 'string' },
      deployedBy: { type: 'string' },
      deployedAt: instant,
      changeNote: { type: 'string' },
      created: { type: 'boolean' },
      findings: { type: 'array', items: finding, description: 'warnings (errors refuse publishing)' },
      draftRemoved: {
        type: 'boolean',
        description: 'false when the draft was saved again while being published: it is kept, with the newer work',
      },
    },
  },
  PathwayVersionHistory: {
    type: 'object',
    required: ['items'],
    properties: {
      items: {
        type: 'array',
        description: 'newest first',
        // A version as the pathways API describes it, with who published it by name and how many cases run it.
        items: {
          allOf: [
            ref('PathwayVersionSummary'),
            {
              type: 'object',
              required: ['deployedByName', 'changeNote', 'runningCases'],
              properties: {
                deployedByName: { type: ['string', 'null'], description: 'their name in the staff directory' },
                runningCases: {
                  type: 'integer',
                  description: 'cases running this version now, across the installation (a count, never which)',
                },
              },
            },
          ],
        },
      },
    },
  },
  InstalledFormList: {
    type: 'object',
    required: ['items'],
    properties: { items: { type: 'array', items: ref('InstalledForm') } },
  },
  InstalledForm: {
    type: 'object',
    required: ['formId', 'title', 'usedBy'],
    properties: {
      formId,
      title: { type: 'string' },
      usedBy: {
        type: 'array',
        description: 'the latest version of each deployed pathway showing it: its user tasks, or its start event',
        items: {
          type: 'object',
          required: ['pathwayId', 'version', 'elementIds'],
          properties: {
            pathwayId: { type: 'string' },
            version: { type: 'integer' },
            elementIds: { type: 'array', items: { type: 'string' } },
          },
        },
      },
    },
  },
  InstalledFormDetail: {
    type: 'object',
    required: ['formId', 'title', 'usedBy', 'schema', 'examples'],
    properties: {
      formId,
      title: { type: 'string' },
      usedBy: { type: 'array', items: { type: 'object' } },
      schema: { type: 'object', description: 'its JSON Schema (draft 2020-12)' },
      examples: {
        type: 'array',
        description: 'the valid example submission, then each invalid one with the field it is refused on',
        items: {
          type: 'object',
          required: ['name', 'valid', 'submission'],
          properties: {
            name: { type: 'string' },
            valid: { type: 'boolean' },
            field: { type: 'string' },
            detail: { type: 'string', description: 'the message expected, when not the field’s own' },
            submission: { type: 'object' },
          },
        },
      },
    },
  },
  FormPreviewRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['schema'],
    properties: {
      schema: { type: 'object', description: 'a form’s JSON Schema (draft 2020-12), as it would be installed' },
      submission: { description: 'answers to check against it, as a task completion’s `data`' },
    },
  },
  FormPreview: {
    type: 'object',
    required: ['valid', 'problems', 'html'],
    properties: {
      valid: {
        type: 'boolean',
        description: 'the schema keeps the forms’ conventions and the submission (when sent) passes it',
      },
      problems: {
        type: 'array',
        description: 'at /schema/... a convention broken, at /submission/... an answer refused, as a clinician is told',
        items: {
          type: 'object',
          required: ['pointer', 'detail'],
          properties: { pointer: { type: 'string' }, detail: { type: 'string' } },
        },
      },
      html: { type: 'string', description: 'the form as the worklist’s task page renders it (NHS.UK components)' },
    },
  },
};
