/**
 * The List Filter compiler against a real PostgreSQL: an `executions` table built to the core's contract,
 * rows of every status and attribute type, and for each query exactly the runs it must select.
 */
import { Pool } from 'pg';
import { useFreshDatabase } from '../support/database';
import {
  compileVisibilityQuery,
  IndexedValueTypes,
  type CompileVisibilityQueryOptions,
} from '../../temporal-server/visibility';
import {
  customAttributeIndexStatements,
  visibilityIndexStatements,
} from '../../temporal-server/visibility/visibility-indexes';

let pool: Pool | undefined;
// Registered before useFreshDatabase's hooks so the pool closes before its database is dropped.
afterAll(async () => {
  await pool?.end();
});
const db = useFreshDatabase('visibility');

const NAMESPACE = 'default';
const customAttributes = {
  PathwayId: IndexedValueTypes.KeywordList,
  CaseSetting: IndexedValueTypes.Keyword,
  Notes: IndexedValueTypes.Text,
  ReviewCount: IndexedValueTypes.Int,
  RiskScore: IndexedValueTypes.Double,
  Urgent: IndexedValueTypes.Bool,
  DueAt: IndexedValueTypes.Datetime,
};

interface Run {
  run: string;
  workflowId: string;
  type?: string;
  queue?: string;
  status: number;
  start: string;
  execution?: string;
  close?: string;
  attributes?: Record<string, unknown>;
  namespace?: string;
}

// Status numbers: 1 running, 2 completed, 3 failed, 4 canceled, 5 terminated, 6 continued-as-new, 7 timed out.
const RUNS: Run[] = [
  {
    run: 'r1',
    workflowId: 'case-1',
    status: 1,
    start: '2026-01-05T10:00:00Z',
    execution: '2026-01-06T00:00:00Z',
    attributes: {
      PathwayId: ['sms', 'custody'],
      CaseSetting: 'HMP-LEEDS',
      Notes: 'Missed appointment at HMP Leeds',
      ReviewCount: 2,
      RiskScore: 0.75,
      Urgent: true,
      DueAt: '2026-02-01T09:00:00.000Z',
      TemporalChangeVersion: ['review-timers-v2'],
    },
  },
  {
    run: 'r2',
    workflowId: 'case-2',
    status: 2,
    start: '2025-12-20T08:00:00Z',
    close: '2026-01-10T12:00:00Z',
    attributes: {
      PathwayId: ['release'],
      CaseSetting: 'HMP-WAKEFIELD',
      ReviewCount: 10,
      RiskScore: 0.2,
      Urgent: false,
      DueAt: '2026-01-05T00:00:00.000Z',
    },
  },
  {
    run: 'r3',
    workflowId: 'case-3',
    status: 3,
    start: '2026-01-15T09:30:00Z',
    close: '2026-01-20T16:45:00Z',
    attributes: {
      PathwayId: ['custody'],
      CaseSetting: 'HMP-LEEDS',
      Notes: 'Transfer requested to HMP Wakefield',
      ReviewCount: 5,
    },
  },
  {
    run: 'r4',
    workflowId: 'case-4',
    status: 6,
    start: '2026-01-02T00:00:00Z',
    close: '2026-01-03T00:00:00Z',
    attributes: { PathwayId: ['sms'] },
  },
  {
    run: 'r5',
    workflowId: 'case-4',
    status: 1,
    start: '2026-01-03T00:00:00Z',
    attributes: { PathwayId: ['sms'], ReviewCount: 0 },
  },
  {
    run: 'r6',
    workflowId: 'notify-1',
    type: 'SendReminder',
    queue: 'notify',
    status: 4,
    start: '2026-01-25T00:00:00Z',
    close: '2026-02-05T00:00:00Z',
  },
  {
    run: 'r7',
    workflowId: 'notify-2',
    type: 'SendReminder',
    queue: 'notify',
    status: 5,
    start: '2026-02-10T00:00:00Z',
    close: '2026-02-11T00:00:00Z',
    attributes: { CaseSetting: 'Custody Suite 50%_A' },
  },
  {
    run: 'r8',
    workflowId: 'case-8',
    status: 7,
    start: '2026-01-30T00:00:00Z',
    close: '2026-03-01T00:00:00Z',
    attributes: { RiskScore: 1000, Urgent: true },
  },
  {
    // Values of the wrong JSON type, as an attribute removed and re-added with another type leaves behind:
    // they must match nothing and break nothing.
    run: 'r9',
    workflowId: 'case-9',
    status: 1,
    start: '2026-02-15T00:00:00Z',
    attributes: { ReviewCount: 'three', DueAt: 42, Urgent: 'yes', PathwayId: 'sms' },
  },
  {
    // Another namespace's twin of r1: the caller's namespace condition must keep it out.
    run: 'x1',
    workflowId: 'case-1',
    status: 1,
    start: '2026-01-05T10:00:00Z',
    attributes: { PathwayId: ['sms'], CaseSetting: 'HMP-LEEDS' },
    namespace: 'other',
  },
];

