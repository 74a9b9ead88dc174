/**
 * `npm run bench:simulate`: the real time of simulating the shipped prison SMS pathway from reception to its
 * 13-week review (pathways/scenarios/sms-prison-13-weeks.scenario.json: 13 weeks of reminders, an overdue review
 * and its notices, on the time-skipping server) through the simulator the designer and `pathway test` use.
 *
 * The first run sets the world up (migrations, the shipped pathways deployed, the staff, the Spine sandbox, the
 * workflow bundle) and then runs; the warm runs reuse the world, each with its own server, schema and worker, as
 * every later simulation does. A run's real time is the simulator's own `realMs` (deploy, server and worker
 * start, the steps, the timeline), which is what a commissioner waits for once the world is there.
 *
 * Options: --runs N warm runs (7).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createLogger } from '../log';
import { readPathwayXml } from '../pathways';
import { createSimulator, type SimulationReport } from '../simulation';
import { describeMachine, option, percentile, runBenchmark, startBenchDatabase } from './support';

const SCENARIO = path.join(__dirname, '..', 'pathways', 'scenarios', 'sms-prison-13-weeks.scenario.json');
const TARGET_MS = 5_000;
const progress = (what: string) => process.stderr.write(`bench:simulate: ${what}\n`);

runBenchmark('bench:simulate', async () => {
  const runs = option('runs', 7);
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const database = await startBenchDatabase('throughcare_simulation');
  const simulator = createSimulator({
    databaseUrl: database.url,
    logger: createLogger({ level: process.argv.includes('--debug') ? 'debug' : 'warn', pretty: false }),
  });
  const xml = readPathwayXml('sms-prison');
  const scenario: unknown = JSON.parse(await fs.readFile(SCENARIO, 'utf8'));
  const run = async (): Promise<SimulationReport & { wallMs: number }> => {
    const started = Date.now();
    const report = await simulator.run(xml, scenario);
    if (!report.passed) throw new Error(`the scenario failed:\n${report.failures.join('\n')}`);
    return { ...report, wallMs: Date.now() - started };
  };
  try {
    progress('first run (sets the world up)');
    const first = await run();
    const warm: number[] = [];
    for (let i = 0; i < runs; i += 1) {
      progress(`warm run ${i + 1} of ${runs}`);
      warm.push((await run()).realMs);
    }
    const sorted = [...warm].sort((a, b) => a - b);
    const results = {
      machine: describeMachine(database.postgresVersion),
      simulated: `${first.simulatedFrom} to ${first.simulatedTo}`,
      events: first.events.length,
      firstRunWallMs: first.wallMs,
      firstRunMs: first.realMs,
      warmRunsMs: warm,
      warmP50Ms: percentile(sorted, 50),
      warmMaxMs: sorted.at(-1) ?? NaN,
      targetMs: TARGET_MS,
    };
    await fs.mkdir(path.join(__dirname, 'results'), { recursive: true });
    await fs.writeFile(path.join(__dirname, 'results', 'simulate.json'), `${JSON.stringify(results, null, 2)}\n`);
    const met = (ms: number) => (ms < TARGET_MS ? 'met' : 'NOT met');
    process.stdout.write(
      [
        `Machine: ${results.machine}`,
        `Simulated ${results.simulated} (${results.events} events in the timeline)`,
        '',
        '| measure | result | target |',
        '| --- | --- | --- |',
        `| first run, world set up (wall) | ${(first.wallMs / 1000).toFixed(2)} s | |`,
        `| first run, the run itself | ${(first.realMs / 1000).toFixed(2)} s | < 5 s — ${met(first.realMs)} |`,
        `| warm runs p50 (${runs} runs) | ${(results.warmP50Ms / 1000).toFixed(2)} s | < 5 s — ${met(results.warmP50Ms)} |`,
        `| warm runs, slowest | ${(results.warmMaxMs / 1000).toFixed(2)} s | < 5 s — ${met(results.warmMaxMs)} |`,
        '',
      ].join('\n'),
    );
  } finally {
    await simulator.close();
    await database.stop();
  }
});
