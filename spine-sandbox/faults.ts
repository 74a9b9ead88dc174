/**
 * The fault registry: failures set on purpose for chosen NHS numbers (or `*`, every number), so that callers can
 * exercise what happens to a case when PDS or SCR answers badly. Owns the fault kinds, which API and endpoint each
 * acts on, and their counting (per number, or per X-Request-ID) and expiry; what each answer looks like on the wire
 * is fault-injection.ts's, and checking a fault someone sends is fault-validation.ts's.
 */

/** Every fault kind, with the APIs it may be scoped to and what it does to a request it acts on. */
export const FAULT_KINDS = {
  /** PDS: 404 RESOURCE_NOT_FOUND. */
  'not-found': { apis: ['pds'], role: 'failure', acts: ['pds-read', 'pds-related'] },
  /** PDS: 404 INVALIDATED_RESOURCE. */
  invalidated: { apis: ['pds'], role: 'failure', acts: ['pds-read', 'pds-related'] },
  /** PDS: 200 with the superseding record (its `id` is the new number). */
  superseded: { apis: ['pds'], role: 'effect', acts: ['pds-read', 'pds-related'] },
  /** PDS: the record marked `R`, so location-sensitive fields are withheld and related people are empty. */
  restricted: { apis: ['pds'], role: 'effect', acts: ['pds-read', 'pds-related'] },
  /** PDS: the record with `deceasedDateTime` and a formal death notification. */
  deceased: { apis: ['pds'], role: 'effect', acts: ['pds-read', 'pds-related'] },
  /** SCR: permission `No` on the pointer, and Spine's access-control refusal for the content. */
  'opted-out': { apis: ['scr'], role: 'effect', acts: ['scr-pointer', 'scr-bundle'] },
  /** SCR: permission `Ask`, which the API answers when Spine holds no view permission. */
  'permission-not-recorded': { apis: ['scr'], role: 'effect', acts: ['scr-pointer'] },
  /** SCR: the pointer still names the SCR, but the Bundle endpoint holds no current document for it (empty). */
  'no-current-record': { apis: ['scr'], role: 'effect', acts: ['scr-bundle'] },
  /** SCR: the pointer names an SCR id that is no longer the latest, so its Bundle is empty. */
  'stale-document': { apis: ['scr'], role: 'effect', acts: ['scr-pointer'] },
  /** SCR: 403, PSIS-30418 (Spine's access control refuses the record), on the pointer and the content. */
  'access-denied': { apis: ['scr'], role: 'failure', acts: ['scr-pointer', 'scr-bundle'] },
  /** 429 with Retry-After. */
  'rate-limited': { apis: ['pds', 'scr'], role: 'failure', acts: 'every' },
  /** 503, with Retry-After when asked. */
  unavailable: { apis: ['pds', 'scr'], role: 'failure', acts: 'every' },
  /** A delay before the answer (which other faults may still shape). */
  slow: { apis: ['pds', 'scr'], role: 'delay', acts: 'every' },
  /** 400 INVALID_VALUE (PDS) or 400 `value` (SCR): what a request the client should not have sent gets. */
  'malformed-request': { apis: ['pds', 'scr'], role: 'failure', acts: 'every' },
} as const satisfies Record<string, KindDefinition>;

interface KindDefinition {
  apis: readonly Api[];
  /** delay: wait, then carry on; failure: answers instead of the API; effect: changes what the API answers. */
  role: 'delay' | 'failure' | 'effect';
  acts: readonly Endpoint[] | 'every';
}

export type FaultKind = keyof typeof FAULT_KINDS;
export type Api = 'pds' | 'scr';
export type FaultApi = Api | 'both';
/** What a request asks for; `other` is any other path under the API (its 404). */
export type Endpoint = 'pds-read' | 'pds-related' | 'pds-search' | 'scr-pointer' | 'scr-bundle' | 'other';

export const WILDCARD = '*';

