/** `throughcare pathway lint | deploy | list`, run as a person runs them, against a real PostgreSQL. */
import path from 'node:path';
import { runCli } from '../support/cli-process';
import { useFreshDatabase } from '../support/database';

const fixture = (name: string) => path.join(__dirname, '..', 'fixtures', 'bpmn', name);
const broken = path.join(__dirname, '..', '..', 'bpmn', 'fixtures', 'sequence.bpmn');

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

  it('refuses to deploy a pathway with lint errors', async () => {
    const run = runCli(['pathway', 'deploy', broken], env());
    expect(await run.exited()).toBe(1);
    expect(run.output()).toMatch(/Sequence has 2 lint error\(s\) and was not deployed/);
  });
});
