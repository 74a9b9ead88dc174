/**
 * Every shipped scenario (pathways/scenarios/*.scenario.json) run through the simulator as the designer and
 * `throughcare pathway test` run it: a scratch world on a fresh database, the time-skipping server, the real
 * activities and the local inbox. Each must pass, and its timeline is held to the key events written out here by
 * hand from the pathways' timing rules (due instants on the simulated clock, reminders, overdue notices and who
 * received them), so a change to a pathway that moves them fails CI. Then what a run must not do: see another
 * run's case, run a draft that fails lint, or pass with an expectation that does not hold.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ValidationError } from '../../domain/errors';
import { silentLogger } from '../../log';
import { PATHWAYS_DIRECTORY, readPathwayXml, type PathwayId } from '../../pathways';
import {
  STAFF,
  STAFF_EMAIL,
  createSimulator,
  type SimulationEvent,
  type SimulationReport,
  type Simulator,
  type StaffKey,
} from '../../simulation';
import { useFreshDatabase } from '../support/database';
import { installQuietRuntime } from '../support/sdk-runtime';

const SCENARIOS = path.join(PATHWAYS_DIRECTORY, 'scenarios');
const scenarioFile = (name: string): Record<string, unknown> =>
  JSON.parse(fs.readFileSync(path.join(SCENARIOS, name), 'utf8')) as Record<string, unknown>;

const to = (key: StaffKey) => `${STAFF[key]} <${STAFF_EMAIL[key]}>`;
/**
 * To the minute: work a timer or a step starts is done a few milliseconds after it (the server's clock runs on
 * while the work is done), and a due date counted from when a task opened carries them.
 */
const minute = (iso: string) => iso.slice(0, 16);

/** The events a pathway's timing is judged by: tasks with due instants, notices and who received them, the end. */
function keyEvents(report: SimulationReport): (string | undefined)[][] {
  const key = (e: SimulationEvent) => {
    switch (e.kind) {
      case 'task-opened':
        return e.dueAt ? [e.kind, e.elementId, minute(e.dueAt)] : undefined;
      case 'reminder':
      case 'overdue':
      case 'notice':
        return [e.kind, minute(e.at), e.elementId, e.recipient ?? e.subject];
      case 'notification':
        return [e.kind, minute(e.at), e.recipient, e.subject];
      case 'case-ended':
        return [e.kind, minute(e.at), e.text];
      case 'task-completed':
      case 'task-cancelled':
      case 'timer':
      case 'message':
      case 'incident':
      case 'expectation':
        return undefined;
    }
  };
  return report.events.map(key).filter((k): k is (string | undefined)[] => k !== undefined);
}

