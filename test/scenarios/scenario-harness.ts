/**
 * One scenario file's world: a fresh migrated PostgreSQL, the embedded time-skipping Temporal server, the Spine
 * sandbox, the local-inbox transport, the shipped pathways deployed, and a real Worker running the
 * `runPathway` workflow with `createActivities(...)`. Also the helpers the scenarios share: open a case,
 * start a pathway, complete a task with a form's valid example, wait for a state, move the clock to an
 * instant, print the timeline of what fired when, and record the workflow history as a replay fixture.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { type WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import express from 'express';
import { createActivities, createLocalInboxTransport, createSpineClient } from '../../activities';
import { createRecordActivities } from '../../activities/records';
import { type PathwayIR } from '../../bpmn';
import { deployPathway, getPathwayVersion, shippedLintOptions } from '../../engine';
import { silentLogger } from '../../log';
import { PATHWAYS, createFormValidator, readFormExamples, readPathwayXml, type PathwayId } from '../../pathways';
import { STAFF, STAFF_DUTIES, STAFF_EMAIL, addSimulationStaff, type StaffKey } from '../../simulation';
import { migrateDatabase, openStore, type Store } from '../../store';
import { createSpineSandboxApp, SCR_BASE_PATH, type SpineSandboxAppOptions } from '../../spine-sandbox';
import { createTestWorkflowEnvironment, type EmbeddedTestWorkflowEnvironment } from '../../temporal-server';
import {
  completeTaskUpdate,
  deliverMessageSignal,
  stateQuery,
  type PathwayView,
  type RunPathwayResult,
  type runPathway,
} from '../../workflows';
import { useFreshDatabase } from '../support/database';
import { installQuietRuntime } from '../support/sdk-runtime';
import { CASE_SEARCH_ATTRIBUTES } from '../../worker/case-search-attributes';

export type Vars = Record<string, unknown>;
export type PathwayHandle = WorkflowHandle<typeof runPathway>;

export const TASK_QUEUE = 'scenarios';
export const HISTORIES_DIRECTORY = path.join(__dirname, '..', 'fixtures', 'histories');
const CLINICIAN = 'staff:scenario-nurse';

// Form examples carry dates; the pathways' own dates are in the future of any real clock, so check against a later one.
const forms = createFormValidator({ now: () => new Date('2099-01-01T00:00:00Z') });

/** A form's valid example submission with overrides (undefined removes a field), checked against the form. */
export function example(formId: string, overrides: Vars = {}): Vars {
  const payload: Vars = { ...readFormExamples(formId).valid, ...overrides };
  for (const [key, value] of Object.entries(payload)) if (value === undefined) delete payload[key];
  forms.assertValid(formId, payload);
  return payload;
}

/**
 * The staff directory every scenario's setting has (seeded before its first case): the simulator's own
 * (simulation/world.ts), by what they are to the pathways. The local inbox shows each as `Name <email>`.
 */
export { STAFF, STAFF_DUTIES, STAFF_EMAIL, type StaffKey };

/** How the local inbox writes a member of staff as the recipient: `Morgan Lead <morgan.lead@...>`. */
export function staffRecipient(key: StaffKey): string {
  return `${STAFF[key]} <${STAFF_EMAIL[key]}>`;
}

/** A message the local inbox received for a case (in the order they were issued). */
export interface InboxEntry {
  /**
   * When the pathway sent it, on the workflow's (skipped) clock for a staff notice (`notify.notifyStaff` records
   * it); otherwise when the row was delivered (the database's wall clock).
   */
  at: string;
  /** `Name <address>`, as the local inbox writes it. */
  recipient: string;
  subject: string;
  body: string;
  /** The outbox template (`staff-notice`, `missed-appointment`...). */
  template: string;
  /** The staff notice's kind (`overdue`, `reminder`...), when it is one. */
  kind: string | null;
}

export interface TimelineEntry {
  at: string;
  source: string;
  what: string;
}

export interface ScenarioOptions {
  /**
   * Sandbox options for the Summary Care Record API alone (PDS answers as usual): `transientFailure` makes an
   * SCR outage without making the PDS read fail too.
   */
  readonly scr?: SpineSandboxAppOptions;
}

/** A request the Spine sandbox answered: which API and path (the path holds the NHS number). */
export interface SpineRequest {
  readonly method: string;
  readonly path: string;
  /** Path and query (the SCR API takes the NHS number as a query parameter). */
  readonly url: string;
}

