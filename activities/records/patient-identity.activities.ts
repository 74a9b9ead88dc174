/**
 * Who the person is: flags that follow them (kept with the patient record, seen in every case, setting and
 * pathway), and the NHS number their record is keyed by. A record is re-keyed, never duplicated: when PDS
 * answers with another number (a merge) or a trace by demographics finds the real one, the patient row takes
 * the new number and the old one is kept as a former identifier, so everything already recorded stays with the
 * person and a case started with the old number still finds them. When another record already holds the new
 * number, nothing is merged by machine: both records are linked and flagged for a person to decide.
 *
 * Same rules as the other record activities: idempotent under retry, one transaction per write, its audit
 * event in the same transaction and only when something was written.
 */
import { randomUUID } from 'node:crypto';
import { type Logger } from '../../log';
import {
  checkNhsNumber,
  IdentifierChangeReason,
  NHS_NUMBER_SYSTEM,
  PatientFlagCode,
  PatientFlagSeverity,
  type Store,
} from '../../store';
import { InvalidInputError, NotFoundError, withFailureConversion } from '../errors';
import { runInTransaction, violatedUniqueConstraint, writeAudit, type Actor, type Trx } from './record-writes';
import { type Changed, type Created } from './records.activities';

export interface PatientIdentityActivitiesDeps {
  store: Store;
  logger: Logger;
}

/** What each flag says and how much it matters. */
export const PATIENT_FLAGS: Readonly<Record<PatientFlagCode, { display: string; severity: PatientFlagSeverity }>> = {
  [PatientFlagCode.UnverifiedIdentity]: {
    display: 'Unverified identity: PDS has no record of this NHS number; trace the person by demographics',
    severity: PatientFlagSeverity.High,
  },
  [PatientFlagCode.InvalidatedNhsNumber]: {
    display: 'Invalidated NHS number: Spine calls are suspended until the person is traced again',
    severity: PatientFlagSeverity.High,
  },
  [PatientFlagCode.DeceasedOnPds]: {
    display: 'Deceased on PDS: check the identity of the person in front of you; care goes on',
    severity: PatientFlagSeverity.Warning,
  },
  [PatientFlagCode.RestrictedRecord]: {
    display: 'Restricted record: never share address or location',
    severity: PatientFlagSeverity.High,
  },
  [PatientFlagCode.PossibleDuplicateRecord]: {
    display: 'Possible duplicate record: another record holds the same NHS number; a person must decide on a merge',
    severity: PatientFlagSeverity.Warning,
  },
};

export interface PatientOfCase {
  patientId: string;
  /** The record's current NHS number. */
  nhsNumber: string;
  isRestricted: boolean;
  /** The record this one is linked to as a possible (or confirmed) duplicate. */
  supersededById: string | null;
  /** Codes of the person's active flags. */
  activeFlags: string[];
}

export interface RaisePatientFlagInput {
  /** Chosen by the caller (derived from the activity execution): the idempotency key of this raise. */
  flagId: string;
  patientId: string;
  code: PatientFlagCode;
  reason?: string;
  /** The case whose pathway raises it (provenance). */
  caseId?: string;
  relatedPatientId?: string;
  actor: Actor;
}

export interface ResolvePatientFlagInput {
  patientId: string;
  code: PatientFlagCode;
  reason: string;
  actor: Actor;
}

export interface ReKeyPatientInput {
  patientId: string;
  /** The number PDS gave for this person. */
  nhsNumber: string;
  reason: IdentifierChangeReason;
  caseId?: string;
  actor: Actor;
}

export type ReKeyResult =
  /** The record already holds the number. */
  | { outcome: 'unchanged'; nhsNumber: string }
  /** The record now holds the number; its old one is kept as a former identifier. */
  | { outcome: 're-keyed'; nhsNumber: string; formerNhsNumber: string }
  /** Another record holds the number: the two are linked, and a person must decide whether to merge them. */
  | { outcome: 'possible-duplicate'; nhsNumber: string; otherPatientId: string };

export type DuplicateDecision = 'same-person' | 'different-people';

export interface ReviewDuplicateRecordInput {
  /** The case's record (the one that could not take the number). */
  patientId: string;
  /** The record that holds the number. */
  otherPatientId: string;
  decision: DuplicateDecision;
  actor: Actor;
}

export interface ReviewDuplicateRecordResult {
  decision: DuplicateDecision;
  /** Open cases moved onto the record that holds the number (same person only). */
  movedCaseIds: string[];
}

interface PatientRow {
  id: string;
  nhs_number: string;
  is_restricted: boolean;
  superseded_by_id: string | null;
}

