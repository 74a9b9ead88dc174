/**
 * `throughcare pathway`: lint locally (it needs no data), and deploy, list and show through the API, signed in as a
 * commissioner (ops may list and show).
 */
import fs from 'node:fs/promises';
import type { Command } from 'commander';
import { compilePathway, hasLintErrors, type LintFinding } from '../../bpmn';
import {
  installedLintOptions,
  type DeployedPathway,
  type ElementRef,
  type PathwayVersionSummary,
  type PathwayVersionView,
} from '../../engine';
import { apiClient, withApiOptions, type ApiOptions } from '../api-client';
import { commandContext, CommandFailure, EXIT, print } from '../context';

export function registerPathway(program: Command): void {
  const pathway = program
    .command('pathway')
    .description(
      'Lint BPMN pathways (locally), and deploy, list and show them through the Throughcare API (THROUGHCARE_URL, THROUGHCARE_TOKEN)',
    );

  pathway
    .command('lint <file>')
    .description(
      'Lint a BPMN file against the installed service task types and forms; exit status 1 when it has errors. Runs locally: it needs no server, no data and no sign-in',
    )
    .option('--json', 'print the findings as JSON')
    .action(async (file: string, options: { json?: boolean }) => {
      const xml = await readBpmnFile(file);
      const { ir, findings } = await compilePathway(xml, installedLintOptions());
      if (options.json) print(JSON.stringify({ pathwayId: ir.processId, findings }, null, 2));
      else print(findings.length ? findings.map(formatFinding).join('\n') : `${file}: no problems found`);
      if (hasLintErrors(findings)) process.exitCode = EXIT.failure;
    });

  withApiOptions(
    pathway
      .command('deploy <file>')
      .description(
        'Deploy a BPMN file as a new immutable pathway version, as the commissioner signed in (deploying the same content again returns the existing version)',
      ),
  )
    .option('--json', 'print JSON')
    .action(async (file: string, options: ApiOptions & { json?: boolean }) => {
      const xml = await readBpmnFile(file);
      const api = await apiClient(commandContext(), options);
      const deployed = await api.request<DeployedPathway>('POST', '/pathways', { xml });
      if (options.json) return print(JSON.stringify(deployed, null, 2));
      print(
        deployed.created
          ? `Deployed ${deployed.pathwayId} version ${deployed.version}`
          : `${deployed.pathwayId} is unchanged: version ${deployed.version} already holds this content`,
      );
      if (deployed.findings.length) print(deployed.findings.map(formatFinding).join('\n'));
    });

  withApiOptions(pathway.command('list').description('List deployed pathway versions, newest first'))
    .option('--json', 'print JSON')
    .action(async (options: ApiOptions & { json?: boolean }) => {
      const api = await apiClient(commandContext(), options);
      const pathways = await api.listAll<{ versions: PathwayVersionSummary[] }>('/pathways');
      const versions = pathways.flatMap((p) => p.versions);
      if (options.json) return print(JSON.stringify(versions, null, 2));
      if (versions.length === 0) return print('No pathways are deployed.');
      print(
        versions
          .map(
            (v) =>
              `${v.pathwayId.padEnd(24)} v${String(v.version).padEnd(4)} ${v.deployedAt}  ${v.deployedBy}  ${v.name ?? ''}`,
          )
          .join('\n'),
      );
    });

  withApiOptions(
    pathway
      .command('show <pathwayId>')
      .description(
        'Show a deployed pathway version: who deployed it and when, its user tasks and their forms, its timers, the messages it can catch, and the variables it is started with',
      ),
  )
    .option('--version <n>', 'pathway version (default: the latest)')
    .option('--json', 'print JSON')
    .action(async (pathwayId: string, options: ApiOptions & { version?: string; json?: boolean }) => {
      const version = parseVersion(options.version);
      const api = await apiClient(commandContext(), options);
      const view = await api.request<PathwayVersionView>(
        'GET',
        `/pathways/${encodeURIComponent(pathwayId)}/versions/${version ?? 'latest'}`,
      );
      print(options.json ? JSON.stringify(view, null, 2) : formatPathwayVersion(view));
    });
}

function parseVersion(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(text))
    throw new CommandFailure(`--version must be a version number, not '${text}'`, EXIT.usage);
  return Number(text);
}

function formatPathwayVersion(view: PathwayVersionView): string {
  const ref = (e: ElementRef) => (e.name ? `${e.elementId} (${e.name})` : e.elementId);
  const section = (title: string, lines: string[]) => [`${title}:${lines.length ? '' : ' none'}`, ...lines];
  const start =
    view.startFormId === null
      ? ['Start variables: none declared (no start form): any variables are accepted']
      : !view.startFormInstalled
        ? [`Start variables: form ${view.startFormId} is not installed here`]
        : section(
            `Start variables (form ${view.startFormId})`,
            view.startVariables.map(
              (v) =>
                `  ${v.name}  ${v.type}  ${v.required ? 'required' : 'optional'}${v.description ? `  ${v.description}` : ''}`,
            ),
          );
  return [
    `${view.pathwayId} v${view.version}${view.name ? `: ${view.name}` : ''}`,
    `Deployed ${view.deployedAt} by ${view.deployedBy}`,
    ...start,
    ...section(
      'User tasks',
      view.userTasks.map((t) => `  ${ref(t)}  form ${t.formId ?? 'none'}`),
    ),
    ...section(
      'Timers',
      view.timers.map(
        (t) =>
          `  ${ref(t)}  ${t.timerType} ${t.value}${
            t.attachedTo ? `  on ${t.attachedTo}${t.interrupting ? '' : ', non-interrupting'}` : ''
          }`,
      ),
    ),
    ...section(
      'Messages it can catch',
      view.messages.map(
        (m) =>
          `  ${m.messageName}${m.correlationKey ? `  key ${m.correlationKey}` : ''}  at ${m.caughtBy.map(ref).join(', ')}`,
      ),
    ),
  ].join('\n');
}

async function readBpmnFile(file: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    throw new CommandFailure(
      `Cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

function formatFinding(f: LintFinding): string {
  const where = f.name ? `${f.id} (${f.name})` : f.id;
  return `${f.severity.padEnd(7)} ${where}: ${f.message}\n        fix: ${f.fix}  [${f.rule}]`;
}
