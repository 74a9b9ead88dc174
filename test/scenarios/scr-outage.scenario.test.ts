/**
 * A Summary Care Record outage at prison reception, on the time-skipping server with the real activities: the SCR
 * sandbox answers 503 three times to every request (PDS answers as usual). The pathway goes on to the referral
 * at once; the fetch is retried in the background on the SCR API's growing schedule (1 minute, 30 minutes, 1, 2,
 * 4 and 8 hours) and the summary arrives some 15 hours later.
 */
import { stateQuery } from '../../workflows';
import { example, useScenario } from './scenario-harness';

const scenario = useScenario('scenario_scr_outage', {
  scr: { transientFailure: { status: 503, times: 3, retryAfterSeconds: 5 } },
});

describe('a Summary Care Record outage on the workflow server with the real activities', () => {
  it('goes on without the summary and records it when Spine answers again, hours later', async () => {
    // Given Mr Thomas Brown (sandbox 9000000068) received into prison on Monday 6 January 2031 at 09:00
    await scenario.advanceTo('2031-01-06T08:55:00Z');
    const caseId = await scenario.openCase('9000000068', 'sms-prison');
    const prison = await scenario.start('sms-prison', caseId, { nhsNumber: '9000000068' });

    // When reception screens him with permission to view his SCR while the SCR API is down
    await scenario.complete(
      prison,
      'ReceptionScreening',
      example('prison-reception-sms', { receptionAt: '2031-01-06T09:00:00Z', summaryCareRecordConsent: 'given' }),
    );

    // Then the referral is in the worklist at once, with the fetch still trying in the background
    let view = await scenario.waitFor(prison, 'at the referral', (v) =>
      v.openTasks.some((t) => t.elementId === 'ReferToSms'),
    );
    expect(view.activeElements.map((e) => e.elementId)).toEqual(expect.arrayContaining(['FetchSummaryCareRecord']));
    expect(view.variables['summaryStatus']).toBeUndefined();
    // and the team refers him without waiting for it
    await scenario.complete(prison, 'ReferToSms', example('sms-referral'));
    await scenario.waitFor(prison, 'at the dual diagnosis screen', (v) =>
      v.openTasks.some((t) => t.elementId === 'DualDiagnosis'),
    );

    // When 8 hours pass: five attempts so far (after 1 minute, 30 minutes, 1 and 2 hours), still failing
    await scenario.advanceTo('2031-01-06T17:00:00Z');
    view = await prison.query(stateQuery);
    expect(view.variables['summaryStatus']).toBeUndefined();

    // When Spine answers again: the summary is recorded some 15.5 hours after the first attempt
    await scenario.advanceTo('2031-01-07T02:00:00Z');
    view = await scenario.waitFor(prison, 'recorded the SCR', (v) => v.variables['summaryStatus'] !== undefined);
    expect(view.variables['summaryStatus']).toBe('available');
    expect(view.variables['summaryCareRecordId']).toEqual(expect.any(String));
    // the seventh attempt: 1 + 30 + 60 + 120 + 240 + 480 minutes after the first
    const fetched = view.trail.find((e) => e.elementId === 'FetchSummaryCareRecord');
    const waitedMinutes = (Date.parse(fetched?.leftAt ?? '') - Date.parse(fetched?.enteredAt ?? '')) / 60_000;
    expect(Math.abs(waitedMinutes - 931)).toBeLessThan(2);
    expect(await scenario.query(`select body from notes where case_id = ? and body like '[scr]%'`, [caseId])).toEqual([
      {
        body: "[scr] Summary Care Record fetched with the person's permission: 0 allergies and 1 medication recorded.",
      },
    ]);
    // three refused look-ups, then four Bundle reads of which three refused: each Temporal attempt re-sent its ids
    const scrRequests = scenario.spineRequests.filter((r) => r.path.includes('summary-care-record'));
    expect(scrRequests.map((r) => r.path.split('/').at(-1))).toEqual([
      'DocumentReference',
      'DocumentReference',
      'DocumentReference',
      'DocumentReference',
      'Bundle',
      'DocumentReference',
      'Bundle',
      'DocumentReference',
      'Bundle',
      'DocumentReference',
      'Bundle',
    ]);
    // (the second-stage health assessment, due within 7 days, opened at reception beside the referral)
    expect(view.openTasks.map((t) => t.elementId)).toEqual(['SecondStageHealthAssessment', 'DualDiagnosis']);

    await scenario.printTimeline('a Summary Care Record outage', caseId, [prison]);
    await prison.terminate('scenario over');
  }, 120_000);
});
