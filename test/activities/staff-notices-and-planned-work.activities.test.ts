/**
 * `notify.notifyStaff` and `worklist.planTasks` in Temporal's activity environment against the real PostgreSQL:
 * who a notice reaches (duties of the case's setting, the keyworker the caseload assignment names), that a retry
 * sends nothing twice, that a notice nobody can receive fails for an incident; planned work replaced by a new
 * plan, started by the user task that opens, withdrawn when the case is terminated; and `completed_late`.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities, createLocalInboxTransport, createSpineClient } from '../../activities';
import { createRecordActivities } from '../../activities/records';
import { addStaff, listTasks, type CaseEngine } from '../../engine';
import { silentLogger } from '../../log';
import { useMigratedStore } from '../store/store-fixture';
import { nextValidNhsNumber } from '../store/seed';

const world = useMigratedStore('staff_notices');
const ACTOR = { id: 'staff:test', role: 'clinician' };
const knex = () => world.store.orm.em.getConnection().getKnex();

function activities() {
  return createActivities({
    store: world.store,
    // Not called by these adapters.
    spine: createSpineClient({ baseUrl: 'http://127.0.0.1:9', retry: { maxAttempts: 1 } }),
    transport: createLocalInboxTransport({ store: world.store, logger: silentLogger }),
    logger: silentLogger,
  });
}

/** A Temporal activity context for the case's workflow, scheduled at `at` on the workflow's clock. */
function inWorkflow(caseId: string, at = '2030-10-06T00:00:01.000Z') {
  return new MockActivityEnvironment(
    {
      workflowExecution: { workflowId: `case-${caseId}`, runId: randomUUID() },
      scheduledTimestampMs: Date.parse(at),
      currentAttemptScheduledTimestampMs: Date.parse(at),
    },
    { logger: new DefaultLogger('ERROR') },
  );
}

async function newSetting(): Promise<string> {
  const odsCode = `N${randomUUID().slice(0, 6).toUpperCase()}`;
  await knex()('settings').insert({
    id: randomUUID(),
    ods_code: odsCode,
    name: 'HMP Test',
    kind: 'prison',
    prison_type: 'HMP',
  });
  return odsCode;
}

async function openCase(odsCode: string): Promise<string> {
  const caseId = randomUUID();
  await createRecordActivities({ store: world.store, logger: silentLogger }).openCase({
    caseId,
    workflowId: `case-${caseId}`,
    nhsNumber: nextValidNhsNumber(),
    settingOdsCode: odsCode,
    pathwayId: 'sms-prison',
    pathwayVersion: 1,
    actor: ACTOR,
  });
  return caseId;
}

/** A directory like a prison's: a team lead who is also clinical lead, the keyworker, someone gone, someone elsewhere. */
async function seedDirectory(odsCode: string, elsewhere: string) {
  const add = (name: string, duties: string[], settings = [odsCode]) =>
    addStaff(world.store, {
      name,
      email: `${name.toLowerCase().replace(/ /g, '.')}.${odsCode.toLowerCase()}@nhs.test`,
      duties,
      settings,
    });
  await add('Morgan Lead', ['sms-team-lead', 'sms-clinical-lead']);
  await add('Sam Patel', ['prison-healthcare']);
  await add('Jo Other', ['sms-team-lead'], [elsewhere]);
  const gone = await add('Lee Former', ['sms-team-lead']);
  await knex()('staff').where({ id: gone.staffId }).update({ active: false });
}

async function assignKeyworker(caseId: string, keyworker: string) {
  await createRecordActivities({ store: world.store, logger: silentLogger }).saveAssessment({
    assessmentId: randomUUID(),
    caseId,
    formId: 'sms-caseload-assignment',
    formVersion: 'test',
    data: { allocatedOn: '2030-10-01', keyworker, careSetting: 'substance-misuse-team', treatment: 'psychosocial' },
    submittedBy: 'staff:nurse-1',
    actor: ACTOR,
  });
}

function notice(caseId: string, staffNotice: Record<string, unknown>, activityId = 'NotifyFiveDayOverdue#21') {
  return {
    caseId,
    processId: 'sms-prison',
    elementId: activityId.split('#')[0]!,
    activityId,
    headers: {},
    variables: { caseId, staffNotice },
  };
}

const overdue = (elementId = 'FiveDayReview') => ({
  kind: 'overdue',
  duties: ['sms-team-lead', 'keyworker', 'sms-clinical-lead'],
  subject: 'Five-day review overdue',
  message: 'The five-day review was not completed by its deadline.',
  elementId,
  dueAt: '2030-10-05T22:59:59.000Z',
});

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApplicationFailure) return error;
    throw error;
  }
  throw new Error('expected the activity to fail');
}

