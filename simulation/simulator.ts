/**
 * The simulator: runs a pathway's BPMN through a scenario on the time-skipping server, and answers the timeline
 * of what fired when and whether the scenario's expectations held.
 *
 * Runs share one time-skipping Temporal-compatible server, in this process, on a schema of the simulator's own in
 * the scratch database, and one worker on the bundle the world made once. Each run restarts the server's clock at
 * its scenario's start (back as well as forward: the last run's case is ended first, so no timer sees time go
 * back), and runs take turns. The case is started, its tasks completed and its messages delivered through the
 * engine's own functions (startCase, completeTask, messageCase), as the API does it, so a scenario is refused or
 * accepted as a clinician's work would be.
 */
import { randomBytes } from 'node:crypto';
import { NativeConnection, Worker } from '@temporalio/worker';
import {
  addIsoDuration,
  compilePathway,
  hasLintErrors,
  parseIsoDuration,
  PathwayCompileError,
  type PathwayIR,
} from '../bpmn';
import {
  ConflictError,
  DependencyUnavailableError,
  NotFoundError,
  ThroughcareError,
  ValidationError,
} from '../domain/errors';
import {
  checksumOf,
  completeTask,
  deployPathway,
  formRegistryOf,
  getPathwayVersion,
  installedLintOptions,
  lintOptionsWith,
  shippedLintOptions,
  listTasks,
  messageCase,
  PathwayLintError,
  startCase,
  type CaseEngine,
  type InstalledFormVersion,
} from '../engine';
import type { Logger } from '../log';
import { createTestWorkflowEnvironment, type EmbeddedTestWorkflowEnvironment } from '../temporal-server';
import { workerConnectionOptions } from '../worker';
import { CASE_SEARCH_ATTRIBUTES } from '../worker/case-search-attributes';
import {
  DEFAULT_PATIENT,
  describeStep,
  validateScenario,
  withPlaceholders,
  type Scenario,
  type ScenarioStep,
} from './scenario';
import {
  collectCaseTimeline,
  ORDER,
  sortEvents,
  type CaseTimelineSource,
  type OrderedEvent,
  type SimulationEvent,
} from './timeline';
import { openWorld, SIMULATION_ACTOR, staffHolding, type SimulationWorld } from './world';

export interface SimulationReport {
  readonly pathwayId: string;
  /** Every step ran and every expectation held. */
  readonly passed: boolean;
  /** Each expectation that did not hold and the step that could not run (the run stops there), in order. */
  readonly failures: string[];
  /** What happened, in order of the simulated clock. */
  readonly events: SimulationEvent[];
  readonly simulatedFrom: string;
  readonly simulatedTo: string;
  /** Real time the run took, world setup excluded, in milliseconds. */
  readonly realMs: number;
}

export interface Simulator {
  /**
   * Runs `scenario` against the pathway in `xml`. Refused with a ValidationError (nothing run) when the scenario
   * is not one (problems at `/scenario/...`), the XML is not BPMN (`/xml`), lint finds errors (`/elements/<id>`)
   * or the scenario names another pathway or start variables its start form refuses.
   */
  run(xml: string, scenario: unknown): Promise<SimulationReport>;
  /** Waits for the run in progress, then stops the world. Later runs are refused. */
  close(): Promise<void>;
}

export interface SimulatorOptions {
  /** The scratch database: never the record store's own. */
  readonly databaseUrl: string;
  /** A database on the same server to create `databaseUrl`'s from when it is missing. */
  readonly createFrom?: string;
  readonly logger: Logger;
  /** Real time one run may take before it is stopped; default 120 s. */
  readonly maxRunMs?: number;
  /**
   * The installation's forms (the record store's registry), which a simulation lints against and runs with, so a
   * form installed from the designer can be tried; the release's own forms when absent (`throughcare pathway test`).
   */
  readonly forms?: () => Promise<ReadonlyMap<string, InstalledFormVersion>>;
}

/** Runs queued behind the one in progress before more are refused. */
const MAX_WAITING = 4;
/** How long the case may keep working after a step (its activities) before the step counts as stuck. */
const SETTLE_MS = 30_000;
/** Time is moved on a week at a time, so that a run over its budget stops between weeks. */
const WEEK_MS = 7 * 86_400_000;

