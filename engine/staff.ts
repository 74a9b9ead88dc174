/**
 * The staff directory: who works in which setting and which duties (job roles notices are addressed to:
 * `sms-team-lead`, `custody-sergeant`, `release-team`...) they hold. `notify.notifyStaff` tells the active staff
 * of a case's setting who hold a duty; `keyworker` is not a duty but the person a caseload assignment names.
 * Staff are added from the CLI (`throughcare staff add`: the directory's bootstrap, before anyone can sign in)
 * or by an administrator through the API (`/api/v1/staff`).
 */
import { randomUUID } from 'node:crypto';
import { NotFoundError, ValidationError, type FieldProblem } from '../domain/errors';
import { StaffRole, type Store } from '../store';

export interface StaffSummary {
  readonly staffId: string;
  readonly subject: string;
  readonly name: string;
  readonly email: string | null;
  readonly duties: string[];
  readonly roles: string[];
  /** ODS codes of the settings they work in. */
  readonly settings: string[];
  readonly active: boolean;
}

export interface AddStaffInput {
  readonly name: string;
  readonly email: string;
  readonly duties: readonly string[];
  /** ODS codes; at least one. */
  readonly settings: readonly string[];
  /** Default `clinician`. */
  readonly roles?: readonly string[];
  /** The OIDC subject that will sign in as them; default `mailto:<email>` until sign-in exists. */
  readonly subject?: string;
}

const DUTY = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
/** Not a duty anyone holds: the keyworker is whoever the case's caseload assignment names. */
const RESERVED_DUTIES = new Set(['keyworker']);

function check(input: AddStaffInput): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (typeof input.name !== 'string' || input.name.trim() === '')
    problems.push({ pointer: '/name', detail: 'give the person’s name as colleagues know it' });
  else if (input.name.trim().length > 255) problems.push({ pointer: '/name', detail: 'at most 255 characters' });
  if (typeof input.email !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(input.email.trim()))
    problems.push({ pointer: '/email', detail: 'give an email address notices can be sent to' });
  input.duties.forEach((duty, i) => {
    if (!DUTY.test(duty))
      problems.push({ pointer: `/duties/${i}`, detail: `'${duty}' is not a duty name: lower-case words joined by -` });
    else if (RESERVED_DUTIES.has(duty))
      problems.push({
        pointer: `/duties/${i}`,
        detail: 'keyworker is not held as a duty: the caseload assignment names the keyworker of each case',
      });
  });
  if (input.settings.length === 0)
    problems.push({ pointer: '/settings', detail: 'name at least one setting (ODS code) they work in' });
  const known = Object.values(StaffRole) as string[];
  (input.roles ?? []).forEach((role, i) => {
    if (!known.includes(role))
      problems.push({ pointer: `/roles/${i}`, detail: `'${role}' is not a role: one of ${known.join(', ')}` });
  });
  return problems;
}

/**
 * Adds a member of staff, or updates the one with the same subject (name, email, duties, roles, settings
 * replaced by what is given, active again): running the same command twice changes nothing.
 */
export async function addStaff(store: Store, input: AddStaffInput): Promise<StaffSummary & { created: boolean }> {
  const duties = [...new Set(input.duties.map((d) => d.trim()))];
  const roles = [...new Set(input.roles && input.roles.length ? input.roles : [StaffRole.Clinician])];
  const odsCodes = [...new Set(input.settings.map((s) => s.trim().toUpperCase()))];
  const problems = check({ ...input, duties, roles, settings: odsCodes });
  if (problems.length) throw new ValidationError('The member of staff was not added', problems);
  const email = input.email.trim();
  const subject = input.subject?.trim() || `mailto:${email.toLowerCase()}`;
  const knex = store.orm.em.getConnection().getKnex();
  const { id, created } = await knex.transaction(async (trx) => {
    const settings = await trx('settings')
      .whereIn('ods_code', odsCodes)
      .select<{ id: string; ods_code: string }[]>('id', 'ods_code');
    const missing = odsCodes.filter((code) => !settings.some((s) => s.ods_code === code));
    if (missing.length) throw new NotFoundError(`No setting with ODS code ${missing.join(', ')}`);
    const row = { display_name: input.name.trim(), email, duties, roles, active: true };
    const inserted = await trx('staff')
      .insert({ id: randomUUID(), subject, ...row })
      .onConflict('subject')
      .ignore()
      .returning<{ id: string }[]>('id');
    let staffId = inserted[0]?.id;
    if (!staffId) {
      const updated = await trx('staff').where({ subject }).update(row).returning<{ id: string }[]>('id');
      staffId = updated[0]!.id;
      await trx('staff_settings').where({ staff_id: staffId }).delete();
    }
    await trx('staff_settings').insert(settings.map((s) => ({ staff_id: staffId, setting_id: s.id })));
    return { id: staffId, created: inserted.length > 0 };
  });
  const [summary] = await listStaff(store, { staffId: id });
  return { ...summary!, created };
}

/**
 * Makes a member of staff inactive: they can no longer sign in (the bearer check refuses them at once, whatever
 * their token says) and receive no more notices. Their record stays, named by what they did; adding them again
 * makes them active. Doing it twice changes nothing.
 */
export async function deactivateStaff(store: Store, staffId: string): Promise<StaffSummary> {
  const knex = store.orm.em.getConnection().getKnex();
  const updated = await knex('staff')
    .where({ id: staffId })
    .update({ active: false })
    .returning<{ id: string }[]>('id');
  if (updated.length === 0) throw new NotFoundError(`No member of staff ${staffId}`);
  const [summary] = await listStaff(store, { staffId });
  return summary!;
}

/** The directory, by name; only the staff of one setting, or holding one duty, when asked. */
export async function listStaff(
  store: Store,
  filter: { settingOdsCode?: string; duty?: string; staffId?: string; subject?: string; activeOnly?: boolean } = {},
): Promise<StaffSummary[]> {
  const knex = store.orm.em.getConnection().getKnex();
  const query = knex('staff as s')
    .leftJoin('staff_settings as ss', 'ss.staff_id', 's.id')
    .leftJoin('settings as t', 't.id', 'ss.setting_id')
    .groupBy('s.id')
    .orderBy([{ column: 's.display_name' }, { column: 's.id' }])
    .select<
      {
        id: string;
        subject: string;
        display_name: string;
        email: string | null;
        duties: string[];
        roles: string[];
        active: boolean;
        settings: (string | null)[];
      }[]
    >(
      's.id',
      's.subject',
      's.display_name',
      's.email',
      's.duties',
      's.roles',
      's.active',
      knex.raw('array_agg(t.ods_code order by t.ods_code) as settings'),
    );
  if (filter.staffId) query.where('s.id', filter.staffId);
  if (filter.subject !== undefined) query.where('s.subject', filter.subject);
  if (filter.activeOnly) query.where('s.active', true);
  if (filter.duty) query.whereRaw('? = any(s.duties)', [filter.duty]);
  if (filter.settingOdsCode)
    query.whereExists(
      knex('staff_settings as f')
        .join('settings as g', 'g.id', 'f.setting_id')
        .whereRaw('f.staff_id = s.id')
        .andWhere('g.ods_code', filter.settingOdsCode.trim().toUpperCase()),
    );
  const rows = await query;
  return rows.map((r) => ({
    staffId: r.id,
    subject: r.subject,
    name: r.display_name,
    email: r.email,
    duties: r.duties,
    roles: r.roles,
    settings: r.settings.filter((code): code is string => code !== null),
    active: r.active,
  }));
}
