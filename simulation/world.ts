/**
 * The scratch world simulations run in, set up once and kept for the runs that follow: its own PostgreSQL
 * database (never the record store's), migrated; the shipped pathways deployed there (for call activities); a
 * demo prison with staff for every duty the pathways notify; the Spine sandbox in this process; the activities
 * with the local inbox as their only way out; and the workflow code, bundled once.
 */
import { bundleWorkflowCode, DefaultLogger, type WorkflowBundle } from '@temporalio/worker';
import { Client } from 'pg';
import { createActivities, createLocalInboxTransport, createSpineClient, type ActivityFunction } from '../activities';
import { DependencyUnavailableError } from '../domain/errors';
import type { PathwayIR } from '../bpmn';
import { addSetting, addStaff, deployPathway, getPathwayVersion, installedLintOptions } from '../engine';
import type { Logger } from '../log';
import { PATHWAYS, readPathwayXml } from '../pathways';
import { startSpineSandbox } from '../spine-sandbox';
import { migrateDatabase, openStore, type Store } from '../store';
import { WORKFLOWS_PATH } from '../worker';

/** Who the simulated case's records and completions name. */
export const SIMULATION_ACTOR = 'simulation';
/** The world's one setting, a prison: every demo member of staff works there. */
export const SIMULATION_SETTING = {
  odsCode: 'XSIM01',
  name: 'Simulation prison (HMP)',
  kind: 'prison',
  prisonType: 'HMP',
};

/**
 * The staff every simulation (and the scenario tests) can notify, by what they are to the pathways:
 * `notify.notifyStaff` addresses them by duty, and the keyworker is the one the `sms-caseload-assignment`
 * example names (Sam Patel), who holds no duty.
 */
export const STAFF = {
  teamLead: 'Morgan Lead',
  keyworker: 'Sam Patel',
  clinicalLead: 'Priya Shah',
  custodySergeant: 'Chris Sergeant',
  healthcareProfessional: 'Dana Hughes',
  releaseTeam: 'Robin Release',
  prisonHealthcare: 'Ali Khan',
} as const;
export type StaffKey = keyof typeof STAFF;

export const STAFF_DUTIES: Readonly<Record<StaffKey, readonly string[]>> = {
  teamLead: ['sms-team-lead'],
  keyworker: [],
  clinicalLead: ['sms-clinical-lead'],
  custodySergeant: ['custody-sergeant'],
  healthcareProfessional: ['healthcare-professional'],
  releaseTeam: ['release-team'],
  prisonHealthcare: ['prison-healthcare'],
};

/** `morgan.lead@simulation.throughcare.test`: the local inbox writes a recipient as `Name <email>`. */
export const STAFF_EMAIL = Object.fromEntries(
  Object.entries(STAFF).map(([key, name]) => [
    key,
    `${name.toLowerCase().replace(/ /g, '.')}@simulation.throughcare.test`,
  ]),
) as Readonly<Record<StaffKey, string>>;

/** Adds (or updates: the same email is the same person) the staff above, working in `settingOdsCode`. */
export async function addSimulationStaff(store: Store, settingOdsCode: string): Promise<void> {
  for (const key of Object.keys(STAFF) as StaffKey[])
    await addStaff(store, {
      name: STAFF[key],
      email: STAFF_EMAIL[key],
      duties: STAFF_DUTIES[key],
      settings: [settingOdsCode],
    });
}

/** The names of the staff who hold `duty` (case-insensitive). */
export function staffHolding(duty: string): string[] {
  return (Object.keys(STAFF) as StaffKey[])
    .filter((key) => STAFF_DUTIES[key].some((d) => d.toLowerCase() === duty.toLowerCase()))
    .map((key) => STAFF[key]);
}

export interface SimulationWorld {
  readonly databaseUrl: string;
  readonly store: Store;
  readonly settingOdsCode: string;
  /** The version of each shipped pathway in this world: what call activities run. */
  readonly shippedVersions: Readonly<Record<string, number>>;
  /** Their IRs, by pathway id. */
  readonly shippedIrs: ReadonlyMap<string, PathwayIR>;
  readonly workflowBundle: WorkflowBundle;
  readonly activities: Record<string, ActivityFunction>;
  close(): Promise<void>;
}

