/**
 * The prison pathway's clinical timing rules on the time-skipping server with the real activities, on concrete
 * dates. Every due date is a calendar deadline in Europe/London (bpmn/calendar.ts, FEEL `deadline()`): "N days
 * after reception" ends at 23:59:59 London time on the Nth calendar day after the reception's London date, and a
 * task not done by then is overdue from 00:00 London time the next day. From reception the milestones are planned
 * in the worklist with those due dates; one watch per review tells the team lead and the keyworker when it is
 * overdue, whether or not the pathway has reached it; done late, the worklist and the saved review say so.
 *
 * Dates: the server's clock starts at the real time and only moves forward, so the receptions are in 2027 and
 * 2028, the first clock changes ahead of any plausible run (the clocks go forward on Sunday 28 March 2027 and back
 * on Sunday 31 October 2027). The same rules on the 2026 changes (29 March, 25 October) are asserted on the
 * interpreter, without a server: test/pathways/walkthrough.test.ts and pathways.test.ts.
 *
 * Instants in UTC: GMT is UTC, BST is UTC+1, so the end of a BST day is 22:59:59Z and its start 23:00:00Z the day
 * before. A notice's time is asserted to the minute (the workflow sends it a few milliseconds after its timer).
 */
import { stateQuery, type PathwayView } from '../../workflows';
import {
  example,
  staffRecipient,
  useScenario,
  type InboxEntry,
  type PathwayHandle,
  type StaffKey,
  type Vars,
} from './scenario-harness';

const scenario = useScenario('scenario_sms_timing');
const NHS_NUMBER = '9000000068'; // the sandbox's unrestricted, living Mr Thomas Edward BROWN

interface Row {
  id: string;
  element_id: string;
  status: string;
  due_at: string | null;
  follow_up_at: string | null;
  overdue_since: string | null;
  completed_late: boolean;
  candidate_groups: string[];
  cancel_reason: string | null;
}

const iso = (value: unknown): string | null => (value === null ? null : new Date(value as string).toISOString());

async function rows(caseId: string, elementId?: string): Promise<Row[]> {
  const found = await scenario.query<Row>(
    `select id, element_id, status, due_at, follow_up_at, overdue_since, completed_late, candidate_groups, cancel_reason
       from worklist_tasks where case_id = ? ${elementId ? 'and element_id = ?' : ''} order by created_at, id`,
    elementId ? [caseId, elementId] : [caseId],
  );
  return found.map((r) => ({
    ...r,
    due_at: iso(r.due_at),
    follow_up_at: iso(r.follow_up_at),
    overdue_since: iso(r.overdue_since),
  }));
}

/** The worklist row of `elementId` in `status`, once the projection has written it. */
async function row(caseId: string, elementId: string, status: string): Promise<Row> {
  await scenario.queryUntil<Row>(
    `${elementId} ${status}`,
    `select id from worklist_tasks where case_id = ? and element_id = ? and status = ?`,
    [caseId, elementId, status],
    (found) => found.length > 0,
  );
  return (await rows(caseId, elementId)).filter((r) => r.status === status).at(-1)!;
}

/**
 * The milestones of the case's latest plan (worklist.planTasks writes one row per milestone, its id ending in the
 * planning step's activity id): element, status (`planned`, or `started` once its task has opened) and due instant.
 */
