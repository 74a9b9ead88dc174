/**
 * Custody observation timing on concrete dates, on the time-skipping server with the real activities (issue 13,
 * "Custody observation"): rousing checks keep a fixed schedule anchored on when the observation level was set,
 * through a late-evening arrival and the night of the March clock change; a check not recorded within the grace
 * period alerts the custody sergeant by name, again until it is recorded; "could not rouse" opens an emergency
 * task, raises a medical-emergency alert, tells the healthcare professional and tightens the checks until the
 * level is reviewed; an HCP direction recorded between checks takes effect at once.
 *
 * Every instant is UTC. London is on GMT until 01:00 UTC on Sunday 30 March 2031 and on BST (UTC+1) after it:
 * the checks are due every 30 minutes of elapsed time whatever the wall clock says. The dates are in 2031 because
 * the server's clock starts at the real time and only moves forward (the same March change falls on 29 March 2026,
 * at the same hour).
 */
import { stateQuery, type PathwayView } from '../../workflows';
import { STAFF, example, staffRecipient, useScenario, type InboxEntry, type PathwayHandle } from './scenario-harness';

const scenario = useScenario('scenario_custody_timing');
const NHS_NUMBER = '9000000009';
const SUITE = 'Leeds Elland Road';

/** London wall-clock time of an instant, `HH:MM`. */
function london(iso: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit' }).format(
    new Date(iso),
  );
}

/** An instant to the minute (`2031-03-30T00:45`): notices are issued a few milliseconds after their timer fires. */
const minute = (iso: string | undefined): string => (iso ?? '').slice(0, 16);

/** The due date of the open observation check (waiting for it to open). */
async function openCheckDue(custody: PathwayHandle): Promise<string | undefined> {
  const view = await scenario.waitFor(custody, 'opened a check', (v) =>
    v.openTasks.some((t) => t.elementId === 'RecordObservationCheck'),
  );
  return view.openTasks.find((t) => t.elementId === 'RecordObservationCheck')?.dueDate;
}

/** Between checks: the standing level review is open and the next check is due at the returned instant. */
async function nextCheckDue(custody: PathwayHandle, after: string): Promise<string> {
  const view = await scenario.waitFor(custody, `scheduled the check after ${after}`, (v) =>
    v.pendingTimers.some((t) => t.elementId === 'VisitIntervalElapsed' && t.dueAt > after),
  );
  expect(view.openTasks.map((t) => t.elementId)).toContain('ReviewObservationLevel');
  return view.pendingTimers.find((t) => t.elementId === 'VisitIntervalElapsed')?.dueAt ?? '';
}

function check(checkedAt: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return example('custody-observation-check', { checkedAt, ...overrides });
}

function level(assessedAt: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return example('custody-observation-level', {
    assessedAt,
    observationLevel: 'L2',
    rousingRequired: true,
    visitIntervalMinutes: undefined,
    ...overrides,
  });
}

