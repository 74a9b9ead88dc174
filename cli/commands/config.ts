import type { Command } from 'commander';
import { print } from '../context';
import { describeConfig, loadConfig, VARIABLES } from '../../config';

export function registerConfig(program: Command): void {
  program
    .command('config')
    .description('Validate the configuration from the environment and print it, secrets masked')
    .option('--json', 'print JSON')
    .option('--variables', 'list every variable Throughcare reads, with its meaning and default')
    .action((options: { json?: boolean; variables?: boolean }) => {
      if (options.variables) {
        const rows = VARIABLES.map((v) => ({
          name: v.name,
          default: v.default ?? '(unset)',
          description: v.description,
        }));
        if (options.json) return print(JSON.stringify(rows, null, 2));
        return print(rows.map((r) => `${r.name.padEnd(24)} ${r.description} [default: ${r.default}]`).join('\n'));
      }
      const shown = describeConfig(loadConfig());
      if (options.json) return print(JSON.stringify(shown, null, 2));
      return print(
        Object.entries(shown)
          .map(([k, v]) => `${k.padEnd(24)} ${v}`)
          .join('\n'),
      );
    });
}
