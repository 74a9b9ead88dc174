/**
 * `npm run bench:pathway`: what one BPMN element costs the pathway engine, and how many cases it runs.
 *
 * 1. The pure interpreter alone (no Temporal): time per element over a long pathway of service tasks.
 * 2. The same long pathway through `runPathway` on the embedded server: history events per element and
 *    workflow task time per element (from the server's WorkflowTaskStarted → Completed timestamps).
 * 3. Cases per second: many cases of a 10-step pathway started and run to completion concurrently.
 *
 * Options: --steps N (long pathway, default 200), --cases N (default 300), --concurrency N (default 50).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { compilePathwayIR, type PathwayIR } from '../bpmn';
import { handle, start, type RunPathwayInput, type Step } from '../workflows';
import {
  describeMachine,
  option,
  ownCpuSeconds,
  percentile,
  pool,
  processCpuSeconds,
  runBenchmark,
  startBenchEngine,
} from './support';

const TASK_QUEUE = 'bench-pathway';
const STEP_TYPE = 'bench.step';

/** A pathway of `steps` service tasks in a row, written as modelers write BPMN (incoming/outgoing included). */
function sequencePathway(id: string, steps: number): string {
  const ids = ['Start', ...Array.from({ length: steps }, (_, i) => `Step${i + 1}`), 'End'];
  const flowId = (i: number) => `Flow${i}`;
  const links = (i: number) =>
    (i > 0 ? `<bpmn:incoming>${flowId(i - 1)}</bpmn:incoming>` : '') +
    (i < ids.length - 1 ? `<bpmn:outgoing>${flowId(i)}</bpmn:outgoing>` : '');
  const nodes = ids.map((nodeId, i) => {
    if (i === 0) return `<bpmn:startEvent id="${nodeId}" name="Start">${links(i)}</bpmn:startEvent>`;
    if (i === ids.length - 1) return `<bpmn:endEvent id="${nodeId}" name="End">${links(i)}</bpmn:endEvent>`;
    return `<bpmn:serviceTask id="${nodeId}" name="Step ${i}"><bpmn:extensionElements><zeebe:taskDefinition type="${STEP_TYPE}" retries="3" /></bpmn:extensionElements>${links(i)}</bpmn:serviceTask>`;
  });
  const flows = ids
    .slice(1)
    .map((to, i) => `<bpmn:sequenceFlow id="${flowId(i)}" sourceRef="${ids[i]}" targetRef="${to}" />`);
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="Defs" targetNamespace="https://throughcare.example/bench">
  <bpmn:process id="${id}" name="${steps}-step benchmark" isExecutable="true">
    ${[...nodes, ...flows].join('\n    ')}
  </bpmn:process>
</bpmn:definitions>`;
}

/** Drives the pure interpreter through a pathway of service tasks, answering each as completed. */
function runPure(ir: PathwayIR, now: string): number {
  let step: Step = start(ir, {}, now);
  let elements = 0;
  for (;;) {
    const task = step.commands.find((c) => c.type === 'executeServiceTask');
    if (!task || task.type !== 'executeServiceTask') return elements;
    step = handle(ir, step.state, { type: 'serviceTaskCompleted', activityId: task.activityId, result: {} }, now);
    elements++;
  }
}

const millis = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  t ? Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 : 0;

async function main(): Promise<void> {
  const steps = option('steps', 200);
  const cases = option('cases', 300);
  const concurrency = option('concurrency', 50);

  const longIr = await compilePathwayIR(sequencePathway('BenchLong', steps));
  const tenIr = await compilePathwayIR(sequencePathway('BenchTen', 10));

  // 1. The interpreter alone.
  const now = new Date().toISOString();
  // Guard against measuring a pathway that silently ends early.
  if (runPure(longIr, now) !== steps) throw new Error(`the ${steps}-step pathway did not run ${steps} service tasks`);
  for (let i = 0; i < 5; i++) runPure(longIr, now); // warm-up
  const pureRuns = 20;
  const t0 = performance.now();
  for (let i = 0; i < pureRuns; i++) runPure(longIr, now);
  const pureMsPerElement = (performance.now() - t0) / (pureRuns * steps);

  // 2 and 3 through Temporal.
  const { database, server, client, worker, stop } = await startBenchEngine({
    databaseName: 'bench_pathway',
    taskQueue: TASK_QUEUE,
    workflowsPath: require.resolve('../workflows'),
    activities: {
      openTask: () => Promise.resolve(),
      closeTask: () => Promise.resolve(),
      resolvePathway: () => Promise.reject(new Error('the benchmark pathways call no other pathway')),
      [STEP_TYPE]: () => Promise.resolve({}),
    },
  });
  const run = `${Date.now()}`;
  const input = (ir: PathwayIR, caseId: string): RunPathwayInput => ({ ir, caseId });

  const results = await worker.runUntil(async () => {
    await pool(20, 10, async (i) => {
      await client.workflow.execute('runPathway', {
        taskQueue: TASK_QUEUE,
        workflowId: `warm-${run}-${i}`,
        args: [input(tenIr, `warm-${i}`)],
      });
    });

    const longStarted = performance.now();
    const longHandle = await client.workflow.start('runPathway', {
      taskQueue: TASK_QUEUE,
      workflowId: `long-${run}`,
      args: [input(longIr, 'long')],
    });
    await longHandle.result();
    const longSeconds = (performance.now() - longStarted) / 1000;
    const history = await longHandle.fetchHistory();
    const events = history.events ?? [];
    const completions = events.filter((e) => e.activityTaskCompletedEventAttributes).length;
    if (completions !== steps) throw new Error(`the long pathway completed ${completions} of ${steps} service tasks`);
    const startedAt = new Map(
      events.filter((e) => e.workflowTaskStartedEventAttributes).map((e) => [Number(e.eventId), millis(e.eventTime)]),
    );
    let workflowTaskMs = 0;
    let workflowTasks = 0;
    for (const e of events) {
      const done = e.workflowTaskCompletedEventAttributes;
      if (!done) continue;
      workflowTaskMs += millis(e.eventTime) - (startedAt.get(Number(done.startedEventId)) ?? millis(e.eventTime));
      workflowTasks++;
    }

    const latencies: number[] = [];
    const serverCpu0 = await processCpuSeconds(server.pid);
    const workerCpu0 = ownCpuSeconds();
    const t1 = performance.now();
    await pool(cases, concurrency, async (i) => {
      const began = performance.now();
      await client.workflow.execute('runPathway', {
        taskQueue: TASK_QUEUE,
        workflowId: `ten-${run}-${i}`,
        args: [input(tenIr, `ten-${i}`)],
      });
      latencies.push(performance.now() - began);
    });
    const seconds = (performance.now() - t1) / 1000;
    latencies.sort((a, b) => a - b);
    return {
      long: {
        steps,
        seconds: longSeconds,
        historyEvents: events.length,
        historyEventsPerElement: events.length / steps,
        workflowTasks,
        workflowTaskMsPerElement: workflowTaskMs / steps,
      },
      throughput: {
        cases,
        concurrency,
        casesPerSecond: cases / seconds,
        latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
        serverCpuMsPerCase: (((await processCpuSeconds(server.pid)) - serverCpu0) * 1000) / cases,
        workerCpuMsPerCase: ((ownCpuSeconds() - workerCpu0) * 1000) / cases,
      },
    };
  });

  await stop();
  const machine = describeMachine(database.postgresVersion);
  const report = { machine, pureInterpreterMsPerElement: pureMsPerElement, ...results };
  await fs.mkdir(path.join(__dirname, 'results'), { recursive: true });
  await fs.writeFile(path.join(__dirname, 'results', 'pathway.json'), JSON.stringify(report, null, 2) + '\n');

  const f = (n: number, d = 2) => n.toFixed(d);
  const { long, throughput } = results;
  process.stdout.write(
    [
      `Machine: ${machine}`,
      '',
      '| measure | result |',
      '| --- | --- |',
      `| pure interpreter, per element (${steps}-step pathway) | ${f(pureMsPerElement * 1000, 1)} µs |`,
      `| history events per element (${steps} service tasks) | ${f(long.historyEventsPerElement)} (${long.historyEvents} events) |`,
      `| workflow task time per element (server-measured) | ${f(long.workflowTaskMsPerElement)} ms over ${long.workflowTasks} workflow tasks |`,
      `| ${steps}-step pathway start to end | ${f(long.seconds)} s |`,
      `| 10-step cases per second (${throughput.cases} cases, ${throughput.concurrency} in flight) | ${f(throughput.casesPerSecond, 1)} |`,
      `| 10-step case latency p50 / p99 | ${f(throughput.latencyMs.p50, 0)} ms / ${f(throughput.latencyMs.p99, 0)} ms |`,
      `| CPU per 10-step case: server / worker (+ client) | ${f(throughput.serverCpuMsPerCase, 1)} ms / ${f(throughput.workerCpuMsPerCase, 1)} ms |`,
      '',
    ].join('\n'),
  );
}

runBenchmark('bench:pathway', main);
