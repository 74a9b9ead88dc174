/**
 * Incidents for ops: failures in cases' pathways that nothing in the pathway caught, each waiting at its element
 * for a person, with how it was resolved. Read from the incident record `raiseIncident` and `closeIncident`
 * write (store/entities/incident.entity.ts). An incident is resolved through its worklist task, whose id is the
 * incident's id: `throughcare task complete <id> --data '{"action":"retry"}'` (form `incident-resolution`).
 */
import { ValidationError } from '../domain/errors';
import type { Store } from '../store';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface IncidentSummary {
  /** `<workflow id>/<incident id>`: also the id of the worklist task that resolves it (`task complete` takes it). */
  readonly incidentId: string;
  readonly caseId: string;
  readonly workflowId: string;
  readonly processId: string;
  readonly elementId: string;
  readonly elementName: string | null;
  readonly kind: string;
  readonly taskType: string | null;
  readonly calledProcessId: string | null;
  readonly errorCode: string;
  readonly message: string;
  readonly attempts: number | null;
  readonly retryable: boolean | null;
  readonly raisedAt: string;
  /** `open` until a person retried or skipped it, or it was cancelled with its element (a terminated case). */
  readonly status: 'open' | 'retried' | 'skipped' | 'cancelled';
  readonly resolution: {
    readonly outcome: 'retried' | 'skipped' | 'cancelled';
    readonly reason: string | null;
    readonly correctedVariables: string[];
    readonly resolvedBy: string;
    readonly resolvedAt: string;
  } | null;
}

export interface IncidentFilter {
  readonly caseId?: string;
  /** Only the open ones (true) or only the resolved ones (false); all when absent. */
  readonly open?: boolean;
}

interface IncidentRow {
  id: string;
  case_id: string;
  workflow_id: string;
  process_id: string;
  element_id: string;
  element_name: string | null;
  kind: string;
  task_type: string | null;
  called_process_id: string | null;
  error_code: string;
  message: string;
  attempts: number | null;
  retryable: boolean | null;
  raised_at: Date;
  outcome: IncidentSummary['status'] | null;
  reason: string | null;
  corrected_variables: string[] | null;
  resolved_by: string | null;
  resolved_at: Date | null;
}

/** Incidents, oldest first, with their resolutions. */
export async function listIncidents(
  engine: { readonly store: Store },
  filter: IncidentFilter = {},
): Promise<IncidentSummary[]> {
  if (filter.caseId !== undefined && !UUID.test(filter.caseId))
    throw new ValidationError('The case id is not valid', [
      { pointer: '/caseId', detail: 'must be a case id (a UUID)' },
    ]);
  const knex = engine.store.orm.em.getConnection().getKnex();
  const query = knex('incidents as i')
    .leftJoin('incident_resolutions as r', 'r.incident_id', 'i.id')
    .select<IncidentRow[]>('i.*', 'r.outcome', 'r.reason', 'r.corrected_variables', 'r.resolved_by', 'r.resolved_at')
    .orderBy([
      { column: 'i.raised_at', order: 'asc' },
      { column: 'i.id', order: 'asc' },
    ]);
  if (filter.caseId) void query.where('i.case_id', filter.caseId);
  if (filter.open === true) void query.whereNull('r.id');
  if (filter.open === false) void query.whereNotNull('r.id');
  const rows = await query;
  return rows.map((row) => ({
    incidentId: row.id,
    caseId: row.case_id,
    workflowId: row.workflow_id,
    processId: row.process_id,
    elementId: row.element_id,
    elementName: row.element_name,
    kind: row.kind,
    taskType: row.task_type,
    calledProcessId: row.called_process_id,
    errorCode: row.error_code,
    message: row.message,
    attempts: row.attempts,
    retryable: row.retryable,
    raisedAt: new Date(row.raised_at).toISOString(),
    status: row.outcome ?? 'open',
    resolution:
      row.outcome && row.resolved_by && row.resolved_at
        ? {
            outcome: row.outcome as 'retried' | 'skipped' | 'cancelled',
            reason: row.reason,
            correctedVariables: row.corrected_variables ?? [],
            resolvedBy: row.resolved_by,
            resolvedAt: new Date(row.resolved_at).toISOString(),
          }
        : null,
  }));
}
