import { createServer } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { useFreshDatabase } from '../support/database';
import * as activities from './conformance.activities';
import { eventually } from '../support/eventually';
import { installQuietRuntime } from '../support/sdk-runtime';
import { startServerProcess, workflowsPath, type ServerProcess } from './support';

const db = useFreshDatabase('temporal_restart');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

describe('durability across kill -9', () => {
  // The server as users run it, `bin/throughcare.js temporal-server`, in a child process that can be killed.
  let server: ServerProcess | undefined;

  afterAll(async () => {
    // Stop the restarted server cleanly before the database is dropped.
    await server?.stop();
  });

  it('finishes every workflow with the right result after the server is killed mid-run and restarted', async () => {
    installQuietRuntime('ERROR');
    const address = `127.0.0.1:${await freePort()}`;
    server = await startServerProcess({ address, databaseUrl: db.url });
    const connection = await Connection.connect({ address });
    const client = new Client({ connection });
    const nativeConnection = await NativeConnection.connect({ address });
    const worker = await Worker.create({
      connection: nativeConnection,
      taskQueue: 'restart',
      workflowsPath,
      activities,
    });
    const running = worker.run();
    try {
      const count = 60;
      const handles = await Promise.all(
        Array.from({ length: count }, (_, i) =>
          client.workflow.start('survivesRestart', {
            taskQueue: 'restart',
            workflowId: `restart-${i}`,
            args: [`p${i}`, 300 + (i % 10) * 100],
            workflowTaskTimeout: '2s',
          }),
        ),
      );
      await new Promise((r) => setTimeout(r, 400));
      // An activity that never heartbeats (timeout 300 ms), running when the server dies: its heartbeat timeout
      // lives only in memory, so the restarted server must re-arm it from the run's state. Were it lost, the
      // activity would finish after 8 s and the workflow would report no timeout.
      const silent = await client.workflow.start('activityTimeout', {
        taskQueue: 'restart',
        workflowId: 'restart-silent-activity',
        args: ['heartbeat'],
      });
      await eventually(
        'the silent activity started',
        async () => (await silent.describe()).raw.pendingActivities?.[0]?.state,
        (state) => state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
        { intervalMs: 20 },
      );
      const killedAt = Date.now();
      await server.kill();
      // Stay down long enough for every timer to fall due while nobody is serving.
      await new Promise((r) => setTimeout(r, 1500));
      server = await startServerProcess({ address, databaseUrl: db.url });
      const results = await Promise.all(handles.map((h) => h.result()));
      results.forEach((r, i) => expect(r).toBe(`Hello, p${i}! | Hello, p${i} again!`));
      expect(await silent.result()).toBe('TimeoutFailure:HEARTBEAT');
      // Every timer fired: each history has exactly one TimerFired and the workflow completed.
      for (const h of handles.slice(0, 10)) {
        const history = await h.fetchHistory();
        const fired = history.events?.filter((e) => e.timerFiredEventAttributes).length;
        expect(fired).toBe(1);
      }
      expect(Date.now() - killedAt).toBeLessThan(45_000);
    } finally {
      worker.shutdown();
      await running;
      await nativeConnection.close();
      await connection.close();
    }
  }, 120_000);

  it('answers an update id sent again after a kill -9 with the outcome of the update the killed server had', async () => {
    installQuietRuntime('ERROR');
    // One server owns the schema at a time: stop the one the test above left running.
    await server?.stop();
    const address = `127.0.0.1:${await freePort()}`;
    server = await startServerProcess({ address, databaseUrl: db.url });
    const connection = await Connection.connect({ address });
    const client = new Client({ connection });
    const nativeConnection = await NativeConnection.connect({ address });
    const workers: { worker: Worker; running: Promise<void> }[] = [];
    const startWorker = async (taskQueue: string): Promise<void> => {
      const worker = await Worker.create({ connection: nativeConnection, taskQueue, workflowsPath, activities });
      workers.push({ worker, running: worker.run() });
    };
    const send = (workflowId: string, label: string): Promise<string> =>
      client.workflow.getHandle(workflowId).executeUpdate<string, [string]>('applyOnce', {
        args: [label],
        updateId: 'same-id',
      });
    const updateEvents = async (workflowId: string) =>
      ((await client.workflow.getHandle(workflowId).fetchHistory()).events ?? []).filter(
        (e) => e.workflowExecutionUpdateAcceptedEventAttributes || e.workflowExecutionUpdateCompletedEventAttributes,
      );
    try {
      // given one update completed, one accepted (its handler waits for `release`) and one admitted (nobody polls
      // its task queue) when the server is killed
      await startWorker('restart-updates');
      const start = (workflowId: string, taskQueue = 'restart-updates') =>
        client.workflow.start('updateOnce', { taskQueue, workflowId, workflowTaskTimeout: '2s' });
      const completed = await start('restart-update-completed');
      await completed.signal('release');
      expect(await send(completed.workflowId, 'a')).toBe('a#1');
      const accepted = await start('restart-update-accepted');
      const acceptedCall = send(accepted.workflowId, 'a');
      const acceptedEvents = () => updateEvents(accepted.workflowId);
      await eventually('the update accepted', acceptedEvents, (events) => events.length === 1, { intervalMs: 20 });
      const admitted = await start('restart-update-admitted', 'restart-updates-later');
      const admittedCall = send(admitted.workflowId, 'a');
      await new Promise((r) => setTimeout(r, 300));
      await server.kill();
      await new Promise((r) => setTimeout(r, 500));

      // when the server is back on the same database and the same id is sent again
      server = await startServerProcess({ address, databaseUrl: db.url });
      await startWorker('restart-updates-later');
      await accepted.signal('release');
      await admitted.signal('release');

      // then each answer is the first update's outcome, the calls in flight at the kill included, and each
      // handler ran once
      expect(await send(completed.workflowId, 'b')).toBe('a#1');
      expect(await Promise.all([acceptedCall, send(accepted.workflowId, 'b')])).toEqual(['a#1', 'a#1']);
      expect(await Promise.all([admittedCall, send(admitted.workflowId, 'b')])).toEqual(['a#1', 'a#1']);
      for (const handle of [completed, accepted, admitted]) {
        await handle.signal('done');
        expect(await handle.result()).toBe(1);
        expect((await updateEvents(handle.workflowId)).length).toBe(2); // one accepted, one completed
      }
    } finally {
      for (const { worker } of workers) worker.shutdown();
      await Promise.all(workers.map((w) => w.running));
      await nativeConnection.close();
      await connection.close();
    }
  }, 120_000);
});