async function inboxOf(caseId: string) {
  return knex()('inbox_messages as i')
    .join('notification_outbox as o', 'o.id', 'i.notification_id')
    .where('o.case_id', caseId)
    .orderBy('i.recipient')
    .select<{ recipient: string; subject: string; body: string }[]>('i.recipient', 'i.subject', 'i.body');
}

const engine = () => ({ store: world.store, logger: silentLogger }) as unknown as CaseEngine;

describe('notify.notifyStaff', () => {
  it('tells each holder of a duty and the keyworker once, with a note that names them, and nothing more on a retry', async () => {
    const ods = await newSetting();
    await seedDirectory(ods, await newSetting());
    const caseId = await openCase(ods);
    await assignKeyworker(caseId, 'sam patel');
    await activities().openTask({
      type: 'openUserTask',
      taskId: 'FiveDayReview#12',
      elementId: 'FiveDayReview',
      name: '5-day review',
      candidateGroups: ['sms-team'],
      candidateUsers: [],
      dueDate: '2030-10-05T22:59:59.000Z',
      input: {},
      caseId,
      processId: 'sms-prison',
    });
    const run = () => inWorkflow(caseId).run(activities()['notify.notifyStaff'], notice(caseId, overdue()));

    const first = await run();
    const second = await run();

    expect(first).toEqual({ staffNotified: 2, staffNotifiedNames: ['Morgan Lead', 'Sam Patel'] });
    expect(second).toEqual(first);
    const inbox = await inboxOf(caseId);
    expect(inbox.map((m) => [m.recipient, m.subject])).toEqual([
      [`Morgan Lead <morgan.lead.${ods.toLowerCase()}@nhs.test>`, 'Five-day review overdue'],
      [`Sam Patel <sam.patel.${ods.toLowerCase()}@nhs.test>`, 'Five-day review overdue'],
    ]);
    expect(inbox[0]!.body).toContain('The five-day review was not completed by its deadline.');
    expect(inbox[0]!.body).toContain('Task FiveDayReview due Saturday, 5 October 2030 at 23:59');
    const notes = await knex()('notes').where({ case_id: caseId }).select<{ body: string }[]>('body');
    expect(notes).toEqual([
      {
        body:
          '[staff-notice:overdue] Five-day review overdue; sent to Morgan Lead (sms-team-lead, sms-clinical-lead), ' +
          'Sam Patel (keyworker); task FiveDayReview due Saturday, 5 October 2030 at 23:59',
      },
    ]);
    const outbox = await knex()('notification_outbox')
      .where({ case_id: caseId })
      .select<{ id: string; contact_id: string | null; status: string }[]>('id', 'contact_id', 'status');
    expect(outbox).toHaveLength(2);
    expect(outbox.every((row) => row.contact_id === null && row.status === 'sent')).toBe(true);
    expect(outbox.every((row) => row.id.startsWith(`case-${caseId}/NotifyFiveDayOverdue#21/staff/`))).toBe(true);
    // Overdue from the moment the notice went (the workflow's clock), the first time only.
    const [task] = await listTasks(engine(), { caseId });
    expect(task).toMatchObject({ elementId: 'FiveDayReview', overdueSince: '2030-10-06T00:00:01.000Z' });
    await inWorkflow(caseId, '2030-10-08T00:00:01.000Z').run(
      activities()['notify.notifyStaff'],
      notice(caseId, overdue(), 'NotifyFiveDayEscalation#30'),
    );
    expect((await listTasks(engine(), { caseId }))[0]?.overdueSince).toBe('2030-10-06T00:00:01.000Z');
  });

  it('says in the note who could not be reached: no keyworker recorded yet, a duty nobody holds', async () => {
    const ods = await newSetting();
    await seedDirectory(ods, await newSetting());
    const caseId = await openCase(ods);

    const result = await inWorkflow(caseId).run(
      activities()['notify.notifyStaff'],
      notice(caseId, {
        kind: 'escalation',
        duties: ['keyworker', 'sms-team-lead', 'custody-sergeant'],
        subject: 'Review still open',
        message: 'Please see to it.',
        urgent: true,
      }),
    );

    expect(result).toEqual({ staffNotified: 1, staffNotifiedNames: ['Morgan Lead'] });
    const [note] = await knex()('notes').where({ case_id: caseId }).select<{ body: string }[]>('body');
    expect(note?.body).toBe(
      `[staff-notice:escalation] Review still open; sent to Morgan Lead (sms-team-lead); not reached: ` +
        `no keyworker is recorded for this case yet; nobody active at ${ods} holds the duty custody-sergeant`,
    );
    expect((await inboxOf(caseId)).map((m) => m.subject)).toEqual(['URGENT: Review still open']);
  });

  it('fails for an incident, naming the duties and the setting, when nobody at all can be told', async () => {
    const ods = await newSetting();
    const caseId = await openCase(ods);

    const failure = await failureOf(
      inWorkflow(caseId).run(
        activities()['notify.notifyStaff'],
        notice(caseId, { kind: 'alert', duties: ['keyworker', 'custody-sergeant'], subject: 'Check', message: 'x' }),
      ),
    );

    expect(failure).toMatchObject({ type: 'NO_STAFF_TO_NOTIFY', nonRetryable: true });
    expect(failure.message).toContain(`keyworker, custody-sergeant at ${ods}`);
    expect(failure.message).toContain('no keyworker is recorded for this case yet');
    expect(await knex()('notes').where({ case_id: caseId }).count<{ count: string }[]>('* as count')).toEqual([
      { count: '0' },
    ]);
    expect(
      await knex()('notification_outbox').where({ case_id: caseId }).count<{ count: string }[]>('* as count'),
    ).toEqual([{ count: '0' }]);
  });

  it('refuses a notice without duties or of an unknown kind', async () => {
    const caseId = await openCase(await newSetting());
    const run = (staffNotice: Record<string, unknown>) =>
      failureOf(inWorkflow(caseId).run(activities()['notify.notifyStaff'], notice(caseId, staffNotice)));
    expect(await run({ kind: 'gossip', duties: ['x'], subject: 's', message: 'm' })).toMatchObject({
      type: 'INVALID_INPUT',
    });
    expect(await run({ kind: 'alert', duties: [], subject: 's', message: 'm' })).toMatchObject({
      type: 'INVALID_INPUT',
    });
  });
});

