/**
 * A person's alerts (self-harm risk, ACCT open, withdrawal risk...) for the API and screens: list the active ones
 * (or the resolved ones, or all), newest first, keyset paged; raise one; resolve one with a reason. An alert is
 * raised once and resolved at most once: the database lets its row change only from active to resolved with the
 * raise untouched, and never deletes it, so the row keeps the raise and its resolution side by side (see
 * store/entities/alert.entity.ts). Writes go through the record activities, audited in the same transaction.
 */
import { randomUUID } from 'node:crypto';
import { createRecordActivities, isValidSnomedConceptId } from '../activities/records';
import { ConflictError, ValidationError } from '../domain/errors';
import type { Logger } from '../log';
import type { Store } from '../store';
import { isRestrictedPatient } from './case-list';
import { knexOf } from './case-settings';
import { encodeCursor, type Page } from './paging';
import {
  UUID_PATTERN,
  actorFor,
  decodeInstantCursor,
  fromRecordFailure,
  settingsOfPatient,
  type RecordWriter,
} from './record-writer';

export const SNOMED_CT_SYSTEM = 'http://snomed.info/sct';
/** The alert codes the pathways raise (SELF_HARM_RISK...) and NOMIS alert codes (`HA` ACCT open, `SH` self-harm). */
export const LOCAL_ALERT_CODE_SYSTEM = 'https://throughcare.nhs.example/CodeSystem/alert-code';
export const ALERT_CODE_SYSTEMS = [SNOMED_CT_SYSTEM, LOCAL_ALERT_CODE_SYSTEM] as const;
export const ALERT_SEVERITIES = ['low', 'medium', 'high'] as const;
export const ALERT_STATUSES = ['active', 'resolved'] as const;

export interface AlertItem {
  readonly alertId: string;
  readonly patientId: string;
  readonly caseId: string | null;
  readonly code: string;
  readonly codeSystem: string;
  readonly display: string;
  readonly severity: (typeof ALERT_SEVERITIES)[number];
  readonly status: (typeof ALERT_STATUSES)[number];
  readonly raisedAt: string;
  readonly raisedBy: string;
  readonly raiseReason: string | null;
  /** Set once it is resolved; the raise above stays as it was. */
  readonly resolution: { readonly at: string; readonly by: string; readonly reason: string | null } | null;
}

interface AlertRow {
  id: string;
  patient_id: string;
  case_id: string | null;
  code: string;
  code_system: string;
  display: string;
  severity: AlertItem['severity'];
  status: AlertItem['status'];
  raised_at: Date;
  raised_key: string;
  raised_by: string;
  raise_reason: string | null;
  resolved_at: Date | null;
  resolved_by: string | null;
  resolution_reason: string | null;
}

function selectAlerts(store: Store) {
  const knex = knexOf(store);
  return knex('alerts as al').select<AlertRow[]>(
    'al.*',
    // Full precision for the cursor: a millisecond ISO string would skip or repeat rows raised in one millisecond.
    knex.raw(`to_json(al.raised_at)#>>'{}' as raised_key`),
  );
}

function toItem(row: AlertRow): AlertItem {
  return {
    alertId: row.id,
    patientId: row.patient_id,
    caseId: row.case_id,
    code: row.code,
    codeSystem: row.code_system,
    display: row.display,
    severity: row.severity,
    status: row.status,
    raisedAt: new Date(row.raised_at).toISOString(),
    raisedBy: row.raised_by,
    raiseReason: row.raise_reason,
    resolution:
      row.resolved_at && row.resolved_by
        ? { at: new Date(row.resolved_at).toISOString(), by: row.resolved_by, reason: row.resolution_reason }
        : null,
  };
}

export interface AlertListQuery {
  readonly patientId: string;
  /** Default: active only. */
  readonly status?: AlertItem['status'] | 'any';
  readonly limit: number;
  readonly cursor?: string;
}

