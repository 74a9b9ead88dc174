/**
 * Protobuf plumbing for the embedded Temporal server: the reflected root from @temporalio/proto, message
 * encoding for storage and the wire, and the enum numbers the engine uses (as const objects, never strings).
 */
/* eslint-disable @typescript-eslint/no-unsafe-argument -- protobuf messages and pg rows are dynamically shaped (Msg); fields are checked where they are read */
import type * as protobuf from 'protobufjs';
// The JSON module is the reflected root the SDK itself uses; importing it keeps one copy of every type.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const root = require('@temporalio/proto/protos/json-module') as protobuf.Root;

export { root as protoRoot };

/** A decoded message as a plain object: int64 as number, enums as numbers, bytes as Buffer. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Msg = Record<string, any>;

const typeCache = new Map<string, protobuf.Type>();
export function lookupType(name: string): protobuf.Type {
  let type = typeCache.get(name);
  if (!type) {
    type = root.lookupType(name);
    typeCache.set(name, type);
  }
  return type;
}

const toObjectOptions: protobuf.IConversionOptions = { longs: Number, enums: Number, bytes: Buffer };

export function decodeMessage(typeName: string, bytes: Uint8Array): Msg {
  const type = lookupType(typeName);
  return type.toObject(type.decode(bytes), toObjectOptions);
}

/**
 * Encodes a plain object directly (no fromObject copy: this is the hot path). Values follow the decode shape:
 * numbers for int64 and enums, Buffers for bytes, nested plain objects.
 */
export function encodeMessage(typeName: string, value: Msg): Buffer {
  const type = lookupType(typeName);
  const out = type.encode(value).finish();
  return Buffer.isBuffer(out) ? out : Buffer.from(out);
}

export const HISTORY_EVENT = 'temporal.api.history.v1.HistoryEvent';

export function encodeEvent(event: Msg): Buffer {
  return encodeMessage(HISTORY_EVENT, event);
}
export function decodeEvent(bytes: Uint8Array): Msg {
  return decodeMessage(HISTORY_EVENT, bytes);
}

/** JSON-safe copies of messages for the mutable-state blob (bytes become base64, fromObject restores them). */
export function messageToJson(typeName: string, value: Msg): Msg {
  const type = lookupType(typeName);
  return type.toObject(type.fromObject(value), { longs: Number, enums: Number, bytes: String });
}
export function messageFromJson(typeName: string, json: Msg): Msg {
  const type = lookupType(typeName);
  return type.toObject(type.fromObject(json), toObjectOptions);
}

export function packAny(typeName: string, value: Msg): Msg {
  return { type_url: `type.googleapis.com/${typeName}`, value: encodeMessage(typeName, value) };
}
export function unpackAny(any: Msg): Msg {
  const typeUrl = String(any.type_url ?? any.typeUrl ?? '');
  const name = typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
  return decodeMessage(name, any.value ?? Buffer.alloc(0));
}

// ---- time helpers -----------------------------------------------------------------------------------------
export function msToTimestamp(ms: number): Msg {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}
export function timestampToMs(ts: Msg | null | undefined): number | undefined {
  if (!ts) return undefined;
  return Number(ts.seconds ?? 0) * 1000 + Math.floor(Number(ts.nanos ?? 0) / 1e6);
}
export function msToDuration(ms: number): Msg {
  return msToTimestamp(ms);
}
export function durationToMs(d: Msg | null | undefined): number | undefined {
  if (!d) return undefined;
  const ms = Number(d.seconds ?? 0) * 1000 + Math.floor(Number(d.nanos ?? 0) / 1e6);
  return ms;
}
/** A duration field that is present and positive, in ms; 0 or absent gives undefined. */
export function positiveMs(d: Msg | null | undefined): number | undefined {
  const ms = durationToMs(d);
  return ms !== undefined && ms > 0 ? ms : undefined;
}

// ---- enum numbers (from temporal.api.enums.v1) -------------------------------------------------------------
export const EventType = {
  WorkflowExecutionStarted: 1,
  WorkflowExecutionCompleted: 2,
  WorkflowExecutionFailed: 3,
  WorkflowExecutionTimedOut: 4,
  WorkflowTaskScheduled: 5,
  WorkflowTaskStarted: 6,
  WorkflowTaskCompleted: 7,
  WorkflowTaskTimedOut: 8,
  WorkflowTaskFailed: 9,
  ActivityTaskScheduled: 10,
  ActivityTaskStarted: 11,
  ActivityTaskCompleted: 12,
  ActivityTaskFailed: 13,
  ActivityTaskTimedOut: 14,
  ActivityTaskCancelRequested: 15,
  ActivityTaskCanceled: 16,
  TimerStarted: 17,
  TimerFired: 18,
  TimerCanceled: 19,
  WorkflowExecutionCancelRequested: 20,
  WorkflowExecutionCanceled: 21,
  RequestCancelExternalWorkflowExecutionInitiated: 22,
  RequestCancelExternalWorkflowExecutionFailed: 23,
  ExternalWorkflowExecutionCancelRequested: 24,
  MarkerRecorded: 25,
  WorkflowExecutionSignaled: 26,
  WorkflowExecutionTerminated: 27,
  WorkflowExecutionContinuedAsNew: 28,
  StartChildWorkflowExecutionInitiated: 29,
  StartChildWorkflowExecutionFailed: 30,
  ChildWorkflowExecutionStarted: 31,
  ChildWorkflowExecutionCompleted: 32,
  ChildWorkflowExecutionFailed: 33,
  ChildWorkflowExecutionCanceled: 34,
  ChildWorkflowExecutionTimedOut: 35,
  ChildWorkflowExecutionTerminated: 36,
  SignalExternalWorkflowExecutionInitiated: 37,
  SignalExternalWorkflowExecutionFailed: 38,
  ExternalWorkflowExecutionSignaled: 39,
  UpsertWorkflowSearchAttributes: 40,
  WorkflowExecutionUpdateAccepted: 41,
  WorkflowExecutionUpdateRejected: 42,
  WorkflowExecutionUpdateCompleted: 43,
  WorkflowPropertiesModifiedExternally: 44,
  ActivityPropertiesModifiedExternally: 45,
  WorkflowPropertiesModified: 46,
} as const;

