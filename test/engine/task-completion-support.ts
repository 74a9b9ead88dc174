/**
 * What the task completion tests share: a migrated store with a setting and the `TwoReviews` pathway
 * (test/fixtures/bpmn/two-reviews.bpmn: FirstReview, a saveAssessment service task, SecondReview) deployed,
 * the real activities, valid submissions for the two forms, and the counts that show a completion applied once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { createActivities, createLocalInboxTransport, createSpineClient } from '../../activities';
import { deployPathway, shippedLintOptions, listTasks, type CaseEngine, type TaskSummary } from '../../engine';
import { silentLogger } from '../../log';
import { FORMS_DIRECTORY } from '../../pathways';
import { migrateDatabase, openStore, type Store } from '../../store';
import { eventually } from '../support/eventually';

export const PATHWAY_ID = 'TwoReviews';
export const NHS_NUMBER = '9434765919';

/** Form examples carry dates; check them against a clock after all of them, as the scenarios do. */
/** The clock form answers are checked against in these tests: far ahead, so every example's dates are past. */
export const formClock = (): Date => new Date('2099-01-01T00:00:00Z');

export function validSubmission(formId: 'sms-brief-intervention' | 'sms-care-plan'): Record<string, unknown> {
  const file = path.join(FORMS_DIRECTORY, 'examples', `${formId}.examples.json`);
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { valid: Record<string, unknown> }).valid;
}

/** A migrated store with one setting and `TwoReviews` deployed; returns the store and the setting's ODS code. */
export async function prepareStore(databaseUrl: string): Promise<{ store: Store; settingOdsCode: string }> {
  await migrateDatabase(databaseUrl, silentLogger);
  const store = await openStore(databaseUrl);
  const settingOdsCode = `T${randomUUID().slice(0, 5).toUpperCase()}`;
  await knexOf(store)('settings').insert({
    id: randomUUID(),
    ods_code: settingOdsCode,
    name: 'HMP Completion',
    kind: 'prison',
    prison_type: 'HMP',
  });
  const xml = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'bpmn', 'two-reviews.bpmn'), 'utf8');
  await deployPathway(store, xml, { ...shippedLintOptions(), deployedBy: 'test' });
  return { store, settingOdsCode };
}

/** The real activities; Spine is never called by `TwoReviews`. */
export function realActivities(store: Store): ReturnType<typeof createActivities> {
  return createActivities({
    store,
    spine: createSpineClient({ baseUrl: 'http://127.0.0.1:9', retry: { maxAttempts: 1 } }),
    transport: createLocalInboxTransport({ store, logger: silentLogger }),
    logger: silentLogger,
  });
}

const knexOf = (store: Store) => store.orm.em.getConnection().getKnex();

/** Waits until the case's task of `elementId` is in the worklist with `status`; returns it. */
export async function taskOf(
  engine: CaseEngine,
  caseId: string,
  elementId: string,
  status: 'open' | 'completed' = 'open',
): Promise<TaskSummary> {
  const found = await eventually(
    `${elementId} ${status} in the worklist`,
    async () =>
      (await listTasks(engine, { caseId, includeClosed: true })).filter(
        (t) => t.elementId === elementId && t.status === status,
      ),
    (tasks) => tasks.length > 0,
    { timeoutMs: 30_000, intervalMs: 50 },
  );
  return found[0]!;
}

export interface CompletionCounts {
  /** Worklist rows per element: a completion applied twice would open the next task twice. */
  rows: Record<string, number>;
  /** Audit rows of worklist task changes (one per close), and assessments saved for the case. */
  taskAudits: number;
  assessments: number;
  /** The worklist row of each completed task: who and which completion completed it. */
  completed: Record<string, { completedBy: string | null; completionId: string | null; completedAt: string | null }>;
}

export async function countsOf(store: Store, caseId: string): Promise<CompletionCounts> {
  const knex = knexOf(store);
  const rows = await knex('worklist_tasks').where({ case_id: caseId }).select<
    {
      id: string;
      element_id: string;
      status: string;
      completed_by: string | null;
      completion_id: string | null;
      completed_at: Date | null;
    }[]
  >('id', 'element_id', 'status', 'completed_by', 'completion_id', 'completed_at');
  const [audits] = await knex('audit_events')
    .where({ entity_type: 'WorklistTask', action: 'update' })
    .whereIn(
      'entity_id',
      rows.map((r) => r.id),
    )
    .count<{ count: string }[]>({ count: '*' });
  const [assessments] = await knex('assessments').where({ case_id: caseId }).count<{ count: string }[]>({ count: '*' });
  const counts: CompletionCounts = {
    rows: {},
    taskAudits: Number(audits?.count ?? 0),
    assessments: Number(assessments?.count ?? 0),
    completed: {},
  };
  for (const row of rows) {
    counts.rows[row.element_id] = (counts.rows[row.element_id] ?? 0) + 1;
    if (row.status === 'completed') {
      counts.completed[row.element_id] = {
        completedBy: row.completed_by,
        completionId: row.completion_id,
        completedAt: row.completed_at === null ? null : new Date(row.completed_at).toISOString(),
      };
    }
  }
  return counts;
}
