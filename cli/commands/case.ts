/** `throughcare case`: start, show, message and terminate cases through the API, as the person signed in. */
import type { Command } from 'commander';
import { parseIsoDuration } from '../../bpmn';
import {
  workflowIdOf,
  type IncidentSummary,
  type MessageCaseResult,
  type StartedCase,
  type TaskSummary,
  type TerminatedCase,
  type WorklistItem,
} from '../../engine';
import type { PatientFlagView } from '../../store';
import type { PathwayView } from '../../workflows';
import { overdueMarker } from './task';
import { apiClient, withApiOptions, type ApiOptions } from '../api-client';
import { CommandFailure, EXIT, commandContext, print } from '../context';
import { parseJsonObject } from '../engine';

/** A case as GET /api/v1/cases/{caseId} answers it. */
interface CaseDetail {
  readonly case: { readonly caseId: string; readonly pathwayId: string };
  readonly executionStatus: string;
  readonly pathwayStatus: string;
  readonly failure?: { readonly type?: string; readonly message: string };
  readonly termination?: NonNullable<PathwayView['termination']>;
  readonly error?: NonNullable<PathwayView['error']>;
  readonly flags: readonly PatientFlagView[];
  readonly openTasks: readonly WorklistItem[];
  readonly plannedWork: readonly WorklistItem[];
  readonly pendingTimers: PathwayView['pendingTimers'];
  readonly waitingFor: PathwayView['messageSubscriptions'];
  readonly keptMessages: PathwayView['bufferedMessages'];
  readonly incidents: readonly IncidentSummary[];
  readonly variables: Record<string, unknown>;
  readonly trail: PathwayView['trail'];
}

