/**
 * A person as the API shows them: the banner (name, NHS number, date of birth, restricted flag, active alerts
 * and flags) from the record Throughcare keeps (the demographics last fetched from PDS), the settings their
 * cases belong to (which scopes who may see them), and who has looked at their record.
 */
import { randomUUID } from 'node:crypto';
import { isValidNhsNumber, normaliseNhsNumber } from '../domain/nhs-number';
import { ValidationError } from '../domain/errors';
import { findPatientIdByNhsNumber, listPatientFlags, type PatientFlagView, type Store } from '../store';
import { isRestrictedPatient } from './case-list';
import { knexOf } from './case-settings';

/** Modulus 11 first: a number that cannot be an NHS number is a problem at `pointer`, never a lookup. */
export function checkedNhsNumber(input: string, pointer = '/nhsNumber'): string {
  const nhsNumber = normaliseNhsNumber(input);
  if (!isValidNhsNumber(nhsNumber))
    throw new ValidationError('The NHS number is not valid', [
      { pointer, detail: 'must be 10 digits whose last is the Modulus 11 check digit' },
    ]);
  return nhsNumber;
}

export interface PatientBanner {
  readonly patientId: string;
  readonly nhsNumber: string;
  readonly name: string | null;
  readonly dateOfBirth: string | null;
  readonly restricted: boolean;
  readonly alerts: { alertId: string; code: string; display: string; severity: string; raisedAt: string }[];
  readonly flags: PatientFlagView[];
}

/** The person a (current or former) NHS number belongs to, with the settings their cases belong to. */
export async function findPatient(
  store: Store,
  nhsNumber: string,
): Promise<{ patientId: string; settings: string[]; restricted: boolean } | undefined> {
  const patientId = await findPatientIdByNhsNumber(store.fork(), nhsNumber);
  if (!patientId) return undefined;
  const rows = await knexOf(store)('cases as c')
    .join('case_settings as cs', 'cs.case_id', 'c.id')
    .join('settings as s', 's.id', 'cs.setting_id')
    .where('c.patient_id', patientId)
    .distinct<{ ods_code: string }[]>('s.ods_code');
  return { patientId, settings: rows.map((r) => r.ods_code), restricted: await isRestrictedPatient(store, patientId) };
}

interface FhirName {
  use?: string;
  text?: string;
  given?: string[];
  family?: string;
  prefix?: string[];
}

function displayName(demographics: Record<string, unknown> | null): string | null {
  const names = (demographics?.['name'] ?? []) as FhirName[];
  if (!Array.isArray(names) || names.length === 0) return null;
  const name = names.find((n) => n.use === 'usual') ?? names[0]!;
  if (name.text) return name.text;
  const text = [...(name.prefix ?? []), ...(name.given ?? []), name.family ?? ''].join(' ').trim();
  return text || null;
}

export async function patientBanner(store: Store, patientId: string): Promise<PatientBanner> {
  const knex = knexOf(store);
  const patient = await knex('patients')
    .where({ id: patientId })
    .first<{ id: string; nhs_number: string; demographics: Record<string, unknown> | string | null }>(
      'id',
      'nhs_number',
      'demographics',
    );
  const demographics =
    typeof patient.demographics === 'string'
      ? (JSON.parse(patient.demographics) as Record<string, unknown>)
      : patient.demographics;
  const birthDate = demographics?.['birthDate'];
  const alerts = await knex('alerts')
    .where({ patient_id: patientId, status: 'active' })
    .orderBy('raised_at', 'asc')
    .select<{ id: string; code: string; display: string; severity: string; raised_at: Date }[]>(
      'id',
      'code',
      'display',
      'severity',
      'raised_at',
    );
  return {
    patientId,
    nhsNumber: patient.nhs_number,
    name: displayName(demographics),
    dateOfBirth: typeof birthDate === 'string' ? birthDate : null,
    restricted: await isRestrictedPatient(store, patientId),
    alerts: alerts.map((a) => ({
      alertId: a.id,
      code: a.code,
      display: a.display,
      severity: a.severity,
      raisedAt: new Date(a.raised_at).toISOString(),
    })),
    flags: await listPatientFlags(store.fork(), { patientId }),
  };
}

/** One access to or change of a person's record, as the API records it (audit_events, append-only). */
export interface AccessRecord {
  readonly actorId: string;
  readonly actorRole: string;
  readonly actorSubject: string;
  readonly action: 'read' | 'create' | 'update';
  readonly operation: string;
  readonly entityType: string;
  readonly entityId: string;
  readonly patientId: string | null;
  readonly settingOdsCode: string | null;
  readonly purpose: string | null;
  readonly requestId: string | null;
  readonly reason?: string | null;
}

export async function recordAccess(store: Store, records: readonly AccessRecord[]): Promise<void> {
  if (records.length === 0) return;
  await knexOf(store)('audit_events').insert(
    records.map((r) => ({
      id: randomUUID(),
      actor_id: r.actorId,
      actor_role: r.actorRole,
      actor_subject: r.actorSubject,
      action: r.action,
      operation: r.operation,
      entity_type: r.entityType,
      entity_id: r.entityId,
      patient_id: r.patientId,
      setting_ods_code: r.settingOdsCode,
      purpose: r.purpose,
      request_id: r.requestId,
      reason: r.reason ?? null,
    })),
  );
}

export interface AccessLogEntry {
  readonly occurredAt: string;
  readonly actorId: string;
  readonly actorRole: string;
  readonly actorSubject: string | null;
  readonly action: string;
  readonly operation: string | null;
  readonly entityType: string;
  readonly entityId: string;
  readonly settingOdsCode: string | null;
  readonly purpose: string | null;
  readonly requestId: string | null;
  readonly reason: string | null;
}

/** Who has read or changed a person's record, newest first. */
export async function accessLog(store: Store, patientId: string, limit: number): Promise<AccessLogEntry[]> {
  const rows = await knexOf(store)('audit_events')
    .where({ patient_id: patientId })
    .orderBy([
      { column: 'occurred_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(limit)
    .select<Record<string, unknown>[]>();
  return rows.map((r) => ({
    occurredAt: new Date(r['occurred_at'] as Date).toISOString(),
    actorId: r['actor_id'] as string,
    actorRole: r['actor_role'] as string,
    actorSubject: (r['actor_subject'] as string | null) ?? null,
    action: r['action'] as string,
    operation: (r['operation'] as string | null) ?? null,
    entityType: r['entity_type'] as string,
    entityId: r['entity_id'] as string,
    settingOdsCode: (r['setting_ods_code'] as string | null) ?? null,
    purpose: (r['purpose'] as string | null) ?? null,
    requestId: (r['request_id'] as string | null) ?? null,
    reason: (r['reason'] as string | null) ?? null,
  }));
}
