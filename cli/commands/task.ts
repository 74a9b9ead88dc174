import os from 'node:os';
import type { Command } from 'commander';
import { completeTask, listTasks } from '../../engine/cases';
import { commandContext, print } from '../context';
import { parseJsonObject, withCaseEngine } from '../engine';

export function registerTask(program: Command): void {
  const tasks = program
    .command('task')
    .description('The worklist: list and complete user tasks (needs a running Throughcare)');

  tasks
    .command('list')
    .description('List open tasks, soonest due first')
    .option('--case <caseId>', 'only this case’s tasks')
    .option('--all', 'include completed and cancelled tasks')
    .option('--json', 'print JSON')
    .action(async (options: { case?: string; all?: boolean; json?: boolean }) => {
      const found = await withCaseEngine(commandContext(), (engine) =>
        listTasks(engine, { caseId: options.case, includeClosed: options.all }),
      );
      if (options.json) return print(JSON.stringify(found, null, 2));
      if (found.length === 0) return print('No tasks.');
      print(
        found
          .map(
            (t) =>
              `${t.taskId}  ${t.status.padEnd(9)} ${t.name}  ${t.formId ? `[${t.formId}]` : ''}${t.dueAt ? `  due ${t.dueAt}` : ''}`,
          )
          .join('\n'),
      );
    });

  tasks
    .command('complete <taskId>')
    .description('Complete a task with its form data (validated against the task’s form before it is sent)')
    .requiredOption('--data <json>', 'the form submission as a JSON object')
    .option('--json', 'print JSON')
    .action(async (taskId: string, options: { data: string; json?: boolean }) => {
      const data = parseJsonObject('--data', options.data);
      const result = await withCaseEngine(commandContext(), (engine) =>
        completeTask(engine, { taskId, data, completedBy: `cli:${os.userInfo().username}` }),
      );
      print(options.json ? JSON.stringify(result, null, 2) : `Completed ${taskId}; the case is ${result.status}`);
    });
}
