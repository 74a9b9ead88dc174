/** JSON Schemas of the pathway heatmap (ops-heatmap.routes.ts), spread into SCHEMAS. */
import type { JsonSchema } from './schemas';

const count = (description: string) => ({ type: 'integer', minimum: 0, description }) as const;

export const OPS_HEATMAP_SCHEMAS: Record<string, JsonSchema> = {
  PathwayHeatmapQuery: {
    type: 'object',
    additionalProperties: false,
    properties: {
      failingAttempts: {
        type: 'integer',
        minimum: 1,
        maximum: 100,
        default: 3,
        description: 'attempts after which a retrying activity counts as failing',
      },
    },
  },
  PathwayHeatmap: {
    type: 'object',
    description:
      'Cases of one deployed version in the settings you work in, by the element they wait in: running, and of ' +
      'those overdue (a task past its due) and failing (an activity retrying past the threshold, an open incident, ' +
      'or a failed case). A case waiting in two elements counts in each, and once in the totals.',
    required: ['pathwayId', 'version', 'countedAt', 'totals', 'elements'],
    properties: {
      pathwayId: { type: 'string' },
      name: { type: 'string' },
      version: { type: 'integer' },
      countedAt: { type: 'string', format: 'date-time' },
      totals: {
        type: 'object',
        required: ['running', 'overdue', 'failing'],
        properties: {
          running: count('running cases of this version'),
          overdue: count('of those, overdue'),
          failing: count('failing cases of this version (failed ones included)'),
        },
      },
      elements: {
        type: 'array',
        description: 'every element of the version, busiest first',
        items: {
          type: 'object',
          required: ['elementId', 'kind', 'running', 'overdue', 'failing'],
          properties: {
            elementId: { type: 'string', description: 'the BPMN element id' },
            name: { type: 'string' },
            kind: { type: 'string', description: 'userTask, serviceTask, callActivity, intermediateCatchEvent, …' },
            running: count('running cases waiting here'),
            overdue: count('of those, overdue'),
            failing: count('failing cases here'),
          },
        },
      },
    },
  },
};
