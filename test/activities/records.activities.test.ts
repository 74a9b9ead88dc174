/**
 * Record-keeping activities against a real, migrated PostgreSQL. Every activity is run twice with the same
 * input (a retry after a crash) and must leave one record and one audit event.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { silentLogger } from '../../log';
import { createRecordActivities, type Actor, type RecordActivities } from '../../activities/records';
import { seedSetting, nextValidNhsNumber } from '../store/seed';
import { useMigratedStore } from '../store/store-fixture';

const db = useMigratedStore('records');
const clinician: Actor = { id: 'staff-nurse-1', role: 'clinician', requestId: 'req-1' };
let records: RecordActivities;
let odsCode: string;

function knex() {
  return db.store.orm.em.getConnection().getKnex();
}

async function count(table: string, where: Record<string, unknown> = {}): Promise<number> {
  const [row] = await knex()(table).where(where).count<{ count: string }[]>('* as count');
  return Number(row?.count);
}

async function auditCount(entityType: string, entityId: string): Promise<number> {
  return count('audit_events', { entity_type: entityType, entity_id: entityId });
}

/** Runs the activity twice, as a retry after a crash would, and returns both results. */
async function twice<I, O>(activity: (input: I) => Promise<O>, input: I): Promise<[O, O]> {
  const first = await activity(input);
  const second = await activity(input);
  return [first, second];
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApplicationFailure) return error;
    throw new Error(`expected an ApplicationFailure, got ${String(error)}`);
  }
  throw new Error('expected the activity to fail');
}

async function openTestCase(
  nhsNumber = nextValidNhsNumber(),
): Promise<{ caseId: string; workflowId: string; patientId: string }> {
  const caseId = randomUUID();
  const workflowId = `case-${caseId}`;
  await records.openCase({
    caseId,
    workflowId,
    nhsNumber,
    settingOdsCode: odsCode,
    pathwayId: 'sms',
    pathwayVersion: 1,
    actor: clinician,
  });
  const row = await knex()('cases').where({ id: caseId }).first<{ patient_id: string }>('patient_id');
  return { caseId, workflowId, patientId: row.patient_id };
}

beforeAll(async () => {
  records = createRecordActivities({ store: db.store, logger: silentLogger });
  odsCode = (await seedSetting(db.store.fork(), { odsCode: 'YLS001', name: 'HMP Leeds' })).odsCode;
});

describe('openCase and closeCase', () => {
  it('opens one case and one patient however often it is retried', async () => {
    const caseId = randomUUID();
    const nhsNumber = nextValidNhsNumber();
    const input = {
      caseId,
      workflowId: `case-${caseId}`,
      nhsNumber,
      settingOdsCode: odsCode,
      pathwayId: 'sms',
      pathwayVersion: 3,
      actor: clinician,
    };

    const [first, second] = await twice(records.openCase, input);

    expect(first).toEqual({ id: caseId, created: true });
    expect(second).toEqual({ id: caseId, created: false });
    expect(await count('cases', { workflow_id: `case-${caseId}` })).toBe(1);
    expect(await count('patients', { nhs_number: nhsNumber })).toBe(1);
    expect(await auditCount('Case', caseId)).toBe(1);
  });

  it('refuses a second case for the same workflow id under another case id', async () => {
    const { workflowId } = await openTestCase();
    const failure = await failureOf(
      records.openCase({
        caseId: randomUUID(),
        workflowId,
        nhsNumber: nextValidNhsNumber(),
        settingOdsCode: odsCode,
        pathwayId: 'sms',
        pathwayVersion: 1,
        actor: clinician,
      }),
    );
    expect(failure).toMatchObject({ type: 'IDEMPOTENCY_CONFLICT', nonRetryable: true });
  });

  it('rejects an invalid NHS number as a non-retryable failure and writes nothing', async () => {
    const caseId = randomUUID();
    const failure = await failureOf(
      records.openCase({
        caseId,
        workflowId: `case-${caseId}`,
        nhsNumber: '9000000001',
        settingOdsCode: odsCode,
        pathwayId: 'sms',
        pathwayVersion: 1,
        actor: clinician,
      }),
    );
    expect(failure).toMatchObject({ type: 'INVALID_NHS_NUMBER', nonRetryable: true });
    expect(await count('patients', { nhs_number: '9000000001' })).toBe(0);
    expect(await count('cases', { id: caseId })).toBe(0);
  });

  it('fails with NOT_FOUND for an unknown setting', async () => {
    const caseId = randomUUID();
    const failure = await failureOf(
      records.openCase({
        caseId,
        workflowId: `case-${caseId}`,
        nhsNumber: nextValidNhsNumber(),
        settingOdsCode: 'NOPE01',
        pathwayId: 'sms',
        pathwayVersion: 1,
        actor: clinician,
      }),
    );
    expect(failure).toMatchObject({ type: 'NOT_FOUND', nonRetryable: true });
  });

  it('closes a case once', async () => {
    const { caseId } = await openTestCase();
    const [first, second] = await twice(records.closeCase, { caseId, reason: 'released', actor: clinician });
    expect([first.changed, second.changed]).toEqual([true, false]);
    expect(await knex()('cases').where({ id: caseId }).first('status', 'close_reason')).toEqual({
      status: 'closed',
      close_reason: 'released',
    });
    expect(await count('audit_events', { entity_type: 'Case', entity_id: caseId, action: 'update' })).toBe(1);
  });
});