beforeAll(async () => {
  pool = new Pool({ connectionString: db.url, max: 2 });
  await database().query(`CREATE SCHEMA temporal`);
  await database().query(`
    CREATE TABLE temporal.executions (
      namespace text NOT NULL,
      workflow_id text NOT NULL,
      run_id text NOT NULL,
      workflow_type text NOT NULL,
      task_queue text NOT NULL,
      status smallint NOT NULL,
      start_time timestamptz NOT NULL,
      execution_time timestamptz NOT NULL,
      close_time timestamptz NULL,
      search_attributes jsonb NOT NULL DEFAULT '{}',
      PRIMARY KEY (namespace, run_id)
    )`);
  for (const statement of visibilityIndexStatements('temporal')) await database().query(statement);
  for (const index of customAttributeIndexStatements('temporal', customAttributes)) await database().query(index.sql);
  for (const run of RUNS) {
    await database().query(`INSERT INTO temporal.executions VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, [
      run.namespace ?? NAMESPACE,
      run.workflowId,
      run.run,
      run.type ?? 'RunPathway',
      run.queue ?? 'pathways',
      run.status,
      run.start,
      run.execution ?? run.start,
      run.close ?? null,
      JSON.stringify(run.attributes ?? {}),
    ]);
  }
});

function database(): Pool {
  if (!pool) throw new Error('the pool is created in beforeAll');
  return pool;
}

const NOW = new Date('2026-02-15T12:00:00Z');

/** Runs a List query as the core will: its own namespace parameter first, the compiled condition after. */
async function list(query: string, options: Partial<CompileVisibilityQueryOptions> = {}): Promise<string[]> {
  const compiled = compileVisibilityQuery(query, { customAttributes, firstParam: 2, now: NOW, ...options });
  const { rows } = await database().query<{ run_id: string }>(
    `SELECT run_id FROM temporal.executions WHERE namespace = $1 AND ${compiled.where} ORDER BY ${compiled.orderBy}`,
    [NAMESPACE, ...compiled.params],
  );
  return rows.map((row) => row.run_id);
}

describe('List Filter on PostgreSQL', () => {
  it('lists every run of the namespace, newest start first, for an empty query', async () => {
    expect(await list('')).toEqual(['r9', 'r7', 'r8', 'r6', 'r3', 'r1', 'r5', 'r4', 'r2']);
  });

  it.each([
    // the examples
    [
      "WorkflowType = 'RunPathway' AND ExecutionStatus = 'Running' AND StartTime > '2026-01-01T00:00:00Z'",
      ['r1', 'r5', 'r9'],
    ],
    [
      "WorkflowId STARTS_WITH 'case-' AND (PathwayId IN ('sms', 'custody') OR CaseSetting = 'HMP-LEEDS')",
      ['r1', 'r3', 'r4', 'r5'],
    ],
    ["CloseTime BETWEEN '2026-01-01T00:00:00Z' AND '2026-02-01T00:00:00Z'", ['r2', 'r3', 'r4']],
    ["ExecutionStatus != 'Completed'", ['r1', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9']],
    // IS NULL on columns and attributes
    ['CloseTime IS NULL', ['r1', 'r5', 'r9']],
    ['CloseTime IS NOT NULL', ['r2', 'r3', 'r4', 'r6', 'r7', 'r8']],
    ['Notes IS NULL', ['r2', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9']],
    ['Notes IS NOT NULL', ['r1', 'r3']],
    // Keyword: a missing attribute is neither equal nor unequal
    ["CaseSetting = 'HMP-LEEDS'", ['r1', 'r3']],
    ["CaseSetting != 'HMP-LEEDS'", ['r2', 'r7']],
    ["NOT CaseSetting = 'HMP-LEEDS'", ['r2', 'r7']],
    ["CaseSetting IN ('HMP-WAKEFIELD', 'Custody Suite 50%_A')", ['r2', 'r7']],
    ["CaseSetting NOT IN ('HMP-WAKEFIELD')", ['r1', 'r3', 'r7']],
    ["CaseSetting STARTS_WITH 'HMP-'", ['r1', 'r2', 'r3']],
    ["CaseSetting STARTS_WITH 'Custody Suite 50%_'", ['r7']],
    ["CaseSetting STARTS_WITH 'Custody Suite 50%%'", []],
    ["CaseSetting NOT STARTS_WITH 'HMP-'", ['r7']],
    ["CaseSetting BETWEEN 'HMP-A' AND 'HMP-M'", ['r1', 'r3']],
    ["WorkflowId > 'case-4' AND WorkflowId < 'notify'", ['r8', 'r9']],
    // KeywordList: = means contains
    ["PathwayId = 'sms'", ['r1', 'r4', 'r5']],
    ["PathwayId != 'sms'", ['r2', 'r3']],
    ["PathwayId IN ('release', 'custody')", ['r1', 'r2', 'r3']],
    ["PathwayId NOT IN ('sms', 'custody')", ['r2']],
    // Int and Double compare as numbers (10 > 2), never as text
    ['ReviewCount > 2', ['r2', 'r3']],
    ['ReviewCount >= 2', ['r1', 'r2', 'r3']],
    ['ReviewCount < 2', ['r5']],
    ['ReviewCount <= 0', ['r5']],
    ['ReviewCount = 2', ['r1']],
    ['ReviewCount != 2', ['r2', 'r3', 'r5']],
    ['ReviewCount IN (0, 10)', ['r2', 'r5']],
    ['ReviewCount BETWEEN 1 AND 5', ['r1', 'r3']],
    ['ReviewCount NOT BETWEEN 1 AND 5', ['r2', 'r5']],
    ['RiskScore > 0.5', ['r1', 'r8']],
    ['RiskScore <= 0.2', ['r2']],
    ['RiskScore > 1e2', ['r8']],
    // Bool
    ['Urgent = true', ['r1', 'r8']],
    ['Urgent = false', ['r2']],
    ['Urgent != true', ['r2']],
    // Datetime: instants, whatever the offset they are written with
    ["DueAt < '2026-01-31T00:00:00Z'", ['r2']],
    ["DueAt > '2026-01-31T23:00:00-01:00'", ['r1']],
    ["DueAt = '2026-02-01T10:00:00+01:00'", ['r1']],
    ["ExecutionTime > '2026-01-05T12:00:00Z' AND WorkflowId = 'case-1'", ['r1']],
    ["StartTime > '2026-01-05T12:00:00Z' AND WorkflowId = 'case-1'", []],
    ['StartTime > NOW() - 1d', ['r9']],
    ['StartTime < 1767225600000000000', ['r2']],
    // Text: any word, any case
    ["Notes = 'leeds'", ['r1']],
    ["Notes = 'WAKEFIELD transfer'", ['r3']],
    ["Notes = 'hmp'", ['r1', 'r3']],
    ["Notes != 'leeds'", ['r3']],
    ["Notes = 'hmp-leeds'", ['r1', 'r3']],
    ["Notes = 'missed; appointment!'", ['r1']],
    // predefined, written by the SDK's patched()
    ["TemporalChangeVersion = 'review-timers-v2'", ['r1']],
    // other system attributes
    ["RunId = 'r4'", ['r4']],
    ["TaskQueue = 'notify' OR ExecutionStatus IN ('TimedOut', 'Canceled')", ['r6', 'r7', 'r8']],
    ["ExecutionStatus STARTS_WITH 'C'", ['r2', 'r4', 'r6']],
    // as the Temporal UI and CLI write them: backticked names, double-quoted values, no spaces
    ['`ExecutionStatus`="Running" AND `WorkflowType`="RunPathway"', ['r1', 'r5', 'r9']],
    [
      '`StartTime` BETWEEN "2026-01-01T00:00:00.000Z" AND "2026-01-31T00:00:00.000Z"',
      ['r1', 'r3', 'r4', 'r5', 'r6', 'r8'],
    ],
    ['`CloseTime`>"2026-02-01T00:00:00Z" or `ExecutionStatus`="TimedOut"', ['r6', 'r7', 'r8']],
    // precedence and negation
    ["(WorkflowId = 'case-4' OR WorkflowId = 'case-1') AND ExecutionStatus = 'Running'", ['r1', 'r5']],
    ["WorkflowId = 'case-4' OR WorkflowId = 'case-1' AND ExecutionStatus = 'Running'", ['r1', 'r4', 'r5']],
    ["NOT (ExecutionStatus = 'Running' OR WorkflowType = 'SendReminder')", ['r2', 'r3', 'r4', 'r8']],
    // = CaseSetting != 'HMP-LEEDS' OR Urgent != true: r3 has no Urgent and r8 no CaseSetting, so both are unknown
    ["NOT (CaseSetting = 'HMP-LEEDS' AND Urgent = true)", ['r2', 'r7']],
  ])('%s', async (query, expected) => {
    expect((await list(query)).sort()).toEqual(expected);
  });

  it('orders by a custom attribute with missing values last', async () => {
    expect(await list("WorkflowType = 'RunPathway' ORDER BY ReviewCount DESC")).toEqual([
      'r2',
      'r3',
      'r1',
      'r5',
      'r4',
      'r8',
      'r9',
    ]);
  });

  it('orders by several keys in either direction', async () => {
    expect(await list('ORDER BY WorkflowId ASC, StartTime DESC')).toEqual([
      'r1',
      'r2',
      'r3',
      'r5',
      'r4',
      'r8',
      'r9',
      'r6',
      'r7',
    ]);
  });

  it('counts by execution status with GROUP BY ExecutionStatus', async () => {
    const compiled = compileVisibilityQuery("ExecutionStatus != 'Completed' GROUP BY ExecutionStatus", {
      customAttributes,
      firstParam: 2,
      operation: 'count',
    });
    expect(compiled.groupBy).toBe('ExecutionStatus');
    const { rows } = await database().query<{ status: number; count: string }>(
      `SELECT status, count(*) FROM temporal.executions WHERE namespace = $1 AND ${compiled.where} GROUP BY status ORDER BY status`,
      [NAMESPACE, ...compiled.params],
    );
    expect(rows.map((row) => [row.status, Number(row.count)])).toEqual([
      [1, 3],
      [3, 1],
      [4, 1],
      [5, 1],
      [6, 1],
      [7, 1],
    ]);
  });

  it('indexes range conditions on custom Int and Double attributes, not on Datetime ones', async () => {
    const indexes = customAttributeIndexStatements('temporal', customAttributes);
    expect(indexes.map((index) => index.name.replace(/_[0-9a-f]{10}$/, ''))).toEqual([
      'executions_sa_reviewcount',
      'executions_sa_riskscore',
    ]);
    const compiled = compileVisibilityQuery('ReviewCount >= 2 OR RiskScore > 0.5', { customAttributes });
    const plan = await explainWithoutSeqScan(compiled.where, compiled.params);
    for (const index of indexes) expect(plan).toContain(index.name);
    // Still the same selection as without the indexes.
    const expected = RUNS.filter(
      (run) =>
        (run.namespace ?? NAMESPACE) === NAMESPACE &&
        ((typeof run.attributes?.ReviewCount === 'number' && run.attributes.ReviewCount >= 2) ||
          (typeof run.attributes?.RiskScore === 'number' && run.attributes.RiskScore > 0.5)),
    );
    expect(expected.length).toBeGreaterThan(0);
    expect((await list('ReviewCount >= 2 OR RiskScore > 0.5')).sort()).toEqual(expected.map((run) => run.run).sort());
  });

  it('lets the GIN index serve equality on a custom attribute', async () => {
    const compiled = compileVisibilityQuery("CaseSetting = 'HMP-LEEDS'", { customAttributes });
    expect(await explainWithoutSeqScan(compiled.where, compiled.params)).toContain('executions_search_attributes_idx');
  });
});

/** The plan of a selection when sequential scans are off: with a few rows the planner would rather scan. */
async function explainWithoutSeqScan(where: string, params: unknown[]): Promise<string> {
  const client = await database().connect();
  try {
    await client.query('SET enable_seqscan = off');
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN SELECT run_id FROM temporal.executions WHERE ${where}`,
      params,
    );
    return rows.map((row) => row['QUERY PLAN']).join('\n');
  } finally {
    await client.query('RESET enable_seqscan');
    client.release();
  }
}
