/**
 * Who a person is in the record: the patient row an NHS number leads to (its current number, or one it was
 * known by before a re-key), and the flags that follow that person into every case, setting and pathway.
 */
import { isValidNhsNumber, normaliseNhsNumber } from '../domain/nhs-number';
import { NHS_NUMBER_SYSTEM, type PatientFlagSeverity, type PatientFlagStatus } from './entities';
import { type StoreEntityManager } from './store';

/** A flag as the engine, the CLI and the API show it. Dates are ISO 8601 strings. */
export interface PatientFlagView {
  readonly id: string;
  readonly patientId: string;
  /** A `PatientFlagCode` (text in the table, so a code added later needs no migration). */
  readonly code: string;
  readonly display: string;
  readonly severity: PatientFlagSeverity;
  readonly status: PatientFlagStatus;
  readonly raisedAt: string;
  readonly raisedBy: string;
  readonly raiseReason: string | null;
  /** The case whose pathway raised it (the flag itself belongs to the person). */
  readonly raisedInCaseId: string | null;
  /** For a possible duplicate: the other record. */
  readonly relatedPatientId: string | null;
  readonly resolvedAt: string | null;
  readonly resolvedBy: string | null;
  readonly resolutionReason: string | null;
}

export type PatientRef = { readonly patientId: string } | { readonly nhsNumber: string };

export interface ListPatientFlagsOptions {
  /** Also resolved flags (the person's history), newest first after the active ones. Default: active only. */
  readonly includeResolved?: boolean;
}

interface FlagRow {
  id: string;
  patient_id: string;
  code: string;
  display: string;
  severity: PatientFlagSeverity;
  status: PatientFlagStatus;
  raised_at: Date | string;
  raised_by: string;
  raise_reason: string | null;
  raised_in_case_id: string | null;
  related_patient_id: string | null;
  resolved_at: Date | string | null;
  resolved_by: string | null;
  resolution_reason: string | null;
}

function iso(value: Date | string | null): string | null {
  return value === null ? null : new Date(value).toISOString();
}

/**
 * The patient an NHS number (spaces allowed) belongs to: the record whose current number it is, else the
 * record that was known by it before a re-key. Undefined for an invalid or unknown number.
 */
export async function findPatientIdByNhsNumber(em: StoreEntityManager, nhsNumber: string): Promise<string | undefined> {
  const number = normaliseNhsNumber(nhsNumber);
  if (!isValidNhsNumber(number)) return undefined;
  const knex = em.getKnex();
  const current = await knex('patients').where({ nhs_number: number }).first<{ id: string } | undefined>('id');
  if (current) return current.id;
  const former = await knex('patient_identifiers')
    .where({ system: NHS_NUMBER_SYSTEM, value: number })
    .first<{ patient_id: string } | undefined>('patient_id');
  return former?.patient_id;
}

/**
 * The flags that follow a person (deceased on PDS, restricted record, unverified identity, invalidated NHS
 * number, possible duplicate record): active ones first, high severity before warnings, newest first. By
 * patient id, or by NHS number (current or former). Empty for a person the record does not know.
 */
export async function listPatientFlags(
  em: StoreEntityManager,
  ref: PatientRef,
  options: ListPatientFlagsOptions = {},
): Promise<PatientFlagView[]> {
  const patientId = 'patientId' in ref ? ref.patientId : await findPatientIdByNhsNumber(em, ref.nhsNumber);
  if (!patientId) return [];
  const query = em
    .getKnex()('patient_flags')
    .where({ patient_id: patientId })
    .orderByRaw(`status = 'active' desc, severity = 'high' desc, raised_at desc, id`);
  if (!options.includeResolved) void query.andWhere({ status: 'active' });
  const rows = await query.select<FlagRow[]>('*');
  return rows.map((row) => ({
    id: row.id,
    patientId: row.patient_id,
    code: row.code,
    display: row.display,
    severity: row.severity,
    status: row.status,
    raisedAt: new Date(row.raised_at).toISOString(),
    raisedBy: row.raised_by,
    raiseReason: row.raise_reason,
    raisedInCaseId: row.raised_in_case_id,
    relatedPatientId: row.related_patient_id,
    resolvedAt: iso(row.resolved_at),
    resolvedBy: row.resolved_by,
    resolutionReason: row.resolution_reason,
  }));
}
