/**
 * Incidents on the time-skipping server with the real activities: a service task whose activity fails every
 * attempt leaves the case running, waiting at that task, with an incident recorded and a "Resolve incident" task
 * in the worklist; completing that task through the engine's `completeTask` retries or skips the step; and a
 * person can end the case, withdrawing its tasks and incidents.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { createActivities, createLocalInboxTransport, createSpineClient } from '../../activities';
import { createRecordActivities } from '../../activities/records';
import { compilePathwayIR, type PathwayIR } from '../../bpmn';
import { ValidationError } from '../../domain/errors';
import { completeTask, listIncidents, listTasks, terminateCase, type CaseEngine } from '../../engine';
import { silentLogger } from '../../log';
import { migrateDatabase, openStore, type Store } from '../../store';
import { createTestWorkflowEnvironment, type EmbeddedTestWorkflowEnvironment } from '../../temporal-server';
import {
  completeTaskUpdate,
  stateQuery,
  type PathwayView,
  type runPathway,
  type ServiceTaskActivityInput,
} from '../../workflows';
import { useFreshDatabase } from '../support/database';
import { eventually } from '../support/eventually';
import { installQuietRuntime } from '../support/sdk-runtime';
import { CASE_SEARCH_ATTRIBUTES } from '../../worker/case-search-attributes';

const TASK_QUEUE = 'incidents';
const NHS_NUMBER = '9434765919';

/** The referral service: down while `down` is set (every attempt fails, retryably), else it answers. */
const referralService = { down: true, calls: 0 };
async function sendReferral(input: ServiceTaskActivityInput): Promise<Record<string, unknown>> {
  referralService.calls += 1;
  await Promise.resolve();
  if (referralService.down)
    throw ApplicationFailure.retryable('The referral service did not answer', 'REFERRAL_UNAVAILABLE');
  return { referralId: `ref-${input.activityId}` };
}

