/**
 * The prison pathway's record reads and reports against the real PostgreSQL: `records.readHandover` gives the
 * prison reception screen what the Person Escort Record health section said (and nothing from another person's
 * record), and `reports.clinicalReport` refuses the NDTMS extract for a person without NDTMS consent.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities, createLocalInboxTransport, createSpineClient } from '../../activities';
import { createRecordActivities } from '../../activities/records';
import { silentLogger } from '../../log';
import { FORMS_DIRECTORY, createFormValidator } from '../../pathways';
import { useMigratedStore } from '../store/store-fixture';

const world = useMigratedStore('prison_reception');
const ACTOR = { id: 'staff:test', role: 'clinician' };

function activities() {
  return createActivities({
    store: world.store,
    // Nothing here calls Spine.
    spine: createSpineClient({ baseUrl: 'http://127.0.0.1:9', retry: { maxAttempts: 1 } }),
    transport: createLocalInboxTransport({ store: world.store, logger: silentLogger }),
    logger: silentLogger,
  });
}

function inWorkflow(caseId: string) {
  return new MockActivityEnvironment(
    { workflowExecution: { workflowId: `case-${caseId}`, runId: randomUUID() } },
    { logger: new DefaultLogger('ERROR') },
  );
}

function example(formId: string): Record<string, unknown> {
  const file = path.join(FORMS_DIRECTORY, 'examples', `${formId}.examples.json`);
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { valid: Record<string, unknown> }).valid;
}

async function openCase(nhsNumber: string, pathwayId = 'sms-prison'): Promise<string> {
  const knex = world.store.orm.em.getConnection().getKnex();
  const odsCode = `T${randomUUID().slice(0, 6).toUpperCase()}`;
  await knex('settings').insert({
    id: randomUUID(),
    ods_code: odsCode,
    name: 'HMP Test',
    kind: 'prison',
    prison_type: 'HMP',
  });
  const caseId = randomUUID();
  await createRecordActivities({ store: world.store, logger: silentLogger }).openCase({
    caseId,
    workflowId: `case-${caseId}`,
    nhsNumber,
    settingOdsCode: odsCode,
    pathwayId,
    pathwayVersion: 1,
    actor: ACTOR,
  });
  return caseId;
}

function query<T>(sql: string, bindings: unknown[]): Promise<T[]> {
  return world.store.orm.em
    .getConnection()
    .getKnex()
    .raw<{ rows: T[] }>(sql, bindings as never)
    .then((r) => r.rows);
}

/** What custody's RecordHandover sends: the PER health section (the custody-handover form) and the alerts. */
async function recordPersonEscortRecord(caseId: string): Promise<string> {
  const perHealth = { ...example('custody-handover'), destination: 'prison', destinationName: 'HMP Leeds' };
  const result = await inWorkflow(caseId).run(activities()['records.recordHandover'], {
    caseId,
    processId: 'custody-reception',
    elementId: 'RecordHandover',
    activityId: 'RecordHandover#30',
    headers: {},
    variables: { handover: { kind: 'person-escort-record', destination: 'prison', perHealth, alertIds: [] } },
  });
  return String((result as { handoverId: string }).handoverId);
}

async function readHandover(
  caseId: string,
  handoverId: string | null,
  activityId = 'ReadEscortRecord#3',
): Promise<{ handover: Record<string, unknown> | null }> {
  const result = await inWorkflow(caseId).run(activities()['records.readHandover'], {
    caseId,
    processId: 'sms-prison',
    elementId: 'ReadEscortRecord',
    activityId,
    headers: {},
    variables: { handoverId },
  });
  return result as { handover: Record<string, unknown> | null };
}

describe('records.readHandover', () => {
  it("gives the reception screen the PER's medicines, self-harm and substance use, in the shape the form accepts", async () => {
    const caseId = await openCase('9000000068');
    const handoverId = await recordPersonEscortRecord(caseId);

    const first = await readHandover(caseId, handoverId);
    expect(first.handover).toEqual({
      handoverId,
      recordedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      prescribedMedication: true,
      medicines: [
        {
          medicationName: 'Insulin glargine',
          dosage: '20 units',
          frequency: 'Once daily',
          timeLastGiven: '2026-03-02T22:00:00Z',
          timeNextGiven: '2026-03-03T22:00:00Z',
        },
      ],
      selfHarmIndication: 'historical',
      selfHarmDetails:
        'Cut his arms in 2024 after a relationship ended; denies current thoughts (said to custody nurse at 14:40)',
      alcoholWithdrawal: true,
      dependencies: 'Opioid dependent; community methadone 60 mg daily, last dose 2026-03-02 09:00',
    });
    // what prefills the screen is a valid answer of the screen's own escortRecordHealth field
    const forms = createFormValidator({ now: () => new Date('2099-01-01T00:00:00Z') });
    expect(
      forms.validate('prison-reception-sms', {
        ...example('prison-reception-sms'),
        escortRecordHealth: first.handover,
      }),
    ).toEqual({ valid: true });
    // a read: the same answer again, nothing written
    expect(await readHandover(caseId, handoverId)).toEqual(first);
    expect(await query(`select id from notes where case_id = ?`, [caseId])).toEqual([]);
  });

  it("prefills nothing from another person's handover, or one that is not there, and says so on the case", async () => {
    const custodyCase = await openCase('9000000068');
    const handoverId = await recordPersonEscortRecord(custodyCase);
    const otherPerson = await openCase('9000000009');

    // (each read is its own execution of the step: a new reception, another pathway run)
    expect(await readHandover(otherPerson, handoverId, 'ReadEscortRecord#3')).toEqual({ handover: null });
    expect(await readHandover(otherPerson, randomUUID(), 'ReadEscortRecord#40')).toEqual({ handover: null });
    expect(await readHandover(otherPerson, 'not-an-id', 'ReadEscortRecord#80')).toEqual({ handover: null });
    expect(await readHandover(otherPerson, null, 'ReadEscortRecord#120')).toEqual({ handover: null });
    // a retry of the first execution notes nothing twice
    expect(await readHandover(otherPerson, handoverId, 'ReadEscortRecord#3')).toEqual({ handover: null });
    const notes = await query<{ body: string }>(`select body from notes where case_id = ? order by written_at`, [
      otherPerson,
    ]);
    expect(notes.map((n) => n.body)).toEqual([
      expect.stringMatching(
        /^\[escort-record\] Handover .* is another person's: the reception screen is not prefilled/,
      ),
      expect.stringMatching(/^\[escort-record\] Handover .* is not in the record/),
      expect.stringMatching(/^\[escort-record\] Handover not-an-id is not in the record/),
    ]);
  });
});

