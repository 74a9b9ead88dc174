/**
 * A case worked from the command line against a running `throughcare up`, as an operator would: start a
 * prison substance misuse case, see its first task in the worklist, submit a form with problems, submit
 * it properly, and watch the pathway move on.
 */
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../store/embedded-postgres';
import { runCli, type CliProcess } from '../support/cli-process';
import { eventually } from '../support/eventually';

jest.setTimeout(240_000);

const example = (formId: string): Record<string, unknown> =>
  (
    JSON.parse(
      readFileSync(
        path.join(__dirname, '..', '..', 'pathways', 'forms', 'examples', `${formId}.examples.json`),
        'utf8',
      ),
    ) as { valid: Record<string, unknown> }
  ).valid;

describe('working a case with throughcare case and task', () => {
  let dataDir: string;
  let up: CliProcess;
  const cli = async (...args: string[]) => {
    const run = runCli(args, { DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
    const code = await run.exited();
    return { code, stdout: run.stdout(), output: run.output() };
  };
  const openTasks = async (caseId: string) =>
    JSON.parse((await cli('task', 'list', '--case', caseId, '--json')).stdout) as {
      taskId: string;
      formId: string;
      status: string;
    }[];
  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'throughcare-case-'));
    // As a newcomer's `npm start` runs it (jest sets NODE_ENV=test, which would skip the demo settings).
    up = runCli(['up'], { PORT: String(await freePort()), DATA_DIR: dataDir, NODE_ENV: 'development' });
    await up.waitFor(/Throughcare is ready/, 180_000);
  });

  afterAll(async () => {
    up.child.kill('SIGINT');
    await up.exited();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('says Throughcare is not running when no `up` serves this data directory', async () => {
    const run = runCli(['task', 'list'], { DATA_DIR: path.join(dataDir, 'elsewhere'), LOG_LEVEL: 'warn' });
    expect(await run.exited()).toBe(1);
    expect(run.output()).toContain('Throughcare is not running: start it with `npm start`');
  });

  it('lists the shipped pathways deployed on first start', async () => {
    const { code, stdout } = await cli('pathway', 'list', '--json');
    expect(code).toBe(0);
    expect((JSON.parse(stdout) as { pathwayId: string }[]).map((p) => p.pathwayId).sort()).toEqual([
      'custody-reception',
      'journey',
      'release-support',
      'sms-prison',
    ]);
  });

  it('refuses to start a case for an invalid NHS number, naming the field', async () => {
    const { code, output } = await cli('case', 'start', 'sms-prison', '--patient', '9000000000', '--setting', 'XPRS01');
    expect(code).toBe(1);
    expect(output).toContain('/nhsNumber: must be 10 digits whose last is the Modulus 11 check digit');
  });

  it('starts a case, puts its first task in the worklist, validates the form, and moves on when it is completed', async () => {
    const started = await cli(
      'case',
      'start',
      'sms-prison',
      '--patient',
      '9000000009',
      '--setting',
      'XPRS01',
      '--vars',
      '{"receptionDate":"2026-11-23"}',
      '--json',
    );
    expect(started.output).not.toContain('throughcare:');
    expect(started.code).toBe(0);
    const { caseId } = JSON.parse(started.stdout) as { caseId: string };

    const [screen] = await eventually(
      'first task in the worklist',
      () => openTasks(caseId),
      (tasks) => tasks.length > 0,
      { intervalMs: 500 },
    );
    expect(screen).toMatchObject({ formId: 'prison-reception-sms', status: 'open' });

    const bad = await cli('task', 'complete', screen!.taskId, '--data', '{"beforeCellAllocation":"yes"}');
    expect(bad.code).toBe(1);
    expect(bad.output).toContain('/receptionAt: Enter the date and time of reception');

    const good = await cli(
      'task',
      'complete',
      screen!.taskId,
      '--data',
      JSON.stringify(example('prison-reception-sms')),
    );
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('the case is active');

    const again = await cli(
      'task',
      'complete',
      screen!.taskId,
      '--data',
      JSON.stringify(example('prison-reception-sms')),
    );
    expect(again.code).toBe(1);
    expect(again.output).toContain('is already completed or closed');

    const next = await eventually(
      'referral task in the worklist',
      () => openTasks(caseId),
      (tasks) => tasks.some((t) => t.formId === 'sms-referral'),
      { intervalMs: 500 },
    );
    expect(next.map((t) => t.formId)).toEqual(['sms-referral']);

    const shown = await cli('case', 'show', caseId, '--json');
    expect(shown.code).toBe(0);
    const view = JSON.parse(shown.stdout) as {
      executionStatus: string;
      pathway: { trail: { elementId: string }[]; variables: Record<string, unknown> };
    };
    expect(view.executionStatus).toBe('RUNNING');
    expect(view.pathway.trail.map((t) => t.elementId)).toContain('ReceptionScreening');
    expect(view.pathway.variables).toMatchObject({ caseId, nhsNumber: '9000000009' });
  });

  it('answers a clear error for a case that does not exist', async () => {
    const { code, output } = await cli('case', 'show', '00000000-0000-4000-8000-000000000000');
    expect(code).toBe(1);
    expect(output).toContain('No case 00000000-0000-4000-8000-000000000000 is known to the workflow engine');
  });
});
