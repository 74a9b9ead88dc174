import { lintWithRule } from './rule-testing';

describe('throughcare/feel-syntax', () => {
  it('finds nothing in the valid fixture', async () => {
    expect(await lintWithRule('feel-syntax', 'valid')).toEqual([]);
  });

  it('reports the offending element with its name and a fix', async () => {
    const findings = await lintWithRule('feel-syntax', 'invalid');

    expect(findings).toEqual([
      expect.objectContaining({
        id: 'Work',
        rule: 'throughcare/feel-syntax',
        severity: 'error',
        message: expect.stringContaining('is not valid FEEL'),
      }),
    ]);
    expect(findings[0]?.name).toBeTruthy();
    expect(findings[0]?.fix).toBeTruthy();
  });
});
