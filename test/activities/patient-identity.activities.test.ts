/**
 * The person's identity in the record, against a real migrated PostgreSQL: flags that follow the person (one
 * active flag of a code, raised and resolved once each, audited, kept by the database), re-keying a record to the
 * NHS number PDS gave (the old number kept as a former identifier that still finds the person), and a possible
 * duplicate that only a person may merge. Each write is run twice, as a retry would.
 */
import { randomUUID } from 'node:crypto';
import { silentLogger } from '../../log';
import {
  createPatientIdentityActivities,
  createRecordActivities,
  type Actor,
  type PatientIdentityActivities,
  type RecordActivities,
} from '../../activities/records';
import { listPatientFlags } from '../../store';
import { nextValidNhsNumber, seedSetting } from '../store/seed';
import { useMigratedStore } from '../store/store-fixture';

const db = useMigratedStore('patient_identity');
const system: Actor = {
  id: 'system:pathway',
  role: 'system',
  reason: 'custody-reception/LookUpPerson',
  requestId: 'wf-1',
};
let records: RecordActivities;
let identity: PatientIdentityActivities;
let odsCode: string;

const knex = () => db.store.orm.em.getConnection().getKnex();

async function auditsOf(patientId: string, entityType: string) {
  return knex()('audit_events')
    .where({ patient_id: patientId, entity_type: entityType })
    .orderBy('occurred_at')
    .select<{ action: string; reason: string | null; purpose: string | null }[]>('action', 'reason', 'purpose');
}

async function openCase(nhsNumber: string): Promise<{ caseId: string; patientId: string }> {
  const caseId = randomUUID();
  await records.openCase({
    caseId,
    workflowId: `case-${caseId}`,
    nhsNumber,
    settingOdsCode: odsCode,
    pathwayId: 'custody-reception',
    pathwayVersion: 1,
    actor: { id: 'staff:nurse', role: 'clinician' },
  });
  const row = await knex()('cases').where({ id: caseId }).first<{ patient_id: string }>('patient_id');
  return { caseId, patientId: row.patient_id };
}

beforeAll(async () => {
  records = createRecordActivities({ store: db.store, logger: silentLogger });
  identity = createPatientIdentityActivities({ store: db.store, logger: silentLogger });
  odsCode = (
    await seedSetting(db.store.fork(), {
      odsCode: 'YCUS01',
      name: 'Leeds custody',
      kind: 'custody_suite',
      prisonType: null,
    })
  ).odsCode;
});