export function registerCase(program: Command): void {
  const cases = program
    .command('case')
    .description(
      'Start cases, see where they are, and send them messages, through the Throughcare API (THROUGHCARE_URL, THROUGHCARE_TOKEN)',
    );

  withApiOptions(
    cases.command('start <pathwayId>').description('Start a case of a deployed pathway for a person in a setting'),
  )
    .requiredOption('--patient <nhsNumber>', 'the person’s NHS number')
    .requiredOption(
      '--setting <odsCode>',
      'ODS code of the setting (development installs have XCUS01, XCRT01, XPRS01, XCOM01)',
    )
    .option('--version <n>', 'pathway version (default: the latest)')
    .option(
      '--vars <json>',
      'start variables as a JSON object (or @FILE, or - for standard input), e.g. \'{"receptionDate":"2026-11-23T09:00:00Z"}\'; checked against the pathway\'s start form',
    )
    .option('--json', 'print JSON')
    .option('-q, --quiet', 'print only the case id (for scripts: CASE_ID=$(throughcare case start … --quiet))')
    .action(
      async (
        pathwayId: string,
        options: ApiOptions & {
          patient: string;
          setting: string;
          version?: string;
          vars?: string;
          json?: boolean;
          quiet?: boolean;
        },
      ) => {
        const variables = parseJsonObject('--vars', options.vars);
        const version = parseVersion(options.version);
        const api = await apiClient(commandContext(), options);
        const started = await api.request<StartedCase>('POST', '/cases', {
          json: {
            pathway: pathwayId,
            ...(version !== undefined ? { version } : {}),
            nhsNumber: options.patient,
            settingOdsCode: options.setting,
            variables,
          },
        });
        if (options.json) return print(JSON.stringify(started, null, 2));
        print(
          options.quiet ? started.caseId : `Started case ${started.caseId} (${started.pathwayId} v${started.version})`,
        );
      },
    );

  withApiOptions(
    cases
      .command('show <caseId>')
      .description(
        'Show where a case is: status, active elements, open tasks with due dates, pending timers, variables and the trail',
      ),
  )
    .option('--json', 'print JSON')
    .action(async (caseId: string, options: ApiOptions & { json?: boolean }) => {
      const api = await apiClient(commandContext(), options);
      const view = await api.request<CaseDetail>('GET', `/cases/${encodeURIComponent(caseId)}`);
      if (options.json) return print(JSON.stringify(view, null, 2));
      const variables = Object.keys(view.variables).sort();
      print(
        [
          `Case ${caseId}: ${view.case.pathwayId} ${view.pathwayStatus} (workflow ${view.executionStatus.toLowerCase()})`,
          ...(view.failure
            ? [`Failed: ${view.failure.message}${view.failure.type ? ` (${view.failure.type})` : ''}`]
            : []),
          ...(view.error && !view.failure
            ? [
                `Error: ${view.error.message} (${view.error.code}${view.error.elementId ? ` at ${view.error.elementId}` : ''})`,
              ]
            : []),
          ...(view.termination
            ? [`Terminated by ${view.termination.terminatedBy} at ${view.termination.at}: ${view.termination.reason}`]
            : []),
          ...(view.flags.length ? ['Person flags:'] : []),
          ...view.flags.map((f) => `  ${f.severity === 'warning' ? 'WARNING ' : ''}${f.display} (${f.code})`),
          ...openIncidentLines(view.incidents),
          `Open tasks:${view.openTasks.length ? '' : ' none'}`,
          // The worklist's ids: the ones `task complete` takes.
          ...view.openTasks.map((t) => `  ${t.taskId}  ${t.name}${t.dueAt ? `  due ${t.dueAt}` : ''}`),
          ...plannedLines(view.plannedWork),
          `Pending timers:${view.pendingTimers.length ? '' : ' none'}`,
          ...view.pendingTimers.map((t) => `  ${t.name ?? t.elementId}  fires ${t.dueAt}`),
          `Waiting for messages:${view.waitingFor.length ? '' : ' none'}`,
          ...view.waitingFor.map((m) => `  ${m.messageName} (key ${m.correlationKey}) at ${m.elementId}`),
          ...(view.keptMessages.length ? ['Messages kept until the case can catch them:'] : []),
          ...view.keptMessages.map(
            (m) => `  ${m.messageName} (key ${m.correlationKey}) received ${m.receivedAt}, expires ${m.expiresAt}`,
          ),
          `Variables:${variables.length ? '' : ' none'}`,
          ...variables.map((name) => `  ${name} = ${abbreviate(JSON.stringify(view.variables[name]))}`),
          `Trail:`,
          ...view.trail.map((e) => `  ${e.enteredAt}  ${e.name ?? e.elementId}${e.outcome ? `  ${e.outcome}` : ''}`),
        ].join('\n'),
      );
    });

  withApiOptions(
    cases
      .command('terminate <caseId>')
      .description(
        'End a case early, with the reason: its open tasks and incidents are withdrawn (closed as cancelled with the reason), the case is closed and the reason recorded',
      ),
  )
    .requiredOption('--reason <text>', 'why the case ends here (kept with the case, its tasks and the audit trail)')
    .option('--json', 'print JSON')
    .action(async (caseId: string, options: ApiOptions & { reason: string; json?: boolean }) => {
      const api = await apiClient(commandContext(), options);
      const terminated = await api.request<TerminatedCase>('POST', `/cases/${encodeURIComponent(caseId)}/terminate`, {
        json: { reason: options.reason },
      });
      print(
        options.json
          ? JSON.stringify(terminated, null, 2)
          : `Terminated case ${caseId} at ${terminated.terminatedAt}: ${terminated.reason}`,
      );
    });

  withApiOptions(
    cases
      .command('message <caseId> <messageName>')
      .description(
        'Deliver a message (recall, transfer, appointment outcome, ...) to a case: caught now when the case waits for it, else kept until it does or the message expires',
      ),
  )
    .option('--key <correlationKey>', 'correlation key (default: the case id)')
    .option('--vars <json>', 'variables carried by the message, as a JSON object (or @FILE, or - for standard input)')
    .option(
      '--ttl <duration>',
      'how long to keep it when the case is not waiting for it yet, as an ISO 8601 duration (default P1D, 24 hours; PT0S: only if it waits now)',
    )
    .option('--json', 'print JSON')
    .action(
      async (
        caseId: string,
        messageName: string,
        options: ApiOptions & { key?: string; vars?: string; ttl?: string; json?: boolean },
      ) => {
        const variables = parseJsonObject('--vars', options.vars);
        if (options.ttl !== undefined && !parseIsoDuration(options.ttl)) {
          throw new CommandFailure(
            `--ttl must be an ISO 8601 duration such as PT30M, PT12H or P2D, not '${options.ttl}'`,
            EXIT.usage,
          );
        }
        const api = await apiClient(commandContext(), options);
        const result = await api.request<MessageCaseResult>('POST', `/cases/${encodeURIComponent(caseId)}/messages`, {
          json: {
            name: messageName,
            ...(options.key !== undefined ? { correlationKey: options.key } : {}),
            variables,
            ...(options.ttl !== undefined ? { timeToLive: options.ttl } : {}),
          },
        });
        print(options.json ? JSON.stringify(result, null, 2) : describeDelivery(result));
      },
    );
}

