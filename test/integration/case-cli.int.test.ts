/**
 * A case worked from the command line against a running `throughcare up`, as an operator would: start a
 * prison substance misuse case, see its first task in the worklist, submit a form with problems, submit
 * it properly, and watch the pathway move on. The commands go through the HTTP API, signed in with a token from
 * `throughcare dev-token` (Sam Patel works in the demo prison, Dana Hughes in the demo custody suite).
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
  const tokens: Record<string, string> = {};
  /** As someone: `as('Dana Hughes')`. */
  const as =
    (name: string) =>
    async (...args: string[]) => {
      const run = runCli(args, { DATA_DIR: dataDir, LOG_LEVEL: 'warn', THROUGHCARE_TOKEN: tokens[name] });
      const code = await run.exited();
      return { code, stdout: run.stdout(), output: run.output() };
    };
  const cli = as('Sam Patel');
  const custodyNurse = as('Dana Hughes');
  const openTasks = async (caseId: string, who = cli) =>
    JSON.parse((await who('task', 'list', '--case', caseId, '--json')).stdout) as {
      taskId: string;
      formId: string;
      status: string;
    }[];
  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'throughcare-case-'));
    // As a newcomer's `npm start` runs it (jest sets NODE_ENV=test, which would skip the demo settings).
    up = runCli(['up'], { PORT: String(await freePort()), DATA_DIR: dataDir, NODE_ENV: 'development' });
    await up.waitFor(/Throughcare is ready/, 180_000);
    for (const name of ['Sam Patel', 'Dana Hughes', 'Oakley Ops']) {
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

  it('says Throughcare is not running when nothing answers at its address', async () => {
    const closed = await freePort();
    const run = runCli(['task', 'list'], {
      DATA_DIR: path.join(dataDir, 'elsewhere'),
      LOG_LEVEL: 'warn',
      THROUGHCARE_TOKEN: tokens['Sam Patel'],
      THROUGHCARE_URL: `http://127.0.0.1:${closed}`,
    });
    expect(await run.exited()).toBe(1);
    expect(run.output()).toContain(
      `Throughcare is not running at http://127.0.0.1:${closed} (ECONNREFUSED): start it with \`npm start\``,
    );
  });

  it('asks for a token, saying how to get one, and mints none itself', async () => {
    const run = runCli(['task', 'list'], { DATA_DIR: dataDir, LOG_LEVEL: 'warn', NODE_ENV: 'development' });
    expect(await run.exited()).toBe(2);
    expect(run.output()).toContain('export THROUGHCARE_TOKEN=$(npx throughcare dev-token --user "Sam Patel")');
    const refused = runCli(['task', 'list', '--token', 'not-a-token'], { DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
    expect(await refused.exited()).toBe(1);
    expect(refused.output()).toContain('The bearer token is malformed');
  });

  it('lists the shipped pathways deployed on first start, to ops but not to a clinician', async () => {
    expect((await cli('pathway', 'list')).output).toContain('Your roles (clinician) may not pathway.list');
    const { code, stdout } = await as('Oakley Ops')('pathway', 'list', '--json');
    expect(code).toBe(0);
    expect((JSON.parse(stdout) as { pathwayId: string }[]).map((p) => p.pathwayId).sort()).toEqual([
      'custody-reception',
      'identify-person',
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

  it('refuses to start a case whose variables the pathway could not run, naming each field', async () => {
    const noArrival = await custodyNurse(
      'case',
      'start',
      'custody-reception',
      '--patient',
      '9000000009',
      '--setting',
      'XCUS01',
      '--vars',
      '{"custodySuite":"Leeds Elland Road"}',
    );
    expect(noArrival.code).toBe(1);
    expect(noArrival.output).toContain('The variables to start custody-reception have 1 problem(s)');
    expect(noArrival.output).toContain(
      '/variables/arrivalTime: Enter the date and time the person arrived in custody, with its offset',
    );
    expect(noArrival.output).not.toContain('Started case');

    const numberDate = await cli(
      'case',
      'start',
      'sms-prison',
      '--patient',
      '9000000009',
      '--setting',
      'XPRS01',
      '--vars',
      '{"receptionDate":42}',
      '--json',
    );
    expect(numberDate.code).toBe(1);
    expect(JSON.parse(numberDate.stdout)).toEqual({
      error: {
        code: 'VALIDATION_FAILED',
        message: 'The variables to start sms-prison have 1 problem(s)',
        problem: expect.objectContaining({ status: 400, instance: '/api/v1/cases' }),
        problems: [
          {
            pointer: '/variables/receptionDate',
            detail: 'This answer must be a date and time as text, such as 2026-11-23T09:30:00Z, not a number.',
          },
        ],
      },
    });
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
      '{"receptionDate":"2026-11-23T09:00:00Z"}',
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

    // Received now: the milestones fall due in the future (a reception months ago would be overdue at once)
    const answers = JSON.stringify({ ...example('prison-reception-sms'), receptionAt: new Date().toISOString() });
    const good = await cli('task', 'complete', screen!.taskId, '--data', answers, '--json');
    expect(good.code).toBe(0);
    const { completionId, status, nextTasks } = JSON.parse(good.stdout) as {
      completionId: string;
      status: string;
      nextTasks: { elementId: string }[];
    };
    expect({ completionId, status }).toEqual({
      completionId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      status: 'active',
    });
    // Answered once the steps the screening started have run: the referral it suggests is already open.
    expect(nextTasks.map((t) => t.elementId)).toContain('ReferToSms');

    // The same submission again with the id it printed (its answer was lost, say) gets the first outcome.
    const resent = await cli('task', 'complete', screen!.taskId, '--data', answers, '--completion-id', completionId);
    expect(resent.code).toBe(0);
    const [first, heading, ...open] = resent.stdout.trim().split('\n');
    expect(first).toBe(`Completed ${screen!.taskId} (completion id ${completionId}); the case is active`);
    expect(heading).toBe('Open tasks now:');
    expect(open).toEqual(expect.arrayContaining([expect.stringMatching(/\/ReferToSms#\d+ +open +Refer to substance/)]));

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
    // (the second-stage health assessment, due within 7 days, opens at reception beside the referral)
    expect(next.map((t) => t.formId).sort()).toEqual(['prison-second-stage-health', 'sms-referral']);

    const shown = await cli('case', 'show', caseId, '--json');
    expect(shown.code).toBe(0);
    const view = JSON.parse(shown.stdout) as {
      executionStatus: string;
      trail: { elementId: string }[];
      variables: Record<string, unknown>;
    };
    expect(view.executionStatus).toBe('RUNNING');
    expect(view.trail.map((t) => t.elementId)).toContain('ReceptionScreening');
    expect(view.variables).toMatchObject({ caseId, nhsNumber: '9000000009' });
  });

  it('keeps a message the case is not waiting for yet, delivers it when the case gets there, and refuses one it can never catch', async () => {
    const started = await custodyNurse(
      'case',
      'start',
      'custody-reception',
      '--patient',
      '9000000009',
      '--setting',
      'XCUS01',
      '--vars',
      JSON.stringify(example('custody-reception-start')),
      '--json',
    );
    expect(started.code).toBe(0);
    const { caseId } = JSON.parse(started.stdout) as { caseId: string };

    const kept = await custodyNurse('case', 'message', caseId, 'custody.leaving');
    expect(kept.output).not.toContain('throughcare:');
    expect(kept.code).toBe(0);
    expect(kept.stdout.trim()).toMatch(
      new RegExp(
        `^Kept custody\\.leaving for case ${caseId}: it is not waiting for it yet; it will be delivered when the case ` +
          `reaches Leaving during the check \\(LeavingDuringCheck\\) or Custody record: leaving ` +
          `\\(DetaineeLeavingCustody\\), unless it expires at \\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$`,
      ),
    );

    const again = await custodyNurse('case', 'message', caseId, 'custody.leaving', '--ttl', 'PT2H', '--json');
    expect(again.code).toBe(0);
    const result = JSON.parse(again.stdout) as {
      outcome: string;
      deliveries: { outcome: string; processId: string; expiresAt: string }[];
    };
    expect(result).toMatchObject({
      caseId,
      messageName: 'custody.leaving',
      correlationKey: caseId,
      outcome: 'buffered',
      deliveries: [{ workflowId: `case-${caseId}`, outcome: 'buffered', processId: 'custody-reception' }],
    });
    const expiresIn = Date.parse(result.deliveries[0]!.expiresAt) - Date.now();
    expect(expiresIn).toBeGreaterThan(110 * 60_000);
    expect(expiresIn).toBeLessThanOrEqual(120 * 60_000);

    const never = await custodyNurse('case', 'message', caseId, 'court.outcome');
    expect(never.code).toBe(1);
    expect(never.output).toContain(`Case ${caseId} can never catch message 'court.outcome'`);
    const badTtl = await custodyNurse('case', 'message', caseId, 'custody.leaving', '--ttl', 'tomorrow');
    expect(badTtl.code).toBe(2);
    expect(badTtl.output).toContain("--ttl must be an ISO 8601 duration such as PT30M, PT12H or P2D, not 'tomorrow'");
    const notKept = await custodyNurse('case', 'message', caseId, 'custody.suite-transfer', '--ttl', 'PT0S');
    expect(notKept.code).toBe(1);
    expect(notKept.output).toContain('nothing waits for it now and its time to live is zero');

    for (const formId of ['custody-health-screening', 'custody-observation-level']) {
      const [task] = await eventually(
        `${formId} task in the worklist`,
        () => openTasks(caseId, custodyNurse),
        (tasks) => tasks.some((t) => t.formId === formId),
        { intervalMs: 500 },
      );
      const done = await custodyNurse('task', 'complete', task!.taskId, '--data', JSON.stringify(example(formId)));
      expect(done.output).not.toContain('throughcare:');
      expect(done.code).toBe(0);
    }

    // At the visit-or-move gateway the oldest kept custody.leaving is caught at once; the other stays kept.
    // The observation review it interrupts opens and is withdrawn by separate activities: wait for both.
    // 90 s: CI runs this beside other suites that each start Throughcare; a failure shows what the server logged.
    const review = await eventually(
      'pre-departure review the only open task',
      () => openTasks(caseId, custodyNurse),
      (tasks) => tasks.length === 1 && tasks[0]!.formId === 'custody-pre-departure-review',
      { intervalMs: 500, timeoutMs: 90_000 },
    ).catch((error: unknown) => {
      const logged = up
        .output()
        .split('\n')
        .filter((line) => /"level":(40|50)|WARN|ERROR/.test(line))
        .slice(-30)
        .join('\n');
      throw new Error(`${(error as Error).message}\nwarnings and errors of throughcare up:\n${logged}`);
    });
    expect(review.map((t) => t.formId)).toEqual(['custody-pre-departure-review']);
    const shown = JSON.parse((await custodyNurse('case', 'show', caseId, '--json')).stdout) as {
      trail: { elementId: string }[];
      keptMessages: { messageName: string }[];
    };
    expect(shown.trail.map((t) => t.elementId)).toContain('DetaineeLeavingCustody');
    expect(shown.keptMessages.map((m) => m.messageName)).toEqual(['custody.leaving']);
  });

  it('answers a clear error for a case that does not exist', async () => {
    const { code, output } = await cli('case', 'show', '00000000-0000-4000-8000-000000000000');
    expect(code).toBe(1);
    expect(output).toContain('No case 00000000-0000-4000-8000-000000000000');
    const message = await cli('case', 'message', '00000000-0000-4000-8000-000000000000', 'custody.leaving');
    expect(message.code).toBe(1);
    expect(message.output).toContain('No case 00000000-0000-4000-8000-000000000000');
  });

  it('takes --version after a command as the pathway version, not the program version', async () => {
    const started = await cli(
      'case',
      'start',
      'sms-prison',
      '--patient',
      '9000000068',
      '--setting',
      'XPRS01',
      '--version',
      '1',
      '--json',
    );
    expect(started.code).toBe(0);
    expect(JSON.parse(started.stdout)).toMatchObject({ pathwayId: 'sms-prison', version: 1 });
    const bad = await cli(
      'case',
      'start',
      'sms-prison',
      '--patient',
      '9000000068',
      '--setting',
      'XPRS01',
      '--version',
      'one',
    );
    expect(bad.code).toBe(2);
    expect(bad.output).toContain("--version must be a whole number from 1, not 'one'");
  });

  it('prints a failure as one JSON object on stdout under --json', async () => {
    const { code, stdout } = await cli(
      'case',
      'start',
      'sms-prison',
      '--patient',
      '9000000000',
      '--setting',
      'XPRS01',
      '--json',
    );
    expect(code).toBe(1);
    const problems = [{ pointer: '/nhsNumber', detail: 'must be 10 digits whose last is the Modulus 11 check digit' }];
    expect(JSON.parse(stdout)).toEqual({
      error: {
        code: 'VALIDATION_FAILED',
        message: 'The NHS number is not valid',
        problems,
        // the API's problem document, as it answered
        problem: expect.objectContaining({ status: 400, detail: 'The NHS number is not valid', errors: problems }),
      },
    });
  });

  it('reads --data from a file or from standard input, and prints only ids with --quiet', async () => {
    const started = await cli(
      'case',
      'start',
      'sms-prison',
      '--patient',
      '9000000068',
      '--setting',
      'XPRS01',
      '--quiet',
    );
    expect(started.code).toBe(0);
    const caseId = started.stdout.trim();
    expect(caseId).toMatch(/^[0-9a-f-]{36}$/);
    const taskId = (
      await eventually(
        'the reception screen in the worklist',
        async () => (await cli('task', 'list', '--case', caseId, '--quiet')).stdout.trim(),
        (ids) => ids !== '',
        { intervalMs: 500 },
      )
    ).split('\n')[0]!;
    expect(taskId).toMatch(new RegExp(`^case-${caseId}/ReceptionScreening#\\d+$`));

    // Standard input: a form with a problem is read and refused, each problem named.
    const fromStdin = runCli(['task', 'complete', taskId, '--data', '-'], {
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      THROUGHCARE_TOKEN: tokens['Sam Patel'],
    });
    fromStdin.child.stdin.end(JSON.stringify({ ...example('prison-reception-sms'), alcoholUse: 'sometimes' }));
    expect(await fromStdin.exited()).toBe(1);
    expect(fromStdin.output()).toContain('/alcoholUse');

    // A file: the whole form, accepted.
    const file = path.join(dataDir, 'reception.json');
    await fs.writeFile(
      file,
      JSON.stringify({ ...example('prison-reception-sms'), receptionAt: new Date().toISOString() }),
    );
    const fromFile = await cli('task', 'complete', taskId, '--data', `@${file}`);
    expect(fromFile.output).not.toContain('throughcare:');
    expect(fromFile.code).toBe(0);
    const missing = await cli('task', 'complete', taskId, '--data', '@/no/such/file.json');
    expect(missing.code).toBe(2);
    expect(missing.output).toContain('--data: cannot read /no/such/file.json');
  });

  it('terminates a case with a reason: its open tasks are withdrawn, the reason kept, and it ends once', async () => {
    const started = await cli(
      'case',
      'start',
      'sms-prison',
      '--patient',
      '9000000068',
      '--setting',
      'XPRS01',
      '--quiet',
    );
    const caseId = started.stdout.trim();
    await eventually(
      'the reception screen open',
      () => openTasks(caseId),
      (tasks) => tasks.length > 0,
      {
        intervalMs: 500,
      },
    );

    const noReason = await cli('case', 'terminate', caseId);
    expect(noReason.code).toBe(2);
    const terminated = await cli('case', 'terminate', caseId, '--reason', 'Released from court before reception');

    expect(terminated.output).not.toContain('throughcare:');
    expect(terminated.code).toBe(0);
    expect(terminated.stdout.trim()).toMatch(
      new RegExp(`^Terminated case ${caseId} at \\S+: Released from court before reception$`),
    );
    const tasks = await eventually(
      'the reception screen withdrawn',
      async () =>
        JSON.parse((await cli('task', 'list', '--case', caseId, '--all', '--json')).stdout) as { status: string }[],
      (found) => found.length > 0 && found.every((t) => t.status === 'cancelled'),
      { intervalMs: 500 },
    );
    expect(tasks).toHaveLength(1);
    const shown = JSON.parse((await cli('case', 'show', caseId, '--json')).stdout) as {
      executionStatus: string;
      pathwayStatus: string;
      termination: { reason: string; terminatedBy: string };
      incidents: unknown[];
    };
    expect(shown.executionStatus).toBe('COMPLETED');
    expect(shown.pathwayStatus).toBe('terminated');
    // Who signed in, not the account the command ran under.
    expect(shown.termination).toMatchObject({
      reason: 'Released from court before reception',
      terminatedBy: 'mailto:sam.patel@demo.throughcare.test',
    });
    expect(shown.incidents).toEqual([]);
    expect((await cli('case', 'show', caseId)).stdout).toContain(
      'Terminated by mailto:sam.patel@demo.throughcare.test',
    );
    const again = await cli('case', 'terminate', caseId, '--reason', 'again');
    expect(again.code).toBe(1);
    expect(again.output).toContain(`Case ${caseId} was not terminated`);
    expect((await cli('incident', 'list', '--case', caseId)).stdout.trim()).toBe('No open incidents.');
  });

  it('shows variables, and open tasks by the id task complete takes', async () => {
    const started = await cli(
      'case',
      'start',
      'sms-prison',
      '--patient',
      '9000000068',
      '--setting',
      'XPRS01',
      '--quiet',
    );
    const caseId = started.stdout.trim();
    const shown = await eventually(
      'the reception screen open',
      async () => (await cli('case', 'show', caseId)).stdout,
      (text) => text.includes('ReceptionScreening#'),
      { intervalMs: 500 },
    );
    expect(shown).toMatch(new RegExp(`Open tasks:\\n  case-${caseId}/ReceptionScreening#\\d+  Reception`));
    expect(shown).toContain('Variables:');
    expect(shown).toContain(`  nhsNumber = "9000000068"`);
  });

  it('shows the flags that follow the person, such as an identity PDS does not know', async () => {
    // 9111231130 passes the Modulus 11 check; the Spine sandbox has no such person.
    const started = await cli(
      'case',
      'start',
      'sms-prison',
      '--patient',
      '9111231130',
      '--setting',
      'XPRS01',
      '--quiet',
    );
    expect(started.code).toBe(0);
    const caseId = started.stdout.trim();
    const shown = await eventually(
      'the unverified identity flag on the person',
      async () => (await cli('case', 'show', caseId)).stdout,
      (text) => text.includes('UNVERIFIED_IDENTITY'),
      { intervalMs: 500 },
    );
    expect(shown).toMatch(/Case [0-9a-f-]+: sms-prison active/);
    expect(shown).toMatch(/Person flags:\n {2}.*\(UNVERIFIED_IDENTITY\)/);
    const json = JSON.parse((await cli('case', 'show', caseId, '--json')).stdout) as {
      flags: { code: string }[];
    };
    expect(json.flags.map((f) => f.code)).toContain('UNVERIFIED_IDENTITY');
  });
});