export interface Scenario {
  readonly store: Store;
  /** Every request the Spine sandbox was sent, in order. */
  readonly spineRequests: readonly SpineRequest[];
  readonly env: EmbeddedTestWorkflowEnvironment;
  readonly deployed: Readonly<Record<PathwayId, { ir: PathwayIR; id: string }>>;
  /** Opens the case record (patient, setting) that the pathway's activities write to; returns its id. */
  openCase(nhsNumber: string, pathwayId: PathwayId): Promise<string>;
  start(
    pathwayId: PathwayId,
    caseId: string,
    variables: Vars,
    calledPathways?: Record<string, PathwayIR>,
  ): Promise<PathwayHandle>;
  waitFor(handle: PathwayHandle, what: string, predicate: (view: PathwayView) => boolean): Promise<PathwayView>;
  /** The child workflow a call activity of `handle` started (its id is `<parent id>/<call activity instance>`). */
  child(handle: PathwayHandle, callActivityId: string): Promise<PathwayHandle>;
  /** Completes the open user task of `elementId` through the `completeTask` update. */
  complete(handle: PathwayHandle, elementId: string, data: Vars): Promise<void>;
  /**
   * Custody from screening to leaving with the forms' valid examples: screening, observation level, the custody
   * record's `custody.leaving`, the risk review and the Person Escort Record; answers how custody ended.
   */
  throughCustody(custody: PathwayHandle, caseId: string): Promise<RunPathwayResult>;
  send(handle: PathwayHandle, name: string, correlationKey: string, variables?: Vars): Promise<void>;
  /** Waits until the pathway subscribes to `name` (messages are not buffered), then sends it. */
  sendWhenWaiting(handle: PathwayHandle, name: string, correlationKey: string, variables?: Vars): Promise<void>;
  /** Moves the server's clock to `iso` (time skipping fires every timer due before it, in order). */
  advanceTo(iso: string): Promise<void>;
  now(): Promise<string>;
  /** What the local inbox received for the case, oldest first: `{ at, recipient, subject, ... }`. */
  inbox(caseId: string): Promise<InboxEntry[]>;
  /** Prints what fired when: the pathway trails, notes, alerts, outbox and inbox rows of the case. */
  printTimeline(title: string, caseId: string, handles: PathwayHandle[]): Promise<TimelineEntry[]>;
  /** Writes the run's history to test/fixtures/histories/<name>.json for the replay test. */
  recordHistory(handle: PathwayHandle, name: string): Promise<void>;
  query<T>(sql: string, bindings?: unknown[]): Promise<T[]>;
  /**
   * Runs `sql` until `accept` holds for its rows: worklist projections are written by an activity just after
   * the workflow moves on, so a read right after a state change can come too early.
   */
  queryUntil<T>(what: string, sql: string, bindings: unknown[], accept: (rows: T[]) => boolean): Promise<T[]>;
}

/**
 * The Spine sandbox on a free port, behind a recorder; SCR requests go to a sandbox of their own when the scenario
 * gives it options (an outage of the SCR API alone).
 */
