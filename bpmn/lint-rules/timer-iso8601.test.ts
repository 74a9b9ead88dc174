import { lintWithRule } from './rule-testing';

describe('throughcare/timer-iso8601', () => {
  it('finds nothing in the valid fixture', async () => {
    expect(await lintWithRule('timer-iso8601', 'valid')).toEqual([]);
  });

  it('reports the offending element with its name and a fix', async () => {
    const findings = await lintWithRule('timer-iso8601', 'invalid');

    expect(findings).toEqual([
      expect.objectContaining({
        id: 'Remind',
        rule: 'throughcare/timer-iso8601',
        severity: 'error',
        message: expect.stringContaining('not a valid ISO 8601 repeating interval'),
      }),
    ]);
    expect(findings[0]?.name).toBeTruthy();
    expect(findings[0]?.fix).toBeTruthy();
  });
});
