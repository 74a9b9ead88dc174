/** `throughcare pathway lint | deploy | list | show`, run as a person runs them, against a real PostgreSQL. */
import path from 'node:path';
import { runCli } from '../support/cli-process';
import { useFreshDatabase } from '../support/database';

const fixture = (name: string) => path.join(__dirname, '..', 'fixtures', 'bpmn', name);
const broken = path.join(__dirname, '..', '..', 'bpmn', 'fixtures', 'sequence.bpmn');
const shipped = (name: string) => path.join(__dirname, '..', '..', 'pathways', name);

describe('throughcare pathway', () => {
  const db = useFreshDatabase();
  const env = () => ({ DATABASE_URL: db.url, LOG_LEVEL: 'warn' });

  it('lint exits 0 for a clean pathway and 1 with each finding for a broken one', async () => {
    const clean = runCli(['pathway', 'lint', fixture('review-reminder.bpmn'), '--json']);
    expect(await clean.exited()).toBe(0);
    expect(JSON.parse(clean.stdout())).toMatchObject({ pathwayId: 'ReviewReminder' });

    const bad = runCli(['pathway', 'lint', broken]);
    expect(await bad.exited()).toBe(1);
    expect(bad.stdout()).toContain("NotifyTeam (Notify team): Service task type 'notify-team' is not a known activity");
    expect(bad.stdout()).toContain("Assess (Assess needs): User task form 'sms-assessment' is not a known form");
  });

  it('lint names an unreadable file', async () => {
    const run = runCli(['pathway', 'lint', 'no-such-file.bpmn']);
    expect(await run.exited()).toBe(1);
    expect(run.output()).toContain('Cannot read no-such-file.bpmn: ENOENT');
  });

  it('refuses to work on a database whose migrations are not applied', async () => {
    const run = runCli(['pathway', 'list'], env());
    expect(await run.exited()).toBe(1);
    expect(run.output()).toMatch(/pending migration\(s\); run `throughcare migrate` first/);
    expect(await runCli(['migrate'], env()).exited()).toBe(0);
  });

  it('deploys once, returns the same version for the same file, and lists it', async () => {
    const first = runCli(
      ['pathway', 'deploy', fixture('review-reminder.bpmn'), '--deployed-by', 'commissioner-1', '--json'],
      env(),
    );
    expect(await first.exited()).toBe(0);
    expect(JSON.parse(first.stdout())).toMatchObject({ pathwayId: 'ReviewReminder', version: 1, created: true });

    const again = runCli(['pathway', 'deploy', fixture('review-reminder.bpmn')], env());
    expect(await again.exited()).toBe(0);
    expect(again.stdout()).toContain('ReviewReminder is unchanged: version 1 already holds this content');

    const list = runCli(['pathway', 'list', '--json'], env());
    expect(await list.exited()).toBe(0);
    expect(JSON.parse(list.stdout())).toEqual([
      expect.objectContaining({ pathwayId: 'ReviewReminder', version: 1, deployedBy: 'commissioner-1' }),
    ]);
  });

  it('shows a deployed version: its tasks, timers, messages and the variables its start form declares', async () => {
    const deploy = runCli(['pathway', 'deploy', shipped('custody-reception.bpmn'), '--deployed-by', 'lead-1'], env());
    expect(await deploy.exited()).toBe(0);

    const json = runCli(['pathway', 'show', 'custody-reception', '--json'], env());
    expect(await json.exited()).toBe(0);
    const view = JSON.parse(json.stdout()) as Record<string, unknown>;
    expect(view).toMatchObject({
      pathwayId: 'custody-reception',
      name: 'Custody reception',
      version: 1,
      deployedBy: 'lead-1',
      startFormId: 'custody-reception-start',
      startVariables: [
        { name: 'arrivalTime', type: 'string (date-time)', required: true, description: expect.any(String) },
        { name: 'custodySuite', type: 'string', required: false, description: expect.any(String) },
        { name: 'observationCheckGrace', type: 'string', required: false, description: expect.any(String) },
        { name: 'observationCheckAlertRepeat', type: 'string', required: false, description: expect.any(String) },
        { name: 'observationEmergencyInterval', type: 'string', required: false, description: expect.any(String) },
      ],
    });
    expect(view['userTasks']).toContainEqual({
      elementId: 'HealthScreening',
      name: 'Health screening on arrival',
      formId: 'custody-health-screening',
    });
    expect(view['timers']).toContainEqual({
      elementId: 'ObservationCheckOverdue',
      name: 'Check not recorded',
      timerType: 'cycle',
      value: expect.stringContaining('observationCheckGrace'),
      attachedTo: 'RecordObservationCheck',
      interrupting: false,
    });
    expect(view['messages']).toContainEqual({
      messageName: 'custody.leaving',
      correlationKey: '=caseId',
      caughtBy: [
        { elementId: 'DetaineeLeavingCustody', name: 'Custody record: leaving' },
        { elementId: 'LeavingDuringCheck', name: 'Leaving during the check' },
      ],
    });

    const text = runCli(['pathway', 'show', 'custody-reception', '--version', '1'], env());
    expect(await text.exited()).toBe(0);
    expect(text.stdout()).toContain('custody-reception v1: Custody reception');
    expect(text.stdout()).toContain('Deployed ');
    expect(text.stdout()).toContain('Start variables (form custody-reception-start):');
    expect(text.stdout()).toMatch(/ {2}arrivalTime {2}string \(date-time\) {2}required {2}When the person arrived/);
    expect(text.stdout()).toContain('  HealthScreening (Health screening on arrival)  form custody-health-screening');
    expect(text.stdout()).toContain('  VisitIntervalElapsed (Visit interval elapsed)  date =observationDueAt');
    expect(text.stdout()).toContain('  custody.suite-transfer  key =caseId  at TransferredBetweenSuites');
  });

  it('shows that a pathway without a start form accepts any variables, and names a version that does not exist', async () => {
    const noForm = runCli(['pathway', 'show', 'ReviewReminder'], env());
    expect(await noForm.exited()).toBe(0);
    expect(noForm.stdout()).toContain('Start variables: none declared (no start form): any variables are accepted');

    const missing = runCli(['pathway', 'show', 'custody-reception', '--version', '9'], env());
    expect(await missing.exited()).toBe(1);
    expect(missing.output()).toContain('Pathway custody-reception has no version 9');

    const bad = runCli(['pathway', 'show', 'custody-reception', '--version', 'latest'], env());
    expect(await bad.exited()).toBe(2);
    expect(bad.output()).toContain("--version must be a version number, not 'latest'");
  });

  it('refuses to deploy a pathway with lint errors', async () => {
    const run = runCli(['pathway', 'deploy', broken], env());
    expect(await run.exited()).toBe(1);
    expect(run.output()).toMatch(/Sequence has 2 lint error\(s\) and was not deployed/);
  });
});