/** Inserts a flag unless the person already has an active one of that code; audits only what it wrote. */
async function insertFlag(trx: Trx, input: RaisePatientFlagInput): Promise<Created> {
  const definition = PATIENT_FLAGS[input.code];
  // `on conflict do nothing` without a target also covers the partial unique index (one active flag per code).
  const inserted = await trx('patient_flags')
    .insert({
      id: input.flagId,
      patient_id: input.patientId,
      code: input.code,
      display: definition.display,
      severity: definition.severity,
      status: 'active',
      raised_by: input.actor.id,
      raise_reason: input.reason ?? input.actor.reason ?? null,
      raised_in_case_id: input.caseId ?? null,
      related_patient_id: input.relatedPatientId ?? null,
    })
    .onConflict()
    .ignore()
    .returning<{ id: string }[]>('id');
  if (inserted.length > 0) {
    await writeAudit(trx, input.actor, {
      action: 'create',
      entityType: 'PatientFlag',
      entityId: input.flagId,
      patientId: input.patientId,
      reason: input.reason,
    });
    return { id: input.flagId, created: true };
  }
  const existing =
    (await trx('patient_flags').where({ id: input.flagId }).first<{ id: string } | undefined>('id')) ??
    (await trx('patient_flags')
      .where({ patient_id: input.patientId, code: input.code, status: 'active' })
      .first<{ id: string } | undefined>('id'));
  if (!existing) throw new NotFoundError('patient flag', input.flagId);
  return { id: existing.id, created: false };
}

async function resolveFlag(trx: Trx, input: ResolvePatientFlagInput): Promise<Changed> {
  const rows = await trx('patient_flags')
    .where({ patient_id: input.patientId, code: input.code, status: 'active' })
    .update({
      status: 'resolved',
      resolved_at: trx.fn.now(),
      resolved_by: input.actor.id,
      resolution_reason: input.reason,
    })
    .returning<{ id: string }[]>('id');
  const row = rows[0];
  if (!row) return { id: '', changed: false };
  await writeAudit(trx, input.actor, {
    action: 'update',
    entityType: 'PatientFlag',
    entityId: row.id,
    patientId: input.patientId,
    reason: input.reason,
  });
  return { id: row.id, changed: true };
}

/** The other record that holds `nhsNumber`, as its current number or a former one. */
async function otherHolderOf(trx: Trx, patientId: string, nhsNumber: string): Promise<string | undefined> {
  const current = await trx('patients')
    .where({ nhs_number: nhsNumber })
    .whereNot({ id: patientId })
    .first<{ id: string } | undefined>('id');
  if (current) return current.id;
  const former = await trx('patient_identifiers')
    .where({ system: NHS_NUMBER_SYSTEM, value: nhsNumber })
    .whereNot({ patient_id: patientId })
    .first<{ patient_id: string } | undefined>('patient_id');
  return former?.patient_id;
}

