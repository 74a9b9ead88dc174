/**
 * `throughcare pathway test PATHWAY SCENARIO` as a person or CI runs it: `bin/throughcare.js` in a child process.
 * Headless, it starts a scratch PostgreSQL of its own in a temporary directory and removes it; with
 * SIMULATION_DATABASE_URL it uses that. It prints the timeline in London time and PASSED (exit 0), the failures
 * (exit 1), or, for a scenario or pathway that is not valid, each problem named by JSON Pointer (exit 2).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../support/cli-process';
import { useFreshDatabase } from '../support/database';

const SMS_SCENARIO = path.resolve(__dirname, '../../pathways/scenarios/sms-prison-13-weeks.scenario.json');
const CUSTODY_SCENARIO = path.resolve(__dirname, '../../pathways/scenarios/custody-reception-late-check.scenario.json');
const HEADLESS = { DATABASE_URL: undefined, SIMULATION_DATABASE_URL: undefined, LOG_LEVEL: 'warn' };

describe('throughcare pathway test', () => {
  const db = useFreshDatabase('simulation_cli');
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pathway-test-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, content: unknown) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
    return file;
  };
  const scratchDirectories = () => fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('throughcare-simulation-'));

  it('simulates the shipped SMS pathway to its 13-week review headless, prints the timeline in London time and PASSED', async () => {
    const before = scratchDirectories();
    const cli = runCli(['pathway', 'test', 'sms-prison', SMS_SCENARIO], HEADLESS);
    expect(await cli.exited()).toBe(0);
    const lines = cli.stdout().trim().split('\n');
    expect(lines[0]).toMatch(
      /^sms-prison: Mon, 01 Mar 2027, 14:10 to Mon, 31 May 2027, 10:00 \(London time\), simulated in /,
    );
    expect(lines).toEqual(
      expect.arrayContaining([
        'Sat, 06 Mar 2027, 00:00  reminder       reminder to sms-team: task FiveDayReview; due 2027-03-06T23:59:59.000Z',
        'Sun, 07 Mar 2027, 00:00  notification   to Morgan Lead <morgan.lead@simulation.throughcare.test>: 5-day review overdue',
        'Sun, 07 Mar 2027, 00:00  notification   to Sam Patel <sam.patel@simulation.throughcare.test>: 5-day review overdue',
        expect.stringMatching(
          /^Mon, 29 Mar 2027, 10:00 {2}task-opened {4}13-week review \(ThirteenWeekReview\) opened, due Mon, 31 May 2027, 23:59$/,
        ),
        'Mon, 31 May 2027, 00:00  reminder       reminder to sms-team: task ThirteenWeekReview; due 2027-05-31T22:59:59.000Z',
      ]),
    );
    expect(lines.at(-1)).toBe('PASSED');
    // Its scratch PostgreSQL is gone with it.
    expect(scratchDirectories()).toEqual(before);
  }, 180_000);

  it('exits 1 with the failures when an expectation does not hold, and prints the report as JSON with --json', async () => {
    const scenario = JSON.parse(fs.readFileSync(CUSTODY_SCENARIO, 'utf8')) as { steps: unknown[] };
    scenario.steps.splice(5, 1, { expectTask: { task: 'RecordObservationCheck', dueAt: '2027-01-15T20:45:00Z' } });
    const file = write('late-check-wrong.scenario.json', scenario);
    const cli = runCli(['pathway', 'test', 'custody-reception', file, '--json'], {
      ...HEADLESS,
      SIMULATION_DATABASE_URL: db.url,
    });
    expect(await cli.exited()).toBe(1);
    const report = JSON.parse(cli.stdout()) as { passed: boolean; failures: string[]; events: { kind: string }[] };
    expect(report.passed).toBe(false);
    expect(report.failures).toEqual([
      expect.stringMatching(
        /^step 6 \(expectTask RecordObservationCheck\): RecordObservationCheck is due 2027-01-15T21:00:00\.000Z, not 2027-01-15T20:45:00\.000Z$/,
      ),
    ]);
    // The run went on after the expectation: the case reached its handover.
    expect(report.events.at(-2)?.kind).toBe('case-ended');
  }, 180_000);

  it('exits 2 naming each problem of a scenario that is not valid, by JSON Pointer into the file, before starting anything', async () => {
    const file = write('broken.scenario.json', {
      pathway: 'sms-prison',
      start: '2027-03-01T14:10:00Z',
      steps: [{ complete: { example: 'sms-review' } }, { advance: 'five days' }],
    });
    const cli = runCli(['pathway', 'test', 'sms-prison', file], HEADLESS);
    expect(await cli.exited()).toBe(2);
    expect(cli.stdout()).toBe('');
    expect(cli.output()).toContain(`throughcare: ${file}: the scenario has problems`);
    expect(cli.output()).toContain('  - /steps/0/complete/task: is required');
    expect(cli.output()).toContain('  - /steps/1/advance: must match pattern "^P"');
  }, 60_000);

  it('exits 2 for a scenario file that is not JSON, a pathway that is neither a file nor a shipped id, and BPMN that fails lint', async () => {
    const notJson = runCli(['pathway', 'test', 'sms-prison', write('not.json', '{ "pathway": ')], HEADLESS);
    expect(await notJson.exited()).toBe(2);
    expect(notJson.output()).toMatch(/not\.json is not JSON/);

    const unknown = runCli(['pathway', 'test', 'no-such-pathway', SMS_SCENARIO], HEADLESS);
    expect(await unknown.exited()).toBe(2);
    expect(unknown.output()).toMatch(/Cannot read no-such-pathway \(ENOENT\): give a \.bpmn file or a shipped pathway/);

    const sms = fs.readFileSync(path.resolve(__dirname, '../../pathways/sms-prison.bpmn'), 'utf8');
    const bpmn = write('draft.bpmn', sms.replace('formId="sms-review"', 'formId="sms-review-draft"'));
    const lint = runCli(['pathway', 'test', bpmn, SMS_SCENARIO, '--json'], HEADLESS);
    expect(await lint.exited()).toBe(2);
    const { error } = JSON.parse(lint.stdout()) as { error: { code: string; problems: { pointer: string }[] } };
    expect(error.code).toBe('USAGE');
    expect(error.problems.map((p) => p.pointer)).toEqual(expect.arrayContaining(['/elements/FiveDayReview']));
  }, 60_000);
});
