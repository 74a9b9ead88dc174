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
  InstalledFormVersion: {
    type: 'object',
    description: 'one version of a form, without its schema',
    required: ['formId', 'version', 'title', 'digest', 'source', 'installedBy', 'installedAt', 'changeNote'],
    properties: {
      formId,
      version: { type: 'integer', minimum: 1 },
      title: { type: 'string' },
      digest: {
        type: 'string',
        description: 'what an assessment’s formVersion records for answers checked against it',
      },
      source: {
        enum: ['shipped', 'designer'],
        description: 'shipped with the release, or installed from the designer',
      },
      installedBy: { type: 'string', description: 'OIDC subject of who installed it (`throughcare` when shipped)' },
      installedAt: { type: 'string', format: 'date-time' },
      changeNote: { type: ['string', 'null'] },
    },
  },
  InstalledForm: {
    type: 'object',
    description: 'the latest version of a form, and where the deployed pathways show it',
    allOf: [ref('InstalledFormVersion')],
    required: ['usedBy'],
    properties: {
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
    allOf: [ref('InstalledForm')],
    required: ['schema', 'examples', 'versions'],
    properties: {
      versions: { type: 'array', description: 'every version, newest first', items: ref('InstalledFormVersion') },
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
  FormInstallRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['formId', 'schema', 'examples', 'changeNote'],
    properties: {
      formId: { ...formId, description: 'a new form’s id, or the form a new version is of' },
      schema: {
        type: 'object',
        description: 'its JSON Schema (draft 2020-12), keeping the forms’ conventions, `$id` naming the form',
      },
      examples: {
        type: 'object',
        additionalProperties: false,
        required: ['valid'],
        properties: {
          valid: { type: 'object', description: 'a submission the form must accept' },
          invalid: {
            type: 'array',
            maxItems: 100,
            description: 'submissions it must refuse: the valid one with answers `set` or `unset`, refused on `field`',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['name', 'field'],
              properties: {
                name: { type: 'string', minLength: 1, maxLength: 200 },
                field: { type: 'string', minLength: 1, maxLength: 200 },
                detail: { type: 'string', maxLength: 2000 },
                set: { type: 'object' },
                unset: { type: 'array', items: { type: 'string' }, maxItems: 100 },
              },
            },
          },
        },
      },
      changeNote: { type: 'string', minLength: 1, maxLength: 2000, description: 'what changed and why' },
      basedOnVersion: {
        type: 'integer',
        minimum: 1,
        description: 'the version changed (absent for a new form): a later version installed since is a conflict',
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