/**
 * The incidents the case waits on, each with its id, which is the id of the task that resolves it
 * (`task complete ID --data '{"action":"retry"}'`).
 */
function openIncidentLines(incidents: readonly IncidentSummary[]): string[] {
  if (incidents.length === 0) return [];
  return [
    `Open incidents (resolve with task complete ID --data: "action" retry, skip with a "reason", or correct-and-retry with "variables"):`,
    ...incidents.map(
      (i) =>
        `  ${i.incidentId}  ${i.elementName ?? i.elementId}: ${i.errorCode} ${i.message}` +
        ` (raised ${i.raisedAt}${i.attempts !== null ? `, ${i.attempts} attempts` : ''})`,
    ),
  ];
}

/** Planned work: the milestones the pathway will open later, soonest due first, with an overdue marker. */
function plannedLines(planned: readonly TaskSummary[]): string[] {
  if (planned.length === 0) return [];
  const now = Date.now();
  return [
    'Planned work (opens when the pathway reaches it):',
    ...planned.map(
      (t) =>
        `  ${t.name}${t.dueAt ? `  due ${t.dueAt}` : ''}${overdueMarker(t, now)}  [${t.candidateGroups.join(', ')}]`,
    ),
  ];
}

/** One line per workflow of the case that caught or kept the message; child pathways are named. */
function describeDelivery(result: MessageCaseResult): string {
  const { caseId, messageName } = result;
  const rootId = workflowIdOf(caseId);
  return result.deliveries
    .flatMap((d) => {
      const where = d.workflowId === rootId || !('processId' in d) ? '' : ` in ${d.processId}`;
      if (d.outcome === 'correlated')
        return [
          `Delivered ${messageName} to case ${caseId}: caught by ${d.name ?? d.elementId} (${d.elementId})${where}`,
        ];
      if (d.outcome !== 'buffered') return [];
      const names = [...new Set(d.catchEvents.map((c) => `${c.name ?? c.elementId} (${c.elementId})`))];
      const reaches = names.length > 0 ? names.join(' or ') : `a catch event for ${messageName}`;
      return [
        `Kept ${messageName} for case ${caseId}${where}: it is not waiting for it yet; it will be delivered when the case reaches ${reaches}, unless it expires at ${d.expiresAt}`,
      ];
    })
    .join('\n');
}

/** One variable on one line: long values are cut (`--json` shows them whole). */
function abbreviate(text: string | undefined, width = 100): string {
  if (text === undefined) return 'undefined';
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

/** `--version N`: a whole number from 1, or undefined for the latest. */
function parseVersion(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(text))
    throw new CommandFailure(`--version must be a whole number from 1, not '${text}'`, EXIT.usage);
  return Number(text);
}
