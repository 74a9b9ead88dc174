/**
 * The case services on the time-skipping embedded server: a case is recorded and its workflow started,
 * its state can be read, and a message reaches the call activity's child that is waiting for it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { deployPathway, messageCase, showCase, startCase, caseResult, type CaseEngine } from '../../engine';
import { silentLogger } from '../../log';
import { CaseSchema, migrateDatabase, openStore, SettingSchema, type Store } from '../../store';
import { createTestWorkflowEnvironment, type EmbeddedTestWorkflowEnvironment } from '../../temporal-server';
import { WORKFLOWS_PATH } from '../../worker';
import type { PathwayView } from '../../workflows';
import { useFreshDatabase } from '../support/database';
import { eventually } from '../support/eventually';
import { installQuietRuntime } from '../support/sdk-runtime';
import { CASE_SEARCH_ATTRIBUTES } from '../../worker/case-search-attributes';

const TASK_QUEUE = 'engine-cases';

const fixture = (name: string) =>
  fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'bpmn', `${name}.bpmn`), 'utf8');

describe('case services', () => {
  let store: Store;
  let env: EmbeddedTestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let engine: CaseEngine;
  // Declared before useFreshDatabase so that they stop before the database is dropped under them.
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
    await store?.close();
  });
  const db = useFreshDatabase('engine_cases');

  beforeAll(async () => {
    installQuietRuntime();
    await migrateDatabase(db.url, silentLogger);
    store = await openStore(db.url);
    const em = store.fork();
    em.create(SettingSchema, {
      odsCode: 'XCUS01',
      name: 'Test custody suite',
      kind: 'custody_suite',
      prisonType: null,
      createdAt: new Date(),
    });
    await em.flush();
    const lint = { taskTypes: [], formIds: [], deployedBy: 'test' };
    await deployPathway(store, fixture('child-waits-for-message'), lint);
    await deployPathway(store, fixture('parent-calls-child'), lint);

    env = await createTestWorkflowEnvironment({ databaseUrl: db.url, searchAttributes: CASE_SEARCH_ATTRIBUTES });
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowsPath: WORKFLOWS_PATH,
      activities: {
        openTask: () => Promise.resolve(),
        closeTask: () => Promise.resolve(),
        resolvePathway: () => Promise.reject(new Error('called pathways are pinned at case start')),
      },
    });
    running = worker.run();
    engine = { store, client: env.client, taskQueue: TASK_QUEUE, logger: silentLogger };
  });

  it('records the case, starts its workflow and delivers a message to the child that waits for it', async () => {
    const started = await startCase(engine, {
      pathwayId: 'ParentJourney',
      nhsNumber: '943 476 5919',
      settingOdsCode: 'XCUS01',
      startedBy: 'nurse-1',
    });
    expect(started).toMatchObject({ pathwayId: 'ParentJourney', version: 1, workflowId: `case-${started.caseId}` });
    const row = await store.fork().findOneOrFail(CaseSchema, { id: started.caseId }, { populate: ['patient'] });
    expect(row).toMatchObject({ workflowId: started.workflowId, status: 'open', pathwayId: 'ParentJourney' });

    // The parent waits in its call activity; the child is the one subscribed to the message. Send once the
    // child is listening, so that it catches the message now (sent earlier, the parent would keep it for it).
    const parent = env.client.workflow.getHandle(started.workflowId);
    await eventually(
      'the child subscribed to custody.leaving',
      async () => {
        const [child] = (await parent.describe()).raw.pendingChildren ?? [];
        if (!child?.workflowId) return false;
        const childView = await env.client.workflow.getHandle(child.workflowId).query<PathwayView>('state');
        return childView.messageSubscriptions.some((m) => m.messageName === 'custody.leaving');
      },
      (subscribed) => subscribed,
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    const delivered = await messageCase(engine, started.caseId, { name: 'custody.leaving' });
    expect(delivered).toMatchObject({ caseId: started.caseId, correlationKey: started.caseId, outcome: 'correlated' });
    expect(delivered.deliveries).toEqual([
      {
        workflowId: started.workflowId,
        outcome: 'ignored',
        processId: 'ParentJourney',
        reason: expect.stringContaining('a running child pathway caught or kept it'),
      },
      expect.objectContaining({
        workflowId: expect.stringMatching(new RegExp(`^${started.workflowId}/CustodyStage#`)),
        outcome: 'correlated',
        processId: 'ChildStage',
        elementId: 'PersonLeaves',
        name: 'Person leaves custody',
      }),
    ]);

    await expect(caseResult(engine, started.caseId)).resolves.toMatchObject({ status: 'completed' });
    const view = await showCase(engine, started.caseId);
    expect(view.executionStatus).toBe('COMPLETED');
    expect(view.pathway.trail.map((t) => t.elementId)).toEqual(['JourneyStarts', 'CustodyStage', 'JourneyEnds']);
  });

  it('refuses a message no pathway of the case can ever catch, and an invalid time to live', async () => {
    const started = await startCase(engine, {
      pathwayId: 'ParentJourney',
      nhsNumber: '943 476 5919',
      settingOdsCode: 'XCUS01',
      startedBy: 'nurse-1',
    });

    await expect(messageCase(engine, started.caseId, { name: 'court.outcome' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: `Case ${started.caseId} can never catch message 'court.outcome'`,
      problems: [{ pointer: '/name', detail: expect.stringContaining("catches message 'court.outcome'") }],
    });
    await expect(
      messageCase(engine, started.caseId, { name: 'custody.leaving', timeToLive: 'a day' }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', problems: [{ pointer: '/timeToLive' }] });
    const view = await showCase(engine, started.caseId);
    expect(view.pathway.bufferedMessages).toEqual([]);
    await env.client.workflow.getHandle(started.workflowId).terminate('test finished');
  });

  it('says a closed case is closed, with its status, instead of that it does not exist', async () => {
    const started = await startCase(engine, {
      pathwayId: 'ParentJourney',
      nhsNumber: '943 476 5919',
      settingOdsCode: 'XCUS01',
      startedBy: 'nurse-1',
    });
    await env.client.workflow.getHandle(started.workflowId).terminate('closed by the test');

    await expect(messageCase(engine, started.caseId, { name: 'custody.leaving' })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: `Case ${started.caseId} is closed (terminated): message 'custody.leaving' was not delivered`,
    });
  });

  it('refuses an invalid NHS number before anything is recorded', async () => {
    await expect(
      startCase(engine, {
        pathwayId: 'ParentJourney',
        nhsNumber: '1234567890',
        settingOdsCode: 'XCUS01',
        startedBy: 'nurse-1',
      }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', problems: [{ pointer: '/nhsNumber' }] });
  });

  it('answers NOT_FOUND for a case the engine does not know', async () => {
    await expect(showCase(engine, '00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(messageCase(engine, '00000000-0000-4000-8000-000000000000', { name: 'x' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});
