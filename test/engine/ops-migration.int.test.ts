/**
 * Moving running cases to a newer version of their pathway (engine/ops-migration.ts, workflows/pathway/migrate.ts)
 * on the time-skipping server with the real activities: cases waiting at a user task with a pending reminder timer
 * move from version 1 to version 2 (where both were renamed) with a mapping; the open task keeps its id in the
 * worklist, the timer fires on the new element, and the case goes on in version 2. A mapping that would drop the
 * open task is refused for every case, and leaves every case as it was.
 */
import { Worker } from '@temporalio/worker';
import { completeTask, deployPathway, shippedLintOptions, listTasks, startCase, type CaseEngine } from '../../engine';
import { migrateCases } from '../../engine/ops-migration';
import { silentLogger } from '../../log';
import type { Store } from '../../store';
import { createTestWorkflowEnvironment, type EmbeddedTestWorkflowEnvironment } from '../../temporal-server';
import { WORKFLOWS_PATH } from '../../worker';
import { CASE_SEARCH_ATTRIBUTES } from '../../worker/case-search-attributes';
import { stateQuery } from '../../workflows';
import { useFreshDatabase } from '../support/database';
import { eventually } from '../support/eventually';
import { installQuietRuntime } from '../support/sdk-runtime';
import { formClock, prepareStore, realActivities, validSubmission } from './task-completion-support';

const TASK_QUEUE = 'ops-migration';

