/**
 * The designer's simulation: run a draft's BPMN through a scenario on the time-skipping server, in a scratch world
 * of made-up cases (simulation/), and answer the timeline. Commissioners only; nobody's data is read or written.
 */
import { DependencyUnavailableError } from '../../domain/errors';
import { checkSimulationRequest } from '../../simulation';
import { allowInstallationAction, type RouteSpec } from './operation';

export const SIMULATION_ROUTES: readonly RouteSpec[] = [
  {
    method: 'post',
    path: '/designer/simulations',
    operationId: 'simulatePathway',
    summary:
      'Simulate BPMN through a scenario on the time-skipping server: tasks with due instants, reminders, overdue notices and the local inbox, on the simulated clock',
    tag: 'designer',
    action: 'pathway.simulate',
    patientData: false,
    body: 'SimulationRequest',
    success: {
      status: 200,
      schema: 'SimulationReport',
      description: 'the timeline and whether the scenario passed (a failed expectation is a report, not an error)',
    },
    problems: {
      '409': 'too many simulations are waiting to run: try again when they have finished',
      '422':
        'the XML is not BPMN (/xml), lint found errors (/elements/{elementId}), or the scenario does not fit the pathway (/scenario/...)',
    },
    async handle(ctx) {
      allowInstallationAction(ctx, 'pathway.simulate');
      // Refused before anything starts: a draft that is not BPMN, fails lint or does not fit its scenario.
      await checkSimulationRequest(ctx.body['xml'] as string, ctx.body['scenario']);
      const simulator = ctx.simulator();
      if (!simulator) throw new DependencyUnavailableError('Pathway simulation is not available in this process');
      return { body: await simulator.run(ctx.body['xml'] as string, ctx.body['scenario']) };
    },
  },
];