async function plan(caseId: string, expected: number): Promise<[string, string, string | null][]> {
  const latest = async (): Promise<Row[]> => {
    const planned = (await rows(caseId)).filter((r) => r.id.includes('/planned/'));
    const key = planned.at(-1)?.id.split('/').at(-1);
    return planned.filter((r) => r.id.split('/').at(-1) === key && ['planned', 'started'].includes(r.status));
  };
  // The second-stage assessment opens straight after planning: wait until its planned row has been started too.
  const settled = (found: Row[]) =>
    found.length === expected &&
    found.every((r) => r.element_id !== 'SecondStageHealthAssessment' || r.status === 'started');
  for (let attempt = 0; !settled(await latest()); attempt += 1) {
    if (attempt > 100)
      throw new Error(`the plan of ${caseId} never had ${expected} rows: ${JSON.stringify(await latest())}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return (await latest())
    .sort((a, b) => (a.due_at ?? '').localeCompare(b.due_at ?? ''))
    .map((r) => [r.element_id, r.status, r.due_at]);
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

/** The staff notices the inbox received for the case with this subject: who, when. */
async function notices(caseId: string, subject: string): Promise<{ to: string[]; at: string[] }> {
  const found = (await scenario.inbox(caseId)).filter((m: InboxEntry) => m.subject === subject);
  return { to: found.map((m) => m.recipient).sort(), at: [...new Set(found.map((m) => m.at.slice(0, 16)))] };
}

const to = (...keys: StaffKey[]): string[] => keys.map(staffRecipient).sort();

function done(view: PathwayView, elementId: string): string[] {
  return view.trail.filter((e) => e.elementId === elementId && e.outcome === 'completed').map((e) => e.enteredAt);
}

/** When a timer catch event fired (it is left then). */
function firedAt(view: PathwayView, elementId: string): string[] {
  return view.trail.filter((e) => e.elementId === elementId && e.leftAt).map((e) => (e.leftAt as string).slice(0, 16));
}

async function savedAnswers(caseId: string, formId: string): Promise<Vars[]> {
  const found = await scenario.query<{ data: Vars }>(
    `select data from assessments where case_id = ? and form_id = ? order by submitted_at`,
    [caseId, formId],
  );
  return found.map((r) => r.data);
}

async function startCase(variables: Vars = {}): Promise<{ caseId: string; handle: PathwayHandle }> {
  const caseId = await scenario.openCase(NHS_NUMBER, 'sms-prison');
  const handle = await scenario.start('sms-prison', caseId, {
    nhsNumber: NHS_NUMBER,
    prisonNumber: 'A1234BC',
    establishment: 'HMP Leeds',
    ...variables,
  });
  return { caseId, handle };
}

/** Referral to caseload assignment (the keyworker is Sam Patel), no brief intervention from the risk assessment. */
async function referAndAssign(handle: PathwayHandle): Promise<void> {
  await scenario.complete(handle, 'ReferToSms', example('sms-referral'));
  await scenario.complete(handle, 'DualDiagnosis', example('sms-dual-diagnosis'));
  await scenario.complete(
    handle,
    'RiskAssessment',
    example('sms-risk-assessment', { briefInterventionRequired: false, briefInterventionReason: undefined }),
  );
  await scenario.complete(handle, 'AssignCaseload', example('sms-caseload-assignment'));
}

describe('sms-prison timing: calendar deadlines in Europe/London, planned milestones, overdue notices', () => {
  it('plans the milestones of a 14:10 reception, tells the team lead and keyworker of a review overdue before it opened, and crosses the March clock change', async () => {
    // Given reception on Monday 1 March 2027 at 14:10 GMT
    const receptionAt = '2027-03-01T14:10:00Z';
    await scenario.advanceTo(receptionAt);
    const { caseId, handle } = await startCase({ receptionDate: receptionAt });
    await scenario.complete(handle, 'ReceptionScreening', example('prison-reception-sms', { receptionAt }));

    // Then the milestones are in the worklist at once, each due at the end of its London day; the second-stage
    // assessment has opened already, the reviews wait for the pathway. The 28-day review is due after the clocks
    // go forward (Sunday 28 March): 23:59:59 BST on Monday 29 March.
    expect(await plan(caseId, 4)).toEqual([
      ['FiveDayReview', 'planned', '2027-03-06T23:59:59.000Z'],
      ['SecondStageHealthAssessment', 'started', '2027-03-08T23:59:59.000Z'],
      ['TwentyEightDayReview', 'planned', '2027-03-29T22:59:59.000Z'],
      ['ThirteenWeekReview', 'planned', '2027-05-31T22:59:59.000Z'],
    ]);
    expect(await row(caseId, 'SecondStageHealthAssessment', 'open')).toMatchObject({
      due_at: '2027-03-08T23:59:59.000Z',
      candidate_groups: ['prison-healthcare'],
    });

    await referAndAssign(handle);
    expect((await row(caseId, 'TopAtStart', 'open')).due_at).toBe('2027-03-15T23:59:59.000Z');

    // When Saturday 6 March begins with the pathway still at the TOP: the reminder for the 5-day review is noted
    await scenario.advanceTo('2027-03-06T12:00:00Z');
    let view = await scenario.waitFor(handle, 'reminded', (v) => done(v, 'RemindFiveDayReview').length === 1);
    expect(firedAt(view, 'FiveDayReviewDueSoon')).toEqual(['2027-03-06T00:00']);
    expect(await notesOf(caseId, '[team-notice:reminder]%FiveDayReview%')).toHaveLength(1);

    // When Saturday ends: at 00:00 on Sunday 7 March the review is overdue although it has not opened yet. The team
    // lead and the keyworker are told, a REVIEW_OVERDUE alert is raised and the planned row is marked overdue.
    await scenario.advanceTo('2027-03-07T09:00:00Z');
    view = await scenario.waitFor(handle, 'told', (v) => done(v, 'NotifyFiveDayReviewOverdue').length === 1);
    expect(firedAt(view, 'FiveDayReviewDeadlinePassed')).toEqual(['2027-03-07T00:00']);
    expect(view.openTasks.map((t) => t.elementId)).not.toContain('FiveDayReview');
    expect(await notices(caseId, '5-day review overdue')).toEqual({
      to: to('teamLead', 'keyworker'),
      at: ['2027-03-07T00:00'],
    });
    expect(await alertsOf(caseId, 'REVIEW_OVERDUE')).toMatchObject([{ status: 'active' }]);
    expect((await row(caseId, 'FiveDayReview', 'planned')).overdue_since).toMatch(/^2027-03-07T00:00/);

    // When the TOP is recorded the review opens, due when it was, overdue since Sunday; done now, it is late
    await scenario.complete(handle, 'TopAtStart', example('top-secure-setting'));
    const review = await row(caseId, 'FiveDayReview', 'open');
    expect(review).toMatchObject({ due_at: '2027-03-06T23:59:59.000Z', follow_up_at: '2027-03-06T00:00:00.000Z' });
    expect(review.overdue_since).toMatch(/^2027-03-07T00:00/);
    expect((await rows(caseId, 'FiveDayReview')).map((r) => r.status)).toEqual(['started', 'open']);
    await scenario.complete(handle, 'FiveDayReview', example('sms-review', { reviewedOn: '2027-03-07' }));
    await scenario.waitFor(handle, 'resolved', (v) => done(v, 'ResolveFiveDayOverdueAlert').length === 1);
    expect(await row(caseId, 'FiveDayReview', 'completed')).toMatchObject({ completed_late: true });
    expect((await row(caseId, 'FiveDayReview', 'completed')).overdue_since).toMatch(/^2027-03-07T00:00/);
    expect(await alertsOf(caseId, 'REVIEW_OVERDUE')).toMatchObject([{ status: 'resolved' }]);
    expect((await savedAnswers(caseId, 'sms-review'))[0]).toMatchObject({
      dueAt: '2027-03-06T23:59:59.000Z',
      completedLate: true,
    });

    // The second-stage assessment, not done in 7 days, is overdue from 00:00 on Tuesday 9 March: prison
    // healthcare, the team lead and the keyworker are told. The 5-day review, done, is never escalated.
    await scenario.advanceTo('2027-03-09T09:00:00Z');
    await scenario.waitFor(handle, 'told', (v) => done(v, 'NotifySecondStageAssessmentOverdue').length === 1);
    expect(await notices(caseId, 'Second-stage health assessment overdue')).toEqual({
      to: to('prisonHealthcare', 'teamLead', 'keyworker'),
      at: ['2027-03-09T00:00'],
    });
    expect(await notices(caseId, '5-day review still not done')).toEqual({ to: [], at: [] });
    await scenario.complete(handle, 'SecondStageHealthAssessment', example('prison-second-stage-health'));
    expect(await row(caseId, 'SecondStageHealthAssessment', 'completed')).toMatchObject({ completed_late: true });
    expect((await savedAnswers(caseId, 'prison-second-stage-health'))[0]).toMatchObject({ completedLate: true });

    // The 28-day review across the March clock change: reminded at 00:00 BST on Monday 29 March, overdue from
    // 00:00 BST on Tuesday 30 March (23:00 UTC the evening before)
    const twentyEight = await row(caseId, 'TwentyEightDayReview', 'open');
    expect(twentyEight).toMatchObject({
      due_at: '2027-03-29T22:59:59.000Z',
      follow_up_at: '2027-03-28T23:00:00.000Z',
    });
    await scenario.advanceTo('2027-03-29T09:00:00Z');
    view = await scenario.waitFor(handle, 'reminded', (v) => done(v, 'RemindTwentyEightDayReview').length === 1);
    expect(firedAt(view, 'TwentyEightDayReviewDueSoon')).toEqual(['2027-03-28T23:00']);
    expect(await notices(caseId, '28-day review overdue')).toEqual({ to: [], at: [] });
    await scenario.advanceTo('2027-03-30T09:00:00Z');
    view = await scenario.waitFor(handle, 'told', (v) => done(v, 'NotifyTwentyEightDayReviewOverdue').length === 1);
    expect(firedAt(view, 'TwentyEightDayReviewDeadlinePassed')).toEqual(['2027-03-29T23:00']);
    expect(await notices(caseId, '28-day review overdue')).toEqual({
      to: to('teamLead', 'keyworker'),
      at: ['2027-03-29T23:00'],
    });
    await scenario.complete(
      handle,
      'TwentyEightDayReview',
      example('sms-review', { reviewType: 'twenty-eight-day', reviewedOn: '2027-03-30' }),
    );
    expect(await row(caseId, 'TwentyEightDayReview', 'completed')).toMatchObject({ completed_late: true });
    expect(await row(caseId, 'ThirteenWeekReview', 'open')).toMatchObject({ due_at: '2027-05-31T22:59:59.000Z' });

    await scenario.printTimeline('14:10 reception, 1 March 2027: milestones planned, overdue, done late', caseId, [
      handle,
    ]);
    await handle.terminate('scenario over');
  }, 180_000);

  it('dates the milestones of a late-evening reception (23:30 London) from its London date, and assesses alcohol withdrawal at once', async () => {
    // Given reception on Thursday 15 April 2027 at 23:30 BST, with signs of alcohol withdrawal (AUDIT 27)
    const receptionAt = '2027-04-15T22:30:00Z';
    await scenario.advanceTo(receptionAt);
    const { caseId, handle } = await startCase({ receptionDate: receptionAt });
    await scenario.complete(
      handle,
      'ReceptionScreening',
      example('prison-reception-sms', {
        receptionAt,
        alcoholUse: 'dependent-or-intoxicated',
        alcoholScreenTool: 'AUDIT',
        alcoholScore: 27,
        alcoholWithdrawalSigns: true,
      }),
    );

    // Then each milestone is due at the end of its London day (not 23:30 on it, as 24-hour days would have it)
    expect(await plan(caseId, 4)).toEqual([
      ['FiveDayReview', 'planned', '2027-04-20T22:59:59.000Z'],
      ['SecondStageHealthAssessment', 'started', '2027-04-22T22:59:59.000Z'],
      ['TwentyEightDayReview', 'planned', '2027-05-13T22:59:59.000Z'],
      ['ThirteenWeekReview', 'planned', '2027-07-15T22:59:59.000Z'],
    ]);

    // and the screen decided: an "Alcohol withdrawal risk" alert, prison healthcare told at once, an urgent
    // clinician assessment due within the hour, and no brief intervention
    expect((await savedAnswers(caseId, 'prison-reception-sms'))[0]).toMatchObject({
      alcoholScreen: { tool: 'AUDIT', score: 27, withdrawalSigns: true, decision: 'dependent-withdrawal' },
      referralSuggested: true,
    });
    const assessment = await row(caseId, 'AlcoholClinicianAssessment', 'open');
    expect(assessment.candidate_groups).toEqual(['prison-healthcare']);
    expect(assessment.due_at).toMatch(/^2027-04-15T23:30/);
    expect(await alertsOf(caseId, 'ALCOHOL_WITHDRAWAL_RISK')).toMatchObject([{ status: 'active' }]);
    await scenario.waitFor(handle, 'told', (v) => done(v, 'NotifyAlcoholWithdrawal').length === 1);
    expect(await notices(caseId, 'URGENT: Alcohol withdrawal risk at reception')).toEqual({
      to: to('prisonHealthcare'),
      at: ['2027-04-15T22:30'],
    });
    expect((await rows(caseId)).map((r) => r.element_id)).not.toContain('AlcoholBriefIntervention');

    // When the hour passes without the assessment: prison healthcare and the clinical lead are told, urgently
    await scenario.advanceTo('2027-04-15T23:45:00Z');
    await scenario.waitFor(handle, 'escalated', (v) => done(v, 'EscalateAlcoholAssessment').length === 1);
    expect(await notices(caseId, 'URGENT: Alcohol assessment not done in time')).toEqual({
      to: to('prisonHealthcare', 'clinicalLead'),
      at: ['2027-04-15T23:30'],
    });
    await scenario.complete(
      handle,
      'AlcoholClinicianAssessment',
      example('alcohol-clinician-assessment', { assessedAt: '2027-04-15T23:40:00Z' }),
    );
    expect(await row(caseId, 'AlcoholClinicianAssessment', 'completed')).toMatchObject({ completed_late: true });

    // Nobody has assigned a keyworker: when the 5-day review is overdue (00:00 BST on Wednesday 21 April) the team
    // lead alone is told, and the note says who could not be
    await scenario.advanceTo('2027-04-21T09:00:00Z');
    await scenario.waitFor(handle, 'told', (v) => done(v, 'NotifyFiveDayReviewOverdue').length === 1);
    expect(await notices(caseId, '5-day review overdue')).toEqual({ to: to('teamLead'), at: ['2027-04-20T23:00'] });
    expect(
      await notesOf(caseId, '[staff-notice:overdue] 5-day review overdue;%not reached: no keyworker is recorded%'),
    ).toHaveLength(1);

    await scenario.printTimeline('late-evening reception, 15 April 2027: alcohol withdrawal', caseId, [handle]);
    await handle.terminate('scenario over');
  }, 180_000);

  it('offers a brief intervention due in 7 days for hazardous drinking, and records a negative screen with no task', async () => {
    // Given two receptions on Monday 3 May 2027 at 10:00 BST: AUDIT-C 6 (hazardous) and AUDIT-C 2 (negative)
    const receptionAt = '2027-05-03T09:00:00Z';
    await scenario.advanceTo(receptionAt);
    const hazardous = await startCase({ receptionDate: receptionAt });
    const negative = await startCase({ receptionDate: receptionAt });
    await scenario.complete(
      hazardous.handle,
      'ReceptionScreening',
      example('prison-reception-sms', { receptionAt, alcoholScreenTool: 'AUDIT-C', alcoholScore: 6 }),
    );
    await scenario.complete(
      negative.handle,
      'ReceptionScreening',
      example('prison-reception-sms', { receptionAt, alcoholScreenTool: 'AUDIT-C', alcoholScore: 2 }),
    );

    // Then the hazardous drinker has a brief intervention due at the end of Monday 10 May
    const intervention = await row(hazardous.caseId, 'AlcoholBriefIntervention', 'open');
    expect(intervention).toMatchObject({ due_at: '2027-05-10T22:59:59.000Z', candidate_groups: ['sms-team'] });
    expect((await savedAnswers(hazardous.caseId, 'prison-reception-sms'))[0]).toMatchObject({
      alcoholScreen: { tool: 'AUDIT-C', score: 6, decision: 'hazardous' },
    });
    // and the negative screen is recorded with its score and decision, and no alcohol task
    await scenario.waitFor(negative.handle, 'decided', (v) =>
      v.trail.some((t) => t.elementId === 'AlcoholNoTaskNeeded'),
    );
    expect((await savedAnswers(negative.caseId, 'prison-reception-sms'))[0]).toMatchObject({
      alcoholScreen: { tool: 'AUDIT-C', score: 2, withdrawalSigns: false, decision: 'negative' },
    });
    expect((await rows(negative.caseId)).map((r) => r.element_id).filter((id) => id.startsWith('Alcohol'))).toEqual([]);
    expect(await alertsOf(negative.caseId, 'ALCOHOL_WITHDRAWAL_RISK')).toEqual([]);

    // When the intervention is not done by the end of 10 May: the team lead and the keyworker are told at 00:00
    await referAndAssign(hazardous.handle);
    await scenario.advanceTo('2027-05-11T09:00:00Z');
    await scenario.waitFor(
      hazardous.handle,
      'told',
      (v) => done(v, 'NotifyAlcoholBriefInterventionOverdue').length === 1,
    );
    expect(await notices(hazardous.caseId, 'Alcohol brief intervention overdue')).toEqual({
      to: to('teamLead', 'keyworker'),
      at: ['2027-05-10T23:00'],
    });
    await scenario.complete(
      hazardous.handle,
      'AlcoholBriefIntervention',
      example('sms-brief-intervention', { deliveredOn: '2027-05-11' }),
    );
    expect(await row(hazardous.caseId, 'AlcoholBriefIntervention', 'completed')).toMatchObject({
      completed_late: true,
    });
    const [saved] = await scenario.queryUntil<{ snomed_codes: string[]; data: Vars }>(
      'the brief intervention saved',
      `select snomed_codes, data from assessments where case_id = ? and form_id = 'sms-brief-intervention'`,
      [hazardous.caseId],
      (found) => found.length === 1,
    );
    expect(saved).toMatchObject({ snomed_codes: ['366371000000105'], data: { completedLate: true } });

    await scenario.printTimeline('hazardous drinking, 3 May 2027', hazardous.caseId, [hazardous.handle]);
    await hazardous.handle.terminate('scenario over');
    await negative.handle.terminate('scenario over');
  }, 180_000);

  let octoberCase: { caseId: string; carePlanId: string } | undefined;

  it('crosses the October clock change, escalates a review left open, reviews the TOP every 6 months, and restarts the milestones on recall', async () => {
    // Given reception on Wednesday 27 October 2027 at 14:10 BST; the clocks go back on Sunday 31 October
    const receptionAt = '2027-10-27T13:10:00Z';
    await scenario.advanceTo(receptionAt);
    const { caseId, handle } = await startCase({ receptionDate: receptionAt });
    await scenario.complete(handle, 'ReceptionScreening', example('prison-reception-sms', { receptionAt }));
    expect(await plan(caseId, 4)).toEqual([
      ['FiveDayReview', 'planned', '2027-11-01T23:59:59.000Z'],
      ['SecondStageHealthAssessment', 'started', '2027-11-03T23:59:59.000Z'],
      ['TwentyEightDayReview', 'planned', '2027-11-24T23:59:59.000Z'],
      ['ThirteenWeekReview', 'planned', '2028-01-26T23:59:59.000Z'],
    ]);
    await referAndAssign(handle);
    await scenario.complete(handle, 'TopAtStart', example('top-secure-setting'));

    // The 5-day review is due at the end of Monday 1 November, GMT (24-hour days made it 13:10 GMT): reminded at
    // 00:00, overdue from 00:00 on Tuesday, escalated to the clinical lead and the team lead from 00:00 on Thursday
    expect(await row(caseId, 'FiveDayReview', 'open')).toMatchObject({
      due_at: '2027-11-01T23:59:59.000Z',
      follow_up_at: '2027-11-01T00:00:00.000Z',
    });
    await scenario.advanceTo('2027-11-04T09:00:00Z');
    const view = await scenario.waitFor(handle, 'escalated', (v) => done(v, 'EscalateFiveDayReview').length === 1);
    expect(firedAt(view, 'FiveDayReviewDueSoon')).toEqual(['2027-11-01T00:00']);
    expect(firedAt(view, 'FiveDayReviewDeadlinePassed')).toEqual(['2027-11-02T00:00']);
    expect(firedAt(view, 'FiveDayReviewStillOpen')).toEqual(['2027-11-04T00:00']);
    expect(await notices(caseId, '5-day review overdue')).toEqual({
      to: to('teamLead', 'keyworker'),
      at: ['2027-11-02T00:00'],
    });
    expect(await notices(caseId, '5-day review still not done')).toEqual({
      to: to('clinicalLead', 'teamLead'),
      at: ['2027-11-04T00:00'],
    });
    expect(await notices(caseId, 'Second-stage health assessment overdue')).toEqual({
      to: to('prisonHealthcare', 'teamLead', 'keyworker'),
      at: ['2027-11-04T00:00'],
    });
    await scenario.complete(handle, 'SecondStageHealthAssessment', example('prison-second-stage-health'));
    await scenario.complete(handle, 'FiveDayReview', example('sms-review', { reviewedOn: '2027-11-04' }));
    expect(await row(caseId, 'FiveDayReview', 'completed')).toMatchObject({ completed_late: true });
    expect(await row(caseId, 'TwentyEightDayReview', 'open')).toMatchObject({ due_at: '2027-11-24T23:59:59.000Z' });
    await scenario.complete(handle, 'TwentyEightDayReview', example('sms-review', { reviewType: 'twenty-eight-day' }));
    expect(await row(caseId, 'TwentyEightDayReview', 'completed')).toMatchObject({ completed_late: false });
    await scenario.complete(handle, 'ThirteenWeekReview', example('sms-review', { reviewType: 'thirteen-week' }));
    await scenario.complete(handle, 'CarePlan', example('sms-care-plan'));

    // The TOP review is due 6 calendar months after reception, at the end of Thursday 27 April 2028 (BST); its
    // task opens 14 days before. Once done, the next is due 6 months after that due date.
    let state = await scenario.waitFor(handle, 'in treatment', (v) =>
      v.pendingTimers.some((t) => t.elementId === 'TopReviewWindowOpens'),
    );
    expect(state.variables['topReviewDueAt']).toBe('2028-04-27T22:59:59.000Z');
    expect(state.pendingTimers.find((t) => t.elementId === 'TopReviewWindowOpens')?.dueAt).toBe(
      '2028-04-13T22:59:59.000Z',
    );
    await scenario.advanceTo('2028-04-14T09:00:00Z');
    const topReview = await row(caseId, 'TopReview', 'open');
    expect(topReview).toMatchObject({ due_at: '2028-04-27T22:59:59.000Z' });
    await scenario.complete(
      handle,
      'TopReview',
      example('top-secure-setting', {
        treatmentStage: 'review',
        periodCovered: 'past-28-days',
        interviewDate: '2028-04-14',
      }),
    );
    state = await scenario.waitFor(handle, 'next TOP review', (v) => v.variables['topReviewsDone'] === 1);
    expect(state.variables['topReviewDueAt']).toBe('2028-10-27T22:59:59.000Z');
    expect((await savedAnswers(caseId, 'top-secure-setting')).map((a) => a['treatmentStage'])).toEqual([
      'start',
      'review',
    ]);

    // Released on Tuesday 2 May 2028: a TOP at exit opens at once, due at the end of the next day
    await scenario.advanceTo('2028-05-02T09:00:00Z');
    await scenario.sendWhenWaiting(handle, 'prison.discharge', caseId);
    await scenario.complete(handle, 'RecordDischarge', example('sms-discharge', { prisonExitDate: '2028-05-02' }));
    expect(await row(caseId, 'TopAtExit', 'open')).toMatchObject({ due_at: '2028-05-03T22:59:59.000Z' });
    await scenario.complete(
      handle,
      'TopAtExit',
      example('top-secure-setting', {
        treatmentStage: 'exit',
        periodCovered: 'past-28-days',
        interviewDate: '2028-05-02',
      }),
    );
    const carePlanId = String((await handle.query(stateQuery)).variables['carePlanId']);

    // Recalled on Wednesday 10 May 2028: a new reception at 21:45 BST, linked to this episode and its care plan, and
    // every milestone restarts from it
    await scenario.advanceTo('2028-05-10T20:45:00Z');
    await scenario.sendWhenWaiting(handle, 'prison.recall', caseId);
    await scenario.complete(
      handle,
      'ReceptionScreening',
      example('prison-reception-sms', { receptionAt: '2028-05-10T20:45:00Z' }),
    );
    await scenario.waitFor(handle, 'replanned', (v) => done(v, 'PlanMilestones').length === 2);
    expect(await plan(caseId, 4)).toEqual([
      ['FiveDayReview', 'planned', '2028-05-15T22:59:59.000Z'],
      ['SecondStageHealthAssessment', 'started', '2028-05-17T22:59:59.000Z'],
      ['TwentyEightDayReview', 'planned', '2028-06-07T22:59:59.000Z'],
      ['ThirteenWeekReview', 'planned', '2028-08-09T22:59:59.000Z'],
    ]);
    expect((await savedAnswers(caseId, 'prison-reception-sms'))[1]).toMatchObject({
      receptionAt: '2028-05-10T20:45:00Z',
      recall: { previousCaseId: caseId, previousCarePlanId: carePlanId },
    });
    await scenario.waitFor(handle, 'linked', (v) => done(v, 'NoteRecallReception').length === 1);
    expect(
      await notesOf(caseId, `[recall-reception]%previous episode ${caseId}, care plan ${carePlanId}%`),
    ).toHaveLength(1);
    await referAndAssign(handle);
    // a new TOP at start for the new custodial stay, due 14 days after the recall reception
    expect(await row(caseId, 'TopAtStart', 'open')).toMatchObject({ due_at: '2028-05-24T22:59:59.000Z' });

    await scenario.printTimeline('October clock change, TOP reviews and a recall', caseId, [handle]);
    await handle.terminate('scenario over');
    octoberCase = { caseId, carePlanId };
  }, 240_000);

  it('starts a recall reception linked to the previous episode when the person comes back on a new case', async () => {
    const previous = octoberCase ?? { caseId: 'unknown', carePlanId: 'unknown' };
    // Given a recall on Thursday 1 June 2028 and reception that morning at 10:00 BST, on a new case
    const receptionAt = '2028-06-01T09:00:00Z';
    await scenario.advanceTo(receptionAt);
    const recall = {
      previousCaseId: previous.caseId,
      previousCarePlanId: previous.carePlanId,
      recalledAt: '2028-06-01T08:00:00Z',
    };
    const { caseId, handle } = await startCase({ receptionDate: receptionAt, recall });
    const opened = await scenario.waitFor(handle, 'reception open', (v) =>
      v.openTasks.some((t) => t.elementId === 'ReceptionScreening'),
    );
    expect(opened.variables['recall']).toEqual(recall);
    await scenario.complete(handle, 'ReceptionScreening', example('prison-reception-sms', { receptionAt }));

    // Then the reception is linked (saved with the screen, and a note), and the milestones run from it
    await scenario.waitFor(handle, 'linked', (v) => done(v, 'NoteRecallReception').length === 1);
    expect((await savedAnswers(caseId, 'prison-reception-sms'))[0]).toMatchObject({ recall });
    expect(
      await notesOf(
        caseId,
        `[recall-reception] Reception after recall to custody (recalled 2028-06-01T08:00:00Z): previous episode ${previous.caseId}, care plan ${previous.carePlanId}.%`,
      ),
    ).toHaveLength(1);
    expect(await plan(caseId, 4)).toEqual([
      ['FiveDayReview', 'planned', '2028-06-06T22:59:59.000Z'],
      ['SecondStageHealthAssessment', 'started', '2028-06-08T22:59:59.000Z'],
      ['TwentyEightDayReview', 'planned', '2028-06-29T22:59:59.000Z'],
      ['ThirteenWeekReview', 'planned', '2028-08-31T22:59:59.000Z'],
    ]);
    await referAndAssign(handle);
    expect(await row(caseId, 'TopAtStart', 'open')).toMatchObject({ due_at: '2028-06-15T22:59:59.000Z' });

    await scenario.printTimeline('recall reception on a new case', caseId, [handle]);
    await handle.terminate('scenario over');
  }, 180_000);
});
