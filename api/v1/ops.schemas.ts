/** JSON Schemas of the ops console's operations (ops.routes.ts), spread into SCHEMAS. */
import { BULK_ACTIONS, MAX_BULK_CASES } from '../../engine/ops-bulk';
import { OPS_VIEWS } from '../../engine/ops-queries';
import { cursor, limit, nullable } from './paging.schemas';
import type { JsonSchema } from './schemas';

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const instant = { type: 'string', format: 'date-time' } as const;
const uuid = { type: 'string', format: 'uuid' } as const;
const odsCode = { type: 'string', pattern: '^[A-Z0-9]{3,16}$', description: 'ODS code of a setting' } as const;
const listFilter = {
  type: 'string',
  minLength: 1,
  maxLength: 2000,
  description:
    "a condition in Temporal's List Filter language over the cases' search attributes, e.g. " +
    "`PathwayId = 'sms-prison' AND FailingAttempts >= 5`; ANDed with the view and your settings",
} as const;
const duration = {
  type: 'string',
  pattern: '^[0-9]{1,4}[mhdw]$',
  description: 'minutes, hours, days or weeks, e.g. 14d',
};
const thresholds = {
  failingAttempts: { type: 'integer', minimum: 1, maximum: 1000, description: 'failing from this attempt (default 2)' },
  idleAfter: { ...duration, description: 'idle after this long without a move (default 14d)' },
  messageWaitAfter: { ...duration, description: 'waiting for a message longer than this (default 7d)' },
};
const workflowId = {
  type: 'string',
  minLength: 1,
  maxLength: 1000,
  description: "the case's workflow (`case-<id>`, the default) or one of its child pathways' (`case-<id>/...`)",
};
const bulkAction = { enum: [...BULK_ACTIONS] };
const reason = { type: 'string', minLength: 1, maxLength: 1000 };

