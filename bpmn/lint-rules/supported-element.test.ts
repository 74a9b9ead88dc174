import { lintWithRule } from './rule-testing';

describe('throughcare/supported-element', () => {
  it('finds nothing in the valid fixture', async () => {
    expect(await lintWithRule('supported-element', 'valid')).toEqual([]);
  });

  it('reports the offending element with its name and a fix', async () => {
    const findings = await lintWithRule('supported-element', 'invalid');

    expect(findings).toHaveLength(2);
    expect(findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          id: 'Work',
          rule: 'throughcare/supported-element',
          severity: 'error',
          message: expect.stringContaining('script task is not executed'),
        }),
        // It would otherwise run once where the modeller asked for one run per item.
        expect.objectContaining({
          id: 'Visits',
          rule: 'throughcare/supported-element',
          severity: 'error',
          message: expect.stringContaining('multi-instance'),
        }),
      ]),
    );
    for (const finding of findings) {
      expect(finding.name).toBeTruthy();
      expect(finding.fix).toBeTruthy();
    }
  });
});
