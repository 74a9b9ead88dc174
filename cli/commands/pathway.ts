/**
 * `throughcare pathway`: lint locally (it needs no data), and deploy, list and show through the API, signed in as a
 * commissioner (ops may list and show).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { compilePathway, hasLintErrors, type LintFinding } from '../../bpmn';
import { ValidationError } from '../../domain/errors';
import {
  shippedLintOptions,
  type DeployedPathway,
  type ElementRef,
  type PathwayVersionSummary,
  type PathwayVersionView,
} from '../../engine';
import { PATHWAYS, readPathwayXml } from '../../pathways';
import type * as SimulationModule from '../../simulation';
import type * as WorkerModule from '../../worker';
import { startEmbeddedPostgres } from '../../store/embedded-postgres';
import { apiClient, withApiOptions, type ApiOptions } from '../api-client';
import { commandContext, CommandFailure, EXIT, print, type CommandContext } from '../context';

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
      const { ir, findings } = await compilePathway(xml, shippedLintOptions());
      if (options.json) print(JSON.stringify({ pathwayId: ir.processId, findings }, null, 2));
      else print(findings.length ? findings.map(formatFinding).join('\n') : `${file}: no problems found`);
      if (hasLintErrors(findings)) process.exitCode = EXIT.failure;
    });

  pathway
    .command('test <pathway> <scenario>')
    .description(
      'Simulate a pathway (a .bpmn file, or a shipped pathway id) through a scenario file on the time-skipping server and print the timeline of what fired when (London time), then PASSED or the failures; exit status 1 when it fails, 2 when the pathway or scenario is not valid. Runs headless: a scratch PostgreSQL of its own, removed afterwards, unless SIMULATION_DATABASE_URL or DATABASE_URL is set',
    )
    .option('--json', 'print the report as JSON')
    .action(async (pathwayArg: string, scenarioFile: string, options: { json?: boolean }) => {
      // Required here, not imported: the simulator brings the worker and the embedded server, which lint and the
      // API commands do not need.
      /* eslint-disable @typescript-eslint/no-require-imports */
      const simulation = require('../../simulation') as typeof SimulationModule;
      const { forwardSdkLogs } = require('../../worker') as typeof WorkerModule;
      /* eslint-enable @typescript-eslint/no-require-imports */
      const { checkSimulationRequest, createSimulator, formatReport } = simulation;
      const context = commandContext();
      const scenario = await readScenarioFile(scenarioFile);
      const xml = await readPathway(pathwayArg);
      // Refused before a database starts: BPMN that fails lint, or a scenario for another pathway.
      await checkSimulationRequest(xml, scenario).catch((error: unknown) => {
        throw asInputProblem(error, scenarioFile);
      });
      const report = await withSimulationDatabase(context, async (databaseUrl, createFrom) => {
        forwardSdkLogs(context.logger);
        const simulator = createSimulator({
          databaseUrl,
          ...(createFrom ? { createFrom } : {}),
          logger: context.logger,
        });
        try {
          return await simulator.run(xml, scenario);
        } catch (error) {
          throw asInputProblem(error, scenarioFile);
        } finally {
          await simulator.close();
        }
      });
      print(options.json ? JSON.stringify(report, null, 2) : formatReport(report));
      if (!report.passed) process.exitCode = EXIT.failure;
    });

  withApiOptions(
    pathway
      .command('deploy <file>')
      .description(
        'Deploy a BPMN file as a new immutable pathway version, as the commissioner signed in (deploying the same content again returns the existing version)',
      ),
  )
    .option('--note <text>', 'why this version is made, recorded with it (a new version only)')
    .option('--json', 'print JSON')
    .action(async (file: string, options: ApiOptions & { json?: boolean; note?: string }) => {
      const xml = await readBpmnFile(file);
      const api = await apiClient(commandContext(), options);
      // The XML itself is the body, unless a change note goes with it.
      const body = options.note === undefined ? { xml } : { json: { xml, changeNote: options.note } };
      const deployed = await api.request<DeployedPathway>('POST', '/pathways', body);
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

/** The scenario file, parsed and checked: exit status 2 naming each problem by JSON Pointer into the file. */
async function readScenarioFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    throw new CommandFailure(
      `Cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      EXIT.usage,
    );
  }
  let scenario: unknown;
  try {
    scenario = JSON.parse(text);
  } catch (error) {
    throw new CommandFailure(`${file} is not JSON: ${(error as Error).message}`, EXIT.usage);
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('../../simulation') as typeof SimulationModule).validateScenario(scenario);
  } catch (error) {
    if (error instanceof ValidationError)
      throw new CommandFailure(`${file}: the scenario has problems`, EXIT.usage, error.problems);
    throw error;
  }
}

/** A `.bpmn` file, or the XML of a shipped pathway named by its id. */
async function readPathway(pathwayArg: string): Promise<string> {
  const shipped = PATHWAYS.find((p) => p.processId === pathwayArg);
  if (shipped && !pathwayArg.endsWith('.bpmn')) return readPathwayXml(shipped.processId);
  try {
    return await fs.readFile(pathwayArg, 'utf8');
  } catch (error) {
    const ids = PATHWAYS.map((p) => p.processId).join(', ');
    throw new CommandFailure(
      `Cannot read ${pathwayArg} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): give a .bpmn file or a shipped pathway (${ids})`,
      EXIT.usage,
    );
  }
}

/** A refusal of the input (the scenario, the BPMN, its lint errors) as exit status 2, pointers into the file given. */
function asInputProblem(error: unknown, scenarioFile: string): unknown {
  if (!(error instanceof ValidationError)) return error;
  const inScenario = error.problems.length > 0 && error.problems.every((p) => p.pointer.startsWith('/scenario'));
  if (!inScenario) return new CommandFailure(error.message, EXIT.usage, error.problems);
  return new CommandFailure(
    `${scenarioFile}: the scenario has problems`,
    EXIT.usage,
    error.problems.map((p) => ({ ...p, pointer: p.pointer.replace(/^\/scenario/, '') || '/' })),
  );
}

/**
 * The scratch database the simulation runs in: SIMULATION_DATABASE_URL; else `<database>_simulation` beside
 * DATABASE_URL's (created when missing); else an embedded PostgreSQL in a temporary directory, removed afterwards.
 */
async function withSimulationDatabase<T>(
  { config, logger }: CommandContext,
  fn: (databaseUrl: string, createFrom: string | undefined) => Promise<T>,
): Promise<T> {
  if (config.simulationDatabaseUrl) return fn(config.simulationDatabaseUrl, undefined);
  if (config.databaseUrl) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { siblingDatabaseUrl } = require('../../simulation') as typeof SimulationModule;
    return fn(siblingDatabaseUrl(config.databaseUrl), config.databaseUrl);
  }
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'throughcare-simulation-'));
  try {
    // Started as root, PostgreSQL runs as the postgres user, who must reach the directory.
    await fs.chmod(dir, 0o755);
    const postgres = await startEmbeddedPostgres({
      dir,
      logger: logger.child({ component: 'database' }),
      database: 'throughcare_simulation',
      ephemeral: true,
    });
    try {
      return await fn(postgres.url, undefined);
    } finally {
      await postgres.stop();
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
