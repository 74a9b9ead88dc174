/**
 * Replays every recorded pathway history (test/fixtures/histories/*.json, written by the scenario tests when
 * run with THROUGHCARE_RECORD_HISTORIES=1)
 * against the current workflow code, so a change that makes `runPathway` behave differently on replay
 * (a new command, a reordered timer, a renamed activity) fails here instead of on running cases.
 *
 * `incident-before-patch-fails-case.json` was recorded before incidents (the `incidents` patch), from
 * test/fixtures/bpmn/referral-with-care-plan.bpmn with a referral activity that failed every attempt: that case
 * failed, and it must still fail on replay, where a case started today raises an incident instead. It cannot be
 * re-recorded (today's code would not fail), so it is kept as it is.
 *
 * `sms-prison-five-day-review.json` was recorded before a completion's answer waited for its steps to settle
 * (the `settle-before-answer` patch) and `sms-prison-five-day-review-settled.json` after: the same scenario,
 * kept both ways, so running cases of either kind replay. Re-recording rewrites the first with the patch:
 * restore it from git afterwards.
 */
import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { installQuietRuntime } from '../support/sdk-runtime';

const HISTORIES = path.join(__dirname, '..', 'fixtures', 'histories');
const fixtures = fs.existsSync(HISTORIES)
  ? fs
      .readdirSync(HISTORIES)
      .filter((f) => f.endsWith('.json'))
      .sort()
  : [];

/** A fixture is the history as protobufjs serialises it, plus the id of the workflow it was recorded under. */
function readFixture(file: string): { workflowId: string; history: temporal.api.history.v1.History } {
  const json = JSON.parse(fs.readFileSync(path.join(HISTORIES, file), 'utf8')) as { workflowId?: string };
  return {
    workflowId: json.workflowId ?? file.replace(/\.json$/, ''),
    history: temporal.api.history.v1.History.fromObject(json),
  };
}

describe('recorded pathway histories', () => {
  beforeAll(() => {
    installQuietRuntime();
  });

  it('has histories to replay', () => {
    expect(fixtures.length).toBeGreaterThan(0);
  });

  it('has a case that started before incidents and failed, to show it still ends on that path', () => {
    const { history } = readFixture('incident-before-patch-fails-case.json');
    const events = history.events ?? [];
    const last = events.at(-1);
    expect(last?.workflowExecutionFailedEventAttributes?.failure).toMatchObject({
      message: 'The referral service did not answer',
      applicationFailureInfo: { type: 'REFERRAL_UNAVAILABLE' },
    });
    // No incident was ever recorded: the case started before the patch, so replay takes the old path.
    expect(events.some((e) => e.markerRecordedEventAttributes)).toBe(false);
  });

  it('replays every history deterministically with the current workflow code', async () => {
    const histories = fixtures.map(readFixture);
    const names = new Map(histories.map((h, i) => [h.workflowId, fixtures[i]]));
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories(
      { workflowsPath: require.resolve('../../workflows'), replayName: 'pathway-histories' },
      histories,
    )) {
      if (result.error) failures.push(`${names.get(result.workflowId) ?? result.workflowId}: ${String(result.error)}`);
    }
    expect(failures).toEqual([]);
    expect(histories.every((h) => (h.history.events?.length ?? 0) > 0)).toBe(true);
  }, 120_000);
});
