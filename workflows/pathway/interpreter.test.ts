import { compileFixture, readFixture } from '../../bpmn/fixtures/load-fixture';
import { compilePathwayIR } from '../../bpmn/compile-pathway';
import { type PathwayIR } from '../../bpmn/ir';
import { describePathway, findOpenTask, nextTimer } from './describe-pathway';
import { handle, start } from './interpreter';
import { type PathwayCommand, type PathwayEvent, type PathwayState, type Step } from './types';

const T0 = '2026-03-02T09:00:00.000Z';

function at(days: number, hours = 0): string {
  return new Date(Date.parse(T0) + days * 86_400_000 + hours * 3_600_000).toISOString();
}

function commandsOf<T extends PathwayCommand['type']>(step: Step, type: T): Extract<PathwayCommand, { type: T }>[] {
  return step.commands.filter((c): c is Extract<PathwayCommand, { type: T }> => c.type === type);
}

function openTaskId(state: PathwayState, elementId: string): string {
  const instance = Object.values(state.instances).find((i) => i.elementId === elementId && i.wait.type === 'userTask');
  if (!instance) throw new Error(`no open task at ${elementId}`);
  return instance.id;
}

function timerIdAt(state: PathwayState, elementId: string): string {
  const timer = Object.values(state.timers).find((t) => t.elementId === elementId);
  if (!timer) throw new Error(`no timer at ${elementId}`);
  return timer.id;
}

function activeElements(state: PathwayState): string[] {
  return Object.values(state.instances)
    .map((i) => i.elementId)
    .sort();
}

/** Drives a pathway through several events, each at its own time. */
class Driver {
  step: Step;
  constructor(
    readonly ir: PathwayIR,
    variables: Record<string, unknown> = {},
    now = T0,
  ) {
    this.step = start(ir, variables, now);
  }
  get state(): PathwayState {
    return this.step.state;
  }
  send(event: PathwayEvent, now = T0): Step {
    this.step = handle(this.ir, this.state, event, now);
    return this.step;
  }
  completeTask(elementId: string, data: Record<string, unknown> = {}, now = T0): Step {
    return this.send({ type: 'taskCompleted', taskId: openTaskId(this.state, elementId), data }, now);
  }
  fireTimer(elementId: string): Step {
    const timer = Object.values(this.state.timers).find((t) => t.elementId === elementId);
    if (!timer) throw new Error(`no timer at ${elementId}`);
    return this.send({ type: 'timerFired', timerId: timer.id }, timer.dueAt);
  }
}

