import { Client } from 'pg';
import { useFreshDatabase } from '../support/database';
import { startServerAndWorker, type ServerAndWorker } from './support';

const db = useFreshDatabase('temporal_visibility');

describe('visibility through the official client', () => {
  let t: ServerAndWorker;
  const taskQueue = 'visibility';

  beforeAll(async () => {
    t = await startServerAndWorker({ databaseUrl: db.url, taskQueue });
    await t.connection.operatorService.addSearchAttributes({
      namespace: 'default',
      searchAttributes: { Ward: 2, Priority: 3 }, // Keyword, Int
    });
    for (let i = 0; i < 6; i++) {
      await t.client.workflow.start('accumulator', {
        taskQueue,
        workflowId: `vis-${i}`,
        searchAttributes: { Ward: [i % 2 === 0 ? 'north' : 'south'], Priority: [i] },
      });
    }
    await t.client.workflow.execute('sleepFor', { taskQueue, workflowId: 'vis-done', args: [1] });
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('lists the registered custom search attributes', async () => {
    const res = await t.connection.operatorService.listSearchAttributes({ namespace: 'default' });
    expect(res.customAttributes).toEqual({ Ward: 2, Priority: 3 });
    expect(res.systemAttributes?.WorkflowId).toBe(2);
  });

  it('indexes a registered Int attribute for range conditions, once, however often it is registered', async () => {
    await t.connection.operatorService.addSearchAttributes({ namespace: 'default', searchAttributes: { Priority: 3 } });
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ indexdef: string }>(
        `SELECT indexdef FROM pg_indexes WHERE tablename = 'executions' AND indexname LIKE 'executions_sa_%'`,
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]!.indexdef).toContain(`'Priority'`);
    } finally {
      await client.end();
    }
  });

  it('lists workflows matching a query on custom and system attributes', async () => {
    const ids: string[] = [];
    for await (const wf of t.client.workflow.list({
      query: `Ward = 'north' AND Priority >= 2 AND ExecutionStatus = 'Running'`,
    })) {
      ids.push(wf.workflowId);
      expect(wf.searchAttributes.Ward).toEqual(['north']);
    }
    expect(ids.sort()).toEqual(['vis-2', 'vis-4']);
  });

  it('pages through a listing', async () => {
    const res = await t.connection.workflowService.listWorkflowExecutions({
      namespace: 'default',
      pageSize: 4,
      query: '',
    });
    expect(res.executions).toHaveLength(4);
    expect(res.nextPageToken?.length).toBeGreaterThan(0);
    const next = await t.connection.workflowService.listWorkflowExecutions({
      namespace: 'default',
      pageSize: 4,
      query: '',
      nextPageToken: res.nextPageToken,
    });
    expect(next.executions).toHaveLength(3);
  });

  it('counts workflows, grouped by execution status', async () => {
    expect((await t.client.workflow.count(`WorkflowType = 'accumulator'`)).count).toBe(6);
    const grouped = await t.client.workflow.count('GROUP BY ExecutionStatus');
    expect(grouped.count).toBe(7);
    const byStatus = Object.fromEntries(grouped.groups.map((g) => [String(g.groupValues[0]), g.count]));
    expect(byStatus).toEqual({ Running: 6, Completed: 1 });
  });

  it('rejects a malformed query with INVALID_ARGUMENT', async () => {
    const err = (await t.client.workflow.count('Ward = ').catch((e: unknown) => e)) as {
      cause?: { code?: number; details?: string };
    };
    expect(err.cause?.code).toBe(3);
    expect(err.cause?.details).toMatch(/invalid query/);
  });

  it('answers a query whose refusal quotes half a surrogate pair, instead of failing to send the status', async () => {
    // The lexer names the code unit where it stopped: half of U+10FFFF's pair, which grpc-js cannot encode as is.
    const err = (await t.client.workflow.count('\u{10FFFF}').catch((e: unknown) => e)) as {
      cause?: { code?: number; details?: string };
    };
    expect(err.cause).toMatchObject({ code: 3 });
    expect(err.cause?.details).toContain('\uFFFD');
  });
});
