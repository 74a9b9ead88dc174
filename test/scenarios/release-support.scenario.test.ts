/**
 * Release support on the time-skipping server with the real activities: a missed appointment tells every
 * agency that asked to know and every nominated family member with recorded consent, one message each
 * through the outbox and the local inbox, nobody without consent, and never a restricted record's location.
 */
import { createActivities, createLocalInboxTransport, createSpineClient } from '../../activities';
import { silentLogger } from '../../log';
import { startSpineSandbox } from '../../spine-sandbox';
import { example, useScenario, type Vars } from './scenario-harness';

const scenario = useScenario('scenario_release');

const NOT_CONSENTED = { name: 'Dan Smith', relationship: 'Brother', telephone: '07700 900456', consentToNotify: false };
const HOUSING_NOT_TOLD = {
  kind: 'housing',
  name: 'Leeds Housing Options',
  contact: 'housing@leeds.example',
  notifyOnMissedAppointment: false,
};

/**
 * The form's example plan, with one agency that did not ask to be told and one family member without consent,
 * and its dates moved to `year` (the appointments must lie ahead of the server's clock, which starts at the
 * real time: each test first moves the clock to 10 August of its year).
 */
function releasePlan(year: number): Vars {
  const plan = example('release-plan');
  const inYear = (text: string) => text.replace(/^2026-/, `${year}-`);
  return example('release-plan', {
    releaseDate: inYear(String(plan['releaseDate'])),
    agencies: [...(plan['agencies'] as Vars[]), HOUSING_NOT_TOLD],
    familyContacts: [...(plan['familyContacts'] as Vars[]), NOT_CONSENTED],
    appointments: (plan['appointments'] as Vars[]).map((a) => ({ ...a, startsAt: inYear(String(a['startsAt'])) })),
  });
}

interface OutboxRow {
  contact_name: string;
  kind: string;
  channel: string;
  status: string;
  personalisation: Record<string, string>;
}

function outboxOf(caseId: string): Promise<OutboxRow[]> {
  return scenario.query<OutboxRow>(
    `select c.name as contact_name, c.kind, o.channel, o.status, o.personalisation
       from notification_outbox o join contacts c on c.id = o.contact_id
      where o.case_id = ? order by c.name`,
    [caseId],
  );
}

function inboxOf(caseId: string) {
  return scenario.query<{ recipient: string; subject: string; body: string }>(
    `select i.recipient, i.subject, i.body from inbox_messages i
       join notification_outbox o on o.id = i.notification_id where o.case_id = ? order by i.recipient`,
    [caseId],
  );
}