describe('patient flags', () => {
  it('keeps one active flag of a code per person however often it is raised, each write audited once', async () => {
    const nhsNumber = nextValidNhsNumber();
    const { caseId, patientId } = await openCase(nhsNumber);
    const input = {
      flagId: randomUUID(),
      patientId,
      code: 'UNVERIFIED_IDENTITY' as const,
      reason: 'PDS has no record of the number',
      caseId,
      actor: system,
    };

    const first = await identity.raisePatientFlag(input);
    const retry = await identity.raisePatientFlag(input);
    // another case of the same person raising it again finds the active one
    const elsewhere = await identity.raisePatientFlag({ ...input, flagId: randomUUID(), caseId: undefined });

    expect([first.created, retry.created, elsewhere.created]).toEqual([true, false, false]);
    expect(elsewhere.id).toBe(first.id);
    const flags = await listPatientFlags(db.store.fork(), { nhsNumber });
    expect(flags).toEqual([
      expect.objectContaining({
        id: first.id,
        patientId,
        code: 'UNVERIFIED_IDENTITY',
        severity: 'high',
        status: 'active',
        raisedBy: 'system:pathway',
        raiseReason: 'PDS has no record of the number',
        raisedInCaseId: caseId,
      }),
    ]);
    expect(await listPatientFlags(db.store.fork(), { patientId })).toEqual(flags);
    expect(await auditsOf(patientId, 'PatientFlag')).toEqual([
      { action: 'create', reason: 'PDS has no record of the number', purpose: null },
    ]);
  });

  it('resolves a flag once, keeps it in the history, and raises a new one after', async () => {
    const { patientId } = await openCase(nextValidNhsNumber());
    const raise = { patientId, code: 'DECEASED_ON_PDS' as const, reason: 'PDS records a death', actor: system };
    const { id } = await identity.raisePatientFlag({ ...raise, flagId: randomUUID() });
    const resolve = { patientId, code: 'DECEASED_ON_PDS' as const, reason: 'PDS records no death', actor: system };

    expect((await identity.resolvePatientFlag(resolve)).changed).toBe(true);
    expect((await identity.resolvePatientFlag(resolve)).changed).toBe(false);
    const again = await identity.raisePatientFlag({ ...raise, flagId: randomUUID() });

    expect(again.id).not.toBe(id);
    const history = await listPatientFlags(db.store.fork(), { patientId }, { includeResolved: true });
    expect(history.map((f) => [f.code, f.status, f.severity])).toEqual([
      ['DECEASED_ON_PDS', 'active', 'warning'],
      ['DECEASED_ON_PDS', 'resolved', 'warning'],
    ]);
    expect(history[1]).toMatchObject({ resolvedBy: 'system:pathway', resolutionReason: 'PDS records no death' });
    expect((await auditsOf(patientId, 'PatientFlag')).map((a) => a.action)).toEqual(['create', 'update', 'create']);
  });

  it('lets the database refuse any change to a flag but its resolution, and any deletion', async () => {
    const { patientId } = await openCase(nextValidNhsNumber());
    const { id } = await identity.raisePatientFlag({
      flagId: randomUUID(),
      patientId,
      code: 'RESTRICTED_RECORD',
      actor: system,
    });
    await expect(knex()('patient_flags').where({ id }).update({ code: 'NOTHING' })).rejects.toThrow(
      /patient flags can only be resolved, once/,
    );
    await expect(knex()('patient_flags').where({ id }).delete()).rejects.toThrow(/patient flags are kept/);
  });

  it('lists nothing for a person the record does not know', async () => {
    expect(await listPatientFlags(db.store.fork(), { nhsNumber: nextValidNhsNumber() })).toEqual([]);
    expect(await listPatientFlags(db.store.fork(), { nhsNumber: 'not a number' })).toEqual([]);
  });
});

