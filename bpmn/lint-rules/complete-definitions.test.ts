import { lintWithRule } from './rule-testing';

describe('throughcare/complete-definitions', () => {
  it('finds nothing in the valid fixture', async () => {
    expect(await lintWithRule('complete-definitions', 'valid')).toEqual([]);
  });

  it('reports a message event whose message has no correlation key, with its name and a fix', async () => {
    const findings = await lintWithRule('complete-definitions', 'invalid');

    expect(findings).toEqual([
      expect.objectContaining({
        id: 'Work',
        name: 'Recalled',
        rule: 'throughcare/complete-definitions',
        severity: 'error',
        message: expect.stringContaining('no correlation key'),
        fix: expect.stringContaining('correlation key'),
      }),
    ]);
  });
});