describe('release support on the workflow server with the real activities', () => {
  it('tells each agency and each consented family member once about a missed appointment, and nobody without consent', async () => {
    await scenario.advanceTo('2030-08-10T09:00:00Z');
    const nhsNumber = '9000000068';
    const caseId = await scenario.openCase(nhsNumber, 'release-support');
    const handle = await scenario.start('release-support', caseId, {
      nhsNumber,
      patient: { nhsNumber, restricted: false },
      alertIds: [],
    });
    await scenario.complete(handle, 'PlanRelease', releasePlan(2030));

    // Given the probation appointment booked for Thursday 15 August 2030, 11:00 London time
    const booked = await scenario.waitFor(
      handle,
      'booked',
      (v) => typeof v.variables['probationAppointmentId'] === 'string',
    );
    const probationId = String(booked.variables['probationAppointmentId']);
    const appointments = await scenario.query<{ id: string; agency: string; status: string }>(
      `select id, agency, status from appointments where case_id = ? order by starts_at`,
      [caseId],
    );
    expect(appointments.map((a) => [a.agency, a.status])).toEqual([
      ['Forward Leeds', 'booked'],
      ['Leeds Probation Delivery Unit', 'booked'],
    ]);

    // When probation reports it missed
    await scenario.sendWhenWaiting(handle, 'appointment.probation.missed', probationId);
    await scenario.waitFor(handle, 'asked to follow up', (v) =>
      v.openTasks.some((t) => t.elementId === 'FollowUpProbationMissed'),
    );

    // Then one message per agency that asked to know and per consented family member, all delivered
    const outbox = await outboxOf(caseId);
    expect(outbox.map((o) => [o.contact_name, o.kind, o.channel, o.status])).toEqual([
      ['Forward Leeds', 'agency', 'email', 'sent'],
      ['Leeds Probation Delivery Unit', 'agency', 'sms', 'sent'],
      ['Maria Smith', 'family_member', 'sms', 'sent'],
    ]);
    expect(outbox[0]?.personalisation).toMatchObject({
      service: 'Leeds Probation Delivery Unit',
      date: 'Thursday, 15 August 2030 at 11:00',
      location: 'Leeds PDU',
    });
    const inbox = await inboxOf(caseId);
    expect(inbox).toHaveLength(3);
    expect(inbox.map((m) => m.subject)).toEqual(Array(3).fill('Missed appointment: Leeds Probation Delivery Unit'));
    // and nothing at all for the brother without consent, nor for the agency that did not ask
    const contacts = await scenario.query<{ name: string }>(
      `select c.name from contacts c join cases k on k.patient_id = c.patient_id where k.id = ?`,
      [caseId],
    );
    expect(contacts.map((c) => c.name).sort()).toEqual([
      'Forward Leeds',
      'Leeds Probation Delivery Unit',
      'Maria Smith',
    ]);
    // with the appointment marked missed and the release team alerted
    expect(await scenario.query(`select status from appointments where id = ?`, [probationId])).toEqual([
      { status: 'missed' },
    ]);
    expect(await scenario.query(`select code, status from alerts where case_id = ?`, [caseId])).toEqual([
      { code: 'MISSED_APPOINTMENT', status: 'active' },
    ]);
    const view = await scenario.waitFor(handle, 'notified', (v) => v.variables['probationAppointmentId'] !== undefined);
    expect(view.trail.filter((e) => e.elementId === 'NotifyContactsProbationMissed')).toHaveLength(1);

    await scenario.printTimeline('missed probation appointment', caseId, [handle]);
    await scenario.recordHistory(handle, 'release-support-missed-appointment');
    await handle.terminate('scenario over');
  }, 120_000);

  it("never puts a restricted record's appointment location in a notification, even when the pathway's copy of the trace is stale", async () => {
    // Given a person whose PDS record is restricted (sandbox 9000000025), traced by the real PDS activity
    await scenario.advanceTo('2031-08-10T09:00:00Z');
    const nhsNumber = '9000000025';
    const caseId = await scenario.openCase(nhsNumber, 'release-support');
    const sandbox = await startSpineSandbox({ port: 0 });
    try {
      const activities = createActivities({
        store: scenario.store,
        spine: createSpineClient({ baseUrl: sandbox.baseUrl }),
        transport: createLocalInboxTransport({ store: scenario.store, logger: silentLogger }),
        logger: silentLogger,
      });
      const traced = (await activities['pds.lookupPatient']({
        caseId,
        processId: 'custody-reception',
        elementId: 'LookUpPerson',
        activityId: 'LookUpPerson#1',
        variables: { nhsNumber },
        headers: {},
      })) as { patient: { restricted: boolean } };
      expect(traced.patient.restricted).toBe(true);
    } finally {
      await sandbox.stop();
    }
    // and a release support run whose `patient` variable still says unrestricted
    const handle = await scenario.start('release-support', caseId, {
      nhsNumber,
      patient: { nhsNumber, restricted: false },
      alertIds: [],
    });
    await scenario.complete(handle, 'PlanRelease', releasePlan(2031));
    const booked = await scenario.waitFor(handle, 'booked', (v) => typeof v.variables['smsAppointmentId'] === 'string');

    // When the community substance misuse appointment is missed
    await scenario.sendWhenWaiting(
      handle,
      'appointment.community-substance-misuse.missed',
      String(booked.variables['smsAppointmentId']),
    );
    await scenario.waitFor(handle, 'asked to follow up', (v) =>
      v.openTasks.some((t) => t.elementId === 'FollowUpSmsMissed'),
    );

    // Then the agencies are told without the location, and no family member is told about a restricted record
    const outbox = await outboxOf(caseId);
    expect(outbox.map((o) => [o.contact_name, o.status])).toEqual([
      ['Forward Leeds', 'sent'],
      ['Leeds Probation Delivery Unit', 'sent'],
    ]);
    for (const row of outbox) expect(row.personalisation).not.toHaveProperty('location');
    const everything = JSON.stringify([outbox, await inboxOf(caseId)]);
    expect(everything).not.toContain('Forward Leeds hub');
    expect(everything).not.toContain('Leeds PDU');
    const demographics = await scenario.query<{ is_restricted: boolean; demographics: Vars }>(
      `select is_restricted, demographics from patients where nhs_number = ?`,
      [nhsNumber],
    );
    expect(demographics[0]?.is_restricted).toBe(true);
    expect(demographics[0]?.demographics).not.toHaveProperty('address');

    await scenario.printTimeline('missed appointment, restricted record', caseId, [handle]);
    await scenario.recordHistory(handle, 'release-support-restricted-record');
    await handle.terminate('scenario over');
  }, 120_000);
});
