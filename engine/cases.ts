/**
 * Cases: start a pathway for a person in a setting and read where it is. This module never writes a case's
 * progress itself: it starts the case's workflow and reads its state; messages are in case-messages.ts and
 * the worklist in tasks.ts.
 */
import { randomUUID } from 'node:crypto';
import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  WorkflowFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import { type PathwayIR } from '../bpmn';
import { isValidNhsNumber, normaliseNhsNumber } from '../domain/nhs-number';
import { ValidationError } from '../domain/errors';
import { createRecordActivities } from '../activities/records';
import type { FormValidator } from '../pathways';
import { formRegistryOf } from './form-registry';
import { CaseSettingReason, type Store, listPatientFlags, type PatientFlagView } from '../store';
import type { PathwayView, RunPathwayInput, RunPathwayResult } from '../workflows';
import { getPathwayVersion } from './pathways';
import { handoverSettingsIn, recordCaseSettings } from './case-settings';
import { STATE_QUERY, WORKFLOW_TYPE, translateNotFound, workflowIdOf, type CaseEngine } from './case-engine';

export interface StartCaseInput {
  readonly pathwayId: string;
  /** The latest version when omitted. */
  readonly version?: number;
  readonly nhsNumber: string;
  /** ODS code of the setting the case belongs to (a custody suite, prison, ...). */
  readonly settingOdsCode: string;
  readonly variables?: Record<string, unknown>;
  /** Who started it, for the audit trail. */
  readonly startedBy: string;
  /**
   * Versions to run the pathways it calls at, by pathway id, instead of the latest deployed (a simulation runs a
   * draft against the installation's own versions, not against another draft it simulated before).
   */
  readonly calledVersions?: Readonly<Record<string, number>>;
}

export interface StartedCase {
  readonly caseId: string;
  readonly workflowId: string;
  readonly pathwayId: string;
  readonly version: number;
}

export async function startCase(engine: CaseEngine, input: StartCaseInput): Promise<StartedCase> {
  const nhsNumber = normaliseNhsNumber(input.nhsNumber);
  if (!isValidNhsNumber(nhsNumber)) {
    throw new ValidationError('The NHS number is not valid', [
      { pointer: '/nhsNumber', detail: 'must be 10 digits whose last is the Modulus 11 check digit' },
    ]);
  }
  const pathway = await getPathwayVersion(engine.store, input.pathwayId, input.version);
  assertStartVariables(await formRegistryOf(engine.store).validator(engine.now), pathway.ir, input.variables ?? {});
  const calledPathways = await pinCalledPathways(engine.store, pathway.ir, input.calledVersions ?? {});
  const caseId = randomUUID();
  const workflowId = workflowIdOf(caseId);

  // The case's existence (person, setting, pathway version) is recorded before its workflow starts, so the
  // worklist never shows a task of a case it cannot find. Recording it is idempotent by workflow id.
  const records = createRecordActivities({ store: engine.store, logger: engine.logger });
  await records.openCase({
    caseId,
    workflowId,
    nhsNumber,
    settingOdsCode: input.settingOdsCode,
    pathwayId: pathway.pathwayId,
    pathwayVersion: pathway.version,
    actor: { id: input.startedBy, role: 'clinician' },
  });

  // Who may see the case: the setting it is opened in, and any its journey already names for a later stage.
  await recordCaseSettings(engine.store, caseId, [input.settingOdsCode], CaseSettingReason.Opened, input.startedBy);
  await recordCaseSettings(
    engine.store,
    caseId,
    handoverSettingsIn(input.variables),
    CaseSettingReason.HandedOver,
    input.startedBy,
  );

  const args: RunPathwayInput = {
    ir: pathway.ir,
    caseId,
    pathwayVersionId: `${pathway.pathwayId}@${pathway.version}`,
    calledPathways,
    variables: { ...input.variables, caseId, nhsNumber, settingOdsCode: input.settingOdsCode },
  };
  try {
    await engine.client.workflow.start(WORKFLOW_TYPE, {
      workflowId,
      taskQueue: engine.taskQueue,
      args: [args],
      memo: { pathwayId: pathway.pathwayId, pathwayVersion: pathway.version },
    });
  } catch (error) {
    await records.closeCase({ caseId, reason: 'workflow did not start', actor: { id: 'throughcare', role: 'admin' } });
    throw error;
  }
  engine.logger.info({ caseId, pathwayId: pathway.pathwayId, version: pathway.version }, 'case started');
  return { caseId, workflowId, pathwayId: pathway.pathwayId, version: pathway.version };
}

