/**
 * The shell's incident activities against a real, migrated PostgreSQL: each run twice with the same input (a
 * retry after a crash) leaves one record, one audit event and one worklist task; a resolution is a row of its
 * own, and the database refuses to change an incident.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { createIncidentActivities } from '../../activities';
import { createRecordActivities } from '../../activities/records';
import { listIncidents, listTasks, type CaseEngine } from '../../engine';
import { silentLogger } from '../../log';
import type { CloseIncidentActivityInput, PathwayIncident, RaiseIncidentActivityInput } from '../../workflows';
import { nextValidNhsNumber, seedSetting } from '../store/seed';
import { useMigratedStore } from '../store/store-fixture';

const db = useMigratedStore('incident_activities');
const knex = () => db.store.orm.em.getConnection().getKnex();

async function count(table: string, where: Record<string, unknown>): Promise<number> {
  const [row] = await knex()(table).where(where).count<{ count: string }[]>('* as count');
  return Number(row?.count);
}

async function openTestCase(): Promise<string> {
  const setting = await seedSetting(db.store.fork());
  const caseId = randomUUID();
  await createRecordActivities({ store: db.store, logger: silentLogger }).openCase({
    caseId,
    workflowId: `case-${caseId}`,
    nhsNumber: nextValidNhsNumber(),
    settingOdsCode: setting.odsCode,
    pathwayId: 'ReferralWithCarePlan',
    pathwayVersion: 1,
    actor: { id: 'nurse-1', role: 'clinician' },
  });
  return caseId;
}

const incident: PathwayIncident = {
  id: 'SendReferral#4/incident#7',
  instanceId: 'SendReferral#4',
  elementId: 'SendReferral',
  elementName: 'Send the referral',
  kind: 'activityFailed',
  taskType: 'test.sendReferral',
  errorCode: 'REFERRAL_UNAVAILABLE',
  message: 'The referral service did not answer',
  attempts: 3,
  retryable: true,
  raisedAt: '2026-03-02T09:00:00.000Z',
};

function raising(caseId: string): RaiseIncidentActivityInput {
  return { type: 'raiseIncident', incident, caseId, processId: 'ReferralWithCarePlan' };
}

function closing(caseId: string, overrides: Partial<CloseIncidentActivityInput> = {}): CloseIncidentActivityInput {
  return {
    type: 'closeIncident',
    incidentId: incident.id,
    instanceId: incident.instanceId,
    elementId: incident.elementId,
    resolution: 'skipped',
    reason: 'referred by phone',
    caseId,
    processId: 'ReferralWithCarePlan',
    resolvedBy: 'ops-1',
    completionId: 'completion-1',
    resolvedAt: '2026-03-02T10:00:00.000Z',
    ...overrides,
  };
}

describe('incident activities', () => {
  const activities = () => createIncidentActivities({ store: db.store, logger: silentLogger });
  const engine = () => ({ store: db.store }) as unknown as CaseEngine;

  it('records an incident once, with its audit event and one task for ops, however often it runs', async () => {
    const caseId = await openTestCase();
    const id = `case-${caseId}/${incident.id}`;

    await activities().raiseIncident(raising(caseId));
    await activities().raiseIncident(raising(caseId));

    expect(await listIncidents(engine(), { caseId })).toEqual([
      expect.objectContaining({
        incidentId: id,
        elementId: 'SendReferral',
        errorCode: 'REFERRAL_UNAVAILABLE',
        attempts: 3,
        retryable: true,
        raisedAt: incident.raisedAt,
        status: 'open',
      }),
    ]);
    expect(await count('audit_events', { entity_type: 'Incident', entity_id: id })).toBe(1);
    expect(await listTasks(engine(), { caseId })).toEqual([
      expect.objectContaining({
        taskId: id,
        name: 'Resolve incident: Send the referral',
        formId: 'incident-resolution',
        candidateGroups: ['ops'],
        status: 'open',
      }),
    ]);
  });

  it('records the resolution once as a row of its own and completes the task with who and which completion', async () => {
    const caseId = await openTestCase();
    const id = `case-${caseId}/${incident.id}`;
    await activities().raiseIncident(raising(caseId));

    await activities().closeIncident(closing(caseId));
    await activities().closeIncident(closing(caseId));

    const [resolved] = await listIncidents(engine(), { caseId, open: false });
    expect(resolved?.resolution).toEqual({
      outcome: 'skipped',
      reason: 'referred by phone',
      correctedVariables: [],
      resolvedBy: 'ops-1',
      resolvedAt: '2026-03-02T10:00:00.000Z',
    });
    expect(await listIncidents(engine(), { caseId, open: true })).toEqual([]);
    expect(await count('audit_events', { entity_type: 'Incident', entity_id: id, action: 'update' })).toBe(1);
    expect((await listTasks(engine(), { caseId, includeClosed: true }))[0]).toMatchObject({
      status: 'completed',
      completedBy: 'ops-1',
      completionId: 'completion-1',
    });
  });

  it('waits, retryably, when asked to cancel an incident not recorded yet', async () => {
    const caseId = await openTestCase();

    const failure = await activities()
      .closeIncident(closing(caseId, { resolution: 'cancelled', resolvedBy: undefined }))
      .then(
        () => undefined,
        (error: unknown) => error,
      );

    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'INCIDENT_NOT_RECORDED', nonRetryable: false });
  });

  it('cancels the task of an incident withdrawn with its element, as the pathway', async () => {
    const caseId = await openTestCase();
    await activities().raiseIncident(raising(caseId));

    await activities().closeIncident(
      closing(caseId, { resolution: 'cancelled', reason: 'terminated by nurse-1: released', resolvedBy: undefined }),
    );

    const [cancelled] = await listIncidents(engine(), { caseId });
    expect(cancelled).toMatchObject({ status: 'cancelled', resolution: { resolvedBy: 'system:pathway' } });
    expect((await listTasks(engine(), { caseId, includeClosed: true }))[0]).toMatchObject({ status: 'cancelled' });
  });

  it('keeps incidents and their resolutions as they were written: the database refuses changes', async () => {
    const caseId = await openTestCase();
    await activities().raiseIncident(raising(caseId));
    await activities().closeIncident(closing(caseId));

    await expect(knex()('incidents').where({ case_id: caseId }).update({ message: 'rewritten' })).rejects.toThrow(
      /append-only/,
    );
    await expect(knex()('incident_resolutions').del()).rejects.toThrow(/append-only/);
  });
});
