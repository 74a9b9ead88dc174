import { lintWithRule } from './rule-testing';

describe('throughcare/supported-element', () => {
  it('finds nothing in the valid fixture', async () => {
    expect(await lintWithRule('supported-element', 'valid')).toEqual([]);
  });

  it('reports the offending element with its name and a fix', async () => {
    const findings = await lintWithRule('supported-element', 'invalid');

    expect(findings).toEqual([
      expect.objectContaining({
        id: 'Work',
        rule: 'throughcare/supported-element',
        severity: 'error',
        message: expect.stringContaining('script task is not executed'),
      }),
    ]);
    expect(findings[0]?.name).toBeTruthy();
    expect(findings[0]?.fix).toBeTruthy();
  });
});
