import {
  Client,
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  isGrpcServiceError,
} from '@temporalio/client';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { Workflow } from '@temporalio/common';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { Client as PgClient } from 'pg';
import { runCli } from '../support/cli-process';
import { useFreshDatabase } from '../support/database';
import { startServerAndWorker, type ServerAndWorker } from './support';

const db = useFreshDatabase('temporal_conformance');

describe('embedded Temporal server conformance (official client and worker)', () => {
  let t: ServerAndWorker;
  const taskQueue = 'conformance';
  let seq = 0;
  const id = (name: string): string => `${name}-${++seq}`;

  beforeAll(async () => {
    // As users run it: `bin/throughcare.js temporal-server` in a child process (no test here needs the server object).
    t = await startServerAndWorker({ databaseUrl: db.url, taskQueue, childProcess: true });
    await t.connection.operatorService.addSearchAttributes({
      namespace: 'default',
      searchAttributes: { CustomKeywordField: 7 }, // KeywordList
    });
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('refuses to start a second server on a schema another server is using', async () => {
    // The task queues live in the running server's process; a second one would hand out tasks it cannot see.
    const second = runCli(['temporal-server', '--address', '127.0.0.1:0', '--database-url', db.url]);
    let timer: NodeJS.Timeout | undefined;
    const status = await Promise.race([
      second.exited(),
      new Promise((resolve) => (timer = setTimeout(resolve, 30_000, 'still running after 30 s'))),
    ]);
    clearTimeout(timer);
    if (second.child.exitCode === null) second.child.kill('SIGKILL');
    expect(second.output()).toContain('another Temporal server is using schema "temporal" of this database');
    expect(status).toBe(1);
  }, 40_000);

  describe('connection-time RPCs', () => {
    it('reports honest system capabilities', async () => {
      const info = await t.connection.workflowService.getSystemInfo({});
      expect(info.capabilities?.sdkMetadata).toBe(true);
      expect(info.capabilities?.buildIdBasedVersioning).toBe(false);
    });

    it('always describes the default namespace', async () => {
      const ns = await t.connection.workflowService.describeNamespace({ namespace: 'default' });
      expect(ns.namespaceInfo?.name).toBe('default');
      expect(ns.namespaceInfo?.state).toBe(1);
    });
  });

  describe('starting workflows', () => {
    it('refuses a second start of a running workflow id with WorkflowExecutionAlreadyStartedError', async () => {
      const workflowId = id('dup');
      const first = await t.client.workflow.start('accumulator', { taskQueue, workflowId });
      await expect(t.client.workflow.start('accumulator', { taskQueue, workflowId })).rejects.toBeInstanceOf(
        WorkflowExecutionAlreadyStartedError,
      );
      await first.terminate('cleanup');
    });

    it('starts a workflow eagerly on a worker that shares the client connection', async () => {
      // The SDK asks for eager start only over a NativeConnection the worker also uses.
      const client = new Client({ connection: t.nativeConnection });
      const handle = await client.workflow.start('greetAndSleep', {
        taskQueue,
        workflowId: id('eager-start'),
        args: ['Ada', 1],
        requestEagerStart: true,
      });
      expect(handle.eagerlyStarted).toBe(true);
      expect(await handle.result()).toBe('Hello, Ada! after 1ms');
      const events = (await handle.fetchHistory()).events ?? [];
      expect(events.slice(0, 3).map((e) => e.eventType)).toEqual([1, 5, 6]); // started, WFT scheduled, WFT started
      // No workflow task timed out or failed: the worker ran the eager task as it was given.
      const { EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT, EVENT_TYPE_WORKFLOW_TASK_FAILED } = temporal.api.enums.v1.EventType;
      const troubled = [EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT, EVENT_TYPE_WORKFLOW_TASK_FAILED];
      expect(events.filter((e) => troubled.includes(e.eventType!))).toEqual([]);
    });

    it('returns the same run for a repeated request id', async () => {
      const workflowId = id('idem');
      const request = {
        namespace: 'default',
        workflowId,
        workflowType: { name: 'accumulator' },
        taskQueue: { name: taskQueue },
        requestId: 'same-request',
      };
      const a = await t.connection.workflowService.startWorkflowExecution(request);
      const b = await t.connection.workflowService.startWorkflowExecution(request);
      expect(b.runId).toBe(a.runId);
      await t.client.workflow.getHandle(workflowId).terminate();
    });

    it('uses the existing run with USE_EXISTING and refuses reuse with REJECT_DUPLICATE', async () => {
      const workflowId = id('policies');
      const first = await t.client.workflow.start('accumulator', { taskQueue, workflowId });
      const again = await t.client.workflow.start('accumulator', {
        taskQueue,
        workflowId,
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
      expect(again.firstExecutionRunId).toBe(first.firstExecutionRunId);
      await first.signal('done');
      await first.result();
      await expect(
        t.client.workflow.start('accumulator', { taskQueue, workflowId, workflowIdReusePolicy: 'REJECT_DUPLICATE' }),
      ).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
      const third = await t.client.workflow.start('accumulator', { taskQueue, workflowId });
      expect(third.firstExecutionRunId).not.toBe(first.firstExecutionRunId);
      await third.terminate();
    });

    it('terminates the running workflow with TERMINATE_EXISTING', async () => {
      const workflowId = id('term-existing');
      const first = await t.client.workflow.start('accumulator', { taskQueue, workflowId });
      await t.client.workflow.start('accumulator', {
        taskQueue,
        workflowId,
        workflowIdConflictPolicy: 'TERMINATE_EXISTING',
      });
      const desc = await t.client.workflow.getHandle(workflowId, first.firstExecutionRunId).describe();
      expect(desc.status.name).toBe('TERMINATED');
      await t.client.workflow.getHandle(workflowId).terminate();
    });

    it('keeps memo and search attributes given at start', async () => {
      const workflowId = id('memo');
      const handle = await t.client.workflow.start('accumulator', {
        taskQueue,
        workflowId,
        memo: { owner: 'ward 7' },
        searchAttributes: { CustomKeywordField: ['case-1'] },
      });
      const desc = await handle.describe();
      expect(desc.memo).toEqual({ owner: 'ward 7' });
      expect(desc.searchAttributes.CustomKeywordField).toEqual(['case-1']);
      await handle.terminate();
    });

    it('gives NOT_FOUND for an unknown workflow', async () => {
      await expect(t.client.workflow.getHandle('does-not-exist').describe()).rejects.toBeInstanceOf(
        WorkflowNotFoundError,
      );
    });

    it('answers NOT_FOUND to a stale workflow task token', async () => {
      // A task queue with no worker: the test plays the worker through the raw service.
      const queue = id('manual');
      const handle = await t.client.workflow.start('accumulator', { taskQueue: queue, workflowId: id('stale') });
      const task = await t.connection.workflowService.pollWorkflowTaskQueue({
        namespace: 'default',
        taskQueue: { name: queue },
        identity: 'test',
      });
      expect(task.startedEventId?.toString()).toBe('3');
      expect(task.workflowExecutionTaskQueue?.name).toBe(queue);
      await t.connection.workflowService.respondWorkflowTaskCompleted({ taskToken: task.taskToken, commands: [] });
      const again: unknown = await t.connection.workflowService
        .respondWorkflowTaskCompleted({ taskToken: task.taskToken, commands: [] })
        .catch((e: unknown) => e);
      expect(isGrpcServiceError(again) && again.code).toBe(GrpcStatus.NOT_FOUND);
      await handle.terminate();
    });

    it('gives INVALID_ARGUMENT naming the missing field', async () => {
      const err: unknown = await t.connection.workflowService
        .startWorkflowExecution({ namespace: 'default', workflowId: 'x', taskQueue: { name: taskQueue } })
        .catch((e: unknown) => e);
      expect(isGrpcServiceError(err) && err.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect((err as Error).message).toContain('WorkflowType');
    });

    it('answers UNIMPLEMENTED for calls it does not build', async () => {
      const err: unknown = await t.connection.workflowService
        .listSchedules({ namespace: 'default' })
        .catch((e: unknown) => e);
      expect(isGrpcServiceError(err) && err.code).toBe(GrpcStatus.UNIMPLEMENTED);
    });

    it('times a workflow out after its execution timeout', async () => {
      const err = await t.client.workflow
        .execute('sleepFor', { taskQueue, workflowId: id('wf-timeout'), args: [60_000], workflowExecutionTimeout: 500 })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect((err as WorkflowFailedError).cause?.name).toBe('TimeoutFailure');
    });

    it('starts after workflowStartDelay', async () => {
      const started = Date.now();
      await t.client.workflow.execute('sleepFor', {
        taskQueue,
        workflowId: id('delay'),
        args: [1],
        startDelay: 400,
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    });
  });

  describe('signals, queries and updates', () => {
    it('delivers signals, answers queries and completes', async () => {
      const handle = await t.client.workflow.start('accumulator', { taskQueue, workflowId: id('acc') });
      await handle.signal('add', 2);
      await handle.signal('add', 3);
      expect(await handle.query('total')).toBe(5);
      await handle.signal('done');
      expect(await handle.result()).toBe(5);
      expect(await handle.query('total')).toBe(5);
    });

    it('keeps the history in order while signals race the workflow tasks', async () => {
      const handle = await t.client.workflow.start('accumulator', { taskQueue, workflowId: id('signal-storm') });
      for (let wave = 0; wave < 5; wave++) {
        await Promise.all(Array.from({ length: 20 }, () => handle.signal('add', 1)));
      }
      await handle.signal('done');
      expect(await handle.result()).toBe(100);
      const history = await handle.fetchHistory();
      expect(history.events?.filter((e) => e.workflowTaskFailedEventAttributes)).toEqual([]);
    });

    it('starts with a signal (SignalWithStart) and signals the running workflow on the second call', async () => {
      const workflowId = id('sws');
      await t.client.workflow.signalWithStart('accumulator', { taskQueue, workflowId, signal: 'add', signalArgs: [4] });
      await t.client.workflow.signalWithStart('accumulator', { taskQueue, workflowId, signal: 'add', signalArgs: [6] });
      const handle = t.client.workflow.getHandle(workflowId);
      await handle.signal('done');
      expect(await handle.result()).toBe(10);
    });

    it('runs updates with validation, acceptance and completion', async () => {
      const handle = await t.client.workflow.start('accumulator', { taskQueue, workflowId: id('upd') });
      await handle.signal('add', 7);
      expect(await handle.executeUpdate('setTotal', { args: [20] })).toBe(7);
      await expect(handle.executeUpdate('setTotal', { args: [-1] })).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
      const started = await handle.startUpdate('setTotal', { args: [30], waitForStage: 'ACCEPTED' });
      expect(await started.result()).toBe(20);
      await handle.signal('done');
      expect(await handle.result()).toBe(30);
    });

    it('refuses to close a workflow over a signal that arrived during the task (UnhandledCommand)', async () => {
      const handle = await t.client.workflow.start('countsSignalsSlowly', { taskQueue, workflowId: id('unhandled') });
      await handle.signal('add', 1);
      await new Promise((r) => setTimeout(r, 300));
      await handle.signal('add', 10); // lands while the local activity keeps the workflow task in flight
      expect(await handle.result()).toBe(11);
      const history = await handle.fetchHistory();
      const failed = history.events?.find((e) => e.workflowTaskFailedEventAttributes);
      expect(failed?.workflowTaskFailedEventAttributes?.cause).toBe(1); // UNHANDLED_COMMAND
    });

    it('starts a workflow with an update (update-with-start) and reuses the running one the second time', async () => {
      const workflowId = id('uws');
      const start = (): WithStartWorkflowOperation<Workflow> =>
        new WithStartWorkflowOperation('accumulator', {
          taskQueue,
          workflowId,
          workflowIdConflictPolicy: 'USE_EXISTING',
        });
      expect(
        await t.client.workflow.executeUpdateWithStart('setTotal', { args: [5], startWorkflowOperation: start() }),
      ).toBe(0);
      const second = start();
      expect(
        await t.client.workflow.executeUpdateWithStart('setTotal', { args: [9], startWorkflowOperation: second }),
      ).toBe(5);
      const handle = await second.workflowHandle();
      await handle.signal('done');
      expect(await handle.result()).toBe(9);
    });

    it('fails a query for an unknown query type', async () => {
      const handle = await t.client.workflow.start('accumulator', { taskQueue, workflowId: id('badq') });
      await expect(handle.query('nope')).rejects.toThrow();
      await handle.terminate();
    });
  });

  describe('update ids', () => {
    const Stage = temporal.api.enums.v1.UpdateWorkflowExecutionLifecycleStage;

    it('attaches a repeated update id to the first update whether admitted, accepted, completed or its run closed', async () => {
      // given a run on a task queue nobody polls yet, so that its update stays admitted
      const queue = 'conformance-update-ids';
      const workflowId = id('update-once');
      const handle = await t.client.workflow.start('updateOnce', { taskQueue: queue, workflowId });
      const send = (label: string, updateId = 'first'): Promise<string> =>
        handle.executeUpdate<string, [string]>('applyOnce', { args: [label], updateId });
      const stageOf = async (updateId: string): Promise<number | undefined> => {
        try {
          const response = await t.connection.withDeadline(Date.now() + 1_500, () =>
            t.connection.workflowService.pollWorkflowExecutionUpdate({
              namespace: 'default',
              updateRef: { workflowExecution: { workflowId }, updateId },
              waitPolicy: { lifecycleStage: Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED },
            }),
          );
          return response.stage ?? undefined;
        } catch {
          return undefined; // not admitted yet
        }
      };
      const reach = async (updateId: string, stage: number): Promise<void> => {
        for (let tries = 0; (await stageOf(updateId)) !== stage; tries++) {
          if (tries > 40) throw new Error(`update ${updateId} never reached stage ${stage}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };

      // when the same id is sent while admitted, again while accepted (the handler waits for `release`)
      const whileAdmitted = [send('a')];
      await reach('first', Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED);
      whileAdmitted.push(send('b'));
      await new Promise((r) => setTimeout(r, 200));
      const worker = await t.newWorker({ taskQueue: queue });
      try {
        await reach('first', Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED);
        const whileAccepted = send('c');
        await new Promise((r) => setTimeout(r, 200));
        await handle.signal('release');

        // then every request gets the first update's outcome, and the handler ran once
        expect(await Promise.all([...whileAdmitted, whileAccepted])).toEqual(['a#1', 'a#1', 'a#1']);
        expect(await send('d')).toBe('a#1'); // completed
        expect(await send('x', 'second')).toBe('x#2'); // more history after the first update
        expect(await send('e')).toBe('a#1');
        await handle.signal('done');
        expect(await handle.result()).toBe(2);

        // and a closed run still answers for the updates it has, and only for those
        expect(await send('f')).toBe('a#1');
        expect(await send('y', 'second')).toBe('x#2');
        await expect(send('z', 'unknown')).rejects.toBeInstanceOf(WorkflowNotFoundError);
        const history = await handle.fetchHistory();
        const accepted = history.events?.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes) ?? [];
        expect(accepted.map((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.protocolInstanceId)).toEqual([
          'first',
          'second',
        ]);
      } finally {
        await worker.stop();
      }
    });
  });

  describe('cancellation and termination', () => {
    it('cancels a sleeping workflow which runs its cleanup activity', async () => {
      const handle = await t.client.workflow.start('cancellableSleep', { taskQueue, workflowId: id('cancel') });
      await new Promise((r) => setTimeout(r, 200));
      await handle.cancel();
      const err = await handle.result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect((err as WorkflowFailedError).cause?.name).toBe('CancelledFailure');
      expect((await handle.describe()).status.name).toBe('CANCELLED');
      const history = await handle.fetchHistory();
      const types = history.events?.map((e) => e.eventType) ?? [];
      expect(types).toContain(12); // the cleanup activity completed
    });

    it('records the cancel of an activity and a timer that finished while the workflow task was in flight', async () => {
      // The race behind a flaky pathway test: the worker cancels what it last saw running, but the activity has
      // completed and the timer fired since. The SDK expects an event for each cancel command; a second cancel
      // of the same activity is a bad command.
      const { CommandType, EventType, WorkflowTaskFailedCause } = temporal.api.enums.v1;
      const svc = t.connection.workflowService;
      const queue = id('manual');
      const handle = await t.client.workflow.start('accumulator', { taskQueue: queue, workflowId: id('late-cancel') });
      const pollWorkflowTask = () =>
        svc.pollWorkflowTaskQueue({ namespace: 'default', taskQueue: { name: queue }, identity: 'test' });

      const first = await pollWorkflowTask();
      await svc.respondWorkflowTaskCompleted({
        taskToken: first.taskToken,
        commands: [
          {
            commandType: CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK,
            scheduleActivityTaskCommandAttributes: {
              activityId: 'a',
              activityType: { name: 'echo' },
              taskQueue: { name: queue },
              startToCloseTimeout: msToTs('1 minute'),
            },
          },
          {
            commandType: CommandType.COMMAND_TYPE_START_TIMER,
            startTimerCommandAttributes: { timerId: 't', startToFireTimeout: msToTs('1 second') },
          },
        ],
      });
      const activity = await svc.pollActivityTaskQueue({
        namespace: 'default',
        taskQueue: { name: queue },
        identity: 'test',
      });
      await handle.signal('add', 1);
      const inFlight = await pollWorkflowTask();
      await svc.respondActivityTaskCompleted({ taskToken: activity.taskToken, identity: 'test' });
      await new Promise((r) => setTimeout(r, 2_000)); // the timer fires meanwhile
      const scheduled = (await handle.fetchHistory()).events?.find(
        (e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
      );
      const cancelBoth: temporal.api.command.v1.ICommand[] = [
        {
          commandType: CommandType.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK,
          requestCancelActivityTaskCommandAttributes: { scheduledEventId: scheduled?.eventId },
        },
        { commandType: CommandType.COMMAND_TYPE_CANCEL_TIMER, cancelTimerCommandAttributes: { timerId: 't' } },
      ];
      await svc.respondWorkflowTaskCompleted({ taskToken: inFlight.taskToken, commands: cancelBoth });

      const next = await pollWorkflowTask();
      const again: unknown = await svc
        .respondWorkflowTaskCompleted({ taskToken: next.taskToken, commands: cancelBoth.slice(0, 1) })
        .catch((e: unknown) => e);
      expect(isGrpcServiceError(again) && again.code).toBe(GrpcStatus.INVALID_ARGUMENT);

      const history = await handle.fetchHistory();
      const events = history.events ?? [];
      const names = events.slice(4).map((e) => EventType[e.eventType!].replace('EVENT_TYPE_', ''));
      expect(names).toEqual([
        'ACTIVITY_TASK_SCHEDULED',
        'TIMER_STARTED',
        'WORKFLOW_EXECUTION_SIGNALED',
        'WORKFLOW_TASK_SCHEDULED',
        'WORKFLOW_TASK_STARTED',
        'WORKFLOW_TASK_COMPLETED',
        'ACTIVITY_TASK_CANCEL_REQUESTED',
        'TIMER_CANCELED',
        'ACTIVITY_TASK_STARTED',
        'ACTIVITY_TASK_COMPLETED',
        'WORKFLOW_TASK_SCHEDULED',
        'WORKFLOW_TASK_STARTED',
        'WORKFLOW_TASK_FAILED',
        'WORKFLOW_TASK_SCHEDULED',
      ]);
      expect(events.at(-2)?.workflowTaskFailedEventAttributes?.cause).toBe(
        WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_ACTIVITY_ATTRIBUTES,
      );
      await handle.terminate();
    });

    it('terminates a workflow', async () => {
      const handle = await t.client.workflow.start('accumulator', { taskQueue, workflowId: id('terminate') });
      await handle.terminate('no longer needed');
      const err = await handle.result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect((await handle.describe()).status.name).toBe('TERMINATED');
    });
  });

  describe('activities', () => {
    it('retries a flaky activity with backoff until it succeeds', async () => {
      const result = await t.client.workflow.execute('retryingActivity', {
        taskQueue,
        workflowId: id('retry'),
        args: [2, id('flaky')],
      });
      expect(result).toBe(3);
    });

    it('starts an activity the worker asks to run eagerly in the workflow task response, never queuing it', async () => {
      // A trigger records each activity task that reaches the queue; an eagerly started one never does.
      const pg = new PgClient({ connectionString: db.url });
      await pg.connect();
      try {
        await pg.query('CREATE TABLE public.queued_activities (run_id text)');
        await pg.query(`CREATE FUNCTION public.record_queued_activity() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN IF NEW.kind = 2 THEN INSERT INTO public.queued_activities VALUES (NEW.run_id); END IF; RETURN NEW; END $$`);
        await pg.query(`CREATE TRIGGER record_queued_activity AFTER INSERT ON temporal.tasks
          FOR EACH ROW EXECUTE FUNCTION public.record_queued_activity()`);
        const queued = async (runId: string) =>
          (
            await pg.query<{ n: number }>('SELECT count(*)::int AS n FROM public.queued_activities WHERE run_id = $1', [
              runId,
            ])
          ).rows[0]?.n;

        const eager = await t.client.workflow.start('greetAndSleep', {
          taskQueue,
          workflowId: id('eager'),
          args: ['Ada', 1],
        });
        expect(await eager.result()).toBe('Hello, Ada! after 1ms');
        expect(await queued(eager.firstExecutionRunId)).toBe(0);

        // A worker that reserves no eager slots gets the same activity through the queue.
        const plain = await t.newWorker({ taskQueue: 'no-eager', maxEagerActivityReservationsPerWorkflowTask: 0 });
        try {
          const queuedRun = await t.client.workflow.start('greetAndSleep', {
            taskQueue: 'no-eager',
            workflowId: id('not-eager'),
            args: ['Ada', 1],
          });
          expect(await queuedRun.result()).toBe('Hello, Ada! after 1ms');
          expect(await queued(queuedRun.firstExecutionRunId)).toBe(1);
        } finally {
          await plain.stop();
        }
      } finally {
        await pg.query('DROP TRIGGER IF EXISTS record_queued_activity ON temporal.tasks');
        await pg.end();
      }
    });

    it('shows the attempt, last failure and next retry time of a retrying activity', async () => {
      const key = id('describe-flaky');
      const handle = await t.client.workflow.start('retryingActivity', {
        taskQueue,
        workflowId: id('desc'),
        args: [4, key],
      });
      let seen: { attempt: number; lastFailure?: unknown } | undefined;
      for (let i = 0; i < 50 && !seen; i++) {
        const raw = await t.connection.workflowService.describeWorkflowExecution({
          namespace: 'default',
          execution: { workflowId: handle.workflowId },
        });
        const pending = raw.pendingActivities?.[0];
        if (pending && (pending.attempt ?? 0) > 1 && pending.lastFailure)
          seen = { attempt: pending.attempt!, lastFailure: pending.lastFailure };
        else await new Promise((r) => setTimeout(r, 20));
      }
      expect(seen?.attempt).toBeGreaterThan(1);
      expect(seen?.lastFailure).toBeDefined();
      expect(await handle.result()).toBe(5);
    });

    it('does not retry a non-retryable failure', async () => {
      expect(await t.client.workflow.execute('nonRetryable', { taskQueue, workflowId: id('nonretry') })).toBe(
        'caught: do not retry me',
      );
    });

    it('stops retrying at maximum attempts', async () => {
      expect(
        await t.client.workflow.execute('exhaustRetries', { taskQueue, workflowId: id('exhaust'), args: [id('k')] }),
      ).toBe('caught after retries: failure 5 of k-' + String(seq));
    });

    it('keeps heartbeat details for the next attempt', async () => {
      expect(await t.client.workflow.execute('heartbeatingActivity', { taskQueue, workflowId: id('hb') })).toBe(
        'finished at attempt 2 resuming from 2',
      );
    });

    it('delivers activity cancellation through the heartbeat response', async () => {
      expect(await t.client.workflow.execute('cancelActivity', { taskQueue, workflowId: id('actcancel') })).toBe(
        'activity cancelled',
      );
    });

    it.each([
      ['startToClose', 'TimeoutFailure:START_TO_CLOSE'],
      ['heartbeat', 'TimeoutFailure:HEARTBEAT'],
      ['scheduleToStart', 'TimeoutFailure:SCHEDULE_TO_START'],
      ['scheduleToClose', 'TimeoutFailure:SCHEDULE_TO_CLOSE'],
    ])('times out an activity on its %s timeout', async (kind, expected) => {
      expect(
        await t.client.workflow.execute('activityTimeout', { taskQueue, workflowId: id(`to-${kind}`), args: [kind] }),
      ).toBe(expected);
    });
  });

  describe('child and external workflows', () => {
    it('runs a child workflow to completion', async () => {
      const workflowId = id('parent');
      expect(await t.client.workflow.execute('parentWorkflow', { taskQueue, workflowId, args: ['kid'] })).toBe(
        'parent got: child says hi to kid',
      );
    });

    it.each([
      ['TERMINATE', 'TERMINATED'],
      ['REQUEST_CANCEL', 'COMPLETED'],
      ['ABANDON', 'RUNNING'],
    ])('applies parent close policy %s to a running child', async (policy, childStatus) => {
      const workflowId = id(`close-${policy}`);
      const childId = await t.client.workflow.execute('parentLeavesChild', { taskQueue, workflowId, args: [policy] });
      const child = t.client.workflow.getHandle(childId);
      if (policy === 'REQUEST_CANCEL') expect(await child.result()).toBe('cancelled');
      expect((await child.describe()).status.name).toBe(childStatus);
      if (policy === 'ABANDON') await child.terminate();
    });

    it('shows a running child as pending on the parent until it completes', async () => {
      const workflowId = id('waiting-parent');
      const parent = await t.client.workflow.start('parentWaitsForChild', { taskQueue, workflowId });
      let pending: unknown[] = [];
      for (let i = 0; i < 50 && pending.length === 0; i++) {
        const raw = await t.connection.workflowService.describeWorkflowExecution({
          namespace: 'default',
          execution: { workflowId },
        });
        pending = raw.pendingChildren ?? [];
        if (pending.length === 0) await new Promise((r) => setTimeout(r, 20));
      }
      expect(pending).toEqual([
        expect.objectContaining({ workflowId: `${workflowId}-child`, workflowTypeName: 'accumulator' }),
      ]);
      const child = t.client.workflow.getHandle(`${workflowId}-child`);
      await child.signal('add', 4);
      await child.signal('done');
      expect(await parent.result()).toBe(4);
    });

    it('signals an external workflow', async () => {
      const target = await t.client.workflow.start('accumulator', { taskQueue, workflowId: id('target') });
      expect(
        await t.client.workflow.execute('signalOther', {
          taskQueue,
          workflowId: id('signaller'),
          args: [target.workflowId],
        }),
      ).toBe('sent');
      expect(await target.result()).toBe(5);
    });

    it('cancels an external workflow', async () => {
      const target = await t.client.workflow.start('waitForCancelOrDone', {
        taskQueue,
        workflowId: id('cancel-target'),
      });
      await t.client.workflow.execute('cancelOther', {
        taskQueue,
        workflowId: id('canceller'),
        args: [target.workflowId],
      });
      expect(await target.result()).toBe('cancelled');
    });
  });

  describe('workflow features', () => {
    it('continues as new and follows the chain to the final result', async () => {
      const result = await t.client.workflow.execute('countdown', { taskQueue, workflowId: id('can'), args: [3] });
      expect(result).toBe('done at run with input 0, continued from another run');
    });

    it('lists the runs of a workflow that match a visibility query', async () => {
      const workflowId = id('listed');
      await t.client.workflow.execute('countdown', { taskQueue, workflowId, args: [1] });
      const listed: string[] = [];
      for await (const wf of t.client.workflow.list({
        query: `WorkflowType = 'countdown' AND WorkflowId = '${workflowId}'`,
      })) {
        listed.push(wf.status.name);
      }
      expect(listed.sort()).toEqual(['COMPLETED', 'CONTINUED_AS_NEW']);
      expect((await t.client.workflow.count(`WorkflowType = 'countdown'`)).count).toBeGreaterThanOrEqual(2);
    });

    it('records markers for patched() and local activities', async () => {
      const handle = await t.client.workflow.start('patchedWorkflow', { taskQueue, workflowId: id('patched') });
      expect(await handle.result()).toBe('new path: Hello, local!');
      const history = await handle.fetchHistory();
      const markers = history.events?.filter((e) => e.markerRecordedEventAttributes) ?? [];
      expect(markers.map((m) => m.markerRecordedEventAttributes?.markerName).sort()).toEqual([
        'core_local_activity',
        'core_patch',
      ]);
    });

    it('upserts search attributes and memo', async () => {
      const handle = await t.client.workflow.start('upserts', { taskQueue, workflowId: id('upsert') });
      expect(await handle.result()).toBe('upserted');
      const desc = await handle.describe();
      expect(desc.searchAttributes.CustomKeywordField).toEqual(['hello']);
      expect(desc.memo).toEqual({ note: 'remember me' });
    });

    it('refuses to start a workflow with an unregistered search attribute', async () => {
      const err: unknown = await t.client.workflow
        .start('accumulator', { taskQueue, workflowId: id('bad-sa'), searchAttributes: { NotRegistered: ['x'] } })
        .catch((e: unknown) => e);
      const grpc = isGrpcServiceError(err) ? err : (err as { cause?: unknown }).cause;
      expect(isGrpcServiceError(grpc) && grpc.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    });

    it('fails a workflow with the failure the workflow threw', async () => {
      const err = await t.client.workflow
        .execute('failsAlways', { taskQueue, workflowId: id('fails') })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect((err as WorkflowFailedError).cause?.message).toBe('workflow failed on purpose');
    });

    it('retries a failed workflow under its retry policy', async () => {
      const result = await t.client.workflow.execute('workflowRetries', {
        taskQueue,
        workflowId: id('wf-retry'),
        retry: { initialInterval: 50, maximumAttempts: 5 },
      });
      expect(result).toBe(3);
    });

    it('pages through a long history', async () => {
      const handle = await t.client.workflow.start('manyTimers', { taskQueue, workflowId: id('timers'), args: [600] });
      expect(await handle.result()).toBe(600);
      const history = await handle.fetchHistory();
      expect(history.events?.length).toBeGreaterThan(1200);
      expect(history.events?.map((e) => Number(e.eventId))).toEqual(history.events?.map((_, i) => i + 1));
      // The run is no longer cached, so a query replays it from a paged full history.
      expect(typeof (await handle.query<string>('__stack_trace'))).toBe('string');
    });

    it('resets a workflow to a workflow task and re-applies later signals to the new run', async () => {
      const handle = await t.client.workflow.start('accumulator', { taskQueue, workflowId: id('reset') });
      await handle.signal('add', 1);
      expect(await handle.query('total')).toBe(1);
      await handle.signal('add', 2);
      expect(await handle.query('total')).toBe(3);
      const history = await handle.fetchHistory();
      const firstCompleted = history.events?.find((e) => e.workflowTaskCompletedEventAttributes);
      const { runId } = await t.connection.workflowService.resetWorkflowExecution({
        namespace: 'default',
        workflowExecution: { workflowId: handle.workflowId, runId: handle.firstExecutionRunId },
        workflowTaskFinishEventId: firstCompleted!.eventId,
        reason: 'testing reset',
        requestId: 'reset-1',
      });
      expect(runId).toBeTruthy();
      expect(
        (await t.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).describe()).status.name,
      ).toBe('TERMINATED');
      const reset = t.client.workflow.getHandle(handle.workflowId, runId ?? undefined);
      expect(await reset.query('total')).toBe(3);
      await reset.signal('done');
      expect(await reset.result()).toBe(3);
    });

    it('serves a run whose sticky worker shut down on the normal queue with full history', async () => {
      // The main worker caches the run on its sticky queue; after it shuts down a fresh worker must replay it.
      const handle = await t.client.workflow.start('accumulator', { taskQueue, workflowId: id('sticky') });
      await handle.signal('add', 1);
      expect(await handle.query('total')).toBe(1);
      await t.restartWorker();
      await handle.signal('add', 2);
      expect(await handle.query('total')).toBe(3);
      await handle.signal('done');
      expect(await handle.result()).toBe(3);
    });
  });
});
