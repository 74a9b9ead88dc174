/**
 * `runPathway`: the one workflow that runs every pathway. It is a thin shell around the pure interpreter
 * (./pathway): it turns the interpreter's commands into Temporal calls (activities by name, child
 * workflows, durable timers) and Temporal's callbacks (update, signal, activity and child results, timer
 * expiry) into interpreter events. The IR travels in the start input, so a running case stays on the
 * pathway version it started with whatever is deployed later.
 *
 * Persisted API (never rename; evolve with `patched()` or new names): workflow type `runPathway`, update
 * `completeTask`, signals `deliverMessage` and `childEscalated`, query `state`, activities `openTask`, `closeTask`,
 * `resolvePathway`, and the service-task activity names the pathways use.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';

import { type PathwayIR } from '../bpmn/ir';
import {
  describePathway,
  findOpenTask,
  handle,
  nextTimer,
  start,
  type PathwayCommand,
  type PathwayEvent,
  type PathwayState,
  type PathwayView,
  type Variables,
} from './pathway';

// ---- the persisted API ---------------------------------------------------------------------------------

export interface RunPathwayInput {
  /** The compiled pathway (pinned: the run never looks at newer versions). */
  readonly ir: PathwayIR;
  readonly variables?: Variables;
  /** The case this run belongs to; passed to every activity. */
  readonly caseId: string;
  /** The deployed version's id, for projections and the monitor (opaque here). */
  readonly pathwayVersionId?: string;
  /** IRs for call activities by process id, pinned at start; others are resolved by `resolvePathway`. */
  readonly calledPathways?: Readonly<Record<string, PathwayIR>>;
  /** Start at a message start event instead of the none start event. */
  readonly startEventId?: string;
  /** Set by continue-as-new: the interpreter state to carry on from. */
  readonly resumeState?: PathwayState;
  /**
   * Continue as new once the history has this many events, besides whenever the server suggests it: keeps
   * replay of long-running cases (daily reminders for months) short.
   */
  readonly historyLengthLimit?: number;
  /** Set on a child pathway: the parent's call activity instance, so escalations reach the right element. */
  readonly parentInstanceId?: string;
}

export interface RunPathwayResult {
  readonly status: 'completed' | 'terminated';
  readonly variables: Variables;
}

export interface CompleteTaskInput {
  readonly taskId: string;
  /** The submitted form data; becomes process variables through the task's output mappings. */
  readonly data?: Variables;
  /** Who completed it (user id), for the projection and audit written by `closeTask`. */
  readonly completedBy?: string;
}

export interface CompleteTaskResult {
  readonly taskId: string;
  readonly completedAt: string;
  /** The pathway's status after the completion was applied. */
  readonly status: PathwayState['status'];
}

export interface DeliverMessageInput {
  readonly name: string;
  readonly correlationKey: string;
  readonly variables?: Variables;
}

/** A clinician completes a user task: accepted or rejected synchronously. */
export const completeTaskUpdate = defineUpdate<CompleteTaskResult, [CompleteTaskInput]>('completeTask');
/** A message event (recall, transfer, release...) for a waiting message catch or boundary event. */
export const deliverMessageSignal = defineSignal<[DeliverMessageInput]>('deliverMessage');
export interface ChildEscalatedInput {
  /** The parent's call activity instance id (the child's `parentInstanceId`). */
  readonly childId: string;
  readonly escalationCode?: string;
}

/** A child pathway threw an escalation; the parent's call activity may catch it with a boundary event. */
export const childEscalatedSignal = defineSignal<[ChildEscalatedInput]>('childEscalated');
/** Where the pathway is: status, variables, open tasks with due dates, pending timers, trail. */
export const stateQuery = defineQuery<PathwayView>('state');

/** Input of every service-task activity: one object, so activities can grow fields without breaking. */
export interface ServiceTaskActivityInput {
  readonly caseId: string;
  readonly processId: string;
  readonly elementId: string;
  /** Unique per execution of the element: an idempotency key for the activity's side effects. */
  readonly activityId: string;
  readonly variables: Variables;
  readonly headers: Record<string, string>;
}

