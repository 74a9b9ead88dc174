/**
 * What the notes and alerts services share: who writes to a person's record through the API (as its audit events
 * name them), the settings a person's record belongs to (which scopes who may see it), and the one translation of
 * the record activities' refusals into Throughcare's errors.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors';
import type { Actor } from '../activities/records';
import type { Store } from '../store';
import { knexOf } from './case-settings';
import { decodeCursor } from './paging';

/** A person writing to the record: their staff id, role, subject, and the request, setting and purpose for audit. */
export interface RecordWriter {
  readonly id: string;
  readonly role: string;
  readonly subject: string;
  readonly requestId?: string;
  readonly settingOdsCode?: string;
  readonly purpose?: string;
}

/** The audit actor of a write, with the operation as the policy names it. */
export function actorFor(writer: RecordWriter, operation: string, reason?: string): Actor {
  return {
    id: writer.id,
    role: writer.role,
    subject: writer.subject,
    operation,
    ...(reason ? { reason } : {}),
    ...(writer.requestId ? { requestId: writer.requestId } : {}),
    ...(writer.settingOdsCode ? { settingOdsCode: writer.settingOdsCode } : {}),
    ...(writer.purpose ? { purpose: writer.purpose } : {}),
  };
}

/** The ODS codes of the settings a person's cases belong to: what a record about the person (not a case) is of. */
export async function settingsOfPatient(store: Store, patientId: string): Promise<string[]> {
  const rows = await knexOf(store)('cases as c')
    .join('case_settings as cs', 'cs.case_id', 'c.id')
    .join('settings as s', 's.id', 'cs.setting_id')
    .where('c.patient_id', patientId)
    .distinct<{ ods_code: string }[]>('s.ods_code');
  return rows.map((r) => r.ods_code).sort();
}

/** The record activities refuse with typed ApplicationFailures: a state that does not allow it is a conflict. */
export function fromRecordFailure(error: unknown): never {
  if (error instanceof ApplicationFailure) {
    if (error.type === 'INVALID_STATE' || error.type === 'RECORD_REFUSED')
      throw new ConflictError(error.message, { cause: error });
    if (error.type === 'NOT_FOUND') throw new NotFoundError(error.message);
  }
  throw error;
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An instant as PostgreSQL's to_json writes it (microseconds, offset): the sort key of a newest-first cursor. */
const INSTANT_KEY =
  /^(?!0000)(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?(Z|[+-](0\d|1[0-5]):[0-5]\d)$/;

/**
 * The [instant, id] a newest-first cursor holds, checked so that the database is only ever given a real instant
 * and uuid (JavaScript takes 31 February for 3 March; PostgreSQL refuses it): anything else is a problem at
 * `/cursor`, never a failed query.
 */
export function decodeInstantCursor(cursor: string): [string, string] {
  const [instant, id] = decodeCursor(cursor, 2) as [string, string];
  const parts = INSTANT_KEY.exec(instant);
  const date = parts ? new Date(Date.UTC(Number(parts[1]), Number(parts[2]) - 1, Number(parts[3]))) : undefined;
  const real =
    date !== undefined &&
    date.getUTCFullYear() === Number(parts![1]) &&
    date.getUTCMonth() === Number(parts![2]) - 1 &&
    date.getUTCDate() === Number(parts![3]);
  if (!real || !UUID_PATTERN.test(id))
    throw new ValidationError('The cursor is not valid', [
      { pointer: '/cursor', detail: 'must be the nextCursor of an earlier page, unchanged' },
    ]);
  return [instant, id];
}
