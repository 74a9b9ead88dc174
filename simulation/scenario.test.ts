import fs from 'node:fs';
import path from 'node:path';
import { ValidationError } from '../domain/errors';
import { PATHWAYS_DIRECTORY } from '../pathways';
import { validateScenario, withPlaceholders } from './scenario';

const SCENARIOS = path.join(PATHWAYS_DIRECTORY, 'scenarios');

const base = {
  pathway: 'sms-prison',
  start: '2027-03-01T14:10:00Z',
  steps: [{ advance: 'P1D' }],
};

/** The problems validateScenario names for `scenario`, as `pointer: detail`. */
function problemsOf(scenario: unknown): string[] {
  try {
    validateScenario(scenario);
  } catch (error) {
    if (error instanceof ValidationError) return error.problems.map((p) => `${p.pointer}: ${p.detail}`);
    throw error;
  }
  return [];
}

describe('scenario files', () => {
  it.each(fs.readdirSync(SCENARIOS).filter((f) => f.endsWith('.scenario.json')))('accepts the shipped %s', (file) => {
    expect(problemsOf(JSON.parse(fs.readFileSync(path.join(SCENARIOS, file), 'utf8')))).toEqual([]);
  });

  it('accepts the smallest scenario', () => {
    expect(validateScenario(base)).toEqual(base);
  });

  it('names each missing or unknown field by JSON Pointer', () => {
    expect(problemsOf({ start: 'soon', steps: [], extra: 1 })).toEqual([
      '/pathway: is required',
      '/extra: is not a field of a scenario here',
      '/start: must match format "date-time"',
      '/steps: must NOT have fewer than 1 items',
    ]);
  });

  it('names a step field that is not one, and a step with two actions', () => {
    expect(
      problemsOf({ ...base, steps: [{ advanc: 'P1D' }, { advance: 'P1D', advanceTo: '2027-03-09T00:00:00Z' }] }),
    ).toEqual([
      '/steps/0/advanc: is not a field of a scenario here',
      '/steps/1: a step is exactly one of complete, message, advance, advanceTo, expectTask, expectNotice, expectEnded',
    ]);
  });

  it('names the missing task of a completion and an expectation, and a notice kind that is not one', () => {
    expect(
      problemsOf({
        ...base,
        steps: [
          { complete: { example: 'sms-review' } },
          { expectTask: { dueAt: '2027-03-06T23:59:59Z' } },
          { expectNotice: { to: 'sms-team-lead', kind: 'late' } },
        ],
      }),
    ).toEqual([
      '/steps/0/complete/task: is required',
      '/steps/1/expectTask/task: is required',
      '/steps/2/expectNotice/kind: must be one of "reminder", "overdue", "escalation", "alert", "emergency", "handover", "information"',
    ]);
  });

  it('refuses a duration that is not ISO 8601 by its shape first', () => {
    expect(problemsOf({ ...base, steps: [{ advance: 'five days' }] })).toEqual([
      '/steps/0/advance: must match pattern "^P"',
    ]);
  });

  it('checks what a schema cannot once the shape is right: durations, forms, answers left out', () => {
    expect(
      problemsOf({
        ...base,
        steps: [
          { advance: 'PXD' },
          { complete: { task: 'FiveDayReview', example: 'sms-reveiw' } },
          { complete: { task: 'FiveDayReview', data: {}, unset: ['reviewedOn'] } },
          { message: { name: 'prison.recall', timeToLive: 'P' } },
        ],
      }),
    ).toEqual([
      "/steps/0/advance: must be an ISO 8601 duration such as P5D or PT2H, not 'PXD'",
      '/steps/1/complete/example: no form sms-reveiw is installed',
      '/steps/2/complete/unset: leaves out answers of an example: name the example',
      '/steps/3/message/timeToLive: must be an ISO 8601 duration such as P1D',
    ]);
  });

  it('refuses a clock that goes back: advanceTo before the start, or before where earlier steps took it', () => {
    expect(
      problemsOf({
        ...base,
        steps: [
          { advanceTo: '2027-03-01T09:00:00Z' },
          { advance: 'P7D' },
          { advanceTo: '2027-03-05T00:00:00Z' },
          { advanceTo: '2027-03-09T00:00:00Z' },
        ],
      }),
    ).toEqual([
      '/steps/0/advanceTo: is earlier than the start or a step before it: the clock only moves on',
      '/steps/2/advanceTo: is earlier than the start or a step before it: the clock only moves on',
    ]);
  });

  it('refuses what is not an object', () => {
    expect(problemsOf([base])).toEqual([': must be object']);
  });
});

describe('placeholders', () => {
  it('stands $caseId and $now for whole string values at any depth, and leaves other text alone', () => {
    expect(
      withPlaceholders(
        { key: '$caseId', at: '$now', list: ['$now', 'x $now'], nested: { id: '$caseId', n: 1, none: null } },
        { caseId: 'c-1', now: '2027-03-01T14:10:00.000Z' },
      ),
    ).toEqual({
      key: 'c-1',
      at: '2027-03-01T14:10:00.000Z',
      list: ['2027-03-01T14:10:00.000Z', 'x $now'],
      nested: { id: 'c-1', n: 1, none: null },
    });
  });
});
