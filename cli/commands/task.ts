/** `throughcare task`: the worklist through the API, as the person signed in (THROUGHCARE_TOKEN). */
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { DependencyUnavailableError } from '../../domain/errors';
import type { TaskSummary, WorklistItem } from '../../engine';
import { apiClient, withApiOptions, type ApiOptions } from '../api-client';
import { CommandFailure, commandContext, print } from '../context';
import { parseJsonObject } from '../engine';

export function registerTask(program: Command): void {
  const tasks = program
    .command('task')
    .description(
      'The worklist of the settings you work in: list and complete user tasks, through the Throughcare API (THROUGHCARE_URL, THROUGHCARE_TOKEN)',
    );

  withApiOptions(tasks.command('list').description('List open tasks of the settings you work in, soonest due first'))
    .option('--case <caseId>', 'only this case’s tasks')
    .option('--all', 'include completed, cancelled, planned and started tasks')
    .option('--planned', 'include planned work: milestones the pathway will open later, with their due dates')
    .option('--json', 'print JSON')
    .option('-q, --quiet', 'print only the task ids, one a line (for scripts)')
    .action(
      async (
        options: ApiOptions & { case?: string; all?: boolean; planned?: boolean; json?: boolean; quiet?: boolean },
      ) => {
        const api = await apiClient(commandContext(), options);
        // The API lists one status (or any) at a time: open and planned are two lists, merged soonest due first.
        const statuses = options.all ? ['any'] : options.planned ? ['open', 'planned'] : ['open'];
        const lists = await Promise.all(
          statuses.map((status) => api.listAll<WorklistItem>('/tasks', { status, caseId: options.case })),
        );
        const found = statuses.length === 1 ? lists[0]! : lists.flat().sort(soonestDueFirst);
        const now = Date.now();
        if (options.json) return print(JSON.stringify(found, null, 2));
        if (options.quiet) return found.length ? print(found.map((t) => t.taskId).join('\n')) : undefined;
        if (found.length === 0) return print('No tasks.');
        print(found.map((t) => taskLine(t, now)).join('\n'));
      },
    );

  withApiOptions(tasks.command('complete <taskId>'))
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
    .action(async (taskId: string, options: ApiOptions & { data: string; json?: boolean; completionId?: string }) => {
      const data = parseJsonObject('--data', options.data);
      // Chosen before anything is sent, so that every way this command can end can name it.
      const completionId = options.completionId ?? randomUUID();
      const api = await apiClient(commandContext(), options);
      const result = await api
        .request<{
          taskId: string;
          status: string;
          completionId: string;
          completedAt: string;
          nextTasks: WorklistItem[];
        }>('POST', `/tasks/${encodeURIComponent(taskId)}/complete`, {
          json: { data },
          headers: { 'idempotency-key': completionId },
        })
        .catch((error: unknown) => {
          // The server keeps trying the engine for 60 s before it answers 503; an answer lost on the way is the same.
          // Refused outright: nothing was sent, so nothing was applied.
          if (!(error instanceof DependencyUnavailableError) || /ECONNREFUSED/.test(error.message)) throw error;
          throw new CommandFailure(
            `${error.message}\nThe outcome is unknown: to learn it, run the same command again with --completion-id ${completionId}.`,
          );
        });
      if (options.json) return print(JSON.stringify(result, null, 2));
      const now = Date.now();
      print(
        [
          `Completed ${taskId} (completion id ${result.completionId}); the case is ${result.status}`,
          ...(result.nextTasks.length
            ? ['Open tasks now:', ...result.nextTasks.map((t) => `  ${taskLine(t, now)}`)]
            : []),
        ].join('\n'),
      );
    });
}

function taskLine(t: WorklistItem, now: number): string {
  return `${t.taskId}  ${t.status.padEnd(9)} ${t.name}  ${t.formId ? `[${t.formId}]` : ''}${t.dueAt ? `  due ${t.dueAt}` : ''}${overdueMarker(t, now)}${t.completedLate ? '  (completed late)' : ''}`;
}

function soonestDueFirst(a: TaskSummary, b: TaskSummary): number {
  const due = (t: TaskSummary) => (t.dueAt ? Date.parse(t.dueAt) : Number.POSITIVE_INFINITY);
  return due(a) - due(b) || a.createdAt.localeCompare(b.createdAt);
}

/** `  OVERDUE since …` for open or planned work past its due date (or reported overdue); nothing otherwise. */
export function overdueMarker(task: TaskSummary, now: number): string {
  if (task.status !== 'open' && task.status !== 'planned') return '';
  if (task.overdueSince) return `  OVERDUE since ${task.overdueSince}`;
  if (task.dueAt && Date.parse(task.dueAt) < now) return '  OVERDUE';
  return '';
}
