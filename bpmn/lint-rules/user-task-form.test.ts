import { lintWithRule } from './rule-testing';

describe('throughcare/user-task-form', () => {
  it('finds nothing in the valid fixture', async () => {
    expect(await lintWithRule('user-task-form', 'valid', { formIds: ['assessment'] })).toEqual([]);
  });

  it('reports the offending element with its name and a fix', async () => {
    const findings = await lintWithRule('user-task-form', 'invalid', { formIds: ['assessment'] });

    expect(findings).toEqual([
      expect.objectContaining({
        id: 'Work',
        rule: 'throughcare/user-task-form',
        severity: 'error',
        message: expect.stringContaining('has no form'),
      }),
    ]);
    expect(findings[0]?.name).toBeTruthy();
    expect(findings[0]?.fix).toBeTruthy();
  });
});

describe('throughcare/user-task-form with known forms', () => {
  it('reports a form id that is not published', async () => {
    const findings = await lintWithRule('user-task-form', 'valid', { formIds: ['another-form'] });

    expect(findings).toEqual([
      expect.objectContaining({ id: 'Work', message: expect.stringContaining("'assessment' is not a known form") }),
    ]);
  });
});