describe('worklist.planTasks and planned work', () => {
  const milestones = [
    {
      elementId: 'FiveDayReview',
      name: '5-day review',
      dueAt: '2030-10-05T22:59:59Z',
      candidateGroups: ['sms-team'],
      formId: 'sms-review',
    },
    {
      elementId: 'TwentyEightDayReview',
      name: '28-day review',
      dueAt: '2030-10-28T23:59:59Z',
      candidateGroups: ['sms-team'],
    },
  ];
  const plan = (caseId: string, variables: Record<string, unknown>, activityId = 'PlanMilestones#4') => ({
    caseId,
    processId: 'sms-prison',
    elementId: activityId.split('#')[0]!,
    activityId,
    headers: {},
    variables: { caseId, ...variables },
  });
  const rowsOf = (caseId: string) =>
    knex()('worklist_tasks')
      .where({ case_id: caseId })
      .orderBy([{ column: 'created_at' }, { column: 'id' }])
      .select<
        {
          id: string;
          element_id: string;
          status: string;
          due_at: Date;
          cancel_reason: string | null;
          started_task_id: string | null;
        }[]
      >('id', 'element_id', 'status', 'due_at', 'cancel_reason', 'started_task_id');

  it('writes the plan once however often it runs, and a new plan withdraws the old one', async () => {
    const caseId = await openCase(await newSetting());
    const env = inWorkflow(caseId);

    const first = await env.run(activities()['worklist.planTasks'], plan(caseId, { plannedTasks: milestones }));
    await env.run(activities()['worklist.planTasks'], plan(caseId, { plannedTasks: milestones }));

    expect(first).toEqual({
      plannedTaskIds: [
        `case-${caseId}/planned/FiveDayReview/PlanMilestones#4`,
        `case-${caseId}/planned/TwentyEightDayReview/PlanMilestones#4`,
      ],
    });
    expect(await listTasks(engine(), { caseId })).toEqual([]);
    expect(
      (await listTasks(engine(), { caseId, includePlanned: true })).map((t) => [t.name, t.status, t.dueAt]),
    ).toEqual([
      ['5-day review', 'planned', '2030-10-05T22:59:59.000Z'],
      ['28-day review', 'planned', '2030-10-28T23:59:59.000Z'],
    ]);

    // A recall: the milestones restart from the new reception date.
    await env.run(
      activities()['worklist.planTasks'],
      plan(
        caseId,
        { plannedTasks: [{ ...milestones[0], dueAt: '2030-12-06T23:59:59Z' }], planReason: 'recalled' },
        'PlanMilestones#40',
      ),
    );
    const rows = await rowsOf(caseId);
    expect(rows.map((r) => [r.element_id, r.status, r.cancel_reason])).toEqual([
      ['FiveDayReview', 'cancelled', 'recalled'],
      ['TwentyEightDayReview', 'cancelled', 'recalled'],
      ['FiveDayReview', 'planned', null],
    ]);

    // An empty plan with a reason only withdraws.
    await env.run(
      activities()['worklist.planTasks'],
      plan(caseId, { plannedTasks: [], planReason: 'discharged' }, 'Withdraw#50'),
    );
    expect((await rowsOf(caseId)).map((r) => r.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect((await rowsOf(caseId))[2]?.cancel_reason).toBe('discharged');
  });

  it('turns the planned row into `started` when the user task opens, so the worklist shows one', async () => {
    const caseId = await openCase(await newSetting());
    const env = inWorkflow(caseId);
    await env.run(activities()['worklist.planTasks'], plan(caseId, { plannedTasks: milestones }));
    const opened = {
      type: 'openUserTask' as const,
      taskId: 'FiveDayReview#12',
      elementId: 'FiveDayReview',
      name: '5-day review',
      formId: 'sms-review',
      candidateGroups: ['sms-team'],
      candidateUsers: [],
      dueDate: '2030-10-05T22:59:59.000Z',
      input: {},
      caseId,
      processId: 'sms-prison',
    };

    await env.run(activities().openTask, opened);
    await env.run(activities().openTask, opened);

    const visible = await listTasks(engine(), { caseId, includePlanned: true });
    expect(visible.map((t) => [t.elementId, t.status])).toEqual([
      ['FiveDayReview', 'open'],
      ['TwentyEightDayReview', 'planned'],
    ]);
    const started = (await rowsOf(caseId)).find((r) => r.element_id === 'FiveDayReview' && r.status === 'started');
    expect(started?.started_task_id).toBe(`case-${caseId}/FiveDayReview#12`);
  });

  it('records a task completed after its due date as completed late, keeping when it became overdue', async () => {
    const caseId = await openCase(await newSetting());
    const open = (taskId: string, elementId: string) =>
      inWorkflow(caseId).run(activities().openTask, {
        type: 'openUserTask',
        taskId,
        elementId,
        name: elementId,
        candidateGroups: ['sms-team'],
        candidateUsers: [],
        dueDate: '2030-10-05T22:59:59.000Z',
        input: {},
        caseId,
        processId: 'sms-prison',
      });
    const close = (taskId: string, elementId: string, at: string) =>
      inWorkflow(caseId, at).run(activities().closeTask, {
        type: 'closeUserTask',
        taskId,
        elementId,
        outcome: 'completed',
        caseId,
        processId: 'sms-prison',
        completedBy: 'staff:nurse-1',
      });
    await open('Late#1', 'Late');
    await open('OnTime#2', 'OnTime');
    await createRecordActivities({ store: world.store, logger: silentLogger }).markTasksOverdue({
      caseId,
      elementId: 'Late',
      overdueSince: '2030-10-06T00:00:00Z',
    });

    await close('Late#1', 'Late', '2030-10-07T09:00:00Z');
    await close('OnTime#2', 'OnTime', '2030-10-05T09:00:00Z');

    const tasks = await listTasks(engine(), { caseId, includeClosed: true });
    expect(tasks.map((t) => [t.elementId, t.status, t.completedAt, t.completedLate, t.overdueSince])).toEqual([
      ['Late', 'completed', '2030-10-07T09:00:00.000Z', true, '2030-10-06T00:00:00.000Z'],
      ['OnTime', 'completed', '2030-10-05T09:00:00.000Z', false, null],
    ]);
  });

  it('withdraws a case’s planned work with the reason it was ended for (what case termination calls)', async () => {
    const caseId = await openCase(await newSetting());
    await inWorkflow(caseId).run(activities()['worklist.planTasks'], plan(caseId, { plannedTasks: milestones }));
    const records = createRecordActivities({ store: world.store, logger: silentLogger });

    const first = await records.cancelPlannedTasks({ caseId, reason: 'Released from court', actor: ACTOR });
    const again = await records.cancelPlannedTasks({ caseId, reason: 'Released from court', actor: ACTOR });

    expect([first, again]).toEqual([{ cancelled: 2 }, { cancelled: 0 }]);
    expect((await rowsOf(caseId)).map((r) => [r.status, r.cancel_reason])).toEqual([
      ['cancelled', 'Released from court'],
      ['cancelled', 'Released from court'],
    ]);
  });
});
