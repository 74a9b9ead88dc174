/**
 * The prison substance misuse pathway on the time-skipping server with the real activities: review due
 * dates in the worklist, reminders, overdue notices and alerts on the clock, the October clock change, the brief
 * intervention gateway, and a recall re-entering the pathway. Dates are literal and in the future of any
 * plausible test run (the server's clock only moves forward, and starts at the real time), in the order
 * the tests run.
 *
 * Due dates are calendar deadlines (bpmn/calendar.ts, FEEL `deadline()`): a review "5 days after reception" is
 * due at 23:59:59 London time on the fifth calendar day after the reception's London date, whichever side of a
 * clock change that is, and is overdue from the start of the next London day. (Until the calendar-deadline
 * version, reviews fell due n x 24 hours after the reception instant; a case started on that version keeps it:
 * test/scenarios/pathway-versions.scenario.test.ts.) test/scenarios/sms-prison-timing.scenario.test.ts goes
 * through the timing rules in detail.
 */
import { stateQuery, type PathwayView } from '../../workflows';
import { STAFF, example, staffRecipient, useScenario, type PathwayHandle } from './scenario-harness';

const scenario = useScenario('scenario_sms');
const NHS_NUMBER = '9000000068'; // the sandbox's unrestricted, living Mr Thomas Edward BROWN

interface TaskRow {
  element_id: string;
  status: string;
  due_at: Date | null;
  follow_up_at: Date | null;
  candidate_groups: string[];
}

// The driver may hand timestamps back as text: read them as instants.
function readTaskRow(row: TaskRow): TaskRow {
  const instant = (value: unknown) => (value === null ? null : new Date(value as string));
  return { ...row, due_at: instant(row.due_at), follow_up_at: instant(row.follow_up_at) };
}

async function tasksOf(caseId: string): Promise<TaskRow[]> {
  const rows = await scenario.query<TaskRow>(
    `select t.element_id, t.status, t.due_at, t.follow_up_at, t.candidate_groups
       from worklist_tasks t where t.case_id = ? order by t.created_at`,
    [caseId],
  );
  return rows.map(readTaskRow);
}

/** The latest worklist row of a user task (not the planned row it replaced, unless `accept` asks for it). */
async function task(
  caseId: string,
  elementId: string,
  accept: (row: TaskRow) => boolean = (row) => row.status !== 'planned' && row.status !== 'started',
): Promise<TaskRow> {
  const rows = await scenario.queryUntil<TaskRow>(
    `projected worklist task ${elementId}`,
    `select t.element_id, t.status, t.due_at, t.follow_up_at, t.candidate_groups
       from worklist_tasks t where t.case_id = ? and t.element_id = ? order by t.created_at`,
    [caseId, elementId],
    (found) => found.map(readTaskRow).some(accept),
  );
  return rows.map(readTaskRow).filter(accept).at(-1)!;
}

function alertsOf(caseId: string, code: string) {
  return scenario.query<{ id: string; status: string }>(
    `select id, status from alerts where case_id = ? and code = ? order by raised_at`,
    [caseId, code],
  );
}

function notesOf(caseId: string, like: string) {
  return scenario.query<{ body: string }>(`select body from notes where case_id = ? and body like ?`, [caseId, like]);
}

function fired(view: PathwayView, elementId: string): string[] {
  return view.trail.filter((e) => e.elementId === elementId).map((e) => e.enteredAt);
}

/** When a timer catch event fired (it is entered when the wait starts and left when the timer fires). */
function left(view: PathwayView, elementId: string): string[] {
  return view.trail.filter((e) => e.elementId === elementId && e.leftAt).map((e) => e.leftAt as string);
}

/** When a service task has finished: its activity's write is in the record only then, not when it was entered. */
function done(view: PathwayView, elementId: string): string[] {
  return view.trail.filter((e) => e.elementId === elementId && e.outcome === 'completed').map((e) => e.enteredAt);
}