export function createPatientIdentityActivities(deps: PatientIdentityActivitiesDeps) {
  const { store } = deps;
  const logger = deps.logger.child({ component: 'patient-identity-activities' });

  /** The person a case is about, with their current number and active flags. */
  async function patientOfCase(caseId: string): Promise<PatientOfCase> {
    const knex = store.orm.em.getConnection().getKnex();
    const row = await knex('cases')
      .join('patients', 'patients.id', 'cases.patient_id')
      .where('cases.id', caseId)
      .first<PatientRow | undefined>(
        'patients.id',
        'patients.nhs_number',
        'patients.is_restricted',
        'patients.superseded_by_id',
      );
    if (!row) throw new NotFoundError('case', caseId);
    const flags = await knex('patient_flags')
      .where({ patient_id: row.id, status: 'active' })
      .select<{ code: string }[]>('code');
    return {
      patientId: row.id,
      nhsNumber: row.nhs_number,
      isRestricted: row.is_restricted,
      supersededById: row.superseded_by_id,
      activeFlags: flags.map((f) => f.code),
    };
  }

  async function raisePatientFlag(input: RaisePatientFlagInput): Promise<Created> {
    if (!PATIENT_FLAGS[input.code]) throw new InvalidInputError(`not a patient flag code: ${String(input.code)}`);
    return runInTransaction(store, (trx) => insertFlag(trx, input));
  }

  /** Resolves the person's active flag of that code; `changed: false` when there was none. */
  async function resolvePatientFlag(input: ResolvePatientFlagInput): Promise<Changed> {
    return runInTransaction(store, (trx) => resolveFlag(trx, input));
  }

  async function reKeyOnce(input: ReKeyPatientInput, nhsNumber: string): Promise<ReKeyResult> {
    return runInTransaction(store, async (trx) => {
      const row = await trx('patients')
        .where({ id: input.patientId })
        .forUpdate()
        .first<PatientRow | undefined>('id', 'nhs_number', 'superseded_by_id');
      if (!row) throw new NotFoundError('patient', input.patientId);
      if (row.nhs_number === nhsNumber) return { outcome: 'unchanged', nhsNumber };
      const other = await otherHolderOf(trx, row.id, nhsNumber);
      if (other) {
        // Never two live records for one number without a person deciding: link them, and say so.
        if (row.superseded_by_id !== other) {
          await trx('patients').where({ id: row.id }).update({ superseded_by_id: other, updated_at: trx.fn.now() });
          await writeAudit(trx, input.actor, {
            action: 'update',
            entityType: 'Patient',
            entityId: row.id,
            patientId: row.id,
            reason: `linked to the record that holds the NHS number PDS gave (${input.reason}): possible duplicate`,
          });
        }
        return { outcome: 'possible-duplicate', nhsNumber, otherPatientId: other };
      }
      const identifierId = randomUUID();
      // A number already kept as a former one (a record re-keyed back and forth) is kept once.
      const kept = await trx('patient_identifiers')
        .insert({
          id: identifierId,
          patient_id: row.id,
          system: NHS_NUMBER_SYSTEM,
          value: row.nhs_number,
          use: 'old',
          reason: input.reason,
          replaced_by: input.actor.id,
          replaced_in_case_id: input.caseId ?? null,
        })
        .onConflict(['system', 'value'])
        .ignore()
        .returning<{ id: string }[]>('id');
      await trx('patients').where({ id: row.id }).update({ nhs_number: nhsNumber, updated_at: trx.fn.now() });
      if (kept.length > 0) {
        await writeAudit(trx, input.actor, {
          action: 'create',
          entityType: 'PatientIdentifier',
          entityId: identifierId,
          patientId: row.id,
          reason: `former NHS number kept (${input.reason})`,
        });
      }
      await writeAudit(trx, input.actor, {
        action: 'update',
        entityType: 'Patient',
        entityId: row.id,
        patientId: row.id,
        reason: `NHS number re-keyed (${input.reason}); the former number is kept as an identifier`,
      });
      return { outcome: 're-keyed', nhsNumber, formerNhsNumber: row.nhs_number };
    });
  }

  /**
   * Makes the person's record hold `nhsNumber`: unchanged when it does, re-keyed (the old number kept as a
   * former identifier) when no other record holds it, else linked to the record that does (possible duplicate).
   */
  async function reKeyPatient(input: ReKeyPatientInput): Promise<ReKeyResult> {
    const nhsNumber = checkNhsNumber(input.nhsNumber);
    try {
      return await reKeyOnce(input, nhsNumber);
    } catch (error) {
      // Another transaction gave the number to a record between our check and our update: now it is a duplicate.
      if (violatedUniqueConstraint(error) === 'patients_nhs_number_unique') return reKeyOnce(input, nhsNumber);
      throw error;
    }
  }

  /**
   * A person's decision on a possible duplicate. The same person: the records stay linked (the case's record
   * points at the one that holds the number), the open cases move onto that record so what they write next
   * lands there, and both flags are resolved. Different people: nothing is merged and the flags stay, because
   * one of the two records has the wrong NHS number until someone corrects it.
   */
  async function reviewDuplicateRecord(input: ReviewDuplicateRecordInput): Promise<ReviewDuplicateRecordResult> {
    if (input.patientId === input.otherPatientId) throw new InvalidInputError('a record is not its own duplicate');
    if (input.decision === 'different-people') return { decision: input.decision, movedCaseIds: [] };
    return runInTransaction(store, async (trx) => {
      const row = await trx('patients')
        .where({ id: input.patientId })
        .forUpdate()
        .first<PatientRow | undefined>('id', 'superseded_by_id');
      if (!row) throw new NotFoundError('patient', input.patientId);
      const other = await trx('patients').where({ id: input.otherPatientId }).first<{ id: string } | undefined>('id');
      if (!other) throw new NotFoundError('patient', input.otherPatientId);
      if (row.superseded_by_id !== other.id) {
        await trx('patients').where({ id: row.id }).update({ superseded_by_id: other.id, updated_at: trx.fn.now() });
      }
      const moved = await trx('cases')
        .where({ patient_id: row.id, status: 'open' })
        .update({ patient_id: other.id })
        .returning<{ id: string }[]>('id');
      for (const { id } of moved) {
        await writeAudit(trx, input.actor, {
          action: 'update',
          entityType: 'Case',
          entityId: id,
          patientId: other.id,
          reason: 'moved onto the record that holds the NHS number: the same person (duplicate reviewed)',
        });
      }
      await writeAudit(trx, input.actor, {
        action: 'update',
        entityType: 'Patient',
        entityId: row.id,
        patientId: row.id,
        reason: 'duplicate reviewed: the same person; merged into the record that holds the NHS number',
      });
      const reason = 'duplicate reviewed: the same person';
      for (const patientId of [row.id, other.id]) {
        await resolveFlag(trx, {
          patientId,
          code: PatientFlagCode.PossibleDuplicateRecord,
          reason,
          actor: input.actor,
        });
      }
      return { decision: input.decision, movedCaseIds: moved.map((m) => m.id) };
    });
  }

  const activities = { patientOfCase, raisePatientFlag, resolvePatientFlag, reKeyPatient, reviewDuplicateRecord };
  logger.debug({ activities: Object.keys(activities) }, 'patient identity activities created');
  return withFailureConversion(activities);
}

export type PatientIdentityActivities = ReturnType<typeof createPatientIdentityActivities>;
export { IdentifierChangeReason, PatientFlagCode };