/** What a service-task activity may return: variables for the pathway (via its output mappings). */
export type ServiceTaskActivityResult = Variables | undefined | null | void;

export type OpenTaskActivityInput = Extract<PathwayCommand, { type: 'openUserTask' }> & {
  readonly caseId: string;
  readonly processId: string;
  readonly pathwayVersionId?: string;
};
export type CloseTaskActivityInput = Extract<PathwayCommand, { type: 'closeUserTask' }> & {
  readonly caseId: string;
  readonly processId: string;
  readonly completedBy?: string;
};

/** The activities the shell itself calls (implemented by the worklist and pathway store activities). */
export interface PathwayShellActivities {
  /** Projects an opened user task into the worklist (idempotent by taskId). */
  openTask(input: OpenTaskActivityInput): Promise<void>;
  /** Marks a user task completed or cancelled in the worklist (idempotent by taskId). */
  closeTask(input: CloseTaskActivityInput): Promise<void>;
  /** The latest deployed IR of a process id, for call activities not pinned in `calledPathways`. */
  resolvePathway(input: { processId: string }): Promise<PathwayIR>;
}

type ActivityFunction = (input: unknown) => Promise<unknown>;

const SHELL_ACTIVITY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
};

const shellActivities = proxyActivities<PathwayShellActivities>(SHELL_ACTIVITY_OPTIONS);

// One proxy per retry count: a service task's `retries` is its total number of attempts, as in Zeebe.
const serviceTaskProxies = new Map<number, Record<string, ActivityFunction>>();
function serviceTaskActivities(retries: number): Record<string, ActivityFunction> {
  let proxy = serviceTaskProxies.get(retries);
  if (!proxy) {
    proxy = proxyActivities<Record<string, ActivityFunction>>({
      startToCloseTimeout: '5 minutes',
      retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: Math.max(1, retries) },
    });
    serviceTaskProxies.set(retries, proxy);
  }
  return proxy;
}

/** The BPMN error code of a failure: the ApplicationFailure type, under any activity/child wrappers. */
function failureCode(error: unknown): { errorCode?: string; message: string } {
  let cause: unknown = error;
  while (cause instanceof ActivityFailure || cause instanceof ChildWorkflowFailure) cause = cause.cause;
  if (!(cause instanceof ApplicationFailure))
    return { message: error instanceof Error ? error.message : String(error) };
  return cause.type ? { errorCode: cause.type, message: cause.message } : { message: cause.message };
}

function shouldContinueAsNew(historyLengthLimit: number | undefined): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || (historyLengthLimit !== undefined && info.historyLength >= historyLengthLimit);
}

function nowIso(): string {
  // Workflow time: the SDK makes Date deterministic (the activation's time), so replay sees the same instant.
  return new Date().toISOString();
}

// ---- the workflow -----------------------------------------------------------------------------------------

