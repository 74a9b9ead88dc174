import fs from 'node:fs/promises';
import os from 'node:os';
import type { Command } from 'commander';
import { compilePathway, hasLintErrors, type LintFinding } from '../../bpmn';
import { deployPathway, installedLintOptions, listPathwayVersions } from '../../engine';
import { withStore } from '../database';
import { commandContext, CommandFailure, EXIT, print } from '../context';

export function registerPathway(program: Command): void {
  const pathway = program.command('pathway').description('Lint, deploy and list BPMN pathways');

  pathway
    .command('lint <file>')
    .description(
      'Lint a BPMN file against the installed service task types and forms; exit status 1 when it has errors',
    )
    .option('--json', 'print the findings as JSON')
    .action(async (file: string, options: { json?: boolean }) => {
      const xml = await readBpmnFile(file);
      const { ir, findings } = await compilePathway(xml, installedLintOptions());
      if (options.json) print(JSON.stringify({ pathwayId: ir.processId, findings }, null, 2));
      else print(findings.length ? findings.map(formatFinding).join('\n') : `${file}: no problems found`);
      if (hasLintErrors(findings)) process.exitCode = EXIT.failure;
    });

  pathway
    .command('deploy <file>')
    .description(
      'Deploy a BPMN file as a new immutable pathway version (deploying the same content again returns the existing version)',
    )
    .option('--deployed-by <name>', 'who is deploying, recorded with the version', `cli:${os.userInfo().username}`)
    .option('--json', 'print JSON')
    .action(async (file: string, options: { deployedBy: string; json?: boolean }) => {
      const xml = await readBpmnFile(file);
      const { config, logger } = commandContext();
      const deployed = await withStore(config, logger, (store) =>
        deployPathway(store, xml, { ...installedLintOptions(), deployedBy: options.deployedBy }),
      );
      if (options.json) return print(JSON.stringify(deployed, null, 2));
      print(
        deployed.created
          ? `Deployed ${deployed.pathwayId} version ${deployed.version}`
          : `${deployed.pathwayId} is unchanged: version ${deployed.version} already holds this content`,
      );
      if (deployed.findings.length) print(deployed.findings.map(formatFinding).join('\n'));
    });

  pathway
    .command('list')
    .description('List deployed pathway versions, newest first')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const { config, logger } = commandContext();
      const versions = await withStore(config, logger, (store) => listPathwayVersions(store));
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