export interface FaultLimits {
  /** Which API the fault answers for. Defaults to the kind's only API, or `both` for the either-API kinds. */
  api?: FaultApi;
  /** Acts on this many requests, then is spent. Unlimited when absent (`stale-document`: 1). */
  times?: number;
  /** Acts for this many seconds after it was set, then expires. */
  forSeconds?: number;
  /**
   * What `times` counts: requests for the number (the default, also per number under `*`), or attempts of each
   * X-Request-ID for the number, so that every new request fails `times` times and its retries then succeed.
   */
  per?: 'number' | 'request-id';
}

export type SandboxFault = FaultLimits &
  (
    | { kind: 'not-found' | 'invalidated' | 'restricted' }
    | {
        kind: 'superseded';
        /** The number that replaced this one: a number the sandbox has a record for, unless `record` is given. */
        newNhsNumber: string;
        /** The superseding Patient to answer with (its `id` is `newNhsNumber`). */
        record?: SupersedingRecord;
      }
    | { kind: 'deceased'; /** FHIR dateTime; defaults to when the fault was set. */ deceasedDateTime?: string }
    | { kind: 'opted-out' | 'permission-not-recorded' | 'no-current-record' | 'stale-document' | 'access-denied' }
    | { kind: 'rate-limited'; /** Defaults to 1. */ retryAfterSeconds?: number }
    | { kind: 'unavailable'; /** Sent as Retry-After only when given. */ retryAfterSeconds?: number }
    | { kind: 'slow'; delayMs: number }
    | {
        kind: 'malformed-request';
        /** Replaces the default diagnostics (PDS) or details text (SCR). */ diagnostics?: string;
      }
  );

export interface SupersedingRecord {
  resourceType: 'Patient';
  id: string;
  meta?: { versionId?: string; security?: Array<{ system?: string; code: string; display?: string }> };
  [field: string]: unknown;
}

/** A fault in a list (the `faults` option, `--faults FILE`): the number it is set for, then the fault. */
export type SandboxFaultEntry = SandboxFault & { nhsNumber: string };

/** A fault as the registry holds it: defaults filled in, when it was set, whether it still acts. */
export interface ListedFault {
  nhsNumber: string;
  fault: SandboxFault;
  setAt: string;
  expiresAt?: string;
  /** Requests it has acted on so far (over every number, for `*`). */
  used: number;
  /** False once expired, or spent for its number (`*` and per-request-id faults are spent per number or id). */
  active: boolean;
}

export interface FaultRequest {
  api: Api;
  endpoint: Endpoint;
  /** The number the request names; undefined for search and requests that name none. */
  nhsNumber?: string;
  requestId: string;
}

export interface AppliedFaults {
  delayMs: number;
  /** The fault that answers instead of the API, if any. */
  failure?: SandboxFault;
  /** Faults that shape the API's answer. */
  effects: SandboxFault[];
}

export interface FaultRegistry {
  /** Replaces the faults of a number (or `*`) with these, in order; faults must already be valid. */
  set(nhsNumber: string, faults: readonly SandboxFault[]): void;
  clear(nhsNumber?: string): void;
  list(nhsNumber?: string): ListedFault[];
  /** The faults that act on this request, counted as used. */
  take(request: FaultRequest): AppliedFaults;
  /** The PDS record faults now active for a number, uncounted: what a search result shows of them. */
  peekRecord(nhsNumber: string): SandboxFault[];
}

interface Entry {
  fault: SandboxFault;
  setAt: number;
  expiresAt?: number;
  /** Uses per counting key (the number, or number and request id). */
  uses: Map<string, number>;
  used: number;
}

export function apisOf(fault: SandboxFault): readonly Api[] {
  const api = fault.api ?? defaultApiOf(fault.kind);
  return api === 'both' ? ['pds', 'scr'] : [api];
}

export function defaultApiOf(kind: FaultKind): FaultApi {
  const apis: readonly Api[] = FAULT_KINDS[kind].apis;
  return apis.length === 1 ? (apis[0] as Api) : 'both';
}

function actsOn(fault: SandboxFault, api: Api, endpoint: Endpoint): boolean {
  const acts: readonly Endpoint[] | 'every' = FAULT_KINDS[fault.kind].acts;
  return apisOf(fault).includes(api) && (acts === 'every' || acts.includes(endpoint));
}