describe('reports.clinicalReport: the NDTMS extract', () => {
  async function withReferral(consent: 'given' | 'declined' | 'not-yet-asked' | null): Promise<string> {
    const caseId = await openCase('9000000068');
    const answers = { ...example('sms-referral'), ndtmsConsent: consent, ndtmsConsentDate: undefined };
    if (consent !== null) {
      await inWorkflow(caseId).run(activities()['records.saveAssessment'], {
        caseId,
        processId: 'sms-prison',
        elementId: 'SaveReferral',
        activityId: 'SaveReferral#8',
        headers: {},
        variables: { assessment: { formId: 'sms-referral', answers, snomedCode: '201521000000104' } },
      });
      await inWorkflow(caseId).run(activities()['records.saveAssessment'], {
        caseId,
        processId: 'sms-prison',
        elementId: 'SaveDischarge',
        activityId: 'SaveDischarge#60',
        headers: {},
        variables: { assessment: { formId: 'sms-discharge', answers: example('sms-discharge'), snomedCode: null } },
      });
    }
    return caseId;
  }

  async function episodeReport(caseId: string, ndtmsConsent: unknown = 'given') {
    const result = await inWorkflow(caseId).run(activities()['reports.clinicalReport'], {
      caseId,
      processId: 'sms-prison',
      elementId: 'ClinicalReports',
      activityId: 'ClinicalReports#70',
      headers: {},
      variables: {
        report: {
          kind: 'episode-outcomes',
          datasets: ['ndtms-secure-setting', 'top', 'snomed-coded-events'],
          initialReceptionDate: '2030-03-03T17:20:00Z',
          // what the pathway says is not what decides: the record does
          ndtmsConsent,
        },
      },
    });
    return result as { reportId: string; ndtmsExtract?: string };
  }

  async function reportData(reportId: string): Promise<Record<string, unknown>> {
    const [row] = await query<{ data: Record<string, unknown> }>(`select data from assessments where id = ?`, [
      reportId,
    ]);
    return row?.data ?? {};
  }

  it('reports the NDTMS secure-setting items of a person who gave NDTMS consent', async () => {
    const caseId = await withReferral('given');
    const result = await episodeReport(caseId);
    expect(result.ndtmsExtract).toBe('included');
    expect((await reportData(result.reportId))['ndtms']).toMatchObject({
      status: 'included',
      items: {
        initialReceptionDate: '2030-03-03T17:20:00Z',
        drug1: 'opiates',
        drug2: 'crack',
        drug3: 'alcohol',
        dischargeReason: 'transferred-not-in-custody',
        prisonExitReason: 'released',
      },
    });
  });

  it.each([['declined'], ['not-yet-asked'], [null]] as const)(
    'refuses the NDTMS extract when the consent is %s, and makes the rest of the report',
    async (consent) => {
      const caseId = await withReferral(consent);
      const result = await episodeReport(caseId, 'given');
      expect(result.ndtmsExtract).toBe('refused-no-consent');
      const data = await reportData(result.reportId);
      expect(data['ndtms']).toEqual({
        status: 'refused',
        reason: 'NO_NDTMS_CONSENT',
        consent: consent ?? 'not-recorded',
      });
      expect(JSON.stringify(data['ndtms'])).not.toContain('opiates');
      expect(data['forms']).toBeDefined();
      const notes = await query<{ body: string }>(`select body from notes where case_id = ?`, [caseId]);
      expect(notes.map((n) => n.body)).toEqual([expect.stringMatching(/^\[ndtms\] NDTMS extract refused/)]);
    },
  );

  it('leaves a report without the NDTMS dataset as it was', async () => {
    const caseId = await withReferral('declined');
    const made = await inWorkflow(caseId).run(activities()['reports.clinicalReport'], {
      caseId,
      processId: 'sms-prison',
      elementId: 'DischargeSummary',
      activityId: 'DischargeSummary#61',
      headers: {},
      variables: { report: { kind: 'discharge-summary', exitReason: 'released' } },
    });
    const result = made as { reportId: string; ndtmsExtract?: string };
    expect(result).toEqual({ reportId: expect.any(String) });
    expect((await reportData(result.reportId))['ndtms']).toBeUndefined();
  });
});
