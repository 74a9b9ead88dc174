/**
 * Release timing on the time-skipping server with the real activities, on concrete dates:
 * - release day: the community treatment provider, the GP, probation and the resettlement service are told at
 *   08:00 London time on the release date, each only with recorded consent or a legal basis, and whoever is not
 *   told is said on the case;
 * - an appointment at 09:00 London time on a BST date not confirmed as attended within 2 hours: treated as missed,
 *   a follow-up task, probation and the resettlement service told at once, the nominated family member only with
 *   consent and never for a restricted record; 72 hours on, still not engaged: the substance misuse clinical lead
 *   and probation are told, with the overdose-risk message;
 * - release support closes automatically at the end of the London day 6 months after release, unless extended;
 * - a recall months after release withdraws the open release tasks with the reason "recalled" and starts a new
 *   prison reception linked to the previous episode and care plan.
 *
 * The server's clock only moves forward and starts at the real time (December 2026 when this was written), so the
 * October clock change used is the next one, Sunday 31 October 2027 at 01:00 UTC; the same rules on 2026 dates
 * (the change of 25 October 2026) are checked on the compiled pathway at the end. Tests run in date order.
 * Instants are read from the pathway trail and pending timers (the server's clock); database rows carry the wall
 * clock.
 */
import { type PathwayIR } from '../../bpmn';
import { evaluateFeel, toPlainValue } from '../../bpmn/feel';
import { stateQuery, type PathwayView } from '../../workflows';
import { example, STAFF, staffRecipient, useScenario, type PathwayHandle, type Vars } from './scenario-harness';

const scenario = useScenario('scenario_release_timing');

const FORWARD_LEEDS = {
  kind: 'community-substance-misuse',
  name: 'Forward Leeds',
  contact: 'referrals@forwardleeds.example',
  notifyOnMissedAppointment: true,
  consentToShare: true,
  consentRecordedOn: '2027-10-01',
};
const PROBATION = {
  kind: 'probation',
  name: 'Leeds Probation Delivery Unit',
  contact: 'pdu@probation.example',
  notifyOnMissedAppointment: false,
  legalBasis: 'statutory-duty',
};
const RECONNECT = {
  kind: 'reconnect',
  name: 'RECONNECT Leeds',
  contact: 'reconnect@leedsandyorkpft.example',
  notifyOnMissedAppointment: false,
  consentToShare: true,
  consentRecordedOn: '2027-10-01',
};
/** A GP with neither consent nor a legal basis recorded: never told, and the case says so. */
const GP_WITHOUT_BASIS = {
  kind: 'gp',
  name: 'Hillside Surgery',
  contact: 'hillside.surgery@nhs.example',
  notifyOnMissedAppointment: true,
};
const HOUSING = {
  kind: 'housing',
  name: 'Leeds Housing Options',
  contact: 'housing@leeds.example',
  notifyOnMissedAppointment: false,
  legalBasis: 'information-sharing-agreement',
};
const SISTER = {
  name: 'Maria Smith',
  relationship: 'Sister',
  telephone: '07700 900123',
  consentToNotify: true,
  consentRecordedOn: '2027-10-01',
};
const BROTHER = { name: 'Dan Smith', relationship: 'Brother', telephone: '07700 900456', consentToNotify: false };

function releasePlan(releaseDate: string, appointments: Vars[], lastDoseAt: string): Vars {
  return example('release-plan', {
    releaseDate,
    reconnect: { eligible: true, referred: true, referralDate: '2027-09-01' },
    naloxoneIssued: true,
    opioidSubstitution: { onTreatment: true, medicine: 'methadone', lastDoseMg: 60, lastDoseAt },
    agencies: [FORWARD_LEEDS, PROBATION, RECONNECT, GP_WITHOUT_BASIS, HOUSING],
    familyContacts: [SISTER, BROTHER],
    appointments,
  });
}

interface OutboxRow {
  name: string;
  template: string;
  status: string;
  personalisation: Record<string, string>;
}

function outbox(caseId: string, template: string): Promise<OutboxRow[]> {
  return scenario.query<OutboxRow>(
    `select c.name, o.template, o.status, o.personalisation
       from notification_outbox o join contacts c on c.id = o.contact_id
      where o.case_id = ? and o.template = ? order by c.name`,
    [caseId, template],
  );
}

