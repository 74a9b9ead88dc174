/**
 * Never two live records for one NHS number without a task saying so: a person arrives in custody under a
 * superseded number (sandbox 9000000041) while the record already holds a record for the number that replaced
 * it (9000000068). The records are linked and flagged, custody reception goes on, and custody healthcare is
 * asked whether they are the same person; the same person merges them (the case moves onto the record that holds
 * the number; nothing recorded is changed or deleted).
 */
import { listPatientFlags } from '../../store';
import { example, useScenario } from './scenario-harness';

const scenario = useScenario('scenario_duplicate');

function patientIdOf(caseId: string) {
  return scenario
    .query<{ patient_id: string }>('select patient_id from cases where id = ?', [caseId])
    .then((rows) => rows[0]?.patient_id ?? '');
}

describe('a possible duplicate record on the workflow server with the real activities', () => {
  it('links both records for a person to merge, and merges them when they are the same person', async () => {
    // Given the record already knows Mr Thomas Brown under 9000000068, from an earlier case
    await scenario.advanceTo('2030-11-11T08:00:00Z');
    const earlier = await scenario.openCase('9000000068', 'custody-reception');
    const held = await patientIdOf(earlier);

    // When he arrives in custody under his superseded number 9000000041 (a record of its own until now)
    const caseId = await scenario.openCase('9000000041', 'custody-reception');
    const mine = await patientIdOf(caseId);
    expect(mine).not.toBe(held);
    const custody = await scenario.start('custody-reception', caseId, {
      nhsNumber: '9000000041',
      custodySuite: 'Leeds Elland Road',
      arrivalTime: '2030-11-11T08:30:00Z',
    });

    // Then screening is in the worklist, and so is the duplicate review for custody healthcare, naming both records
    const settle = await scenario.child(custody, 'SettleIdentity');
    const view = await scenario.waitFor(settle, 'asked for a review', (v) =>
      v.openTasks.some((t) => t.elementId === 'ReviewPossibleDuplicate'),
    );
    expect(view.variables['patient']).toMatchObject({
      patientId: mine,
      possibleDuplicateOf: held,
      identity: 'verified',
    });
    const tasks = await scenario.queryUntil<{ element_id: string; candidate_groups: string[] }>(
      'projected both tasks',
      `select element_id, candidate_groups from worklist_tasks where case_id = ? and status = 'open' order by element_id`,
      [caseId],
      (rows) => rows.length === 2,
    );
    expect(tasks).toEqual([
      { element_id: 'HealthScreening', candidate_groups: ['custody-healthcare'] },
      { element_id: 'ReviewPossibleDuplicate', candidate_groups: ['custody-healthcare'] },
    ]);
    // and both records are flagged and linked: the one this case opened points at the one that holds the number
    for (const [patientId, related] of [
      [mine, held],
      [held, mine],
    ] as const) {
      expect(await listPatientFlags(scenario.store.fork(), { patientId })).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ code: 'POSSIBLE_DUPLICATE_RECORD', relatedPatientId: related, status: 'active' }),
        ]),
      );
    }
    expect(await scenario.query('select nhs_number, superseded_by_id from patients where id = ?', [mine])).toEqual([
      { nhs_number: '9000000041', superseded_by_id: held },
    ]);
    // and the case uses the live number for Spine from now on
    expect((await scenario.waitFor(custody, 'took the live number', () => true)).variables['nhsNumber']).toBe(
      '9000000068',
    );

    // When the nurse decides they are the same person
    await scenario.complete(settle, 'ReviewPossibleDuplicate', example('possible-duplicate-record'));
    expect((await settle.result()).status).toBe('completed');

    // Then the case is on the record that holds the number, both flags are resolved, and the decision is kept
    expect(await scenario.query('select patient_id from cases where id = ?', [caseId])).toEqual([{ patient_id: held }]);
    for (const patientId of [mine, held]) {
      const flags = await listPatientFlags(scenario.store.fork(), { patientId }, { includeResolved: true });
      expect(flags.find((f) => f.code === 'POSSIBLE_DUPLICATE_RECORD')).toMatchObject({
        status: 'resolved',
        resolutionReason: 'duplicate reviewed: the same person',
      });
    }
    expect(
      await scenario.query(`select data->>'decision' as decision from assessments where case_id = ? and form_id = ?`, [
        caseId,
        'possible-duplicate-record',
      ]),
    ).toEqual([{ decision: 'same-person' }]);
    expect(
      await scenario.query<{ entity_type: string; reason: string }>(
        `select entity_type, reason from audit_events where patient_id = ? and entity_type in ('Case', 'Patient') and reason like '%duplicate%' order by occurred_at`,
        [held],
      ),
    ).toEqual([
      {
        entity_type: 'Case',
        reason: 'moved onto the record that holds the NHS number: the same person (duplicate reviewed)',
      },
    ]);
    const done = await scenario.waitFor(
      custody,
      'took the merged record',
      (v) => (v.variables['patient'] as { patientId?: string } | undefined)?.patientId === held,
    );
    expect(done.variables['nhsNumber']).toBe('9000000068');

    await scenario.printTimeline('a possible duplicate record', caseId, [custody, settle]);
    await custody.terminate('scenario over');
  }, 120_000);
});
