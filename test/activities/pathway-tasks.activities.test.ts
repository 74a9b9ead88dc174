/**
 * The pathway-task adapters in Temporal's activity environment against the real PostgreSQL, the Spine sandbox
 * and a real SMTP server: what a retry of the same execution does (nothing new), how delivery failures are
 * reported (a final one is data for ops, a passing one a retryable failure), and the shell's task projection.
 */
import { randomUUID } from 'node:crypto';
import { type AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { SMTPServer } from 'smtp-server';
import { createActivities, createLocalInboxTransport, createSmtpTransport, createSpineClient } from '../../activities';
import { createRecordActivities } from '../../activities/records';
import { silentLogger } from '../../log';
import { findFailedNotifications } from '../../store';
import { startSpineSandbox, type RunningSpineSandbox } from '../../spine-sandbox';
import { nextValidNhsNumber } from '../store/seed';
import { useMigratedStore } from '../store/store-fixture';

const world = useMigratedStore('pathway_tasks');
const ACTOR = { id: 'staff:test', role: 'clinician' };

let sandbox: RunningSpineSandbox;
beforeAll(async () => {
  sandbox = await startSpineSandbox({ port: 0 });
});
afterAll(async () => {
  await sandbox.stop();
});

function activitiesWith(transport = createLocalInboxTransport({ store: world.store, logger: silentLogger })) {
  return createActivities({
    store: world.store,
    spine: createSpineClient({ baseUrl: sandbox.baseUrl, retry: { maxAttempts: 1 } }),
    transport,
    logger: silentLogger,
  });
}

/** A Temporal activity context for the case's workflow, as the worker would give one. */
function inWorkflow(caseId: string) {
  return new MockActivityEnvironment(
    { workflowExecution: { workflowId: `case-${caseId}`, runId: randomUUID() } },
    { logger: new DefaultLogger('ERROR') },
  );
}

async function openCase(nhsNumber: string): Promise<string> {
  const knex = world.store.orm.em.getConnection().getKnex();
  const odsCode = `T${randomUUID().slice(0, 6).toUpperCase()}`;
  await knex('settings').insert({
    id: randomUUID(),
    ods_code: odsCode,
    name: 'HMP Test',
    kind: 'prison',
    prison_type: 'HMP',
  });
  const caseId = randomUUID();
  await createRecordActivities({ store: world.store, logger: silentLogger }).openCase({
    caseId,
    workflowId: `case-${caseId}`,
    nhsNumber,
    settingOdsCode: odsCode,
    pathwayId: 'release-support',
    pathwayVersion: 1,
    actor: ACTOR,
  });
  return caseId;
}

function query<T>(sql: string, bindings: unknown[]): Promise<T[]> {
  return world.store.orm.em
    .getConnection()
    .getKnex()
    .raw<{ rows: T[] }>(sql, bindings as never)
    .then((r) => r.rows);
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApplicationFailure) return error;
    throw error;
  }
  throw new Error('expected the activity to fail');
}

function missedAppointment(caseId: string, agencyContact: string) {
  return {
    caseId,
    processId: 'release-support',
    elementId: 'NotifyContactsProbationMissed',
    activityId: 'NotifyContactsProbationMissed#40',
    headers: {},
    variables: {
      caseId,
      notification: {
        reason: 'missed-appointment',
        appointmentId: randomUUID(),
        appointmentKind: 'probation',
        startsAt: '2030-08-15T10:00:00Z',
        agencyName: 'Leeds PDU',
        location: 'Leeds PDU, Park Place',
        agencies: [{ kind: 'probation', name: 'Leeds PDU', contact: agencyContact, notifyOnMissedAppointment: true }],
        familyContacts: [
          {
            name: 'Maria Smith',
            relationship: 'Sister',
            telephone: '07700 900123',
            consentToNotify: true,
            consentRecordedOn: '2030-07-20',
          },
          { name: 'Dan Smith', relationship: 'Brother', telephone: '07700 900456', consentToNotify: false },
        ],
      },
    },
  };
}