/** A step that could not be taken: the run stops there with this as its last failure. */
class StepFailure extends Error {}

/** Problems found in the scenario, named inside the request's `scenario`. */
function underScenario(error: unknown): never {
  if (error instanceof ValidationError)
    throw new ValidationError(
      error.message,
      error.problems.map((p) => ({ ...p, pointer: `/scenario${p.pointer}` })),
      { unprocessable: error.code === 'UNPROCESSABLE' },
    );
  throw error;
}

/**
 * What `run` checks before it runs anything, for a caller to refuse a request early: the scenario (problems at
 * `/scenario/...`), the XML (not BPMN at `/xml`, lint errors at `/elements/<id>`), and that they go together.
 */
export async function checkSimulationRequest(
  xml: string,
  input: unknown,
  formIds?: Iterable<string>,
): Promise<Scenario> {
  let scenario: Scenario;
  try {
    scenario = validateScenario(input);
  } catch (error) {
    underScenario(error);
  }
  await checkPathway(xml, scenario, formIds);
  return scenario;
}

/** The XML compiled and linted: not BPMN is a problem at `/xml`, lint errors at `/elements/<id>`. */
async function checkPathway(xml: string, scenario: Scenario, formIds?: Iterable<string>): Promise<void> {
  let compiled;
  try {
    compiled = await compilePathway(xml, formIds ? lintOptionsWith(formIds) : shippedLintOptions());
  } catch (error) {
    if (error instanceof PathwayCompileError)
      throw new ValidationError('The BPMN could not be read', [{ pointer: '/xml', detail: error.message }], {
        unprocessable: true,
      });
    throw error;
  }
  const { ir, findings } = compiled;
  if (hasLintErrors(findings)) {
    const lint = new PathwayLintError(ir.processId, findings);
    throw new ValidationError(lint.message, lint.problems, { unprocessable: true });
  }
  if (ir.processId !== scenario.pathway)
    throw new ValidationError(
      `The scenario is for ${scenario.pathway}, not ${ir.processId}`,
      [
        {
          pointer: '/scenario/pathway',
          detail: `names ${scenario.pathway}, but the BPMN's process is ${ir.processId}`,
        },
      ],
      { unprocessable: true },
    );
}