describe('recordPatientDemographics', () => {
  it('stores the demographics once and flags a restricted record', async () => {
    const nhsNumber = nextValidNhsNumber();
    const input = {
      nhsNumber,
      demographics: { resourceType: 'Patient', gender: 'female' },
      fetchedAt: '2026-11-01T10:00:00Z',
      securityLabel: 'R' as const,
      actor: { id: 'system:spine', role: 'system' },
    };
    const [first, second] = await twice(records.recordPatientDemographics, input);
    expect([first.created, second.created]).toEqual([true, false]);
    const row = await knex()('patients').where({ nhs_number: nhsNumber }).first();
    expect(row).toMatchObject({ is_restricted: true, security_label: 'R', demographics: input.demographics });
    expect(await auditCount('Patient', first.id)).toBe(1);
  });

  it('keeps no address, telephone, contacts or GP for a restricted record, whatever the source sent', async () => {
    const nhsNumber = nextValidNhsNumber();
    await records.recordPatientDemographics({
      nhsNumber,
      demographics: {
        resourceType: 'Patient',
        address: [{ postalCode: 'LS1 1AA' }],
        telecom: [{ value: '07700900000' }],
        contact: [{}],
        generalPractitioner: [{}],
      },
      fetchedAt: '2026-11-01T10:00:00Z',
      securityLabel: 'R',
      actor: { id: 'system:spine', role: 'system' },
    });
    expect(await knex()('patients').where({ nhs_number: nhsNumber }).first('demographics')).toEqual({
      demographics: { resourceType: 'Patient' },
    });
  });

  it('does not let an older fetch overwrite a newer one', async () => {
    const nhsNumber = nextValidNhsNumber();
    const actor = { id: 'system:spine', role: 'system' };
    await records.recordPatientDemographics({
      nhsNumber,
      demographics: { v: 2 },
      fetchedAt: '2026-11-02T00:00:00Z',
      actor,
    });
    await records.recordPatientDemographics({
      nhsNumber,
      demographics: { v: 1 },
      fetchedAt: '2026-11-01T00:00:00Z',
      actor,
    });
    expect(await knex()('patients').where({ nhs_number: nhsNumber }).first('demographics')).toEqual({
      demographics: { v: 2 },
    });
  });

  it('links a superseded NHS number to the record it was merged into', async () => {
    const old = nextValidNhsNumber();
    const merged = nextValidNhsNumber();
    const actor = { id: 'system:spine', role: 'system' };
    const { id } = await records.recordPatientDemographics({
      nhsNumber: old,
      demographics: {},
      fetchedAt: '2026-11-02T00:00:00Z',
      supersededByNhsNumber: merged,
      actor,
    });
    const successor = await knex()('patients').where({ nhs_number: merged }).first<{ id: string }>('id');
    expect(await knex()('patients').where({ id }).first('superseded_by_id')).toEqual({
      superseded_by_id: successor.id,
    });
  });
});