describe('pathway-task activities', () => {
  it('raises each alert once however often the same execution is retried', async () => {
    const caseId = await openCase('9000000068');
    const activities = activitiesWith();
    const input = {
      caseId,
      processId: 'sms-prison',
      elementId: 'RaiseRiskAlerts',
      activityId: 'RaiseRiskAlerts#12',
      headers: {},
      variables: {
        alerts: [
          { code: 'OVERDOSE_RISK', text: 'High overdose risk', source: 'sms-risk-assessment' },
          { code: 'WITHDRAWAL_RISK', text: 'High withdrawal risk', source: 'sms-risk-assessment' },
        ],
      },
    };
    const env = inWorkflow(caseId);

    const first = await env.run(activities['records.raiseAlert'], input);
    const retry = await env.run(activities['records.raiseAlert'], input);

    expect(retry).toEqual(first);
    const rows = await query<{ code: string; severity: string }>(
      'select code, severity from alerts where case_id = ? order by code',
      [caseId],
    );
    expect(rows).toEqual([
      { code: 'OVERDOSE_RISK', severity: 'high' },
      { code: 'WITHDRAWAL_RISK', severity: 'medium' },
    ]);
    const audits = await query<{ n: number }>(
      `select count(*)::int as n from audit_events where entity_type = 'Alert' and patient_id = (select patient_id from cases where id = ?)`,
      [caseId],
    );
    expect(audits).toEqual([{ n: 2 }]);
  });

  it('sends one message per agency and consented family member, none to a contact without consent, and nothing again on retry', async () => {
    const caseId = await openCase('9000000068');
    const activities = activitiesWith();
    const input = missedAppointment(caseId, 'probation@leeds.example');
    const env = inWorkflow(caseId);

    expect(await env.run(activities['notify.notifyContacts'], input)).toEqual({ notifiedCount: 2 });
    expect(await env.run(activities['notify.notifyContacts'], input)).toEqual({ notifiedCount: 2 });

    const sent = await query<{ name: string; status: string; attempts: number; location: string | null }>(
      `select c.name, o.status, o.attempts, o.personalisation->>'location' as location
         from notification_outbox o join contacts c on c.id = o.contact_id where o.case_id = ? order by c.name`,
      [caseId],
    );
    expect(sent).toEqual([
      { name: 'Leeds PDU', status: 'sent', attempts: 1, location: 'Leeds PDU, Park Place' },
      { name: 'Maria Smith', status: 'sent', attempts: 1, location: 'Leeds PDU, Park Place' },
    ]);
    const inbox = await query<{ n: number }>(
      `select count(*)::int as n from inbox_messages i join notification_outbox o on o.id = i.notification_id where o.case_id = ?`,
      [caseId],
    );
    expect(inbox).toEqual([{ n: 2 }]);
    expect(await query('select name from contacts where name = ?', ['Dan Smith'])).toEqual([]);
  });

  it('withholds the location for a restricted record even when the input carries it', async () => {
    const caseId = await openCase('9000000025');
    const activities = activitiesWith();
    const env = inWorkflow(caseId);
    const traced = await env.run(activities['pds.lookupPatient'], {
      caseId,
      processId: 'custody-reception',
      elementId: 'LookUpPerson',
      activityId: 'LookUpPerson#2',
      headers: {},
      variables: { nhsNumber: '9000000025' },
    });
    expect(traced).toMatchObject({ patient: { nhsNumber: '9000000025', restricted: true, gpOdsCode: null } });

    await env.run(activities['notify.notifyContacts'], missedAppointment(caseId, 'probation@leeds.example'));

    const rows = await query<{ name: string; personalisation: Record<string, string> }>(
      `select c.name, o.personalisation from notification_outbox o join contacts c on c.id = o.contact_id where o.case_id = ?`,
      [caseId],
    );
    // the agency is told, without the location; the sister is not told about a restricted record at all
    expect(rows.map((r) => r.name)).toEqual(['Leeds PDU']);
    expect(rows[0]?.personalisation).not.toHaveProperty('location');
  });

  describe('delivery through SMTP', () => {
    let smtp: SMTPServer;
    let port = 0;
    let reply = { code: 550, text: 'mailbox unavailable' };
    beforeAll(async () => {
      smtp = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS'],
        logger: false,
        onRcptTo(_address, _session, callback) {
          callback(Object.assign(new Error(reply.text), { responseCode: reply.code }));
        },
      });
      await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
      port = (smtp.server.address() as AddressInfo).port;
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    });

    function smtpActivities() {
      return activitiesWith(
        createSmtpTransport({
          smtpUrl: `smtp://127.0.0.1:${port}`,
          from: 'test@throughcare.example',
          logger: silentLogger,
        }),
      );
    }

    it('leaves a message the provider refuses for good as failed for ops, without failing the pathway', async () => {
      reply = { code: 550, text: 'mailbox unavailable' };
      const caseId = await openCase('9000000068');
      const input = missedAppointment(caseId, 'gone@leeds.example');
      input.variables.notification.familyContacts = [];

      const result = await inWorkflow(caseId).run(smtpActivities()['notify.notifyContacts'], input);

      expect(result).toEqual({ notifiedCount: 0 });
      // the ops console's failed-notifications view shows it, with the provider's reason
      const failed = (await findFailedNotifications(world.store.fork())).filter((n) =>
        n.id.startsWith(`case-${caseId}/NotifyContactsProbationMissed#40/`),
      );
      expect(failed).toHaveLength(1);
      expect(failed[0]?.lastError).toContain('mailbox unavailable');
    });

    it('fails retryably while a delivery may still succeed, and gives up as failed when the attempts are spent', async () => {
      reply = { code: 451, text: 'try again later' };
      const caseId = await openCase('9000000068');
      const input = missedAppointment(caseId, 'busy@leeds.example');
      input.variables.notification.familyContacts = [];
      const activities = smtpActivities();
      const env = inWorkflow(caseId);

      const first = await failureOf(env.run(activities['notify.notifyContacts'], input));
      expect(first).toMatchObject({ type: 'DELIVERY_FAILED', nonRetryable: false });
      await failureOf(env.run(activities['notify.notifyContacts'], input));
      // the third attempt is the last one the outbox allows (notifyMaxAttempts = the tasks' retries, 3)
      expect(await env.run(activities['notify.notifyContacts'], input)).toEqual({ notifiedCount: 0 });
      const rows = await query<{ status: string; attempts: number }>(
        'select status, attempts from notification_outbox where case_id = ?',
        [caseId],
      );
      expect(rows).toEqual([{ status: 'failed', attempts: 3 }]);
    });
  });

  it('projects a user task once, and asks for a retry when it is closed before it is projected', async () => {
    const caseId = await openCase('9000000068');
    const activities = activitiesWith();
    const env = inWorkflow(caseId);
    const opened = {
      type: 'openUserTask' as const,
      taskId: 'FiveDayReview#30',
      elementId: 'FiveDayReview',
      name: '5-day review',
      formId: 'sms-review',
      candidateGroups: ['sms-team'],
      candidateUsers: [],
      dueDate: '2030-10-05T08:00:00.000Z',
      followUpDate: '2030-10-04T08:00:00.000Z',
      input: {},
      caseId,
      processId: 'sms-prison',
    };
    const closed = {
      type: 'closeUserTask' as const,
      taskId: 'FiveDayReview#30',
      elementId: 'FiveDayReview',
      outcome: 'completed' as const,
      caseId,
      processId: 'sms-prison',
      completedBy: 'staff:nurse-1',
    };

    const early = await failureOf(env.run(activities.closeTask, closed));
    expect(early).toMatchObject({ type: 'TASK_NOT_PROJECTED', nonRetryable: false });

    await env.run(activities.openTask, opened);
    await env.run(activities.openTask, opened);
    await env.run(activities.closeTask, closed);
    await env.run(activities.closeTask, closed);

    const tasks = await query<{ id: string; status: string; completed_by: string }>(
      'select id, status, completed_by from worklist_tasks where case_id = ?',
      [caseId],
    );
    expect(tasks).toEqual([
      { id: `case-${caseId}/FiveDayReview#30`, status: 'completed', completed_by: 'staff:nurse-1' },
    ]);
  });

  it("projects a user task with the pathway's priority, kept within 0 to 100, and 50 when it set none", async () => {
    const caseId = await openCase(nextValidNhsNumber());
    const activities = activitiesWith();
    const env = inWorkflow(caseId);
    const open = (taskId: string, priority?: number) =>
      env.run(activities.openTask, {
        type: 'openUserTask' as const,
        taskId,
        elementId: 'ReceptionScreening',
        name: 'Reception health screen',
        candidateGroups: ['prison-healthcare'],
        candidateUsers: [],
        ...(priority !== undefined ? { priority } : {}),
        input: {},
        caseId,
        processId: 'sms-prison',
      });

    await open('ReceptionScreening#1', 70);
    await open('ReceptionScreening#2');
    // A FEEL priority is whatever its expression gave: out of range, it is kept to the nearest bound.
    await open('ReceptionScreening#3', 250);
    await open('ReceptionScreening#4', -5);

    const rows = await query<{ id: string; priority: number }>(
      'select id, priority from worklist_tasks where case_id = ? order by id',
      [caseId],
    );
    expect(rows.map((row) => [row.id.split('/').at(-1), row.priority])).toEqual([
      ['ReceptionScreening#1', 70],
      ['ReceptionScreening#2', 50],
      ['ReceptionScreening#3', 100],
      ['ReceptionScreening#4', 0],
    ]);
  });

  it('stores an available Summary Care Record and answers a refused one with no summary instead of failing', async () => {
    const activities = activitiesWith();
    const summaryOf = async (nhsNumber: string) => {
      const caseId = await openCase(nhsNumber);
      return inWorkflow(caseId).run(activities['scr.fetchSummary'], {
        caseId,
        processId: 'sms-prison',
        elementId: 'FetchSummaryCareRecord',
        activityId: 'FetchSummaryCareRecord#5',
        headers: {},
        variables: { nhsNumber, summaryCareRecordConsent: 'given' },
      });
    };

    const available = (await summaryOf('9000000009')) as { summaryId: string };
    expect(available).toMatchObject({ summaryStatus: 'available', summaryId: expect.any(String) });
    expect(
      await query<{ form_id: string }>('select form_id from assessments where id = ?', [available.summaryId]),
    ).toEqual([{ form_id: 'scr-summary' }]);
    expect(await summaryOf('9000000025')).toEqual({ summaryId: null, summaryStatus: 'access-denied' });
    expect(await summaryOf('9000000017')).toMatchObject({ summaryId: null });
  });
});
