/** JSON Schemas of ending a case early (case-terminate.routes.ts), spread into SCHEMAS. */
export const CASE_TERMINATE_SCHEMAS = {
  TerminateCaseRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['reason'],
    properties: {
      reason: {
        type: 'string',
        minLength: 1,
        maxLength: 2000,
        description: 'why the case ends here: kept with the case, its tasks and the audit trail',
      },
    },
  },
  TerminatedCase: {
    type: 'object',
    required: ['caseId', 'terminatedAt', 'reason', 'terminatedBy'],
    properties: {
      caseId: { type: 'string', format: 'uuid' },
      workflowId: { type: 'string' },
      terminatedAt: { type: 'string', format: 'date-time' },
      reason: { type: 'string' },
      terminatedBy: { type: 'string' },
    },
  },
};