/** Attribute field name of each event type, e.g. 1 → workflowExecutionStartedEventAttributes. */
export const eventAttributesField: Record<number, string> = Object.fromEntries(
  Object.entries(EventType).map(([name, n]) => [n, `${name[0]!.toLowerCase()}${name.slice(1)}EventAttributes`]),
);

export const CommandType = {
  ScheduleActivityTask: 1,
  RequestCancelActivityTask: 2,
  StartTimer: 3,
  CompleteWorkflowExecution: 4,
  FailWorkflowExecution: 5,
  CancelTimer: 6,
  CancelWorkflowExecution: 7,
  RequestCancelExternalWorkflowExecution: 8,
  RecordMarker: 9,
  ContinueAsNewWorkflowExecution: 10,
  StartChildWorkflowExecution: 11,
  SignalExternalWorkflowExecution: 12,
  UpsertWorkflowSearchAttributes: 13,
  ProtocolMessage: 14,
  ModifyWorkflowProperties: 16,
} as const;

export const WorkflowStatus = {
  Running: 1,
  Completed: 2,
  Failed: 3,
  Canceled: 4,
  Terminated: 5,
  ContinuedAsNew: 6,
  TimedOut: 7,
} as const;
export type WorkflowStatus = (typeof WorkflowStatus)[keyof typeof WorkflowStatus];

export const TaskQueueKind = { Normal: 1, Sticky: 2 } as const;

export const RetryState = {
  InProgress: 1,
  NonRetryableFailure: 2,
  Timeout: 3,
  MaximumAttemptsReached: 4,
  RetryPolicyNotSet: 5,
  InternalServerError: 6,
  CancelRequested: 7,
} as const;

export const TimeoutType = { StartToClose: 1, ScheduleToStart: 2, ScheduleToClose: 3, Heartbeat: 4 } as const;

export const WorkflowTaskFailedCause = {
  UnhandledCommand: 1,
  BadScheduleActivityAttributes: 2,
  BadRequestCancelActivityAttributes: 3,
  BadCancelTimerAttributes: 5,
  StartTimerDuplicateId: 12,
  WorkerUnhandledFailure: 14,
  ResetWorkflow: 20,
  ScheduleActivityDuplicateId: 22,
  BadSearchAttributes: 23,
} as const;

export const IdReusePolicy = {
  AllowDuplicate: 1,
  AllowDuplicateFailedOnly: 2,
  RejectDuplicate: 3,
  TerminateIfRunning: 4,
} as const;
export const IdConflictPolicy = { Fail: 1, UseExisting: 2, TerminateExisting: 3 } as const;

export const ParentClosePolicy = { Terminate: 1, Abandon: 2, RequestCancel: 3 } as const;

export const HistoryEventFilterType = { AllEvent: 1, CloseEvent: 2 } as const;

export const UpdateStage = { Unspecified: 0, Admitted: 1, Accepted: 2, Completed: 3 } as const;

export const PendingActivityState = { Scheduled: 1, Started: 2, CancelRequested: 3 } as const;

export const QueryResultType = { Answered: 1, Failed: 2 } as const;

// ---- raw history on the wire --------------------------------------------------------------------------------

/** Stored event bytes sent as a `History` field without decoding them: the hot path of every poll response. */
export class RawHistory {
  constructor(readonly events: Buffer[]) {}
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

function lengthDelimited(fieldId: number, payload: Buffer): Buffer[] {
  return [varint((fieldId << 3) | 2), varint(payload.length), payload];
}

/**
 * Encodes a response message. A RawHistory is spliced in as pre-encoded bytes, whether it is the message's own
 * `history` (a poll response) or sits one message down (the eager workflow task in a start response).
 */
export function encodeResponse(typeName: string, value: Msg): Buffer {
  const type = lookupType(typeName);
  const rest: Msg = { ...value };
  const spliced: Buffer[] = [];
  for (const [name, v] of Object.entries(value)) {
    const field = type.fields[name];
    if (!field) continue;
    if (v instanceof RawHistory) {
      const events = Buffer.concat(v.events.flatMap((e) => lengthDelimited(1, e)));
      spliced.push(...lengthDelimited(field.id, events));
    } else if (typeof v === 'object' && v !== null && (v as Msg).history instanceof RawHistory) {
      const nested = field.resolve().resolvedType?.fullName.replace(/^\./, '');
      if (!nested) throw new Error(`${typeName}.${name} is not a message field`);
      spliced.push(...lengthDelimited(field.id, encodeResponse(nested, v as Msg)));
    } else continue;
    delete rest[name];
  }
  return spliced.length === 0
    ? encodeMessage(typeName, value)
    : Buffer.concat([encodeMessage(typeName, rest), ...spliced]);
}
