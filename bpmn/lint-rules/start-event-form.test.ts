import { lintWithRule } from './rule-testing';

describe('throughcare/start-event-form', () => {
  it('finds nothing in the valid fixture', async () => {
    expect(await lintWithRule('start-event-form', 'valid', { formIds: ['referral-start', 'assessment'] })).toEqual([]);
  });

  it('finds nothing when the known forms are not passed in', async () => {
    expect(await lintWithRule('start-event-form', 'valid')).toEqual([]);
  });

  it('reports a start form that is not published and one on a start event with a trigger', async () => {
    const findings = await lintWithRule('start-event-form', 'invalid', { formIds: ['referral-start'] });

    expect(findings).toEqual([
      expect.objectContaining({
        id: 'Start',
        name: 'Referred',
        rule: 'throughcare/start-event-form',
        severity: 'error',
        message: "Start form 'no-such-start' is not a known form",
      }),
      expect.objectContaining({
        id: 'Transferred',
        severity: 'error',
        message: expect.stringContaining('only a none start event can have a start form'),
      }),
    ]);
    expect(findings.every((finding) => finding.fix.length > 0)).toBe(true);
  });
});
