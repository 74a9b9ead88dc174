/**
 * Every shipped top-level pathway with every Spine call failing in each way the sandbox can fail (spine-sandbox
 * README, "Faults"), on the time-skipping server with the real activities and the real sandbox over HTTP. No case
 * may end as failed, and every failure must be visible to a person: an active person flag, an open worklist task
 * (trace, duplicate review, resolve incident), an open incident, or a recorded SCR outcome other than `available`.
 * Faults that are transient by nature (slow within the client timeout, a rate limit that clears, a stale SCR pointer
 * the client re-reads) must instead leave the case progressing normally. Journey is left out: it only calls the
 * three pathways below, so its matrix would be theirs.
 */
import fs from 'node:fs';
import path from 'node:path';
import type * as SpineSandboxModule from '../../spine-sandbox';
import type { SandboxFault, SpineSandboxApp } from '../../spine-sandbox';
import { stateQuery, type PathwayView } from '../../workflows';
import { example, useScenario, type PathwayHandle } from './scenario-harness';

// The harness builds its sandbox app internally; capture it so that faults can be set on the running sandbox.
jest.mock('../../spine-sandbox', () => {
  const actual = jest.requireActual<typeof SpineSandboxModule>('../../spine-sandbox');
  return {
    ...actual,
    createSpineSandboxApp: (options?: Parameters<typeof actual.createSpineSandboxApp>[0]) => {
      const app = actual.createSpineSandboxApp(options);
      ((globalThis as Record<string, unknown>).__matrixSandboxes as unknown[]).push(app);
      return app;
    },
  };
});
(globalThis as Record<string, unknown>).__matrixSandboxes = [];
const sandbox = (): SpineSandboxApp =>
  ((globalThis as Record<string, unknown>).__matrixSandboxes as SpineSandboxApp[])[0] as SpineSandboxApp;

const scenario = useScenario('scenario_spine_matrix');

type TopLevel = 'custody-reception' | 'sms-prison' | 'release-support';
const PATHWAYS_UNDER_TEST: TopLevel[] = ['custody-reception', 'sms-prison', 'release-support'];

/** A fresh valid NHS number (Modulus 11) for each call, from a range the sandbox has no record for. */
let serial = 100;
function freshNhsNumber(): string {
  for (;;) {
    serial += 1;
    const stem = `943${String(serial).padStart(6, '0')}`;
    const sum = [...stem].reduce((total, digit, i) => total + Number(digit) * (10 - i), 0);
    const check = 11 - (sum % 11);
    if (check === 10) continue;
    return `${stem}${check === 11 ? 0 : check}`;
  }
}

/** A PDS record for a new number, cloned from the sandbox's 9000000033 (for `superseded`). */
function recordFor(nhsNumber: string): Record<string, unknown> {
  const file = path.join(__dirname, '..', '..', 'spine-sandbox', 'data', 'patients', '9000000033.json');
  return JSON.parse(fs.readFileSync(file, 'utf8').replaceAll('9000000033', nhsNumber)) as Record<string, unknown>;
}

interface FaultCase {
  readonly kind: string;
  /** The NHS number the case is opened with, and the fault(s) set on it. */
  readonly setUp: () => { nhsNumber: string; fault: SandboxFault | SandboxFault[]; newNhsNumber?: string };
  /** Transient by nature: the case must progress normally instead of showing a failure. */
  readonly transient?: boolean;
  /** Only the SCR API: pathways that fetch no SCR must progress normally. */
  readonly scrOnly?: boolean;
  /**
   * Not a failure for the case: the product resolves it as designed, and the test says how (superseded: the
   * record is re-keyed to the new number; permission-not-recorded: the person's permission was asked at reception).
   */
  readonly handled?: string;
  /** Run on these pathways only (the SCR-scoped variants: only sms-prison fetches an SCR). */
  readonly only?: readonly TopLevel[];
}

