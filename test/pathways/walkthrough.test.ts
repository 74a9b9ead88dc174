/**
 * Walks each shipped pathway through the pure pathway interpreter (workflows/pathway, no server, no clock)
 * with the forms' own valid example submissions, so every FEEL mapping, gateway and timer the clinical
 * story depends on is evaluated for real. Activities are stood in for by `respond` below, which answers
 * each service task type the way the README's contract says (the real activities are built elsewhere).
 * Running the pathways on the workflow server is a separate, later suite.
 */
import fs from 'node:fs';
import path from 'node:path';
import { compilePathway, type PathwayIR } from '../../bpmn';
import { FORMS_DIRECTORY, createFormValidator, readPathwayXml, type PathwayId } from '../../pathways';
import {
  handle,
  start,
  type PathwayCommand,
  type PathwayEvent,
  type PathwayState,
  type Step,
} from '../../workflows/pathway';

type Command<T extends PathwayCommand['type']> = Extract<PathwayCommand, { type: T }>;
type Vars = Record<string, unknown>;

const forms = createFormValidator({ now: () => new Date('2026-12-31T00:00:00Z') });

function example(formId: string, overrides: Vars = {}): Vars {
  const file = path.join(FORMS_DIRECTORY, 'examples', `${formId}.examples.json`);
  const payload: Vars = { ...(JSON.parse(fs.readFileSync(file, 'utf8')) as { valid: Vars }).valid, ...overrides };
  for (const [key, value] of Object.entries(payload)) if (value === undefined) delete payload[key];
  // the submission a clinician makes must pass the form before the pathway sees it
  forms.assertValid(formId, payload);
  return payload;
}

async function compile(processId: PathwayId): Promise<PathwayIR> {
  const { ir, findings } = await compilePathway(readPathwayXml(processId));
  if (findings.some((f) => f.severity === 'error')) throw new Error(JSON.stringify(findings));
  return ir;
}

/** The stand-in activity registry: one plausible result per task type. */
function respond(command: Command<'executeServiceTask'>, sequence: number): Vars {
  const input = command.input;
  switch (command.taskType) {
    case 'pds.lookupPatient':
      return {
        nhsNumber: input['nhsNumber'],
        patient: { nhsNumber: input['nhsNumber'], identity: 'verified', restricted: false, possibleDuplicateOf: null },
      };
    case 'pds.traceByDemographics':
      return { traceOutcome: 'no-match' };
    case 'scr.fetchSummary':
      return { summaryId: `scr-${sequence}`, summaryStatus: 'available' };
    case 'records.raiseAlert':
      return { alertIds: (input['alerts'] as unknown[]).map((_, i) => `alert-${sequence}-${i}`) };
    case 'records.saveAssessment':
      return { assessmentId: `assessment-${sequence}` };
    case 'records.bookAppointment':
      return { appointmentId: `appointment-${sequence}` };
    case 'notify.notifyContacts': {
      const n = input['notification'] as { agencies: unknown[]; familyContacts: unknown[] };
      return { notifiedCount: n.agencies.length + n.familyContacts.length };
    }
    case 'records.recordHandover':
      return { handoverId: `handover-${sequence}` };
    case 'records.referLiaisonDiversion':
      return { referralId: `ld-${sequence}` };
    case 'reports.clinicalReport':
      return { reportId: `report-${sequence}` };
    default:
      return {};
  }
}

/** A test's own answer for a task type; `'pending'` leaves the service task running until `serviceCompleted`. */
type Responder = (command: Command<'executeServiceTask'>) => Vars | 'pending';

/** Drives one pathway: answers service tasks at once, and lets the test complete tasks, fire timers, send messages. */
class Walk {
  step: Step;
  now: string;
  readonly services: Command<'executeServiceTask'>[] = [];
  readonly tasks: Command<'openUserTask'>[] = [];
  readonly timers: Command<'startTimer'>[] = [];
  readonly subscriptions: Command<'subscribeMessage'>[] = [];
  readonly children: Command<'startChildPathway'>[] = [];
  readonly cancelled: PathwayCommand[] = [];

  constructor(
    readonly ir: PathwayIR,
    variables: Vars,
    now: string,
    readonly responders: Readonly<Record<string, Responder>> = {},
  ) {
    this.now = now;
    this.step = start(ir, variables, now);
    this.settle();
  }

  /** Answers a service task a responder left pending. */
  serviceCompleted(elementId: string, result: Vars): void {
    const running = Object.values(this.state.instances).find(
      (i) => i.elementId === elementId && i.wait.type === 'serviceTask',
    );
    if (!running) throw new Error(`no running service task ${elementId}`);
    this.send({ type: 'serviceTaskCompleted', activityId: running.id, result });
  }

  get state(): PathwayState {
    return this.step.state;
  }
  get variables(): Vars {
    return this.state.variables;
  }

  private send(event: PathwayEvent): void {
    this.step = handle(this.ir, this.state, event, this.now);
    this.settle();
  }

  private settle(): void {
    let pending = this.record(this.step.commands);
    while (pending.length > 0) {
      const command = pending.shift() as Command<'executeServiceTask'>;
      const own = this.responders[command.taskType];
      const result = own ? own(command) : respond(command, this.services.length);
      if (result === 'pending') continue;
      this.step = handle(
        this.ir,
        this.state,
        { type: 'serviceTaskCompleted', activityId: command.activityId, result },
        this.now,
      );
      pending = [...pending, ...this.record(this.step.commands)];
    }
    const failure = this.step.commands.find((c) => c.type === 'fail');
    if (failure) throw new Error(`pathway failed: ${JSON.stringify(failure)}`);
  }

  private record(commands: PathwayCommand[]): Command<'executeServiceTask'>[] {
    const services: Command<'executeServiceTask'>[] = [];
    for (const command of commands) {
      if (command.type === 'executeServiceTask') {
        this.services.push(command);
        services.push(command);
      }
      if (command.type === 'openUserTask') this.tasks.push(command);
      if (command.type === 'startTimer') this.timers.push(command);
      if (command.type === 'subscribeMessage') this.subscriptions.push(command);
      if (command.type === 'startChildPathway') this.children.push(command);
      if (command.type === 'cancelChildPathway' || command.type === 'cancelServiceTask') this.cancelled.push(command);
    }
    return services;
  }

  openTask(elementId: string): Command<'openUserTask'> {
    const open = Object.values(this.state.instances).filter(
      (i) => i.elementId === elementId && i.wait.type === 'userTask',
    );
    const task = [...this.tasks]
      .reverse()
      .find((t) => t.elementId === elementId && open.some((i) => i.id === t.taskId));
    if (!task) throw new Error(`no open task ${elementId}; open: ${this.openElements().join(', ')}`);
    return task;
  }

