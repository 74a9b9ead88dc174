import { readFileSync } from 'node:fs';
import path from 'node:path';
import { compileFixture, readFixture } from '../../bpmn/fixtures/load-fixture';
import { compilePathwayIR } from '../../bpmn/compile-pathway';
import { type PathwayIR, type ServiceTaskElement } from '../../bpmn/ir';
import { describePathway, findOpenTask } from './describe-pathway';
import { findOpenIncident, openIncidents, readIncidentResolution, whyNotSkippable } from './incidents';
import { handle, start } from './interpreter';
import { type PathwayCommand, type PathwayEvent, type PathwayIncident, type PathwayState, type Step } from './types';

const T0 = '2026-03-02T09:00:00.000Z';
const HOUR = 3_600_000;

function at(hours: number): string {
  return new Date(Date.parse(T0) + hours * HOUR).toISOString();
}

function commandsOf<T extends PathwayCommand['type']>(step: Step, type: T): Extract<PathwayCommand, { type: T }>[] {
  return step.commands.filter((c): c is Extract<PathwayCommand, { type: T }> => c.type === type);
}

function instanceAt(state: PathwayState, elementId: string) {
  const instance = Object.values(state.instances).find((i) => i.elementId === elementId);
  if (!instance) throw new Error(`nothing waits at ${elementId}`);
  return instance;
}

function onlyIncident(state: PathwayState): PathwayIncident {
  const [incident, ...more] = openIncidents(state);
  if (!incident || more.length > 0) throw new Error(`expected one open incident, found ${openIncidents(state).length}`);
  return incident;
}

/** A referral sent while the care plan is written; the care plan has a daily reminder (test/fixtures/bpmn). */
function referralPathway(): Promise<PathwayIR> {
  return compilePathwayIR(
    readFileSync(path.join(__dirname, '../../test/fixtures/bpmn/referral-with-care-plan.bpmn'), 'utf8'),
  );
}

class Driver {
  step: Step;
  constructor(
    readonly ir: PathwayIR,
    variables: Record<string, unknown> = {},
    options: { incidents?: boolean } = { incidents: true },
  ) {
    this.step = start(ir, variables, T0, options);
  }
  get state(): PathwayState {
    return this.step.state;
  }
  send(event: PathwayEvent, now = T0): Step {
    this.step = handle(this.ir, this.state, event, now);
    return this.step;
  }
  failReferral(now = T0): Step {
    return this.send(
      {
        type: 'serviceTaskFailed',
        activityId: instanceAt(this.state, 'SendReferral').id,
        errorCode: 'REFERRAL_UNAVAILABLE',
        message: 'The referral service did not answer',
        attempts: 2,
        retryable: true,
      },
      now,
    );
  }
  completeCarePlan(now = T0): Step {
    return this.send({ type: 'taskCompleted', taskId: instanceAt(this.state, 'CarePlan').id, data: {} }, now);
  }
  resolve(action: 'retry' | 'skip', extra: { reason?: string; variables?: Record<string, unknown> } = {}): Step {
    return this.send({ type: 'incidentResolved', incidentId: onlyIncident(this.state).id, action, ...extra }, at(1));
  }
}

const START = { caseId: 'c-1', referralService: 'community-substance-misuse' };

