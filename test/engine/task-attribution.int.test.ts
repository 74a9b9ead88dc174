/**
 * Attribution: the records a task completion leads to (the assessment and note the pathway saves from it, the
 * worklist close) and their audit events name the person who completed the task, carried from the completion
 * into the workflow update and the activities; what the pathway does by itself (a step after a timer) is still
 * written as `system:pathway`. On the embedded server with the real activities, over
 * test/fixtures/bpmn/attributed-review.bpmn (Review, SaveReview, NoteReview, a 1 s timer, NoteLater).
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import {
  completeTask,
  deployPathway,
  shippedLintOptions,
  listTasks,
  startCase,
  workflowIdOf,
  type CaseEngine,
} from '../../engine';
import { silentLogger } from '../../log';
import type { Store } from '../../store';
import { startTemporalServer, type TemporalServer } from '../../temporal-server';
import { WORKFLOWS_PATH } from '../../worker';
import { useFreshDatabase } from '../support/database';
import { eventually } from '../support/eventually';
import { installQuietRuntime } from '../support/sdk-runtime';
import { formClock, prepareStore, realActivities, taskOf, validSubmission } from './task-completion-support';
import { CASE_SEARCH_ATTRIBUTES } from '../../worker/case-search-attributes';

const TASK_QUEUE = 'task-attribution';
const NHS_NUMBER = '9434765870';

interface NoteRow {
  id: string;
  body: string;
  author_id: string;
  author_role: string;
}

describe('who a completed task’s records name', () => {
  let store: Store;
  let server: TemporalServer;
  let connection: Connection;
  let nativeConnection: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;
  let engine: CaseEngine;
  let settingOdsCode: string;
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await nativeConnection?.close();
    await connection?.close();
    await server?.stop();
    await store?.close();
  }, 60_000);
  const db = useFreshDatabase('task_attribution');
  const knex = () => store.orm.em.getConnection().getKnex();

  beforeAll(async () => {
    installQuietRuntime();
    ({ store, settingOdsCode } = await prepareStore(db.url));
    for (const fixture of ['attributed-review', 'incident-review']) {
      const xml = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'bpmn', `${fixture}.bpmn`), 'utf8');
      await deployPathway(store, xml, { ...shippedLintOptions(), deployedBy: 'test' });
    }
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

  async function reviewed(actedBy?: Parameters<typeof completeTask>[1]['actedBy']) {
    const { caseId } = await startCase(engine, {
      pathwayId: 'AttributedReview',
      nhsNumber: NHS_NUMBER,
      settingOdsCode,
      startedBy: 'nurse@staff.test',
    });
    const review = await taskOf(engine, caseId, 'Review');
    await completeTask(engine, {
      taskId: review.taskId,
      data: validSubmission('sms-brief-intervention'),
      completedBy: 'nurse@staff.test',
      ...(actedBy ? { actedBy } : {}),
    });
    // The timer's note is the last thing the pathway writes.
    const notes = await eventually(
      'both notes written',
      () => knex()('notes').where({ case_id: caseId }).orderBy('written_at', 'asc').select<NoteRow[]>(),
      (rows) => rows.length === 2,
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    const [assessment] = await knex()('assessments')
      .where({ case_id: caseId })
      .select<{ id: string; submitted_by: string }[]>('id', 'submitted_by');
    const tasks = await knex()('worklist_tasks').where({ case_id: caseId }).select<{ id: string }[]>('id');
    // This case's records only: the cases of these tests are all of one person.
    const ids = [assessment!.id, ...notes.map((n) => n.id), ...tasks.map((t) => t.id)];
    const audits = await knex()('audit_events')
      .whereIn('entity_id', ids)
      .orderBy('occurred_at', 'asc')
      .select<Record<string, unknown>[]>();
    return { caseId, review, notes, assessment, audits };
  }

  it('names the person who completed the task on its assessment, its note and their audit events', async () => {
    // given a nurse who completes the review through the API (request req-…, allowed in the case's setting)
    const nurse = {
      id: randomUUID(),
      role: 'clinician',
      subject: 'nurse@staff.test',
      requestId: `req-${randomUUID()}`,
      settingOdsCode,
      purpose: 'TREAT',
    };

    // when the completion carries who acted
    const { review, notes, assessment, audits } = await reviewed(nurse);

    // then the assessment and the note saved from the review are theirs, the later note is the pathway's own
    expect(assessment?.submitted_by).toBe(nurse.id);
    expect(notes).toEqual([
      expect.objectContaining({ body: '[review] Reviewed on the ward', author_id: nurse.id, author_role: 'clinician' }),
      expect.objectContaining({
        body: '[reminder] Written by the pathway on its timer',
        author_id: 'system:pathway',
        author_role: 'system',
      }),
    ]);
    // and the audit events of the close, the assessment and the first note name them with the request
    const byNurse = {
      actor_id: nurse.id,
      actor_role: 'clinician',
      actor_subject: nurse.subject,
      request_id: nurse.requestId,
      setting_ods_code: settingOdsCode,
      operation: 'task.complete',
      purpose: 'TREAT',
    };
    const update = audits.filter((a) => a['entity_type'] === 'WorklistTask' && a['action'] === 'update');
    expect(update).toEqual([expect.objectContaining({ ...byNurse, entity_id: review.taskId })]);
    expect(audits.filter((a) => a['entity_type'] === 'Assessment')).toEqual([expect.objectContaining(byNurse)]);
    const noteAudits = audits.filter((a) => a['entity_type'] === 'Note');
    expect(noteAudits).toEqual([
      expect.objectContaining(byNurse),
      expect.objectContaining({ actor_id: 'system:pathway', actor_role: 'system', actor_subject: null }),
    ]);
  });

  it('writes as system:pathway when the completion does not say who acted (a script, an older client)', async () => {
    const { caseId, notes, assessment, audits } = await reviewed();
    expect(assessment?.submitted_by).toBe('system:pathway');
    expect(notes.map((n) => n.author_id)).toEqual(['system:pathway', 'system:pathway']);
    const written = audits.filter((a) => a['action'] === 'create' && a['entity_type'] !== 'WorklistTask');
    expect(written.length).toBe(3);
    for (const event of written)
      expect(event).toMatchObject({ actor_id: 'system:pathway', request_id: workflowIdOf(caseId), operation: null });
  });

  it('refuses a completion that names the person malformed, recording nothing', async () => {
    const { caseId } = await startCase(engine, {
      pathwayId: 'AttributedReview',
      nhsNumber: NHS_NUMBER,
      settingOdsCode,
      startedBy: 'nurse@staff.test',
    });
    const review = await taskOf(engine, caseId, 'Review');
    await expect(
      completeTask(engine, {
        taskId: review.taskId,
        data: validSubmission('sms-brief-intervention'),
        completedBy: 'nurse@staff.test',
        actedBy: { id: '', role: 'clinician', subject: 'nurse@staff.test' },
      }),
    ).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('actedBy') });
    expect((await taskOf(engine, caseId, 'Review')).status).toBe('open');
    expect(await knex()('assessments').where({ case_id: caseId })).toEqual([]);
  });

  it('keeps the person a step acts for when it fails into an incident and ops retry it', async () => {
    // given a review whose save fails (no form id) after a nurse completes it: an incident for ops
    const nurse = {
      id: randomUUID(),
      role: 'clinician',
      subject: 'nurse@staff.test',
      requestId: `req-${randomUUID()}`,
    };
    const operator = { id: randomUUID(), role: 'ops', subject: 'ops@staff.test', requestId: `req-${randomUUID()}` };
    const { caseId } = await startCase(engine, {
      pathwayId: 'IncidentReview',
      nhsNumber: NHS_NUMBER,
      settingOdsCode,
      startedBy: 'nurse@staff.test',
    });
    const review = await taskOf(engine, caseId, 'Review');
    await completeTask(engine, {
      taskId: review.taskId,
      data: validSubmission('sms-brief-intervention'),
      completedBy: nurse.subject,
      actedBy: nurse,
    });
    const [incidentTask] = await eventually(
      'the incident task',
      async () => (await listTasks(engine, { caseId })).filter((t) => t.formId === 'incident-resolution'),
      (tasks) => tasks.length === 1,
      { timeoutMs: 30_000, intervalMs: 100 },
    );

    // when ops correct the form id and retry the save
    await completeTask(engine, {
      taskId: incidentTask!.taskId,
      data: { action: 'correct-and-retry', variables: { formToSave: 'review' }, reason: 'form id was missing' },
      completedBy: operator.subject,
      actedBy: operator,
    });

    // then the assessment and the note after it are still the nurse's: ops only let the step run again
    const notes = await eventually(
      'the review noted',
      () => knex()('notes').where({ case_id: caseId }).select<NoteRow[]>(),
      (rows) => rows.some((n) => n.body.startsWith('[review]')),
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    const [assessment] = await knex()('assessments').where({ case_id: caseId }).select<{ submitted_by: string }[]>();
    expect(assessment?.submitted_by).toBe(nurse.id);
    expect(notes.find((n) => n.body.startsWith('[review]'))).toMatchObject({ author_id: nurse.id });
    // and the resolution of the incident is audited in the name of ops, with their request
    const resolution = await eventually(
      'the incident resolution audited',
      () =>
        knex()('audit_events')
          .where({ entity_type: 'Incident', action: 'update', request_id: operator.requestId })
          .select<Record<string, unknown>[]>(),
      (rows) => rows.length === 1,
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(resolution[0]).toMatchObject({ actor_id: operator.id, actor_role: 'ops', actor_subject: operator.subject });
  });
});
