/**
 * What a fresh installation has on first start: the shipped pathways deployed (deploying unchanged files
 * again is a no-op, so this runs at every start and picks up pathways changed by an upgrade), and in
 * development a few demo settings so that a newcomer can start a case at once.
 */
import { addStaff, deployPathway, installedLintOptions } from '../engine';
import type { Logger } from '../log';
import { PATHWAYS, readPathwayXml } from '../pathways';
import { SettingSchema, type StaffRole, type Store } from '../store';

/** Demo organisations for development only; their ODS-like codes start with X so they cannot be mistaken for real ones. */
export const DEMO_SETTINGS = [
  { odsCode: 'XCUS01', name: 'Demo custody suite', kind: 'custody_suite' },
  { odsCode: 'XCRT01', name: 'Demo magistrates’ court', kind: 'court' },
  { odsCode: 'XPRS01', name: 'Demo prison (HMP)', kind: 'prison', prisonType: 'HMP' },
  { odsCode: 'XCOM01', name: 'Demo community substance misuse service', kind: 'community_service' },
] as const;

/**
 * Demo staff for development only, one per duty the shipped pathways address, so that a notice in a demo case
 * (an overdue review, a missed rousing check) reaches a named person in the local inbox instead of becoming a
 * "nobody to notify" incident. Sam Patel is the keyworker the caseload-assignment form's example names.
 * They are also the development issuer's accounts (`throughcare dev-token --list`), so there is someone to
 * sign in as for every role: the last three hold no duty and exist for their role.
 */
export const DEMO_STAFF: readonly {
  name: string;
  roles: readonly StaffRole[];
  duties: readonly string[];
  settings: readonly string[];
}[] = [
  { name: 'Morgan Lead', roles: ['team-lead'], duties: ['sms-team-lead'], settings: ['XPRS01', 'XCOM01'] },
  { name: 'Priya Shah', roles: ['clinician'], duties: ['sms-clinical-lead'], settings: ['XPRS01', 'XCOM01'] },
  { name: 'Sam Patel', roles: ['clinician'], duties: [], settings: ['XPRS01', 'XCOM01'] },
  { name: 'Ali Khan', roles: ['clinician'], duties: ['prison-healthcare'], settings: ['XPRS01'] },
  { name: 'Robin Release', roles: ['clinician'], duties: ['release-team'], settings: ['XPRS01', 'XCOM01'] },
  { name: 'Chris Sergeant', roles: ['clinician'], duties: ['custody-sergeant'], settings: ['XCUS01'] },
  { name: 'Dana Hughes', roles: ['clinician'], duties: ['healthcare-professional'], settings: ['XCUS01'] },
  {
    name: 'Casey Commissioner',
    roles: ['commissioner'],
    duties: [],
    settings: ['XCUS01', 'XCRT01', 'XPRS01', 'XCOM01'],
  },
  { name: 'Oakley Ops', roles: ['ops'], duties: [], settings: ['XCUS01', 'XCRT01', 'XPRS01', 'XCOM01'] },
  { name: 'Ada Admin', roles: ['admin'], duties: [], settings: ['XCUS01', 'XCRT01', 'XPRS01', 'XCOM01'] },
];

/** Deploys every shipped pathway; returns the ones that could not be, each with the reason. */
export async function deployShippedPathways(
  store: Store,
  logger: Logger,
): Promise<{ pathwayId: string; reason: string }[]> {
  const failed: { pathwayId: string; reason: string }[] = [];
  for (const { processId } of PATHWAYS) {
    try {
      const deployed = await deployPathway(store, readPathwayXml(processId), {
        ...(await installedLintOptions(store)),
        deployedBy: 'throughcare',
      });
      if (deployed.created)
        logger.info(
          { pathwayId: processId, version: deployed.version },
          `deployed shipped pathway ${processId} v${deployed.version}`,
        );
    } catch (error) {
      // A shipped pathway that fails lint is a product bug; the rest of the product still starts, and /ready
      // says what is missing instead of the process claiming to be ready.
      logger.error({ err: error, pathwayId: processId }, `shipped pathway ${processId} was not deployed`);
      failed.push({ pathwayId: processId, reason: (error as Error).message });
    }
  }
  return failed;
}

export async function ensureDemoSettings(store: Store): Promise<void> {
  const em = store.fork();
  for (const demo of DEMO_SETTINGS) {
    if (await em.findOne(SettingSchema, { odsCode: demo.odsCode })) continue;
    em.create(SettingSchema, { prisonType: null, ...demo, createdAt: new Date() });
  }
  await em.flush();
  for (const person of DEMO_STAFF) {
    // Adding the same subject again updates the person, so this is safe at every start.
    await addStaff(store, {
      name: person.name,
      email: `${person.name.toLowerCase().replace(' ', '.')}@demo.throughcare.test`,
      roles: [...person.roles],
      duties: [...person.duties],
      settings: [...person.settings],
    });
  }
}
