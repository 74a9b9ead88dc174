/**
 * Wires List/CountWorkflowExecutions and the OperatorService search-attribute calls to the visibility module
 * (owned by another helper, see CONTRACT). Until that module exists these calls answer UNIMPLEMENTED.
 */
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { VisibilityHooks } from './workflow-service';

export async function createVisibility(pool: Pool, schema: string, logger: Logger): Promise<VisibilityHooks | undefined> {
  void pool;
  void schema;
  void logger;
  return undefined;
}
