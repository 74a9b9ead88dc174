/**
 * The few primitives every record-keeping activity is built from: a transaction, an insert that does nothing
 * when its idempotency key is already there, the subject (person, case) a write is about, and the audit
 * event that goes with every write of a person's record, in the same transaction.
 */
import { randomUUID } from 'node:crypto';
import { type Knex } from '@mikro-orm/knex';
import { type Store } from '../../store';
import { InvalidInputError, NotFoundError } from '../errors';

export type Trx = Knex.Transaction;

/** Who is acting and why: a clinician through the API, or `system:<component>` for a workflow's own step. */
export interface Actor {
  id: string;
  role: string;
  /** Why the record is being written or read, as audit wants it (`completed 5-day review`). */
  reason?: string;
  /** The HTTP request or workflow run that led here, to follow one action across logs and audit. */
  requestId?: string;
  /** A person's OIDC subject, when a person acted (through the API, or by completing the task that led here). */
  subject?: string;
  /** The setting through which the policy allowed the person to act. */
  settingOdsCode?: string;
  /** The API operation, as the policy names it (`note.create`, `task.complete`). */
  operation?: string;
  /** HL7 v3 PurposeOfUse the policy allowed it for (`TREAT`), unless an entry says otherwise. */
  purpose?: string;
}

export type AuditAction = 'read' | 'create' | 'update';

export function runInTransaction<T>(store: Store, work: (trx: Trx) => Promise<T>): Promise<T> {
  return store.orm.em.getConnection().getKnex().transaction(work);
}

/**
 * `insert ... on conflict (<key>) do nothing`: true when the row was written now, false when a row with the
 * same key was already there (a retried activity). Other unique constraints still raise.
 */
export async function insertIfAbsent(
  trx: Trx,
  table: string,
  row: Record<string, unknown>,
  conflictColumn = 'id',
): Promise<boolean> {
  const inserted = await trx(table).insert(row).onConflict(conflictColumn).ignore().returning(conflictColumn);
  return inserted.length > 0;
}

export interface Subject {
  patientId: string;
  caseId: string | null;
}

/** The person (and case) a write is about: from the case when one is given, else the patient id. */
export async function resolveSubject(trx: Trx, ref: { caseId?: string; patientId?: string }): Promise<Subject> {
  if (ref.caseId) {
    const row = await trx('cases').where({ id: ref.caseId }).first<{ patient_id: string } | undefined>('patient_id');
    if (!row) throw new NotFoundError('case', ref.caseId);
    if (ref.patientId && ref.patientId !== row.patient_id) {
      throw new InvalidInputError(`case ${ref.caseId} is not about patient ${ref.patientId}`);
    }
    return { patientId: row.patient_id, caseId: ref.caseId };
  }
  if (ref.patientId) {
    const row = await trx('patients').where({ id: ref.patientId }).first<{ id: string } | undefined>('id');
    if (!row) throw new NotFoundError('patient', ref.patientId);
    return { patientId: ref.patientId, caseId: null };
  }
  throw new InvalidInputError('either caseId or patientId is required');
}

export interface AuditEntry {
  action: AuditAction;
  entityType: string;
  entityId: string;
  patientId: string | null;
  /** Overrides the actor's reason for this entry. */
  reason?: string;
  /** HL7 v3 PurposeOfUse of an access (`TREAT`, `ETREAT` for emergency access without recorded permission). */
  purpose?: string;
  /** Set by writeAuditEvent, whose caller chooses the id; random otherwise (the write it audits is the key). */
  id?: string;
  occurredAt?: string;
}

/** Returns true when written (false only when a caller-chosen id was already there). */
export function writeAudit(trx: Trx, actor: Actor, entry: AuditEntry): Promise<boolean> {
  return insertIfAbsent(trx, 'audit_events', {
    id: entry.id ?? randomUUID(),
    actor_id: actor.id,
    actor_role: actor.role,
    action: entry.action,
    entity_type: entry.entityType,
    entity_id: entry.entityId,
    patient_id: entry.patientId,
    reason: entry.reason ?? actor.reason ?? null,
    request_id: actor.requestId ?? null,
    purpose: entry.purpose ?? actor.purpose ?? null,
    actor_subject: actor.subject ?? null,
    setting_ods_code: actor.settingOdsCode ?? null,
    operation: actor.operation ?? null,
    ...(entry.occurredAt ? { occurred_at: entry.occurredAt } : {}),
  });
}

/** Parses an ISO 8601 timestamp from an activity input (Temporal payloads carry dates as strings). */
export function parseInstant(value: string | undefined, field: string): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new InvalidInputError(`${field} is not an ISO 8601 timestamp`);
  return date;
}

/** The unique constraint a PostgreSQL error names, if it is a unique violation. */
export function violatedUniqueConstraint(error: unknown): string | undefined {
  const e = error as { code?: unknown; constraint?: unknown } | undefined;
  return e?.code === '23505' && typeof e.constraint === 'string' ? e.constraint : undefined;
}
