/**
 * The settings a case belongs to (`case_settings`, append-only): the one it was opened in, and each one a
 * journey hands it over to. Who may see a case follows from this list (api/policy.ts).
 *
 * How a handover is known, kept simple and explicit: a journey names the setting a later stage runs in by a
 * handover variable (today `prisonOdsCode`: journey.bpmn runs its prison and release stages there). When such
 * a variable comes with the case's start variables, or with a message delivered to the case (the court
 * outcome), the engine records that setting for the case. Nothing else adds a setting; none is ever removed.
 */
import type { Knex } from '@mikro-orm/knex';
import type { CaseSettingReason, Store } from '../store';

/** Variables by which a journey names the setting a later stage of it runs in. */
export const HANDOVER_SETTING_VARIABLES = ['prisonOdsCode'] as const;

/** The ODS codes named by handover variables in `variables` (a case's start variables, a message's). */
export function handoverSettingsIn(variables: Record<string, unknown> | undefined): string[] {
  if (!variables) return [];
  return HANDOVER_SETTING_VARIABLES.map((name) => variables[name]).filter(
    (value): value is string => typeof value === 'string' && value.trim() !== '',
  );
}

/**
 * Records settings for a case; a setting already recorded for it, or not a known setting, is skipped.
 * Returns the ODS codes newly recorded.
 */
export async function recordCaseSettings(
  store: Store,
  caseId: string,
  odsCodes: readonly string[],
  reason: CaseSettingReason,
  recordedBy: string,
): Promise<string[]> {
  const codes = [...new Set(odsCodes.map((code) => code.trim().toUpperCase()))];
  if (codes.length === 0) return [];
  const knex = knexOf(store);
  const settings = await knex('settings').whereIn('ods_code', codes).select<{ id: string; ods_code: string }[]>();
  if (settings.length === 0) return [];
  const inserted = await knex('case_settings')
    .insert(settings.map((s) => ({ case_id: caseId, setting_id: s.id, reason, recorded_by: recordedBy })))
    .onConflict(['case_id', 'setting_id'])
    .ignore()
    .returning<{ setting_id: string }[]>('setting_id');
  return settings.filter((s) => inserted.some((row) => row.setting_id === s.id)).map((s) => s.ods_code);
}

/** The ODS codes of the settings each case belongs to, opened-in first. */
export async function settingsOfCases(store: Store, caseIds: readonly string[]): Promise<Map<string, string[]>> {
  const bySetting = new Map<string, string[]>(caseIds.map((id) => [id, []]));
  if (caseIds.length === 0) return bySetting;
  const rows = await knexOf(store)('case_settings as cs')
    .join('settings as s', 's.id', 'cs.setting_id')
    .whereIn('cs.case_id', [...new Set(caseIds)])
    .orderBy([{ column: 'cs.recorded_at' }, { column: 's.ods_code' }])
    .select<{ case_id: string; ods_code: string }[]>('cs.case_id', 's.ods_code');
  for (const row of rows) bySetting.get(row.case_id)?.push(row.ods_code);
  return bySetting;
}

export function knexOf(store: Store): Knex {
  return store.orm.em.getConnection().getKnex();
}
