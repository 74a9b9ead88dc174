/** JSON Schemas of the designer's simulation operation (simulations.routes.ts), spread into SCHEMAS. */
import { SCENARIO_SCHEMA, SIMULATION_EVENT_KINDS } from '../../simulation';
import type { JsonSchema } from './schemas';

const instant = { type: 'string', format: 'date-time' } as const;
// The published scenario schema, as a part of the request (its `$schema` names the draft of a whole document).
const { $schema: _draft, ...scenario } = SCENARIO_SCHEMA as JsonSchema;

export const SIMULATION_SCHEMAS: Record<string, JsonSchema> = {
  SimulationRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['xml', 'scenario'],
    properties: {
      xml: {
        type: 'string',
        minLength: 1,
        maxLength: 1_000_000,
        description: 'the BPMN 2.0 XML to simulate (a draft)',
      },
      scenario: { ...scenario, description: 'what to do to it, step by step (simulation/README.md)' },
    },
  },
  SimulationReport: {
    type: 'object',
    required: ['pathwayId', 'passed', 'failures', 'events', 'simulatedFrom', 'simulatedTo', 'realMs'],
    properties: {
      pathwayId: { type: 'string' },
      passed: { type: 'boolean', description: 'every step ran and every expectation held' },
      failures: { type: 'array', items: { type: 'string' }, description: 'what did not hold, step by step' },
      events: {
        type: 'array',
        description: 'what fired when, in order of the simulated clock',
        items: {
          type: 'object',
          required: ['at', 'kind', 'text'],
          properties: {
            at: { ...instant, description: 'on the simulated clock' },
            kind: { enum: [...SIMULATION_EVENT_KINDS] },
            text: { type: 'string' },
            elementId: { type: 'string' },
            pathwayId: { type: 'string' },
            dueAt: instant,
            recipient: { type: 'string', description: 'as the local inbox wrote it, or the team of a team notice' },
            subject: { type: 'string' },
            noticeKind: { type: 'string' },
            passed: { type: 'boolean' },
          },
        },
      },
      simulatedFrom: instant,
      simulatedTo: instant,
      realMs: { type: 'integer', description: 'real time the run took, in milliseconds' },
    },
  },
};