describe('pathway interpreter', () => {
  describe('sequence with user and service tasks', () => {
    it('opens the first user task with form, assignment and FEEL due dates', async () => {
      const ir = await compileFixture('sequence');

      const step = start(ir, { keyWorker: 'kw-7', personName: 'Sam', referralDate: '2026-02-27T10:00:00Z' }, T0);

      expect(step.state.status).toBe('active');
      const [open] = commandsOf(step, 'openUserTask');
      expect(open).toMatchObject({
        elementId: 'Assess',
        name: 'Assess needs',
        formId: 'sms-assessment',
        assignee: 'kw-7',
        candidateGroups: ['sms-team', 'healthcare'],
        candidateUsers: ['nurse-1', 'nurse-2'],
        dueDate: '2026-03-07T09:00:00.000Z',
        followUpDate: '2026-03-02T10:00:00.000Z',
      });
      expect(open?.input).toMatchObject({ title: 'Assessment for Sam', personName: 'Sam' });
      expect(describePathway(ir, step.state).openTasks).toEqual([
        expect.objectContaining({
          taskId: open?.taskId,
          dueDate: '2026-03-07T09:00:00.000Z',
          formId: 'sms-assessment',
        }),
      ]);
    });

    it('opens a user task with its priority, literal or FEEL, and none when the BPMN sets none', async () => {
      const withPriority = async (priority: string) =>
        compilePathwayIR(
          readFixture('sequence').replace(
            '<zeebe:taskSchedule ',
            `<zeebe:priorityDefinition priority="${priority}" /><zeebe:taskSchedule `,
          ),
        );
      const variables = { keyWorker: 'kw-7', personName: 'Sam', referralDate: T0, withdrawal: true };
      const priorityOf = (ir: PathwayIR) => commandsOf(start(ir, variables, T0), 'openUserTask')[0];

      expect(priorityOf(await withPriority('70'))).toMatchObject({ elementId: 'Assess', priority: 70 });
      expect(priorityOf(await withPriority('=if withdrawal then 90 else 50'))).toMatchObject({ priority: 90 });
      expect(priorityOf(await compileFixture('sequence'))).not.toHaveProperty('priority');
    });

    it('maps task data through output mappings, then calls the service task with its type and retries', async () => {
      const driver = new Driver(await compileFixture('sequence'), {
        keyWorker: 'kw-7',
        personName: 'Sam',
        referralDate: T0,
      });

      const step = driver.completeTask('Assess', { score: 12, scratch: 'not kept' }, at(1));

      expect(step.state.variables['assessment']).toEqual({ score: 12, highNeed: true });
      expect(step.state.variables['scratch']).toBeUndefined();
      expect(commandsOf(step, 'closeUserTask')).toEqual([
        expect.objectContaining({ elementId: 'Assess', outcome: 'completed' }),
      ]);
      const [call] = commandsOf(step, 'executeServiceTask');
      expect(call).toMatchObject({
        elementId: 'NotifyTeam',
        taskType: 'notify-team',
        retries: 5,
        headers: { template: 'assessment-done' },
      });
      expect(call?.input['score']).toBe(12);
    });

    it('completes with the activity result mapped into variables and a trail of visited elements', async () => {
      const driver = new Driver(await compileFixture('sequence'), {
        keyWorker: 'kw',
        personName: 'Sam',
        referralDate: T0,
      });
      driver.completeTask('Assess', { score: 3 }, at(1));
      const activityId = commandsOf(driver.step, 'executeServiceTask')[0]?.activityId ?? '';

      const step = driver.send({ type: 'serviceTaskCompleted', activityId, result: { messageId: 'm-1' } }, at(1, 1));

      expect(step.state.status).toBe('completed');
      expect(commandsOf(step, 'complete')).toEqual([
        expect.objectContaining({ terminated: false, variables: expect.objectContaining({ notificationId: 'm-1' }) }),
      ]);
      expect(step.state.trail.map((e) => [e.elementId, e.enteredAt, e.leftAt])).toEqual([
        ['Referred', T0, T0],
        ['Assess', T0, at(1)],
        ['NotifyTeam', at(1), at(1, 1)],
        ['Done', at(1, 1), at(1, 1)],
      ]);
    });

    it('ignores a completion for a task that is not open', async () => {
      const driver = new Driver(await compileFixture('sequence'), {
        keyWorker: 'kw',
        personName: 'Sam',
        referralDate: T0,
      });

      const step = driver.send({ type: 'taskCompleted', taskId: 'NoSuchTask#99', data: {} });

      expect(step.commands).toEqual([]);
      expect(activeElements(step.state)).toEqual(['Assess']);
      expect(findOpenTask(step.state, 'NoSuchTask#99')).toBeUndefined();
    });

    it('is deterministic: the same inputs give the same state and commands', async () => {
      const ir = await compileFixture('sequence');
      const variables = { keyWorker: 'kw', personName: 'Sam', referralDate: T0 };

      expect(start(ir, variables, T0)).toEqual(start(ir, variables, T0));
    });

    it('does not change the state it is given', async () => {
      const driver = new Driver(await compileFixture('sequence'), {
        keyWorker: 'kw',
        personName: 'Sam',
        referralDate: T0,
      });
      const before = JSON.stringify(driver.state);

      handle(
        driver.ir,
        driver.state,
        { type: 'taskCompleted', taskId: openTaskId(driver.state, 'Assess'), data: {} },
        T0,
      );

      expect(JSON.stringify(driver.state)).toBe(before);
    });
  });

  describe('exclusive gateway', () => {
    it.each([
      ['high', 'HighRiskPlan'],
      ['medium', 'MediumRiskPlan'],
      ['low', 'LowRiskPlan'],
      [null, 'LowRiskPlan'],
    ])('takes the flow whose condition holds for risk %p, else the default', async (risk, expected) => {
      const step = start(await compileFixture('exclusive-gateway'), { risk }, T0);

      expect(activeElements(step.state)).toEqual([expected]);
    });

    it('merges the branches again and completes', async () => {
      const driver = new Driver(await compileFixture('exclusive-gateway'), { risk: 'high' });

      const step = driver.completeTask('HighRiskPlan');

      expect(step.state.status).toBe('completed');
      expect(step.state.trail.map((e) => e.elementId)).toEqual([
        'Start',
        'RiskLevel',
        'HighRiskPlan',
        'Merge',
        'Planned',
      ]);
    });

    it('fails with an incident when no condition holds and there is no default flow', async () => {
      const ir = await compilePathwayIR(readFixture('exclusive-gateway').replace(' default="Low"', ''));
      const withCondition = {
        ...ir,
        flows: { ...ir.flows, Low: { ...ir.flows['Low']!, condition: 'risk = "low"' } },
      };

      const step = start(withCondition, { risk: 'unknown' }, T0);

      expect(step.state.status).toBe('failed');
      expect(commandsOf(step, 'fail')).toEqual([
        { type: 'fail', error: expect.objectContaining({ code: 'NO_OUTGOING_FLOW_TAKEN', elementId: 'RiskLevel' }) },
      ]);
    });
  });

  describe('parallel gateway', () => {
    it('forks into both branches and joins only when both are done', async () => {
      const driver = new Driver(await compileFixture('parallel'));
      expect(activeElements(driver.state)).toEqual(['HealthScreen', 'SubstanceScreen']);

      driver.completeTask('SubstanceScreen');
      expect(activeElements(driver.state)).toEqual(['HealthScreen']);
      expect(driver.state.joins).toEqual({ Join: { SubstanceDone: 1 } });

      driver.completeTask('HealthScreen');
      expect(activeElements(driver.state)).toEqual(['CarePlan']);
      expect(driver.state.joins).toEqual({});

      expect(driver.completeTask('CarePlan').state.status).toBe('completed');
    });
  });

  describe('event-based gateway', () => {
    it('waits for the message and the timer at once', async () => {
      const step = start(await compileFixture('event-gateway'), { caseId: 'case-1' }, T0);

      expect(activeElements(step.state)).toEqual(['ReleaseOrReview']);
      expect(commandsOf(step, 'subscribeMessage')).toEqual([
        expect.objectContaining({ elementId: 'Released', messageName: 'release', correlationKey: 'case-1' }),
      ]);
      expect(commandsOf(step, 'startTimer')).toEqual([
        expect.objectContaining({ elementId: 'ReviewDue', dueAt: at(28) }),
      ]);
    });

    it('takes the message branch when the message comes first and withdraws the timer', async () => {
      const driver = new Driver(await compileFixture('event-gateway'), { caseId: 'case-1' });

      const step = driver.send(
        {
          type: 'messageReceived',
          messageName: 'release',
          correlationKey: 'case-1',
          variables: { releaseDate: '2026-03-10' },
        },
        at(3),
      );

      expect(activeElements(step.state)).toEqual(['ReleasePlan']);
      expect(step.state.variables['releasedOn']).toBe('2026-03-10');
      expect(step.state.timers).toEqual({});
      expect(commandsOf(step, 'cancelTimer')).toHaveLength(1);
    });

    it('takes the timer branch when the timer fires first and withdraws the subscription', async () => {
      const driver = new Driver(await compileFixture('event-gateway'), { caseId: 'case-1' });

      const step = driver.fireTimer('ReviewDue');

      expect(activeElements(step.state)).toEqual(['Review']);
      expect(step.state.subscriptions).toEqual({});
      expect(commandsOf(step, 'unsubscribeMessage')).toHaveLength(1);
    });

    it('ignores a message with another correlation key', async () => {
      const driver = new Driver(await compileFixture('event-gateway'), { caseId: 'case-1' });

      const step = driver.send({ type: 'messageReceived', messageName: 'release', correlationKey: 'case-2' });

      expect(step.commands).toEqual([]);
      expect(activeElements(step.state)).toEqual(['ReleaseOrReview']);
    });
  });

  describe('boundary timers', () => {
    it('schedules a repeating reminder and an interrupting deadline computed with FEEL', async () => {
      const ir = await compileFixture('boundary-timers');
      const step = start(ir, { overdueAfterDays: 7 }, T0);

      expect(describePathway(ir, step.state).pendingTimers).toEqual([
        {
          timerId: expect.any(String),
          elementId: 'DailyReminder',
          name: 'Every day',
          dueAt: at(1),
          repeatsRemaining: 2,
        },
        { timerId: expect.any(String), elementId: 'Overdue', name: 'Overdue', dueAt: at(7) },
      ]);
      expect(nextTimer(step.state)?.dueAt).toBe(at(1));
    });

    it('fires the non-interrupting R3/P1D reminder three times while the task stays open', async () => {
      const driver = new Driver(await compileFixture('boundary-timers'), { overdueAfterDays: 7 });
      const dueTimes: string[] = [];

      for (let i = 0; i < 3; i += 1) {
        const timer = driver.state.timers[timerIdAt(driver.state, 'DailyReminder')]!;
        dueTimes.push(timer.dueAt);
        driver.fireTimer('DailyReminder');
        expect(activeElements(driver.state)).toContain('FiveDayReview');
      }

      expect(dueTimes).toEqual([at(1), at(2), at(3)]);
      expect(Object.values(driver.state.timers).map((t) => t.elementId)).toEqual(['Overdue']);
      const reminders = Object.values(driver.state.instances).filter((i) => i.elementId === 'RemindTeam');
      expect(reminders).toHaveLength(3);
      expect(driver.state.trail.filter((e) => e.elementId === 'DailyReminder').map((e) => e.outcome)).toEqual([
        'fired',
        'fired',
        'fired',
      ]);
    });

    it('interrupts the task when the deadline passes: closes it and withdraws the reminder', async () => {
      const driver = new Driver(await compileFixture('boundary-timers'), { overdueAfterDays: 7 });

      const step = driver.fireTimer('Overdue');

      expect(activeElements(step.state)).toEqual(['Escalate']);
      expect(commandsOf(step, 'closeUserTask')).toEqual([
        expect.objectContaining({ elementId: 'FiveDayReview', outcome: 'cancelled' }),
      ]);
      expect(Object.values(step.state.timers)).toEqual([]);
      expect(step.state.trail.find((e) => e.elementId === 'FiveDayReview')?.outcome).toBe('interrupted');
    });

    it('withdraws both timers when the task is completed in time', async () => {
      const driver = new Driver(await compileFixture('boundary-timers'), { overdueAfterDays: 7 });

      const step = driver.completeTask('FiveDayReview', {}, at(0, 5));

      expect(step.state.status).toBe('completed');
      expect(commandsOf(step, 'cancelTimer')).toHaveLength(2);
    });

    it('ignores a timer that has already been withdrawn', async () => {
      const driver = new Driver(await compileFixture('boundary-timers'), { overdueAfterDays: 7 });
      const overdue = timerIdAt(driver.state, 'Overdue');
      driver.completeTask('FiveDayReview');

      const step = driver.send({ type: 'timerFired', timerId: overdue }, at(7));

      expect(step.commands).toEqual([]);
    });

    it('fails with an incident when a FEEL timer does not evaluate to a duration', async () => {
      const step = start(await compileFixture('boundary-timers'), { overdueAfterDays: null }, T0);

      expect(step.state.status).toBe('failed');
      expect(step.state.error).toMatchObject({ elementId: 'Overdue' });
    });
  });

  describe('intermediate timer catch events', () => {
    it('waits 13 weeks, then until a FEEL date, then opens the review', async () => {
      const driver = new Driver(await compileFixture('timer-catch'), { referenceDate: '2026-01-05T09:00:00Z' });
      expect(commandsOf(driver.step, 'startTimer')).toEqual([expect.objectContaining({ dueAt: at(91) })]);

      driver.fireTimer('ThirteenWeeks');
      expect(Object.values(driver.state.timers).map((t) => t.dueAt)).toEqual(['2027-01-05T09:00:00.000Z']);

      driver.fireTimer('AnniversaryDate');
      expect(activeElements(driver.state)).toEqual(['Review']);
    });
  });

  describe('message boundary events', () => {
    it('interrupts the task on an interrupting message and maps its variables', async () => {
      const driver = new Driver(await compileFixture('message-boundary'), { caseId: 'c-9' });

      const step = driver.send({
        type: 'messageReceived',
        messageName: 'recall',
        correlationKey: 'c-9',
        variables: { reason: 'licence breach' },
      });

      expect(activeElements(step.state)).toEqual(['RecallReview']);
      expect(step.state.variables['recallReason']).toBe('licence breach');
      expect(step.state.subscriptions).toEqual({});
    });

    it('keeps the task open on a non-interrupting message and can receive it again', async () => {
      const driver = new Driver(await compileFixture('message-boundary'), { caseId: 'c-9' });

      driver.send({ type: 'messageReceived', messageName: 'transfer', correlationKey: 'c-9' });
      const step = driver.send({ type: 'messageReceived', messageName: 'transfer', correlationKey: 'c-9' });

      expect(activeElements(step.state)).toEqual(['Handover', 'Handover', 'Treatment']);
    });
  });

  describe('error events', () => {
    it('catches a service task failure whose code matches the error boundary', async () => {
      const driver = new Driver(await compileFixture('error-boundary'));
      const activityId = commandsOf(driver.step, 'executeServiceTask')[0]?.activityId ?? '';

      const step = driver.send({
        type: 'serviceTaskFailed',
        activityId,
        errorCode: 'PATIENT_NOT_FOUND',
        message: 'no match',
      });

      expect(activeElements(step.state)).toEqual(['ManualCheck']);
      expect(step.state.trail.find((e) => e.elementId === 'LookupPatient')?.outcome).toBe('interrupted');
    });

    it('fails the pathway when no error boundary matches the failure', async () => {
      const driver = new Driver(await compileFixture('error-boundary'));
      const activityId = commandsOf(driver.step, 'executeServiceTask')[0]?.activityId ?? '';

      const step = driver.send({
        type: 'serviceTaskFailed',
        activityId,
        errorCode: 'PDS_UNAVAILABLE',
        message: 'down',
      });

      expect(step.state.status).toBe('failed');
      expect(commandsOf(step, 'fail')).toEqual([
        { type: 'fail', error: { code: 'PDS_UNAVAILABLE', message: 'down', elementId: 'LookupPatient' } },
      ]);
    });

    it('ends the pathway with the error code of an error end event', async () => {
      const step = start(await compileFixture('error-end'), { eligible: false }, T0);

      expect(step.state.status).toBe('failed');
      expect(step.state.error).toMatchObject({ code: 'NOT_ELIGIBLE', elementId: 'NotEligible' });
    });

    it('takes the default flow past the error end event when eligible', async () => {
      expect(start(await compileFixture('error-end'), { eligible: true }, T0).state.status).toBe('completed');
    });
  });

  describe('terminate end event', () => {
    it('ends the pathway and cancels every other branch', async () => {
      const driver = new Driver(await compileFixture('terminate-end'));
      expect(activeElements(driver.state)).toEqual(['CustodyEnds', 'Observe']);

      const step = driver.fireTimer('CustodyEnds');

      expect(step.state.status).toBe('terminated');
      expect(step.state.instances).toEqual({});
      expect(commandsOf(step, 'closeUserTask')).toEqual([
        expect.objectContaining({ elementId: 'Observe', outcome: 'cancelled' }),
      ]);
      expect(commandsOf(step, 'complete')).toEqual([expect.objectContaining({ terminated: true })]);
    });
  });

  describe('call activity', () => {
    it('starts the child with only its input mappings when parent variables are not propagated', async () => {
      const step = start(await compileFixture('call-activity'), { caseId: 'c-1', secret: 'x' }, T0);

      expect(commandsOf(step, 'startChildPathway')).toEqual([
        expect.objectContaining({ processId: 'ChildReview', variables: { caseId: 'c-1', reviewDay: 28 } }),
      ]);
    });

    it('maps only the output mappings back when the child completes', async () => {
      const driver = new Driver(await compileFixture('call-activity'), { caseId: 'c-1' });
      const childId = commandsOf(driver.step, 'startChildPathway')[0]?.childId ?? '';

      const step = driver.send({ type: 'childCompleted', childId, variables: { outcome: 'stable', other: 1 } });

      expect(step.state.status).toBe('completed');
      expect(step.state.variables).toEqual({ caseId: 'c-1', reviewOutcome: 'stable' });
    });

    it('catches a child failure with a catch-all error boundary', async () => {
      const driver = new Driver(await compileFixture('call-activity'), { caseId: 'c-1' });
      const childId = commandsOf(driver.step, 'startChildPathway')[0]?.childId ?? '';

      const step = driver.send({ type: 'childFailed', childId, errorCode: 'NOT_ELIGIBLE', message: 'child ended' });

      expect(step.state.status).toBe('completed');
      expect(step.state.trail.map((e) => e.elementId)).toContain('ReviewFailed');
    });
  });

  describe('intermediate message catch events and message start events', () => {
    it('subscribes with a FEEL correlation key and maps the message variables on arrival', async () => {
      const driver = new Driver(await compileFixture('message-catch'), { caseId: 'c-4' });
      expect(commandsOf(driver.step, 'subscribeMessage')).toEqual([
        expect.objectContaining({ elementId: 'AwaitResult', messageName: 'test-result', correlationKey: 'lab-c-4' }),
      ]);

      const step = driver.send({
        type: 'messageReceived',
        messageName: 'test-result',
        correlationKey: 'lab-c-4',
        variables: { result: { value: 'negative' } },
      });

      expect(step.state.status).toBe('completed');
      expect(step.state.variables).toEqual({ caseId: 'c-4', testResult: 'negative' });
    });

    it('starts at a message start event when asked to', async () => {
      const step = start(await compileFixture('message-catch'), { caseId: 'c-5' }, T0, { startEventId: 'Transferred' });

      expect(step.state.trail.map((e) => e.elementId)).toEqual(['Transferred', 'AwaitResult']);
    });
  });

  describe('escalation', () => {
    it('throws an escalation for the parent and carries on', async () => {
      const step = start(await compileFixture('escalation-child'), {}, T0);

      expect(commandsOf(step, 'escalate')).toEqual([
        { type: 'escalate', elementId: 'Missed', escalationCode: 'MISSED_APPOINTMENT' },
      ]);
      expect(activeElements(step.state)).toEqual(['FollowUp']);
    });

    it("catches a child's escalation at the call activity without interrupting it", async () => {
      const driver = new Driver(await compileFixture('escalation'));
      const childId = commandsOf(driver.step, 'startChildPathway')[0]?.childId ?? '';

      const step = driver.send({ type: 'childEscalated', childId, escalationCode: 'MISSED_APPOINTMENT' });

      expect(activeElements(step.state)).toEqual(['Appointments', 'NotifyAgencies']);
      expect(commandsOf(step, 'cancelChildPathway')).toEqual([]);
    });

    it('ignores an escalation no boundary event catches', async () => {
      const driver = new Driver(await compileFixture('escalation'));
      const childId = commandsOf(driver.step, 'startChildPathway')[0]?.childId ?? '';

      const step = driver.send({ type: 'childEscalated', childId, escalationCode: 'SOMETHING_ELSE' });

      expect(step.commands).toEqual([]);
      expect(activeElements(step.state)).toEqual(['Appointments']);
    });
  });

  describe('incidents', () => {
    it('fails with a deadlock when a join waits for a branch the gateway did not take', async () => {
      const step = start(await compileFixture('deadlock'), { b: false }, T0);

      expect(step.state.status).toBe('failed');
      expect(step.state.error).toMatchObject({ code: 'PATHWAY_DEADLOCK', elementId: 'Join' });
    });

    it('fails when a token reaches an element the interpreter does not execute', async () => {
      const ir = await compilePathwayIR(
        readFixture('sequence').replace(
          '<bpmn:endEvent id="Done" name="Done"><bpmn:incoming>ToDone</bpmn:incoming></bpmn:endEvent>',
          '<bpmn:scriptTask id="Done" name="Script"><bpmn:incoming>ToDone</bpmn:incoming></bpmn:scriptTask>',
        ),
      );
      const driver = new Driver(ir, { keyWorker: 'kw', personName: 'Sam', referralDate: T0 });
      driver.completeTask('Assess', { score: 1 });
      const activityId = commandsOf(driver.step, 'executeServiceTask')[0]?.activityId ?? '';

      const step = driver.send({ type: 'serviceTaskCompleted', activityId, result: {} });

      expect(step.state.error).toMatchObject({ code: 'UNSUPPORTED_ELEMENT', elementId: 'Done' });
    });

    it('fails instead of spinning when flows loop without a wait state', async () => {
      const ir = await compileFixture('exclusive-gateway');
      const looping: PathwayIR = {
        ...ir,
        flows: { ...ir.flows, Low: { ...ir.flows['Low']!, targetRef: 'RiskLevel' } },
      };

      const step = start(looping, { risk: 'none' }, T0);

      expect(step.state.error).toMatchObject({ code: 'PATHWAY_LOOP' });
    });

    it('refuses an IR of another version', async () => {
      const ir = await compileFixture('sequence');

      const step = start({ ...ir, irVersion: 99 } as unknown as PathwayIR, {}, T0);

      expect(step.state.error).toMatchObject({ code: 'UNSUPPORTED_IR_VERSION' });
    });
  });

  describe('message buffering', () => {
    const discharge = (reason: string, expiresAt: string, correlationKey = 'c-1'): PathwayEvent => ({
      type: 'messageReceived',
      messageName: 'prison.discharge',
      correlationKey,
      variables: { reason },
      expiresAt,
    });

    it('answers that a message was correlated when a subscription waits for it', async () => {
      const driver = new Driver(await compileFixture('event-gateway'), { caseId: 'case-1' });
      const gatewayId = Object.keys(driver.state.instances)[0];

      const step = driver.send({ type: 'messageReceived', messageName: 'release', correlationKey: 'case-1' });

      expect(step.message).toEqual({ outcome: 'correlated', elementId: 'Released', instanceId: gatewayId });
    });

    it('keeps a message nothing waits for yet and correlates it when the catch event is reached', async () => {
      const ir = await compileFixture('message-buffering');
      const driver = new Driver(ir, { caseId: 'c-1' });

      const kept = driver.send(discharge('sentence served', at(1)), at(0, 1));

      expect(kept.commands).toEqual([]);
      expect(kept.message).toEqual({ outcome: 'buffered', messageId: expect.any(String), expiresAt: at(1) });
      expect(describePathway(ir, kept.state).bufferedMessages).toEqual([
        {
          messageId: expect.any(String),
          messageName: 'prison.discharge',
          correlationKey: 'c-1',
          receivedAt: at(0, 1),
          expiresAt: at(1),
        },
      ]);
      expect(activeElements(kept.state)).toEqual(['CarePlan']);

      const step = driver.completeTask('CarePlan', {}, at(0, 2));

      expect(activeElements(step.state)).toEqual(['RecallWatch']);
      expect(step.state.variables['dischargeReason']).toBe('sentence served');
      expect(step.state.bufferedMessages).toEqual([]);
      expect(step.state.trail.find((e) => e.elementId === 'AwaitDischarge')).toMatchObject({
        enteredAt: at(0, 2),
        leftAt: at(0, 2),
        outcome: 'completed',
      });
    });

    it('drops a buffered message whose time to live ran out before the catch event was reached', async () => {
      const driver = new Driver(await compileFixture('message-buffering'), { caseId: 'c-1' });
      driver.send(discharge('too early', at(0, 1)));

      const step = driver.completeTask('CarePlan', {}, at(0, 2));

      expect(activeElements(step.state)).toEqual(['AwaitDischarge']);
      expect(step.state.bufferedMessages).toEqual([]);
      expect(step.state.variables['dischargeReason']).toBeUndefined();
    });

    it('drops a message without an expiry, as pathways did before messages were kept', async () => {
      const driver = new Driver(await compileFixture('message-buffering'), { caseId: 'c-1' });
      const before = driver.state;

      const step = driver.send({ type: 'messageReceived', messageName: 'prison.discharge', correlationKey: 'c-1' });

      expect(step.message).toEqual({ outcome: 'dropped' });
      expect(step.commands).toEqual([]);
      expect(step.state).toEqual(before);
    });

    it('correlates the oldest unexpired message first, each once, and only with its correlation key', async () => {
      const driver = new Driver(await compileFixture('message-buffering'), { caseId: 'c-1' });
      driver.send(discharge('another case', at(2), 'c-2'));
      driver.send(discharge('expired', at(0, 1)));
      driver.send(discharge('first', at(2)));
      driver.send(discharge('second', at(2)));

      const step = driver.completeTask('CarePlan', {}, at(1));

      expect(step.state.variables['dischargeReason']).toBe('first');
      expect(step.state.bufferedMessages?.map((m) => [m.correlationKey, m.variables['reason']])).toEqual([
        ['c-2', 'another case'],
        ['c-1', 'second'],
      ]);
    });

    it('resolves an event-based gateway with a kept message when it is reached and withdraws its timer', async () => {
      const driver = new Driver(await compileFixture('message-buffering'), { caseId: 'c-1' });
      driver.send({
        type: 'messageReceived',
        messageName: 'prison.recall',
        correlationKey: 'c-1',
        expiresAt: at(2),
      });
      driver.send(discharge('released on licence', at(2)));

      const step = driver.completeTask('CarePlan', {}, at(1));

      expect(activeElements(step.state)).toEqual(['FollowUp']);
      expect(step.state.timers).toEqual({});
      expect(step.state.bufferedMessages).toEqual([]);
      expect(step.state.trail.map((e) => e.elementId)).toEqual([
        'Start',
        'CarePlan',
        'AwaitDischarge',
        'RecallWatch',
        'Recalled',
        'FollowUp',
      ]);
    });

    it('hands a message held for a called pathway to its child when the call activity starts it', async () => {
      const driver = new Driver(await compileFixture('message-buffering'), { caseId: 'c-1' });
      const held = driver.send({
        type: 'messageReceived',
        messageName: 'custody.leaving',
        correlationKey: 'c-1',
        variables: { disposal: 'remand' },
        expiresAt: at(2),
        heldFor: ['ChildStage'],
      });
      expect(held.message).toMatchObject({ outcome: 'buffered' });
      expect(held.state.bufferedMessages).toEqual([expect.objectContaining({ heldFor: ['ChildStage'] })]);
      driver.send(discharge('released on licence', at(2)));
      driver.completeTask('CarePlan', {}, at(1));

      const step = driver.send(
        { type: 'messageReceived', messageName: 'prison.recall', correlationKey: 'c-1', expiresAt: at(2) },
        at(1, 1),
      );

      expect(commandsOf(step, 'startChildPathway')).toEqual([
        expect.objectContaining({
          elementId: 'FollowUp',
          processId: 'ChildStage',
          messages: [
            {
              id: expect.any(String),
              messageName: 'custody.leaving',
              correlationKey: 'c-1',
              variables: { disposal: 'remand' },
              receivedAt: T0,
              expiresAt: at(2),
            },
          ],
        }),
      ]);
      expect(step.state.bufferedMessages).toEqual([]);
    });

    it('starts with messages handed over by the parent and correlates them as subscriptions open', async () => {
      const ir = await compileFixture('message-boundary');
      const handed = (messageName: string, variables: Record<string, unknown> = {}) => ({
        id: 'message:parent#1',
        messageName,
        correlationKey: 'c-9',
        variables,
        receivedAt: T0,
        expiresAt: at(1),
      });

      const interrupted = start(ir, { caseId: 'c-9' }, at(0, 1), {
        messages: [handed('recall', { reason: 'licence breach' })],
      });
      const transferred = start(ir, { caseId: 'c-9' }, at(0, 1), {
        messages: [handed('transfer'), handed('transfer')],
      });
      const expired = start(ir, { caseId: 'c-9' }, at(2), { messages: [handed('recall')] });

      expect(activeElements(interrupted.state)).toEqual(['RecallReview']);
      expect(interrupted.state.variables['recallReason']).toBe('licence breach');
      // A non-interrupting boundary event stays subscribed, so it catches each kept message once.
      expect(activeElements(transferred.state)).toEqual(['Handover', 'Handover', 'Treatment']);
      expect(transferred.state.bufferedMessages).toEqual([]);
      expect(activeElements(expired.state)).toEqual(['Treatment']);
      expect(expired.state.bufferedMessages).toEqual([]);
    });

    it('keeps buffered messages in the JSON state, so they survive continue-as-new', async () => {
      const driver = new Driver(await compileFixture('message-buffering'), { caseId: 'c-1' });
      driver.send(discharge('sentence served', at(1)));

      const copy = JSON.parse(JSON.stringify(driver.state)) as PathwayState;
      const step = handle(
        driver.ir,
        copy,
        { type: 'taskCompleted', taskId: openTaskId(copy, 'CarePlan'), data: {} },
        at(0, 1),
      );

      expect(step.state.variables['dischargeReason']).toBe('sentence served');
    });

    it('treats a state from before buffering (no bufferedMessages) as having none', async () => {
      const driver = new Driver(await compileFixture('message-buffering'), { caseId: 'c-1' });
      const { bufferedMessages: _none, ...old } = driver.state;

      const step = handle(driver.ir, old, discharge('early', at(1)), T0);

      expect(step.message).toMatchObject({ outcome: 'buffered' });
      expect(step.state.bufferedMessages).toHaveLength(1);
    });
  });

  describe('state snapshots', () => {
    it('is plain JSON that resumes where it left off', async () => {
      const driver = new Driver(await compileFixture('parallel'));
      driver.completeTask('HealthScreen');

      const copy = JSON.parse(JSON.stringify(driver.state)) as PathwayState;
      const step = handle(
        driver.ir,
        copy,
        { type: 'taskCompleted', taskId: openTaskId(copy, 'SubstanceScreen'), data: {} },
        T0,
      );

      expect(activeElements(step.state)).toEqual(['CarePlan']);
    });
  });
});
