/**
 * The release-support notifications against the real PostgreSQL and the local inbox: an agency is told only with
 * recorded consent or a legal basis, and whoever is not told is said on the case (never a silent skip); the release
 * notice carries the release date, the last dose of opioid substitution treatment and the naloxone answer; a family
 * member is never told about a restricted record, whichever of the record or the trace says so; and withdrawing the
 * open tasks of a pathway run gives them the reason, which the terminate that follows keeps.
 */
import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities, createLocalInboxTransport, createSpineClient } from '../../activities';
import { createRecordActivities } from '../../activities/records';
import { silentLogger } from '../../log';
import { useMigratedStore } from '../store/store-fixture';

const world = useMigratedStore('release_notifications');
const ACTOR = { id: 'staff:test', role: 'clinician' };

function activities() {
  return createActivities({
    store: world.store,
    // Spine is not called by these activities.
    spine: createSpineClient({ baseUrl: 'http://127.0.0.1:9', retry: { maxAttempts: 1 } }),
    transport: createLocalInboxTransport({ store: world.store, logger: silentLogger }),
    logger: silentLogger,
  });
}

function inWorkflow(workflowId: string) {
  return new MockActivityEnvironment(
    { workflowExecution: { workflowId, runId: randomUUID() } },
    { logger: new DefaultLogger('ERROR') },
  );
}

async function openCase(nhsNumber: string): Promise<string> {
  const knex = world.store.orm.em.getConnection().getKnex();
  const odsCode = `R${randomUUID().slice(0, 6).toUpperCase()}`;
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
    pathwayId: 'journey',
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
  notifyOnMissedAppointment: true,
  legalBasis: 'statutory-duty',
};
const GP_WITHOUT_BASIS = {
  kind: 'gp',
  name: 'Hillside Surgery',
  contact: 'hillside@nhs.example',
  notifyOnMissedAppointment: false,
};

function releaseNotice(caseId: string, variables: Record<string, unknown> = {}) {
  return {
    caseId,
    processId: 'release-support',
    elementId: 'NotifyReleaseDay',
    activityId: 'NotifyReleaseDay#12',
    headers: {},
    variables: {
      caseId,
      notification: {
        reason: 'release-notice',
        releaseDate: '2027-10-29',
        opioidSubstitution: {
          onTreatment: true,
          medicine: 'methadone',
          lastDoseMg: 60,
          lastDoseAt: '2027-10-29T07:30:00Z',
        },
        naloxoneIssued: true,
        agencies: [FORWARD_LEEDS, PROBATION, GP_WITHOUT_BASIS],
        familyContacts: [],
        expectedAgencyKinds: ['community-substance-misuse', 'gp', 'probation', 'reconnect'],
        requireSharingBasis: true,
      },
      ...variables,
    },
  };
}

