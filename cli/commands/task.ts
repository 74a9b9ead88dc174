import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Command } from 'commander';
import { CompletionOutcomeUnknownError, completeTask, listTasks, type TaskSummary } from '../../engine';
import { CommandFailure, commandContext, print } from '../context';
import { parseJsonObject, withCaseEngine } from '../engine';

export function registerTask(program: Command): void {
  const tasks = program
    .command('task')
    .description('The worklist: list and complete user tasks (needs a running Throughcare)');

  tasks
    .command('list')
    .description('List open tasks, soonest due first')
    .option('--case <caseId>', 'only this case’s tasks')
    .option('--all', 'include completed, cancelled, planned and started tasks')
    .option('--planned', 'include planned work: milestones the pathway will open later, with their due dates')
    .option('--json', 'print JSON')
    .option('-q, --quiet', 'print only the task ids, one a line (for scripts)')
    .action(async (options: { case?: string; all?: boolean; planned?: boolean; json?: boolean; quiet?: boolean }) => {
      const found = await withCaseEngine(commandContext(), (engine) =>
        listTasks(engine, { caseId: options.case, includeClosed: options.all, includePlanned: options.planned }),
      );
      const now = Date.now();
      if (options.json) return print(JSON.stringify(found, null, 2));
      if (options.quiet) return found.length ? print(found.map((t) => t.taskId).join('\n')) : undefined;
      if (found.length === 0) return print('No tasks.');
      print(
        found
          .map(
            (t) =>
              `${t.taskId}  ${t.status.padEnd(9)} ${t.name}  ${t.formId ? `[${t.formId}]` : ''}${t.dueAt ? `  due ${t.dueAt}` : ''}${overdueMarker(t, now)}${t.completedLate ? '  (completed late)' : ''}`,
          )
          .join('\n'),
      );
    });

  tasks
    .command('complete <taskId>')
    .description('Complete a task with its form data (validated against the task’s form before it is sent)')
    .requiredOption(
      '--data <json>',
      'the form submission as a JSON object, or @FILE to read it from a file, or - to read it from standard input',
    )
    .option(
      '--completion-id <id>',
      'this submission’s id (a new one when absent): the same id again answers with the first outcome, applied once',
    )
    .option('--json', 'print JSON')
    .action(async (taskId: string, options: { data: string; json?: boolean; completionId?: string }) => {
      const data = parseJsonObject('--data', options.data);
      // Chosen before anything is sent, so that every way this command can end can name it.
      const completionId = options.completionId ?? randomUUID();
      const result = await withCaseEngine(commandContext(), (engine) =>
        completeTask(engine, { taskId, data, completedBy: `cli:${os.userInfo().username}`, completionId }),
      ).catch((error: unknown) => {
        if (!(error instanceof CompletionOutcomeUnknownError)) throw error;
        throw new CommandFailure(
          `${error.message}\nTo learn it, run the same command again with --completion-id ${completionId}.`,
        );
      });
      print(
        options.json
          ? JSON.stringify(result, null, 2)
          : `Completed ${taskId} (completion id ${result.completionId}); the case is ${result.status}`,
      );
    });
}

/** `  OVERDUE since …` for open or planned work past its due date (or reported overdue); nothing otherwise. */
export function overdueMarker(task: TaskSummary, now: number): string {
  if (task.status !== 'open' && task.status !== 'planned') return '';
  if (task.overdueSince) return `  OVERDUE since ${task.overdueSince}`;
  if (task.dueAt && Date.parse(task.dueAt) < now) return '  OVERDUE';
  return '';
}