  openElements(): string[] {
    return Object.values(this.state.instances)
      .map((i) => i.elementId)
      .sort();
  }

  complete(elementId: string, data: Vars): void {
    this.send({ type: 'taskCompleted', taskId: this.openTask(elementId).taskId, data });
  }

  fire(elementId: string): void {
    const timer = Object.values(this.state.timers).find((t) => t.elementId === elementId);
    if (!timer) throw new Error(`no timer at ${elementId}`);
    this.now = timer.dueAt;
    this.send({ type: 'timerFired', timerId: timer.id });
  }

  timerDue(elementId: string): string | undefined {
    return Object.values(this.state.timers).find((t) => t.elementId === elementId)?.dueAt;
  }

  message(messageName: string, correlationKey: string, variables: Vars = {}): void {
    this.send({ type: 'messageReceived', messageName, correlationKey, variables });
  }

  childCompleted(processId: string, variables: Vars): void {
    const child = [...this.children].reverse().find((c) => c.processId === processId);
    if (!child) throw new Error(`no child ${processId}`);
    this.send({ type: 'childCompleted', childId: child.childId, variables });
  }

  servicesOf(taskType: string): Command<'executeServiceTask'>[] {
    return this.services.filter((s) => s.taskType === taskType);
  }

  lastService(elementId: string): Command<'executeServiceTask'> {
    const found = [...this.services].reverse().find((s) => s.elementId === elementId);
    if (!found) throw new Error(`service task ${elementId} never ran`);
    return found;
  }
}

const plus = (iso: string, ms: number): string => new Date(Date.parse(iso) + ms).toISOString();
const MIN = 60_000;
const DAY = 24 * 60 * MIN;

describe('custody-reception walk-through', () => {
  const ARRIVAL = '2026-03-02T14:30:00.000Z';

  it("screens, alerts, refers, observes at the level's interval, follows a suite transfer and hands over with the alerts", async () => {
    const walk = new Walk(
      await compile('custody-reception'),
      { caseId: 'case-1', nhsNumber: '9000000009', custodySuite: 'Leeds Elland Road', arrivalTime: ARRIVAL },
      ARRIVAL,
    );
    expect(walk.servicesOf('pds.lookupPatient')[0]?.input['nhsNumber']).toBe('9000000009');
    expect(walk.openTask('HealthScreening')).toMatchObject({
      formId: 'custody-health-screening',
      candidateGroups: ['custody-healthcare'],
      dueDate: plus(ARRIVAL, 120 * MIN),
    });

    walk.complete('HealthScreening', example('custody-health-screening'));
    const alerts = walk.lastService('RaiseRiskAlerts').input['alerts'] as { code: string }[];
    expect(alerts.map((a) => a.code)).toEqual(['ALCOHOL_WITHDRAWAL_RISK', 'SUBSTANCE_DEPENDENCE']);
    const referral = walk.lastService('ReferToLiaisonDiversion').input['referral'] as Vars;
    expect(walk.variables['liaisonDiversionReferralId']).toMatch(/^ld-/);
    const alertIds = walk.variables['custodyAlertIds'];
    expect(alertIds).toHaveLength(2);
    expect(referral).toMatchObject({
      consentToShare: true,
      vulnerabilities: ['mental-health', 'self-harm-or-suicide', 'substance-misuse'],
    });

    walk.complete('SetObservationLevel', example('custody-observation-level'));
    expect(walk.variables['observationInterval']).toBe('PT15M');
    expect(walk.timerDue('VisitIntervalElapsed')).toBe(plus(walk.now, 15 * MIN));
    walk.fire('VisitIntervalElapsed');
    walk.complete('RecordObservationCheck', example('custody-observation-check'));
    expect(walk.timerDue('VisitIntervalElapsed')).toBeDefined();

    walk.message('custody.suite-transfer', 'case-1', { receivingSuite: 'Wakefield' });
    expect(walk.lastService('RecordSuiteTransfer').input['handover']).toMatchObject({
      kind: 'custody-suite-transfer',
      toSuite: 'Wakefield',
      alertIds,
    });
    expect(walk.variables['custodySuite']).toBe('Wakefield');
    expect(walk.timerDue('VisitIntervalElapsed')).toBeDefined();

    walk.message('custody.leaving', 'case-1');
    walk.complete('ReviewRiskBeforeLeaving', example('custody-pre-departure-review'));
    expect(walk.variables['isTransfer']).toBe(true);
    walk.complete('CompleteHealthHandover', example('custody-handover'));
    expect(walk.lastService('RecordHandover').input['handover']).toMatchObject({
      kind: 'person-escort-record',
      destination: 'court',
      alertIds,
      liaisonDiversionReferralId: walk.variables['liaisonDiversionReferralId'],
    });
    // a terminate end: custody healthcare ends here, with anything still running beside it
    expect(walk.state.status).toBe('terminated');
  });

  it('alerts the healthcare professional when the person cannot be roused, then asks for a level review', async () => {
    const walk = new Walk(
      await compile('custody-reception'),
      { caseId: 'case-2', nhsNumber: null, custodySuite: 'Leeds', arrivalTime: ARRIVAL },
      ARRIVAL,
    );
    expect(walk.servicesOf('pds.lookupPatient')).toEqual([]);
    walk.complete(
      'HealthScreening',
      example('custody-health-screening', { liaisonDiversionReferral: 'not-indicated' }),
    );
    expect(walk.servicesOf('records.referLiaisonDiversion')).toEqual([]);
    walk.complete('SetObservationLevel', example('custody-observation-level'));
    walk.fire('VisitIntervalElapsed');
    walk.fire('ObservationCheckOverdue');
    expect(walk.lastService('NotifyCheckOverdue').input['staffNotice']).toMatchObject({
      kind: 'overdue',
      duties: ['custody-sergeant'],
    });
    walk.complete(
      'RecordObservationCheck',
      example('custody-observation-check', {
        rousing: 'could-not-rouse',
        emergencyHelpCalled: true,
        actionTaken: 'Ambulance called at 15:16',
      }),
    );
    expect(walk.lastService('NotifyEmergencyHelp').input['staffNotice']).toMatchObject({
      kind: 'emergency',
      duties: ['healthcare-professional'],
      urgent: true,
    });
    expect(walk.openTask('RespondToMedicalEmergency').formId).toBe('custody-medical-emergency');
    expect(walk.openTask('ReviewObservationLevel').formId).toBe('custody-observation-level');
  });
});