// Numbers: the sandbox needs a PDS record for restricted/deceased (9000000033 has one and no SCR), an SCR for the
// SCR kinds (9000000068), and a record for the superseding number (given as `record`). Everything else: fresh numbers,
// except the either-API kinds, which need a PDS record and an SCR to show what a failure changes (9000000068).
const FAULTS: FaultCase[] = [
  { kind: 'not-found', setUp: () => ({ nhsNumber: freshNhsNumber(), fault: { kind: 'not-found' } }) },
  {
    kind: 'invalidated',
    setUp: () => ({ nhsNumber: freshNhsNumber(), fault: { kind: 'invalidated' } }),
  },
  {
    kind: 'superseded',
    handled: 're-keys the case to the superseding number',
    setUp: () => {
      const newNhsNumber = freshNhsNumber();
      return {
        newNhsNumber,
        nhsNumber: freshNhsNumber(),
        fault: { kind: 'superseded', newNhsNumber, record: recordFor(newNhsNumber) } as unknown as SandboxFault,
      };
    },
  },
  { kind: 'restricted', setUp: () => ({ nhsNumber: '9000000033', fault: { kind: 'restricted' } }) },
  { kind: 'deceased', setUp: () => ({ nhsNumber: '9000000033', fault: { kind: 'deceased' } }) },
  {
    kind: 'opted-out',
    scrOnly: true,
    setUp: () => ({ nhsNumber: '9000000068', fault: { kind: 'opted-out' } }),
  },
  {
    kind: 'permission-not-recorded',
    scrOnly: true,
    handled: 'reads the SCR with the permission asked at reception',
    setUp: () => ({ nhsNumber: '9000000068', fault: { kind: 'permission-not-recorded' } }),
  },
  {
    kind: 'no-current-record',
    scrOnly: true,
    setUp: () => ({ nhsNumber: '9000000068', fault: { kind: 'no-current-record' } }),
  },
  {
    kind: 'stale-document',
    scrOnly: true,
    transient: true,
    setUp: () => ({ nhsNumber: '9000000068', fault: { kind: 'stale-document' } }),
  },
  {
    kind: 'access-denied',
    scrOnly: true,
    setUp: () => ({ nhsNumber: '9000000068', fault: { kind: 'access-denied' } }),
  },
  {
    kind: 'rate-limited',
    transient: true,
    setUp: () => ({
      nhsNumber: '9000000068',
      fault: { kind: 'rate-limited', times: 2, retryAfterSeconds: 1 },
    }),
  },
  {
    kind: 'slow',
    transient: true,
    setUp: () => ({ nhsNumber: '9000000068', fault: { kind: 'slow', delayMs: 300 } }),
  },
  {
    kind: 'malformed-request',
    setUp: () => ({ nhsNumber: '9000000068', fault: { kind: 'malformed-request' } }),
  },
  { kind: 'unavailable', setUp: () => ({ nhsNumber: '9000000068', fault: { kind: 'unavailable' } }) },
  // The either-API kinds above stop at the PDS look-up (or are spent there): the same kinds on the SCR API alone.
  {
    kind: 'rate-limited (scr)',
    transient: true,
    only: ['sms-prison'],
    setUp: () => ({
      nhsNumber: '9000000068',
      fault: { kind: 'rate-limited', api: 'scr', times: 2, retryAfterSeconds: 1 },
    }),
  },
  {
    kind: 'slow (scr)',
    transient: true,
    only: ['sms-prison'],
    setUp: () => ({ nhsNumber: '9000000068', fault: { kind: 'slow', api: 'scr', delayMs: 300 } }),
  },
  {
    kind: 'malformed-request (scr)',
    only: ['sms-prison'],
    setUp: () => ({ nhsNumber: '9000000068', fault: { kind: 'malformed-request', api: 'scr' } }),
  },
  {
    kind: 'unavailable (scr)',
    only: ['sms-prison'],
    setUp: () => ({ nhsNumber: '9000000068', fault: { kind: 'unavailable', api: 'scr' } }),
  },
];

function startVariables(pathwayId: TopLevel, nhsNumber: string): Record<string, unknown> {
  if (pathwayId === 'custody-reception') return { ...example('custody-reception-start'), nhsNumber };
  return { nhsNumber };
}