async function startSandbox(
  options: ScenarioOptions,
  requests: SpineRequest[],
): Promise<{ baseUrl: string; stop(): Promise<void> }> {
  const pds = createSpineSandboxApp({});
  const scr = options.scr ? createSpineSandboxApp(options.scr) : pds;
  const app = express();
  app.use((req, res, next) => {
    requests.push({ method: req.method, path: req.path, url: decodeURIComponent(req.originalUrl) });
    if (req.path.startsWith(SCR_BASE_PATH)) scr(req, res, next);
    else pds(req, res, next);
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(0, '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve(listening)));
  });
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** Registers the file's hooks and returns the world once `beforeAll` has run. */
export function useScenario(prefix: string, options: ScenarioOptions = {}): Scenario {
  let store: Store;
  let env: EmbeddedTestWorkflowEnvironment;
  let sandbox: { baseUrl: string; stop(): Promise<void> };
  const spineRequests: SpineRequest[] = [];
  let worker: Worker;
  let running: Promise<void>;
  // Declared before useFreshDatabase: jest runs afterAll hooks in declaration order, and the server, worker
  // and store must stop before the database is dropped under them.
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
    await sandbox?.stop();
    await store?.close();
  }, 60_000);
  const db = useFreshDatabase(prefix);
  const deployed = {} as Record<PathwayId, { ir: PathwayIR; id: string }>;
  let settingOdsCode = '';

  beforeAll(async () => {
    installQuietRuntime();
    await migrateDatabase(db.url, silentLogger);
    store = await openStore(db.url);
    sandbox = await startSandbox(options, spineRequests);
    env = await createTestWorkflowEnvironment({ databaseUrl: db.url, searchAttributes: CASE_SEARCH_ATTRIBUTES });
    for (const { processId: pathwayId } of PATHWAYS) {
      const version = await deployPathway(store, readPathwayXml(pathwayId), {
        ...shippedLintOptions(),
        deployedBy: 'scenario-tests',
      });
      // What runs is what the store holds: the IR read back from the deployed version.
      const stored = await getPathwayVersion(store, pathwayId, version.version);
      deployed[pathwayId] = { ir: stored.ir, id: `${stored.pathwayId}@${stored.version}` };
    }
    settingOdsCode = `S${randomUUID().slice(0, 6).toUpperCase()}`;
    await store.orm.em
      .getConnection()
      .getKnex()('settings')
      .insert({ id: randomUUID(), ods_code: settingOdsCode, name: 'HMP Scenario', kind: 'prison', prison_type: 'HMP' });
    await addSimulationStaff(store, settingOdsCode);
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowsPath: require.resolve('../../workflows'),
      activities: createActivities({
        store,
        spine: createSpineClient({ baseUrl: sandbox.baseUrl, retry: { maxAttempts: 1 } }),
        transport: createLocalInboxTransport({ store, logger: silentLogger }),
        logger: silentLogger,
      }),
    });
    running = worker.run();
  }, 180_000);

  const knex = () => store.orm.em.getConnection().getKnex();

  async function query<T>(sql: string, bindings: unknown[] = []): Promise<T[]> {
    const result = await knex().raw<{ rows: T[] }>(sql, bindings as never);
    return result.rows;
  }

  async function waitFor(handle: PathwayHandle, what: string, predicate: (view: PathwayView) => boolean) {
    const deadline = Date.now() + 30_000;
    let view: PathwayView | undefined;
    for (;;) {
      view = await handle.query(stateQuery);
      if (predicate(view)) return view;
      if (view.status !== 'active' || Date.now() > deadline) {
        throw new Error(
          `${handle.workflowId}: never ${what}; status ${view.status}, open ${view.activeElements
            .map((e) => e.elementId)
            .join(', ')}${view.error ? `, error ${JSON.stringify(view.error)}` : ''}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  return {
    get store() {
      return store;
    },
    spineRequests,
    get env() {
      return env;
    },
    get deployed() {
      return deployed;
    },

    async openCase(nhsNumber, pathwayId) {
      const caseId = randomUUID();
      await createRecordActivities({ store, logger: silentLogger }).openCase({
        caseId,
        workflowId: `case-${caseId}`,
        nhsNumber,
        settingOdsCode,
        pathwayId,
        pathwayVersion: 1,
        actor: { id: CLINICIAN, role: 'clinician', reason: 'scenario' },
      });
      return caseId;
    },

    start(pathwayId, caseId, variables, calledPathways) {
      return env.client.workflow.start('runPathway', {
        taskQueue: TASK_QUEUE,
        workflowId: `case-${caseId}`,
        args: [
          {
            ir: deployed[pathwayId].ir,
            caseId,
            variables: { caseId, ...variables },
            pathwayVersionId: deployed[pathwayId].id,
            ...(calledPathways ? { calledPathways } : {}),
          },
        ],
      }) as Promise<PathwayHandle>;
    },

    waitFor,

    async throughCustody(custody, caseId) {
      await this.complete(custody, 'HealthScreening', example('custody-health-screening'));
      await this.complete(custody, 'SetObservationLevel', example('custody-observation-level'));
      await this.sendWhenWaiting(custody, 'custody.leaving', caseId);
      await this.complete(custody, 'ReviewRiskBeforeLeaving', example('custody-pre-departure-review'));
      await this.complete(custody, 'CompleteHealthHandover', example('custody-handover'));
      return custody.result();
    },

    async child(handle, callActivityId) {
      const view = await waitFor(handle, `called ${callActivityId}`, (v) =>
        v.activeElements.some((e) => e.elementId === callActivityId),
      );
      const instance = view.activeElements.find((e) => e.elementId === callActivityId);
      const child = env.client.workflow.getHandle<typeof runPathway>(
        `${handle.workflowId}/${instance?.instanceId ?? ''}`,
      );
      // The call activity is entered before its child starts (its IR is resolved by an activity first).
      for (let attempt = 0; ; attempt += 1) {
        try {
          await child.describe();
          return child;
        } catch (error) {
          if (attempt > 100) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    },

    async complete(handle, elementId, data) {
      const view = await waitFor(handle, `opened ${elementId}`, (v) =>
        v.openTasks.some((t) => t.elementId === elementId),
      );
      const task = view.openTasks.find((t) => t.elementId === elementId);
      await handle.executeUpdate(completeTaskUpdate, {
        args: [{ taskId: task?.taskId ?? '', data, completedBy: CLINICIAN }],
      });
    },

    async send(handle, name, correlationKey, variables) {
      await handle.signal(deliverMessageSignal, { name, correlationKey, ...(variables ? { variables } : {}) });
    },

    async sendWhenWaiting(handle, name, correlationKey, variables) {
      await waitFor(handle, `waiting for ${name}`, (v) =>
        v.messageSubscriptions.some((m) => m.messageName === name && m.correlationKey === correlationKey),
      );
      await handle.signal(deliverMessageSignal, { name, correlationKey, ...(variables ? { variables } : {}) });
    },

    async advanceTo(iso) {
      const wait = Date.parse(iso) - (await env.currentTimeMs());
      if (wait > 0) await env.sleep(wait);
    },

    async now() {
      return new Date(await env.currentTimeMs()).toISOString();
    },

    async inbox(caseId) {
      const rows = await query<{
        at: Date | string;
        recipient: string;
        subject: string;
        body: string;
        template: string;
        kind: string | null;
      }>(
        `select coalesce((o.personalisation->>'issuedAt')::timestamptz, i.delivered_at) as at, i.recipient, i.subject,
                i.body, o.template, case when o.staff_id is not null then o.personalisation->>'kind' end as kind
           from inbox_messages i join notification_outbox o on o.id = i.notification_id
          where o.case_id = ?
          order by 1, i.recipient`,
        [caseId],
      );
      return rows.map((row) => ({ ...row, at: new Date(row.at).toISOString() }));
    },

    async printTimeline(title, caseId, handles) {
      const entries: TimelineEntry[] = [];
      for (const handle of handles) {
        const view = await handle.query(stateQuery);
        for (const step of view.trail) {
          if (step.kind === 'sequenceFlow' || step.kind.endsWith('Gateway')) continue;
          entries.push({ at: step.enteredAt, source: view.processId, what: `${step.kind} ${step.elementId} entered` });
          if (step.leftAt && step.outcome && step.kind !== 'serviceTask') {
            entries.push({ at: step.leftAt, source: view.processId, what: `${step.elementId} ${step.outcome}` });
          }
        }
      }
      const { rows } = await knex().raw<{ rows: { at: Date | string; source: string; what: string }[] }>(
        `select n.written_at as at, 'note' as source, n.body as what from notes n where n.case_id = :caseId
         union all
         select a.raised_at, 'alert raised', a.code from alerts a where a.case_id = :caseId
         union all
         select a.resolved_at, 'alert resolved', a.code from alerts a where a.case_id = :caseId and a.resolved_at is not null
         union all
         select f.raised_at, 'flag raised', f.code from patient_flags f where f.raised_in_case_id = :caseId
         union all
         select f.resolved_at, 'flag resolved', f.code from patient_flags f
          where f.raised_in_case_id = :caseId and f.resolved_at is not null
         union all
         select o.created_at, 'outbox', o.template || ' -> ' || coalesce(c.name, s.display_name) || ' (' || o.status || ')'
           from notification_outbox o left join contacts c on c.id = o.contact_id left join staff s on s.id = o.staff_id
          where o.case_id = :caseId
         union all
         select coalesce((o.personalisation->>'issuedAt')::timestamptz, i.delivered_at), 'inbox',
                i.recipient || ': ' || i.subject
           from inbox_messages i join notification_outbox o on o.id = i.notification_id where o.case_id = :caseId`,
        { caseId },
      );
      for (const row of rows) entries.push({ at: new Date(row.at).toISOString(), source: row.source, what: row.what });
      entries.sort((a, b) => a.at.localeCompare(b.at));
      // The database rows carry wall-clock times (now()), the trail carries the server's skipped clock: both shown.
      console.log(`${title}\n${entries.map((e) => `${e.at}  ${e.source.padEnd(18)} ${e.what}`).join('\n')}`);
      return entries;
    },

    async recordHistory(handle, name) {
      // Fixtures are committed: rewrite them only when asked (THROUGHCARE_RECORD_HISTORIES=1 npx jest test/scenarios),
      // so an ordinary run leaves the tree clean and the replay test reads what was reviewed.
      if (process.env.THROUGHCARE_RECORD_HISTORIES !== '1') return;
      const history = await handle.fetchHistory();
      fs.mkdirSync(HISTORIES_DIRECTORY, { recursive: true });
      // protobufjs messages serialise through toJSON: int64 as strings, enums by name, bytes as base64. The
      // replay test reads them back with History.fromObject, under the recorded workflow id (child workflow
      // ids derive from it, so replaying under another id would not match).
      const fixture = { workflowId: handle.workflowId, ...(JSON.parse(JSON.stringify(history)) as object) };
      fs.writeFileSync(path.join(HISTORIES_DIRECTORY, `${name}.json`), `${JSON.stringify(fixture, null, 1)}\n`);
    },

    query,

    async queryUntil<T>(what: string, sql: string, bindings: unknown[], accept: (rows: T[]) => boolean) {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const rows = await query<T>(sql, bindings);
        if (accept(rows)) return rows;
        if (Date.now() > deadline) throw new Error(`never ${what}; last read ${JSON.stringify(rows)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
}
