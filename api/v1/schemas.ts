/**
 * The JSON Schemas (draft 2020-12) of the API's requests and responses: ajv validates requests with them,
 * and the OpenAPI document (openapi.ts) publishes the same objects under `components.schemas`.
 * Pathway forms are not copied here: they are referenced at `/api/v1/forms/{formId}.schema.json`.
 */
import { PATHWAY_DIFF_SCHEMAS } from './pathway-diff.schemas';
import { WORKLIST_STATUSES } from '../../engine/worklist';
import { CASE_RECORD_SCHEMAS } from './case-records.schemas';
import { CASE_TERMINATE_SCHEMAS } from './case-terminate.schemas';
import { DESIGNER_SCHEMAS } from './designer.schemas';
import { DIRECTORY_SCHEMAS } from './directory.schemas';
import { NOTE_ALERT_SCHEMAS } from './notes-alerts.schemas';
import { PATHWAY_SCHEMAS } from './pathways.schemas';
import { SIMULATION_SCHEMAS } from './simulations.schemas';
import { cursor, limit, nullable } from './paging.schemas';
import { WORKLIST_VIEW_SCHEMAS } from './worklist-views.schemas';
import { OPS_HEATMAP_SCHEMAS } from './ops-heatmap.schemas';
import { OPS_SCHEMAS } from './ops.schemas';
import { REPORT_SCHEMAS } from './reports.schemas';

export type JsonSchema = Record<string, unknown>;

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

const uuid = { type: 'string', format: 'uuid' } as const;
const odsCode = { type: 'string', pattern: '^[A-Z0-9]{3,16}$', description: 'ODS code of a setting' } as const;
const nhsNumber = {
  type: 'string',
  minLength: 1,
  maxLength: 20,
  description: 'NHS number (10 digits, spaces allowed as 3-3-4); the last digit is its Modulus 11 check digit',
} as const;
const instant = { type: 'string', format: 'date-time' } as const;
const taskId = {
  type: 'string',
  minLength: 1,
  maxLength: 255,
  description: 'worklist task id (URL-encode it: it holds / and #)',
} as const;

