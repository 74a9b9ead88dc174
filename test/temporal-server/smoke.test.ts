import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { startTemporalServer, type TemporalServer } from '../../temporal-server';
import { useFreshDatabase } from '../support/database';
import * as activities from './conformance.activities';

const db = useFreshDatabase('temporal_smoke');

describe('embedded Temporal server smoke', () => {
  let server: TemporalServer;
  let connection: Connection;
  let nativeConnection: NativeConnection;
  let client: Client;
  let worker: Worker;
  let running: Promise<void>;

  beforeAll(async () => {
    Runtime.install({ logger: new (require('@temporalio/worker').DefaultLogger)('WARN') });
    server = await startTemporalServer({ address: '127.0.0.1:0', databaseUrl: db.url });
    connection = await Connection.connect({ address: server.address });
    client = new Client({ connection });
    nativeConnection = await NativeConnection.connect({ address: server.address });
    worker = await Worker.create({
      connection: nativeConnection,
      taskQueue: 'smoke',
      workflowsPath: require.resolve('./workflows/conformance.workflows'),
      activities,
    });
    running = worker.run();
  }, 60_000);

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await nativeConnection?.close();
    await connection?.close();
    await server?.stop();
  });

  it('runs a workflow through an activity and a timer to its result', async () => {
    const started = Date.now();
    const result = await client.workflow.execute('greetAndSleep', {
      taskQueue: 'smoke',
      workflowId: 'smoke-1',
      args: ['world', 300],
    });
    expect(result).toBe('Hello, world! after 300ms');
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });
});