describe('worklist tasks', () => {
  async function openTask(caseId: string, workflowId: string, taskId = `${workflowId}/FiveDayReview/1`) {
    return records.openWorklistTask({
      taskId,
      caseId,
      workflowId,
      elementId: 'FiveDayReview',
      name: '5-day review',
      formId: 'sms-review',
      candidateGroups: ['sms-team'],
      dueAt: '2026-11-27T09:00:00Z',
      actor: { id: 'system:workflow', role: 'system' },
    });
  }

  it('opens a task once however often it is retried', async () => {
    const { caseId, workflowId } = await openTestCase();
    const taskId = `${workflowId}/FiveDayReview/1`;
    const [first, second] = [await openTask(caseId, workflowId), await openTask(caseId, workflowId)];
    expect([first.created, second.created]).toEqual([true, false]);
    expect(await knex()('worklist_tasks').where({ id: taskId }).first('status', 'candidate_groups')).toEqual({
      status: 'open',
      candidate_groups: ['sms-team'],
    });
    expect(await auditCount('WorklistTask', taskId)).toBe(1);
  });

  it("keeps the task's priority, 50 when the pathway set none, and refuses one outside 0 to 100", async () => {
    const { caseId, workflowId } = await openTestCase();
    const open = (taskId: string, priority?: number) =>
      records.openWorklistTask({
        taskId,
        caseId,
        workflowId,
        elementId: 'ReceptionScreening',
        name: 'Reception health screen',
        ...(priority !== undefined ? { priority } : {}),
        actor: { id: 'system:workflow', role: 'system' },
      });
    const priorityOf = async (taskId: string) =>
      (await knex()('worklist_tasks').where({ id: taskId }).first<{ priority: number }>('priority')).priority;

    await open(`${workflowId}/Urgent/1`, 90);
    await open(`${workflowId}/Routine/1`);
    await open(`${workflowId}/Lowest/1`, 0);

    expect(await priorityOf(`${workflowId}/Urgent/1`)).toBe(90);
    expect(await priorityOf(`${workflowId}/Routine/1`)).toBe(50);
    expect(await priorityOf(`${workflowId}/Lowest/1`)).toBe(0);
    for (const wrong of [101, -1, 70.5]) {
      expect(await failureOf(open(`${workflowId}/Wrong/${wrong}`, wrong))).toMatchObject({
        type: 'INVALID_INPUT',
        nonRetryable: true,
      });
    }
    expect(await count('worklist_tasks', { case_id: caseId, element_id: 'ReceptionScreening' })).toBe(3);
  });

  it('completes a task once, recording who and when', async () => {
    const { caseId, workflowId } = await openTestCase();
    const { id } = await openTask(caseId, workflowId);
    const input = { taskId: id, completedBy: clinician.id, completedAt: '2026-11-26T15:00:00Z', actor: clinician };
    const [first, second] = await twice(records.completeWorklistTask, input);
    expect([first.changed, second.changed]).toEqual([true, false]);
    const row = await knex()('worklist_tasks')
      .where({ id })
      .first<{ status: string; completed_by: string; completed_at: string }>();
    expect(row).toMatchObject({ status: 'completed', completed_by: clinician.id });
    expect(new Date(row.completed_at).toISOString()).toBe('2026-11-26T15:00:00.000Z');
    expect(await count('audit_events', { entity_id: id, action: 'update' })).toBe(1);
  });

  it('cancels a task once and then refuses to complete it', async () => {
    const { caseId, workflowId } = await openTestCase();
    const { id } = await openTask(caseId, workflowId);
    const [first, second] = await twice(records.cancelWorklistTask, {
      taskId: id,
      reason: 'transferred',
      actor: clinician,
    });
    expect([first.changed, second.changed]).toEqual([true, false]);

    const failure = await failureOf(
      records.completeWorklistTask({ taskId: id, completedBy: clinician.id, actor: clinician }),
    );

    expect(failure).toMatchObject({ type: 'INVALID_STATE', nonRetryable: true });
  });

  it('never refuses a completion that races the opening of its task: it is either done or not found yet', async () => {
    // openTask and closeTask of a quickly completed task run concurrently; "not found" is retried by closeTask,
    // but a refusal would leave the task open on the worklist for good.
    const { caseId, workflowId } = await openTestCase();
    const outcomes = new Set<string>();
    for (let round = 0; round < 150; round += 1) {
      const taskId = `${workflowId}/Race/${round}`;
      const [, completed] = await Promise.allSettled([
        openTask(caseId, workflowId, taskId),
        records.completeWorklistTask({ taskId, completedBy: clinician.id, actor: clinician }),
      ]);
      if (completed.status === 'fulfilled') outcomes.add('completed');
      else outcomes.add((completed.reason as ApplicationFailure).type ?? String(completed.reason));
    }
    expect([...outcomes].filter((outcome) => outcome !== 'completed' && outcome !== 'NOT_FOUND')).toEqual([]);
  });

  it('fails with NOT_FOUND for a task that was never opened', async () => {
    const failure = await failureOf(
      records.completeWorklistTask({ taskId: 'nope', completedBy: 'x', actor: clinician }),
    );
    expect(failure).toMatchObject({ type: 'NOT_FOUND', nonRetryable: true });
  });
});

