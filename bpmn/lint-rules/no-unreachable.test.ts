import { lintWithRule } from './rule-testing';

describe('throughcare/no-unreachable', () => {
  it('finds nothing in the valid fixture', async () => {
    expect(await lintWithRule('no-unreachable', 'valid')).toEqual([]);
  });

  it('reports the offending element with its name and a fix', async () => {
    const findings = await lintWithRule('no-unreachable', 'invalid');

    expect(findings).toEqual([
      expect.objectContaining({
        id: 'Orphan',
        rule: 'throughcare/no-unreachable',
        severity: 'error',
        message: expect.stringContaining('cannot be reached'),
      }),
    ]);
    expect(findings[0]?.name).toBeTruthy();
    expect(findings[0]?.fix).toBeTruthy();
  });
});