export function createSimulator(options: SimulatorOptions): Simulator {
  const logger = options.logger.child({ component: 'simulation' });
  const maxRunMs = options.maxRunMs ?? 120_000;
  let world: Promise<SimulationWorld> | undefined;
  let tail: Promise<unknown> = Promise.resolve();
  let waiting = 0;
  let closed = false;
  // The simulated clock, for the forms' "not in the future" answers (a review done on its simulated day).
  let clockMs = Date.now();
  const formClock = () => new Date(clockMs);

  const worldOnce = () => {
    world ??= openWorld({
      databaseUrl: options.databaseUrl,
      ...(options.createFrom ? { createFrom: options.createFrom } : {}),
      logger,
    }).catch((error: unknown) => {
      world = undefined;
      throw error;
    });
    return world;
  };

  /** Time skipping is per server and the world's forms keep one clock: one run at a time, the others queued. */
  function inTurn<T>(run: () => Promise<T>): Promise<T> {
    if (closed) return Promise.reject(new DependencyUnavailableError('The simulator is stopping'));
    if (waiting >= MAX_WAITING)
      return Promise.reject(
        new ConflictError(`${waiting} simulations are waiting to run already: try again when they have finished`),
      );
    waiting += 1;
    const turn = tail.then(
      () => run(),
      () => run(),
    );
    const left = () => (waiting -= 1);
    tail = turn.then(left, left);
    return turn;
  }

  /** What this world has deployed, by checksum: the same draft again is not compiled and deployed again. */
  const deployedDrafts = new Map<string, { pathwayId: string; version: number; ir: PathwayIR }>();
  async function deployOnce(w: SimulationWorld, xml: string) {
    const checksum = checksumOf(xml);
    const known = deployedDrafts.get(checksum);
    if (known) return known;
    const { pathwayId, version } = await deployPathway(w.store, xml, {
      ...(await installedLintOptions(w.store)),
      deployedBy: SIMULATION_ACTOR,
    });
    const deployed = { pathwayId, version, ir: (await getPathwayVersion(w.store, pathwayId, version)).ir };
    deployedDrafts.set(checksum, deployed);
    return deployed;
  }

  /** The server and worker runs share: made for the first, its clock restarted at each next run's start. */
  let runEngine: Promise<RunEngine> | undefined;

  async function engineStartingAt(w: SimulationWorld, startsAt: Date): Promise<RunEngine> {
    const reused = await runEngine?.catch(() => undefined);
    if (reused) {
      try {
        await reused.env.restartClock(startsAt);
        return reused;
      } catch (error) {
        // A case of the last run still running (it could not be ended): a fresh server, which shares nothing.
        logger.warn({ err: error }, 'simulation: starting a fresh server');
        runEngine = undefined;
        await stopEngine(reused, w, logger);
      }
    }
    runEngine = startEngine(w, startsAt, logger);
    runEngine.catch(() => (runEngine = undefined));
    return runEngine;
  }

  async function runInWorld(
    xml: string,
    scenario: Scenario,
    checkMs: number,
    forms: ReadonlyMap<string, InstalledFormVersion> | undefined,
  ): Promise<SimulationReport> {
    const w = await worldOnce();
    const startedAt = Date.now();
    if (forms) await formRegistryOf(w.store).adopt(forms.values());
    const deployed = await deployOnce(w, xml);
    const irs = new Map(w.shippedIrs).set(deployed.pathwayId, deployed.ir);
    clockMs = Date.parse(scenario.start);
    const engineFrom = Date.now();
    const { env, taskQueue } = await engineStartingAt(w, new Date(clockMs));
    logger.debug(
      { deployMs: engineFrom - startedAt, engineMs: Date.now() - engineFrom },
      'simulation: pathway deployed, clock set',
    );
    const engine: CaseEngine = { store: w.store, client: env.client, taskQueue, logger, now: formClock };
    const report = await walk({ world: w, env, engine, scenario, irs, version: deployed.version, startedAt });
    return { ...report, realMs: checkMs + report.realMs };
  }

  interface Walk {
    readonly world: SimulationWorld;
    readonly env: EmbeddedTestWorkflowEnvironment;
    readonly engine: CaseEngine;
    readonly scenario: Scenario;
    readonly irs: ReadonlyMap<string, PathwayIR>;
    readonly version: number;
    readonly startedAt: number;
  }

  async function walk({ world: w, env, engine, scenario, irs, version, startedAt }: Walk): Promise<SimulationReport> {
    const stepEvents: OrderedEvent[] = [];
    const failures: string[] = [];
    const iso = () => new Date(clockMs).toISOString();
    // The instant the scenario has reached (its start, then each advance's target): what `$now` and `advance` count
    // from. The server's clock is a few milliseconds past it, the time its work took.
    let scenarioMs = clockMs;
    const scenarioNow = () => new Date(scenarioMs).toISOString();
    const readClock = async () => {
      clockMs = await env.currentTimeMs();
    };
    const simulatedFrom = iso();

    let caseId: string;
    let rootWorkflowId: string;
    try {
      const started = await startCase(engine, {
        pathwayId: scenario.pathway,
        version,
        nhsNumber: scenario.patient ?? DEFAULT_PATIENT,
        settingOdsCode: w.settingOdsCode,
        // The case id is made as the case starts (and set as the variable `caseId`): only $now stands in here.
        variables: withPlaceholders(scenario.variables ?? {}, { caseId: '$caseId', now: scenarioNow() }),
        startedBy: SIMULATION_ACTOR,
        calledVersions: w.shippedVersions,
      });
      caseId = started.caseId;
      rootWorkflowId = started.workflowId;
    } catch (error) {
      // A pathway it calls that this installation does not have is a problem with the draft.
      if (error instanceof NotFoundError)
        throw new ValidationError(error.message, [{ pointer: '/xml', detail: error.message }], { unprocessable: true });
      if (error instanceof ValidationError)
        underScenario(
          new ValidationError(
            error.message,
            error.problems.map((p) => ({ ...p, pointer: p.pointer === '/nhsNumber' ? '/patient' : p.pointer })),
            { unprocessable: true },
          ),
        );
      throw error;
    }
    const source: CaseTimelineSource = {
      client: env.client,
      store: w.store,
      caseId,
      rootWorkflowId,
      irOf: (processId) => irs.get(processId),
    };
    const budgetLeft = () => maxRunMs - (Date.now() - startedAt);

    /** Until the case has nothing left to do at this instant (its activities and workflow tasks done). */
    const settle = async () => {
      const deadline = Date.now() + Math.min(SETTLE_MS, Math.max(budgetLeft(), 1_000));
      for (let quiet = 0; quiet < 2;) {
        const busy = await busyWith(env, rootWorkflowId);
        quiet = busy ? 0 : quiet + 1;
        if (busy && Date.now() > deadline)
          throw new StepFailure(`the case was still busy after ${Math.round(SETTLE_MS / 1000)} s: ${busy}`);
        await new Promise((resolve) => setTimeout(resolve, busy ? 20 : 5));
      }
      await readClock();
    };

    const moveClockTo = async (target: number) => {
      while (clockMs < target) {
        if (budgetLeft() <= 0)
          throw new StepFailure(
            `stopped at ${iso()}: the run took more than ${Math.round(maxRunMs / 1000)} s of real time`,
          );
        await env.sleep(Math.min(target, clockMs + WEEK_MS) - clockMs);
        await readClock();
      }
      scenarioMs = Math.max(scenarioMs, target);
      await settle();
    };

    const events = async () => (await collectCaseTimeline(source)).events.map((e) => e.event);

    const take = async (step: ScenarioStep, index: number): Promise<void> => {
      const placeholders = { caseId, now: scenarioNow() };
      if ('complete' in step) {
        const { task: elementId, example, data, unset } = step.complete;
        const open = await listTasks(engine, { caseId });
        const task = open.find((t) => t.elementId === elementId);
        if (!task)
          throw new StepFailure(
            `${elementId} is not open (open: ${open.map((t) => t.elementId).join(', ') || 'nothing'})`,
          );
        const answers: Record<string, unknown> = {
          ...(example ? (await formRegistryOf(w.store).form(example)).examples.valid : {}),
          ...withPlaceholders(data ?? {}, placeholders),
        };
        for (const field of unset ?? []) delete answers[field];
        await completeTask(engine, {
          taskId: task.taskId,
          data: answers,
          completedBy: SIMULATION_ACTOR,
          retryForMs: 10_000,
        });
        await settle();
        return;
      }
      if ('message' in step) {
        const { name, correlationKey, variables, timeToLive } = step.message;
        const key = withPlaceholders(correlationKey ?? '$caseId', placeholders);
        const result = await messageCase(engine, caseId, {
          name,
          correlationKey: key,
          variables: withPlaceholders(variables ?? {}, placeholders),
          ...(timeToLive ? { timeToLive } : {}),
          sentBy: SIMULATION_ACTOR,
        });
        stepEvents.push({
          event: {
            at: iso(),
            kind: 'message',
            text: `message ${name} (key ${key}) delivered: ${result.outcome === 'correlated' ? 'caught at once' : 'kept until the case can catch it'}`,
          },
          order: ORDER.step + index,
        });
        await settle();
        return;
      }
      if ('advance' in step) return moveClockTo(addIsoDuration(scenarioMs, parseIsoDuration(step.advance)!));
      if ('advanceTo' in step) return moveClockTo(Date.parse(step.advanceTo));
      const failure = await expectationFailure(step, { engine, caseId, events, source });
      stepEvents.push({
        event: {
          at: iso(),
          kind: 'expectation',
          text: `${describeStep(step)}: ${failure ?? 'as expected'}`,
          passed: failure === undefined,
        },
        order: ORDER.expectation + index,
      });
      if (failure) failures.push(`step ${index + 1} (${describeStep(step)}): ${failure}`);
    };

    try {
      return await walkSteps();
    } finally {
      // Nothing of this run may go on into the next, which restarts the clock (called pathways end with the case).
      await env.client.workflow
        .getHandle(rootWorkflowId)
        .terminate('simulation over')
        .catch((error: unknown) => logger.debug({ err: error }, 'simulation: the case had ended'));
    }

    async function walkSteps(): Promise<SimulationReport> {
      try {
        await settle();
        for (const [index, step] of scenario.steps.entries()) {
          try {
            const stepStarted = Date.now();
            await take(step, index);
            logger.debug({ step: index + 1, ms: Date.now() - stepStarted }, `simulation: ${describeStep(step)}`);
          } catch (error) {
            if (!(error instanceof StepFailure || error instanceof ThroughcareError)) throw error;
            const problems =
              error instanceof ValidationError
                ? `: ${error.problems.map((p) => `${p.pointer} ${p.detail}`).join('; ')}`
                : '';
            failures.push(
              `step ${index + 1} (${describeStep(step)}): ${error.message}${problems}; the run stopped there`,
            );
            break;
          }
        }
      } catch (error) {
        if (!(error instanceof StepFailure)) throw error;
        failures.push(`${error.message}; the run stopped there`);
      }
      await readClock();
      const timeline = await collectCaseTimeline(source);
      return {
        pathwayId: scenario.pathway,
        passed: failures.length === 0,
        failures,
        events: sortEvents([...timeline.events, ...stepEvents]),
        simulatedFrom,
        simulatedTo: iso(),
        realMs: Date.now() - startedAt,
      };
    }
  }

  return {
    async run(xml, input) {
      const requestedAt = Date.now();
      const forms = await options.forms?.();
      const scenario = await checkSimulationRequest(xml, input, forms?.keys());
      const checkMs = Date.now() - requestedAt;
      return inTurn(() => runInWorld(xml, scenario, checkMs, forms));
    },
    async close() {
      closed = true;
      await tail;
      const opened = await world?.catch(() => undefined);
      const engine = await runEngine?.catch(() => undefined);
      world = undefined;
      runEngine = undefined;
      if (engine && opened) await stopEngine(engine, opened, logger);
      await opened?.close();
    },
  };
}