describe('release notifications', () => {
  it('tells only agencies with recorded consent or a legal basis, with the release details, and says who was not told', async () => {
    const caseId = await openCase('9000000068');
    const env = inWorkflow(`case-${caseId}/ReleaseStage#7`);
    const input = releaseNotice(caseId);

    const result = await env.run(activities()['notify.notifyContacts'], input);
    // a retry of the same execution sends nothing again and says the same
    expect(await env.run(activities()['notify.notifyContacts'], input)).toEqual(result);

    expect(result).toEqual({
      notifiedCount: 2,
      told: [
        { name: 'Forward Leeds', kind: 'community-substance-misuse', basis: 'consent recorded 2027-10-01' },
        { name: 'Leeds Probation Delivery Unit', kind: 'probation', basis: 'legal basis: a statutory duty' },
      ],
      notNotified: [
        { name: null, kind: 'reconnect', reason: 'no resettlement service (RECONNECT) in the release plan' },
        { name: 'Hillside Surgery', kind: 'gp', reason: 'no recorded consent or legal basis' },
      ],
    });
    const sent = await query<{ name: string; consent_status: string; status: string; body: string }>(
      `select c.name, c.consent_status, o.status, i.body
         from notification_outbox o join contacts c on c.id = o.contact_id
         join inbox_messages i on i.notification_id = o.id where o.case_id = ? order by c.name`,
      [caseId],
    );
    expect(sent.map((r) => [r.name, r.consent_status, r.status])).toEqual([
      ['Forward Leeds', 'given', 'sent'],
      ['Leeds Probation Delivery Unit', 'not_recorded', 'sent'],
    ]);
    expect(sent[0]?.body).toContain('released from custody on Friday 29 October 2027');
    expect(sent[0]?.body).toContain(
      'Last dose of opioid substitution treatment in custody: Methadone 60 mg at 08:30 on Friday 29 October 2027.',
    );
    expect(sent[0]?.body).toContain('Take-home naloxone supplied: yes.');
    expect(sent[0]?.body).toContain('The first two weeks after release carry the highest risk of overdose.');
    // the GP without a basis is not even a contact of the person, and the case says why
    expect(await query('select name from contacts where name = ?', ['Hillside Surgery'])).toEqual([]);
    expect(await query<{ body: string }>('select body from notes where case_id = ?', [caseId])).toEqual([
      {
        body:
          '[notification:release-notice] Told: Forward Leeds (community treatment provider), consent recorded 2027-10-01; ' +
          'Leeds Probation Delivery Unit (probation), legal basis: a statutory duty. Not told: resettlement service ' +
          '(RECONNECT): no resettlement service (RECONNECT) in the release plan; Hillside Surgery (registered GP): no ' +
          'recorded consent or legal basis.',
      },
    ]);
  });

  it("never tells a family member about a restricted record, even when only the pathway's trace says it is", async () => {
    const caseId = await openCase('9000000068');
    const env = inWorkflow(`case-${caseId}/ReleaseStage#7`);
    const result = await env.run(activities()['notify.notifyContacts'], {
      caseId,
      processId: 'release-support',
      elementId: 'NotifyContactsProbationMissed',
      activityId: 'NotifyContactsProbationMissed#40',
      headers: {},
      variables: {
        caseId,
        patient: { nhsNumber: '9000000068', restricted: true },
        notification: {
          reason: 'missed-appointment',
          appointmentKind: 'probation',
          startsAt: '2027-10-30T08:00:00Z',
          agencyName: 'Leeds Probation Delivery Unit',
          location: 'Leeds PDU',
          agencies: [PROBATION],
          familyContacts: [
            {
              name: 'Maria Smith',
              relationship: 'Sister',
              telephone: '07700 900123',
              consentToNotify: true,
              consentRecordedOn: '2027-10-01',
            },
          ],
          expectedAgencyKinds: ['probation', 'reconnect'],
          requireSharingBasis: true,
        },
      },
    });
    expect(result).toMatchObject({
      notifiedCount: 1,
      notNotified: [
        { name: null, kind: 'reconnect', reason: 'no resettlement service (RECONNECT) in the release plan' },
        { name: 'Maria Smith', kind: 'family member', reason: 'the record is restricted' },
      ],
    });
    const rows = await query<{ name: string; personalisation: Record<string, string> }>(
      `select c.name, o.personalisation from notification_outbox o join contacts c on c.id = o.contact_id where o.case_id = ?`,
      [caseId],
    );
    expect(rows.map((r) => r.name)).toEqual(['Leeds Probation Delivery Unit']);
    expect(rows[0]?.personalisation).not.toHaveProperty('location');
  });

  it('withdraws the open tasks of the pathway run and those it called with the reason, and notes which', async () => {
    const caseId = await openCase('9000000068');
    const records = createRecordActivities({ store: world.store, logger: silentLogger });
    const release = `case-${caseId}/ReleaseStage#7`;
    const open = async (workflowId: string, elementId: string, name: string, formId: string | null) => {
      await records.openWorklistTask({
        taskId: `${workflowId}/${elementId}#1`,
        caseId,
        workflowId,
        elementId,
        name,
        ...(formId ? { formId } : {}),
        candidateGroups: ['release-team'],
        actor: ACTOR,
      });
    };
    await open(
      release,
      'FollowUpProbationMissed',
      'Follow up missed probation appointment',
      'release-missed-appointment',
    );
    await open(`${release}/SettleIdentity#3`, 'TraceByDemographics', 'Trace by demographics', 'trace-by-demographics');
    await open(release, 'NotifyReleaseDay#2/incident#1', 'Resolve incident', 'incident-resolution');
    await open(
      `case-${caseId}/PrisonStage#9`,
      'ReceptionScreening',
      'Reception substance misuse screen',
      'prison-reception-sms',
    );

    const result = await inWorkflow(release).run(activities()['records.withdrawOpenTasks'], {
      caseId,
      processId: 'release-support',
      elementId: 'WithdrawTasksOnRecall',
      activityId: 'WithdrawTasksOnRecall#31',
      headers: {},
      variables: { caseId, withdrawal: { reason: 'recalled' } },
    });

    expect(result).toEqual({ withdrawnTasks: ['FollowUpProbationMissed', 'TraceByDemographics'] });
    const tasks = await query<{ element_id: string; status: string; cancel_reason: string | null }>(
      'select element_id, status, cancel_reason from worklist_tasks where case_id = ? order by element_id',
      [caseId],
    );
    expect(tasks).toEqual([
      { element_id: 'FollowUpProbationMissed', status: 'cancelled', cancel_reason: 'recalled' },
      { element_id: 'NotifyReleaseDay#2/incident#1', status: 'open', cancel_reason: null },
      { element_id: 'ReceptionScreening', status: 'open', cancel_reason: null },
      { element_id: 'TraceByDemographics', status: 'cancelled', cancel_reason: 'recalled' },
    ]);
    // the terminate that follows closes them again with its own reason: the first one stays
    await inWorkflow(release).run(activities().closeTask, {
      type: 'closeUserTask',
      taskId: 'FollowUpProbationMissed#1',
      elementId: 'FollowUpProbationMissed',
      outcome: 'cancelled',
      caseId,
      processId: 'release-support',
    });
    expect(
      await query('select cancel_reason from worklist_tasks where id = ?', [`${release}/FollowUpProbationMissed#1`]),
    ).toEqual([{ cancel_reason: 'recalled' }]);
    expect(await query<{ body: string }>(`select body from notes where case_id = ?`, [caseId])).toEqual([
      { body: '[tasks-withdrawn] recalled: Follow up missed probation appointment; Trace by demographics' },
    ]);
  });
});
