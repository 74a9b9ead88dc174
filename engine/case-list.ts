/**
 * Cases as a list for the API and screens: filtered by setting, status and pathway, scoped to the settings a
 * person may see (a case is in scope when any setting it belongs to is), newest first, keyset paged.
 */
import type { Store } from '../store';
import { knexOf, settingsOfCases } from './case-settings';
import { decodeCursor, encodeCursor, type Page } from './paging';

export interface CaseListQuery {
  /** Only cases belonging to one of these settings (ODS codes): the caller's scope. Empty: none. */
  readonly scope: readonly string[];
  /** Only cases belonging to this setting. */
  readonly setting?: string;
  readonly status?: 'open' | 'closed';
  readonly pathwayId?: string;
  /** Only the cases of this person (our record's id). */
  readonly patientId?: string;
  readonly limit: number;
  readonly cursor?: string;
}

export interface CaseListItem {
  readonly caseId: string;
  readonly pathwayId: string;
  readonly pathwayVersion: number;
  readonly status: 'open' | 'closed';
  /** The setting the case was opened in. */
  readonly settingOdsCode: string;
  /** Every setting it belongs to (opened in, handed over to). */
  readonly settings: string[];
  readonly patientId: string;
  readonly nhsNumber: string;
  readonly openedAt: string;
  readonly closedAt: string | null;
  readonly closeReason: string | null;
}

interface CaseRow {
  id: string;
  pathway_id: string;
  pathway_version: number;
  status: 'open' | 'closed';
  ods_code: string;
  patient_id: string;
  nhs_number: string;
  opened_at: Date;
  closed_at: Date | null;
  close_reason: string | null;
}

export async function listCases(store: Store, query: CaseListQuery): Promise<Page<CaseListItem>> {
  if (query.scope.length === 0) return { items: [], nextCursor: null };
  const knex = knexOf(store);
  const inSettings = (codes: readonly string[]) =>
    knex('case_settings as cs')
      .join('settings as s2', 's2.id', 'cs.setting_id')
      .whereRaw('cs.case_id = c.id')
      .whereIn('s2.ods_code', [...codes]);
  const q = knex('cases as c')
    .join('settings as s', 's.id', 'c.setting_id')
    .join('patients as p', 'p.id', 'c.patient_id')
    .whereExists(inSettings(query.scope))
    .select<CaseRow[]>(
      'c.id',
      'c.pathway_id',
      'c.pathway_version',
      'c.status',
      's.ods_code',
      'c.patient_id',
      'p.nhs_number',
      'c.opened_at',
      'c.closed_at',
      'c.close_reason',
    )
    .orderBy([
      { column: 'c.opened_at', order: 'desc' },
      { column: 'c.id', order: 'desc' },
    ])
    .limit(query.limit + 1);
  if (query.setting) void q.whereExists(inSettings([query.setting]));
  if (query.status) void q.where('c.status', query.status);
  if (query.pathwayId) void q.where('c.pathway_id', query.pathwayId);
  if (query.patientId) void q.where('c.patient_id', query.patientId);
  if (query.cursor) {
    const [openedAt, id] = decodeCursor(query.cursor, 2) as [string, string];
    void q.whereRaw('(c.opened_at, c.id) < (?::timestamptz, ?::uuid)', [openedAt, id]);
  }
  const rows = await q;
  const page = rows.slice(0, query.limit);
  const settings = await settingsOfCases(
    store,
    page.map((r) => r.id),
  );
  const last = page[page.length - 1];
  return {
    items: page.map((r) => ({
      caseId: r.id,
      pathwayId: r.pathway_id,
      pathwayVersion: r.pathway_version,
      status: r.status,
      settingOdsCode: r.ods_code,
      settings: settings.get(r.id) ?? [],
      patientId: r.patient_id,
      nhsNumber: r.nhs_number,
      openedAt: new Date(r.opened_at).toISOString(),
      closedAt: r.closed_at ? new Date(r.closed_at).toISOString() : null,
      closeReason: r.close_reason,
    })),
    nextCursor:
      rows.length > query.limit && last ? encodeCursor([new Date(last.opened_at).toISOString(), last.id]) : null,
  };
}

/** One case's row, with its settings and whether its person's record is restricted; undefined when unknown. */
export async function findCase(
  store: Store,
  caseId: string,
): Promise<(CaseListItem & { readonly restricted: boolean }) | undefined> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(caseId)) return undefined;
  const knex = knexOf(store);
  const row = await knex('cases as c')
    .join('settings as s', 's.id', 'c.setting_id')
    .join('patients as p', 'p.id', 'c.patient_id')
    .where('c.id', caseId)
    .first<(CaseRow & { is_restricted: boolean; security_label: string | null }) | undefined>(
      'c.id',
      'c.pathway_id',
      'c.pathway_version',
      'c.status',
      's.ods_code',
      'c.patient_id',
      'p.nhs_number',
      'c.opened_at',
      'c.closed_at',
      'c.close_reason',
      'p.is_restricted',
      'p.security_label',
    );
  if (!row) return undefined;
  const settings = await settingsOfCases(store, [row.id]);
  return {
    caseId: row.id,
    pathwayId: row.pathway_id,
    pathwayVersion: row.pathway_version,
    status: row.status,
    settingOdsCode: row.ods_code,
    settings: settings.get(row.id) ?? [],
    patientId: row.patient_id,
    nhsNumber: row.nhs_number,
    openedAt: new Date(row.opened_at).toISOString(),
    closedAt: row.closed_at ? new Date(row.closed_at).toISOString() : null,
    closeReason: row.close_reason,
    restricted: await isRestrictedPatient(store, row.patient_id),
  };
}

/**
 * Whether a person's record is restricted (PDS `R` or `V`): the patient row's flag or label, or an active
 * restricted-record flag. Their address and contact details are never shown, to anyone.
 */
export async function isRestrictedPatient(store: Store, patientId: string): Promise<boolean> {
  const knex = knexOf(store);
  const patient = await knex('patients')
    .where({ id: patientId })
    .first<{ is_restricted: boolean; security_label: string | null } | undefined>('is_restricted', 'security_label');
  if (!patient) return false;
  if (patient.is_restricted || patient.security_label === 'R' || patient.security_label === 'V') return true;
  const flag = await knex('patient_flags')
    .where({ patient_id: patientId, code: 'RESTRICTED_RECORD', status: 'active' })
    .first<{ id: string } | undefined>('id');
  return flag !== undefined;
}