/** A time-skipping server of the simulator's own, on a schema of its own in the scratch database, and its worker. */
interface RunEngine {
  readonly env: EmbeddedTestWorkflowEnvironment;
  readonly connection: NativeConnection;
  readonly schema: string;
  readonly taskQueue: string;
  readonly worker: Worker;
  readonly running: Promise<void>;
}

async function startEngine(w: SimulationWorld, startsAt: Date, logger: Logger): Promise<RunEngine> {
  // Its own schema: another process's simulator may use the same scratch database, and a schema has one server.
  const schema = `simulation_${randomBytes(6).toString('hex')}`;
  const env = await createTestWorkflowEnvironment({
    databaseUrl: w.databaseUrl,
    schema,
    searchAttributes: CASE_SEARCH_ATTRIBUTES,
    startsAt,
    logger: logger.child({ component: 'temporal-server' }, { level: 'warn' }),
  });
  let connection: NativeConnection | undefined;
  try {
    // Its own connection, as the product's worker connects: without gzip on the loopback interface.
    connection = await NativeConnection.connect(workerConnectionOptions(env.address));
    const worker = await Worker.create({
      connection,
      taskQueue: schema,
      workflowBundle: w.workflowBundle,
      activities: w.activities,
    });
    return { env, connection, schema, taskQueue: schema, worker, running: worker.run() };
  } catch (error) {
    await connection?.close();
    await env.teardown();
    await dropSchema(w, schema, logger);
    throw error;
  }
}

