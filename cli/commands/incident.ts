/**
 * `throughcare incident list`: failures in cases' pathways that nothing in the pathway caught, for ops. Each
 * open one waits at its element; its id is the id of the worklist task that resolves it (form
 * `incident-resolution`): `throughcare task complete ID --data '{"action":"retry"}'`.
 */
import type { Command } from 'commander';
import { listIncidents, type IncidentSummary } from '../../engine';
import { commandContext, print } from '../context';
import { withCaseEngine } from '../engine';

export function registerIncident(program: Command): void {
  const incidents = program
    .command('incident')
    .description(
      'Incidents: pathway steps that failed with nothing to catch them, waiting for ops (needs a running Throughcare)',
    );

  incidents
    .command('list')
    .description(
      'List open incidents, oldest first, each with the id of the task that resolves it (task complete ID --data \'{"action":"retry"}\')',
    )
    .option('--case <caseId>', 'only this case’s incidents')
    .option('--all', 'include resolved incidents, with how they were resolved')
    .option('--json', 'print JSON')
    .action(async (options: { case?: string; all?: boolean; json?: boolean }) => {
      const found = await withCaseEngine(commandContext(), (engine) =>
        listIncidents(engine, {
          ...(options.case ? { caseId: options.case } : {}),
          ...(options.all ? {} : { open: true }),
        }),
      );
      if (options.json) return print(JSON.stringify(found, null, 2));
      if (found.length === 0) return print(options.all ? 'No incidents.' : 'No open incidents.');
      print(found.map(describeIncident).join('\n'));
    });
}

function describeIncident(incident: IncidentSummary): string {
  const what = incident.taskType ?? incident.calledProcessId ?? incident.kind;
  const attempts = incident.attempts !== null ? `, ${incident.attempts} attempts` : '';
  const lines = [
    `${incident.incidentId}  ${incident.status.padEnd(9)} case ${incident.caseId}`,
    `    ${incident.elementName ?? incident.elementId} (${incident.elementId}, ${what}): ${incident.errorCode} ${incident.message}`,
    `    raised ${incident.raisedAt}${attempts}`,
  ];
  const { resolution } = incident;
  if (resolution) {
    const corrected = resolution.correctedVariables.length
      ? `, corrected ${resolution.correctedVariables.join(', ')}`
      : '';
    lines.push(
      `    ${resolution.outcome} by ${resolution.resolvedBy} at ${resolution.resolvedAt}${corrected}${resolution.reason ? `: ${resolution.reason}` : ''}`,
    );
  }
  return lines.join('\n');
}