describe('shipped scenarios on the simulator', () => {
  let simulator: Simulator;
  // Declared before useFreshDatabase: jest runs afterAll hooks in declaration order, and the simulator's server and
  // store must stop before the database is dropped under them.
  afterAll(() => simulator?.close(), 60_000);
  const db = useFreshDatabase('simulation_shipped');
  beforeAll(() => {
    installQuietRuntime();
    simulator = createSimulator({ databaseUrl: db.url, logger: silentLogger });
  });

  const reports: Record<string, SimulationReport> = {};
  async function run(file: string): Promise<SimulationReport> {
    const scenario = scenarioFile(file);
    const report = await simulator.run(readPathwayXml(scenario['pathway'] as PathwayId), scenario);
    if (!report.passed) throw new Error(`${file} failed:\n${report.failures.join('\n')}`);
    return (reports[file] = report);
  }

  it('runs every shipped scenario file to PASSED', async () => {
    const files = fs.readdirSync(SCENARIOS).filter((f) => f.endsWith('.scenario.json'));
    expect(files).toEqual(['custody-reception-late-check.scenario.json', 'sms-prison-13-weeks.scenario.json']);
    for (const file of files) expect((await run(file)).passed).toBe(true);
  }, 240_000);

  it('sms-prison to its 13-week review: calendar due dates in London, reminders, the 5-day review overdue before it opened', () => {
    const report = reports['sms-prison-13-weeks.scenario.json']!;
    expect(report).toMatchObject({
      pathwayId: 'sms-prison',
      failures: [],
      simulatedFrom: '2027-03-01T14:10:00.000Z',
    });
    expect(minute(report.simulatedTo)).toBe('2027-05-31T09:00');
    expect(keyEvents(report)).toEqual([
      // Reception 14:10 GMT Monday 1 March: the screen is due within 2 hours, the second stage in 7 days
      ['task-opened', 'ReceptionScreening', '2027-03-01T16:10'],
      ['task-opened', 'SecondStageHealthAssessment', '2027-03-08T23:59'],
      ['task-opened', 'ReferToSms', '2027-03-02T14:10'],
      ['task-opened', 'TopAtStart', '2027-03-15T23:59'],
      // The 5-day review: the team reminded at 00:00 on its day, overdue at 00:00 the next, before it has opened
      ['reminder', '2027-03-06T00:00', 'RemindFiveDayReview', 'sms-team'],
      ['overdue', '2027-03-07T00:00', 'NotifyFiveDayReviewOverdue', '5-day review overdue'],
      ['notification', '2027-03-07T00:00', to('teamLead'), '5-day review overdue'],
      ['notification', '2027-03-07T00:00', to('keyworker'), '5-day review overdue'],
      ['task-opened', 'FiveDayReview', '2027-03-06T23:59'],
      // The 28-day review falls after the clocks go forward: due 23:59:59 BST, reminded at 00:00 BST
      ['task-opened', 'TwentyEightDayReview', '2027-03-29T22:59'],
      ['reminder', '2027-03-28T23:00', 'RemindTwentyEightDayReview', 'sms-team'],
      ['task-opened', 'ThirteenWeekReview', '2027-05-31T22:59'],
      ['reminder', '2027-05-30T23:00', 'RemindThirteenWeekReview', 'sms-team'],
    ]);
    // Calendar deadlines are the end of a London day, exactly: 23:59:59 GMT, or BST after the clocks go forward
    const dueOf = (elementId: string) =>
      report.events.find((e) => e.kind === 'task-opened' && e.elementId === elementId)?.dueAt;
    expect(['FiveDayReview', 'TwentyEightDayReview', 'ThirteenWeekReview'].map(dueOf)).toEqual([
      '2027-03-06T23:59:59.000Z',
      '2027-03-29T22:59:59.000Z',
      '2027-05-31T22:59:59.000Z',
    ]);
    expect(report.events.filter((e) => e.kind === 'expectation').every((e) => e.passed)).toBe(true);
    // The clock moved through 13 weeks of timers in seconds of real time.
    expect(report.realMs).toBeLessThan(60_000);
  });

  it('custody reception: the custody sergeant told every 5 minutes while a rousing check is late, until the handover', () => {
    const report = reports['custody-reception-late-check.scenario.json']!;
    expect(keyEvents(report)).toEqual([
      ['task-opened', 'HealthScreening', '2027-01-15T22:00'],
      ['task-opened', 'SetObservationLevel', '2027-01-15T22:00'],
      // Level 2 with rousing set at 20:30: checks every 30 minutes from then, 5 minutes' grace
      ['task-opened', 'RecordObservationCheck', '2027-01-15T21:00'],
      ['task-opened', 'RecordObservationCheck', '2027-01-15T21:30'],
      ['overdue', '2027-01-15T21:35', 'NotifyCheckOverdue', 'Observation check overdue'],
      ['notification', '2027-01-15T21:35', to('custodySergeant'), 'URGENT: Observation check overdue'],
      ['overdue', '2027-01-15T21:40', 'NotifyCheckOverdue', 'Observation check overdue'],
      ['notification', '2027-01-15T21:40', to('custodySergeant'), 'URGENT: Observation check overdue'],
      ['task-opened', 'ReviewRiskBeforeLeaving', '2027-01-15T22:20'],
      ['task-opened', 'CompleteHealthHandover', '2027-01-15T22:20'],
      ['case-ended', '2027-01-15T21:50', 'case ended: terminated'],
    ]);
    // The schedule is anchored on when the level was set, however late a check is written
    expect(
      report.events
        .filter((e) => e.kind === 'task-opened' && e.elementId === 'RecordObservationCheck')
        .map((e) => e.dueAt),
    ).toEqual(['2027-01-15T21:00:00.000Z', '2027-01-15T21:30:00.000Z']);
  });

  it('runs the same scenario again from the same day on a case of its own: the clock starts again, nothing is shared', async () => {
    const first = reports['custody-reception-late-check.scenario.json']!;
    const again = await run('custody-reception-late-check.scenario.json');
    expect(again.simulatedFrom).toBe(first.simulatedFrom);
    expect(keyEvents(again)).toEqual(keyEvents(first));
  }, 120_000);

  it('runs a draft of a shipped pathway as a version of its own, and the shipped one unchanged after it', async () => {
    const shipped = readPathwayXml('custody-reception');
    const draft = shipped.replace('name="Health screening on arrival"', 'name="Arrival health screen"');
    expect(draft).not.toBe(shipped);
    const scenario = {
      pathway: 'custody-reception',
      start: '2026-06-01T09:00:00Z',
      variables: { arrivalTime: '2026-06-01T09:00:00Z' },
      steps: [{ expectTask: { task: 'HealthScreening', dueAt: '2026-06-01T11:00:00Z' } }],
    };
    const drafted = await simulator.run(draft, scenario);
    expect(drafted.events.find((e) => e.kind === 'task-opened')?.text).toEqual(
      expect.stringMatching(/^Arrival health screen \(HealthScreening\) opened, due 2026-06-01T11:00/),
    );
    // A start in the past of the last run: the clock goes back for a new run.
    expect(drafted).toMatchObject({ passed: true, simulatedFrom: '2026-06-01T09:00:00.000Z' });
    const after = await simulator.run(shipped, scenario);
    expect(after.events.find((e) => e.kind === 'task-opened')?.text).toEqual(
      expect.stringMatching(/^Health screening on arrival \(HealthScreening\) opened, due 2026-06-01T11:00/),
    );
  }, 120_000);

  it('fails a report whose expectation does not hold, saying what was found, and stops at a step it cannot take', async () => {
    const report = await simulator.run(readPathwayXml('custody-reception'), {
      pathway: 'custody-reception',
      start: '2026-06-01T09:00:00Z',
      variables: { arrivalTime: '2026-06-01T09:00:00Z' },
      steps: [
        { expectTask: { task: 'HealthScreening', dueAt: '2026-06-01T10:00:00Z' } },
        { expectNotice: { to: 'custody-sergeant', kind: 'overdue' } },
        { complete: { task: 'SetObservationLevel', example: 'custody-observation-level' } },
        { expectEnded: {} },
      ],
    });
    expect(report.passed).toBe(false);
    expect(report.failures).toEqual([
      expect.stringMatching(
        /^step 1 \(expectTask HealthScreening\): HealthScreening is due 2026-06-01T11:00:00\.\d{3}Z, not 2026-06-01T10:00:00\.000Z$/,
      ),
      'step 2 (expectNotice to custody-sergeant): no notice overdue was sent to custody-sergeant (none was sent)',
      'step 3 (complete SetObservationLevel): SetObservationLevel is not open (open: HealthScreening); the run stopped there',
    ]);
    expect(report.events.filter((e) => e.kind === 'expectation').map((e) => e.passed)).toEqual([false, false]);
  }, 120_000);

  it('fails a completion the task’s form refuses, naming the answers', async () => {
    const report = await simulator.run(readPathwayXml('custody-reception'), {
      pathway: 'custody-reception',
      start: '2026-06-01T09:00:00Z',
      variables: { arrivalTime: '2026-06-01T09:00:00Z' },
      steps: [{ complete: { task: 'HealthScreening', example: 'custody-health-screening', unset: ['screenedAt'] } }],
    });
    expect(report.failures).toEqual([expect.stringMatching(/^step 1 \(complete HealthScreening\): .*\/screenedAt/)]);
  }, 120_000);

  it('refuses, before running anything, BPMN with lint errors (naming the element), another pathway’s scenario and start variables its form refuses', async () => {
    const refusal = (xml: string, scenario: unknown) =>
      simulator.run(xml, scenario).then(
        () => undefined,
        (error: unknown) => (error instanceof ValidationError ? error.problems.map((p) => p.pointer) : error),
      );
    const scenario = { pathway: 'custody-reception', start: '2026-06-01T09:00:00Z', steps: [{ advance: 'PT1H' }] };
    const unknownForm = readPathwayXml('custody-reception').replace(
      'formId="custody-health-screening"',
      'formId="custody-health-screening-v9"',
    );
    expect(await refusal(unknownForm, scenario)).toEqual(['/elements/HealthScreening']);
    expect(await refusal('<not-bpmn/>', scenario)).toEqual(['/xml']);
    expect(await refusal(readPathwayXml('sms-prison'), scenario)).toEqual(['/scenario/pathway']);
    expect(
      await refusal(readPathwayXml('custody-reception'), { ...scenario, variables: { arrivalTime: 'soon' } }),
    ).toEqual(['/scenario/variables/arrivalTime']);
    expect(await refusal(readPathwayXml('custody-reception'), { ...scenario, steps: [{}] })).toEqual([
      '/scenario/steps/0',
    ]);
  }, 120_000);
});