async function stopEngine(engine: RunEngine, w: SimulationWorld, logger: Logger): Promise<void> {
  if (engine.worker.getState() === 'RUNNING') engine.worker.shutdown();
  await engine.running.catch((error: unknown) =>
    logger.warn({ err: error }, 'simulation worker stopped with an error'),
  );
  await engine.connection.close();
  await engine.env.teardown();
  await dropSchema(w, engine.schema, logger);
}

async function dropSchema(w: SimulationWorld, schema: string, logger: Logger): Promise<void> {
  await w.store.orm.em
    .getConnection()
    .getKnex()
    .raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema])
    .catch((error: unknown) => logger.warn({ err: error, schema }, 'could not drop a simulation schema'));
}

/** What the case is still doing now, or undefined when it waits for a person, a message or the clock. */
async function busyWith(env: EmbeddedTestWorkflowEnvironment, workflowId: string): Promise<string | undefined> {
  const description = await env.client.workflow.getHandle(workflowId).describe();
  if (description.status.name !== 'RUNNING') return undefined;
  const { raw } = description;
  if (raw.pendingWorkflowTask) return `${workflowId} has a workflow task to run`;
  const activity = raw.pendingActivities?.[0];
  if (activity) {
    const failure = activity.lastFailure?.message ? `, last failed: ${activity.lastFailure.message}` : '';
    return `activity ${activity.activityType?.name ?? '?'} (attempt ${activity.attempt ?? 1}${failure})`;
  }
  for (const child of raw.pendingChildren ?? []) {
    if (!child.workflowId) continue;
    const busy = await busyWith(env, child.workflowId).catch(() => undefined);
    if (busy) return busy;
  }
  return undefined;
}

