/**
 * A case's start variables are checked against its pathway's start form before anything happens: a start
 * the shipped pathway could not run (custody reception without `arrivalTime`, the prison pathway with
 * `receptionDate: 42`) is refused with each field named, and leaves no case row and no workflow behind.
 */
import fs from 'node:fs';
import path from 'node:path';
import { shippedLintOptions, deployPathway, startCase, type CaseEngine } from '../../engine';
import { silentLogger } from '../../log';
import { readPathwayXml } from '../../pathways';
import { CaseSchema, migrateDatabase, openStore, SettingSchema, type Store } from '../../store';
import { createTestWorkflowEnvironment, type EmbeddedTestWorkflowEnvironment } from '../../temporal-server';
import { useFreshDatabase } from '../support/database';
import { installQuietRuntime } from '../support/sdk-runtime';
import { CASE_SEARCH_ATTRIBUTES } from '../../worker/case-search-attributes';

describe('starting a case with the variables its start form declares', () => {
  let store: Store;
  let env: EmbeddedTestWorkflowEnvironment;
  let engine: CaseEngine;
  // Declared before useFreshDatabase so that they stop before the database is dropped under them.
  afterAll(async () => {
    await env?.teardown();
    await store?.close();
  });
  const db = useFreshDatabase('engine_start_variables');

  beforeAll(async () => {
    installQuietRuntime();
    await migrateDatabase(db.url, silentLogger);
    store = await openStore(db.url);
    const em = store.fork();
    em.create(SettingSchema, {
      odsCode: 'XCUS01',
      name: 'Test custody suite',
      kind: 'custody_suite',
      prisonType: null,
      createdAt: new Date(),
    });
    await em.flush();
    const options = { ...shippedLintOptions(), deployedBy: 'test' };
    await deployPathway(store, readPathwayXml('custody-reception'), options);
    await deployPathway(store, readPathwayXml('sms-prison'), options);
    // both call it to settle an identity PDS cannot confirm; a case pins its called pathways at start
    await deployPathway(store, readPathwayXml('identify-person'), options);
    const withoutStartForm = fs.readFileSync(
      path.join(__dirname, '..', 'fixtures', 'bpmn', 'child-waits-for-message.bpmn'),
      'utf8',
    );
    await deployPathway(store, withoutStartForm, { taskTypes: [], formIds: [], deployedBy: 'test' });
    // No worker: a case that starts stays where it is, which is all these tests look at.
    env = await createTestWorkflowEnvironment({ databaseUrl: db.url, searchAttributes: CASE_SEARCH_ATTRIBUTES });
    engine = { store, client: env.client, taskQueue: 'engine-start-variables', logger: silentLogger };
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  async function recorded(): Promise<{ cases: number; workflows: number }> {
    let workflows = 0;
    for await (const _ of env.client.workflow.list()) workflows++;
    return { cases: await store.fork().count(CaseSchema, {}), workflows };
  }

  it('starts a case whose variables pass the start form', async () => {
    const before = await recorded();
    const started = await startCase(engine, {
      pathwayId: 'custody-reception',
      nhsNumber: '9434765919',
      settingOdsCode: 'XCUS01',
      variables: { arrivalTime: '2026-11-23T09:30:00Z', custodySuite: 'Leeds Elland Road' },
      startedBy: 'nurse-1',
    });

    expect(await store.fork().count(CaseSchema, { id: started.caseId })).toBe(1);
    const description = await env.client.workflow.getHandle(started.workflowId).describe();
    expect(description.status.name).toBe('RUNNING');
    expect(await recorded()).toEqual({ cases: before.cases + 1, workflows: before.workflows + 1 });
  });

  it('starts a pathway that declares no start form with whatever variables it is given, as before', async () => {
    const started = await startCase(engine, {
      pathwayId: 'ChildStage',
      nhsNumber: '9434765919',
      settingOdsCode: 'XCUS01',
      variables: { anything: 42 },
      startedBy: 'nurse-1',
    });

    expect(await store.fork().count(CaseSchema, { id: started.caseId })).toBe(1);
  });

  it.each([
    {
      what: 'custody reception without arrivalTime',
      pathwayId: 'custody-reception',
      variables: { custodySuite: 'Leeds Elland Road' },
      problems: [
        {
          pointer: '/variables/arrivalTime',
          detail:
            'Enter the date and time the person arrived in custody, with its offset, such as 2026-11-23T09:30:00Z.',
        },
      ],
    },
    {
      what: 'the prison pathway with receptionDate: 42',
      pathwayId: 'sms-prison',
      variables: { receptionDate: 42 },
      problems: [
        {
          pointer: '/variables/receptionDate',
          detail: 'This answer must be a date and time as text, such as 2026-11-23T09:30:00Z, not a number.',
        },
      ],
    },
    {
      what: 'the prison pathway with a misspelt override and a review interval in hours',
      pathwayId: 'sms-prison',
      variables: { recallWatchPeriods: 'P28D', thirteenWeekReviewAfter: 'PT12H' },
      problems: [
        { pointer: '/variables/recallWatchPeriods', detail: 'This field is not part of the form.' },
        {
          pointer: '/variables/thirteenWeekReviewAfter',
          detail: 'Give the 13-week review time as calendar days, weeks or months, such as P13W.',
        },
      ],
    },
  ])('refuses $what before anything is recorded or started', async ({ pathwayId, variables, problems }) => {
    const before = await recorded();
    const start = jest.spyOn(env.client.workflow, 'start');

    await expect(
      startCase(engine, {
        pathwayId,
        nhsNumber: '9434765919',
        settingOdsCode: 'XCUS01',
        variables,
        startedBy: 'nurse-1',
      }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', problems: expect.arrayContaining(problems) as unknown });

    expect(start).not.toHaveBeenCalled();
    expect(await recorded()).toEqual(before);
  });
});
