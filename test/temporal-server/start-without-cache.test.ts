/**
 * A start of a workflow id the server has not seen since it started skips the read for other runs of that id
 * and inserts only if there are none. These cases have other runs, in the database only (each server here is
 * fresh, so its run cache is empty): the insert must fail and the start go the careful way.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { Connection, isGrpcServiceError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { startTemporalServer, type TemporalServer } from '../../temporal-server';
import { useFreshDatabase } from '../support/database';

const db = useFreshDatabase('temporal_start_without_cache');
const { WorkflowIdReusePolicy } = temporal.api.enums.v1;

describe('starting a workflow id the server has not cached', () => {
  let server: TemporalServer | undefined;
  let connection: Connection | undefined;

  /** A fresh server on the same database: nothing of the earlier runs is in its memory. */
  async function freshServer(): Promise<Connection['workflowService']> {
    await connection?.close();
    await server?.stop();
    server = await startTemporalServer({ address: '127.0.0.1:0', databaseUrl: db.url });
    connection = await Connection.connect({ address: server.address });
    return connection.workflowService;
  }

  afterAll(async () => {
    await connection?.close();
    await server?.stop();
  });

  const start = (
    svc: Connection['workflowService'],
    workflowId: string,
    requestId: string,
    workflowIdReusePolicy = WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
  ) =>
    svc.startWorkflowExecution({
      namespace: 'default',
      workflowId,
      workflowType: { name: 'accumulator' },
      taskQueue: { name: 'nobody-polls' },
      requestId,
      workflowIdReusePolicy,
    });

  const failure = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => undefined).catch((e) => e);

  it('refuses a second run of a running workflow id', async () => {
    const first = await start(await freshServer(), 'running-id', 'request-1');
    const again = await failure(start(await freshServer(), 'running-id', 'request-2'));
    expect(isGrpcServiceError(again) && again.code).toBe(GrpcStatus.ALREADY_EXISTS);
    expect((again as Error).message).toContain(first.runId);
  }, 60_000);

  it('answers a repeated request with the run it started, and applies the reuse policy to a closed run', async () => {
    let svc = await freshServer();
    const first = await start(svc, 'closed-id', 'request-a');
    await svc.terminateWorkflowExecution({ namespace: 'default', workflowExecution: { workflowId: 'closed-id' } });

    svc = await freshServer();
    const repeated = await start(svc, 'closed-id', 'request-a');
    expect(repeated).toMatchObject({ runId: first.runId, started: false });

    svc = await freshServer();
    const rejected = await failure(
      start(svc, 'closed-id', 'request-b', WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE),
    );
    expect(isGrpcServiceError(rejected) && rejected.code).toBe(GrpcStatus.ALREADY_EXISTS);

    svc = await freshServer();
    const second = await start(svc, 'closed-id', 'request-c');
    expect(second.started).toBe(true);
    expect(second.runId).not.toBe(first.runId);
  }, 60_000);
});