interface ExpectationContext {
  readonly engine: CaseEngine;
  readonly caseId: string;
  events(): Promise<SimulationEvent[]>;
  readonly source: CaseTimelineSource;
}

const minute = (iso: string) => new Date(iso).toISOString().slice(0, 16);

/** Why an expectation does not hold, or undefined when it does. */
async function expectationFailure(step: ScenarioStep, ctx: ExpectationContext): Promise<string | undefined> {
  if ('expectTask' in step) {
    const { task: elementId, open = true, dueAt } = step.expectTask;
    const openTasks = await listTasks(ctx.engine, { caseId: ctx.caseId });
    const found = openTasks.find((t) => t.elementId === elementId);
    if (!open) return found ? `${elementId} is open` : undefined;
    if (!found) return `${elementId} is not open (open: ${openTasks.map((t) => t.elementId).join(', ') || 'nothing'})`;
    // To the minute: a due date counted from when the task opened carries the milliseconds the work took.
    if (dueAt !== undefined && (found.dueAt === null || minute(found.dueAt) !== minute(dueAt)))
      return `${elementId} is due ${found.dueAt ?? 'at no set time'}, not ${new Date(dueAt).toISOString()}`;
    return undefined;
  }
  if ('expectNotice' in step) {
    const { to, kind, subject, at } = step.expectNotice;
    const names = new Set([to, ...staffHolding(to)].map((n) => n.toLowerCase()));
    const notices = (await ctx.events()).filter((e) =>
      ['notification', 'reminder', 'overdue', 'notice'].includes(e.kind),
    );
    const matches = notices.filter((e) => {
      const recipient = e.recipient?.replace(/\s*<.*$/, '').toLowerCase();
      return (
        recipient !== undefined &&
        names.has(recipient) &&
        (kind === undefined || e.noticeKind === kind) &&
        (subject === undefined || (e.subject ?? e.text).toLowerCase().includes(subject.toLowerCase())) &&
        (at === undefined || minute(e.at) === minute(at))
      );
    });
    if (matches.length > 0) return undefined;
    const sent = notices
      .filter((e) => e.recipient)
      .slice(-5)
      .map((e) => `${e.at} ${e.noticeKind ?? e.kind} to ${e.recipient}: ${e.subject ?? e.text}`);
    const wanted = [kind, subject ? `'${subject}'` : undefined, at ? `at ${minute(at)}` : undefined]
      .filter(Boolean)
      .join(' ');
    return `no notice ${wanted ? `${wanted} ` : ''}was sent to ${to}${sent.length ? ` (the last sent: ${sent.join('; ')})` : ' (none was sent)'}`;
  }
  if ('expectEnded' in step) {
    const { root } = await collectCaseTimeline(ctx.source);
    if (root.status === 'active') return 'the case has not ended';
    const { status } = step.expectEnded;
    return status === undefined || root.status === status ? undefined : `the case ended ${root.status}, not ${status}`;
  }
  return undefined;
}
