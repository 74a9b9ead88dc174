/** JSON Schemas of the saved worklist views (worklist-views.routes.ts), spread into SCHEMAS. */
import { WORKLIST_VIEW_PARAMETERS, WORKLIST_VIEW_VALUE_MAX } from '../../engine/worklist-views';
import { nullable } from './paging.schemas';
import type { JsonSchema } from './schemas';

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const odsCode = { type: 'string', pattern: '^[A-Z0-9]{3,16}$', description: 'ODS code of a setting' } as const;

/** The worklist's query string (`/worklist?...`) as a view keeps it: its known parameters, as text. */
const worklistQuery: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  description:
    'the worklist page’s query parameters (view, group, setting, pathway, task, patient, due, overdue, priority, sort); ' +
    'a view shared with a setting may not hold `patient` (an NHS number)',
  properties: Object.fromEntries(
    WORKLIST_VIEW_PARAMETERS.map((name) => [name, { type: 'string', maxLength: WORKLIST_VIEW_VALUE_MAX }]),
  ),
};

export const WORKLIST_VIEW_SCHEMAS: Record<string, JsonSchema> = {
  SaveWorklistViewRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'query'],
    description: 'A view of yours: saving a name you already have replaces its query and sharing',
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 255, description: '1 to 80 characters, once trimmed' },
      query: worklistQuery,
      sharedSetting: {
        ...nullable(odsCode),
        description: 'share it with everyone working in this setting (one you work in); null or absent: only you',
      },
    },
  },
  WorklistView: {
    type: 'object',
    required: ['viewId', 'name', 'query', 'sharedSetting', 'ownerName', 'mine', 'createdAt'],
    properties: {
      viewId: { type: 'string', format: 'uuid' },
      name: { type: 'string' },
      query: { type: 'object', additionalProperties: { type: 'string' } },
      sharedSetting: nullable(odsCode),
      ownerName: nullable({ type: 'string' }),
      mine: { type: 'boolean', description: 'yours (you may delete it), not shared with you by someone else' },
      createdAt: { type: 'string', format: 'date-time' },
      created: { type: 'boolean', description: 'after a save: true when it was new, false when it replaced yours' },
    },
  },
  WorklistViewList: {
    type: 'object',
    required: ['items'],
    properties: { items: { type: 'array', items: ref('WorklistView') } },
  },
};
