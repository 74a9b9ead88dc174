/** JSON Schemas of the reports (reports.routes.ts), spread into SCHEMAS. */
import { CASELOAD_GROUPINGS, MAX_LIST_LIMIT, UPCOMING_WINDOWS } from '../../engine/reports';
import { pathwayIdParam } from './pathways.schemas';
import type { JsonSchema } from './schemas';

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const date = (description: string) => ({ type: 'string', format: 'date', description }) as const;

/** The filters every report takes. */
const scopeFilters = {
  setting: {
    type: 'string',
    pattern: '^[A-Z0-9]{3,16}(,[A-Z0-9]{3,16}){0,49}$',
    description: 'ODS codes of settings you work in, separated by commas; all of yours when absent',
  },
  pathway: { ...pathwayIdParam, description: "only cases of this pathway (the case's own: journey, sms-prison...)" },
  format: {
    enum: ['json', 'csv'],
    description: 'csv for RFC 4180 CSV (as `Accept: text/csv` asks); json by default',
  },
} as const;
const dateRange = {
  from: date('first London date counted, inclusive (default: twelve weeks or months before `to`)'),
  to: date('last London date counted, inclusive (default: today in London)'),
};
const limit = {
  type: 'integer',
  minimum: 1,
  maximum: MAX_LIST_LIMIT,
  description: 'rows at most (1000 by default); `truncated` says whether more matched',
};

const query = (properties: Record<string, unknown>): JsonSchema => ({
  type: 'object',
  additionalProperties: false,
  properties: { ...scopeFilters, ...properties },
});

const figure = {
  type: 'object',
  description: 'a figure of an aggregate report: null and suppressed when small (shown as "< 5")',
  required: ['value', 'suppressed'],
  properties: { value: { type: ['number', 'null'] }, suppressed: { type: 'boolean' } },
} as const;

const reportProperties = {
  report: { type: 'string' },
  title: { type: 'string' },
  generatedAt: { type: 'string', format: 'date-time' },
  filters: {
    type: 'object',
    description: 'the filters as applied: London dates, the settings within your scope, the pathway',
    required: ['from', 'to', 'settings', 'pathwayId', 'timeZone'],
    properties: {
      from: { type: ['string', 'null'] },
      to: { type: ['string', 'null'] },
      settings: { type: 'array', items: { type: 'string' } },
      pathwayId: { type: ['string', 'null'] },
      timeZone: { const: 'Europe/London' },
    },
  },
  identifiable: { type: 'boolean', description: 'whether its rows name people (and so were audited)' },
  columns: {
    type: 'array',
    description: 'the columns of a table of the rows, in order',
    items: {
      type: 'object',
      required: ['key', 'label', 'kind'],
      properties: {
        key: { type: 'string' },
        label: { type: 'string' },
        kind: { enum: ['text', 'date', 'instant', 'count', 'share', 'mean', 'boolean'] },
      },
    },
  },
  rows: {
    type: 'array',
    items: {
      type: 'object',
      additionalProperties: { anyOf: [{ type: ['string', 'number', 'boolean', 'null'] }, ref('ReportFigure')] },
    },
  },
  suppressedCount: { type: 'integer', minimum: 0 },
  truncated: { type: 'boolean' },
  notes: { type: 'array', items: { type: 'string' } },
} as const;
const reportRequired = [
  'report',
  'title',
  'generatedAt',
  'filters',
  'identifiable',
  'columns',
  'rows',
  'suppressedCount',
  'truncated',
  'notes',
];

export const REPORT_SCHEMAS: Record<string, JsonSchema> = {
  CaseloadReportQuery: query({
    by: { enum: [...CASELOAD_GROUPINGS], description: 'per setting (default), team or keyworker' },
  }),
  UpcomingReviewsQuery: query({
    within: {
      type: 'integer',
      enum: [...UPCOMING_WINDOWS],
      description: 'days: due by the end of the London day this many days from today (28 by default)',
    },
    limit,
  }),
  CurrentReportQuery: query({}),
  DatedReportQuery: query(dateRange),
  DatedListQuery: query({ ...dateRange, limit }),
  NdtmsExtractQuery: query({
    month: {
      type: 'string',
      pattern: '^[0-9]{4}-(0[1-9]|1[0-2])$',
      description: 'YYYY-MM; the last full month by default',
    },
  }),
  ReportFigure: figure,
  Report: {
    type: 'object',
    description:
      'A report: its rows, the columns to show them in, when it was made and with what filters; outcome reports ' +
      'hold figures, suppressed where small (counts 1 to 4, and what they could be worked out from).',
    required: reportRequired,
    properties: reportProperties,
  },
  NdtmsExtract: {
    type: 'object',
    description:
      'One row per treatment episode active in the month, of people with NDTMS consent; those without are counted.',
    required: [...reportRequired, 'month', 'excludedNoConsent'],
    properties: {
      ...reportProperties,
      month: { type: 'string' },
      excludedNoConsent: { type: 'integer', minimum: 0 },
    },
  },
};
