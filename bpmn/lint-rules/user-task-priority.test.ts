import { lintWithRule } from './rule-testing';

describe('throughcare/user-task-priority', () => {
  it('finds nothing in the valid fixture: 0, 100, a FEEL priority and none at all', async () => {
    expect(await lintWithRule('user-task-priority', 'valid')).toEqual([]);
  });

  it('reports a literal priority above 100, below 0, with a fraction or in words, with the task and a fix', async () => {
    const findings = await lintWithRule('user-task-priority', 'invalid');

    expect(findings.map((finding) => [finding.id, finding.name])).toEqual([
      ['Fraction', 'Not a whole number'],
      ['Negative', 'Below the range'],
      ['TooHigh', 'Above the range'],
      ['Word', 'A word'],
    ]);
    expect(findings[2]).toMatchObject({
      rule: 'throughcare/user-task-priority',
      severity: 'error',
      message: "User task priority '101' is not a whole number from 0 to 100",
      fix: expect.stringContaining('whole number from 0 to 100'),
    });
  });
});
