/**
 * The Summary Care Record at prison reception, on the time-skipping server with the real activities and the Spine
 * sandbox's patients: every answer that is not a summary is an outcome the case records (`summaryStatus` and a
 * note the clinician sees) while the pathway goes on to the referral; viewing without recorded permission needs
 * an emergency access reason and is audited as emergency access.
 */
import { example, useScenario, type Vars } from './scenario-harness';

const scenario = useScenario('scenario_scr');

interface Received {
  caseId: string;
  status: unknown;
  summaryId: unknown;
  openTasks: string[];
  notes: string[];
}

let day = 0;
/** Receives the person into prison, screens them with `reception` overrides, and waits for the SCR outcome. */
async function receive(nhsNumber: string, reception: Vars): Promise<Received> {
  day += 1;
  const at = `2030-12-${String(day).padStart(2, '0')}T09:00:00Z`;
  await scenario.advanceTo(at);
  const caseId = await scenario.openCase(nhsNumber, 'sms-prison');
  const prison = await scenario.start('sms-prison', caseId, { nhsNumber });
  await scenario.complete(
    prison,
    'ReceptionScreening',
    example('prison-reception-sms', { receptionAt: at, ...reception }),
  );
  const view = await scenario.waitFor(
    prison,
    'recorded the SCR outcome',
    (v) => v.variables['summaryStatus'] !== undefined,
  );
  const notes = await scenario.query<{ body: string }>(
    `select body from notes where case_id = ? and body like '[scr]%' order by written_at`,
    [caseId],
  );
  await scenario.printTimeline(`Summary Care Record of ${nhsNumber}`, caseId, [prison]);
  await prison.terminate('scenario over');
  return {
    caseId,
    status: view.variables['summaryStatus'],
    summaryId: view.variables['summaryCareRecordId'],
    openTasks: view.openTasks.map((t) => t.elementId),
    notes: notes.map((n) => n.body),
  };
}

function scrAudits(caseId: string) {
  return scenario.query<{ action: string; purpose: string; reason: string }>(
    `select action, purpose, reason from audit_events where entity_type = 'SummaryCareRecord' and request_id = ?`,
    [`case-${caseId}`],
  );
}

describe('the Summary Care Record on the workflow server with the real activities', () => {
  it('stores the summary of a person who gave permission, audited as care', async () => {
    const received = await receive('9000000009', { summaryCareRecordConsent: 'given' });

    expect(received).toMatchObject({
      status: 'available',
      summaryId: expect.any(String),
      openTasks: ['SecondStageHealthAssessment', 'ReferToSms'],
    });
    expect(received.notes).toEqual([
      "[scr] Summary Care Record fetched with the person's permission: 2 allergies and 4 medications recorded.",
    ]);
    expect(await scrAudits(received.caseId)).toEqual([
      { action: 'read', purpose: 'TREAT', reason: "Summary Care Record fetched with the person's recorded permission" },
    ]);
  }, 60_000);

  it.each([
    ['9000000017', 'given', 'opted-out', 'The person has opted out of the Summary Care Record'],
    ['9000000025', 'given', 'access-denied', 'Spine access control refused the Summary Care Record (not retried)'],
    ['9000000033', 'given', 'none', 'No Summary Care Record exists for this person'],
    ['9000000068', 'declined', 'permission-not-recorded', "the person's permission is not recorded (they declined)"],
  ])(
    'records %s (permission %s) as the outcome %s, with a note, and goes on to the referral',
    async (nhsNumber, consent, status, note) => {
      const received = await receive(nhsNumber, { summaryCareRecordConsent: consent });

      expect(received).toMatchObject({
        status,
        summaryId: null,
        openTasks: ['SecondStageHealthAssessment', 'ReferToSms'],
      });
      expect(received.notes).toEqual([expect.stringContaining(note)]);
    },
    60_000,
  );

  it('views the summary without recorded permission only under an emergency access reason, audited as emergency access', async () => {
    const reason = 'Unresponsive at reception; on methadone per escort record, dose unknown';
    const received = await receive('9000000068', {
      summaryCareRecordConsent: 'not-asked',
      summaryCareRecordEmergencyReason: reason,
    });

    expect(received).toMatchObject({
      status: 'available',
      summaryId: expect.any(String),
      openTasks: ['SecondStageHealthAssessment', 'ReferToSms'],
    });
    expect(received.notes).toEqual([
      '[scr] Summary Care Record fetched WITHOUT recorded permission, under emergency access: 0 allergies and 1 medication recorded.',
    ]);
    expect(await scrAudits(received.caseId)).toEqual([
      {
        action: 'read',
        purpose: 'ETREAT',
        reason: `Summary Care Record fetched WITHOUT recorded permission under emergency access: ${reason}`,
      },
    ]);
  }, 60_000);
});