describe('sms-prison walk-through', () => {
  // Tuesday 3 March 2026, 17:20 GMT: the clocks go forward on Sunday 29 March (BST) and back on 25 October.
  const START = '2026-03-03T17:00:00.000Z';
  const RECEPTION = '2026-03-03T17:20:00Z';

  function startWalk(variables: Vars = {}, responders: Readonly<Record<string, Responder>> = {}): Promise<Walk> {
    return compile('sms-prison').then(
      (ir) =>
        new Walk(
          ir,
          {
            caseId: 'case-9',
            nhsNumber: '9000000009',
            prisonNumber: 'A1234BC',
            establishment: 'HMP Leeds',
            receptionDate: START,
            ...variables,
          },
          START,
          responders,
        ),
    );
  }

  async function throughTop(
    briefInterventionRequired: boolean,
    reception: Vars = {},
    start: { variables?: Vars; responders?: Readonly<Record<string, Responder>> } = {},
  ): Promise<Walk> {
    const walk = await startWalk(start.variables, start.responders);
    walk.complete('ReceptionScreening', example('prison-reception-sms', reception));
    expect(walk.variables['receptionDate']).toBe(RECEPTION);
    expect(walk.servicesOf('scr.fetchSummary')).toHaveLength(1);
    walk.complete('ReferToSms', example('sms-referral'));
    expect(walk.lastService('SaveReferral').input['assessment']).toMatchObject({
      formId: 'sms-referral',
      snomedCode: '201521000000104',
    });
    walk.complete('DualDiagnosis', example('sms-dual-diagnosis'));
    walk.complete(
      'RiskAssessment',
      example(
        'sms-risk-assessment',
        briefInterventionRequired ? {} : { briefInterventionRequired: false, briefInterventionReason: undefined },
      ),
    );
    expect((walk.lastService('RaiseRiskAlerts').input['alerts'] as { code: string }[]).map((a) => a.code)).toEqual([
      'OVERDOSE_RISK',
    ]);
    walk.complete('AssignCaseload', example('sms-caseload-assignment'));
    expect(walk.lastService('SaveCaseload').input['assessment']).toMatchObject({ snomedCode: '109201000000109' });
    if (briefInterventionRequired) {
      walk.complete('BriefIntervention', example('sms-brief-intervention'));
      expect(walk.lastService('SaveBriefIntervention').input['assessment']).toMatchObject({
        snomedCode: '366371000000105',
      });
    }
    expect(walk.openTask('TopAtStart')).toMatchObject({ dueDate: '2026-03-17T23:59:59.000Z' });
    expect(walk.openTask('TopAtStart').input).toMatchObject({
      treatmentStage: 'start',
      periodCovered: '4-weeks-before-custody',
    });
    walk.complete('TopAtStart', example('top-secure-setting'));
    return walk;
  }

  const answersOf = (walk: Walk, elementId: string): Vars =>
    (walk.lastService(elementId).input['assessment'] as { answers: Vars }).answers;

  it('skips the brief intervention when the risk assessment does not require one', async () => {
    const walk = await throughTop(false);
    expect(walk.tasks.map((t) => t.elementId)).not.toContain('BriefIntervention');
    expect(walk.openTask('FiveDayReview')).toBeDefined();
  });

  it('plans the milestones at reception on calendar deadlines, watches each review from then, and marks one done late', async () => {
    const walk = await throughTop(true);

    // planned from reception: the end of the London day 7 and 5 days, 28 days (BST by then) and 13 weeks after
    expect(walk.lastService('PlanMilestones').input).toMatchObject({
      planReason: `reception ${RECEPTION}`,
      plannedTasks: [
        {
          elementId: 'SecondStageHealthAssessment',
          dueAt: '2026-03-10T23:59:59.000Z',
          formId: 'prison-second-stage-health',
        },
        { elementId: 'FiveDayReview', dueAt: '2026-03-08T23:59:59.000Z', candidateGroups: ['sms-team'] },
        { elementId: 'TwentyEightDayReview', dueAt: '2026-03-31T22:59:59.000Z' },
        { elementId: 'ThirteenWeekReview', dueAt: '2026-06-02T22:59:59.000Z' },
      ],
    });
    expect(walk.openTask('SecondStageHealthAssessment')).toMatchObject({
      dueDate: '2026-03-10T23:59:59.000Z',
      candidateGroups: ['prison-healthcare'],
    });
    expect(walk.timerDue('SecondStageAssessmentOverdue')).toBe('2026-03-11T00:00:00.000Z');

    const five = walk.openTask('FiveDayReview');
    expect(five).toMatchObject({
      formId: 'sms-review',
      dueDate: '2026-03-08T23:59:59.000Z',
      followUpDate: '2026-03-08T00:00:00.000Z',
      candidateGroups: ['sms-team'],
    });
    expect(five.input['reviewType']).toBe('five-day');
    expect(walk.timerDue('FiveDayReviewDueSoon')).toBe('2026-03-08T00:00:00.000Z');
    walk.fire('FiveDayReviewDueSoon');
    expect(walk.lastService('RemindFiveDayReview').input['teamNotice']).toMatchObject({
      kind: 'reminder',
      group: 'sms-team',
    });
    expect(walk.timerDue('FiveDayReviewDeadlinePassed')).toBe('2026-03-09T00:00:00.000Z');
    walk.fire('FiveDayReviewDeadlinePassed');
    expect(walk.lastService('RaiseFiveDayOverdueAlert').input['alerts']).toMatchObject([{ code: 'REVIEW_OVERDUE' }]);
    expect(walk.lastService('NotifyFiveDayReviewOverdue').input['staffNotice']).toMatchObject({
      kind: 'overdue',
      duties: ['sms-team-lead', 'keyworker'],
      elementId: 'FiveDayReview',
      dueAt: '2026-03-08T23:59:59.000Z',
      message: 'The 5-day review was due by the end of 2026-03-08 and is not done.',
    });
    expect(walk.timerDue('FiveDayReviewStillOpen')).toBe('2026-03-11T00:00:00.000Z');
    walk.fire('FiveDayReviewStillOpen');
    expect(walk.lastService('EscalateFiveDayReview').input['staffNotice']).toMatchObject({
      kind: 'escalation',
      duties: ['sms-clinical-lead', 'sms-team-lead'],
    });
    walk.complete('FiveDayReview', example('sms-review'));
    expect(walk.lastService('SaveFiveDayReview').input['assessment']).toMatchObject({
      snomedCode: '494041000000102',
      answers: { dueAt: '2026-03-08T23:59:59.000Z', completedLate: true },
    });
    expect(walk.variables['fiveDayReviewCompletedLate']).toBe(true);
    expect(walk.lastService('ResolveFiveDayOverdueAlert').input['alertIds']).toHaveLength(1);

    // the 28-day review done before its day: its watch ends without a word
    expect(walk.openTask('TwentyEightDayReview')).toMatchObject({ dueDate: '2026-03-31T22:59:59.000Z' });
    walk.complete('TwentyEightDayReview', example('sms-review', { reviewType: 'twenty-eight-day' }));
    expect(answersOf(walk, 'SaveTwentyEightDayReview')).toMatchObject({ completedLate: false });
    walk.fire('TwentyEightDayReviewDueSoon');
    expect(walk.servicesOf('notify.notifyTeam').map((s) => s.elementId)).not.toContain('RemindTwentyEightDayReview');
    expect(walk.openElements().filter((id) => id.startsWith('TwentyEightDay'))).toEqual([]);
    expect(walk.servicesOf('records.resolveAlert')).toHaveLength(1);

    expect(walk.openTask('ThirteenWeekReview')).toMatchObject({ dueDate: '2026-06-02T22:59:59.000Z' });
    expect(walk.timerDue('ThirteenWeekReviewDueSoon')).toBe('2026-06-01T23:00:00.000Z');
    walk.fire('ThirteenWeekReviewDueSoon');
    walk.complete('ThirteenWeekReview', example('sms-review', { reviewType: 'thirteen-week' }));
    walk.fire('ThirteenWeekReviewDeadlinePassed');
    expect(walk.servicesOf('records.raiseAlert').map((s) => s.elementId)).not.toContain(
      'RaiseThirteenWeekOverdueAlert',
    );
    expect(walk.state.trail.some((t) => t.elementId === 'ThirteenWeekReviewDoneInTime')).toBe(true);
  });

  it('watches a review that the pathway has not reached yet', async () => {
    const walk = await startWalk();
    walk.complete('ReceptionScreening', example('prison-reception-sms'));
    // still at the referral on day 6: the 5-day review is not open, but its deadline has passed
    expect(walk.openElements()).toContain('ReferToSms');
    walk.fire('FiveDayReviewDueSoon');
    walk.fire('FiveDayReviewDeadlinePassed');
    expect(walk.now).toBe('2026-03-09T00:00:00.000Z');
    expect(walk.tasks.map((t) => t.elementId)).not.toContain('FiveDayReview');
    expect(walk.lastService('NotifyFiveDayReviewOverdue').input['staffNotice']).toMatchObject({
      kind: 'overdue',
      elementId: 'FiveDayReview',
    });
    expect(walk.variables['fiveDayOverdueAlertIds']).toHaveLength(1);
  });

  it('treats the TOP: reviews every 6 months from reception while in treatment, an exit on release, a new start on recall', async () => {
    // (received with a Person Escort Record from custody: the recall reception, months later, is not prefilled from it)
    const walk = await throughTop(
      false,
      {},
      {
        variables: { handoverId: 'handover-7' },
        responders: {
          'records.readHandover': () => ({ handover: { handoverId: 'handover-7', selfHarmIndication: 'current' } }),
        },
      },
    );
    expect(walk.variables['escortRecordHealth']).toMatchObject({ handoverId: 'handover-7' });
    for (const [task, type] of [
      ['FiveDayReview', 'five-day'],
      ['TwentyEightDayReview', 'twenty-eight-day'],
      ['ThirteenWeekReview', 'thirteen-week'],
    ] as const) {
      walk.complete(task, example('sms-review', { reviewType: type }));
    }
    walk.complete('CarePlan', example('sms-care-plan'));
    expect(walk.lastService('TellReleaseTeam').input['teamNotice']).toMatchObject({
      group: 'release-team',
      expectedReleaseDate: '2026-08-14',
    });
    expect(walk.variables['carePlanId']).toMatch(/^assessment-/);

    // 3 September 2026 is 6 calendar months after reception (BST); the task opens 14 days before
    expect(walk.timerDue('TopReviewWindowOpens')).toBe('2026-08-20T22:59:59.000Z');
    walk.fire('TopReviewWindowOpens');
    const review = walk.openTask('TopReview');
    expect(review).toMatchObject({ formId: 'top-secure-setting', dueDate: '2026-09-03T22:59:59.000Z' });
    expect(review.input).toMatchObject({ treatmentStage: 'review', periodCovered: 'past-28-days' });
    expect(walk.timerDue('TopReviewOverdue')).toBe('2026-09-03T23:00:00.000Z');
    walk.complete(
      'TopReview',
      example('top-secure-setting', { treatmentStage: 'review', periodCovered: 'past-28-days' }),
    );
    expect(answersOf(walk, 'SaveTopReview')).toMatchObject({ treatmentStage: 'review', completedLate: false });
    // the next falls due 6 months after that one was due (GMT in March)
    expect(walk.variables['topReviewDueAt']).toBe('2027-03-03T23:59:59.000Z');
    expect(walk.timerDue('TopReviewWindowOpens')).toBe('2027-02-17T23:59:59.000Z');

    walk.message('prison.discharge', 'case-9');
    walk.complete('RecordDischarge', example('sms-discharge'));
    expect(walk.variables['episodeOpen']).toBe(false);
    expect(walk.lastService('WithdrawPlannedMilestones').input).toMatchObject({ plannedTasks: [] });
    expect(walk.openTask('TopAtExit')).toMatchObject({ dueDate: '2026-08-21T22:59:59.000Z' });
    expect(walk.openTask('TopAtExit').input['treatmentStage']).toBe('exit');
    expect(walk.lastService('DischargeSummary').input['report']).toMatchObject({
      kind: 'discharge-summary',
      exitReason: 'released',
    });
    // (the second-stage assessment, never done here, and the watches of reviews done early are still pending)
    expect(walk.openElements()).toEqual(expect.arrayContaining(['RecallWatch', 'TopAtExit']));
    walk.complete(
      'TopAtExit',
      example('top-secure-setting', { treatmentStage: 'exit', periodCovered: 'past-28-days' }),
    );

    // Recalled: a new reception linked to this episode and its care plan, milestones from the recall reception
    walk.message('prison.recall', 'case-9');
    const reception = walk.openTask('ReceptionScreening');
    // High on the worklist: the screen comes before cell allocation.
    expect(reception.priority).toBe(70);
    expect(reception.input).toMatchObject({ escortRecordHealth: null, selfHarmSuicideRisk: null });
    expect(walk.servicesOf('records.readHandover')).toHaveLength(1);
    expect(reception.input['recall']).toMatchObject({
      previousCaseId: 'case-9',
      previousCarePlanId: walk.variables['carePlanId'],
    });
    // Thursday 20 August 2026, 22:30 BST: a late-evening recall reception
    walk.complete('ReceptionScreening', example('prison-reception-sms', { receptionAt: '2026-08-20T21:30:00Z' }));
    expect(walk.variables['initialReceptionDate']).toBe(RECEPTION);
    expect(answersOf(walk, 'SaveReception')['recall']).toMatchObject({ previousCaseId: 'case-9' });
    expect(walk.lastService('NoteRecallReception').input['note']).toMatchObject({ kind: 'recall-reception' });
    expect(walk.lastService('PlanMilestones').input).toMatchObject({
      planReason: 'recall reception 2026-08-20T21:30:00Z',
      plannedTasks: [
        { elementId: 'SecondStageHealthAssessment', dueAt: '2026-08-27T22:59:59.000Z' },
        { elementId: 'FiveDayReview', dueAt: '2026-08-25T22:59:59.000Z' },
        { elementId: 'TwentyEightDayReview', dueAt: '2026-09-17T22:59:59.000Z' },
        { elementId: 'ThirteenWeekReview', dueAt: '2026-11-19T23:59:59.000Z' },
      ],
    });
    walk.complete('ReferToSms', example('sms-referral'));
    walk.complete('DualDiagnosis', example('sms-dual-diagnosis'));
    walk.complete(
      'RiskAssessment',
      example('sms-risk-assessment', { briefInterventionRequired: false, briefInterventionReason: undefined }),
    );
    walk.complete('AssignCaseload', example('sms-caseload-assignment'));
    // a new TOP at start for the new custodial stay, due 14 days after the recall reception
    expect(walk.openTask('TopAtStart')).toMatchObject({ dueDate: '2026-09-03T22:59:59.000Z' });
    expect(walk.openTask('TopAtStart').input['treatmentStage']).toBe('start');
  });

  it('leaves the watches of an earlier reception silent after a transfer restarts the milestones', async () => {
    const walk = await throughTop(false);
    for (const [task, type] of [
      ['FiveDayReview', 'five-day'],
      ['TwentyEightDayReview', 'twenty-eight-day'],
      ['ThirteenWeekReview', 'thirteen-week'],
    ] as const) {
      walk.complete(task, example('sms-review', { reviewType: type }));
    }
    walk.complete(
      'CarePlan',
      example('sms-care-plan', { releasePlanningStarted: false, expectedReleaseDate: undefined }),
    );
    walk.message('prison.discharge', 'case-9');
    walk.complete(
      'RecordDischarge',
      example('sms-discharge', { prisonExitReason: 'transferred', dischargeReason: 'transferred-in-custody' }),
    );
    expect(walk.lastService('RecordPrisonTransfer').input['handover']).toMatchObject({ kind: 'prison-transfer' });
    walk.complete('ReceptionScreening', example('prison-reception-sms', { receptionAt: '2026-03-20T10:00:00Z' }));
    expect(walk.variables['receptionNumber']).toBe(2);
    const reminders = walk.servicesOf('notify.notifyTeam').length;
    // the first reception's 5-day watch (still pending: the review was done before its day) fires: nothing happens
    walk.fire('FiveDayReviewDueSoon');
    expect(walk.servicesOf('notify.notifyTeam')).toHaveLength(reminders);
    expect(walk.variables['fiveDayReviewWatchOn']).toBe(false);
  });

  it('decides alcohol from the AUDIT-C or AUDIT score: a brief intervention for hazardous drinking, due in 7 days', async () => {
    const walk = await startWalk();
    walk.complete(
      'ReceptionScreening',
      example('prison-reception-sms', { alcoholScreenTool: 'AUDIT-C', alcoholScore: 7 }),
    );
    expect(answersOf(walk, 'SaveReception')['alcoholScreen']).toEqual({
      tool: 'AUDIT-C',
      score: 7,
      withdrawalSigns: false,
      decision: 'hazardous',
    });
    const intervention = walk.openTask('AlcoholBriefIntervention');
    expect(intervention).toMatchObject({ dueDate: '2026-03-10T23:59:59.000Z', candidateGroups: ['sms-team'] });
    expect(intervention.input['interventionType']).toBe('alcohol-brief');
    expect(walk.tasks.map((t) => t.elementId)).not.toContain('AlcoholClinicianAssessment');
    expect(walk.timerDue('AlcoholBriefInterventionOverdue')).toBe('2026-03-11T00:00:00.000Z');
    walk.fire('AlcoholBriefInterventionOverdue');
    expect(walk.lastService('NotifyAlcoholBriefInterventionOverdue').input['staffNotice']).toMatchObject({
      kind: 'overdue',
      duties: ['sms-team-lead', 'keyworker'],
    });
    walk.complete('AlcoholBriefIntervention', example('sms-brief-intervention'));
    expect(walk.lastService('SaveAlcoholBriefIntervention').input['assessment']).toMatchObject({
      snomedCode: '366371000000105',
      answers: { completedLate: true },
    });
  });

  it('records a negative alcohol screen and its score, with no task', async () => {
    const walk = await startWalk();
    walk.complete(
      'ReceptionScreening',
      example('prison-reception-sms', { alcoholScreenTool: 'AUDIT', alcoholScore: 6 }),
    );
    expect(answersOf(walk, 'SaveReception')['alcoholScreen']).toMatchObject({ score: 6, decision: 'negative' });
    expect(walk.tasks.map((t) => t.elementId)).not.toEqual(expect.arrayContaining([expect.stringMatching(/^Alcohol/)]));
    expect(walk.state.trail.some((t) => t.elementId === 'AlcoholNoTaskNeeded')).toBe(true);
  });

  it('asks a clinician to assess at once, and alerts, when there are signs of alcohol withdrawal: no brief intervention', async () => {
    const walk = await startWalk();
    walk.complete(
      'ReceptionScreening',
      example('prison-reception-sms', {
        alcoholUse: 'dependent-or-intoxicated',
        alcoholScreenTool: 'AUDIT',
        alcoholScore: 27,
        alcoholWithdrawalSigns: true,
      }),
    );
    expect(walk.lastService('RaiseAlcoholWithdrawalAlert').input['alerts']).toEqual([
      { code: 'ALCOHOL_WITHDRAWAL_RISK', text: 'Alcohol withdrawal risk', source: 'prison-reception-sms' },
    ]);
    expect(walk.lastService('NotifyAlcoholWithdrawal').input['staffNotice']).toMatchObject({
      kind: 'alert',
      duties: ['prison-healthcare'],
      urgent: true,
    });
    expect(walk.openTask('AlcoholClinicianAssessment')).toMatchObject({
      formId: 'alcohol-clinician-assessment',
      candidateGroups: ['prison-healthcare'],
      dueDate: '2026-03-03T18:00:00.000Z',
      priority: 100,
    });
    expect(walk.tasks.map((t) => t.elementId)).not.toContain('AlcoholBriefIntervention');
    walk.fire('AlcoholAssessmentNotDone');
    expect(walk.lastService('EscalateAlcoholAssessment').input['staffNotice']).toMatchObject({
      kind: 'escalation',
      duties: ['prison-healthcare', 'sms-clinical-lead'],
    });
    walk.complete('AlcoholClinicianAssessment', example('alcohol-clinician-assessment'));
    expect(walk.lastService('SaveAlcoholClinicianAssessment').input['assessment']).toMatchObject({
      formId: 'alcohol-clinician-assessment',
      answers: { medicallyAssistedWithdrawal: 'started', screen: { decision: 'dependent-withdrawal', score: 27 } },
    });
    // the alert goes on with the person's prison alerts
    walk.complete('ReferToSms', example('sms-referral'));
    walk.complete('DualDiagnosis', example('sms-dual-diagnosis'));
    walk.complete('RiskAssessment', example('sms-risk-assessment'));
    expect(walk.variables['prisonAlertIds']).toHaveLength(2);
  });

  it('prefills the reception screen from the Person Escort Record handed over from custody', async () => {
    const handover = {
      handoverId: 'handover-7',
      recordedAt: '2026-03-03T15:00:00.000Z',
      prescribedMedication: true,
      medicines: [
        {
          medicationName: 'Insulin glargine',
          dosage: '20 units',
          frequency: 'Once daily',
          timeLastGiven: null,
          timeNextGiven: null,
        },
      ],
      selfHarmIndication: 'historical',
      selfHarmDetails: 'Cut his arms in 2024 after a relationship ended; denies current thoughts',
      alcoholWithdrawal: true,
      dependencies: 'Opioid dependent; community methadone 60 mg daily',
    };
    const walk = await startWalk({ handoverId: 'handover-7' }, { 'records.readHandover': () => ({ handover }) });
    expect(walk.lastService('ReadEscortRecord').input['handoverId']).toBe('handover-7');
    const screen = walk.openTask('ReceptionScreening');
    expect(screen.input).toMatchObject({
      escortRecordHealth: handover,
      selfHarmSuicideRisk: 'historical',
      alcoholWithdrawalSigns: true,
      referToSubstanceMisuseService: true,
    });
    // the clinician confirms; what the PER said is kept with the screen
    walk.complete('ReceptionScreening', example('prison-reception-sms'));
    expect(answersOf(walk, 'SaveReception')).toMatchObject({
      escortRecordHealth: handover,
      selfHarmSuicideRisk: 'historical',
    });
  });

  it('reads no escort record when none came, and goes on without a referral once the second stage is done', async () => {
    const walk = await startWalk();
    expect(walk.servicesOf('records.readHandover')).toEqual([]);
    walk.complete(
      'ReceptionScreening',
      example('prison-reception-sms', {
        referToSubstanceMisuseService: false,
        noReferralReason: 'Declined: says he has stopped using and wants no contact with the service',
      }),
    );
    expect(answersOf(walk, 'SaveReception')).toMatchObject({ referralSuggested: true });
    expect(walk.lastService('PlanMilestones').input['plannedTasks']).toEqual([
      expect.objectContaining({ elementId: 'SecondStageHealthAssessment' }),
    ]);
    expect(walk.tasks.map((t) => t.elementId)).not.toContain('ReferToSms');
    expect(walk.state.status).toBe('active');
    walk.complete('SecondStageHealthAssessment', example('prison-second-stage-health'));
    expect(answersOf(walk, 'SaveSecondStageAssessment')).toMatchObject({ completedLate: false });
    expect(walk.state.status).toBe('completed');
  });

  it('closes the episode with clinical reports when no recall comes in the watch period', async () => {
    const walk = await throughTop(false);
    for (const [task, type] of [
      ['FiveDayReview', 'five-day'],
      ['TwentyEightDayReview', 'twenty-eight-day'],
      ['ThirteenWeekReview', 'thirteen-week'],
    ] as const) {
      walk.complete(task, example('sms-review', { reviewType: type }));
    }
    walk.complete(
      'CarePlan',
      example('sms-care-plan', { releasePlanningStarted: false, expectedReleaseDate: undefined }),
    );
    expect(walk.servicesOf('notify.notifyTeam').filter((s) => s.elementId === 'TellReleaseTeam')).toEqual([]);
    walk.message('prison.discharge', 'case-9');
    walk.complete('RecordDischarge', example('sms-discharge'));
    expect(walk.timerDue('RecallWatchEnds')).toBe(new Date(Date.parse(walk.now) + 28 * DAY).toISOString());
    walk.fire('RecallWatchEnds');
    expect(walk.lastService('ClinicalReports').input['report']).toMatchObject({
      kind: 'episode-outcomes',
      initialReceptionDate: RECEPTION,
      ndtmsConsent: 'given',
    });
    expect(walk.state.status).toBe('terminated');
  });
});

