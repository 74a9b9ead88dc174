/**
 * The stuck signals a case keeps as search attributes (workflows/pathway/stuck-signals.ts), on the time-skipping
 * server with the real activities and the worker's failure reports (worker/activity-failures.ts): where the case
 * is, its open tasks, and an activity failing again and again, found by a List Filter query as the ops console
 * finds it, and cleared when the activity succeeds.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { createActivities, createLocalInboxTransport, createSpineClient } from '../../activities';
import { createRecordActivities } from '../../activities/records';
import { compilePathwayIR, type PathwayIR } from '../../bpmn';
import { silentLogger } from '../../log';
import { migrateDatabase, openStore, type Store } from '../../store';
import { createTestWorkflowEnvironment, type EmbeddedTestWorkflowEnvironment } from '../../temporal-server';
import { reportActivityFailures } from '../../worker/activity-failures';
import { CASE_SEARCH_ATTRIBUTES } from '../../worker/case-search-attributes';
import { type runPathway } from '../../workflows';
import { useFreshDatabase } from '../support/database';
import { eventually } from '../support/eventually';
import { installQuietRuntime } from '../support/sdk-runtime';

const TASK_QUEUE = 'stuck-signals';
const NHS_NUMBER = '9434765919';

const referralService = { down: true };
async function sendReferral(): Promise<Record<string, unknown>> {
  await Promise.resolve();
  if (referralService.down)
    throw ApplicationFailure.retryable('The referral service did not answer', 'REFERRAL_UNAVAILABLE');
  return { referralId: 'ref-1' };
}

describe('stuck signals on the time-skipping server', () => {
  let store: Store;
  let env: EmbeddedTestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let ir: PathwayIR;
  let settingOdsCode: string;
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
    await store?.close();
  }, 60_000);
  const db = useFreshDatabase('stuck_signals');

  beforeAll(async () => {
    installQuietRuntime();
    await migrateDatabase(db.url, silentLogger);
    store = await openStore(db.url);
    settingOdsCode = `S${randomUUID().slice(0, 5).toUpperCase()}`;
    await store.orm.em.getConnection().getKnex()('settings').insert({
      id: randomUUID(),
      ods_code: settingOdsCode,
      name: 'HMP Stuck',
      kind: 'prison',
      prison_type: 'HMP',
    });
    // Enough attempts to be failing for a while before an incident.
    const xml = readFileSync(path.join(__dirname, '..', 'fixtures', 'bpmn', 'referral-with-care-plan.bpmn'), 'utf8');
    ir = await compilePathwayIR(xml.replace('retries="2"', 'retries="50"'));
    env = await createTestWorkflowEnvironment({ databaseUrl: db.url, searchAttributes: CASE_SEARCH_ATTRIBUTES });
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowsPath: require.resolve('../../workflows'),
      activities: {
        ...createActivities({
          store,
          spine: createSpineClient({ baseUrl: 'http://127.0.0.1:9', retry: { maxAttempts: 1 } }),
          transport: createLocalInboxTransport({ store, logger: silentLogger }),
          logger: silentLogger,
        }),
        'test.sendReferral': sendReferral,
      },
      interceptors: { activity: [reportActivityFailures({ client: env.client, logger: silentLogger })] },
    });
    running = worker.run();
  }, 120_000);

  async function startCase() {
    const caseId = randomUUID();
    await createRecordActivities({ store, logger: silentLogger }).openCase({
      caseId,
      workflowId: `case-${caseId}`,
      nhsNumber: NHS_NUMBER,
      settingOdsCode,
      pathwayId: ir.processId,
      pathwayVersion: 3,
      actor: { id: 'nurse-1', role: 'clinician' },
    });
    const handle = await env.client.workflow.start<typeof runPathway>('runPathway', {
      taskQueue: TASK_QUEUE,
      workflowId: `case-${caseId}`,
      args: [
        {
          ir,
          caseId,
          pathwayVersionId: `${ir.processId}@3`,
          variables: { caseId, settingOdsCode, referralService: 'community-substance-misuse' },
        },
      ],
    });
    return handle;
  }

  const attributesOf = async (handle: Awaited<ReturnType<typeof startCase>>) =>
    (await handle.describe()).searchAttributes;

  it('says where the case is, what is open, and which activity keeps failing, until it succeeds', async () => {
    referralService.down = true;
    const handle = await startCase();

    const failing = await eventually(
      'the failing referral reported',
      () => attributesOf(handle),
      (attributes) => Number(attributes['FailingAttempts']?.[0] ?? 0) >= 3,
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(failing).toMatchObject({
      PathwayId: [ir.processId],
      PathwayVersion: [3],
      CaseSetting: [settingOdsCode],
      CurrentElements: expect.arrayContaining(['CarePlan', 'SendReferral']),
      OpenTaskCount: [1],
      OpenIncidentCount: [0],
      LastErrorType: ['REFERRAL_UNAVAILABLE'],
    });
    expect(failing['WaitingSince']?.[0]).toBeInstanceOf(Date);

    // Found as the ops console finds it.
    const query = `CaseSetting = '${settingOdsCode}' AND FailingAttempts >= 3 AND ExecutionStatus = 'Running'`;
    expect(await env.client.workflow.count(query)).toEqual({ count: 1, groups: [] });

    referralService.down = false;
    const recovered = await eventually(
      'the referral sent and the failure cleared',
      () => attributesOf(handle),
      (attributes) => Number(attributes['FailingAttempts']?.[0]) === 0,
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(recovered['LastErrorType']).toBeUndefined();
    expect(recovered['CurrentElements']).toEqual(['CarePlan']);
    expect((await env.client.workflow.count(query)).count).toBe(0);
    await handle.terminate('test over');
  }, 90_000);
});
