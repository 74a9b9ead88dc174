import { useFreshDatabase } from '../support/database';
import { startServerAndWorker, type ServerAndWorker } from './support';

const db = useFreshDatabase('temporal_smoke');

describe('embedded Temporal server smoke', () => {
  let t: ServerAndWorker;

  beforeAll(async () => {
    t = await startServerAndWorker({ databaseUrl: db.url, taskQueue: 'smoke' });
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('runs a workflow through an activity and a timer to its result', async () => {
    const started = Date.now();
    const result = await t.client.workflow.execute('greetAndSleep', {
      taskQueue: 'smoke',
      workflowId: 'smoke-1',
      args: ['world', 300],
    });
    expect(result).toBe('Hello, world! after 300ms');
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });
});