describe('incidents on the time-skipping server, with the real activities', () => {
  let store: Store;
  let env: EmbeddedTestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let engine: CaseEngine;
  let ir: PathwayIR;
  let settingOdsCode: string;
  // Declared before useFreshDatabase so that they stop before the database is dropped under them.
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
    await store?.close();
  }, 60_000);
  const db = useFreshDatabase('incidents');
  const knex = () => store.orm.em.getConnection().getKnex();

  beforeAll(async () => {
    installQuietRuntime();
    await migrateDatabase(db.url, silentLogger);
    store = await openStore(db.url);
    settingOdsCode = `I${randomUUID().slice(0, 5).toUpperCase()}`;
    await knex()('settings').insert({
      id: randomUUID(),
      ods_code: settingOdsCode,
      name: 'HMP Incidents',
      kind: 'prison',
      prison_type: 'HMP',
    });
    ir = await compilePathwayIR(
      readFileSync(path.join(__dirname, '..', 'fixtures', 'bpmn', 'referral-with-care-plan.bpmn'), 'utf8'),
    );
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
    });
    running = worker.run();
    engine = {
      store,
      client: env.client,
      taskQueue: TASK_QUEUE,
      logger: silentLogger,
      now: () => new Date('2099-01-01T00:00:00Z'),
    };
  }, 120_000);

  beforeEach(() => {
    referralService.down = true;
  });

  /** A case whose referral fails every attempt: waits until its incident is open, in the state and the record. */
  async function caseWithIncident() {
    const caseId = randomUUID();
    await createRecordActivities({ store, logger: silentLogger }).openCase({
      caseId,
      workflowId: `case-${caseId}`,
      nhsNumber: NHS_NUMBER,
      settingOdsCode,
      pathwayId: ir.processId,
      pathwayVersion: 1,
      actor: { id: 'nurse-1', role: 'clinician' },
    });
    const handle = await env.client.workflow.start<typeof runPathway>('runPathway', {
      taskQueue: TASK_QUEUE,
      workflowId: `case-${caseId}`,
      args: [{ ir, caseId, variables: { caseId, referralService: 'community-substance-misuse' } }],
    });
    const view = await waitFor(handle, (v) => v.incidents.some((i) => !i.resolution));
    const [incident] = await eventually(
      'the incident recorded and its task in the worklist',
      async () => {
        const tasks = await listTasks(engine, { caseId });
        const incidents = await listIncidents(engine, { caseId, open: true });
        return tasks.some((t) => t.formId === 'incident-resolution') ? incidents : [];
      },
      (incidents) => incidents.length === 1,
    );
    return { caseId, handle, view, incident: incident! };
  }

  async function waitFor(
    handle: WorkflowHandle<typeof runPathway>,
    predicate: (view: PathwayView) => boolean,
  ): Promise<PathwayView> {
    return eventually('the pathway state', () => handle.query(stateQuery), predicate, {
      timeoutMs: 30_000,
      intervalMs: 50,
    });
  }

  async function auditOf(incidentId: string) {
    return knex()('audit_events')
      .where({ entity_type: 'Incident', entity_id: incidentId })
      .orderBy('occurred_at')
      .select<{ action: string; actor_id: string; reason: string | null }[]>('action', 'actor_id', 'reason');
  }

  it('keeps the case running with an incident and a task to resolve it, and moves on when it is retried', async () => {
    const { caseId, handle, incident } = await caseWithIncident();

    // Then: the case is running, waiting at the referral; the care plan is still in the worklist.
    expect((await handle.describe()).status.name).toBe('RUNNING');
    expect(incident).toMatchObject({
      caseId,
      incidentId: expect.stringMatching(new RegExp(`^case-${caseId}/SendReferral#\\d+/incident#\\d+$`)),
      elementId: 'SendReferral',
      elementName: 'Send the referral',
      kind: 'activityFailed',
      taskType: 'test.sendReferral',
      errorCode: 'REFERRAL_UNAVAILABLE',
      message: 'The referral service did not answer',
      attempts: 2,
      retryable: true,
      status: 'open',
      resolution: null,
    });
    expect(referralService.calls).toBeGreaterThanOrEqual(2);
    const tasks = await listTasks(engine, { caseId });
    expect(tasks.map((t) => [t.name, t.formId, t.candidateGroups]).sort()).toEqual([
      ['Resolve incident: Send the referral', 'incident-resolution', ['ops']],
      ['Write the care plan', 'sms-care-plan', ['sms-team']],
    ]);
    expect(tasks.find((t) => t.formId === 'incident-resolution')?.taskId).toBe(incident.incidentId);
    expect(await auditOf(incident.incidentId)).toEqual([
      expect.objectContaining({ action: 'create', actor_id: 'system:pathway' }),
    ]);

    // When: the service is back, and ops retry through the worklist.
    referralService.down = false;
    const retried = await completeTask(engine, {
      taskId: incident.incidentId,
      data: { action: 'retry', reason: 'the referral service is back' },
      completedBy: 'ops-1',
    });

    // Then: the referral is sent from the same task instance, and the case completes with the care plan.
    expect(retried.status).toBe('active');
    const sent = await waitFor(handle, (v) => v.variables['referralId'] !== undefined);
    expect(sent.variables['referralId']).toBe(`ref-${incident.incidentId.split('/')[1]}`);
    const carePlan = sent.openTasks.find((t) => t.elementId === 'CarePlan');
    await handle.executeUpdate(completeTaskUpdate, { args: [{ taskId: carePlan!.taskId }] });
    expect(await handle.result()).toMatchObject({ status: 'completed' });
    const [resolved] = await eventually(
      'the resolution recorded',
      () => listIncidents(engine, { caseId }),
      (found) => found[0]?.status === 'retried',
    );
    expect(resolved?.resolution).toMatchObject({
      outcome: 'retried',
      reason: 'the referral service is back',
      resolvedBy: 'ops-1',
    });
    const closed = (await listTasks(engine, { caseId, includeClosed: true })).find(
      (t) => t.taskId === incident.incidentId,
    );
    expect(closed).toMatchObject({ status: 'completed', completedBy: 'ops-1', completionId: retried.completionId });
    expect(await auditOf(incident.incidentId)).toEqual([
      expect.objectContaining({ action: 'create' }),
      expect.objectContaining({ action: 'update', actor_id: 'ops-1', reason: expect.stringContaining('retried') }),
    ]);
  }, 90_000);

  it('moves on without the step when it is skipped, with the reason recorded', async () => {
    const { caseId, handle, incident } = await caseWithIncident();

    await expect(
      completeTask(engine, { taskId: incident.incidentId, data: { action: 'skip' }, completedBy: 'ops-2' }),
    ).rejects.toBeInstanceOf(ValidationError);
    await completeTask(engine, {
      taskId: incident.incidentId,
      data: { action: 'skip', reason: 'Referred by phone; the service confirmed it' },
      completedBy: 'ops-2',
    });

    const moved = await waitFor(handle, (v) =>
      v.trail.some((e) => e.elementId === 'SendReferral' && e.outcome === 'skipped'),
    );
    expect(moved.variables).not.toHaveProperty('referralId');
    expect(moved.incidents).toEqual([
      expect.objectContaining({
        id: incident.incidentId.split('/').slice(1).join('/'),
        resolution: expect.objectContaining({
          outcome: 'skipped',
          reason: 'Referred by phone; the service confirmed it',
        }),
      }),
    ]);
    const carePlan = moved.openTasks.find((t) => t.elementId === 'CarePlan');
    await handle.executeUpdate(completeTaskUpdate, { args: [{ taskId: carePlan!.taskId }] });
    expect(await handle.result()).toMatchObject({ status: 'completed' });
    const [skipped] = await eventually(
      'the skip recorded',
      () => listIncidents(engine, { caseId, open: false }),
      (found) => found.length === 1,
    );
    expect(skipped?.resolution).toMatchObject({
      outcome: 'skipped',
      reason: 'Referred by phone; the service confirmed it',
      resolvedBy: 'ops-2',
    });
    expect(await auditOf(incident.incidentId)).toContainEqual(
      expect.objectContaining({
        action: 'update',
        actor_id: 'ops-2',
        reason: 'incident skipped: Referred by phone; the service confirmed it',
      }),
    );
  }, 90_000);

  it('withdraws the open tasks and incidents of a case a person terminates, with the reason', async () => {
    const { caseId, handle, incident } = await caseWithIncident();
    // Planned work the pathway would have opened later: withdrawn with the same reason.
    await createRecordActivities({ store, logger: silentLogger }).planWorklistTasks({
      caseId,
      workflowId: handle.workflowId,
      planKey: 'PlanMilestones#1',
      tasks: [{ elementId: 'Review', name: 'Review', dueAt: '2030-01-01T23:59:59Z', candidateGroups: ['sms-team'] }],
      actor: { id: 'system:pathway', role: 'system' },
    });

    const terminated = await terminateCase(engine, caseId, {
      reason: 'Released from court',
      terminatedBy: 'nurse-2',
    });

    expect(terminated).toMatchObject({ caseId, reason: 'Released from court', terminatedBy: 'nurse-2' });
    expect(await handle.result()).toMatchObject({ status: 'terminated' });
    const tasks = await eventually(
      'every task closed',
      () => listTasks(engine, { caseId, includeClosed: true }),
      (found) => found.every((t) => t.status !== 'open'),
    );
    expect(tasks.map((t) => t.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect(tasks.find((t) => t.elementId === 'Review')).toMatchObject({
      taskId: `${handle.workflowId}/planned/Review/PlanMilestones#1`,
      status: 'cancelled',
    });
    expect(
      await knex()('worklist_tasks')
        .where({ case_id: caseId, element_id: 'Review' })
        .first<{ cancel_reason: string }>('cancel_reason'),
    ).toEqual({ cancel_reason: 'Released from court' });
    const [withdrawn] = await eventually(
      'the incident cancelled',
      () => listIncidents(engine, { caseId }),
      (found) => found[0]?.status === 'cancelled',
    );
    expect(withdrawn?.resolution?.reason).toBe('terminated by nurse-2: Released from court');
    expect(withdrawn?.incidentId).toBe(incident.incidentId);
    const row = await knex()('cases')
      .where({ id: caseId })
      .first<{ status: string; close_reason: string }>('status', 'close_reason');
    expect(row).toEqual({ status: 'closed', close_reason: 'terminated: Released from court' });
    await expect(terminateCase(engine, caseId, { reason: 'again', terminatedBy: 'nurse-2' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  }, 90_000);
});