describe('release-support walk-through', () => {
  const NOW = '2026-08-01T09:00:00.000Z';

  it('books each planned appointment, handles a miss (notify, alert, rebook) and an unreported one, then closes', async () => {
    const walk = new Walk(
      await compile('release-support'),
      { caseId: 'case-5', patient: { nhsNumber: '9000000009', restricted: false } },
      NOW,
    );
    walk.complete('PlanRelease', example('release-plan'));
    const booked = walk
      .servicesOf('records.bookAppointment')
      .map((s) => s.elementId)
      .sort();
    expect(booked).toEqual(['BookProbationAppointment', 'BookSmsAppointment']);
    const probationId =
      'appointment-' + String(walk.services.findIndex((s) => s.elementId === 'BookProbationAppointment') + 1);
    expect(walk.variables['probationAppointmentId']).toBe(probationId);
    expect(walk.subscriptions.map((s) => s.messageName)).toEqual(
      expect.arrayContaining(['appointment.probation.missed', 'appointment.probation.attended', 'prison.recall']),
    );

    walk.message('appointment.probation.missed', probationId);
    expect(walk.lastService('RecordProbationMissed').input['appointmentStatus']).toBe('noshow');
    const notification = walk.lastService('NotifyContactsProbationMissed').input['notification'] as {
      agencies: unknown[];
      familyContacts: { name: string }[];
      location: unknown;
    };
    expect(notification.agencies).toHaveLength(2);
    expect(notification.familyContacts.map((c) => c.name)).toEqual(['Maria Smith']);
    expect(notification.location).toBe('Leeds PDU');
    expect(walk.lastService('RaiseProbationMissedAlert').input['alerts']).toMatchObject([
      { code: 'MISSED_APPOINTMENT', group: 'release-team' },
    ]);
    walk.complete('FollowUpProbationMissed', example('release-missed-appointment'));
    const rebooked = walk.lastService('BookProbationAppointment').input['appointment'] as Vars;
    expect(rebooked).toMatchObject({ startsAt: '2026-08-18T14:00:00Z', replacesAppointmentId: probationId });
    walk.message('appointment.probation.attended', String(walk.variables['probationAppointmentId']));
    expect(walk.lastService('RecordProbationAttended').input['appointmentStatus']).toBe('fulfilled');

    // not confirmed as attended within the grace period: treated as missed, until the follow-up finds otherwise
    walk.fire('SmsOutcomeNotReported');
    expect(walk.lastService('RecordSmsMissed').input['appointmentStatus']).toBe('noshow');
    walk.complete(
      'FollowUpSmsMissed',
      example('release-missed-appointment', { followUp: 'attended', newStartsAt: undefined }),
    );
    expect(walk.lastService('RecordSmsAttended').input['appointmentStatus']).toBe('fulfilled');
    // due at the end of the London day 6 calendar months after the release date (GMT in February)
    expect(walk.openTask('CloseReleaseSupport').dueDate).toBe('2027-02-14T23:59:59.000Z');
    walk.complete('CloseReleaseSupport', example('release-support-closure'));
    expect(walk.lastService('ReportReleaseOutcome').input['report']).toMatchObject({
      indicator: 'PHOF 2.16',
      engaged: 'yes',
    });
    expect(['completed', 'terminated']).toContain(walk.state.status);
    expect(walk.subscriptions.length).toBeGreaterThan(0);
    expect(Object.keys(walk.state.subscriptions)).toEqual([]);
  });

  it('withholds the appointment location of a restricted record from contacts', async () => {
    const walk = new Walk(
      await compile('release-support'),
      { caseId: 'case-6', patient: { nhsNumber: '9000000025', restricted: true } },
      NOW,
    );
    walk.complete('PlanRelease', example('release-plan'));
    walk.message('appointment.community-substance-misuse.missed', String(walk.variables['smsAppointmentId']));
    const notification = walk.lastService('NotifyContactsSmsMissed').input['notification'] as { location: unknown };
    expect(notification.location).toBeNull();
  });

  it('ends release support when the person is recalled', async () => {
    const walk = new Walk(await compile('release-support'), { caseId: 'case-7', patient: null }, NOW);
    walk.complete('PlanRelease', example('release-plan'));
    walk.message('prison.recall', 'case-7');
    expect(walk.lastService('NoteRecall').taskType).toBe('records.addNote');
    expect(walk.state.status).not.toBe('active');
    expect(Object.keys(walk.state.timers)).toEqual([]);
  });
});