function londonWeekday(date: Date): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', weekday: 'long' }).format(date);
}

/** Reception to the start of the reviews, with the forms' valid examples. */
async function throughTopAtStart(
  handle: PathwayHandle,
  receptionAt: string,
  briefInterventionRequired: boolean,
): Promise<void> {
  await scenario.complete(handle, 'ReceptionScreening', example('prison-reception-sms', { receptionAt }));
  await scenario.complete(handle, 'ReferToSms', example('sms-referral'));
  await scenario.complete(handle, 'DualDiagnosis', example('sms-dual-diagnosis'));
  await scenario.complete(
    handle,
    'RiskAssessment',
    example(
      'sms-risk-assessment',
      briefInterventionRequired ? {} : { briefInterventionRequired: false, briefInterventionReason: undefined },
    ),
  );
  await scenario.complete(handle, 'AssignCaseload', example('sms-caseload-assignment'));
  if (briefInterventionRequired) {
    await scenario.complete(handle, 'BriefIntervention', example('sms-brief-intervention'));
  }
  await scenario.complete(handle, 'TopAtStart', example('top-secure-setting'));
}

async function startCase(receptionAt: string): Promise<{ caseId: string; handle: PathwayHandle }> {
  const caseId = await scenario.openCase(NHS_NUMBER, 'sms-prison');
  const handle = await scenario.start('sms-prison', caseId, {
    nhsNumber: NHS_NUMBER,
    prisonNumber: 'A1234BC',
    establishment: 'HMP Leeds',
    receptionDate: receptionAt,
  });
  return { caseId, handle };
}

