import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { useFreshDatabase } from '../support/database';
import * as activities from './conformance.activities';
import { eventually } from '../support/eventually';
import { installQuietRuntime } from '../support/sdk-runtime';
import { workflowsPath } from './support';

const db = useFreshDatabase('temporal_restart');
const repoRoot = path.resolve(__dirname, '../..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function startServerProcess(address: string, databaseUrl: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['-r', 'tsx/cjs', path.join(__dirname, 'fixtures/run-server.ts'), address, databaseUrl],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('READY')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`server exited early with ${code}: ${out}`)));
  });
}

describe('durability across kill -9', () => {
  let child: ChildProcess | undefined;

  afterAll(async () => {
    // Stop the restarted server cleanly before the database is dropped.
    const c = child;
    if (c && c.exitCode === null) {
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      c.kill('SIGKILL');
    }
  });

  it('finishes every workflow with the right result after the server is killed mid-run and restarted', async () => {
    installQuietRuntime('ERROR');
    const address = `127.0.0.1:${await freePort()}`;
    child = await startServerProcess(address, db.url);
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
      child.kill('SIGKILL');
      await new Promise((r) => child!.once('exit', r));
      // Stay down long enough for every timer to fall due while nobody is serving.
      await new Promise((r) => setTimeout(r, 1500));
      child = await startServerProcess(address, db.url);
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
});
