/**
 * A person PDS cannot confirm, on the time-skipping server with the real activities and the Spine sandbox over
 * HTTP: nobody drops off the worklist. A number PDS does not know or has invalidated raises a flag on the person
 * and opens a trace by demographics for the setting's reception team while reception goes on; the trace re-keys
 * the record. A superseded number re-keys the record at once. A death on PDS and a restricted record are flags
 * that follow the person into every pathway. Each prints its timeline.
 */
import { listPatientFlags } from '../../store';
import { stateQuery } from '../../workflows';
import { example, useScenario, type PathwayHandle } from './scenario-harness';

const scenario = useScenario('scenario_identity');

function flagsOf(nhsNumber: string) {
  return listPatientFlags(scenario.store.fork(), { nhsNumber }, { includeResolved: true });
}

function patientIdOf(caseId: string) {
  return scenario
    .query<{ patient_id: string }>('select patient_id from cases where id = ?', [caseId])
    .then((rows) => rows[0]?.patient_id ?? '');
}

/** The case's open worklist tasks, once `count` are projected (projections land just after the workflow moves). */
function openTasks(caseId: string, count: number) {
  return scenario.queryUntil<{ element_id: string; candidate_groups: string[]; workflow_id: string }>(
    `projected ${count} open tasks`,
    `select element_id, candidate_groups, workflow_id from worklist_tasks where case_id = ? and status = 'open' order by element_id`,
    [caseId],
    (rows) => rows.length === count,
  );
}

function auditsOf(patientId: string) {
  return scenario.query<{ action: string; entity_type: string; reason: string | null }>(
    `select action, entity_type, reason from audit_events where patient_id = ? and entity_type in ('Patient', 'PatientIdentifier', 'PatientFlag') order by occurred_at`,
    [patientId],
  );
}

async function custodyCase(
  nhsNumber: string,
  arrivalTime: string,
): Promise<{ caseId: string; custody: PathwayHandle }> {
  const caseId = await scenario.openCase(nhsNumber, 'custody-reception');
  const custody = await scenario.start('custody-reception', caseId, {
    nhsNumber,
    custodySuite: 'Leeds Elland Road',
    arrivalTime,
  });
  return { caseId, custody };
}