describe('incidents', () => {
  describe('a service task that runs out of attempts', () => {
    it('raises an incident at the element instead of failing the pathway', async () => {
      const driver = new Driver(await referralPathway(), START);
      const referral = instanceAt(driver.state, 'SendReferral');

      const step = driver.failReferral();

      expect(step.state.status).toBe('active');
      expect(commandsOf(step, 'fail')).toEqual([]);
      expect(commandsOf(step, 'raiseIncident')).toEqual([
        {
          type: 'raiseIncident',
          incident: {
            id: expect.stringMatching(/^SendReferral#\d+\/incident#\d+$/),
            instanceId: referral.id,
            elementId: 'SendReferral',
            elementName: 'Send the referral',
            kind: 'activityFailed',
            taskType: 'test.sendReferral',
            errorCode: 'REFERRAL_UNAVAILABLE',
            message: 'The referral service did not answer',
            attempts: 2,
            retryable: true,
            raisedAt: T0,
          },
        },
      ]);
      // The token waits where it failed, and the other branch is untouched.
      expect(instanceAt(step.state, 'SendReferral')).toMatchObject({ id: referral.id, incidentId: expect.any(String) });
      expect(commandsOf(step, 'closeUserTask')).toEqual([]);
      const view = describePathway(driver.ir, step.state);
      expect(view.openTasks.map((t) => t.elementId)).toEqual(['CarePlan']);
      expect(view.incidents).toEqual([expect.objectContaining({ elementId: 'SendReferral' })]);
      expect(view.activeElements).toContainEqual(
        expect.objectContaining({ elementId: 'SendReferral', incidentId: view.incidents[0]?.id }),
      );
    });

    it('keeps failing the pathway when it was started before incidents', async () => {
      const driver = new Driver(await referralPathway(), START, {});

      const step = driver.failReferral();

      expect(step.state.status).toBe('failed');
      expect(step.state.incidents).toBeUndefined();
      expect(commandsOf(step, 'fail')).toEqual([
        { type: 'fail', error: expect.objectContaining({ code: 'REFERRAL_UNAVAILABLE', elementId: 'SendReferral' }) },
      ]);
      expect(commandsOf(step, 'raiseIncident')).toEqual([]);
    });

    it('lets the other branch go on: the care plan is completed while the incident is open', async () => {
      const driver = new Driver(await referralPathway(), START);
      driver.failReferral();

      const step = driver.completeCarePlan(at(2));

      expect(step.state.status).toBe('active');
      expect(step.state.trail).toContainEqual(expect.objectContaining({ elementId: 'CarePlan', outcome: 'completed' }));
      // The join waits for the referral's token, which waits in the incident.
      expect(Object.values(step.state.joins['Join'] ?? {})).toEqual([1]);
      expect(onlyIncident(step.state).elementId).toBe('SendReferral');
    });

    it('keeps firing timers while the incident is open', async () => {
      const driver = new Driver(await referralPathway(), START);
      driver.failReferral();
      const reminder = Object.values(driver.state.timers).find((t) => t.elementId === 'CarePlanReminder');

      const step = driver.send({ type: 'timerFired', timerId: reminder!.id }, reminder!.dueAt);

      expect(step.state.trail.filter((e) => e.elementId === 'Reminded')).toHaveLength(1);
      expect(commandsOf(step, 'startTimer')).toEqual([expect.objectContaining({ elementId: 'CarePlanReminder' })]);
      expect(onlyIncident(step.state).elementId).toBe('SendReferral');
    });

    it('runs the same service task again from the same instance on retry, and moves on when it succeeds', async () => {
      const driver = new Driver(await referralPathway(), START);
      const referral = instanceAt(driver.state, 'SendReferral');
      driver.failReferral();
      const incident = onlyIncident(driver.state);

      const retried = driver.resolve('retry', { reason: 'the service is back' });

      expect(commandsOf(retried, 'closeIncident')).toEqual([
        {
          type: 'closeIncident',
          incidentId: incident.id,
          instanceId: referral.id,
          elementId: 'SendReferral',
          resolution: 'retried',
          reason: 'the service is back',
        },
      ]);
      expect(commandsOf(retried, 'executeServiceTask')).toEqual([
        expect.objectContaining({ activityId: referral.id, taskType: 'test.sendReferral', retries: 2 }),
      ]);
      expect(openIncidents(retried.state)).toEqual([]);
      expect(retried.state.incidents?.[incident.id]?.resolution).toEqual({
        outcome: 'retried',
        at: at(1),
        reason: 'the service is back',
      });

      driver.send({ type: 'serviceTaskCompleted', activityId: referral.id, result: { referralId: 'r-1' } }, at(2));
      const done = driver.completeCarePlan(at(3));
      expect(done.state.status).toBe('completed');
      expect(done.state.variables['referralId']).toBe('r-1');
    });

    it('skips the element with the reason: left as completed without output, the token moves on', async () => {
      const driver = new Driver(await referralPathway(), START);
      driver.failReferral();

      const skipped = driver.resolve('skip', { reason: 'referred by phone' });

      expect(commandsOf(skipped, 'closeIncident')).toEqual([
        expect.objectContaining({ resolution: 'skipped', reason: 'referred by phone' }),
      ]);
      expect(commandsOf(skipped, 'executeServiceTask')).toEqual([]);
      expect(skipped.state.trail).toContainEqual(
        expect.objectContaining({ elementId: 'SendReferral', outcome: 'skipped' }),
      );
      const done = driver.completeCarePlan(at(2));
      expect(done.state.status).toBe('completed');
      expect(done.state.variables).not.toHaveProperty('referralId');
    });

    it('merges corrected variables before the retry, so the input mappings read them', async () => {
      const driver = new Driver(await referralPathway(), START);
      driver.failReferral();

      const step = driver.resolve('retry', { variables: { referralService: 'probation' } });

      expect(step.state.variables['referralService']).toBe('probation');
      const [call] = commandsOf(step, 'executeServiceTask');
      expect(call?.input['referral']).toEqual({ service: 'probation', caseId: 'c-1' });
      expect(commandsOf(step, 'closeIncident')).toEqual([
        expect.objectContaining({ resolution: 'retried', correctedVariables: ['referralService'] }),
      ]);
    });

    it('raises a new incident when the retried task fails again', async () => {
      const driver = new Driver(await referralPathway(), START);
      driver.failReferral();
      const first = onlyIncident(driver.state);
      driver.resolve('retry');

      const step = driver.failReferral(at(2));

      const second = onlyIncident(step.state);
      expect(second.id).not.toBe(first.id);
      expect(second.instanceId).toBe(first.instanceId);
      expect(Object.keys(step.state.incidents ?? {})).toHaveLength(2);
    });

    it('keeps open incidents in the JSON state, so they survive continue-as-new', async () => {
      const driver = new Driver(await referralPathway(), START);
      driver.failReferral();

      const copy = JSON.parse(JSON.stringify(driver.state)) as PathwayState;
      const incident = onlyIncident(copy);
      const step = handle(
        driver.ir,
        copy,
        { type: 'incidentResolved', incidentId: incident.id, action: 'retry' },
        at(1),
      );

      expect(commandsOf(step, 'executeServiceTask')).toEqual([
        expect.objectContaining({ activityId: incident.instanceId }),
      ]);
    });

    it('ignores a resolution of an incident that is not open', async () => {
      const driver = new Driver(await referralPathway(), START);
      driver.failReferral();
      const incident = onlyIncident(driver.state);
      driver.resolve('skip', { reason: 'done by hand' });
      const before = driver.state;

      const step = driver.send({ type: 'incidentResolved', incidentId: incident.id, action: 'retry' }, at(2));

      expect(step.commands).toEqual([]);
      expect(step.state).toEqual(before);
      expect(findOpenIncident(step.state, incident.id)).toBeUndefined();
    });

    it('withdraws the incident with its element when an interrupting boundary event fires', async () => {
      const ir = await referralPathway();
      const withDeadline = await compilePathwayIR(
        readFileSync(path.join(__dirname, '../../test/fixtures/bpmn/referral-with-care-plan.bpmn'), 'utf8').replace(
          '<bpmn:sequenceFlow id="ReferralSent"',
          `<bpmn:boundaryEvent id="ReferralDeadline" name="Referral deadline" attachedToRef="SendReferral">
             <bpmn:outgoing>ToReferralOverdue</bpmn:outgoing>
             <bpmn:timerEventDefinition><bpmn:timeDuration>P2D</bpmn:timeDuration></bpmn:timerEventDefinition>
           </bpmn:boundaryEvent>
           <bpmn:sequenceFlow id="ToReferralOverdue" sourceRef="ReferralDeadline" targetRef="ReferralOverdue" />
           <bpmn:endEvent id="ReferralOverdue"><bpmn:incoming>ToReferralOverdue</bpmn:incoming></bpmn:endEvent>
           <bpmn:sequenceFlow id="ReferralSent"`,
        ),
      );
      expect(ir.elements['ReferralDeadline']).toBeUndefined();
      const driver = new Driver(withDeadline, START);
      driver.failReferral();
      const deadline = Object.values(driver.state.timers).find((t) => t.elementId === 'ReferralDeadline');

      const step = driver.send({ type: 'timerFired', timerId: deadline!.id }, deadline!.dueAt);

      expect(commandsOf(step, 'closeIncident')).toEqual([expect.objectContaining({ resolution: 'cancelled' })]);
      expect(commandsOf(step, 'cancelServiceTask')).toEqual([]);
      expect(openIncidents(step.state)).toEqual([]);
    });
  });

  describe('a called pathway that fails', () => {
    it('raises an incident at the call activity, and a retry starts a new child', async () => {
      // The fixture's call activity catches every error; without its boundary event nothing does.
      const ir = await compileFixture('call-activity');
      const uncaught: PathwayIR = {
        ...ir,
        elements: { ...ir.elements, RunReview: { ...ir.elements['RunReview']!, boundaryEvents: [] } },
      };
      const driver = new Driver(uncaught, { caseId: 'c-1' });
      const call = instanceAt(driver.state, 'RunReview');

      const failed = driver.send({ type: 'childFailed', childId: call.id, errorCode: 'REVIEW_FAILED', message: 'no' });

      expect(onlyIncident(failed.state)).toMatchObject({
        kind: 'childFailed',
        calledProcessId: 'ChildReview',
        errorCode: 'REVIEW_FAILED',
      });
      const retried = driver.resolve('retry');
      const [child] = commandsOf(retried, 'startChildPathway');
      expect(child).toMatchObject({ childId: call.id, processId: 'ChildReview', rerun: expect.any(String) });
    });
  });

  describe('expressions that cannot be evaluated', () => {
    async function gatewayWithoutDefault(): Promise<PathwayIR> {
      const ir = await compilePathwayIR(readFixture('exclusive-gateway').replace(' default="Low"', ''));
      return { ...ir, flows: { ...ir.flows, Low: { ...ir.flows['Low']!, condition: 'risk = "low"' } } };
    }

    it('waits at a gateway no condition of which holds, and moves on when the variables are corrected', async () => {
      const driver = new Driver(await gatewayWithoutDefault(), { risk: 'unknown' });

      expect(driver.state.status).toBe('active');
      const incident = onlyIncident(driver.state);
      expect(incident).toMatchObject({
        elementId: 'RiskLevel',
        kind: 'enteringFailed',
        errorCode: 'NO_OUTGOING_FLOW_TAKEN',
      });
      expect(whyNotSkippable(driver.ir, driver.state, incident.id)).toMatch(/no default flow/);

      const skipped = driver.resolve('skip', { reason: 'try' });
      expect(skipped.commands).toEqual([]);
      const step = driver.resolve('retry', { variables: { risk: 'low' } });

      expect(openIncidents(step.state)).toEqual([]);
      expect(step.state.trail.filter((e) => e.elementId === 'RiskLevel').map((e) => e.outcome)).toEqual([
        'retried',
        'completed',
      ]);
      expect(Object.values(step.state.instances).map((i) => i.elementId)).not.toContain('RiskLevel');
    });

    it('undoes a half-entered element: a FEEL timer on its boundary leaves no task open', async () => {
      const driver = new Driver(await compileFixture('boundary-timers'), { overdueAfterDays: null });

      expect(driver.state.status).toBe('active');
      expect(commandsOf(driver.step, 'openUserTask')).toEqual([]);
      expect(commandsOf(driver.step, 'startTimer')).toEqual([]);
      expect(onlyIncident(driver.state)).toMatchObject({
        elementId: 'FiveDayReview',
        kind: 'enteringFailed',
        errorCode: 'FEEL_EVALUATION_FAILED',
      });

      const step = driver.resolve('retry', { variables: { overdueAfterDays: 2 } });

      expect(commandsOf(step, 'openUserTask')).toEqual([expect.objectContaining({ elementId: 'FiveDayReview' })]);
      expect(findOpenTask(step.state, instanceAt(step.state, 'FiveDayReview').id)).toBeDefined();
    });

    it('keeps the result of a task whose output mappings fail, and maps it on retry', async () => {
      const ir = await referralPathway();
      const task = ir.elements['SendReferral'] as ServiceTaskElement;
      const failingOutputs: PathwayIR = {
        ...ir,
        elements: {
          ...ir.elements,
          SendReferral: {
            ...task,
            outputs: [...task.outputs, { source: { feel: 'sequenceBase + 1' }, target: 'seq' }],
          },
        },
      };
      const driver = new Driver(failingOutputs, { ...START, sequenceBase: 'x' });
      const referral = instanceAt(driver.state, 'SendReferral');

      const step = driver.send({
        type: 'serviceTaskCompleted',
        activityId: referral.id,
        result: { referralId: 'r-9' },
      });

      expect(onlyIncident(step.state)).toMatchObject({ kind: 'leavingFailed', errorCode: 'FEEL_EVALUATION_FAILED' });
      expect(step.state.variables).not.toHaveProperty('referralId');
      const retried = driver.resolve('retry', { variables: { sequenceBase: 41 } });
      expect(retried.state.variables).toMatchObject({ referralId: 'r-9', seq: 42 });
      expect(retried.state.trail).toContainEqual(
        expect.objectContaining({ elementId: 'SendReferral', outcome: 'completed' }),
      );
    });
  });

  describe('terminate', () => {
    it('withdraws every task and incident with the reason and ends terminated', async () => {
      const driver = new Driver(await referralPathway(), START);
      driver.failReferral();

      const step = driver.send({ type: 'terminate', reason: 'released from court', terminatedBy: 'nurse-1' }, at(4));

      expect(step.state.status).toBe('terminated');
      expect(step.state.termination).toEqual({ reason: 'released from court', terminatedBy: 'nurse-1', at: at(4) });
      const why = 'terminated by nurse-1: released from court';
      expect(commandsOf(step, 'closeUserTask')).toEqual([
        expect.objectContaining({ elementId: 'CarePlan', outcome: 'cancelled', reason: why }),
      ]);
      expect(commandsOf(step, 'closeIncident')).toEqual([
        expect.objectContaining({ elementId: 'SendReferral', resolution: 'cancelled', reason: why }),
      ]);
      expect(commandsOf(step, 'complete')).toEqual([expect.objectContaining({ terminated: true })]);
      expect(describePathway(driver.ir, step.state).termination).toMatchObject({ terminatedBy: 'nurse-1' });
    });
  });

  describe('the resolution form, read', () => {
    it('takes retry, skip with a reason, and correct-and-retry with variables', () => {
      expect(readIncidentResolution({ action: 'retry' })).toEqual({ action: 'retry' });
      expect(readIncidentResolution({ action: 'skip', reason: ' by hand ' })).toEqual({
        action: 'skip',
        reason: 'by hand',
      });
      expect(readIncidentResolution({ action: 'correct-and-retry', variables: { a: 1 } })).toEqual({
        action: 'retry',
        variables: { a: 1 },
      });
    });

    it('refuses a skip without a reason, a correction without variables and an unknown action', () => {
      expect(readIncidentResolution({ action: 'skip' })).toMatch(/reason is required/);
      expect(readIncidentResolution({ action: 'correct-and-retry' })).toMatch(/corrected variables/);
      expect(readIncidentResolution({ action: 'retry', variables: { a: 1 } })).toMatch(/only taken/);
      expect(readIncidentResolution({ action: 'ignore' })).toMatch(/action must be one of/);
      expect(readIncidentResolution(undefined)).toMatch(/action must be one of/);
    });
  });
});