describe('journey walk-through', () => {
  const NOW = '2026-03-02T14:30:00.000Z';

  it('carries the case, trace, alerts and handover from custody through court to prison and release', async () => {
    const walk = new Walk(
      await compile('journey'),
      { caseId: 'case-3', nhsNumber: '9000000009', custodySuite: 'Leeds', arrivalTime: NOW },
      NOW,
    );
    expect(walk.children[0]).toMatchObject({
      processId: 'custody-reception',
      variables: { caseId: 'case-3', nhsNumber: '9000000009' },
    });
    const patient = { nhsNumber: '9000000009', restricted: false };
    walk.childCompleted('custody-reception', {
      patient,
      custodyAlertIds: ['alert-a'],
      disposal: 'charged-remanded-to-court',
      handoverId: 'per-1',
    });
    walk.message('court.outcome', 'case-3', {
      courtOutcome: 'remanded-in-custody',
      prisonNumber: 'A1234BC',
      establishment: 'HMP Leeds',
    });
    const prison = walk.children.find((c) => c.processId === 'sms-prison');
    expect(prison?.variables).toMatchObject({
      caseId: 'case-3',
      patient,
      alertIds: ['alert-a'],
      handoverId: 'per-1',
      prisonNumber: 'A1234BC',
    });

    walk.message('prison.release-planning', 'case-3');
    const release = walk.children.find((c) => c.processId === 'release-support');
    expect(release?.variables).toMatchObject({ caseId: 'case-3', patient, alertIds: ['alert-a'] });
    walk.childCompleted('release-support', { releaseOutcomeReportId: 'report-9' });
    walk.childCompleted('sms-prison', {
      alertIds: ['alert-a'],
      prisonAlertIds: ['alert-b'],
      prisonExitReason: 'released',
    });
    expect(walk.variables['alertIds']).toEqual(['alert-a', 'alert-b']);
    expect(walk.state.status).toBe('completed');
  });

  it('ends without waiting for release planning when the prison stage ends without a release', async () => {
    const walk = new Walk(
      await compile('journey'),
      { caseId: 'case-4', nhsNumber: null, custodySuite: 'Leeds', arrivalTime: NOW },
      NOW,
    );
    walk.childCompleted('custody-reception', {
      patient: null,
      custodyAlertIds: [],
      disposal: 'transfer-prison',
      handoverId: 'per-2',
    });
    walk.childCompleted('sms-prison', { alertIds: [], prisonAlertIds: null, prisonExitReason: null });
    expect(walk.state.status).toBe('terminated');
  });
});