describe('identity on the workflow server with the real activities', () => {
  it('keeps a person PDS does not know on the worklist, and a trace by demographics verifies them', async () => {
    // Given a detainee arrives at 10:00 with an NHS number PDS has no record of
    await scenario.advanceTo('2030-11-04T09:55:00Z');
    const { caseId, custody } = await custodyCase('9111231130', '2030-11-04T10:00:00Z');
    const patientId = await patientIdOf(caseId);

    // Then the case is open, screening is in the worklist and the person is flagged: reception goes on
    const trace = await scenario.child(custody, 'SettleIdentity');
    await scenario.waitFor(trace, 'opened the trace', (v) =>
      v.openTasks.some((t) => t.elementId === 'TraceByDemographics'),
    );
    expect((await custody.describe()).status.name).toBe('RUNNING');
    expect((await openTasks(caseId, 2)).map((t) => [t.element_id, t.candidate_groups])).toEqual([
      ['HealthScreening', ['custody-healthcare']],
      ['TraceByDemographics', ['custody-healthcare']],
    ]);
    expect((await flagsOf('9111231130')).map((f) => [f.code, f.status])).toEqual([['UNVERIFIED_IDENTITY', 'active']]);

    // When the nurse's first trace finds nobody, the task opens again and a note says how to refine it
    await scenario.complete(
      trace,
      'TraceByDemographics',
      example('trace-by-demographics', {
        familyName: 'Smyth',
        givenName: 'Jayne',
        birthDate: '1990-10-22',
        gender: 'female',
        postcode: undefined,
      }),
    );
    await scenario.waitFor(trace, 'opened the trace again', (v) =>
      v.openTasks.some((t) => t.elementId === 'TraceByDemographics' && v.variables['traceOutcome'] === 'no-match'),
    );
    expect(
      await scenario.query(`select body from notes where case_id = ? and body like '[identity]%'`, [caseId]),
    ).toEqual([{ body: expect.stringContaining('Trace by demographics found nobody on PDS') }]);

    // and the second, with the date of birth corrected, finds Mrs Jayne Smyth (sandbox 9000000017)
    await scenario.complete(
      trace,
      'TraceByDemographics',
      example('trace-by-demographics', {
        familyName: 'Smyth',
        givenName: 'Jayne',
        birthDate: '2010-10-22',
        gender: 'female',
        postcode: undefined,
      }),
    );
    const done = await trace.result();
    expect(done.status).toBe('completed');

    // Then her record holds the traced number, the number she arrived with is kept, and the flag is resolved
    const view = await scenario.waitFor(
      custody,
      'took the traced number',
      (v) => v.variables['nhsNumber'] === '9000000017',
    );
    expect(view.variables['patient']).toMatchObject({ nhsNumber: '9000000017', identity: 'verified', patientId });
    expect(await scenario.query('select nhs_number from patients where id = ?', [patientId])).toEqual([
      { nhs_number: '9000000017' },
    ]);
    expect(
      await scenario.query('select value, reason from patient_identifiers where patient_id = ?', [patientId]),
    ).toEqual([{ value: '9111231130', reason: 'traced-by-demographics' }]);
    const flags = await flagsOf('9111231130');
    expect(flags.find((f) => f.code === 'UNVERIFIED_IDENTITY')).toMatchObject({
      status: 'resolved',
      resolutionReason: 'traced by demographics',
    });
    expect(await auditsOf(patientId)).toEqual(
      expect.arrayContaining([
        { action: 'create', entity_type: 'PatientFlag', reason: 'PDS has no record of the number' },
        {
          action: 'create',
          entity_type: 'PatientIdentifier',
          reason: 'former NHS number kept (traced-by-demographics)',
        },
        {
          action: 'update',
          entity_type: 'Patient',
          reason: 'NHS number re-keyed (traced-by-demographics); the former number is kept as an identifier',
        },
        { action: 'update', entity_type: 'PatientFlag', reason: 'traced by demographics' },
      ]),
    );
    // and screening is still hers to do
    expect((await openTasks(caseId, 1)).map((t) => t.element_id)).toEqual(['HealthScreening']);

    await scenario.printTimeline('a person PDS does not know, traced', caseId, [custody, trace]);
    await custody.terminate('scenario over');
  }, 120_000);

  it('suspends Spine calls for an invalidated number: the prison screens the person, the SCR is not fetched, a trace is asked', async () => {
    // Given a person received into prison with an NHS number PDS has invalidated
    await scenario.advanceTo('2030-11-05T09:00:00Z');
    const caseId = await scenario.openCase('9000000076', 'sms-prison');
    const prison = await scenario.start('sms-prison', caseId, { nhsNumber: '9000000076' });
    const trace = await scenario.child(prison, 'SettleIdentity');
    await scenario.waitFor(trace, 'opened the trace', (v) =>
      v.openTasks.some((t) => t.elementId === 'TraceByDemographics'),
    );

    // When reception screens them with permission to view their Summary Care Record
    await scenario.complete(
      prison,
      'ReceptionScreening',
      example('prison-reception-sms', { receptionAt: '2030-11-05T09:10:00Z' }),
    );

    // Then the pathway goes on, the SCR outcome is "suspended" without a call to Spine, and the trace is open
    const view = await scenario.waitFor(
      prison,
      'recorded the SCR outcome',
      (v) => v.variables['summaryStatus'] !== undefined,
    );
    expect(view.variables['summaryStatus']).toBe('suspended');
    // (the second-stage health assessment, due within 7 days, opens at reception beside the referral)
    expect(view.openTasks.map((t) => t.elementId)).toEqual(['SecondStageHealthAssessment', 'ReferToSms']);
    expect(scenario.spineRequests.filter((r) => r.path.includes('summary-care-record'))).toEqual([]);
    expect((await openTasks(caseId, 3)).map((t) => [t.element_id, t.candidate_groups])).toEqual([
      ['ReferToSms', ['sms-team']],
      ['SecondStageHealthAssessment', ['prison-healthcare']],
      ['TraceByDemographics', ['prison-healthcare']],
    ]);
    expect((await flagsOf('9000000076')).map((f) => [f.code, f.status, f.raiseReason])).toEqual([
      ['INVALIDATED_NHS_NUMBER', 'active', 'PDS invalidated the number'],
    ]);
    expect(await scenario.query(`select body from notes where case_id = ? and body like '[scr]%'`, [caseId])).toEqual([
      { body: expect.stringContaining('Spine calls for this person are suspended until they are traced again') },
    ]);

    await scenario.printTimeline('an invalidated NHS number in prison', caseId, [prison, trace]);
    await prison.terminate('scenario over');
  }, 120_000);

  it('re-keys a superseded number to the one that replaced it, for the record and every later Spine call', async () => {
    // Given a person received into prison under 9000000041, which PDS merged into 9000000068 (Mr Thomas Brown)
    await scenario.advanceTo('2030-11-06T09:00:00Z');
    const caseId = await scenario.openCase('9000000041', 'sms-prison');
    const patientId = await patientIdOf(caseId);
    const prison = await scenario.start('sms-prison', caseId, { nhsNumber: '9000000041' });

    // Then the case carries the new number, the record holds it, the old one is kept, and nobody is asked to trace
    let view = await scenario.waitFor(prison, 'traced', (v) =>
      v.openTasks.some((t) => t.elementId === 'ReceptionScreening'),
    );
    expect(view.variables['nhsNumber']).toBe('9000000068');
    expect(view.variables['patient']).toMatchObject({
      nhsNumber: '9000000068',
      identity: 'verified',
      supersededNhsNumber: '9000000041',
    });
    expect(view.activeElements.map((e) => e.elementId)).not.toContain('SettleIdentity');
    expect(await scenario.query('select nhs_number from patients where id = ?', [patientId])).toEqual([
      { nhs_number: '9000000068' },
    ]);
    expect(
      await scenario.query('select value, reason from patient_identifiers where patient_id = ?', [patientId]),
    ).toEqual([{ value: '9000000041', reason: 'superseded-on-pds' }]);
    expect(await auditsOf(patientId)).toEqual(
      expect.arrayContaining([
        { action: 'create', entity_type: 'PatientIdentifier', reason: 'former NHS number kept (superseded-on-pds)' },
        {
          action: 'update',
          entity_type: 'Patient',
          reason: 'NHS number re-keyed (superseded-on-pds); the former number is kept as an identifier',
        },
      ]),
    );

    // When reception screens him with permission: the Summary Care Record is asked for under the new number
    await scenario.complete(
      prison,
      'ReceptionScreening',
      example('prison-reception-sms', { receptionAt: '2030-11-06T09:10:00Z' }),
    );
    view = await scenario.waitFor(prison, 'fetched the SCR', (v) => v.variables['summaryStatus'] !== undefined);
    expect(view.variables['summaryStatus']).toBe('available');
    const scrCalls = scenario.spineRequests.filter((r) => r.path.includes('summary-care-record'));
    expect(scrCalls.length).toBeGreaterThan(0);
    expect(scrCalls.every((r) => r.url.includes('nhs-number|9000000068') && !r.url.includes('9000000041'))).toBe(true);
    expect(scenario.spineRequests.filter((r) => r.path.endsWith('/Patient/9000000041'))).toHaveLength(1);

    await scenario.printTimeline('a superseded NHS number', caseId, [prison]);
    await prison.terminate('scenario over');
  }, 120_000);

  it('flags a person PDS records as deceased as a warning, and custody reception goes on', async () => {
    await scenario.advanceTo('2030-11-07T09:00:00Z');
    const { caseId, custody } = await custodyCase('9000000009', '2030-11-07T09:30:00Z');

    const view = await scenario.waitFor(custody, 'at screening', (v) =>
      v.openTasks.some((t) => t.elementId === 'HealthScreening'),
    );
    expect(view.variables['patient']).toMatchObject({ identity: 'verified', deceased: true });
    expect(view.activeElements.map((e) => e.elementId)).not.toContain('SettleIdentity');
    expect((await flagsOf('9000000009')).map((f) => [f.code, f.severity, f.status])).toEqual([
      ['DECEASED_ON_PDS', 'warning', 'active'],
    ]);
    await scenario.complete(custody, 'HealthScreening', example('custody-health-screening'));
    await scenario.waitFor(custody, 'screened', (v) => v.openTasks.some((t) => t.elementId === 'SetObservationLevel'));

    await scenario.printTimeline('deceased on PDS', caseId, [custody]);
    await custody.terminate('scenario over');
  }, 120_000);

  it('flags a restricted record on the person in release support too, not only in custody', async () => {
    // Given release support started on its own for Mrs Janet Smythe (sandbox 9000000025, PDS confidentiality R)
    await scenario.advanceTo('2030-11-08T09:00:00Z');
    const caseId = await scenario.openCase('9000000025', 'release-support');
    const release = await scenario.start('release-support', caseId, { nhsNumber: '9000000025' });

    const view = await scenario.waitFor(release, 'planning', (v) =>
      v.openTasks.some((t) => t.elementId === 'PlanRelease'),
    );
    expect(view.variables['patient']).toMatchObject({ identity: 'verified', restricted: true, gpOdsCode: null });
    const flags = await flagsOf('9000000025');
    expect(flags.filter((f) => f.status === 'active').map((f) => [f.code, f.severity])).toEqual([
      ['RESTRICTED_RECORD', 'high'],
      ['DECEASED_ON_PDS', 'warning'],
    ]);
    expect(flags[0]?.raisedInCaseId).toBe(caseId);
    expect((await release.query(stateQuery)).status).toBe('active');

    await scenario.printTimeline('a restricted record in release support', caseId, [release]);
    await release.terminate('scenario over');
  }, 120_000);

  // Fails until the runPathway shell waits for a cancelled child pathway to close its tasks when a pathway ends at
  // a terminate end event (today it does so only when a person terminates the case): the child is then terminated
  // by the server with its task still open in the worklist. Remove `.failing` when the shell does.
  it('withdraws the trace task from the worklist when custody ends before anyone traced the person', async () => {
    await scenario.advanceTo('2030-11-09T09:00:00Z');
    const { caseId, custody } = await custodyCase('9111231130', '2030-11-09T09:30:00Z');
    const trace = await scenario.child(custody, 'SettleIdentity');
    await scenario.waitFor(trace, 'opened the trace', (v) =>
      v.openTasks.some((t) => t.elementId === 'TraceByDemographics'),
    );

    expect((await scenario.throughCustody(custody, caseId)).status).toBe('terminated');

    await scenario.queryUntil<{ status: string }>(
      'withdrew the trace task',
      `select status from worklist_tasks where case_id = ? and element_id = 'TraceByDemographics'`,
      [caseId],
      (rows) => rows.length === 1 && rows[0]?.status === 'cancelled',
    );
    // and the person keeps the flag for the next setting
    expect((await flagsOf('9111231130')).filter((f) => f.status === 'active').map((f) => f.code)).toContain(
      'UNVERIFIED_IDENTITY',
    );
  }, 120_000);
});
