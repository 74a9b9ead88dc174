/**
 * A case keeps the pathway version it started on. The IR travels in the workflow's start input, so deploying a
 * new version of sms-prison (calendar deadlines in Europe/London, planned milestones) changes nothing for a case
 * already running: its reviews stay due on the old rule, 24-hour days from the reception instant, and it runs to
 * its end on that version. The workflow code needed no `patched()` for this change: the interpreter gained FEEL
 * functions only new pathway versions call, and the recorded histories (test/fixtures/histories) replay as they
 * are (test/replay).
 *
 * test/fixtures/bpmn/sms-prison-24-hour-days.bpmn is sms-prison as it was shipped before the change.
 */
import fs from 'node:fs';
import path from 'node:path';
import { deployPathway, getPathwayVersion, shippedLintOptions } from '../../engine';
import { type PathwayHandle, TASK_QUEUE, example, useScenario } from './scenario-harness';

const scenario = useScenario('scenario_versions');
const NHS_NUMBER = '9000000068';
const OLD_VERSION = path.join(__dirname, '..', 'fixtures', 'bpmn', 'sms-prison-24-hour-days.bpmn');

async function dueOf(caseId: string, elementId: string): Promise<string> {
  const [row] = await scenario.queryUntil<{ due_at: Date | string }>(
    `worklist task ${elementId}`,
    `select due_at from worklist_tasks where case_id = ? and element_id = ? and status = 'open'`,
    [caseId, elementId],
    (rows) => rows.length === 1,
  );
  return new Date(row!.due_at).toISOString();
}

describe('a case started on an earlier pathway version', () => {
  it('runs its reviews on the old 24-hour rule and finishes on that version after a new one is deployed', async () => {
    const version = await deployPathway(scenario.store, fs.readFileSync(OLD_VERSION, 'utf8'), {
      ...shippedLintOptions(),
      deployedBy: 'scenario-tests',
    });
    const old = await getPathwayVersion(scenario.store, 'sms-prison', version.version);

    // Reception on Wednesday 26 October 2033 at 14:10 BST; the clocks go back on Sunday 30 October.
    const receptionAt = '2033-10-26T13:10:00Z';
    await scenario.advanceTo('2033-10-26T13:00:00Z');
    const caseId = await scenario.openCase(NHS_NUMBER, 'sms-prison');
    const handle = (await scenario.env.client.workflow.start('runPathway', {
      taskQueue: TASK_QUEUE,
      workflowId: `case-${caseId}`,
      args: [
        {
          ir: old.ir,
          caseId,
          variables: { caseId, nhsNumber: NHS_NUMBER, prisonNumber: 'A1234BC', establishment: 'HMP Leeds' },
          pathwayVersionId: `sms-prison@${old.version}`,
        },
      ],
    })) as PathwayHandle;

    await scenario.complete(handle, 'ReceptionScreening', example('prison-reception-sms', { receptionAt }));
    await scenario.complete(handle, 'ReferToSms', example('sms-referral'));
    await scenario.complete(handle, 'DualDiagnosis', example('sms-dual-diagnosis'));
    await scenario.complete(
      handle,
      'RiskAssessment',
      example('sms-risk-assessment', { briefInterventionRequired: false, briefInterventionReason: undefined }),
    );
    await scenario.complete(handle, 'AssignCaseload', example('sms-caseload-assignment'));
    await scenario.complete(handle, 'TopAtStart', example('top-secure-setting'));

    // The old rule: five 24-hour days from 13:10 UTC, 13:10 on the London clock after the change.
    expect(await dueOf(caseId, 'FiveDayReview')).toBe('2033-10-31T13:10:00.000Z');
    await scenario.complete(handle, 'FiveDayReview', example('sms-review', { reviewType: 'five-day' }));
    expect(await dueOf(caseId, 'TwentyEightDayReview')).toBe('2033-11-23T13:10:00.000Z');
    await scenario.complete(handle, 'TwentyEightDayReview', example('sms-review', { reviewType: 'twenty-eight-day' }));
    expect(await dueOf(caseId, 'ThirteenWeekReview')).toBe('2034-01-25T13:10:00.000Z');
    await scenario.complete(handle, 'ThirteenWeekReview', example('sms-review', { reviewType: 'thirteen-week' }));
    await scenario.complete(handle, 'CarePlan', example('sms-care-plan'));
    await scenario.waitFor(handle, 'waiting for discharge', (v) =>
      v.messageSubscriptions.some((m) => m.messageName === 'prison.discharge'),
    );
    await scenario.send(handle, 'prison.discharge', caseId);
    await scenario.complete(handle, 'RecordDischarge', example('sms-discharge'));
    await scenario.waitFor(handle, 'watching for a recall', (v) =>
      v.activeElements.some((e) => e.elementId === 'RecallWatch'),
    );

    // The recall watch of the old version (28 days) runs out and the case ends there.
    await scenario.advanceTo('2033-12-31T12:00:00Z');
    const result = await handle.result();
    expect(result.status).toBe('terminated');
    const unfinished = await scenario.query<{ n: number }>(
      `select count(*)::int as n from worklist_tasks where case_id = ? and status not in ('completed', 'cancelled')`,
      [caseId],
    );
    expect(unfinished).toEqual([{ n: 0 }]);
    await scenario.printTimeline('a case on the version before calendar deadlines', caseId, [handle]);

    // A case started now, on the shipped version, plans the same review on the calendar rule instead: the end of
    // the fifth London day (Sunday 26 March 2034 the clocks go forward, so 23:59:59 BST is 22:59:59 UTC).
    const newReceptionAt = '2034-03-23T14:10:00Z';
    await scenario.advanceTo('2034-03-23T14:00:00Z');
    const newCaseId = await scenario.openCase(NHS_NUMBER, 'sms-prison');
    const newHandle = await scenario.start('sms-prison', newCaseId, {
      nhsNumber: NHS_NUMBER,
      prisonNumber: 'A1234BC',
      establishment: 'HMP Leeds',
    });
    await scenario.complete(
      newHandle,
      'ReceptionScreening',
      example('prison-reception-sms', { receptionAt: newReceptionAt }),
    );
    await scenario.complete(newHandle, 'ReferToSms', example('sms-referral'));
    const [planned] = await scenario.queryUntil<{ due_at: Date | string }>(
      'the 5-day review planned',
      `select due_at from worklist_tasks where case_id = ? and element_id = 'FiveDayReview' and status = 'planned'`,
      [newCaseId],
      (rows) => rows.length === 1,
    );
    expect(new Date(planned!.due_at).toISOString()).toBe('2034-03-28T22:59:59.000Z');
    await newHandle.terminate('scenario over');
  }, 180_000);
});
