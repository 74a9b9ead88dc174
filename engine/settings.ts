/**
 * The settings directory: the organisations a person passes through (custody suites, courts, prisons, community
 * services), by ODS code. Settings are added, never changed or removed here: cases, staff and audit events
 * name them.
 */
import { randomUUID } from 'node:crypto';
import { ConflictError, ValidationError, type FieldProblem } from '../domain/errors';
import { PrisonType, SettingKind, type Store } from '../store';

export interface SettingSummary {
  readonly settingId: string;
  readonly odsCode: string;
  readonly name: string;
  readonly kind: SettingKind;
  /** The establishment type of a prison (HMP, YOI, STC, SCH, IRC); null for every other kind. */
  readonly prisonType: PrisonType | null;
  readonly createdAt: string;
}

export interface AddSettingInput {
  readonly odsCode: string;
  readonly name: string;
  readonly kind: string;
  readonly prisonType?: string;
}

const ODS_CODE = /^[A-Z0-9]{3,16}$/;

function check(input: AddSettingInput): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (!ODS_CODE.test(input.odsCode))
    problems.push({ pointer: '/odsCode', detail: 'an ODS code: 3 to 16 capital letters and digits' });
  if (input.name.trim() === '' || input.name.trim().length > 255)
    problems.push({ pointer: '/name', detail: 'give the setting’s name, at most 255 characters' });
  const kinds = Object.values(SettingKind) as string[];
  if (!kinds.includes(input.kind)) problems.push({ pointer: '/kind', detail: `must be one of ${kinds.join(', ')}` });
  const types = Object.values(PrisonType) as string[];
  if (input.kind === SettingKind.Prison && input.prisonType === undefined)
    problems.push({ pointer: '/prisonType', detail: `a prison needs its establishment type: ${types.join(', ')}` });
  else if (input.kind !== SettingKind.Prison && input.prisonType !== undefined)
    problems.push({ pointer: '/prisonType', detail: 'only a prison has an establishment type' });
  else if (input.prisonType !== undefined && !types.includes(input.prisonType))
    problems.push({ pointer: '/prisonType', detail: `must be one of ${types.join(', ')}` });
  return problems;
}

/**
 * Adds a setting; a code already in the directory is a conflict (a setting is never silently renamed).
 * `memberStaffId`, when given, is made a member of it in the same transaction: the administrator who adds a
 * setting works in it, so that they can then add its staff.
 */
export async function addSetting(
  store: Store,
  input: AddSettingInput,
  options: { memberStaffId?: string } = {},
): Promise<SettingSummary> {
  const problems = check(input);
  if (problems.length) throw new ValidationError('The setting was not added', problems);
  const knex = store.orm.em.getConnection().getKnex();
  const id = await knex.transaction(async (trx) => {
    const inserted = await trx('settings')
      .insert({
        id: randomUUID(),
        ods_code: input.odsCode,
        name: input.name.trim(),
        kind: input.kind,
        prison_type: input.prisonType ?? null,
      })
      .onConflict('ods_code')
      .ignore()
      .returning<{ id: string }[]>('id');
    const settingId = inserted[0]?.id;
    if (!settingId) throw new ConflictError(`A setting with ODS code ${input.odsCode} is already in the directory`);
    if (options.memberStaffId)
      await trx('staff_settings').insert({ staff_id: options.memberStaffId, setting_id: settingId });
    return settingId;
  });
  const [added] = (await listSettings(store)).filter((s) => s.settingId === id);
  return added!;
}

/** Every setting, by ODS code; only those of one kind when asked. */
export async function listSettings(store: Store, filter: { kind?: string } = {}): Promise<SettingSummary[]> {
  const knex = store.orm.em.getConnection().getKnex();
  const query = knex('settings').orderBy('ods_code').select<
    {
      id: string;
      ods_code: string;
      name: string;
      kind: SettingKind;
      prison_type: PrisonType | null;
      created_at: Date;
    }[]
  >('id', 'ods_code', 'name', 'kind', 'prison_type', 'created_at');
  if (filter.kind) query.where('kind', filter.kind);
  return (await query).map((r) => ({
    settingId: r.id,
    odsCode: r.ods_code,
    name: r.name,
    kind: r.kind,
    prisonType: r.prison_type,
    createdAt: new Date(r.created_at).toISOString(),
  }));
}