function notes(caseId: string, like: string): Promise<string[]> {
  return scenario
    .query<{ body: string }>(`select body from notes where case_id = ? and body like ? order by written_at`, [
      caseId,
      like,
    ])
    .then((rows) => rows.map((r) => r.body));
}

/** When each completed run of a step started, on the server's clock. */
function done(view: PathwayView, elementId: string): string[] {
  return view.trail.filter((e) => e.elementId === elementId && e.outcome === 'completed').map((e) => e.enteredAt);
}

function dueOf(view: PathwayView, elementId: string): string | undefined {
  return view.pendingTimers.find((t) => t.elementId === elementId)?.dueAt;
}

const HOUR = 60 * 60 * 1000;
const londonClock = (iso: string) =>
  new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/London',
    weekday: 'long',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
  })
    .format(new Date(iso))
    .replace(',', '');

describe('release timing on the workflow server with the real activities', () => {
  it('tells agencies on release day before the October clock change, treats a 09:00 BST appointment not confirmed by 11:00 as missed, and escalates 72 hours on', async () => {
    // Given two people released on Friday 29 October 2027 (clocks go back on Sunday 31 October at 01:00 UTC):
    // Mr Brown (sandbox 9000000068), traced, unrestricted; Mrs Smythe (9000000025), whose PDS record is restricted
    await scenario.advanceTo('2027-10-20T09:00:00Z');
    const brownCase = await scenario.openCase('9000000068', 'release-support');
    const brown = await scenario.start('release-support', brownCase, {
      nhsNumber: '9000000068',
      patient: { nhsNumber: '9000000068', restricted: false },
      alertIds: [],
    });
    const smytheCase = await scenario.openCase('9000000025', 'release-support');
    const smythe = await scenario.start('release-support', smytheCase, { nhsNumber: '9000000025' });
    // each with the community substance misuse service at 09:00 BST on Saturday 30 October and probation on Monday 1
    // November at 10:00 GMT, and the last methadone dose at 08:30 BST on the release date
    const appointments = [
      {
        kind: 'community-substance-misuse',
        startsAt: '2027-10-30T08:00:00Z',
        location: 'Forward Leeds hub',
        agencyName: 'Forward Leeds',
      },
      { kind: 'probation', startsAt: '2027-11-01T10:00:00Z', location: 'Leeds PDU', agencyName: PROBATION.name },
    ];
    const plan = releasePlan('2027-10-29', appointments, '2027-10-29T07:30:00Z');
    await scenario.complete(brown, 'PlanRelease', plan);
    await scenario.complete(smythe, 'PlanRelease', plan);
    expect(londonClock('2027-10-30T08:00:00Z')).toBe('Saturday 09:00 BST');

    // Then the release-day notices, the 2-hour grace and the 6-month close are on the clock
    let view = await scenario.waitFor(brown, 'scheduled', (v) => dueOf(v, 'SmsOutcomeNotReported') !== undefined);
    expect(dueOf(view, 'ReleaseDay')).toBe('2027-10-29T07:00:00.000Z'); // 08:00 BST on the release date
    expect(dueOf(view, 'SmsOutcomeNotReported')).toBe('2027-10-30T10:00:00.000Z'); // 09:00 BST + 2 hours
    expect(dueOf(view, 'ProbationOutcomeNotReported')).toBe('2027-11-01T12:00:00.000Z');
    expect(dueOf(view, 'SupportPeriodEnds')).toBe('2028-04-29T22:59:59.000Z'); // 23:59:59 BST, 6 months on

    // When the release day comes
    await scenario.advanceTo('2027-10-29T09:00:00Z');
    view = await scenario.waitFor(brown, 'told agencies', (v) => done(v, 'NotifyReleaseDay').length === 1);
    expect(done(view, 'NotifyReleaseDay')).toEqual([expect.stringMatching(/^2027-10-29T07:00/)]);
    // Then the community treatment provider, probation and the resettlement service are told: each has a basis
    const releaseNotices = await outbox(brownCase, 'release-notice');
    expect(releaseNotices.map((o) => [o.name, o.status])).toEqual([
      ['Forward Leeds', 'sent'],
      ['Leeds Probation Delivery Unit', 'sent'],
      ['RECONNECT Leeds', 'sent'],
    ]);
    expect(releaseNotices[0]?.personalisation).toMatchObject({
      releaseDate: 'Friday 29 October 2027',
      lastOpioidSubstitutionDose: 'Methadone 60 mg at 08:30 on Friday 29 October 2027',
      naloxoneSupplied: 'yes',
    });
    // and the GP, with neither consent nor a legal basis, is not told, which the case records (housing is not a
    // release-day agency); so is every other notice's outcome
    expect(await notes(brownCase, '[notification:release-notice]%')).toEqual([
      '[notification:release-notice] Told: Forward Leeds (community treatment provider), consent recorded 2027-10-01; ' +
        'Leeds Probation Delivery Unit (probation), legal basis: a statutory duty; RECONNECT Leeds (resettlement ' +
        'service (RECONNECT)), consent recorded 2027-10-01. Not told: Hillside Surgery (registered GP): no recorded ' +
        'consent or legal basis.',
    ]);
    expect(view.variables['releaseDayNotNotified']).toEqual([
      { name: 'Hillside Surgery', kind: 'gp', reason: 'no recorded consent or legal basis' },
    ]);
    const released = (await scenario.inbox(brownCase)).filter((m) => m.template === 'release-notice');
    expect(released.map((m) => m.body)).toEqual(
      Array(3).fill(
        'The person you are supporting is released from custody on Friday 29 October 2027.\n\n' +
          'Last dose of opioid substitution treatment in custody: Methadone 60 mg at 08:30 on Friday 29 October 2027.\n' +
          'Take-home naloxone supplied: yes.\n\n' +
          'The first two weeks after release carry the highest risk of overdose.\n\nFollow-up: the release support team.',
      ),
    );

    // When nobody confirms the 09:00 BST appointment by 11:00 BST on Saturday
    await scenario.advanceTo('2027-10-30T09:59:00Z');
    view = await brown.query(stateQuery);
    expect(view.openTasks.map((t) => t.elementId)).not.toContain('FollowUpSmsMissed');
    await scenario.advanceTo('2027-10-30T10:30:00Z');
    view = await scenario.waitFor(brown, 'following up', (v) =>
      v.openTasks.some((t) => t.elementId === 'FollowUpSmsMissed'),
    );
    // Then at 10:00 UTC (11:00 BST) it is recorded missed, the follow-up task opens and the people to tell are told
    const followUp = view.openTasks.find((t) => t.elementId === 'FollowUpSmsMissed');
    expect(followUp?.openedAt).toMatch(/^2027-10-30T10:00/);
    const [toldAt] = done(view, 'NotifyContactsSmsMissed');
    expect(toldAt).toMatch(/^2027-10-30T10:00/);
    expect(Date.parse(toldAt ?? '') - Date.parse('2027-10-30T10:00:00Z')).toBeLessThan(HOUR);
    expect(
      await scenario.query(`select status from appointments where case_id = ? and agency = 'Forward Leeds'`, [
        brownCase,
      ]),
    ).toEqual([{ status: 'missed' }]);
    // probation and the resettlement service always, the service that asked, and the sister who consented; not her
    // brother, not the GP without a basis
    const missed = await outbox(brownCase, 'missed-appointment');
    expect(missed.map((o) => o.name)).toEqual([
      'Forward Leeds',
      'Leeds Probation Delivery Unit',
      'Maria Smith',
      'RECONNECT Leeds',
    ]);
    expect(missed[0]?.personalisation).toMatchObject({
      date: 'Saturday, 30 October 2027 at 09:00',
      location: 'Forward Leeds hub',
    });
    expect(await notes(brownCase, '[notification:missed-appointment]%')).toEqual([
      expect.stringMatching(/Not told: Hillside Surgery \(registered GP\): no recorded consent or legal basis\.$/),
    ]);
    // and for the restricted record: the agencies, without the location; never the sister, which the case records
    view = await scenario.waitFor(smythe, 'following up', (v) =>
      v.openTasks.some((t) => t.elementId === 'FollowUpSmsMissed'),
    );
    expect(done(view, 'NotifyContactsSmsMissed')).toEqual([expect.stringMatching(/^2027-10-30T10:00/)]);
    const restricted = await outbox(smytheCase, 'missed-appointment');
    expect(restricted.map((o) => o.name)).toEqual([
      'Forward Leeds',
      'Leeds Probation Delivery Unit',
      'RECONNECT Leeds',
    ]);
    for (const row of restricted) expect(row.personalisation).not.toHaveProperty('location');
    expect(await notes(smytheCase, '[notification:missed-appointment]%')).toEqual([
      expect.stringContaining('Maria Smith (family member): the record is restricted'),
    ]);

    // When Mrs Smythe's keyworker reaches her on Sunday, and both attend probation on Monday
    await scenario.advanceTo('2027-10-31T14:00:00Z');
    await scenario.complete(
      smythe,
      'FollowUpSmsMissed',
      example('release-missed-appointment', {
        contactMade: true,
        followUp: 'agency-following-up',
        newStartsAt: undefined,
        notes: 'Spoke to her by phone; Forward Leeds will see her on Tuesday.',
      }),
    );
    await scenario.advanceTo('2027-11-01T11:00:00Z');
    for (const handle of [brown, smythe]) {
      const id = String((await handle.query(stateQuery)).variables['probationAppointmentId']);
      await scenario.sendWhenWaiting(handle, 'appointment.probation.attended', id);
    }

    // Then 72 hours after the missed appointment (08:00 GMT on Tuesday 2 November: elapsed hours, across the change)
    await scenario.advanceTo('2027-11-02T09:00:00Z');
    view = await scenario.waitFor(brown, 'escalated', (v) => done(v, 'EscalateSmsNotEngaged').length === 1);
    expect(done(view, 'TellSmsNotEngaged')).toEqual([expect.stringMatching(/^2027-11-02T08:00/)]);
    expect(londonClock('2027-11-02T08:00:00Z')).toBe('Tuesday 08:00 GMT');
    // nobody had been in touch with Mr Brown: the clinical lead and probation are told, with the overdose risk
    const escalations = (await scenario.inbox(brownCase)).filter(
      (m) => m.template === 'staff-notice' || m.template === 'not-engaged-after-release',
    );
    expect(escalations.map((m) => `${m.template} -> ${m.recipient}`).sort()).toEqual([
      'not-engaged-after-release -> Leeds Probation Delivery Unit <pdu@probation.example>',
      `staff-notice -> ${staffRecipient('clinicalLead')}`,
    ]);
    const lead = escalations.find((m) => m.template === 'staff-notice');
    expect(lead?.at).toMatch(/^2027-11-02T08:00/);
    expect(lead?.subject).toContain('Not engaged since a missed community substance misuse appointment after release');
    expect(lead?.body).toContain('The first two weeks after release carry the highest risk of overdose');
    const probationEscalation = escalations.find((m) => m.template === 'not-engaged-after-release');
    expect(probationEscalation?.body).toContain(
      'The first two weeks after release carry the highest risk of overdose.',
    );
    expect(probationEscalation?.body).toContain('They were released on Friday 29 October 2027.');
    // and Mrs Smythe, reached in time, is not escalated
    view = await scenario.waitFor(smythe, 'engaged', (v) => v.trail.some((e) => e.elementId === 'SmsEngagedInTime'));
    expect(done(view, 'EscalateSmsNotEngaged')).toEqual([]);
    expect((await scenario.inbox(smytheCase)).filter((m) => m.template === 'staff-notice')).toEqual([]);
    expect(STAFF.clinicalLead).toBe('Priya Shah');

    await scenario.printTimeline('release day, missed appointment, 72-hour escalation', brownCase, [brown]);
    await scenario.printTimeline('the same with a restricted record', smytheCase, [smythe]);
    await brown.terminate('scenario over');
    await smythe.terminate('scenario over');
  }, 240_000);

  it('closes release support automatically at the end of the London day 6 months after release, unless it is extended', async () => {
    // Given two people released on Friday 14 January 2028 who attend their appointment the next day
    await scenario.advanceTo('2028-01-10T09:00:00Z');
    const started: { caseId: string; handle: PathwayHandle }[] = [];
    for (const nhsNumber of ['9000000068', '9000000009']) {
      const caseId = await scenario.openCase(nhsNumber, 'release-support');
      const handle = await scenario.start('release-support', caseId, {
        nhsNumber,
        patient: { nhsNumber, restricted: false },
        alertIds: [],
      });
      await scenario.complete(
        handle,
        'PlanRelease',
        releasePlan(
          '2028-01-14',
          [
            {
              kind: 'community-substance-misuse',
              startsAt: '2028-01-15T10:00:00Z',
              location: 'Hub',
              agencyName: 'Forward Leeds',
            },
          ],
          '2028-01-14T08:00:00Z',
        ),
      );
      started.push({ caseId, handle });
    }
    const [closing, extended] = started as [(typeof started)[0], (typeof started)[0]];
    await scenario.advanceTo('2028-01-15T11:00:00Z');
    for (const { handle } of started) {
      const id = String((await handle.query(stateQuery)).variables['smsAppointmentId']);
      await scenario.sendWhenWaiting(handle, 'appointment.community-substance-misuse.attended', id);
    }
    // Then the release team's closure task is due at 23:59:59 BST on Friday 14 July 2028
    let view = await scenario.waitFor(closing.handle, 'closure task', (v) =>
      v.openTasks.some((t) => t.elementId === 'CloseReleaseSupport'),
    );
    expect(view.openTasks.find((t) => t.elementId === 'CloseReleaseSupport')?.dueDate).toBe('2028-07-14T22:59:59.000Z');
    expect(dueOf(view, 'SupportPeriodEnds')).toBe('2028-07-14T22:59:59.000Z');

    // When the second person's support is extended by 3 months in June (RECONNECT, exceptional cases)
    await scenario.advanceTo('2028-06-20T10:00:00Z');
    await scenario.sendWhenWaiting(extended.handle, 'release-support.extend', extended.caseId, {
      extendSupportBy: 'P3M',
      extensionReason: 'Housing still unsettled; agreed with the commissioner',
    });
    view = await scenario.waitFor(
      extended.handle,
      'extended',
      (v) => dueOf(v, 'SupportPeriodEnds') === '2028-10-14T22:59:59.000Z',
    );
    expect(await notes(extended.caseId, '[release-support-extended]%')).toEqual([
      '[release-support-extended] Release support extended: it now closes at the end of 2028-10-14 (London time): ' +
        'Housing still unsettled; agreed with the commissioner',
    ]);

    // When the support period of the first ends with nobody having closed it
    await scenario.advanceTo('2028-07-15T06:00:00Z');
    const result = await finished(closing.handle);
    // Then it closed itself at 23:59:59 BST on 14 July: the closure task withdrawn with that reason, the outcome reported
    expect(result.status).toBe('terminated');
    expect(result.variables['releaseClosure']).toMatchObject({
      closedOn: '2028-07-14',
      closureReason: 'support-period-ended',
      engagedWithCommunityTreatment: 'yes',
    });
    view = await closing.handle.query(stateQuery);
    expect(done(view, 'WithdrawTasksAtSupportEnd')).toEqual([expect.stringMatching(/^2028-07-14T22:59:59/)]);
    expect(
      await scenario.query(`select status, cancel_reason from worklist_tasks where case_id = ? and element_id = ?`, [
        closing.caseId,
        'CloseReleaseSupport',
      ]),
    ).toEqual([{ status: 'cancelled', cancel_reason: 'release support period ended' }]);
    expect(
      await scenario.query<{ closure: string }>(
        `select data->>'closureReason' as closure from assessments where case_id = ? and form_id = 'release-support-closure'`,
        [closing.caseId],
      ),
    ).toEqual([{ closure: 'support-period-ended' }]);
    // and the extended one runs on until the end of 14 October 2028
    expect((await extended.handle.query(stateQuery)).status).toBe('active');
    await scenario.advanceTo('2028-10-15T06:00:00Z');
    const extendedEnd = await finished(extended.handle);
    expect(extendedEnd.variables['releaseClosure']).toMatchObject({
      closedOn: '2028-10-14',
      closureReason: 'support-period-ended',
    });
    view = await extended.handle.query(stateQuery);
    expect(done(view, 'WithdrawTasksAtSupportEnd')).toEqual([expect.stringMatching(/^2028-10-14T22:59:59/)]);

    await scenario.printTimeline('release support closes itself after 6 months', closing.caseId, [closing.handle]);
    await scenario.printTimeline('release support extended by 3 months', extended.caseId, [extended.handle]);
  }, 240_000);

  it('withdraws the open release tasks with the reason "recalled" when the person is recalled months after release, and starts a new prison reception', async () => {
    // Given Mr Brown's journey: custody on Monday 8 January 2029, court, prison, and release on Friday 16 February
    const { caseId, journey, prison, release, carePlanId } = await journeyToRelease(2029);
    // and the probation appointment on Monday 19 February missed: the release team's follow-up is open
    await scenario.advanceTo('2029-02-19T13:00:00Z');
    await scenario.waitFor(release, 'following up', (v) =>
      v.openTasks.some((t) => t.elementId === 'FollowUpProbationMissed'),
    );
    // and the prison episode closed once its recall watch ended, 28 days after discharge
    await scenario.advanceTo('2029-03-20T09:00:00Z');
    expect((await finished(prison)).variables['prisonExitReason']).toBe('released');

    // When he is recalled on Monday 4 June 2029, three and a half months after release
    const recalledAt = '2029-06-04T13:20:00Z';
    await scenario.advanceTo('2029-06-04T13:30:00Z');
    expect((await release.query(stateQuery)).status).toBe('active');
    await scenario.sendWhenWaiting(release, 'prison.recall', caseId, { recalledAt });

    // Then the open release tasks are withdrawn with the reason "recalled", and release support ends recalled
    const ended = await finished(release);
    expect(ended.variables['releaseClosure']).toMatchObject({ closureReason: 'recalled', closedOn: '2029-06-04' });
    const releaseTasks = await scenario.queryUntil<{ element_id: string; status: string; cancel_reason: string }>(
      'release tasks withdrawn',
      `select element_id, status, cancel_reason from worklist_tasks where workflow_id like ? and status <> 'completed'`,
      [`${release.workflowId}%`],
      (rows) => rows.length > 0 && rows.every((r) => r.status === 'cancelled'),
    );
    expect(releaseTasks).toEqual([
      { element_id: 'FollowUpProbationMissed', status: 'cancelled', cancel_reason: 'recalled' },
    ]);
    expect(await notes(caseId, '[tasks-withdrawn]%')).toEqual([
      '[tasks-withdrawn] recalled: Follow up missed probation appointment',
    ]);
    // and a new prison reception starts, linked to the previous episode and its care plan, from the recall
    const recallReception = await scenario.waitFor(
      journey,
      'back at reception',
      (v) => v.trail.filter((e) => e.elementId === 'PrisonStage').length === 2,
    );
    const secondPrison = await scenario.child(journey, 'PrisonStage');
    expect(secondPrison.workflowId).not.toBe(prison.workflowId);
    const reception = await scenario.waitFor(secondPrison, 'at reception', (v) =>
      v.openTasks.some((t) => t.elementId === 'ReceptionScreening'),
    );
    expect(reception.variables).toMatchObject({
      recall: { previousCaseId: caseId, previousCarePlanId: carePlanId, recalledAt },
      receptionDate: recalledAt,
      prisonNumber: 'A1234BC',
    });
    // and, once the reception is screened, its milestones restart from the recall (the end of the London day 5 days,
    // 28 days and 13 weeks on) and a new TOP at start is due 14 days after it
    await scenario.complete(
      secondPrison,
      'ReceptionScreening',
      example('prison-reception-sms', { receptionAt: recalledAt }),
    );
    const planned = await scenario.queryUntil<{ element_id: string; due_at: Date | string }>(
      'planned the milestones of the new reception',
      `select element_id, due_at from worklist_tasks where workflow_id = ? and status = 'planned' order by due_at`,
      [secondPrison.workflowId],
      (rows) => rows.length >= 3,
    );
    expect(planned.map((r) => [r.element_id, new Date(r.due_at).toISOString()])).toEqual(
      expect.arrayContaining([
        ['FiveDayReview', '2029-06-09T22:59:59.000Z'],
        ['TwentyEightDayReview', '2029-07-02T22:59:59.000Z'],
        ['ThirteenWeekReview', '2029-09-03T22:59:59.000Z'],
      ]),
    );
    await workThrough(secondPrison, (v) => v.openTasks.some((t) => t.elementId === 'TopAtStart'));
    const topAtStart = (await secondPrison.query(stateQuery)).openTasks.find((t) => t.elementId === 'TopAtStart');
    expect(topAtStart?.dueDate).toBe('2029-06-18T22:59:59.000Z');
    // and the journey waits for release planning again
    expect(recallReception.messageSubscriptions.map((m) => m.messageName)).toContain('prison.release-planning');

    await scenario.printTimeline('recalled three and a half months after release', caseId, [
      journey,
      prison,
      release,
      secondPrison,
    ]);
    await journey.terminate('scenario over');
  }, 300_000);

  it('leaves a recall within the prison recall watch to the prison pathway, which reopens reception once, and waits for release planning again', async () => {
    // Given Mr Brown released on Saturday 16 February 2030, the prison pathway watching for a recall for 28 days
    const { caseId, journey, prison, release } = await journeyToRelease(2030);

    // When he is recalled ten days after release: the message reaches every pathway of the case waiting for it
    await scenario.advanceTo('2030-02-26T10:00:00Z');
    const recalledAt = '2030-02-26T09:40:00Z';
    await scenario.sendWhenWaiting(prison, 'prison.recall', caseId, { recalledAt });
    await scenario.sendWhenWaiting(release, 'prison.recall', caseId, { recalledAt });

    // Then release support ends recalled, its open tasks withdrawn with that reason
    const ended = await finished(release);
    expect(ended.variables['releaseClosure']).toMatchObject({ closureReason: 'recalled' });
    const withdrawn = await scenario.queryUntil<{ element_id: string; cancel_reason: string }>(
      'release tasks withdrawn',
      `select element_id, cancel_reason from worklist_tasks where workflow_id like ? and status = 'cancelled'`,
      [`${release.workflowId}%`],
      (rows) => rows.length > 0,
    );
    expect(withdrawn).toEqual([{ element_id: 'FollowUpProbationMissed', cancel_reason: 'recalled' }]);
    // and the prison pathway, still open, reopens reception itself: the journey starts no second prison stage
    await scenario.waitFor(prison, 'back at reception', (v) =>
      v.openTasks.some((t) => t.elementId === 'ReceptionScreening'),
    );
    const view = await scenario.waitFor(journey, 'waiting for release planning again', (v) =>
      v.trail.some((e) => e.elementId === 'ReleasePlanningAgain' && e.enteredAt.startsWith('2030-02-26')),
    );
    expect(view.trail.filter((e) => e.elementId === 'PrisonStage')).toHaveLength(1);
    expect(view.trail.some((e) => e.elementId === 'RecallReception')).toBe(false);
    expect(view.messageSubscriptions.map((m) => m.messageName)).toContain('prison.release-planning');

    await scenario.printTimeline('recalled within the prison recall watch', caseId, [journey, prison, release]);
    await journey.terminate('scenario over');
  }, 300_000);
});

