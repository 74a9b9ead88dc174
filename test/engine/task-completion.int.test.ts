/**
 * Task completions carry an id (the Temporal update id): the same completion sent again answers with its
 * first outcome and is applied once, also after the case's run continued as new and after the case closed;
 * another completion of a completed task is a conflict. On the embedded server in this process, with the
 * real activities. The same through `throughcare task complete` is in test/integration/case-cli.int.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { completeTask, getPathwayVersion, startCase, workflowIdOf, type CaseEngine } from '../../engine';
import { createRecordActivities } from '../../activities/records';
import { silentLogger } from '../../log';
import type { Store } from '../../store';
import { startTemporalServer, type TemporalServer } from '../../temporal-server';
import { WORKFLOWS_PATH } from '../../worker';
import type { RunPathwayInput } from '../../workflows';
import { useFreshDatabase } from '../support/database';
import { eventually } from '../support/eventually';
import { installQuietRuntime } from '../support/sdk-runtime';
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
import { CASE_SEARCH_ATTRIBUTES } from '../../worker/case-search-attributes';

const TASK_QUEUE = 'task-completion';

describe('task completion ids', () => {
  let store: Store;
  let server: TemporalServer;
  let connection: Connection;
  let nativeConnection: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;
  let engine: CaseEngine;
  let settingOdsCode: string;
  // Declared before useFreshDatabase so that they stop before the database is dropped under them.
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await nativeConnection?.close();
    await connection?.close();
    await server?.stop();
    await store?.close();
  }, 60_000);
  const db = useFreshDatabase('task_completion');

  beforeAll(async () => {
    installQuietRuntime();
    ({ store, settingOdsCode } = await prepareStore(db.url));
    server = await startTemporalServer({
      address: '127.0.0.1:0',
      databaseUrl: db.url,
      searchAttributes: CASE_SEARCH_ATTRIBUTES,
    });
    connection = await Connection.connect({ address: server.address });
    nativeConnection = await NativeConnection.connect({ address: server.address });
    worker = await Worker.create({
      connection: nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowsPath: WORKFLOWS_PATH,
      activities: realActivities(store),
    });
    running = worker.run();
    engine = { store, client: new Client({ connection }), taskQueue: TASK_QUEUE, logger: silentLogger, now: formClock };
  }, 120_000);

  const start = async () =>
    (await startCase(engine, { pathwayId: PATHWAY_ID, nhsNumber: NHS_NUMBER, settingOdsCode, startedBy: 'nurse-1' }))
      .caseId;
  const complete = (taskId: string, completionId: string, formId: 'sms-brief-intervention' | 'sms-care-plan') =>
    completeTask(engine, { taskId, data: validSubmission(formId), completedBy: 'nurse-1', completionId });
  const updatesIn = async (workflowId: string, runId?: string) =>
    ((await engine.client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [])
      .map((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.protocolInstanceId)
      .filter((id): id is string => typeof id === 'string');

  it('answers the same completion id again with the first result, and completes the task once', async () => {
    // given an open first review
    const caseId = await start();
    const first = await taskOf(engine, caseId, 'FirstReview');

    // when the same completion is sent twice
    const result = await complete(first.taskId, 'completion-once', 'sms-brief-intervention');
    const again = await complete(first.taskId, 'completion-once', 'sms-brief-intervention');

    // then both answers are the first one, and the task was completed once: the next task opened once, one
    // assessment saved, one audit row per closed task, the completion id recorded in the worklist
    expect(result).toMatchObject({ completionId: 'completion-once', status: 'active' });
    expect(result.taskId).toMatch(/^FirstReview#/);
    expect(again).toEqual(result);
    await taskOf(engine, caseId, 'SecondReview');
    await taskOf(engine, caseId, 'FirstReview', 'completed');
    expect(await updatesIn(workflowIdOf(caseId))).toEqual(['completion-once']);
    const counts = await countsOf(store, caseId);
    expect(counts).toMatchObject({ rows: { FirstReview: 1, SecondReview: 1 }, taskAudits: 1, assessments: 1 });
    expect(counts.completed['FirstReview']).toEqual({
      completedBy: 'nurse-1',
      completionId: 'completion-once',
      completedAt: result.completedAt,
    });
  });

  it('refuses another completion of a completed task, and a completion id already used for another task', async () => {
    // given a first review completed by one completion
    const caseId = await start();
    const first = await taskOf(engine, caseId, 'FirstReview');
    await complete(first.taskId, 'completion-first', 'sms-brief-intervention');
    const second = await taskOf(engine, caseId, 'SecondReview');

    // when another completion is sent for it, and the first completion's id is used for the second review
    const another = complete(first.taskId, 'completion-other', 'sms-brief-intervention');
    const reused = complete(second.taskId, 'completion-first', 'sms-care-plan');

    // then both are conflicts, and nothing more was recorded
    await expect(another).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('is already completed'),
    });
    await expect(reused).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('completion-first completed task FirstReview#'),
    });
    expect(await countsOf(store, caseId)).toMatchObject({
      rows: { FirstReview: 1, SecondReview: 1 },
      taskAudits: 1,
      assessments: 1,
    });
    expect((await taskOf(engine, caseId, 'SecondReview')).status).toBe('open');
  });

  it('answers a completion sent again after the run continued as new, and after the case closed', async () => {
    // given a case whose run continues as new whenever it is quiet (as a long-running case does)
    const caseId = await startContinuingCase();
    const workflowId = workflowIdOf(caseId);
    const first = await taskOf(engine, caseId, 'FirstReview');
    const firstResult = await complete(first.taskId, 'completion-before-can', 'sms-brief-intervention');
    const second = await taskOf(engine, caseId, 'SecondReview');
    await awaitRunWithoutUpdates(caseId);

    // when it is sent again to the new run, which the server has no update of that id for
    const afterContinueAsNew = await complete(first.taskId, 'completion-before-can', 'sms-brief-intervention');

    // then the workflow recognises it (accepts it, not refuses it) and answers with the first result, recording
    // nothing more
    expect(afterContinueAsNew).toEqual(firstResult);
    expect(await updatesIn(workflowId)).toEqual(['completion-before-can']);
    expect(await countsOf(store, caseId)).toMatchObject({ rows: { FirstReview: 1, SecondReview: 1 }, assessments: 1 });

    // and once the last task closes the case, the closed run still answers for its completions
    const secondResult = await complete(second.taskId, 'completion-last', 'sms-care-plan');
    expect(secondResult.status).toBe('completed');
    await engine.client.workflow.getHandle(workflowId).result();
    expect(await complete(second.taskId, 'completion-last', 'sms-care-plan')).toEqual(secondResult);

    // and in a case whose last run never saw the first completion (it closed in a later run), the worklist
    // projection answers for it, with the case's status now
    const otherCaseId = await startContinuingCase();
    const early = await taskOf(engine, otherCaseId, 'FirstReview');
    const earlyResult = await complete(early.taskId, 'completion-early', 'sms-brief-intervention');
    const last = await taskOf(engine, otherCaseId, 'SecondReview');
    await awaitRunWithoutUpdates(otherCaseId);
    await complete(last.taskId, 'completion-closing', 'sms-care-plan');
    await engine.client.workflow.getHandle(workflowIdOf(otherCaseId)).result();
    await taskOf(engine, otherCaseId, 'SecondReview', 'completed');
    expect(await complete(early.taskId, 'completion-early', 'sms-brief-intervention')).toEqual({
      ...earlyResult,
      status: 'completed',
    });
    await expect(complete(early.taskId, 'completion-late', 'sms-brief-intervention')).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('is closed (completed)'),
    });
    expect(await countsOf(store, otherCaseId)).toMatchObject({
      rows: { FirstReview: 1, SecondReview: 1 },
      taskAudits: 2,
      assessments: 1,
    });
  });

  /** Records a case as startCase does, and starts its workflow to continue as new at every quiet moment. */
  async function startContinuingCase(): Promise<string> {
    const caseId = randomUUID();
    const version = await getPathwayVersion(store, PATHWAY_ID);
    await createRecordActivities({ store, logger: silentLogger }).openCase({
      caseId,
      workflowId: workflowIdOf(caseId),
      nhsNumber: NHS_NUMBER,
      settingOdsCode,
      pathwayId: PATHWAY_ID,
      pathwayVersion: version.version,
      actor: { id: 'nurse-1', role: 'clinician' },
    });
    const input: RunPathwayInput = {
      ir: version.ir,
      caseId,
      variables: { caseId, nhsNumber: NHS_NUMBER, settingOdsCode },
      historyLengthLimit: 1,
    };
    await engine.client.workflow.start('runPathway', {
      workflowId: workflowIdOf(caseId),
      taskQueue: TASK_QUEUE,
      args: [input],
    });
    return caseId;
  }

  /** Waits until the case's current run is one that has received no update (it continued as new since). */
  async function awaitRunWithoutUpdates(caseId: string): Promise<void> {
    await eventually(
      'a run that has not seen the completion',
      () => updatesIn(workflowIdOf(caseId)),
      (ids) => ids.length === 0,
      { timeoutMs: 20_000, intervalMs: 50 },
    );
  }
});