/** Every schema, by the name the OpenAPI document gives it. */
export const SCHEMAS: Record<string, JsonSchema> = {
  ...CASE_RECORD_SCHEMAS,
  ...PATHWAY_SCHEMAS,
  ...DESIGNER_SCHEMAS,
  ...SIMULATION_SCHEMAS,
  ...PATHWAY_DIFF_SCHEMAS,
  ...DIRECTORY_SCHEMAS,
  ...CASE_TERMINATE_SCHEMAS,
  ...NOTE_ALERT_SCHEMAS,
  ...WORKLIST_VIEW_SCHEMAS,
  ...OPS_HEATMAP_SCHEMAS,
  ...OPS_SCHEMAS,
  ...REPORT_SCHEMAS,
  Problem: {
    type: 'object',
    description: 'RFC 9457 problem details; `errors` names each bad field by JSON Pointer',
    required: ['type', 'title', 'status', 'detail'],
    properties: {
      type: { type: 'string' },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      instance: { type: 'string' },
      requestId: { type: 'string' },
      errors: {
        type: 'array',
        items: {
          type: 'object',
          required: ['pointer', 'detail'],
          properties: { pointer: { type: 'string' }, detail: { type: 'string' } },
        },
      },
    },
  },
  StartCaseRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['pathway', 'nhsNumber', 'settingOdsCode'],
    properties: {
      pathway: { type: 'string', minLength: 1, maxLength: 255, description: 'pathway (BPMN process) id' },
      version: { type: 'integer', minimum: 1, description: 'the latest deployed version when absent' },
      nhsNumber,
      settingOdsCode: odsCode,
      variables: {
        type: 'object',
        description:
          "start variables, checked against the pathway's start form (`/api/v1/forms/{pathway}-start.schema.json`)",
      },
    },
  },
  StartedCase: {
    type: 'object',
    required: ['caseId', 'pathwayId', 'version'],
    properties: {
      caseId: uuid,
      workflowId: { type: 'string' },
      pathwayId: { type: 'string' },
      version: { type: 'integer' },
    },
  },
  CaseListQuery: {
    type: 'object',
    additionalProperties: false,
    properties: {
      setting: odsCode,
      status: { enum: ['open', 'closed'] },
      pathway: { type: 'string', minLength: 1, maxLength: 255 },
      nhsNumber: { ...nhsNumber, description: 'only the cases of this person (a current or former NHS number)' },
      limit,
      cursor,
    },
  },
  CaseSummary: {
    type: 'object',
    properties: {
      caseId: uuid,
      pathwayId: { type: 'string' },
      pathwayVersion: { type: 'integer' },
      status: { enum: ['open', 'closed'] },
      settingOdsCode: odsCode,
      settings: { type: 'array', items: odsCode },
      patientId: uuid,
      nhsNumber: { type: 'string' },
      openedAt: instant,
      closedAt: nullable(instant),
      closeReason: nullable({ type: 'string' }),
    },
  },
  CasePage: {
    type: 'object',
    required: ['items', 'nextCursor'],
    properties: { items: { type: 'array', items: ref('CaseSummary') }, nextCursor: nullable({ type: 'string' }) },
  },
  CaseDetail: {
    type: 'object',
    description:
      'Where a case is. For ops, variables holding answers are withheld; for a restricted record, no address or contact details.',
    properties: {
      case: ref('CaseSummary'),
      executionStatus: { type: 'string' },
      pathwayStatus: { type: 'string' },
      failure: { type: 'object' },
      termination: { type: 'object' },
      flags: { type: 'array', items: { type: 'object' } },
      openTasks: { type: 'array', items: ref('Task') },
      plannedWork: { type: 'array', items: ref('Task') },
      pendingTimers: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            timerId: { type: 'string' },
            elementId: { type: 'string' },
            name: { type: 'string' },
            dueAt: instant,
          },
        },
      },
      waitingFor: { type: 'array', items: { type: 'object' } },
      incidents: { type: 'array', items: { type: 'object' } },
      variables: { type: 'object' },
      trail: { type: 'array', items: { type: 'object' } },
    },
  },
  CaseMessageRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 255 },
      correlationKey: { type: 'string', minLength: 1, maxLength: 255 },
      variables: { type: 'object' },
      timeToLive: { type: 'string', maxLength: 64, description: 'ISO 8601 duration, default P1D' },
    },
  },
  CaseMessageResult: { type: 'object' },
  TaskListQuery: {
    type: 'object',
    additionalProperties: false,
    properties: {
      assigned: { enum: ['me'] },
      candidateGroup: { type: 'string', minLength: 1, maxLength: 255 },
      unassigned: { type: 'boolean' },
      overdue: { type: 'boolean' },
      dueBefore: instant,
      dueAfter: instant,
      status: { enum: [...WORKLIST_STATUSES, 'any'], default: 'open' },
      setting: odsCode,
      caseId: uuid,
      pathway: { type: 'string', minLength: 1, maxLength: 255 },
      task: { type: 'string', minLength: 1, maxLength: 255, description: 'one task of the pathways (its element id)' },
      nhsNumber: { type: 'string', pattern: '^[0-9]{10}$', description: 'one person’s tasks (their NHS number)' },
      minPriority: {
        type: 'integer',
        minimum: 0,
        maximum: 100,
        description: 'tasks of this priority or higher (0 to 100: 70 and more is high, 90 and more urgent)',
      },
      sort: { enum: ['due', 'created'], default: 'due', description: 'soonest due first, or newest first' },
      limit,
      cursor,
    },
  },
  TaskCountQuery: {
    type: 'object',
    additionalProperties: false,
    properties: {
      overdue: { type: 'boolean' },
      dueBefore: instant,
      dueAfter: instant,
      setting: odsCode,
      pathway: { type: 'string', minLength: 1, maxLength: 255 },
      task: { type: 'string', minLength: 1, maxLength: 255 },
      nhsNumber: { type: 'string', pattern: '^[0-9]{10}$' },
      minPriority: {
        type: 'integer',
        minimum: 0,
        maximum: 100,
        description: 'tasks of this priority or higher (0 to 100: 70 and more is high, 90 and more urgent)',
      },
    },
  },
  TaskCounts: {
    type: 'object',
    properties: {
      all: { type: 'integer' },
      mine: { type: 'integer' },
      unassigned: { type: 'integer' },
      overdue: { type: 'integer' },
      groups: {
        type: 'array',
        items: { type: 'object', properties: { group: { type: 'string' }, count: { type: 'integer' } } },
      },
      tasks: {
        type: 'array',
        items: {
          type: 'object',
          properties: { elementId: { type: 'string' }, name: { type: 'string' }, count: { type: 'integer' } },
        },
      },
    },
  },
  Task: {
    type: 'object',
    properties: {
      taskId: { type: 'string' },
      caseId: uuid,
      elementId: { type: 'string' },
      name: { type: 'string' },
      formId: nullable({ type: 'string' }),
      status: { type: 'string' },
      assignee: nullable({ type: 'string' }),
      candidateGroups: { type: 'array', items: { type: 'string' } },
      dueAt: nullable(instant),
      overdue: { type: 'boolean' },
      priority: {
        type: 'integer',
        minimum: 0,
        maximum: 100,
        description: 'from the pathway’s user task (zeebe:priorityDefinition); 50 unless it set one',
      },
      pathwayId: { type: 'string' },
      nhsNumber: { type: 'string' },
      settingOdsCode: odsCode,
      settings: { type: 'array', items: odsCode },
    },
  },
  TaskPage: {
    type: 'object',
    required: ['items', 'nextCursor'],
    properties: { items: { type: 'array', items: ref('Task') }, nextCursor: nullable({ type: 'string' }) },
  },
  TaskDetail: {
    type: 'object',
    properties: {
      task: ref('Task'),
      form: nullable({
        type: 'object',
        properties: {
          formId: { type: 'string' },
          schema: { type: 'string', format: 'uri-reference', description: 'where its JSON Schema is served' },
        },
      }),
      draft: { ...nullable(ref('TaskDraft')), description: 'your saved draft of its answers while it is open' },
    },
  },
  CompleteTaskRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['data'],
    properties: {
      data: {
        type: 'object',
        description:
          "the answers, validated against the task's form (TaskDetail.form.schema, one of /api/v1/forms/{formId}.schema.json)",
      },
      completionId: {
        type: 'string',
        pattern: '^[A-Za-z0-9._:-]{1,128}$',
        description: 'or the Idempotency-Key header: the same id again answers with the first outcome',
      },
    },
  },
  TaskCompletion: {
    type: 'object',
    properties: {
      taskId: { type: 'string' },
      completedAt: instant,
      status: { type: 'string' },
      completionId: { type: 'string' },
      nextTasks: {
        type: 'array',
        items: ref('Task'),
        description:
          'the case’s open tasks once the steps the completion started have run (their wait is capped at 3 s: a ' +
          'step slowed by an unavailable service answers without the task it will open)',
      },
    },
  },
  AssignTaskRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['assignee'],
    properties: {
      assignee: { type: 'string', minLength: 1, maxLength: 255, description: 'the staff member’s subject' },
    },
  },
  AssigneeList: {
    type: 'object',
    properties: {
      items: {
        type: 'array',
        items: {
          type: 'object',
          properties: { subject: { type: 'string' }, name: { type: 'string' } },
        },
      },
    },
  },
  EmptyRequest: { type: 'object', additionalProperties: false, properties: {} },
  PatientBanner: {
    type: 'object',
    properties: {
      patientId: uuid,
      nhsNumber: { type: 'string' },
      name: nullable({ type: 'string' }),
      dateOfBirth: nullable({ type: 'string' }),
      restricted: { type: 'boolean' },
      alerts: { type: 'array', items: { type: 'object' } },
      flags: { type: 'array', items: { type: 'object' } },
    },
  },
  AccessLogQuery: { type: 'object', additionalProperties: false, properties: { limit } },
  AccessLog: {
    type: 'object',
    properties: {
      nhsNumber: { type: 'string' },
      entries: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            occurredAt: instant,
            actorId: { type: 'string' },
            actorRole: { type: 'string' },
            actorSubject: nullable({ type: 'string' }),
            action: { type: 'string' },
            operation: nullable({ type: 'string' }),
            entityType: { type: 'string' },
            entityId: { type: 'string' },
            settingOdsCode: nullable({ type: 'string' }),
            purpose: nullable({ type: 'string' }),
            requestId: nullable({ type: 'string' }),
          },
        },
      },
    },
  },
};

export const PARAMETER_SCHEMAS = {
  uuid,
  odsCode,
  nhsNumber,
  taskId,
  formId: { type: 'string', pattern: '^[a-z0-9-]{1,128}$' },
};

export { ref };