/**
 * Mr Brown's journey in `year`: police custody on 8 January, court, prison (reception on 10 January, every prison
 * task done with its form's example, the care plan starting release planning), release support planned with a
 * probation appointment on 19 February, and discharge on release day, 16 February; the prison pathway is left
 * watching for a recall.
 */
async function journeyToRelease(year: number) {
  await scenario.advanceTo(`${year}-01-08T09:00:00Z`);
  const caseId = await scenario.openCase('9000000068', 'journey');
  const journey = await scenario.start('journey', caseId, {
    nhsNumber: '9000000068',
    custodySuite: 'Leeds Elland Road',
    arrivalTime: `${year}-01-08T09:30:00Z`,
  });
  const custody = await scenario.child(journey, 'CustodyStage');
  await scenario.throughCustody(custody, caseId);
  await scenario.sendWhenWaiting(journey, 'court.outcome', caseId, {
    courtOutcome: 'sentenced-to-custody',
    prisonNumber: 'A1234BC',
    establishment: 'HMP Leeds',
  });
  const prison = await scenario.child(journey, 'PrisonStage');
  await scenario.advanceTo(`${year}-01-10T10:30:00Z`);
  await workThrough(prison, (v) => v.messageSubscriptions.some((m) => m.messageName === 'prison.discharge'), {
    'prison-reception-sms': { receptionAt: `${year}-01-10T10:00:00Z` },
  });
  const carePlanId = (await prison.query(stateQuery)).variables['carePlanId'];
  expect(carePlanId).toEqual(expect.any(String));

  await scenario.sendWhenWaiting(journey, 'prison.release-planning', caseId);
  const release = await scenario.child(journey, 'ReleaseStage');
  await scenario.complete(
    release,
    'PlanRelease',
    releasePlan(
      `${year}-02-16`,
      [{ kind: 'probation', startsAt: `${year}-02-19T10:00:00Z`, location: 'Leeds PDU', agencyName: PROBATION.name }],
      `${year}-02-16T08:00:00Z`,
    ),
  );
  await scenario.advanceTo(`${year}-02-16T09:00:00Z`);
  await scenario.sendWhenWaiting(prison, 'prison.discharge', caseId);
  // (the prison pathway's discharge tasks done, it watches for a recall for 28 days)
  await workThrough(
    prison,
    (v) => v.openTasks.length === 0 && v.messageSubscriptions.some((m) => m.messageName === 'prison.recall'),
    { 'sms-discharge': { prisonExitDate: `${year}-02-16` } },
  );
  return { caseId, journey, prison, release, carePlanId };
}

