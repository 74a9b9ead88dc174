/**
 * Stuck signals: what the ops console finds stuck cases by, kept on each case's workflow as typed search attributes
 * (through `upsertSearchAttributes`, so the same queries run on a Temporal cluster). Nothing here identifies a
 * person: ids of pathways, elements and settings, instants, counts and error types only. Pure and deterministic.
 *
 * The console's views are List Filter queries over these (engine/ops.ts):
 * - failing: `FailingAttempts >= N OR OpenIncidentCount > 0`, or a failed case;
 * - overdue: `OverdueFrom < NOW()`;
 * - idle: nothing to do for a person and nothing planned, and no move since `WaitingSince`;
 * - waiting for a message: `MessageWaitSince` longer ago than the expected wait.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

import type { PathwayState } from './types';

export const STUCK_SIGNAL_KEYS = {
  /** The BPMN process id of the pathway (e.g. `sms-prison`). */
  PathwayId: defineSearchAttributeKey('PathwayId', SearchAttributeType.KEYWORD),
  /** The deployed version number the case runs (pinned at its start). */
  PathwayVersion: defineSearchAttributeKey('PathwayVersion', SearchAttributeType.INT),
  /** The ODS code of the setting the case belongs to now. */
  CaseSetting: defineSearchAttributeKey('CaseSetting', SearchAttributeType.KEYWORD),
  /** The BPMN element ids where the case's tokens are. */
  CurrentElements: defineSearchAttributeKey('CurrentElements', SearchAttributeType.KEYWORD_LIST),
  /** When the case last moved: the latest instant one of its current elements was entered. */
  WaitingSince: defineSearchAttributeKey('WaitingSince', SearchAttributeType.DATETIME),
  /** The next instant something is due: a timer or an open task's due date. */
  NextDueAt: defineSearchAttributeKey('NextDueAt', SearchAttributeType.DATETIME),
  /** The earliest due date of its open tasks: the case is overdue from then on. */
  OverdueFrom: defineSearchAttributeKey('OverdueFrom', SearchAttributeType.DATETIME),
  OpenTaskCount: defineSearchAttributeKey('OpenTaskCount', SearchAttributeType.INT),
  OpenIncidentCount: defineSearchAttributeKey('OpenIncidentCount', SearchAttributeType.INT),
  /** The most attempts of an activity still failing (reported by the worker), 0 when none is. */
  FailingAttempts: defineSearchAttributeKey('FailingAttempts', SearchAttributeType.INT),
  /** The error type of the latest failure: a failing activity's, else an open incident's error code. */
  LastErrorType: defineSearchAttributeKey('LastErrorType', SearchAttributeType.KEYWORD),
  /** Since when the case has waited for a message (set only while it waits for one). */
  MessageWaitSince: defineSearchAttributeKey('MessageWaitSince', SearchAttributeType.DATETIME),
} as const;

export type StuckSignalName = keyof typeof STUCK_SIGNAL_KEYS;

/** The attributes to register in a namespace, by name and type (OperatorService AddSearchAttributes). */
export const STUCK_SIGNAL_TYPES: Readonly<Record<StuckSignalName, SearchAttributeType>> = Object.fromEntries(
  Object.entries(STUCK_SIGNAL_KEYS).map(([name, key]) => [name, key.type]),
) as Record<StuckSignalName, SearchAttributeType>;

/** An activity the worker reported failing again and again, by activity type (see `activityFailing`). */
export interface FailingActivity {
  readonly attempts: number;
  readonly errorType: string;
  readonly reportedAt: string;
}

/** The signal the worker sends a run when one of its activities failed an attempt and will be retried. */
export const ACTIVITY_FAILING_SIGNAL = 'activityFailing';
export interface ActivityFailingInput {
  readonly activityType: string;
  readonly attempt: number;
  readonly errorType: string;
}

export type StuckSignalValue = string | number | string[] | null;
/** Each attribute's value: ISO instants for datetimes, null when it does not apply (removes it). */
export type StuckSignals = Record<StuckSignalName, StuckSignalValue>;

export interface StuckSignalInput {
  readonly state: PathwayState;
  /** `<pathway id>@<version>`, as engine/cases.ts sets it; absent in cases started before versions were tracked. */
  readonly pathwayVersionId?: string;
  readonly failing: ReadonlyMap<string, FailingActivity>;
  /** The case's setting: its `settingOdsCode` variable, or for a child pathway its parent's. */
  readonly caseSetting?: string;
}

function versionOf(pathwayVersionId: string | undefined): number | null {
  const match = /@(\d+)$/.exec(pathwayVersionId ?? '');
  return match ? Number(match[1]) : null;
}

function earliest(instants: readonly string[]): string | null {
  let first: string | null = null;
  for (const instant of instants) if (first === null || instant < first) first = instant;
  return first;
}

function latest(instants: readonly string[]): string | null {
  let last: string | null = null;
  for (const instant of instants) if (last === null || instant > last) last = instant;
  return last;
}

export function stuckSignals({ state, pathwayVersionId, failing, caseSetting }: StuckSignalInput): StuckSignals {
  const instances = Object.values(state.instances);
  const taskDues: string[] = [];
  let openTasks = 0;
  for (const instance of instances) {
    if (instance.wait.type !== 'userTask') continue;
    openTasks += 1;
    if (instance.wait.dueDate) taskDues.push(instance.wait.dueDate);
  }
  const openIncidents = Object.values(state.incidents ?? {}).filter((incident) => !incident.resolution);
  const failures = [...failing.values()];
  const lastFailure = failures.reduce<FailingActivity | undefined>(
    (last, failure) => (!last || failure.reportedAt >= last.reportedAt ? failure : last),
    undefined,
  );
  const lastIncident = openIncidents.reduce<(typeof openIncidents)[number] | undefined>(
    (last, incident) => (!last || incident.raisedAt >= last.raisedAt ? incident : last),
    undefined,
  );
  const waitingSince = latest(instances.map((instance) => instance.enteredAt));
  const subscriptions = Object.values(state.subscriptions);
  const active = state.status === 'active';
  return {
    PathwayId: state.processId,
    PathwayVersion: versionOf(pathwayVersionId),
    CaseSetting: caseSetting ?? null,
    CurrentElements: instances.length > 0 ? [...new Set(instances.map((instance) => instance.elementId))].sort() : null,
    WaitingSince: active ? waitingSince : null,
    NextDueAt: active ? earliest([...taskDues, ...Object.values(state.timers).map((timer) => timer.dueAt)]) : null,
    OverdueFrom: active ? earliest(taskDues) : null,
    OpenTaskCount: openTasks,
    OpenIncidentCount: openIncidents.length,
    FailingAttempts: failures.reduce((most, failure) => Math.max(most, failure.attempts), 0),
    LastErrorType: lastFailure?.errorType ?? lastIncident?.errorCode ?? null,
    MessageWaitSince:
      active && subscriptions.length > 0
        ? latest(subscriptions.map((s) => state.instances[s.ownerId]?.enteredAt ?? waitingSince ?? state.startedAt))
        : null,
  };
}

/** The attributes whose value changed since `previous` (all of them when there is none). */
export function changedSignals(previous: StuckSignals | undefined, next: StuckSignals): Partial<StuckSignals> {
  const changed: Partial<StuckSignals> = {};
  for (const name of Object.keys(next) as StuckSignalName[]) {
    if (JSON.stringify(previous?.[name] ?? null) !== JSON.stringify(next[name])) changed[name] = next[name];
  }
  return changed;
}
