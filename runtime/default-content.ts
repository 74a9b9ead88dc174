/**
 * What a fresh installation has on first start: the shipped pathways deployed (deploying unchanged files
 * again is a no-op, so this runs at every start and picks up pathways changed by an upgrade), and in
 * development a few demo settings so that a newcomer can start a case at once.
 */
import { addStaff, deployPathway, installedLintOptions } from '../engine';
import type { Logger } from '../log';
import { PATHWAYS, readPathwayXml } from '../pathways';
import { SettingSchema, type Store } from '../store';

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
 */
export const DEMO_STAFF = [
  { name: 'Morgan Lead', duties: ['sms-team-lead'], settings: ['XPRS01', 'XCOM01'] },
  { name: 'Priya Shah', duties: ['sms-clinical-lead'], settings: ['XPRS01', 'XCOM01'] },
  { name: 'Sam Patel', duties: [], settings: ['XPRS01', 'XCOM01'] },
  { name: 'Ali Khan', duties: ['prison-healthcare'], settings: ['XPRS01'] },
  { name: 'Robin Release', duties: ['release-team'], settings: ['XPRS01', 'XCOM01'] },
  { name: 'Chris Sergeant', duties: ['custody-sergeant'], settings: ['XCUS01'] },
  { name: 'Dana Hughes', duties: ['healthcare-professional'], settings: ['XCUS01'] },
] as const;

/** Deploys every shipped pathway; returns the ones that could not be, each with the reason. */
export async function deployShippedPathways(
  store: Store,
  logger: Logger,
): Promise<{ pathwayId: string; reason: string }[]> {
  const failed: { pathwayId: string; reason: string }[] = [];
  for (const { processId } of PATHWAYS) {
    try {
      const deployed = await deployPathway(store, readPathwayXml(processId), {
        ...installedLintOptions(),
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
      duties: [...person.duties],
      settings: [...person.settings],
    });
  }
}