/** Version 1 waits at `Assess` with a daily reminder; version 2 renames both and adds a step after. */
function pathway(version: 1 | 2): string {
  const task = version === 1 ? 'Assess' : 'Assessment';
  const reminder = version === 1 ? 'AssessReminder' : 'AssessmentReminder';
  const after =
    version === 1
      ? `<bpmn:sequenceFlow id="ToDone" sourceRef="${task}" targetRef="Done" />`
      : `<bpmn:sequenceFlow id="ToDone" sourceRef="${task}" targetRef="FollowUp" />
    <bpmn:userTask id="FollowUp" name="Follow up"><bpmn:extensionElements><zeebe:userTask /><zeebe:formDefinition formId="sms-care-plan" /><zeebe:assignmentDefinition candidateGroups="sms-team" /></bpmn:extensionElements><bpmn:incoming>ToDone</bpmn:incoming><bpmn:outgoing>ToEnd</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="ToEnd" sourceRef="FollowUp" targetRef="Done" />`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="Defs" targetNamespace="https://throughcare.example/test">
  <bpmn:process id="MigrateMe" name="A pathway changed while cases run" isExecutable="true">
    <bpmn:startEvent id="Start" name="Start"><bpmn:outgoing>ToTask</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="ToTask" sourceRef="Start" targetRef="${task}" />
    <bpmn:userTask id="${task}" name="Assess">
      <bpmn:extensionElements><zeebe:userTask /><zeebe:formDefinition formId="sms-care-plan" /><zeebe:assignmentDefinition candidateGroups="sms-team" /></bpmn:extensionElements>
      <bpmn:incoming>ToTask</bpmn:incoming><bpmn:outgoing>ToDone</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="${reminder}" name="Reminder" cancelActivity="false" attachedToRef="${task}">
      <bpmn:outgoing>ToReminded</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>P1D</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="ToReminded" sourceRef="${reminder}" targetRef="Reminded" />
    <bpmn:endEvent id="Reminded" name="Reminded"><bpmn:incoming>ToReminded</bpmn:incoming></bpmn:endEvent>
    ${after}
    <bpmn:endEvent id="Done" name="Done"><bpmn:incoming>${version === 1 ? 'ToDone' : 'ToEnd'}</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>`;
}

describe('moving running cases to a newer pathway version', () => {
  let store: Store;
  let env: EmbeddedTestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let engine: CaseEngine;
  let setting: string;
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
    await store?.close();
  }, 60_000);
  const db = useFreshDatabase('ops_migration');
  let actor: { id: string; name: string; settings: string[] };

  beforeAll(async () => {
    installQuietRuntime();
    ({ store, settingOdsCode: setting } = await prepareStore(db.url));
    actor = { id: 'ops-1@staff.test', name: 'Olu Ops', settings: [setting] };
    env = await createTestWorkflowEnvironment({ databaseUrl: db.url, searchAttributes: CASE_SEARCH_ATTRIBUTES });
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowsPath: WORKFLOWS_PATH,
      activities: realActivities(store),
    });
    running = worker.run();
    engine = { store, client: env.client, taskQueue: TASK_QUEUE, logger: silentLogger, now: formClock };
  }, 120_000);

  const stateOf = (caseId: string) => env.client.workflow.getHandle(`case-${caseId}`).query(stateQuery);

  it('moves cases with an open task and a pending timer, and refuses a mapping that would drop them, for all', async () => {
    const lint = { ...shippedLintOptions(), deployedBy: 'test' };
    await deployPathway(store, pathway(1), lint);
    const cases: string[] = [];
    for (const nhsNumber of ['9434765919', '9434765870'])
      cases.push(
        (await startCase(engine, { pathwayId: 'MigrateMe', nhsNumber, settingOdsCode: setting, startedBy: 'nurse' }))
          .caseId,
      );
    const tasksBefore = await eventually(
      'both tasks open',
      async () => (await Promise.all(cases.map((caseId) => listTasks(engine, { caseId })))).flat(),
      (tasks) => tasks.length === 2,
    );
    await deployPathway(store, pathway(2), lint);
    const request = { pathwayId: 'MigrateMe', fromVersion: 1, toVersion: 2, settings: [setting] };

    // Without a mapping the open task and its timer have nowhere to go: refused for every case, nothing moves.
    const refused = await migrateCases(engine, { ...request, dryRun: false }, actor);
    expect(refused.applied).toBe(false);
    expect(refused.cases.map((c) => c.outcome)).toEqual(['refused', 'refused']);
    expect(refused.cases[0]).toMatchObject({
      problems: expect.arrayContaining([
        expect.stringContaining("'Assess' (Assess) holds a open task but has no counterpart in the new version"),
        expect.stringContaining('has a pending timer'),
      ]),
    });
    for (const caseId of cases) {
      const state = await stateOf(caseId);
      expect(state.activeElements.map((e) => e.elementId)).toEqual(['Assess']);
      expect(state.pendingTimers.map((t) => t.elementId)).toEqual(['AssessReminder']);
    }
    const attributes = async (caseId: string) =>
      (await env.client.workflow.getHandle(`case-${caseId}`).describe()).searchAttributes;
    expect((await attributes(cases[0]!))['PathwayVersion']).toEqual([1]);

    // A dry run with the mapping says what would move, and moves nothing.
    const mapping = { Assess: 'Assessment', AssessReminder: 'AssessmentReminder' };
    const dry = await migrateCases(engine, { ...request, mapping, dryRun: true }, actor);
    expect(dry).toMatchObject({ applied: false, dryRun: true });
    expect(dry.cases[0]).toMatchObject({
      outcome: 'planned',
      moves: [
        { from: 'Assess', to: 'Assessment', what: 'open task' },
        { from: 'AssessReminder', to: 'AssessmentReminder', what: 'timer' },
      ],
    });
    expect((await stateOf(cases[0]!)).activeElements.map((e) => e.elementId)).toEqual(['Assess']);

    // Applied: each case is on version 2, its task the same task, its timer on the new element.
    const applied = await migrateCases(engine, { ...request, mapping, dryRun: false }, actor);
    expect(applied.applied).toBe(true);
    expect(applied.cases.map((c) => c.outcome)).toEqual(['migrated', 'migrated']);
    for (const caseId of cases) {
      const state = await stateOf(caseId);
      expect(state.activeElements.map((e) => e.elementId)).toEqual(['Assessment']);
      expect(state.pendingTimers.map((t) => t.elementId)).toEqual(['AssessmentReminder']);
      await eventually(
        'version 2 in the stuck signals',
        () => attributes(caseId),
        (a) => a['PathwayVersion']?.[0] === 2,
      );
    }
    const tasksAfter = (await Promise.all(cases.map((caseId) => listTasks(engine, { caseId })))).flat();
    expect(tasksAfter.map((t) => t.taskId).sort()).toEqual(tasksBefore.map((t) => t.taskId).sort());
    const log = await store.orm.em
      .getConnection()
      .getKnex()('ops_log')
      .where({ action: 'migrate' })
      .select<{ actor_id: string; outcome: string; case_ids: string[] }[]>('actor_id', 'outcome', 'case_ids');
    expect(log).toEqual([expect.objectContaining({ actor_id: actor.id, outcome: 'succeeded' })]);
    expect(log[0]!.case_ids.sort()).toEqual([...cases].sort());

    // The timer fires on the new element, and the case goes on through version 2's new step.
    await env.sleep('25 hours');
    const reminded = await stateOf(cases[0]!);
    expect(reminded.trail.some((entry) => JSON.stringify(entry).includes('AssessmentReminder'))).toBe(true);
    await completeTask(engine, {
      taskId: tasksAfter.find((t) => t.caseId === cases[0])!.taskId,
      data: validSubmission('sms-care-plan'),
      completedBy: 'nurse',
    });
    await eventually(
      'the new step open',
      async () => (await stateOf(cases[0]!)).openTasks.map((t) => t.elementId),
      (ids) => ids.includes('FollowUp'),
    );
  }, 120_000);
});