export const OPS_SCHEMAS: Record<string, JsonSchema> = {
  OpsViewsQuery: { type: 'object', additionalProperties: false, properties: { ...thresholds } },
  OpsViewCounts: {
    type: 'object',
    required: ['counts', 'thresholds'],
    properties: {
      counts: { type: 'object', properties: Object.fromEntries(OPS_VIEWS.map((v) => [v, { type: 'integer' }])) },
      thresholds: { type: 'object', properties: thresholds },
    },
  },
  OpsCaseListQuery: {
    type: 'object',
    additionalProperties: false,
    properties: { view: { enum: [...OPS_VIEWS] }, query: listFilter, ...thresholds, limit, cursor },
  },
  OpsCase: {
    type: 'object',
    description: "A case's engine state and stuck signals: nothing about the person",
    properties: {
      caseId: { type: 'string' },
      workflowId: { type: 'string' },
      runId: { type: 'string' },
      status: { type: 'string' },
      startedAt: nullable(instant),
      closedAt: nullable(instant),
      pathwayId: nullable({ type: 'string' }),
      pathwayVersion: nullable({ type: 'integer' }),
      setting: nullable({ type: 'string' }),
      currentElements: { type: 'array', items: { type: 'string' } },
      waitingSince: nullable(instant),
      nextDueAt: nullable(instant),
      overdueFrom: nullable(instant),
      openTaskCount: { type: 'integer' },
      openIncidentCount: { type: 'integer' },
      failingAttempts: { type: 'integer' },
      lastErrorType: nullable({ type: 'string' }),
    },
  },
  OpsCasePage: {
    type: 'object',
    required: ['items', 'nextCursor', 'query'],
    properties: {
      items: { type: 'array', items: ref('OpsCase') },
      nextCursor: nullable({ type: 'string' }),
      query: { type: 'string', description: 'the full query run (your settings and the view included)' },
    },
  },
  OpsCaseQuery: { type: 'object', additionalProperties: false, properties: { workflow: workflowId } },
  OpsCaseDetail: {
    type: 'object',
    description: 'Where the case is, its pending activities, timers, incidents and journey; no clinical content',
    properties: {
      case: ref('OpsCase'),
      pendingActivities: { type: 'array', items: { type: 'object' } },
      historyLength: { type: 'integer' },
      state: { oneOf: [{ type: 'null' }, { type: 'object' }] },
      stateUnavailable: nullable({ type: 'string' }),
      journey: { type: 'object' },
    },
  },
  OpsHistoryQuery: { type: 'object', additionalProperties: false, properties: { workflow: workflowId, limit, cursor } },
  OpsHistoryPage: {
    type: 'object',
    required: ['items', 'nextCursor'],
    properties: {
      items: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            eventId: { type: 'integer' },
            time: nullable(instant),
            type: { type: 'string' },
            detail: nullable({ type: 'string' }),
          },
        },
      },
      nextCursor: nullable({ type: 'string' }),
    },
  },
  OpsRetryRequest: {
    type: 'object',
    additionalProperties: false,
    properties: {
      workflowId,
      activityId: {
        type: 'string',
        minLength: 1,
        maxLength: 255,
        description: 'only this activity (default: every failing one)',
      },
    },
  },
  OpsRetryResult: {
    type: 'object',
    required: ['workflowId', 'retried'],
    properties: { workflowId: { type: 'string' }, retried: { type: 'array', items: { type: 'string' } } },
  },
  OpsMessageRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    description: 'A message to deliver to the case (no variables: ops send no clinical content)',
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 255 },
      correlationKey: { type: 'string', minLength: 1, maxLength: 255, description: 'default: the case id' },
      timeToLive: { type: 'string', minLength: 1, maxLength: 64, description: 'ISO 8601 duration' },
    },
  },
  OpsCancelRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['reason'],
    properties: { reason },
  },
  OpsReassignRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['assignee'],
    properties: { assignee: { type: 'string', minLength: 1, maxLength: 255, description: "the person's subject" } },
  },
  OpsActionResult: {
    type: 'object',
    required: ['caseId', 'outcome'],
    properties: { caseId: { type: 'string' }, outcome: { type: 'string' }, detail: { type: 'object' } },
  },
  BulkPreviewRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['action'],
    description: `Freezes the cases a view and/or query match now (at most ${MAX_BULK_CASES}); apply acts on exactly those`,
    properties: { action: bulkAction, view: { enum: [...OPS_VIEWS] }, query: listFilter, reason, ...thresholds },
  },
  BulkOperation: {
    type: 'object',
    required: ['id', 'action', 'status', 'progress'],
    properties: {
      id: uuid,
      action: bulkAction,
      reason: nullable({ type: 'string' }),
      query: { type: 'string' },
      settings: { type: 'array', items: odsCode },
      createdBy: { type: 'string' },
      createdByName: nullable({ type: 'string' }),
      createdAt: instant,
      status: { enum: ['previewed', 'running', 'cancelled', 'completed'] },
      appliedBy: nullable({ type: 'string' }),
      appliedAt: nullable(instant),
      finishedAt: nullable(instant),
      progress: { type: 'object' },
      cases: { type: 'array', items: { type: 'object' } },
    },
  },
  BulkOperationList: {
    type: 'object',
    required: ['items'],
    properties: { items: { type: 'array', items: ref('BulkOperation') } },
  },
  OpsLogQuery: { type: 'object', additionalProperties: false, properties: { limit } },
  OpsLog: {
    type: 'object',
    required: ['items'],
    properties: { items: { type: 'array', items: { type: 'object' } } },
  },
  SaveOpsSearchRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'query', 'sharedSetting'],
    properties: { name: { type: 'string', minLength: 1, maxLength: 80 }, query: listFilter, sharedSetting: odsCode },
  },
  OpsSavedSearch: {
    type: 'object',
    properties: {
      id: uuid,
      name: { type: 'string' },
      query: { type: 'string' },
      sharedSetting: odsCode,
      createdByName: nullable({ type: 'string' }),
      createdAt: instant,
    },
  },
  OpsSavedSearchList: {
    type: 'object',
    required: ['items'],
    properties: { items: { type: 'array', items: ref('OpsSavedSearch') } },
  },
  MigrationRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['fromVersion', 'toVersion', 'dryRun'],
    description:
      'Move the running cases of one version (in your settings) to another version of the pathway. Every case is ' +
      'checked first; if any would lose an open task, timer or message wait, none moves.',
    properties: {
      fromVersion: { type: 'integer', minimum: 1 },
      toVersion: { type: 'integer', minimum: 1 },
      mapping: {
        type: 'object',
        maxProperties: 500,
        description: 'old element id → new element id, for elements renamed or replaced; others keep their id',
        additionalProperties: { type: 'string', minLength: 1, maxLength: 255 },
        propertyNames: { minLength: 1, maxLength: 255 },
      },
      dryRun: { type: 'boolean', description: 'true: only check each case and report what would move' },
    },
  },
  MigrationReport: {
    type: 'object',
    required: ['pathwayId', 'fromVersion', 'toVersion', 'dryRun', 'applied', 'cases'],
    properties: {
      pathwayId: { type: 'string' },
      fromVersion: { type: 'integer' },
      toVersion: { type: 'integer' },
      dryRun: { type: 'boolean' },
      applied: { type: 'boolean' },
      cases: { type: 'array', items: { type: 'object' } },
    },
  },
};
