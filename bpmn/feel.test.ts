import { evaluateFeel, evaluateValue, findFeelSyntaxError, resolveInstant, toPlainValue } from './feel';

const NOW = Date.parse('2026-03-02T09:00:00Z');

describe('FEEL for pathways', () => {
  it('accepts expressions that parse and describes the first syntax error of those that do not', () => {
    expect(findFeelSyntaxError('score >= 10 and risk = "high"')).toBeUndefined();
    expect(findFeelSyntaxError('now() + duration("P5D")')).toBeUndefined();
    expect(findFeelSyntaxError('score >=')).toMatch(/ends too early|unexpected/);
    expect(findFeelSyntaxError('duration("P5D"')).toBeDefined();
    expect(findFeelSyntaxError('')).toBe('the expression is empty');
  });

  it('answers now() and today() with the instant it is given, not the machine clock', () => {
    expect(toPlainValue(evaluateFeel('now()', {}, NOW))).toBe('2026-03-02T09:00:00.000Z');
    expect(toPlainValue(evaluateFeel('now() + duration("P5D")', {}, NOW))).toBe('2026-03-07T09:00:00.000Z');
    expect(String(evaluateFeel('today()', {}, NOW))).toContain('2026-03-02');
  });

  it('turns FEEL values into plain JSON', () => {
    expect(
      evaluateValue({ feel: '{due: date and time("2026-01-01T00:00:00Z"), wait: duration("P2D")}' }, {}, NOW),
    ).toEqual({
      due: '2026-01-01T00:00:00.000Z',
      wait: 'P2D',
    });
    expect(evaluateValue({ literal: 'sms-team' }, {}, NOW)).toBe('sms-team');
  });

  it('treats a missing variable as null, as Zeebe does', () => {
    expect(evaluateFeel('missing', {}, NOW)).toBeNull();
  });

  it('raises a coded error for a call to an unknown function', () => {
    expect(() => evaluateFeel('noSuchFunction(1)', {}, NOW)).toThrow(
      expect.objectContaining({ code: 'FEEL_EVALUATION_FAILED' }),
    );
  });

  it('reads due dates as date-times, dates or durations from now', () => {
    expect(resolveInstant('2026-03-05T10:00:00Z', NOW)).toBe(Date.parse('2026-03-05T10:00:00Z'));
    expect(resolveInstant('2026-03-05', NOW)).toBe(Date.parse('2026-03-05T00:00:00Z'));
    expect(resolveInstant('P2D', NOW)).toBe(Date.parse('2026-03-04T09:00:00Z'));
    expect(resolveInstant('soon', NOW)).toBeUndefined();
  });
});
