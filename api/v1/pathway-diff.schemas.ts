/** JSON Schemas of the version diff (pathway-diff.routes.ts), spread into SCHEMAS. */
import type { JsonSchema } from './schemas';

const version = { type: 'integer', minimum: 1, maximum: 999_999_999 } as const;
const change = {
  type: 'object',
  required: ['id', 'type'],
  properties: {
    id: { type: 'string' },
    type: { type: 'string', description: 'the BPMN type without its prefix: UserTask, SequenceFlow' },
    name: { type: 'string' },
    properties: { type: 'array', items: { type: 'string' }, description: 'for a changed element: what changed' },
  },
} as const;
const changes = { type: 'array', items: change } as const;

export const PATHWAY_DIFF_SCHEMAS: Record<string, JsonSchema> = {
  PathwayDiffQuery: {
    type: 'object',
    additionalProperties: false,
    required: ['from', 'to'],
    properties: {
      from: { ...version, description: 'the older version' },
      to: { ...version, description: 'the newer version' },
    },
  },
  PathwayDiff: {
    type: 'object',
    required: ['pathwayId', 'from', 'to', 'added', 'removed', 'changed', 'layoutChanged'],
    properties: {
      pathwayId: { type: 'string' },
      from: version,
      to: version,
      added: changes,
      removed: changes,
      changed: changes,
      layoutChanged: { ...changes, description: 'moved or resized in the diagram only' },
    },
  },
};