const leftOrStuck = (view: PathwayView, elementId: string): boolean =>
  view.trail.some((s) => s.elementId === elementId && s.leftAt !== undefined && s.leftAt !== null) ||
  view.incidents.some((i) => i.elementId === elementId && !i.resolution);

/** Polls the state, moving the server clock an hour at a time so that retries with long back-off happen. */
async function drive(handle: PathwayHandle, what: string, done: (v: PathwayView) => boolean): Promise<PathwayView> {
  for (let round = 0; round < 400; round += 1) {
    const view = await handle.query(stateQuery);
    if (done(view) || view.status !== 'active') return view;
    if (round % 10 === 9) await scenario.env.sleep(60 * 60_000);
    else await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${handle.workflowId}: never ${what}`);
}

interface Seen {
  status: string;
  workflowStatus: string;
  flags: string[];
  tasks: string[];
  incidents: string[];
  summaryStatus?: string;
  identity?: string;
  nhsNumber?: string;
  supersededNhsNumber?: string | null;
  scrCalled: boolean;
}

async function look(caseId: string, handle: PathwayHandle, spineFrom: number): Promise<Seen> {
  const view = await handle.query(stateQuery);
  const description = await handle.describe();
  const flags = await scenario.query<{ code: string }>(
    `select f.code from patient_flags f join cases c on c.patient_id = f.patient_id
      where c.id = ? and f.status = 'active' order by f.code`,
    [caseId],
  );
  const tasks = await scenario.query<{ element_id: string; form_id: string | null }>(
    `select element_id, form_id from worklist_tasks where case_id = ? and status = 'open' order by element_id`,
    [caseId],
  );
  const incidents = await scenario.query<{ element_id: string; error_code: string }>(
    `select i.element_id, i.error_code from incidents i
      where i.case_id = ? and not exists (select 1 from incident_resolutions r where r.incident_id = i.id)`,
    [caseId],
  );
  const patient = view.variables['patient'] as
    { identity?: string; nhsNumber?: string; supersededNhsNumber?: string | null } | undefined;
  return {
    status: view.status,
    workflowStatus: description.status.name,
    flags: flags.map((f) => f.code),
    tasks: tasks.map((t) => (t.form_id === 'incident-resolution' ? `Resolve(${t.element_id})` : t.element_id)),
    incidents: incidents.map((i) => `${i.element_id}:${i.error_code}`),
    summaryStatus: view.variables['summaryStatus'] as string | undefined,
    identity: patient?.identity,
    nhsNumber: patient?.nhsNumber,
    supersededNhsNumber: patient?.supersededNhsNumber,
    scrCalled: scenario.spineRequests.slice(spineFrom).some((r) => r.path.includes('summary-care-record')),
  };
}

const ALERTING_TASKS = /^(TraceByDemographics|ReviewPossibleDuplicate|Resolve\()/;
function visible(seen: Seen): boolean {
  return (
    seen.flags.length > 0 ||
    seen.tasks.some((t) => ALERTING_TASKS.test(t)) ||
    seen.incidents.length > 0 ||
    (seen.summaryStatus !== undefined && seen.summaryStatus !== 'available')
  );
}

const matrix: Record<string, Record<string, string>> = {};
function record(pathwayId: string, kind: string, seen: Seen): void {
  const parts = [
    `id:${seen.identity ?? '-'}${seen.supersededNhsNumber ? ` (re-keyed from ${seen.supersededNhsNumber})` : ''}`,
    seen.summaryStatus !== undefined ? `scr:${seen.summaryStatus}` : undefined,
    seen.flags.length ? `flags:${seen.flags.join('+')}` : undefined,
    seen.tasks.length ? `tasks:${seen.tasks.join('+')}` : undefined,
    seen.incidents.length ? `incidents:${seen.incidents.join('+')}` : undefined,
    `${seen.workflowStatus}/${seen.status}`,
  ].filter(Boolean);
  (matrix[pathwayId] ??= {})[kind] = parts.join(' ');
}

afterAll(() => {
  const lines = ['Spine failure matrix (pathway x fault -> outcome)'];
  for (const pathwayId of PATHWAYS_UNDER_TEST) {
    lines.push(`${pathwayId}:`);
    for (const { kind, only } of FAULTS) {
      if (only && !only.includes(pathwayId)) continue;
      lines.push(`  ${kind.padEnd(24)} ${matrix[pathwayId]?.[kind] ?? '(not run)'}`);
    }
  }
  console.log(lines.join('\n'));
});

const CASES = FAULTS.flatMap((fault) =>
  (fault.only ?? PATHWAYS_UNDER_TEST).map((pathwayId) => {
    const notCalled = fault.scrOnly && pathwayId !== 'sms-prison';
    const normal = fault.transient || notCalled || fault.handled !== undefined;
    const expectation = notCalled
      ? 'fetches no SCR, so progresses normally'
      : fault.handled
        ? `${fault.handled}, and progresses normally`
        : fault.transient
          ? 'is transient: progresses normally'
          : 'shows the failure to a person';
    return { pathwayId, fault, normal: Boolean(normal), expectation };
  }),
);

describe('every shipped pathway with every Spine call failing in each way the sandbox can fail', () => {
  test.each(CASES)(
    '$pathwayId with $fault.kind: not failed, and $expectation',
    async ({ pathwayId, fault, normal }) => {
      const { nhsNumber, fault: faults, newNhsNumber } = fault.setUp();
      sandbox().setFault(nhsNumber, faults);
      const spineFrom = scenario.spineRequests.length;
      const caseId = await scenario.openCase(nhsNumber, pathwayId);
      const handle = await scenario.start(pathwayId, caseId, startVariables(pathwayId, nhsNumber));
      try {
        let view = await drive(handle, 'looked the person up', (v) => leftOrStuck(v, 'LookUpPerson'));
        if (pathwayId === 'sms-prison') {
          view = await drive(
            handle,
            'opened reception screening',
            (v) =>
              v.openTasks.some((t) => t.elementId === 'ReceptionScreening') || v.incidents.some((i) => !i.resolution),
          );
          if (view.openTasks.some((t) => t.elementId === 'ReceptionScreening')) {
            await scenario.complete(
              handle,
              'ReceptionScreening',
              example('prison-reception-sms', { summaryCareRecordConsent: 'given' }),
            );
            view = await drive(
              handle,
              'recorded the SCR outcome',
              (v) => v.variables['summaryStatus'] !== undefined || leftOrStuck(v, 'FetchSummaryCareRecord'),
            );
          }
        }
        // worklist, flag and incident rows are written by activities just after the state moves on
        let seen = await look(caseId, handle, spineFrom);
        for (let i = 0; i < 40 && (normal ? false : !visible(seen)); i += 1) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          seen = await look(caseId, handle, spineFrom);
        }
        record(pathwayId, fault.kind, seen);

        // (1) the case is not failed
        expect(seen.workflowStatus).toBe('RUNNING');
        expect(seen.status).toBe('active');
        // (2) the failure is visible, or (transient / not called) nothing went wrong
        if (normal) {
          expect(seen.identity).toBe('verified');
          expect(seen.incidents).toEqual([]);
          expect(seen.tasks.filter((t) => ALERTING_TASKS.test(t))).toEqual([]);
          if (newNhsNumber) {
            expect(seen.nhsNumber).toBe(newNhsNumber);
            expect(seen.supersededNhsNumber).toBe(nhsNumber);
            // the superseding record (cloned from 9000000033) has no SCR
            if (pathwayId === 'sms-prison') expect(seen.summaryStatus).toBe('none');
          } else if (pathwayId === 'sms-prison') {
            expect(seen.summaryStatus).toBe('available');
            expect(seen.scrCalled).toBe(true);
          }
        } else {
          expect(visible(seen)).toBe(true);
        }
      } finally {
        sandbox().clearFaults(nhsNumber);
        await handle.terminate('matrix case over').catch(() => undefined);
      }
    },
    120_000,
  );
});