export async function runPathway(input: RunPathwayInput): Promise<RunPathwayResult> {
  const { ir, caseId } = input;
  const scopes = new Map<string, CancellationScope>();
  let inFlight = 0;
  let projectionsInFlight = 0;
  let version = 0;
  const completedBy = new Map<string, string>();

  // The state exists before any handler is registered, so a query or update can never see it unset.
  const first = input.resumeState
    ? { state: input.resumeState, commands: [] }
    : start(ir, input.variables ?? {}, nowIso(), input.startEventId ? { startEventId: input.startEventId } : {});
  let state: PathwayState = first.state;
  const startCommands = first.commands;

  function dispatch(event: PathwayEvent): void {
    const step = handle(ir, state, event, nowIso());
    state = step.state;
    version += 1;
    execute(step.commands);
  }

  function track<T>(promise: Promise<T>): Promise<T> {
    inFlight += 1;
    return promise.finally(() => {
      inFlight -= 1;
      version += 1;
    });
  }

  /** Worklist projections must land even when the pathway ends in the same step that closed the task. */
  function project(promise: Promise<void>, what: string, taskId: string): void {
    projectionsInFlight += 1;
    void track(promise)
      .catch((error: unknown) => log.error(`${what} failed`, { taskId, error: String(error) }))
      .finally(() => {
        projectionsInFlight -= 1;
      });
  }

  function runInScope(id: string, body: () => Promise<void>): void {
    const scope = new CancellationScope();
    scopes.set(id, scope);
    void track(
      scope.run(body).catch((error: unknown) => {
        if (!isCancellation(error)) log.error('pathway scope failed', { id, error: String(error) });
      }),
    ).finally(() => scopes.delete(id));
  }

  function execute(commands: readonly PathwayCommand[]): void {
    for (const command of commands) {
      switch (command.type) {
        case 'openUserTask':
          project(
            shellActivities.openTask({
              ...command,
              caseId,
              processId: ir.processId,
              ...(input.pathwayVersionId ? { pathwayVersionId: input.pathwayVersionId } : {}),
            }),
            'openTask',
            command.taskId,
          );
          break;
        case 'closeUserTask': {
          const by = completedBy.get(command.taskId);
          completedBy.delete(command.taskId);
          project(
            shellActivities.closeTask({
              ...command,
              caseId,
              processId: ir.processId,
              ...(by ? { completedBy: by } : {}),
            }),
            'closeTask',
            command.taskId,
          );
          break;
        }
        case 'executeServiceTask':
          runInScope(command.activityId, async () => {
            const activity = serviceTaskActivities(command.retries)[command.taskType];
            const activityInput: ServiceTaskActivityInput = {
              caseId,
              processId: ir.processId,
              elementId: command.elementId,
              activityId: command.activityId,
              variables: command.input,
              headers: command.headers,
            };
            try {
              const result = (await (activity as ActivityFunction)(activityInput)) as ServiceTaskActivityResult;
              dispatch({ type: 'serviceTaskCompleted', activityId: command.activityId, result: result ?? {} });
            } catch (error) {
              if (isCancellation(error)) throw error;
              dispatch({ type: 'serviceTaskFailed', activityId: command.activityId, ...failureCode(error) });
            }
          });
          break;
        case 'cancelServiceTask':
          scopes.get(command.activityId)?.cancel();
          break;
        case 'startChildPathway':
          runInScope(command.childId, async () => {
            try {
              const childIr =
                input.calledPathways?.[command.processId] ??
                (await shellActivities.resolvePathway({ processId: command.processId }));
              const child = await startChild(runPathway, {
                workflowId: `${workflowInfo().workflowId}/${command.childId}`,
                args: [
                  {
                    ir: childIr,
                    variables: command.variables,
                    caseId,
                    parentInstanceId: command.childId,
                    ...(input.calledPathways ? { calledPathways: input.calledPathways } : {}),
                  },
                ],
              });
              const result = await child.result();
              dispatch({ type: 'childCompleted', childId: command.childId, variables: result.variables });
            } catch (error) {
              if (isCancellation(error)) throw error;
              dispatch({ type: 'childFailed', childId: command.childId, ...failureCode(error) });
            }
          });
          break;
        case 'cancelChildPathway':
          scopes.get(command.childId)?.cancel();
          break;
        case 'escalate': {
          const parent = workflowInfo().parent;
          if (!parent || !input.parentInstanceId) {
            log.info('escalation not caught: the pathway has no parent', { elementId: command.elementId });
            break;
          }
          void track(
            getExternalWorkflowHandle(parent.workflowId).signal(childEscalatedSignal, {
              childId: input.parentInstanceId,
              ...(command.escalationCode ? { escalationCode: command.escalationCode } : {}),
            }),
          ).catch((error: unknown) => log.error('escalation signal failed', { error: String(error) }));
          break;
        }
        case 'startTimer':
        case 'cancelTimer':
        case 'subscribeMessage':
        case 'unsubscribeMessage':
        case 'complete':
        case 'fail':
          // Timers and subscriptions are read from the state by the loop below; the end by its status.
          break;
      }
    }
  }

  async function closeOpenTasksOnCancel(): Promise<void> {
    const open = Object.values(state.instances).filter((instance) => instance.wait.type === 'userTask');
    await CancellationScope.nonCancellable(() =>
      Promise.all(
        open.map((instance) =>
          shellActivities.closeTask({
            type: 'closeUserTask',
            taskId: instance.id,
            elementId: instance.elementId,
            outcome: 'cancelled',
            caseId,
            processId: ir.processId,
          }),
        ),
      ),
    );
  }

  setHandler(stateQuery, () => describePathway(ir, state));

  setHandler(
    completeTaskUpdate,
    (update) => {
      const taskId = update.taskId;
      if (!findOpenTask(state, taskId)) {
        throw ApplicationFailure.create({
          type: 'TASK_NOT_OPEN',
          message: `Task '${taskId}' is not open`,
          nonRetryable: true,
        });
      }
      if (update.completedBy) completedBy.set(taskId, update.completedBy);
      const completedAt = nowIso();
      dispatch({ type: 'taskCompleted', taskId, data: update.data ?? {} });
      return { taskId, completedAt, status: state.status };
    },
    {
      validator: (update: CompleteTaskInput) => {
        if (typeof update?.taskId !== 'string' || update.taskId === '') throw new Error('taskId is required');
        if (
          update.data !== undefined &&
          (typeof update.data !== 'object' || update.data === null || Array.isArray(update.data))
        ) {
          throw new Error('data must be an object of variables');
        }
        if (state.status !== 'active')
          throw new Error(`The pathway is ${state.status}; task '${update.taskId}' cannot be completed`);
        if (findOpenTask(state, update.taskId)) return;
        const known = state.trail.some((entry) => entry.instanceId === update.taskId);
        throw new Error(
          known
            ? `Task '${update.taskId}' is already completed or closed`
            : `Task '${update.taskId}' is not a task of this pathway`,
        );
      },
    },
  );

  setHandler(childEscalatedSignal, (escalation) => {
    dispatch({
      type: 'childEscalated',
      childId: escalation.childId,
      ...(escalation.escalationCode ? { escalationCode: escalation.escalationCode } : {}),
    });
  });

  setHandler(deliverMessageSignal, (message) => {
    dispatch({
      type: 'messageReceived',
      messageName: message.name,
      correlationKey: message.correlationKey,
      ...(message.variables ? { variables: message.variables } : {}),
    });
  });

  execute(startCommands);

  try {
    while (state.status === 'active') {
      const timer = nextTimer(state);
      const seen = version;
      if (timer) {
        const wait = Date.parse(timer.dueAt) - Date.now();
        if (wait <= 0) {
          dispatch({ type: 'timerFired', timerId: timer.id });
          continue;
        }
        // condition() with a timeout is a durable timer the SDK cancels when something else happens first.
        await condition(() => version !== seen, wait);
      } else {
        await condition(() => version !== seen);
      }
      if (state.status === 'active' && inFlight === 0 && shouldContinueAsNew(input.historyLengthLimit)) {
        await condition(allHandlersFinished);
        await continueAsNew<typeof runPathway>({ ...input, variables: state.variables, resumeState: state });
      }
    }
  } catch (error) {
    // A cancelled case must not leave its tasks open in clinicians' worklists.
    if (isCancellation(error)) await closeOpenTasksOnCancel();
    throw error;
  }

  await condition(() => projectionsInFlight === 0 && allHandlersFinished());
  if (state.status === 'failed') {
    const error = state.error ?? { code: 'PATHWAY_FAILED', message: 'The pathway failed' };
    throw ApplicationFailure.create({ type: error.code, message: error.message, nonRetryable: true, details: [error] });
  }
  return { status: state.status === 'terminated' ? 'terminated' : 'completed', variables: state.variables };
}