export interface WorldOptions {
  readonly databaseUrl: string;
  /**
   * A database on the same server to create `databaseUrl`'s database from when it does not exist yet (the
   * record store's, for its sibling `<name>_simulation`).
   */
  readonly createFrom?: string;
  readonly logger: Logger;
}

export async function openWorld(options: WorldOptions): Promise<SimulationWorld> {
  const { logger } = options;
  if (options.createFrom) await ensureDatabase(options.createFrom, options.databaseUrl);
  await commitWithoutWaiting(options.databaseUrl, logger);
  await migrateDatabase(options.databaseUrl, logger);
  const store = await openStore(options.databaseUrl, logger);
  const closing: (() => Promise<void>)[] = [() => store.close()];
  const close = async () => {
    for (const stop of closing.reverse()) await stop();
  };
  try {
    const shippedVersions: Record<string, number> = {};
    const shippedIrs = new Map<string, PathwayIR>();
    for (const { processId } of PATHWAYS) {
      const deployed = await deployPathway(store, readPathwayXml(processId), {
        ...(await installedLintOptions(store)),
        deployedBy: SIMULATION_ACTOR,
      });
      shippedVersions[processId] = deployed.version;
      shippedIrs.set(processId, (await getPathwayVersion(store, processId, deployed.version)).ir);
    }
    const knex = store.orm.em.getConnection().getKnex();
    if (!(await knex('settings').where({ ods_code: SIMULATION_SETTING.odsCode }).first('id')))
      await addSetting(store, SIMULATION_SETTING);
    await addSimulationStaff(store, SIMULATION_SETTING.odsCode);
    const sandbox = await startSpineSandbox({ logger: logger.child({ component: 'spine-sandbox' }) });
    closing.push(() => sandbox.stop());
    logger.info('bundling pathway workflows for simulations (takes a few seconds)');
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: WORKFLOWS_PATH,
      logger: new DefaultLogger('WARN', ({ message }) => logger.warn(message)),
    });
    const activities = createActivities({
      store,
      // One attempt per call: Temporal's retries are the pathway's, as in the product's worker.
      spine: createSpineClient({ baseUrl: sandbox.baseUrl, retry: { maxAttempts: 1 } }),
      transport: createLocalInboxTransport({ store, logger }),
      logger,
    });
    return {
      databaseUrl: options.databaseUrl,
      store,
      settingOdsCode: SIMULATION_SETTING.odsCode,
      shippedVersions,
      shippedIrs,
      workflowBundle,
      activities,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** `postgres://.../throughcare` → `postgres://.../throughcare_simulation`: a sibling database on the same server. */
export function siblingDatabaseUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres';
  url.pathname = `/${encodeURIComponent(`${name}_simulation`)}`;
  return url.toString();
}

/**
 * Made-up cases need no durability: commits in the scratch database do not wait for the disk (sessions opened from
 * now on), which makes a simulation several times faster on a server that flushes each commit. The database's
 * owner may set this; anyone else keeps the server's default, and simulations are only slower.
 */
async function commitWithoutWaiting(databaseUrl: string, logger: Logger): Promise<void> {
  const client = new Client({ connectionString: databaseUrl });
  try {
    await client.connect();
    await client.query(
      `DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET synchronous_commit = off', current_database()); END $$`,
    );
  } catch (error) {
    logger.warn({ err: error }, 'simulations will wait for the disk at each commit: synchronous_commit is not set off');
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates the database `databaseUrl` names, through a connection to `serverUrl`, unless it exists. */
async function ensureDatabase(serverUrl: string, databaseUrl: string): Promise<void> {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, ''));
  const client = new Client({ connectionString: serverUrl });
  try {
    await client.connect();
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } catch (cause) {
    // Two processes creating it at once: the other one won.
    if ((cause as { code?: string }).code === '42P04') return;
    throw new DependencyUnavailableError(
      `Cannot create the simulation database ${name}: ${(cause as Error).message}. Create it, or set ` +
        'SIMULATION_DATABASE_URL to a PostgreSQL database for simulations (never the record store’s own)',
      { cause },
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}
