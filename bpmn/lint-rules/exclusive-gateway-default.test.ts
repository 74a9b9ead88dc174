import { lintWithRule } from './rule-testing';

describe('throughcare/exclusive-gateway-default', () => {
  it('finds nothing in the valid fixture', async () => {
    expect(await lintWithRule('exclusive-gateway-default', 'valid')).toEqual([]);
  });

  it('reports the offending element with its name and a fix', async () => {
    const findings = await lintWithRule('exclusive-gateway-default', 'invalid');

    expect(findings).toEqual([
      expect.objectContaining({
        id: 'Work',
        rule: 'throughcare/exclusive-gateway-default',
        severity: 'warning',
        message: expect.stringContaining('no default flow'),
      }),
    ]);
    expect(findings[0]?.name).toBeTruthy();
    expect(findings[0]?.fix).toBeTruthy();
  });
});