/**
 * The pathway's end, read by query: awaiting a workflow's result would let the time-skipping server run the clock
 * on to the next timer of every other case.
 */
function finished(handle: PathwayHandle): Promise<PathwayView> {
  return scenario.waitFor(handle, 'finished', (v) => v.status !== 'active');
}

/**
 * Completes every open task of a pathway with its form's valid example until `until` holds, so the test does not
 * depend on the exact order of the prison pathway's steps (which another part of the work owns).
 */
async function workThrough(
  handle: PathwayHandle,
  until: (view: PathwayView) => boolean,
  overrides: Record<string, Vars> = {},
): Promise<void> {
  for (let round = 0; round < 40; round += 1) {
    const view = await handle.query(stateQuery);
    if (until(view)) return;
    const task = view.openTasks[0];
    if (!task?.formId) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    }
    await scenario.complete(handle, task.elementId, example(task.formId, overrides[task.formId] ?? {}));
    await scenario.waitFor(
      handle,
      `left ${task.elementId}`,
      (v) => v.status !== 'active' || !v.openTasks.some((t) => t.taskId === task.taskId),
    );
  }
  throw new Error(`${handle.workflowId}: did not get there`);
}

describe('the same rules on 2026 dates, on the compiled pathway', () => {
  it('dates release day, the 2-hour grace, the 72-hour escalation and the 6-month close around 25 October 2026', () => {
    const ir: PathwayIR = scenario.deployed['release-support'].ir;
    const element = (id: string) =>
      ir.elements[id] as unknown as { outputs: { target: string; source: { feel: string } }[] };
    // Released on Friday 23 October 2026; the clocks go back on Sunday 25 October at 01:00 UTC
    const variables: Record<string, unknown> = { releaseDate: '2026-10-23' };
    for (const output of element('SetReleaseSchedule').outputs) {
      variables[output.target] = toPlainValue(evaluateFeel(output.source.feel, variables, 0));
    }
    expect(new Date(String(variables['releaseDayNoticeAt'])).toISOString()).toBe('2026-10-23T07:00:00.000Z');
    expect(new Date(String(variables['supportEndsAt'])).toISOString()).toBe('2027-04-23T22:59:59.000Z');
    const timer = (id: string) =>
      (ir.elements[id] as unknown as { trigger: { timer: { value: { feel: string } } } }).trigger.timer.value.feel;
    // an appointment at 09:00 BST on Saturday 24 October: treated as missed at 11:00 BST, escalated at 08:00 GMT Tuesday
    const appointment = { smsAppointment: { startsAt: '2026-10-24T08:00:00Z' }, smsMissedAt: '2026-10-24T08:00:00Z' };
    const at = (id: string) =>
      new Date(String(toPlainValue(evaluateFeel(timer(id), { ...variables, ...appointment }, 0)))).toISOString();
    expect(at('SmsOutcomeNotReported')).toBe('2026-10-24T10:00:00.000Z');
    expect(at('SmsStillNotEngaged')).toBe('2026-10-27T08:00:00.000Z');
  });
});
