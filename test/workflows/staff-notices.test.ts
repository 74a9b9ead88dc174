/**
 * Planned work and a staff notice under a real worker on the time-skipping server: a review planned at reception
 * is in the worklist from the start with its calendar deadline; when it is overdue the team lead and the
 * keyworker (the one the caseload assignment names) get a message, dated on the workflow's clock; when the review
 * opens it takes its planned row's place, keeps the overdue history, and completing it records "completed late".
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { createActivities, createLocalInboxTransport, createSpineClient } from '../../activities';
import { createRecordActivities } from '../../activities/records';
import { compilePathwayIR } from '../../bpmn';
import { addStaff, listTasks, type CaseEngine } from '../../engine';
import { silentLogger } from '../../log';
import { migrateDatabase, openStore, type Store } from '../../store';
import { createTestWorkflowEnvironment, type EmbeddedTestWorkflowEnvironment } from '../../temporal-server';
import { completeTaskUpdate, stateQuery, type runPathway } from '../../workflows';
import { useFreshDatabase } from '../support/database';
import { eventually } from '../support/eventually';
import { installQuietRuntime } from '../support/sdk-runtime';
import { CASE_SEARCH_ATTRIBUTES } from '../../worker/case-search-attributes';

const TASK_QUEUE = 'staff-notices';

describe('planned work and staff notices on the time-skipping server', () => {
  let store: Store;
  let env: EmbeddedTestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
    await store?.close();
  }, 60_000);
  const db = useFreshDatabase('staff_notices_wf');
  const knex = () => store.orm.em.getConnection().getKnex();
  const engine = () => ({ store, logger: silentLogger }) as unknown as CaseEngine;

  beforeAll(async () => {
    installQuietRuntime();
    await migrateDatabase(db.url, silentLogger);
    store = await openStore(db.url);
    env = await createTestWorkflowEnvironment({ databaseUrl: db.url, searchAttributes: CASE_SEARCH_ATTRIBUTES });
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowsPath: require.resolve('../../workflows'),
      activities: createActivities({
        store,
        spine: createSpineClient({ baseUrl: 'http://127.0.0.1:9', retry: { maxAttempts: 1 } }),
        transport: createLocalInboxTransport({ store, logger: silentLogger }),
        logger: silentLogger,
      }),
    });
    running = worker.run();
  }, 120_000);

  it('plans the review, tells named staff when it is overdue, and records it completed late', async () => {
    const odsCode = `W${randomUUID().slice(0, 5).toUpperCase()}`;
    await knex()('settings').insert({
      id: randomUUID(),
      ods_code: odsCode,
      name: 'HMP W',
      kind: 'prison',
      prison_type: 'HMP',
    });
    await addStaff(store, {
      name: 'Morgan Lead',
      email: 'morgan@nhs.test',
      duties: ['sms-team-lead'],
      settings: [odsCode],
    });
    await addStaff(store, { name: 'Sam Patel', email: 'sam@nhs.test', duties: [], settings: [odsCode] });
    const caseId = randomUUID();
    const records = createRecordActivities({ store, logger: silentLogger });
    await records.openCase({
      caseId,
      workflowId: `case-${caseId}`,
      nhsNumber: '9434765919',
      settingOdsCode: odsCode,
      pathwayId: 'PlannedReviewOverdue',
      pathwayVersion: 1,
      actor: { id: 'nurse-1', role: 'clinician' },
    });
    await records.saveAssessment({
      assessmentId: randomUUID(),
      caseId,
      formId: 'sms-caseload-assignment',
      formVersion: 'test',
      data: { keyworker: 'Sam Patel' },
      submittedBy: 'nurse-1',
      actor: { id: 'nurse-1', role: 'clinician' },
    });
    const ir = await compilePathwayIR(
      readFileSync(path.join(__dirname, '..', 'fixtures', 'bpmn', 'planned-review-overdue.bpmn'), 'utf8'),
    );
    // Reception now: the review is due at the end of the local day five calendar days later.
    const now = await env.currentTimeMs();
    const reception = new Date(now);
    const handle = await env.client.workflow.start<typeof runPathway>('runPathway', {
      taskQueue: TASK_QUEUE,
      workflowId: `case-${caseId}`,
      args: [{ ir, caseId, variables: { caseId, receptionDate: reception.toISOString() } }],
    });

    const [planned] = await eventually(
      'the review planned',
      () => listTasks(engine(), { caseId, includePlanned: true }),
      (tasks) => tasks.length === 1,
    );
    expect(planned).toMatchObject({ elementId: 'Review', name: '5-day review', status: 'planned' });
    const dueAt = Date.parse(planned!.dueAt!);
    expect(dueAt).toBeGreaterThan(now + 4 * 86_400_000);

    await env.sleep(dueAt + 2_000 - (await env.currentTimeMs()));
    const view = await eventually(
      'the review open',
      () => handle.query(stateQuery),
      (v) => v.openTasks.some((t) => t.elementId === 'Review'),
    );
    expect(view.variables).toMatchObject({ staffNotified: 2, staffNotifiedNames: ['Morgan Lead', 'Sam Patel'] });

    const inbox = await knex()('inbox_messages as i')
      .join('notification_outbox as o', 'o.id', 'i.notification_id')
      .where('o.case_id', caseId)
      .orderBy('i.recipient')
      .select<{ recipient: string; subject: string; issued_at: string }[]>(
        'i.recipient',
        'i.subject',
        knex().raw(`o.personalisation->>'issuedAt' as issued_at`),
      );
    expect(inbox.map((m) => [m.recipient, m.subject])).toEqual([
      ['Morgan Lead <morgan@nhs.test>', '5-day review overdue'],
      ['Sam Patel <sam@nhs.test>', '5-day review overdue'],
    ]);
    // Sent when the timer fired, on the workflow's clock (a second after the deadline), not the wall clock.
    for (const m of inbox) {
      expect(Date.parse(m.issued_at) - (dueAt + 1_000)).toBeGreaterThanOrEqual(0);
      expect(Date.parse(m.issued_at) - (dueAt + 1_000)).toBeLessThan(5_000);
    }

    const tasks = await eventually(
      'the review projected',
      () => listTasks(engine(), { caseId, includeClosed: true }),
      (found) => found.some((t) => t.status === 'open'),
    );
    const open = tasks.find((t) => t.status === 'open')!;
    const started = tasks.find((t) => t.status === 'started')!;
    expect(started.startedTaskId).toBe(open.taskId);
    expect(open.overdueSince).toBe(started.overdueSince);
    expect(open.overdueSince).not.toBeNull();

    await env.sleep(3_600_000);
    const review = view.openTasks.find((t) => t.elementId === 'Review')!;
    await handle.executeUpdate(completeTaskUpdate, { args: [{ taskId: review.taskId, completedBy: 'nurse-1' }] });
    await handle.result();
    const [done] = await eventually(
      'the review completed',
      () =>
        listTasks(engine(), { caseId, includeClosed: true }).then((all) => all.filter((t) => t.taskId === open.taskId)),
      (found) => found[0]?.status === 'completed',
    );
    expect(done).toMatchObject({ completedLate: true, overdueSince: open.overdueSince });
  }, 120_000);
});