function countingKey(fault: SandboxFault, nhsNumber: string | undefined, requestId: string): string {
  return fault.per === 'request-id' ? `${nhsNumber ?? ''} ${requestId}` : (nhsNumber ?? '');
}

const PDS_RECORD_KINDS: ReadonlySet<FaultKind> = new Set([
  'not-found',
  'invalidated',
  'superseded',
  'restricted',
  'deceased',
]);

export function createFaultRegistry(now: () => number = Date.now): FaultRegistry {
  const entries = new Map<string, Entry[]>();

  const isExpired = (entry: Entry) => entry.expiresAt !== undefined && now() >= entry.expiresAt;
  const isSpent = (entry: Entry, key: string) =>
    entry.fault.times !== undefined && (entry.uses.get(key) ?? 0) >= entry.fault.times;

  /** The number's own faults first, then those for every number. */
  function candidates(nhsNumber: string | undefined): Entry[] {
    const own = nhsNumber === undefined || nhsNumber === WILDCARD ? [] : (entries.get(nhsNumber) ?? []);
    return [...own, ...(entries.get(WILDCARD) ?? [])];
  }

  function use(entry: Entry, key: string): void {
    entry.uses.set(key, (entry.uses.get(key) ?? 0) + 1);
    entry.used += 1;
  }

  return {
    set(nhsNumber, faults) {
      const setAt = now();
      entries.set(
        nhsNumber,
        faults.map((fault) => ({
          fault,
          setAt,
          expiresAt: fault.forSeconds === undefined ? undefined : setAt + fault.forSeconds * 1000,
          uses: new Map(),
          used: 0,
        })),
      );
    },

    clear(nhsNumber) {
      if (nhsNumber === undefined) entries.clear();
      else entries.delete(nhsNumber);
    },

    list(nhsNumber) {
      const listed: ListedFault[] = [];
      for (const [number, list] of entries) {
        if (nhsNumber !== undefined && number !== nhsNumber) continue;
        for (const entry of list) {
          const spent = number !== WILDCARD && entry.fault.per !== 'request-id' && isSpent(entry, number);
          listed.push({
            nhsNumber: number,
            fault: entry.fault,
            setAt: new Date(entry.setAt).toISOString(),
            ...(entry.expiresAt === undefined ? {} : { expiresAt: new Date(entry.expiresAt).toISOString() }),
            used: entry.used,
            active: !isExpired(entry) && !spent,
          });
        }
      }
      return listed;
    },

    take({ api, endpoint, nhsNumber, requestId }) {
      const applied: AppliedFaults = { delayMs: 0, effects: [] };
      const acting = candidates(nhsNumber).filter(
        (entry) =>
          actsOn(entry.fault, api, endpoint) &&
          !isExpired(entry) &&
          !isSpent(entry, countingKey(entry.fault, nhsNumber, requestId)),
      );
      const keyOf = (entry: Entry) => countingKey(entry.fault, nhsNumber, requestId);
      // Delays first, then the first failure answers; only a request that reaches the API meets the effects.
      for (const entry of acting) {
        if (entry.fault.kind !== 'slow') continue;
        use(entry, keyOf(entry));
        applied.delayMs += entry.fault.delayMs;
      }
      const failure = acting.find((entry) => FAULT_KINDS[entry.fault.kind].role === 'failure');
      if (failure) {
        use(failure, keyOf(failure));
        applied.failure = failure.fault;
        return applied;
      }
      for (const entry of acting) {
        if (FAULT_KINDS[entry.fault.kind].role !== 'effect') continue;
        use(entry, keyOf(entry));
        applied.effects.push(entry.fault);
      }
      return applied;
    },

    peekRecord(nhsNumber) {
      return candidates(nhsNumber)
        .filter(
          (entry) =>
            PDS_RECORD_KINDS.has(entry.fault.kind) &&
            !isExpired(entry) &&
            (entry.fault.per === 'request-id' || !isSpent(entry, nhsNumber)),
        )
        .map((entry) => entry.fault);
    },
  };
}
