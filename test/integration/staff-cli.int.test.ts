/** `throughcare staff add | list`, run as a person runs them, against a real PostgreSQL. */
import { Client } from 'pg';
import { runCli } from '../support/cli-process';
import { useFreshDatabase } from '../support/database';

describe('throughcare staff', () => {
  const db = useFreshDatabase('staff_cli');
  const env = () => ({ DATABASE_URL: db.url, LOG_LEVEL: 'warn' });

  beforeAll(async () => {
    expect(await runCli(['migrate'], env()).exited()).toBe(0);
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query(
        `insert into settings (id, ods_code, name, kind, prison_type) values
           (gen_random_uuid(), 'XPRS01', 'Demo prison', 'prison', 'HMP'),
           (gen_random_uuid(), 'XCUS01', 'Demo custody suite', 'custody_suite', null)`,
      );
    } finally {
      await client.end();
    }
  }, 60_000);

  it('adds a member of staff with duties and settings, and the same command again only updates', async () => {
    const args = [
      'staff',
      'add',
      '--name',
      'Morgan Lead',
      '--email',
      'morgan.lead@nhs.test',
      '--duty',
      'sms-team-lead',
      'sms-clinical-lead',
      '--setting',
      'XPRS01',
    ];
    const first = runCli(args, env());
    expect(await first.exited()).toBe(0);
    expect(first.stdout()).toContain(
      'Added Morgan Lead <morgan.lead@nhs.test>  duties: sms-team-lead, sms-clinical-lead  settings: XPRS01',
    );
    const again = runCli([...args, 'XCUS01'], env());
    expect(await again.exited()).toBe(0);
    expect(again.stdout()).toContain('Updated Morgan Lead');

    const sergeant = runCli(
      [
        'staff',
        'add',
        '--name',
        'Chris Sergeant',
        '--email',
        'chris@police.test',
        '--duty',
        'custody-sergeant',
        '--setting',
        'XCUS01',
      ],
      env(),
    );
    expect(await sergeant.exited()).toBe(0);

    const list = runCli(['staff', 'list', '--setting', 'XPRS01', '--json'], env());
    expect(await list.exited()).toBe(0);
    expect(JSON.parse(list.stdout())).toEqual([
      expect.objectContaining({
        name: 'Morgan Lead',
        email: 'morgan.lead@nhs.test',
        duties: ['sms-team-lead', 'sms-clinical-lead'],
        settings: ['XCUS01', 'XPRS01'],
        roles: ['clinician'],
        active: true,
      }),
    ]);
    const custody = runCli(['staff', 'list', '--setting', 'XCUS01'], env());
    expect(await custody.exited()).toBe(0);
    expect(custody.stdout().trim().split('\n')).toEqual([
      'Chris Sergeant <chris@police.test>  duties: custody-sergeant  settings: XCUS01',
      'Morgan Lead <morgan.lead@nhs.test>  duties: sms-team-lead, sms-clinical-lead  settings: XCUS01, XPRS01',
    ]);
  }, 60_000);

  it('names each problem with what it was given, and an unknown setting', async () => {
    const bad = runCli(
      [
        'staff',
        'add',
        '--name',
        'Sam Patel',
        '--email',
        'sam',
        '--duty',
        'Team Lead',
        'keyworker',
        '--setting',
        'XPRS01',
      ],
      env(),
    );
    expect(await bad.exited()).toBe(1);
    expect(bad.output()).toContain('/email: give an email address notices can be sent to');
    expect(bad.output()).toContain("/duties/0: 'Team Lead' is not a duty name");
    expect(bad.output()).toContain('/duties/1: keyworker is not held as a duty');

    const nowhere = runCli(
      ['staff', 'add', '--name', 'Sam Patel', '--email', 'sam@nhs.test', '--setting', 'NOPE01', '--json'],
      env(),
    );
    expect(await nowhere.exited()).toBe(1);
    expect(JSON.parse(nowhere.stdout())).toEqual({
      error: { code: 'NOT_FOUND', message: 'No setting with ODS code NOPE01' },
    });
  }, 60_000);
});
