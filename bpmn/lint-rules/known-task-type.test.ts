import { lintWithRule } from './rule-testing';

describe('throughcare/known-task-type', () => {
  it('finds nothing in the valid fixture', async () => {
    expect(await lintWithRule('known-task-type', 'valid', { taskTypes: ['notify-team'] })).toEqual([]);
  });

  it('reports the offending element with its name and a fix', async () => {
    const findings = await lintWithRule('known-task-type', 'invalid', { taskTypes: ['notify-team'] });

    expect(findings).toEqual([
      expect.objectContaining({
        id: 'Work',
        rule: 'throughcare/known-task-type',
        severity: 'error',
        message: expect.stringContaining("'send-fax' is not a known activity"),
      }),
    ]);
    expect(findings[0]?.name).toBeTruthy();
    expect(findings[0]?.fix).toBeTruthy();
  });
});
