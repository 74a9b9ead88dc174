/**
 * `throughcare staff add | list`: the staff directory, with the duties notices are addressed to
 * (`notify.notifyStaff`: `sms-team-lead`, `custody-sergeant`, `release-team`...) and the settings each person
 * works in. Talks to the database only (no running Throughcare needed).
 */
import type { Command } from 'commander';
import { addStaff, listStaff, type StaffSummary } from '../../engine';
import { withStore } from '../database';
import { commandContext, print } from '../context';

export function registerStaff(program: Command): void {
  const staff = program
    .command('staff')
    .description('The staff directory: who works where, and the duties notices are addressed to');

  staff
    .command('add')
    .description(
      'Add a member of staff (or update the one with the same subject: the same command twice changes nothing)',
    )
    .requiredOption('--name <name>', 'their name as colleagues know it (a caseload assignment names a keyworker by it)')
    .requiredOption('--email <email>', 'where their notices are sent')
    .option('--duty <duty...>', 'duties they hold, e.g. sms-team-lead sms-clinical-lead custody-sergeant', [])
    .requiredOption('--setting <ods...>', 'ODS codes of the settings they work in')
    .option('--role <role...>', 'roles: clinician (default), team-lead, commissioner, ops, admin')
    .option('--subject <subject>', 'the OIDC subject they will sign in as (default mailto:<email>)')
    .option('--json', 'print JSON')
    .action(
      async (options: {
        name: string;
        email: string;
        duty: string[];
        setting: string[];
        role?: string[];
        subject?: string;
        json?: boolean;
      }) => {
        const { config, logger } = commandContext();
        const added = await withStore(config, logger, (store) =>
          addStaff(store, {
            name: options.name,
            email: options.email,
            duties: options.duty,
            settings: options.setting,
            ...(options.role ? { roles: options.role } : {}),
            ...(options.subject ? { subject: options.subject } : {}),
          }),
        );
        if (options.json) return print(JSON.stringify(added, null, 2));
        print(`${added.created ? 'Added' : 'Updated'} ${describeStaff(added)}`);
      },
    );

  staff
    .command('list')
    .description('List the staff directory by name')
    .option('--setting <ods>', 'only the staff of this setting')
    .option('--duty <duty>', 'only the staff holding this duty')
    .option('--json', 'print JSON')
    .action(async (options: { setting?: string; duty?: string; json?: boolean }) => {
      const { config, logger } = commandContext();
      const found = await withStore(config, logger, (store) =>
        listStaff(store, {
          ...(options.setting ? { settingOdsCode: options.setting } : {}),
          ...(options.duty ? { duty: options.duty } : {}),
        }),
      );
      if (options.json) return print(JSON.stringify(found, null, 2));
      if (found.length === 0) return print('No staff.');
      print(found.map(describeStaff).join('\n'));
    });
}

function describeStaff(s: StaffSummary): string {
  return (
    `${s.name} <${s.email ?? 'no email'}>  duties: ${s.duties.length ? s.duties.join(', ') : 'none'}` +
    `  settings: ${s.settings.join(', ')}${s.active ? '' : '  (inactive)'}`
  );
}
