/**
 * The journey on the time-skipping server with the real activities: custody reception and the prison
 * pathway run as child workflows (call activities, their IRs resolved from the deployed versions by the
 * `resolvePathway` activity), and a custody alert raised at the police station is on the person's record
 * when the prison takes over, carried by the Person Escort Record and the journey's `alertIds`.
 *
 * Messages go to the workflow that waits for them: `custody.leaving` to the custody child, `court.outcome`
 * to the journey (the shell does not forward a case's messages to its children; see the report).
 */
import { randomUUID } from 'node:crypto';
import { addStaff } from '../../engine';
import { listPatientFlags } from '../../store';
import { stateQuery } from '../../workflows';
import { STAFF, example, useScenario } from './scenario-harness';

const scenario = useScenario('scenario_journey');

describe('the journey on the workflow server with the real activities', () => {
  it('shows the alerts raised in police custody to the prison after the transfer', async () => {
    // Given Mrs Jane Smith (sandbox 9000000009) arrives at a custody suite on Monday 2 September 2030
    await scenario.advanceTo('2030-09-02T13:00:00Z');
    const nhsNumber = '9000000009';
    const caseId = await scenario.openCase(nhsNumber, 'journey');
    const journey = await scenario.start('journey', caseId, {
      nhsNumber,
      custodySuite: 'Leeds Elland Road',
      arrivalTime: '2030-09-02T13:30:00Z',
    });

    // When the custody nurse screens her, sets the observation level and she leaves for court
    const custody = await scenario.child(journey, 'CustodyStage');
    const custodyEnd = await scenario.throughCustody(custody, caseId);
    // custody ends with a terminate end event: it withdraws an identity trace still open beside it (none here)
    expect(custodyEnd.status).toBe('terminated');
    const custodyAlertIds = custodyEnd.variables['custodyAlertIds'] as string[];
    expect(custodyAlertIds).toHaveLength(2);
    // Nothing of custody is left open in the worklist once it has ended.
    await scenario.queryUntil(
      'custody tasks closed',
      `select element_id, status from worklist_tasks where workflow_id = ? and status in ('open', 'planned')`,
      [custody.workflowId],
      (rows) => rows.length === 0,
    );

    // and the court remands her to HMP Leeds
    await scenario.sendWhenWaiting(journey, 'court.outcome', caseId, {
      courtOutcome: 'remanded-in-custody',
      prisonNumber: 'A1234BC',
      establishment: 'HMP Leeds',
    });
    const prison = await scenario.child(journey, 'PrisonStage');
    await scenario.waitFor(prison, 'at reception', (v) =>
      v.openTasks.some((t) => t.elementId === 'ReceptionScreening'),
    );

    // Then the prison's reception task is in the worklist of the same case, for prison healthcare
    const receptionTasks = await scenario.queryUntil<{ workflow_id: string; candidate_groups: string[] }>(
      'projected the reception task',
      `select workflow_id, candidate_groups from worklist_tasks where case_id = ? and element_id = 'ReceptionScreening'`,
      [caseId],
      (rows) => rows.length > 0,
    );
    expect(receptionTasks).toEqual([{ workflow_id: prison.workflowId, candidate_groups: ['prison-healthcare'] }]);
    // and the custody alerts are active on her record, as the prison sees it
    const visibleInPrison = await scenario.query<{ id: string; code: string; status: string }>(
      `select a.id, a.code, a.status from alerts a
        where a.patient_id = (select patient_id from cases where id = ?) and a.status = 'active' order by a.code`,
      [caseId],
    );
    expect(visibleInPrison.map((a) => [a.code, a.status])).toEqual([
      ['ALCOHOL_WITHDRAWAL_RISK', 'active'],
      ['SUBSTANCE_DEPENDENCE', 'active'],
    ]);
    expect(visibleInPrison.map((a) => a.id).sort()).toEqual([...custodyAlertIds].sort());
    // and the prison pathway was given them, with the Person Escort Record that lists them
    const prisonView = await prison.query(stateQuery);
    expect(prisonView.variables['alertIds']).toEqual(custodyAlertIds);
    const handovers = await scenario.query<{ id: string; form_version: string; data: { alertIds: string[] } }>(
      `select id, form_version, data from assessments where case_id = ? and form_id = 'handover'`,
      [caseId],
    );
    expect(handovers).toHaveLength(1);
    expect(handovers[0]?.form_version).toBe('person-escort-record');
    expect(handovers[0]?.data.alertIds).toEqual(custodyAlertIds);
    expect(prisonView.variables['handoverId']).toBe(handovers[0]?.id);
    // and the Liaison and Diversion referral the nurse chose was recorded
    expect(
      await scenario.query(`select count(*)::int as n from assessments where case_id = ? and form_id = ?`, [
        caseId,
        'liaison-diversion-referral',
      ]),
    ).toEqual([{ n: 1 }]);

    await scenario.printTimeline('custody to prison', caseId, [journey, custody, prison]);
    await scenario.recordHistory(journey, 'journey-custody-to-prison');
    await scenario.recordHistory(custody, 'journey-custody-reception-child');
    await journey.terminate('scenario over');
  }, 120_000);

  it('carries an unverified identity from custody to prison: the flag stays on the person and the prison traces them', async () => {
    // Given a detainee whose NHS number PDS does not know arrives at a custody suite on Monday 9 September 2030
    await scenario.advanceTo('2030-09-09T13:00:00Z');
    const nhsNumber = '9111231130';
    const caseId = await scenario.openCase(nhsNumber, 'journey');
    const journey = await scenario.start('journey', caseId, {
      nhsNumber,
      custodySuite: 'Leeds Elland Road',
      arrivalTime: '2030-09-09T13:30:00Z',
    });
    const custody = await scenario.child(journey, 'CustodyStage');
    const custodyTrace = await scenario.child(custody, 'SettleIdentity');
    await scenario.waitFor(custodyTrace, 'asked custody to trace', (v) =>
      v.openTasks.some((t) => t.elementId === 'TraceByDemographics'),
    );

    // When custody healthcare is done before anyone traced them, and the court remands them
    expect((await scenario.throughCustody(custody, caseId)).status).toBe('terminated');
    await scenario.sendWhenWaiting(journey, 'court.outcome', caseId, {
      courtOutcome: 'remanded-in-custody',
      prisonNumber: 'A1234BC',
      establishment: 'HMP Leeds',
    });

    // Then custody's trace ended with custody, the person is still flagged, and the prison's reception team traces them
    expect((await custodyTrace.describe()).status.name).not.toBe('RUNNING');
    const prison = await scenario.child(journey, 'PrisonStage');
    const prisonTrace = await scenario.child(prison, 'SettleIdentity');
    await scenario.waitFor(prisonTrace, 'asked the prison to trace', (v) =>
      v.openTasks.some((t) => t.elementId === 'TraceByDemographics'),
    );
    const traces = await scenario.queryUntil<{ workflow_id: string; candidate_groups: string[] }>(
      'projected the prison trace task',
      `select workflow_id, candidate_groups from worklist_tasks where case_id = ? and element_id = 'TraceByDemographics' order by created_at`,
      [caseId],
      (rows) => rows.length === 2,
    );
    expect(traces).toEqual([
      { workflow_id: custodyTrace.workflowId, candidate_groups: ['custody-healthcare'] },
      { workflow_id: prisonTrace.workflowId, candidate_groups: ['prison-healthcare'] },
    ]);
    const flags = await listPatientFlags(scenario.store.fork(), { nhsNumber }, { includeResolved: true });
    expect(flags.map((f) => [f.code, f.status])).toEqual([['UNVERIFIED_IDENTITY', 'active']]);
    expect(await prison.query(stateQuery)).toMatchObject({
      openTasks: [expect.objectContaining({ elementId: 'ReceptionScreening' })],
    });

    // When the prison traces Mr Thomas Brown (sandbox 9000000068) by his demographics
    await scenario.complete(prisonTrace, 'TraceByDemographics', example('trace-by-demographics'));

    // Then the prison stage carries his traced number and the flag is resolved, for every setting after
    const traced = await scenario.waitFor(
      prison,
      'took the traced number',
      (v) => v.variables['nhsNumber'] === '9000000068',
    );
    expect(traced.variables['patient']).toMatchObject({ identity: 'verified', nhsNumber: '9000000068' });
    expect((await listPatientFlags(scenario.store.fork(), { nhsNumber: '9000000068' })).map((f) => f.code)).toEqual([]);

    await scenario.printTimeline('an unverified identity from custody to prison', caseId, [
      journey,
      custody,
      custodyTrace,
      prison,
      prisonTrace,
    ]);
    await journey.terminate('scenario over');
  }, 120_000);

  it("addresses the prison stage's notices to the staff of the prison the court sent the person to", async () => {
    // Given HMP Scenario Two with its own prison healthcare lead, and a journey opened at the scenario's custody setting
    await scenario.advanceTo('2030-09-16T13:00:00Z');
    await scenario.store.orm.em
      .getConnection()
      .getKnex()('settings')
      .insert({ id: randomUUID(), ods_code: 'XPRSJ2', name: 'HMP Scenario Two', kind: 'prison', prison_type: 'HMP' });
    await addStaff(scenario.store, {
      name: 'Jo Prison',
      email: 'jo.prison@scenario.nhs.test',
      duties: ['prison-healthcare', 'sms-team-lead'],
      settings: ['XPRSJ2'],
    });
    const nhsNumber = '9000000068';
    const caseId = await scenario.openCase(nhsNumber, 'journey');
    const journey = await scenario.start('journey', caseId, {
      nhsNumber,
      custodySuite: 'Leeds Elland Road',
      arrivalTime: '2030-09-16T13:30:00Z',
    });
    const custody = await scenario.child(journey, 'CustodyStage');
    await scenario.throughCustody(custody, caseId);

    // When the court remands them to HMP Scenario Two, which receives them on Tuesday 17 September
    await scenario.sendWhenWaiting(journey, 'court.outcome', caseId, {
      courtOutcome: 'remanded-in-custody',
      prisonNumber: 'A1234BC',
      establishment: 'HMP Scenario Two',
      prisonOdsCode: 'XPRSJ2',
    });
    const prison = await scenario.child(journey, 'PrisonStage');
    await scenario.advanceTo('2030-09-17T10:30:00Z');
    await scenario.complete(
      prison,
      'ReceptionScreening',
      example('prison-reception-sms', { receptionAt: '2030-09-17T10:00:00Z' }),
    );

    // and the second-stage health assessment is not done by the end of Tuesday 24 September (London)
    await scenario.advanceTo('2030-09-25T06:00:00Z');

    // Then that prison's healthcare lead is told it is overdue, not the staff of the setting the case was opened in
    const inbox = await scenario.inbox(caseId);
    const overdue = inbox.filter((m) => m.subject.includes('Second-stage health assessment overdue'));
    expect(overdue.map((m) => m.recipient)).toEqual(['Jo Prison <jo.prison@scenario.nhs.test>']);
    expect(inbox.some((m) => m.recipient.startsWith(STAFF.prisonHealthcare))).toBe(false);
    await journey.terminate('scenario over');
  }, 120_000);
});