/**
 * Checks a case's start variables against its pathway version's start form (the JSON Schema its none start
 * event names), so a start the pathway cannot run is refused before anything is recorded or started, each
 * problem named under `/variables`. A version without a start form (deployed before start forms were
 * recorded, or BPMN that declares none) accepts any variables, as before.
 */
function assertStartVariables(forms: FormValidator, ir: PathwayIR, variables: Record<string, unknown>): void {
  if (!ir.startFormId) return;
  const result = forms.validate(ir.startFormId, variables);
  if (result.valid) return;
  throw new ValidationError(
    `The variables to start ${ir.processId} have ${result.problems.length} problem(s)`,
    result.problems.map((problem) => ({ pointer: `/variables${problem.pointer}`, detail: problem.detail })),
  );
}

/**
 * Call activities run the latest deployed version of the called pathway at the moment the case starts (or the
 * version `versions` names), pinned in the start input so the whole journey stays on one set of versions.
 */
async function pinCalledPathways(
  store: Store,
  root: PathwayIR,
  versions: Readonly<Record<string, number>>,
): Promise<Record<string, PathwayIR>> {
  const pinned: Record<string, PathwayIR> = {};
  const queue = [root];
  for (let ir = queue.shift(); ir; ir = queue.shift()) {
    for (const element of Object.values(ir.elements)) {
      if (element.kind !== 'callActivity' || !('literal' in element.processId)) continue;
      const processId = element.processId.literal;
      if (pinned[processId] || processId === root.processId) continue;
      pinned[processId] = (await getPathwayVersion(store, processId, versions[processId])).ir;
      queue.push(pinned[processId]);
    }
  }
  return pinned;
}

export interface CaseView {
  readonly caseId: string;
  readonly workflowId: string;
  /** Temporal's view: RUNNING, COMPLETED, FAILED, TERMINATED, ... */
  readonly executionStatus: string;
  readonly pathway: PathwayView;
  /** Why a closed case did not complete (failed, terminated, cancelled, timed out): the engine's own words. */
  readonly failure?: { readonly type?: string; readonly message: string };
  /** The person's active flags (unverified identity, restricted record, ...): they follow the person, not the case. */
  readonly personFlags: PatientFlagView[];
}

export async function showCase(engine: CaseEngine, caseId: string): Promise<CaseView> {
  const handle = engine.client.workflow.getHandle(workflowIdOf(caseId));
  try {
    const [description, pathway] = await Promise.all([handle.describe(), handle.query<PathwayView>(STATE_QUERY)]);
    const executionStatus = description.status.name;
    const failure = ['RUNNING', 'COMPLETED', 'CONTINUED_AS_NEW'].includes(executionStatus)
      ? undefined
      : await closeReason(handle);
    // The pathway's own nhsNumber: after a re-key it is the person's current number.
    const nhsNumber = pathway.variables['nhsNumber'];
    const personFlags = typeof nhsNumber === 'string' ? await listPatientFlags(engine.store.fork(), { nhsNumber }) : [];
    return {
      caseId,
      workflowId: handle.workflowId,
      executionStatus,
      pathway,
      ...(failure ? { failure } : {}),
      personFlags,
    };
  } catch (error) {
    throw translateNotFound(error, caseId);
  }
}

/** The failure a closed workflow ended with, read from its close event (one short history read). */
async function closeReason(handle: WorkflowHandle): Promise<CaseView['failure']> {
  try {
    await handle.result();
    return undefined;
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) throw error;
    let cause: unknown = error.cause ?? error;
    while (cause instanceof ActivityFailure || cause instanceof ChildWorkflowFailure) cause = cause.cause ?? cause;
    const message = cause instanceof Error ? cause.message : String(cause);
    return cause instanceof ApplicationFailure && cause.type ? { type: cause.type, message } : { message };
  }
}
/** The result a finished case's workflow returned. */
export async function caseResult(engine: CaseEngine, caseId: string): Promise<RunPathwayResult> {
  try {
    return (await engine.client.workflow.getHandle(workflowIdOf(caseId)).result()) as RunPathwayResult;
  } catch (error) {
    throw translateNotFound(error, caseId);
  }
}