describe('saveAssessment', () => {
  it('saves one assessment with its SNOMED CT codes however often it is retried', async () => {
    const { caseId } = await openTestCase();
    const assessmentId = randomUUID();
    const input = {
      assessmentId,
      caseId,
      formId: 'sms-referral',
      formVersion: '1.0.0',
      data: { substances: ['opioids'], injecting: false },
      snomedCodes: ['201521000000104', '75544000'],
      submittedBy: clinician.id,
      actor: clinician,
    };
    const [first, second] = await twice(records.saveAssessment, input);
    expect([first.created, second.created]).toEqual([true, false]);
    expect(await knex()('assessments').where({ id: assessmentId }).first('data', 'snomed_codes')).toEqual({
      data: input.data,
      snomed_codes: input.snomedCodes,
    });
    expect(await auditCount('Assessment', assessmentId)).toBe(1);
  });

  it('records a correction as a new assessment and refuses a second correction of the same one', async () => {
    const { caseId } = await openTestCase();
    const base = { caseId, formId: 'risk', formVersion: '1', submittedBy: clinician.id, actor: clinician };
    const original = await records.saveAssessment({ ...base, assessmentId: randomUUID(), data: { risk: 'low' } });
    await records.saveAssessment({
      ...base,
      assessmentId: randomUUID(),
      data: { risk: 'high' },
      corrects: { assessmentId: original.id, reason: 'history of overdose missed' },
    });
    const failure = await failureOf(
      records.saveAssessment({
        ...base,
        assessmentId: randomUUID(),
        data: { risk: 'medium' },
        corrects: { assessmentId: original.id, reason: 'again' },
      }),
    );
    expect(failure).toMatchObject({ type: 'INVALID_STATE', nonRetryable: true });
  });

  it('rejects a malformed SNOMED CT code', async () => {
    const { caseId } = await openTestCase();
    const failure = await failureOf(
      records.saveAssessment({
        assessmentId: randomUUID(),
        caseId,
        formId: 'x',
        formVersion: '1',
        data: {},
        snomedCodes: ['not-a-code'],
        submittedBy: clinician.id,
        actor: clinician,
      }),
    );
    expect(failure).toMatchObject({ type: 'INVALID_INPUT', nonRetryable: true });
  });
});

describe('notes', () => {
  it('adds one note however often it is retried', async () => {
    const { caseId } = await openTestCase();
    const noteId = randomUUID();
    const input = { noteId, caseId, body: 'Seen at reception. Withdrawing.', author: clinician, actor: clinician };
    const [first, second] = await twice(records.addNote, input);
    expect([first.created, second.created]).toEqual([true, false]);
    expect(await count('notes', { id: noteId })).toBe(1);
    expect(await auditCount('Note', noteId)).toBe(1);
  });

  it('refuses to reuse a note id for a different note', async () => {
    const { caseId } = await openTestCase();
    const noteId = randomUUID();
    await records.addNote({ noteId, caseId, body: 'first', author: clinician, actor: clinician });
    const failure = await failureOf(
      records.addNote({ noteId, caseId, body: 'second', author: clinician, actor: clinician }),
    );
    expect(failure).toMatchObject({ type: 'IDEMPOTENCY_CONFLICT', nonRetryable: true });
  });

  it('keeps an amendment chain in which every version stays as written', async () => {
    const { caseId } = await openTestCase();
    const original = await records.addNote({
      noteId: randomUUID(),
      caseId,
      body: 'On B wing',
      author: clinician,
      actor: clinician,
    });
    const amend = (amendsNoteId: string, body: string) =>
      records.amendNote({
        noteId: randomUUID(),
        amendsNoteId,
        body,
        reason: 'wrong wing',
        author: clinician,
        actor: clinician,
      });

    const first = await amend(original.id, 'On C wing');
    const second = await amend(first.id, 'On C wing, cell 12');
    const fork = await failureOf(amend(original.id, 'On D wing'));

    expect(fork).toMatchObject({ type: 'INVALID_STATE', nonRetryable: true });
    const chain = await knex()('notes')
      .whereIn('id', [original.id, first.id, second.id])
      .select<{ id: string; body: string; amends_id: string | null; case_id: string }[]>(
        'id',
        'body',
        'amends_id',
        'case_id',
      );
    expect(chain).toEqual(
      expect.arrayContaining([
        { id: original.id, body: 'On B wing', amends_id: null, case_id: caseId },
        { id: first.id, body: 'On C wing', amends_id: original.id, case_id: caseId },
        { id: second.id, body: 'On C wing, cell 12', amends_id: first.id, case_id: caseId },
      ]),
    );
  });

  it('writes neither the note nor its audit event when the audit event cannot be written', async () => {
    const { caseId } = await openTestCase();
    const noteId = randomUUID();
    // An actor role longer than the audit column allows makes the audit insert fail inside the transaction.
    const failure = await failureOf(
      records.addNote({ noteId, caseId, body: 'x', author: clinician, actor: { id: 'a', role: 'r'.repeat(200) } }),
    );
    expect(failure.nonRetryable).toBe(true);
    expect(await count('notes', { id: noteId })).toBe(0);
  });
});

