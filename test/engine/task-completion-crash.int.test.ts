/**
 * A task completion survives the workflow engine being killed (SIGKILL) under it: the server runs as
 * `throughcare temporal-server` in a child process on the test's database, the client reaches it through a
 * TCP proxy that can withhold the server's answers and cut the connection, and the worker (real activities)
 * connects directly. Whatever the moment of the kill, `completeTask` with the same completion id ends with the
 * real outcome, and the task is completed once: the next task opens once, one assessment, one audit row.
 */
import net from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import {
  DefaultLogger,
  NativeConnection,
  Worker,
  bundleWorkflowCode,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import {
  CompletionOutcomeUnknownError,
  completeTask,
  startCase,
  workflowIdOf,
  type CaseEngine,
  type TaskCompletionResult,
} from '../../engine';
import { silentLogger } from '../../log';
import type { Store } from '../../store';
import { WORKFLOWS_PATH } from '../../worker';
import { useFreshDatabase } from '../support/database';
import { eventually } from '../support/eventually';
import { installQuietRuntime } from '../support/sdk-runtime';
import { startServerProcess, type ServerProcess } from '../temporal-server/support';
import {
  NHS_NUMBER,
  PATHWAY_ID,
  countsOf,
  formClock,
  prepareStore,
  realActivities,
  taskOf,
  validSubmission,
} from './task-completion-support';

const TASK_QUEUE = 'task-completion-crash';
const Stage = temporal.api.enums.v1.UpdateWorkflowExecutionLifecycleStage;

interface Proxy {
  readonly address: string;
  /** From now on the server's bytes are dropped: requests arrive, no answer does. */
  withholdAnswers(): void;
  /** Cuts every connection (the client sees them reset) and passes answers again on new ones. */
  cutAll(): void;
  close(): Promise<void>;
}

/** A TCP proxy to `target`: what a client sees of a server that dies between taking a request and answering. */
async function startProxy(target: string): Promise<Proxy> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const sockets = new Set<net.Socket>();
  let withholding = false;
  const proxy = net.createServer((client) => {
    const upstream = net.connect(port, host);
    const pair = [client, upstream];
    for (const socket of pair) {
      sockets.add(socket);
      socket.on('error', () => pair.forEach((s) => s.destroy()));
      socket.on('close', () => {
        pair.forEach((s) => s.destroy());
        sockets.delete(socket);
      });
    }
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => {
      if (!withholding) client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port: proxyPort } = proxy.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${proxyPort}`,
    withholdAnswers: () => {
      withholding = true;
    },
    cutAll: () => {
      for (const socket of sockets) socket.destroy();
      withholding = false;
    },
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => proxy.close(() => resolve()));
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

describe('task completion across a kill -9 of the workflow engine', () => {
  let store: Store;
  let server: ServerProcess | undefined;
  let address: string;
  let proxy: Proxy;
  let connection: Connection;
  let direct: Connection;
  let nativeConnection: NativeConnection;
  let workflowBundle: WorkflowBundleWithSourceMap;
  let worker: { worker: Worker; running: Promise<void> } | undefined;
  let engine: CaseEngine;
  let settingOdsCode: string;
  // Declared before useFreshDatabase so that they stop before the database is dropped under them.
  afterAll(async () => {
    await stopWorker();
    await nativeConnection?.close();
    await connection?.close();
    await direct?.close();
    await proxy?.close();
    await server?.stop();
    await store?.close();
  }, 60_000);
  const db = useFreshDatabase('task_completion_crash');

  async function startWorker(): Promise<void> {
    const created = await Worker.create({
      connection: nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowBundle,
      activities: realActivities(store),
    });
    worker = { worker: created, running: created.run() };
  }

  async function stopWorker(): Promise<void> {
    if (!worker) return;
    if (worker.worker.getState() === 'RUNNING') worker.worker.shutdown();
    await worker.running;
    worker = undefined;
  }

  async function killServer(): Promise<void> {
    await server!.kill();
    proxy.cutAll();
  }

  async function restartServer(): Promise<void> {
    server = await startServerProcess({ address, databaseUrl: db.url });
  }

  beforeAll(async () => {
    installQuietRuntime('ERROR');
    ({ store, settingOdsCode } = await prepareStore(db.url));
    address = `127.0.0.1:${await freePort()}`;
    server = await startServerProcess({ address, databaseUrl: db.url });
    proxy = await startProxy(address);
    connection = await Connection.connect({ address: proxy.address });
    direct = await Connection.connect({ address });
    nativeConnection = await NativeConnection.connect({ address });
    workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
    await startWorker();
    engine = { store, client: new Client({ connection }), taskQueue: TASK_QUEUE, logger: silentLogger, now: formClock };
  }, 180_000);

  const directClient = () => new Client({ connection: direct });
  const submission = validSubmission('sms-brief-intervention');
  const start = async () =>
    (await startCase(engine, { pathwayId: PATHWAY_ID, nhsNumber: NHS_NUMBER, settingOdsCode, startedBy: 'nurse-1' }))
      .caseId;
  const updateEvents = async (caseId: string) =>
    ((await directClient().workflow.getHandle(workflowIdOf(caseId)).fetchHistory()).events ?? []).filter(
      (e) => e.workflowExecutionUpdateAcceptedEventAttributes || e.workflowExecutionUpdateCompletedEventAttributes,
    );

  it('answers the call in flight with the real outcome when the server is killed after applying it', async () => {
    // given an open first review, and a completion the server applies but whose answer never reaches the client
    const caseId = await start();
    const first = await taskOf(engine, caseId, 'FirstReview');
    proxy.withholdAnswers();
    const pending = completeTask(engine, {
      taskId: first.taskId,
      data: submission,
      completedBy: 'nurse-1',
      completionId: 'crash-after-apply',
    });
    let answered = false;
    const outcome = pending
      .then(
        (result) => ({ result }),
        (error: unknown) => ({ error }),
      )
      .finally(() => {
        answered = true;
      });
    await eventually(
      'the completion applied',
      () => updateEvents(caseId),
      (events) => events.length === 2,
      {
        intervalMs: 10,
      },
    );

    // when the server is killed before it could answer, and comes back on the same database
    expect(answered).toBe(false);
    await killServer();
    await new Promise((r) => setTimeout(r, 500));
    await restartServer();

    // then the same call, sending the same completion again, gets the outcome the server recorded
    const settled = await outcome;
    expect(settled).toEqual({
      result: expect.objectContaining({ completionId: 'crash-after-apply', status: 'active' }),
    });
    const result = (settled as { result: TaskCompletionResult }).result;
    expect(result.taskId).toMatch(/^FirstReview#/);
    // and it was applied once
    await taskOf(engine, caseId, 'SecondReview');
    await taskOf(engine, caseId, 'FirstReview', 'completed');
    expect(await updateEvents(caseId)).toHaveLength(2);
    const counts = await countsOf(store, caseId);
    expect(counts).toMatchObject({ rows: { FirstReview: 1, SecondReview: 1 }, taskAudits: 1, assessments: 1 });
    expect(counts.completed['FirstReview']).toMatchObject({
      completionId: 'crash-after-apply',
      completedAt: result.completedAt,
    });
    // and sending it once more answers the same
    expect(
      await completeTask(engine, {
        taskId: first.taskId,
        data: submission,
        completedBy: 'nurse-1',
        completionId: 'crash-after-apply',
      }),
    ).toEqual(result);
  }, 120_000);

  it('reports the outcome unknown when the engine stays down, and the same completion id then applies it once', async () => {
    // given an open first review and no worker, so that a completion is taken (admitted) but not yet applied
    const caseId = await start();
    const first = await taskOf(engine, caseId, 'FirstReview');
    await stopWorker();
    const command = {
      taskId: first.taskId,
      data: submission,
      completedBy: 'nurse-1',
      completionId: 'crash-before-apply',
    };
    const outcome = completeTask(engine, { ...command, retryForMs: 4_000 }).then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
    await eventually(
      'the completion admitted',
      async () =>
        (
          await direct
            .withDeadline(Date.now() + 1_500, () =>
              direct.workflowService.pollWorkflowExecutionUpdate({
                namespace: 'default',
                updateRef: { workflowExecution: { workflowId: workflowIdOf(caseId) }, updateId: command.completionId },
                waitPolicy: { lifecycleStage: Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED },
              }),
            )
            .catch(() => undefined)
        )?.stage,
      (stage) => stage === Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED,
      { intervalMs: 20 },
    );

    // when the server is killed and stays down longer than the call keeps trying
    await killServer();
    const settled = await outcome;

    // then the call says the outcome is unknown, naming the completion id to send again, and nothing is applied
    expect(settled).toEqual({ error: expect.any(CompletionOutcomeUnknownError) });
    const error = (settled as { error: CompletionOutcomeUnknownError }).error;
    expect(error).toMatchObject({
      code: 'DEPENDENCY_UNAVAILABLE',
      retryable: true,
      completionId: 'crash-before-apply',
    });
    expect(error.message).toContain('is unknown');
    expect(error.message).toContain('crash-before-apply');
    expect((await countsOf(store, caseId)).rows).toEqual({ FirstReview: 1 });

    // when the engine is back (server and worker) and the same completion is sent again
    await restartServer();
    await startWorker();
    const result = await completeTask(engine, command);

    // then it is applied once: the completion the killed server took, not a second one
    expect(result).toMatchObject({ completionId: 'crash-before-apply', status: 'active' });
    await taskOf(engine, caseId, 'SecondReview');
    await taskOf(engine, caseId, 'FirstReview', 'completed');
    expect(await updateEvents(caseId)).toHaveLength(2);
    expect(await countsOf(store, caseId)).toMatchObject({
      rows: { FirstReview: 1, SecondReview: 1 },
      taskAudits: 1,
      assessments: 1,
    });
    // and another completion of the same task is a conflict, as before the crash
    await expect(completeTask(engine, { ...command, completionId: 'crash-other' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  }, 120_000);
});