describe('re-keying a record to the NHS number PDS gave', () => {
  it('moves the record to the new number, keeps the old one as a former identifier, and audits it once', async () => {
    const old = nextValidNhsNumber();
    const current = nextValidNhsNumber();
    const { caseId, patientId } = await openCase(old);
    const input = { patientId, nhsNumber: current, reason: 'superseded-on-pds' as const, caseId, actor: system };

    const first = await identity.reKeyPatient(input);
    const retry = await identity.reKeyPatient(input);

    expect(first).toEqual({ outcome: 're-keyed', nhsNumber: current, formerNhsNumber: old });
    expect(retry).toEqual({ outcome: 'unchanged', nhsNumber: current });
    expect(await knex()('patients').where({ id: patientId }).first('nhs_number')).toEqual({ nhs_number: current });
    expect(
      await knex()('patient_identifiers')
        .where({ patient_id: patientId })
        .select('system', 'value', 'use', 'reason', 'replaced_by', 'replaced_in_case_id'),
    ).toEqual([
      {
        system: 'https://fhir.nhs.uk/Id/nhs-number',
        value: old,
        use: 'old',
        reason: 'superseded-on-pds',
        replaced_by: 'system:pathway',
        replaced_in_case_id: caseId,
      },
    ]);
    expect((await auditsOf(patientId, 'Patient')).map((a) => a.reason)).toEqual([
      'NHS number re-keyed (superseded-on-pds); the former number is kept as an identifier',
    ]);
    expect(await auditsOf(patientId, 'PatientIdentifier')).toHaveLength(1);
  });

  it('finds the same person from the old number: a new case, and the flags', async () => {
    const old = nextValidNhsNumber();
    const { patientId } = await openCase(old);
    await identity.reKeyPatient({
      patientId,
      nhsNumber: nextValidNhsNumber(),
      reason: 'traced-by-demographics',
      actor: system,
    });
    await identity.raisePatientFlag({ flagId: randomUUID(), patientId, code: 'DECEASED_ON_PDS', actor: system });

    const again = await openCase(old);

    expect(again.patientId).toBe(patientId);
    expect((await listPatientFlags(db.store.fork(), { nhsNumber: old })).map((f) => f.code)).toEqual([
      'DECEASED_ON_PDS',
    ]);
    await expect(knex()('patient_identifiers').where({ patient_id: patientId }).delete()).rejects.toThrow(
      /patient_identifiers is append-only/,
    );
  });

  it('links two records that would hold one NHS number, for a person to merge; the same person moves the open case', async () => {
    const held = nextValidNhsNumber();
    const other = await openCase(held);
    const mine = await openCase(nextValidNhsNumber());

    const first = await identity.reKeyPatient({
      patientId: mine.patientId,
      nhsNumber: held,
      reason: 'superseded-on-pds',
      actor: system,
    });
    const retry = await identity.reKeyPatient({
      patientId: mine.patientId,
      nhsNumber: held,
      reason: 'superseded-on-pds',
      actor: system,
    });

    expect(first).toEqual({ outcome: 'possible-duplicate', nhsNumber: held, otherPatientId: other.patientId });
    expect(retry).toEqual(first);
    expect(await knex()('patients').where({ id: mine.patientId }).first('superseded_by_id')).toEqual({
      superseded_by_id: other.patientId,
    });
    expect(await auditsOf(mine.patientId, 'Patient')).toHaveLength(1);
    for (const [patientId, related] of [
      [mine.patientId, other.patientId],
      [other.patientId, mine.patientId],
    ] as const) {
      await identity.raisePatientFlag({
        flagId: randomUUID(),
        patientId,
        code: 'POSSIBLE_DUPLICATE_RECORD',
        relatedPatientId: related,
        actor: system,
      });
    }

    const decided = {
      patientId: mine.patientId,
      otherPatientId: other.patientId,
      decision: 'same-person' as const,
      actor: system,
    };
    expect(await identity.reviewDuplicateRecord(decided)).toEqual({
      decision: 'same-person',
      movedCaseIds: [mine.caseId],
    });
    expect(await identity.reviewDuplicateRecord(decided)).toEqual({ decision: 'same-person', movedCaseIds: [] });

    expect(await knex()('cases').where({ id: mine.caseId }).first('patient_id')).toEqual({
      patient_id: other.patientId,
    });
    for (const patientId of [mine.patientId, other.patientId]) {
      expect(await listPatientFlags(db.store.fork(), { patientId })).toEqual([]);
    }
    expect((await auditsOf(other.patientId, 'Case')).map((a) => a.reason)).toContain(
      'moved onto the record that holds the NHS number: the same person (duplicate reviewed)',
    );
  });

  it('leaves different people apart and flagged', async () => {
    const other = await openCase(nextValidNhsNumber());
    const mine = await openCase(nextValidNhsNumber());
    await identity.raisePatientFlag({
      flagId: randomUUID(),
      patientId: mine.patientId,
      code: 'POSSIBLE_DUPLICATE_RECORD',
      actor: system,
    });

    const result = await identity.reviewDuplicateRecord({
      patientId: mine.patientId,
      otherPatientId: other.patientId,
      decision: 'different-people',
      actor: system,
    });

    expect(result).toEqual({ decision: 'different-people', movedCaseIds: [] });
    expect(await knex()('cases').where({ id: mine.caseId }).first('patient_id')).toEqual({
      patient_id: mine.patientId,
    });
    expect((await listPatientFlags(db.store.fork(), { patientId: mine.patientId })).map((f) => f.code)).toEqual([
      'POSSIBLE_DUPLICATE_RECORD',
    ]);
  });
});

describe('audit purpose', () => {
  it('records the purpose of an access, so emergency access is told apart', async () => {
    const { patientId } = await openCase(nextValidNhsNumber());
    await records.writeAuditEvent({
      auditEventId: randomUUID(),
      action: 'read',
      entityType: 'SummaryCareRecord',
      entityId: patientId,
      patientId,
      purpose: 'ETREAT',
      actor: { ...system, reason: 'emergency access: unconscious' },
    });
    expect(await auditsOf(patientId, 'SummaryCareRecord')).toEqual([
      { action: 'read', reason: 'emergency access: unconscious', purpose: 'ETREAT' },
    ]);
  });
});