/** The staff notices the local inbox received for the case once there are `count` of them. */
async function staffNotices(caseId: string, count: number): Promise<InboxEntry[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const notices = (await scenario.inbox(caseId)).filter((m) => m.template === 'staff-notice');
    if (notices.length >= count || Date.now() > deadline) return notices;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function arrive(arrivalTime: string, variables: Record<string, unknown> = {}) {
  await scenario.advanceTo(arrivalTime);
  const caseId = await scenario.openCase(NHS_NUMBER, 'custody-reception');
  const custody = await scenario.start('custody-reception', caseId, {
    nhsNumber: NHS_NUMBER,
    custodySuite: SUITE,
    arrivalTime,
    ...variables,
  });
  return { caseId, custody };
}

describe('custody observation timing', () => {
  it('keeps the rousing schedule from a late-evening arrival through the March clock change, and alerts the custody sergeant by name while a check is late', async () => {
    // Given a man arrives at the custody suite at 22:40 on Saturday 29 March 2031 (GMT), intoxicated
    const { caseId, custody } = await arrive('2031-03-29T22:40:00Z');
    await scenario.advanceTo('2031-03-29T22:55:00Z');
    await scenario.complete(
      custody,
      'HealthScreening',
      example('custody-health-screening', { screenedAt: '2031-03-29T22:55:00Z' }),
    );

    // When the nurse sets level 2 with rousing at 23:10
    await scenario.advanceTo('2031-03-29T23:10:00Z');
    await scenario.complete(custody, 'SetObservationLevel', level('2031-03-29T23:10:00Z'));

    // Then checks fall due every 30 minutes from 23:10, however early or late each one is written
    expect(await nextCheckDue(custody, '2031-03-29T23:10:00Z')).toBe('2031-03-29T23:40:00.000Z');
    await scenario.advanceTo('2031-03-29T23:41:00Z');
    expect(await openCheckDue(custody)).toBe('2031-03-29T23:40:00.000Z');
    await scenario.complete(custody, 'RecordObservationCheck', check('2031-03-29T23:41:00Z'));
    expect(await nextCheckDue(custody, '2031-03-29T23:40:00.000Z')).toBe('2031-03-30T00:10:00.000Z');

    // a check written 3 minutes late (00:13, within the 5-minute grace period) leaves the next one due at 00:40
    await scenario.advanceTo('2031-03-30T00:13:00Z');
    expect(await openCheckDue(custody)).toBe('2031-03-30T00:10:00.000Z');
    await scenario.complete(custody, 'RecordObservationCheck', check('2031-03-30T00:13:00Z'));
    expect(await nextCheckDue(custody, '2031-03-30T00:10:00.000Z')).toBe('2031-03-30T00:40:00.000Z');
    expect(await staffNotices(caseId, 0)).toEqual([]);

    // When nobody records the check due at 00:40 until 00:57
    await scenario.advanceTo('2031-03-30T00:57:00Z');
    expect(await openCheckDue(custody)).toBe('2031-03-30T00:40:00.000Z');

    // Then the custody sergeant, Chris Sergeant, was alerted at 00:45 (5 minutes' grace) and every 5 minutes after
    const overdue = await staffNotices(caseId, 3);
    expect(overdue.map((m) => [minute(m.at), m.recipient, m.kind])).toEqual([
      ['2031-03-30T00:45', staffRecipient('custodySergeant'), 'overdue'],
      ['2031-03-30T00:50', staffRecipient('custodySergeant'), 'overdue'],
      ['2031-03-30T00:55', staffRecipient('custodySergeant'), 'overdue'],
    ]);
    expect(STAFF.custodySergeant).toBe('Chris Sergeant');
    expect(overdue[0]?.subject).toContain('Observation check overdue');
    expect(overdue[0]?.body).toContain(SUITE);

    // When the check is recorded at 00:57, the alerts stop and the schedule keeps its rhythm across the clock
    // change: the next check is due at 01:10 UTC, 02:10 on London's clock (BST from 01:00 UTC)
    await scenario.complete(custody, 'RecordObservationCheck', check('2031-03-30T00:57:00Z'));
    expect(await nextCheckDue(custody, '2031-03-30T00:40:00.000Z')).toBe('2031-03-30T01:10:00.000Z');
    expect([london('2031-03-30T00:40:00Z'), london('2031-03-30T01:10:00Z')]).toEqual(['00:40', '02:10']);
    await scenario.advanceTo('2031-03-30T01:09:00Z');
    expect(await staffNotices(caseId, 3)).toHaveLength(3);

    await scenario.advanceTo('2031-03-30T01:11:00Z');
    expect(await openCheckDue(custody)).toBe('2031-03-30T01:10:00.000Z');
    await scenario.complete(custody, 'RecordObservationCheck', check('2031-03-30T01:11:00Z'));
    expect(await nextCheckDue(custody, '2031-03-30T01:10:00.000Z')).toBe('2031-03-30T01:40:00.000Z');
    expect(london('2031-03-30T01:40:00Z')).toBe('02:40');

    // and every notice left a note on the case naming who was told
    const notes = await scenario.query<{ body: string }>(
      `select body from notes where case_id = ? and body like '[staff-notice:overdue]%' order by written_at`,
      [caseId],
    );
    expect(notes).toHaveLength(3);
    expect(notes[0]?.body).toContain('sent to Chris Sergeant (custody-sergeant)');

    await scenario.printTimeline('custody observation through the March clock change', caseId, [custody]);
    await custody.terminate('scenario over');
  }, 180_000);

  it('opens an emergency task, raises an alert and tells the healthcare professional when a person cannot be roused, and checks every 15 minutes until the level is reviewed', async () => {
    // Given a woman arrives at 21:40 BST (20:40 UTC) on Wednesday 2 April 2031 and is on level 2 from 21:05 UTC
    const { caseId, custody } = await arrive('2031-04-02T20:40:00Z');
    await scenario.advanceTo('2031-04-02T20:50:00Z');
    await scenario.complete(
      custody,
      'HealthScreening',
      example('custody-health-screening', { screenedAt: '2031-04-02T20:50:00Z' }),
    );
    await scenario.advanceTo('2031-04-02T21:05:00Z');
    await scenario.complete(custody, 'SetObservationLevel', level('2031-04-02T21:05:00Z'));
    expect(await nextCheckDue(custody, '2031-04-02T21:05:00Z')).toBe('2031-04-02T21:35:00.000Z');
    await scenario.advanceTo('2031-04-02T21:36:00Z');
    await scenario.complete(custody, 'RecordObservationCheck', check('2031-04-02T21:36:00Z'));
    expect(await nextCheckDue(custody, '2031-04-02T21:35:00.000Z')).toBe('2031-04-02T22:05:00.000Z');

    // When the officer cannot rouse her at 22:05 and calls an ambulance, recording the check at 22:06
    await scenario.advanceTo('2031-04-02T22:06:00Z');
    expect(await openCheckDue(custody)).toBe('2031-04-02T22:05:00.000Z');
    await scenario.complete(
      custody,
      'RecordObservationCheck',
      check('2031-04-02T22:05:00Z', {
        rousing: 'could-not-rouse',
        emergencyHelpCalled: true,
        actionTaken: 'Ambulance called at 22:05; placed in the recovery position',
      }),
    );

    // Then an emergency task is open for custody healthcare, due at once
    const emergency = await scenario.waitFor(custody, 'opened the emergency task', (v) =>
      v.openTasks.some((t) => t.elementId === 'RespondToMedicalEmergency'),
    );
    const task = emergency.openTasks.find((t) => t.elementId === 'RespondToMedicalEmergency');
    expect(task).toMatchObject({ formId: 'custody-medical-emergency', candidateGroups: ['custody-healthcare'] });
    expect(minute(task?.dueDate)).toBe('2031-04-02T22:06');

    // and a medical-emergency alert is on her record, carried with the custody alerts
    const [alert] = await scenario.queryUntil<{ id: string; code: string; status: string }>(
      'raised the medical emergency alert',
      `select id, code, status from alerts where case_id = ? and code = 'MEDICAL_EMERGENCY'`,
      [caseId],
      (rows) => rows.length === 1,
    );
    expect(alert?.status).toBe('active');
    const carried = await scenario.waitFor(custody, 'carried the alert', (v) =>
      ((v.variables['custodyAlertIds'] as string[] | undefined) ?? []).includes(alert?.id ?? ''),
    );
    expect(carried.variables['custodyAlertIds']).toHaveLength(3);

    // and the healthcare professional on duty, Dana Hughes, is told at once, marked urgent
    const [notice] = await staffNotices(caseId, 1);
    expect([minute(notice?.at), notice?.recipient, notice?.kind]).toEqual([
      '2031-04-02T22:06',
      staffRecipient('healthcareProfessional'),
      'emergency',
    ]);
    expect(notice?.subject).toMatch(/^URGENT: Medical emergency/);
    expect(notice?.body).toContain('Ambulance called at 22:05');

    // and checks continue every 15 minutes from the visit that could not rouse her, with a level review due in 15
    expect(await nextCheckDue(custody, '2031-04-02T22:05:00.000Z')).toBe('2031-04-02T22:20:00.000Z');
    const review = (await custody.query(stateQuery)).openTasks.find((t) => t.elementId === 'ReviewObservationLevel');
    expect(minute(review?.dueDate)).toBe('2031-04-02T22:21');
    await scenario.advanceTo('2031-04-02T22:21:00Z');
    expect(await openCheckDue(custody)).toBe('2031-04-02T22:20:00.000Z');
    await scenario.complete(custody, 'RecordObservationCheck', check('2031-04-02T22:21:00Z'));
    expect(await nextCheckDue(custody, '2031-04-02T22:20:00.000Z')).toBe('2031-04-02T22:35:00.000Z');
    // the review waiting for the HCP keeps its due time while checks go on
    const stillDue = (await custody.query(stateQuery)).openTasks.find((t) => t.elementId === 'ReviewObservationLevel');
    expect(stillDue?.dueDate).toBe(review?.dueDate);

    // When the healthcare professional records the emergency response and reviews the level at 22:30,
    // directing rousing every 20 minutes
    await scenario.advanceTo('2031-04-02T22:30:00Z');
    await scenario.complete(
      custody,
      'RespondToMedicalEmergency',
      example('custody-medical-emergency', { respondedAt: '2031-04-02T22:12:00Z' }),
    );
    await scenario.complete(
      custody,
      'ReviewObservationLevel',
      level('2031-04-02T22:30:00Z', { visitIntervalMinutes: 20 }),
    );

    // Then the schedule is anchored on the review at once: the next check is due at 22:50, not 22:35
    expect(await nextCheckDue(custody, '2031-04-02T22:35:00.000Z')).toBe('2031-04-02T22:50:00.000Z');
    const after = await custody.query(stateQuery);
    expect(after.variables).toMatchObject({ observationInterval: 'PT20M', observationReviewDueAt: null });
    expect(after.openTasks.find((t) => t.elementId === 'ReviewObservationLevel')?.dueDate).toBeUndefined();
    // and the emergency response is on the record
    await scenario.queryUntil(
      'saved the emergency response',
      `select id from assessments where case_id = ? and form_id = 'custody-medical-emergency'`,
      [caseId],
      (rows) => rows.length === 1,
    );

    await scenario.printTimeline('could not rouse', caseId, [custody]);
    await custody.terminate('scenario over');
  }, 180_000);

  it('takes an HCP direction recorded between checks at once, and alerts the sergeant on the grace period the suite configured', async () => {
    // Given a suite that allows 10 minutes' grace and repeats its alerts every 20 minutes, and a man on level 1
    // (hourly visits) from 10:00 UTC on Thursday 10 April 2031
    const { caseId, custody } = await arrive('2031-04-10T09:30:00Z', {
      observationCheckGrace: 'PT10M',
      observationCheckAlertRepeat: 'PT20M',
    });
    await scenario.advanceTo('2031-04-10T09:45:00Z');
    await scenario.complete(
      custody,
      'HealthScreening',
      example('custody-health-screening', { screenedAt: '2031-04-10T09:45:00Z' }),
    );
    await scenario.advanceTo('2031-04-10T10:00:00Z');
    await scenario.complete(
      custody,
      'SetObservationLevel',
      level('2031-04-10T10:00:00Z', { observationLevel: 'L1', rousingRequired: false }),
    );
    expect(await nextCheckDue(custody, '2031-04-10T10:00:00Z')).toBe('2031-04-10T11:00:00.000Z');
    const between: PathwayView = await custody.query(stateQuery);
    expect(between.openTasks.find((t) => t.elementId === 'ReviewObservationLevel')?.dueDate).toBeUndefined();

    // When at 10:20 the healthcare professional directs rousing every 15 minutes
    await scenario.advanceTo('2031-04-10T10:20:00Z');
    await scenario.complete(
      custody,
      'ReviewObservationLevel',
      level('2031-04-10T10:20:00Z', { visitIntervalMinutes: 15 }),
    );

    // Then the next check is due at 10:35, not 11:00
    expect(await nextCheckDue(custody, '2031-04-10T10:20:00Z')).toBe('2031-04-10T10:35:00.000Z');
    expect((await custody.query(stateQuery)).pendingTimers.map((t) => t.elementId)).toEqual(['VisitIntervalElapsed']);

    // When the 10:35 check is not recorded until 11:06
    await scenario.advanceTo('2031-04-10T11:06:00Z');
    expect(await openCheckDue(custody)).toBe('2031-04-10T10:35:00.000Z');
    await scenario.complete(custody, 'RecordObservationCheck', check('2031-04-10T11:06:00Z'));

    // Then the sergeant was alerted after 10 minutes' grace, at 10:45, and again 20 minutes later, at 11:05
    const overdue = await staffNotices(caseId, 2);
    expect(overdue.map((m) => [minute(m.at), m.recipient, m.kind])).toEqual([
      ['2031-04-10T10:45', staffRecipient('custodySergeant'), 'overdue'],
      ['2031-04-10T11:05', staffRecipient('custodySergeant'), 'overdue'],
    ]);
    // and the next check keeps the 15-minute rhythm from the direction: 11:20
    expect(await nextCheckDue(custody, '2031-04-10T10:35:00.000Z')).toBe('2031-04-10T11:20:00.000Z');

    await scenario.printTimeline('an HCP direction between checks', caseId, [custody]);
    await custody.terminate('scenario over');
  }, 180_000);
});
