/**
 * The worklist and ops questions, asked of a real PostgreSQL: the right tasks come back, in the right order,
 * and each question's shape is one its partial index can answer.
 */
import { Client } from 'pg';
import {
  findClaimableTasks,
  findMyOpenTasks,
  findOpenTasksOfCase,
  findOverdueTasks,
  WorklistTaskSchema,
  type Case,
  type WorklistTask,
} from '../../store';
import { seedCase } from './seed';
import { useMigratedStore } from './store-fixture';

const db = useMigratedStore('worklist');
let kase: Case;
let otherCase: Case;

const day = (d: number) => new Date(Date.UTC(2026, 10, d, 9));

beforeAll(async () => {
  const em = db.store.fork();
  kase = (await seedCase(em)).case;
  otherCase = (await seedCase(em)).case;
  const task = (id: string, overrides: Partial<WorklistTask>) =>
    em.create(WorklistTaskSchema, {
      id,
      case: kase,
      workflowId: kase.workflowId,
      elementId: id,
      name: id,
      ...overrides,
    });
  task('FiveDayReview', { assignee: 'nurse-1', dueAt: day(27) });
  task('TwentyEightDayReview', { assignee: 'nurse-1', dueAt: day(20) });
  task('CarePlan', { assignee: 'nurse-1' });
  task('Done', {
    assignee: 'nurse-1',
    dueAt: day(1),
    status: 'completed',
    completedAt: day(2),
    completedBy: 'nurse-1',
  });
  task('TopReview', { candidateGroups: ['sms-team'], dueAt: day(25) });
  task('Recall', { candidateUsers: ['nurse-2'], dueAt: day(26) });
  task('OtherCase', { case: otherCase, workflowId: otherCase.workflowId, assignee: 'nurse-2', dueAt: day(10) });
  await em.flush();
});

const ids = (tasks: WorklistTask[]) => tasks.map((t) => t.id);

it('lists my open tasks soonest due first, undated last', async () => {
  expect(ids(await findMyOpenTasks(db.store.fork(), 'nurse-1'))).toEqual([
    'TwentyEightDayReview',
    'FiveDayReview',
    'CarePlan',
  ]);
});

it('lists unassigned tasks offered to my groups or to me', async () => {
  expect(ids(await findClaimableTasks(db.store.fork(), { groups: ['sms-team'] }))).toEqual(['TopReview']);
  expect(ids(await findClaimableTasks(db.store.fork(), { groups: ['sms-team'], user: 'nurse-2' }))).toEqual([
    'TopReview',
    'Recall',
  ]);
});

it('lists the open tasks of one case', async () => {
  expect(ids(await findOpenTasksOfCase(db.store.fork(), otherCase.id))).toEqual(['OtherCase']);
});

it('lists overdue open tasks, most overdue first', async () => {
  expect(ids(await findOverdueTasks(db.store.fork(), day(26)))).toEqual([
    'OtherCase',
    'TwentyEightDayReview',
    'TopReview',
  ]);
});

describe('query plans', () => {
  let sql: Client;
  beforeAll(async () => {
    sql = new Client({ connectionString: db.url });
    await sql.connect();
    db.onClose(() => sql.end());
    // A realistic spread of open work across many teams and cases, so the planner weighs the indexes as it
    // would in service; sequential scans are forbidden to see which index it picks.
    await sql.query(
      `insert into worklist_tasks (id, case_id, workflow_id, element_id, name, status, candidate_groups, due_at)
       select 'bulk-' || i, $1, 'bulk', 'Review', 'Review', 'open', array['team-' || (i % 500)], now() + i * interval '1 minute'
       from generate_series(1, 5000) as i`,
      [otherCase.id],
    );
    await sql.query('analyze worklist_tasks');
    await sql.query('set enable_seqscan = off');
  });

  async function plan(query: string, params: unknown[]): Promise<string> {
    const { rows } = await sql.query<{ 'QUERY PLAN': string }>(`explain ${query}`, params);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  }

  it.each([
    [
      'my open tasks by due date',
      `select * from worklist_tasks where assignee = $1 and status = 'open' order by due_at asc limit 200`,
      ['nurse-1'],
      'worklist_tasks_open_by_assignee_due',
    ],
    [
      'open tasks of a case',
      `select * from worklist_tasks where case_id = $1 and status = 'open'`,
      ['00000000-0000-0000-0000-000000000000'],
      'worklist_tasks_open_by_case',
    ],
    [
      'overdue tasks',
      `select * from worklist_tasks where status = 'open' and due_at is not null and due_at < $1 order by due_at asc`,
      [day(26)],
      'worklist_tasks_open_by_due',
    ],
    [
      'tasks offered to my groups',
      `select * from worklist_tasks where status = 'open' and candidate_groups && $1::text[]`,
      [['sms-team']],
      'worklist_tasks_open_candidate_groups',
    ],
  ])('answers "%s" from its partial index', async (_question, query, params, index) => {
    expect(await plan(query, params)).toContain(index);
  });
});