describe('identity and the Summary Care Record walk-through', () => {
  const NOW = '2026-03-02T14:30:00.000Z';
  const notFound = (command: Command<'executeServiceTask'>): Vars => ({
    nhsNumber: command.input['nhsNumber'],
    patient: {
      nhsNumber: command.input['nhsNumber'],
      patientId: 'patient-1',
      identity: 'not-found',
      restricted: false,
      possibleDuplicateOf: null,
    },
  });

  it('screens a person PDS does not know while their reception team traces them on a branch of its own', async () => {
    const walk = new Walk(
      await compile('custody-reception'),
      { caseId: 'case-11', nhsNumber: '9111231130', custodySuite: 'Leeds', arrivalTime: NOW },
      NOW,
      { 'pds.lookupPatient': notFound },
    );

    // the screening is in the worklist at once, and the trace goes to identify-person for custody healthcare
    expect(walk.openTask('HealthScreening').candidateGroups).toEqual(['custody-healthcare']);
    expect(walk.children).toEqual([
      expect.objectContaining({
        elementId: 'SettleIdentity',
        processId: 'identify-person',
        variables: expect.objectContaining({
          caseId: 'case-11',
          nhsNumber: '9111231130',
          receptionTeam: 'custody-healthcare',
          patient: expect.objectContaining({ identity: 'not-found' }),
        }),
      }),
    ]);

    // when the trace comes back, the person's NHS number is the traced one for what follows
    const traced = { nhsNumber: '9000000068', patientId: 'patient-1', identity: 'verified', restricted: false };
    walk.childCompleted('identify-person', { nhsNumber: '9000000068', patient: traced });
    expect(walk.variables).toMatchObject({ nhsNumber: '9000000068', patient: traced });
    expect(walk.openTask('HealthScreening')).toBeDefined();
  });

  it('withdraws a trace still open when custody healthcare ends', async () => {
    const walk = new Walk(
      await compile('custody-reception'),
      { caseId: 'case-12', nhsNumber: '9111231130', custodySuite: 'Leeds', arrivalTime: NOW },
      NOW,
      { 'pds.lookupPatient': notFound },
    );
    walk.complete(
      'HealthScreening',
      example('custody-health-screening', { liaisonDiversionReferral: 'not-indicated' }),
    );
    walk.complete('SetObservationLevel', example('custody-observation-level'));
    walk.message('custody.leaving', 'case-12', { disposal: 'released-no-further-action' });
    walk.complete(
      'ReviewRiskBeforeLeaving',
      example('custody-pre-departure-review', {
        disposal: 'released-no-further-action',
        escortObservationLevel: undefined,
        signpostingGiven: true,
      }),
    );

    expect(walk.state.status).toBe('terminated');
    expect(walk.cancelled).toEqual([expect.objectContaining({ type: 'cancelChildPathway' })]);
  });

  it('leaves a verified person alone', async () => {
    const walk = new Walk(
      await compile('custody-reception'),
      { caseId: 'case-13', nhsNumber: '9000000009', custodySuite: 'Leeds', arrivalTime: NOW },
      NOW,
    );
    expect(walk.children).toEqual([]);
    expect(walk.openTask('HealthScreening')).toBeDefined();
  });

  it('traces by demographics until PDS finds one person, re-opening the task with the last outcome', async () => {
    const outcomes = ['no-match', 'too-many-matches'];
    const walk = new Walk(
      await compile('identify-person'),
      {
        caseId: 'case-14',
        nhsNumber: '9111231130',
        patient: { nhsNumber: '9111231130', patientId: 'patient-1', identity: 'not-found', restricted: false },
        receptionTeam: 'prison-healthcare',
      },
      NOW,
      {
        'pds.traceByDemographics': () => {
          const outcome = outcomes.shift();
          if (outcome) return { traceOutcome: outcome };
          return {
            traceOutcome: 'traced',
            nhsNumber: '9000000068',
            patient: {
              nhsNumber: '9000000068',
              patientId: 'patient-1',
              identity: 'verified',
              possibleDuplicateOf: null,
            },
          };
        },
      },
    );

    const first = walk.openTask('TraceByDemographics');
    expect(first).toMatchObject({ formId: 'trace-by-demographics', candidateGroups: ['prison-healthcare'] });
    walk.complete('TraceByDemographics', example('trace-by-demographics', { postcode: undefined }));
    expect(walk.lastService('TracePersonOnPds').input['trace']).toEqual({
      familyName: 'Brown',
      givenName: 'Thomas',
      birthDate: '1985-03-14',
      gender: 'male',
      postcode: null,
    });
    expect(walk.openTask('TraceByDemographics').input['previousTraceOutcome']).toBe('no-match');
    walk.complete('TraceByDemographics', example('trace-by-demographics'));
    expect(walk.openTask('TraceByDemographics').input['previousTraceOutcome']).toBe('too-many-matches');
    walk.complete('TraceByDemographics', example('trace-by-demographics'));

    expect(walk.state.status).toBe('completed');
    expect(walk.variables).toMatchObject({ nhsNumber: '9000000068', patient: { identity: 'verified' } });
  });

  it('asks a person to review a possible duplicate record, and records the decision', async () => {
    const walk = new Walk(
      await compile('identify-person'),
      {
        caseId: 'case-15',
        nhsNumber: '9000000068',
        patient: {
          nhsNumber: '9000000068',
          patientId: 'patient-1',
          identity: 'verified',
          possibleDuplicateOf: 'patient-2',
        },
        receptionTeam: 'custody-healthcare',
      },
      NOW,
      {
        'records.reviewDuplicateRecord': () => ({ duplicateReviewId: 'review-1', patient: { patientId: 'patient-2' } }),
      },
    );

    const review = walk.openTask('ReviewPossibleDuplicate');
    expect(review).toMatchObject({ formId: 'possible-duplicate-record', candidateGroups: ['custody-healthcare'] });
    expect(review.input).toMatchObject({ patientId: 'patient-1', otherPatientId: 'patient-2' });
    walk.complete('ReviewPossibleDuplicate', example('possible-duplicate-record'));
    expect(walk.lastService('RecordDuplicateReview').input['duplicateReview']).toMatchObject({
      decision: 'same-person',
    });
    expect(walk.state.status).toBe('completed');
    expect(walk.variables['patient']).toEqual({ patientId: 'patient-2' });
  });

  it('goes on from reception to the referral while the Summary Care Record is still being fetched', async () => {
    const walk = new Walk(
      await compile('sms-prison'),
      { caseId: 'case-16', nhsNumber: '9000000009', receptionDate: NOW },
      NOW,
      { 'scr.fetchSummary': () => 'pending' },
    );
    walk.complete(
      'ReceptionScreening',
      example('prison-reception-sms', {
        summaryCareRecordConsent: 'not-asked',
        summaryCareRecordEmergencyReason: 'Unconscious on arrival; medicines unknown',
      }),
    );

    expect(walk.lastService('FetchSummaryCareRecord')).toMatchObject({
      retries: 8,
      input: expect.objectContaining({
        nhsNumber: '9000000009',
        summaryCareRecordConsent: 'not-asked',
        summaryCareRecordEmergencyReason: 'Unconscious on arrival; medicines unknown',
      }),
    });
    expect(walk.openTask('ReferToSms')).toBeDefined();
    expect(walk.openElements()).toContain('FetchSummaryCareRecord');

    walk.serviceCompleted('FetchSummaryCareRecord', { summaryId: 'scr-1', summaryStatus: 'available' });
    expect(walk.variables).toMatchObject({ summaryCareRecordId: 'scr-1', summaryStatus: 'available' });
    expect(walk.openTask('ReferToSms')).toBeDefined();
  });
});