describe('alerts', () => {
  it('raises one alert and resolves it once', async () => {
    const { caseId } = await openTestCase();
    const alertId = randomUUID();
    const raise = {
      alertId,
      caseId,
      code: 'SH',
      codeSystem: 'NOMIS',
      display: 'Self-harm',
      severity: 'high' as const,
      actor: clinician,
    };
    const [raised, raisedAgain] = await twice(records.raiseAlert, raise);
    const [resolved, resolvedAgain] = await twice(records.resolveAlert, {
      alertId,
      reason: 'ACCT closed',
      actor: clinician,
    });

    expect([raised.created, raisedAgain.created, resolved.changed, resolvedAgain.changed]).toEqual([
      true,
      false,
      true,
      false,
    ]);
    expect(await knex()('alerts').where({ id: alertId }).first('status', 'resolved_by', 'raised_by')).toEqual({
      status: 'resolved',
      resolved_by: clinician.id,
      raised_by: clinician.id,
    });
    expect(await auditCount('Alert', alertId)).toBe(2);
  });
});

describe('appointments', () => {
  it('books once and keeps every change of status', async () => {
    const { caseId } = await openTestCase();
    const appointmentId = randomUUID();
    const book = {
      appointmentId,
      caseId,
      startsAt: '2026-12-01T10:00:00Z',
      location: 'Leeds Community Drug Service',
      agency: 'Forward Leeds',
      actor: clinician,
    };
    const [booked, bookedAgain] = await twice(records.bookAppointment, book);
    const missed = {
      changeId: randomUUID(),
      appointmentId,
      status: 'missed' as const,
      reason: 'did not attend',
      actor: clinician,
    };
    const [first, second] = await twice(records.updateAppointmentStatus, missed);
    const attended = await records.updateAppointmentStatus({
      changeId: randomUUID(),
      appointmentId,
      status: 'attended',
      reason: 'arrived late, seen',
      actor: clinician,
    });

    expect([booked.created, bookedAgain.created, first.changed, second.changed, attended.changed]).toEqual([
      true,
      false,
      true,
      false,
      true,
    ]);
    const history = await knex()('appointment_status_changes')
      .where({ appointment_id: appointmentId })
      .orderBy('changed_at')
      .select('from_status', 'to_status');
    expect(history).toEqual([
      { from_status: null, to_status: 'booked' },
      { from_status: 'booked', to_status: 'missed' },
      { from_status: 'missed', to_status: 'attended' },
    ]);
    expect(await knex()('appointments').where({ id: appointmentId }).first('status')).toEqual({ status: 'attended' });
  });
});

