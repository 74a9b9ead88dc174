/**
 * `throughcare pathway lint | deploy | list | show`, run as a person runs them: lint locally, the others through the
 * API of a running `throughcare up`, signed in with tokens from `throughcare dev-token` (Casey Commissioner deploys,
 * Oakley Ops reads).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../store/embedded-postgres';
import { runCli, type CliProcess } from '../support/cli-process';

jest.setTimeout(240_000);

const fixture = (name: string) => path.join(__dirname, '..', 'fixtures', 'bpmn', name);
const broken = path.join(__dirname, '..', '..', 'bpmn', 'fixtures', 'sequence.bpmn');
const shipped = (name: string) => path.join(__dirname, '..', '..', 'pathways', name);

const COMMISSIONER = 'mailto:casey.commissioner@demo.throughcare.test';

describe('throughcare pathway', () => {
  let dataDir: string;
  let up: CliProcess;
  const tokens: Record<string, string> = {};
  /** The environment of a command run as `name` (the commissioner unless said). */
  const env = (name = 'Casey Commissioner') => ({
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    THROUGHCARE_TOKEN: tokens[name],
  });

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'throughcare-pathway-'));
    // As a newcomer's `npm start` runs it: development, with the demo staff to sign in as.
    up = runCli(['up'], { PORT: String(await freePort()), DATA_DIR: dataDir, NODE_ENV: 'development' });
    await up.waitFor(/Throughcare is ready/, 180_000);
    for (const name of ['Casey Commissioner', 'Oakley Ops', 'Sam Patel']) {
      const run = runCli(['dev-token', '--user', name], { DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
      expect(await run.exited()).toBe(0);
      tokens[name] = run.stdout().trim();
    }
  });

  afterAll(async () => {
    up.child.kill('SIGINT');
    await up.exited();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

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

  it('asks for a sign-in to deploy, list or show, saying how to get a token; lint needs none', async () => {
    const run = runCli(['pathway', 'list'], { DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
    expect(await run.exited()).toBe(2);
    expect(run.output()).toContain('export THROUGHCARE_TOKEN=$(npx throughcare dev-token --user "Sam Patel")');
    const lint = runCli(['pathway', 'lint', fixture('review-reminder.bpmn')], { DATA_DIR: dataDir });
    expect(await lint.exited()).toBe(0);
  });

  it('deploys once, as the commissioner signed in, returns the same version for the same file, and lists it', async () => {
    const first = runCli(
      ['pathway', 'deploy', fixture('review-reminder.bpmn'), '--note', 'Reminders before each review', '--json'],
      env(),
    );
    expect(await first.exited()).toBe(0);
    expect(JSON.parse(first.stdout())).toMatchObject({
      pathwayId: 'ReviewReminder',
      version: 1,
      created: true,
      deployedBy: COMMISSIONER,
      changeNote: 'Reminders before each review',
    });

    const again = runCli(['pathway', 'deploy', fixture('review-reminder.bpmn')], env());
    expect(await again.exited()).toBe(0);
    expect(again.stdout()).toContain('ReviewReminder is unchanged: version 1 already holds this content');

    const list = runCli(['pathway', 'list', '--json'], env('Oakley Ops'));
    expect(await list.exited()).toBe(0);
    expect(JSON.parse(list.stdout())).toContainEqual(
      expect.objectContaining({ pathwayId: 'ReviewReminder', version: 1, deployedBy: COMMISSIONER }),
    );

    const clinician = runCli(['pathway', 'deploy', fixture('review-reminder.bpmn')], env('Sam Patel'));
    expect(await clinician.exited()).toBe(1);
    expect(clinician.output()).toContain('Your roles (clinician) may not pathway.deploy');
  });

  it('shows a deployed version: its tasks, timers, messages and the variables its start form declares', async () => {
    // `up` deployed the shipped file; the same content again is that version.
    const deploy = runCli(['pathway', 'deploy', shipped('custody-reception.bpmn')], env());
    expect(await deploy.exited()).toBe(0);
    expect(deploy.stdout()).toContain('custody-reception is unchanged: version 1 already holds this content');

    const json = runCli(['pathway', 'show', 'custody-reception', '--json'], env('Oakley Ops'));
    expect(await json.exited()).toBe(0);
    const view = JSON.parse(json.stdout()) as Record<string, unknown>;
    expect(view).toMatchObject({
      pathwayId: 'custody-reception',
      name: 'Custody reception',
      version: 1,
      deployedBy: 'throughcare',
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

  it('refuses to deploy a pathway with lint errors, naming each element', async () => {
    const run = runCli(['pathway', 'deploy', broken], env());
    expect(await run.exited()).toBe(1);
    expect(run.output()).toMatch(/Sequence has 2 lint error\(s\) and was not deployed/);
    expect(run.output()).toContain('  - /elements/NotifyTeam: ');
    const json = runCli(['pathway', 'deploy', broken, '--json'], env());
    expect(await json.exited()).toBe(1);
    expect(JSON.parse(json.stdout())).toMatchObject({
      error: { code: 'UNPROCESSABLE', problem: { status: 422, errors: expect.any(Array) } },
    });
  });
});
