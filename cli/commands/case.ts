import os from 'node:os';
import type { Command } from 'commander';
import { messageCase, showCase, startCase } from '../../engine/cases';
import { commandContext, print } from '../context';
import { parseJsonObject, withCaseEngine } from '../engine';

export function registerCase(program: Command): void {
  const cases = program
    .command('case')
    .description('Start cases, see where they are, and send them messages (needs a running Throughcare)');

  cases
    .command('start <pathwayId>')
    .description('Start a case of a deployed pathway for a person in a setting')
    .requiredOption('--patient <nhsNumber>', 'the person’s NHS number')
    .requiredOption(
      '--setting <odsCode>',
      'ODS code of the setting (development installs have XCUS01, XCRT01, XPRS01, XCOM01)',
    )
    .option('--version <n>', 'pathway version (default: the latest)')
    .option('--vars <json>', 'initial process variables as a JSON object, e.g. \'{"receptionDate":"2026-11-23"}\'')
    .option('--json', 'print JSON')
    .action(
      async (
        pathwayId: string,
        options: { patient: string; setting: string; version?: string; vars?: string; json?: boolean },
      ) => {
        const variables = parseJsonObject('--vars', options.vars);
        const started = await withCaseEngine(commandContext(), (engine) =>
          startCase(engine, {
            pathwayId,
            version: options.version === undefined ? undefined : Number(options.version),
            nhsNumber: options.patient,
            settingOdsCode: options.setting,
            variables,
            startedBy: `cli:${os.userInfo().username}`,
          }),
        );
        print(
          options.json
            ? JSON.stringify(started, null, 2)
            : `Started case ${started.caseId} (${started.pathwayId} v${started.version})`,
        );
      },
    );

  cases
    .command('show <caseId>')
    .description(
      'Show where a case is: status, active elements, open tasks with due dates, pending timers, variables and the trail',
    )
    .option('--json', 'print JSON')
    .action(async (caseId: string, options: { json?: boolean }) => {
      const view = await withCaseEngine(commandContext(), (engine) => showCase(engine, caseId));
      if (options.json) return print(JSON.stringify(view, null, 2));
      const { pathway } = view;
      print(
        [
          `Case ${caseId}: ${pathway.processId} ${pathway.status} (workflow ${view.executionStatus.toLowerCase()})`,
          `Open tasks:${pathway.openTasks.length ? '' : ' none'}`,
          ...pathway.openTasks.map(
            (t) => `  ${t.taskId}  ${t.name ?? t.elementId}${t.dueDate ? `  due ${t.dueDate}` : ''}`,
          ),
          `Pending timers:${pathway.pendingTimers.length ? '' : ' none'}`,
          ...pathway.pendingTimers.map((t) => `  ${t.name ?? t.elementId}  fires ${t.dueAt}`),
          `Trail:`,
          ...pathway.trail.map((e) => `  ${e.enteredAt}  ${e.name ?? e.elementId}${e.outcome ? `  ${e.outcome}` : ''}`),
        ].join('\n'),
      );
    });

  cases
    .command('message <caseId> <messageName>')
    .description('Deliver a message (recall, transfer, appointment outcome, ...) to a case')
    .option('--key <correlationKey>', 'correlation key (default: the case id)')
    .option('--vars <json>', 'variables carried by the message, as a JSON object')
    .action(async (caseId: string, messageName: string, options: { key?: string; vars?: string }) => {
      const variables = parseJsonObject('--vars', options.vars);
      const delivered = await withCaseEngine(commandContext(), (engine) =>
        messageCase(engine, caseId, { name: messageName, correlationKey: options.key, variables }),
      );
      print(
        `Delivered ${messageName} to case ${caseId} (${delivered.length} workflow${delivered.length === 1 ? '' : 's'})`,
      );
    });
}