describe('contacts, consent and the notification outbox', () => {
  async function addFamilyMember(patientId: string) {
    const contactId = randomUUID();
    await records.addContact({
      contactId,
      patientId,
      kind: 'family_member',
      name: 'A Relative',
      relationship: 'mother',
      channel: 'email',
      email: 'relative@example.org',
      actor: clinician,
    });
    return contactId;
  }

  it('adds a contact once', async () => {
    const { patientId } = await openTestCase();
    const input = {
      contactId: randomUUID(),
      patientId,
      kind: 'agency' as const,
      name: 'Probation Practitioner',
      organisation: 'Probation Service',
      relationship: 'probation practitioner',
      channel: 'email' as const,
      email: 'pp@example.gov.uk',
      actor: clinician,
    };
    const [first, second] = await twice(records.addContact, input);
    expect([first.created, second.created]).toEqual([true, false]);
    expect(await auditCount('Contact', input.contactId)).toBe(1);
  });

  it('refuses a contact without the address its channel needs', async () => {
    const { patientId } = await openTestCase();
    const failure = await failureOf(
      records.addContact({
        contactId: randomUUID(),
        patientId,
        kind: 'family_member',
        name: 'B',
        relationship: 'brother',
        channel: 'sms',
        actor: clinician,
      }),
    );
    expect(failure).toMatchObject({ type: 'INVALID_INPUT', nonRetryable: true });
  });

  it('records consent decisions once each and keeps the latest as current', async () => {
    const { patientId } = await openTestCase();
    const contactId = await addFamilyMember(patientId);
    const given = {
      consentEventId: randomUUID(),
      contactId,
      status: 'given' as const,
      decidedAt: '2026-11-01T09:00:00Z',
      actor: clinician,
    };
    const [first, second] = await twice(records.recordContactConsent, given);
    // recorded later, but decided earlier: it must not become the current state
    await records.recordContactConsent({
      consentEventId: randomUUID(),
      contactId,
      status: 'withdrawn',
      decidedAt: '2026-10-01T09:00:00Z',
      actor: clinician,
    });

    expect([first.created, second.created]).toEqual([true, false]);
    expect(await count('contact_consent_events', { contact_id: contactId })).toBe(2);
    expect(await knex()('contacts').where({ id: contactId }).first('consent_status', 'consent_recorded_by')).toEqual({
      consent_status: 'given',
      consent_recorded_by: clinician.id,
    });
  });

  it('enqueues a message to a consenting family member once', async () => {
    const { caseId, patientId } = await openTestCase();
    const contactId = await addFamilyMember(patientId);
    await records.recordContactConsent({
      consentEventId: randomUUID(),
      contactId,
      status: 'given',
      decidedAt: '2026-11-01T09:00:00Z',
      actor: clinician,
    });
    const input = {
      notificationId: `case-${caseId}/MissedAppointment/${contactId}`,
      contactId,
      caseId,
      template: 'missed-appointment',
      personalisation: { service: 'Forward Leeds' },
      actor: { id: 'system:workflow', role: 'system' },
    };
    const [first, second] = await twice(records.enqueueNotification, input);
    expect([first.outcome, second.outcome]).toEqual(['enqueued', 'already-enqueued']);
    expect(
      await knex()('notification_outbox').where({ id: input.notificationId }).first('status', 'channel', 'attempts'),
    ).toEqual({
      status: 'pending',
      channel: 'email',
      attempts: 0,
    });
    expect(await auditCount('Notification', input.notificationId)).toBe(1);
  });

  it('skips a family member who has not consented, and any family member of a restricted record', async () => {
    const { patientId } = await openTestCase();
    const contactId = await addFamilyMember(patientId);
    const enqueue = () =>
      records.enqueueNotification({
        notificationId: randomUUID(),
        contactId,
        template: 'missed-appointment',
        personalisation: {},
        actor: clinician,
      });
    expect(await enqueue()).toMatchObject({ outcome: 'skipped', reason: 'no-consent' });

    await records.recordContactConsent({
      consentEventId: randomUUID(),
      contactId,
      status: 'given',
      decidedAt: '2026-11-01T09:00:00Z',
      actor: clinician,
    });
    await knex()('patients').where({ id: patientId }).update({ is_restricted: true, security_label: 'R' });

    expect(await enqueue()).toMatchObject({ outcome: 'skipped', reason: 'restricted-record' });
    expect(await count('notification_outbox', { contact_id: contactId })).toBe(0);
  });
});

describe('writeAuditEvent', () => {
  it('writes a read audit event once per id', async () => {
    const { patientId } = await openTestCase();
    const input = {
      auditEventId: randomUUID(),
      action: 'read' as const,
      entityType: 'Patient',
      entityId: patientId,
      patientId,
      actor: { ...clinician, reason: 'reviewing before clinic' },
    };
    const [first, second] = await twice(records.writeAuditEvent, input);
    expect([first.created, second.created]).toEqual([true, false]);
    expect(await knex()('audit_events').where({ id: input.auditEventId }).first('reason', 'request_id')).toEqual({
      reason: 'reviewing before clinic',
      request_id: 'req-1',
    });
  });
});