/** A person's alerts, newest raised first, keyset paged. */
export async function listAlerts(store: Store, query: AlertListQuery): Promise<Page<AlertItem>> {
  const q = selectAlerts(store)
    .where('al.patient_id', query.patientId)
    .orderBy([
      { column: 'al.raised_at', order: 'desc' },
      { column: 'al.id', order: 'desc' },
    ])
    .limit(query.limit + 1);
  const status = query.status ?? 'active';
  if (status !== 'any') void q.where('al.status', status);
  if (query.cursor) {
    const [raisedAt, id] = decodeInstantCursor(query.cursor);
    void q.whereRaw('(al.raised_at, al.id) < (?::timestamptz, ?::uuid)', [raisedAt, id]);
  }
  const rows = await q;
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    items: page.map(toItem),
    nextCursor: rows.length > query.limit && last ? encodeCursor([last.raised_key, last.id]) : null,
  };
}

/** One alert with the settings of its person (alerts travel with the person) and whether the record is restricted. */
export async function findAlert(
  store: Store,
  alertId: string,
): Promise<(AlertItem & { readonly settings: string[]; readonly restricted: boolean }) | undefined> {
  if (!UUID_PATTERN.test(alertId)) return undefined;
  const row = await selectAlerts(store).where('al.id', alertId).first();
  if (!row) return undefined;
  return {
    ...toItem(row),
    settings: await settingsOfPatient(store, row.patient_id),
    restricted: await isRestrictedPatient(store, row.patient_id),
  };
}

export interface RaiseAlertCommand {
  readonly patientId: string;
  /** The case it was raised in, if any: it must be one of the person's. */
  readonly caseId?: string;
  readonly code: string;
  /** SNOMED CT or the local alert codes (the default). */
  readonly codeSystem?: string;
  readonly display: string;
  readonly severity: AlertItem['severity'];
  readonly reason?: string;
  readonly writer: RecordWriter;
}

/**
 * Raises an alert on a person, by the signed-in person; audited (`alert.raise`) with the write. A SNOMED CT code
 * must have the shape of a concept id (a problem at `/code` otherwise); a case must be one of the person's.
 */
export async function raiseAlert(store: Store, logger: Logger, command: RaiseAlertCommand): Promise<AlertItem> {
  const codeSystem = command.codeSystem ?? LOCAL_ALERT_CODE_SYSTEM;
  if (codeSystem === SNOMED_CT_SYSTEM && !isValidSnomedConceptId(command.code))
    throw new ValidationError('The code is not a SNOMED CT concept id', [
      {
        pointer: '/code',
        detail: 'must be a SNOMED CT concept id (6 to 18 digits, a concept partition) with this codeSystem',
      },
    ]);
  if (command.caseId) {
    const found = await knexOf(store)('cases')
      .where({ id: command.caseId, patient_id: command.patientId })
      .first<{ id: string } | undefined>('id');
    if (!found)
      throw new ValidationError('The case is not one of this person’s', [
        { pointer: '/caseId', detail: 'must be a case of the person the alert is raised on' },
      ]);
  }
  const alertId = randomUUID();
  await createRecordActivities({ store, logger })
    .raiseAlert({
      alertId,
      patientId: command.patientId,
      ...(command.caseId ? { caseId: command.caseId } : {}),
      code: command.code,
      codeSystem,
      display: command.display,
      severity: command.severity,
      ...(command.reason ? { reason: command.reason } : {}),
      actor: actorFor(command.writer, 'alert.raise'),
    })
    .catch(fromRecordFailure);
  const row = await selectAlerts(store).where('al.id', alertId).first();
  return toItem(row!);
}

export interface ResolveAlertCommand {
  readonly alertId: string;
  readonly reason: string;
  readonly writer: RecordWriter;
}

/** Resolves an active alert with a reason, recorded beside the raise; a resolved one is a conflict. */
export async function resolveAlert(store: Store, logger: Logger, command: ResolveAlertCommand): Promise<AlertItem> {
  const changed = await createRecordActivities({ store, logger })
    .resolveAlert({
      alertId: command.alertId,
      reason: command.reason,
      actor: actorFor(command.writer, 'alert.resolve'),
    })
    .catch(fromRecordFailure);
  if (!changed.changed) throw new ConflictError(`Alert ${command.alertId} is already resolved`);
  const row = await selectAlerts(store).where('al.id', command.alertId).first();
  return toItem(row!);
}