describe('sms-prison on the workflow server with the real activities', () => {
  it('puts the 5-day review in the worklist due at the end of Saturday, reminds that morning, and tells the team lead and keyworker when it is overdue', async () => {
    // Given reception on Monday 30 September 2030 at 09:00 London time (BST)
    const receptionAt = '2030-09-30T08:00:00Z';
    await scenario.advanceTo('2030-09-30T07:00:00Z');
    const { caseId, handle } = await startCase(receptionAt);
    await throughTopAtStart(handle, receptionAt, true);

    // Then the review is in the worklist, due at the end of Saturday 5 October (23:59:59 BST), follow-up from
    // the start of that Saturday; it was planned at reception and its planned row is now started
    const review = await task(caseId, 'FiveDayReview');
    expect(review).toMatchObject({ status: 'open', candidate_groups: ['sms-team'] });
    expect(review.due_at?.toISOString()).toBe('2030-10-05T22:59:59.000Z');
    expect(londonWeekday(review.due_at as Date)).toBe('Saturday');
    expect(review.follow_up_at?.toISOString()).toBe('2030-10-04T23:00:00.000Z');
    const planned = await task(caseId, 'FiveDayReview', (t) => t.status === 'started');
    expect(planned.due_at?.toISOString()).toBe('2030-10-05T22:59:59.000Z');

    // When the clock reaches Saturday noon: the reminder has fired at the start of the day, no overdue alert yet
    await scenario.advanceTo('2030-10-05T11:00:00Z');
    let view = await scenario.waitFor(handle, 'reminded', (v) => done(v, 'RemindFiveDayReview').length === 1);
    expect(left(view, 'FiveDayReviewDueSoon')).toEqual([expect.stringMatching(/^2030-10-04T23:00/)]);
    expect(await notesOf(caseId, '[team-notice:reminder]%FiveDayReview%')).toHaveLength(1);
    expect(await alertsOf(caseId, 'REVIEW_OVERDUE')).toEqual([]);

    // When Saturday ends with the review still open: from 00:00 on Sunday, one active REVIEW_OVERDUE alert, and
    // the team lead and the keyworker named at caseload assignment are told
    await scenario.advanceTo('2030-10-06T09:00:00Z');
    view = await scenario.waitFor(handle, 'told', (v) => done(v, 'NotifyFiveDayReviewOverdue').length === 1);
    expect(left(view, 'FiveDayReviewDeadlinePassed')).toEqual([expect.stringMatching(/^2030-10-05T23:00/)]);
    const overdue = await alertsOf(caseId, 'REVIEW_OVERDUE');
    expect(overdue).toMatchObject([{ status: 'active' }]);
    const notices = (await scenario.inbox(caseId)).filter((m) => m.kind === 'overdue');
    expect(notices.map((m) => m.recipient).sort()).toEqual(
      [staffRecipient('teamLead'), staffRecipient('keyworker')].sort(),
    );
    expect(notices.map((m) => m.at)).toEqual([
      expect.stringMatching(/^2030-10-05T23:00/),
      expect.stringMatching(/^2030-10-05T23:00/),
    ]);
    expect(notices[0]?.subject).toBe('5-day review overdue');

    // When it is done on Sunday: the task closes late, the alert is resolved (kept, not removed), and no
    // escalation follows (it would have come at the start of Tuesday 8 October, two whole days after the due day)
    await scenario.advanceTo('2030-10-06T10:00:00Z');
    await scenario.complete(handle, 'FiveDayReview', example('sms-review', { reviewedOn: '2030-10-06' }));
    view = await scenario.waitFor(handle, 'resolved', (v) => done(v, 'ResolveFiveDayOverdueAlert').length === 1);
    expect(await alertsOf(caseId, 'REVIEW_OVERDUE')).toMatchObject([{ id: overdue[0]?.id, status: 'resolved' }]);
    const closed = await scenario.queryUntil<{ status: string; completed_late: boolean; overdue_since: Date | null }>(
      'the review completed',
      `select status, completed_late, overdue_since from worklist_tasks where case_id = ? and element_id = 'FiveDayReview' and status = 'completed'`,
      [caseId],
      (rows) => rows.length === 1,
    );
    expect(closed[0]).toMatchObject({ completed_late: true });
    expect(new Date(closed[0]?.overdue_since as Date).toISOString()).toMatch(/^2030-10-05T23:00/);
    await scenario.advanceTo('2030-10-09T12:00:00Z');
    view = await handle.query(stateQuery);
    expect(fired(view, 'EscalateFiveDayReview')).toEqual([]);
    expect((await scenario.inbox(caseId)).filter((m) => m.kind === 'escalation')).toEqual([]);
    // and the reviewed episode's assessment is coded "Seen in substance misuse clinic" and says it was late
    const coded = await scenario.query<{ snomed_codes: string[]; data: { completedLate: boolean; dueAt: string } }>(
      `select snomed_codes, data from assessments where case_id = ? and form_id = 'sms-review'`,
      [caseId],
    );
    expect(coded).toEqual([
      {
        snomed_codes: ['494041000000102'],
        data: expect.objectContaining({ completedLate: true, dueAt: '2030-10-05T22:59:59.000Z' }),
      },
    ]);

    await scenario.printTimeline('5-day review: reminder, overdue notice and alert, done late', caseId, [handle]);
    await scenario.recordHistory(handle, 'sms-prison-five-day-review');
    await handle.terminate('scenario over');
  }, 120_000);

  it('falls due at the end of the London day 28 days and 13 weeks after reception across the October clock change, and escalates a review left open', async () => {
    // Given reception on Monday 6 October 2031 at 09:00 BST; clocks go back on Sunday 26 October 2031
    const receptionAt = '2031-10-06T08:00:00Z';
    await scenario.advanceTo('2031-10-06T07:00:00Z');
    const { caseId, handle } = await startCase(receptionAt);
    await throughTopAtStart(handle, receptionAt, false);
    await scenario.complete(handle, 'FiveDayReview', example('sms-review', { reviewedOn: '2031-10-10' }));

    // Then the 28-day review is due at the end of Monday 3 November: 23:59:59 GMT after the change (under the old
    // 24-hour rule it was 08:00 UTC, an hour earlier on the London clock than the reception)
    const twentyEight = await task(caseId, 'TwentyEightDayReview');
    expect(twentyEight.due_at?.toISOString()).toBe('2031-11-03T23:59:59.000Z');
    expect(londonWeekday(twentyEight.due_at as Date)).toBe('Monday');
    expect(twentyEight.follow_up_at?.toISOString()).toBe('2031-11-03T00:00:00.000Z');

    // and its reminder fires at the start of that Monday, after the change
    await scenario.advanceTo('2031-11-03T12:00:00Z');
    let view = await scenario.waitFor(handle, 'reminded', (v) => done(v, 'RemindTwentyEightDayReview').length === 1);
    expect(left(view, 'TwentyEightDayReviewDueSoon')).toEqual([expect.stringMatching(/^2031-11-03T00:00/)]);
    await scenario.complete(
      handle,
      'TwentyEightDayReview',
      example('sms-review', { reviewType: 'twenty-eight-day', reviewedOn: '2031-11-03' }),
    );

    // Then the 13-week review is due at the end of Monday 5 January 2032 (GMT), overdue from 00:00 on Tuesday
    const thirteen = await task(caseId, 'ThirteenWeekReview');
    expect(thirteen.due_at?.toISOString()).toBe('2032-01-05T23:59:59.000Z');
    expect(londonWeekday(thirteen.due_at as Date)).toBe('Monday');
    await scenario.advanceTo('2032-01-06T09:00:00Z');
    view = await scenario.waitFor(handle, 'overdue', (v) => done(v, 'NotifyThirteenWeekReviewOverdue').length === 1);
    expect(left(view, 'ThirteenWeekReviewDeadlinePassed')).toEqual([expect.stringMatching(/^2032-01-06T00:00/)]);
    expect(await alertsOf(caseId, 'REVIEW_OVERDUE')).toMatchObject([{ status: 'active' }]);
    // and, still open two whole days later, it is escalated to the clinical lead and the team lead
    await scenario.advanceTo('2032-01-08T09:00:00Z');
    view = await scenario.waitFor(handle, 'escalated', (v) => done(v, 'EscalateThirteenWeekReview').length === 1);
    expect(left(view, 'ThirteenWeekReviewStillOpen')).toEqual([expect.stringMatching(/^2032-01-08T00:00/)]);
    const escalations = (await scenario.inbox(caseId)).filter((m) => m.kind === 'escalation');
    expect(escalations.map((m) => m.recipient).sort()).toEqual(
      [staffRecipient('clinicalLead'), staffRecipient('teamLead')].sort(),
    );
    expect(escalations[0]?.subject).toBe('13-week review still not done');
    expect(
      await notesOf(caseId, `[staff-notice:escalation] 13-week review still not done; sent to %${STAFF.clinicalLead}%`),
    ).toHaveLength(1);

    await scenario.printTimeline('28-day and 13-week reviews across the October clock change', caseId, [handle]);
    await scenario.recordHistory(handle, 'sms-prison-clock-change');
    await handle.terminate('scenario over');
  }, 120_000);

  it('offers a brief intervention only when the risk assessment asks for one', async () => {
    const receptionAt = '2032-02-02T09:00:00Z';
    await scenario.advanceTo('2032-02-02T08:00:00Z');
    const asked = await startCase(receptionAt);
    const notAsked = await startCase(receptionAt);

    await throughTopAtStart(asked.handle, receptionAt, true);
    await throughTopAtStart(notAsked.handle, receptionAt, false);

    const forms = (caseId: string) =>
      scenario.query<{ form_id: string; snomed_codes: string[] }>(
        `select form_id, snomed_codes from assessments where case_id = ? order by submitted_at`,
        [caseId],
      );
    expect((await tasksOf(asked.caseId)).map((t) => t.element_id)).toContain('BriefIntervention');
    expect(await forms(asked.caseId)).toContainEqual({
      form_id: 'sms-brief-intervention',
      snomed_codes: ['366371000000105'],
    });
    expect((await tasksOf(notAsked.caseId)).map((t) => t.element_id)).not.toContain('BriefIntervention');
    expect((await forms(notAsked.caseId)).map((f) => f.form_id)).not.toContain('sms-brief-intervention');
    // both went on to the reviews
    expect((await task(asked.caseId, 'FiveDayReview')).status).toBe('open');
    expect((await task(notAsked.caseId, 'FiveDayReview')).status).toBe('open');

    await scenario.printTimeline('brief intervention asked for', asked.caseId, [asked.handle]);
    await scenario.printTimeline('brief intervention not asked for', notAsked.caseId, [notAsked.handle]);
    await scenario.recordHistory(asked.handle, 'sms-prison-brief-intervention');
    await asked.handle.terminate('scenario over');
    await notAsked.handle.terminate('scenario over');
  }, 120_000);

  it('brings a discharged person back to reception on the same record when a recall message arrives', async () => {
    const receptionAt = '2032-04-05T08:00:00Z';
    await scenario.advanceTo('2032-04-05T07:00:00Z');
    const { caseId, handle } = await startCase(receptionAt);
    await throughTopAtStart(handle, receptionAt, false);
    for (const [elementId, reviewType] of [
      ['FiveDayReview', 'five-day'],
      ['TwentyEightDayReview', 'twenty-eight-day'],
      ['ThirteenWeekReview', 'thirteen-week'],
    ] as const) {
      await scenario.complete(handle, elementId, example('sms-review', { reviewType }));
    }
    await scenario.complete(handle, 'CarePlan', example('sms-care-plan'));
    // Messages are not buffered (pathways/README.md, known limits): send once the pathway waits for it.
    await scenario.waitFor(handle, 'waiting for discharge', (v) =>
      v.messageSubscriptions.some((m) => m.messageName === 'prison.discharge'),
    );
    await scenario.send(handle, 'prison.discharge', caseId);
    await scenario.complete(handle, 'RecordDischarge', example('sms-discharge'));
    await scenario.waitFor(handle, 'watching for a recall', (v) =>
      v.activeElements.some((e) => e.elementId === 'RecallWatch'),
    );
    const summaries = await scenario.query<{ data: { request: { kind: string } } }>(
      `select data from assessments where case_id = ? and form_id = 'clinical-report'`,
      [caseId],
    );
    expect(summaries.map((s) => s.data.request.kind)).toEqual(['discharge-summary']);

    // When the recall comes ten days later
    await scenario.advanceTo('2032-04-15T09:00:00Z');
    await scenario.send(handle, 'prison.recall', caseId);

    // Then reception opens again on the same case, with the recall noted, and the first reception date kept
    const view = await scenario.waitFor(handle, 'back at reception', (v) =>
      v.openTasks.some((t) => t.elementId === 'ReceptionScreening'),
    );
    expect(view.variables['initialReceptionDate']).toBe(receptionAt);
    const reopened = await task(caseId, 'ReceptionScreening', (t) => t.status === 'open');
    expect(reopened.status).toBe('open');
    const receptions = (await tasksOf(caseId)).filter((t) => t.element_id === 'ReceptionScreening');
    expect(receptions.map((t) => t.status)).toEqual(['completed', 'open']);
    expect(await notesOf(caseId, '[recalled]%')).toHaveLength(1);
    const cases = await scenario.query<{ id: string }>(
      `select c.id from cases c join patients p on p.id = c.patient_id where p.nhs_number = ?`,
      [NHS_NUMBER],
    );
    expect(cases.map((c) => c.id)).toContain(caseId);

    await scenario.printTimeline('discharge and recall', caseId, [handle]);
    await scenario.recordHistory(handle, 'sms-prison-recall');
    await handle.terminate('scenario over');
  }, 120_000);
});
