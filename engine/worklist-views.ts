/**
 * Saved worklist views: a person's named worklist filters, kept on the server so they follow the person to any
 * desk, and shared, when they choose, with everyone working in one of their settings. A view is the worklist's
 * query string (`/worklist?...`) as a flat map of its known parameters: no case, task or person is stored, only how
 * to look for them, and whoever opens it sees only what the worklist shows them. So views are preferences, not
 * records: saving the same name again replaces the view, and the owner deletes one outright.
 *
 * A shared view never holds a patient's NHS number: a filter on one person is the owner's to keep, not to broadcast
 * to a whole setting.
 */
import { randomUUID } from 'node:crypto';
import { NotFoundError, ValidationError, type FieldProblem } from '../domain/errors';
import type { Store } from '../store';
import { knexOf } from './case-settings';
import { listStaff } from './staff';

/** The worklist's query parameters a view may hold (web/worklist.ts); anything else is not a view's. */
export const WORKLIST_VIEW_PARAMETERS = [
  'view',
  'group',
  'setting',
  'pathway',
  'task',
  'patient',
  'due',
  'overdue',
  'priority',
  'sort',
] as const;
export const WORKLIST_VIEW_NAME_MAX = 80;
export const WORKLIST_VIEW_VALUE_MAX = 255;

export interface WorklistView {
  readonly viewId: string;
  readonly name: string;
  /** The worklist's query parameters, by name. */
  readonly query: Record<string, string>;
  /** The setting it is shared with (everyone working there sees it); null: only its owner. */
  readonly sharedSetting: string | null;
  readonly ownerName: string | null;
  /** The person asking owns it (and may delete it). */
  readonly mine: boolean;
  readonly createdAt: string;
}

export interface SaveWorklistViewInput {
  /** The owner's OIDC subject. */
  readonly ownerSubject: string;
  /** Shown to colleagues a view is shared with. */
  readonly ownerName?: string | null;
  readonly name: string;
  readonly query: Record<string, unknown>;
  /** An ODS code of a setting the owner works in, or null (or absent) to keep it to themselves. */
  readonly sharedSetting?: string | null;
}

interface Row {
  id: string;
  owner_subject: string;
  owner_name: string | null;
  name: string;
  query: Record<string, string>;
  shared_setting: string | null;
  created_at: Date;
}

const viewOf = (row: Row, subject: string): WorklistView => ({
  viewId: row.id,
  name: row.name,
  query: row.query,
  sharedSetting: row.shared_setting,
  ownerName: row.owner_name,
  mine: row.owner_subject === subject,
  createdAt: new Date(row.created_at).toISOString(),
});

const escapePointer = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');

/** A surrogate without its pair: not Unicode text, and PostgreSQL's jsonb refuses its escape. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const NOT_TEXT = 'must be Unicode text (it holds half of a surrogate pair)';

/** The query as a view keeps it: known parameters with text values, empty ones left out. */
function checkedQuery(query: Record<string, unknown>, shared: boolean, problems: FieldProblem[]) {
  const kept: Record<string, string> = {};
  const known: readonly string[] = WORKLIST_VIEW_PARAMETERS;
  for (const [key, value] of Object.entries(query)) {
    const pointer = `/query/${escapePointer(key)}`;
    if (!known.includes(key)) problems.push({ pointer, detail: 'is not a parameter of the worklist' });
    else if (typeof value !== 'string') problems.push({ pointer, detail: 'must be text' });
    else if (LONE_SURROGATE.test(value)) problems.push({ pointer, detail: NOT_TEXT });
    else if (value.length > WORKLIST_VIEW_VALUE_MAX)
      problems.push({ pointer, detail: `must not be longer than ${WORKLIST_VIEW_VALUE_MAX} characters` });
    else if (key === 'patient' && shared && value.trim() !== '')
      problems.push({
        pointer,
        detail: 'must not be saved in a shared view: a patient’s NHS number is not shared with a whole setting',
      });
    else if (value !== '') kept[key] = value;
  }
  return kept;
}

/**
 * Saves a view of the owner's: a new one, or, when they already have one of that name, its query and sharing
 * replaced. `created` tells which.
 */
export async function saveWorklistView(
  store: Store,
  input: SaveWorklistViewInput,
): Promise<WorklistView & { created: boolean }> {
  const problems: FieldProblem[] = [];
  const name = input.name.trim();
  if (name.length === 0) problems.push({ pointer: '/name', detail: 'must not be empty' });
  else if (LONE_SURROGATE.test(name)) problems.push({ pointer: '/name', detail: NOT_TEXT });
  else if (name.length > WORKLIST_VIEW_NAME_MAX)
    problems.push({ pointer: '/name', detail: `must not be longer than ${WORKLIST_VIEW_NAME_MAX} characters` });
  const sharedSetting = input.sharedSetting || null;
  const query = checkedQuery(input.query, sharedSetting !== null, problems);
  if (sharedSetting !== null) {
    // The directory says where the owner works (as it does for sign-in): one shares only with one's own settings.
    const [owner] = await listStaff(store, { subject: input.ownerSubject });
    if (!owner?.settings.includes(sharedSetting))
      problems.push({ pointer: '/sharedSetting', detail: 'must be a setting you work in' });
  }
  if (problems.length) throw new ValidationError(`The view has ${problems.length} problem(s)`, problems);

  const { rows } = await knexOf(store).raw<{ rows: (Row & { created: boolean })[] }>(
    `insert into saved_worklist_views (id, owner_subject, owner_name, name, query, shared_setting)
     values (?, ?, ?, ?, ?::jsonb, ?)
     on conflict (owner_subject, name) do update
       set query = excluded.query, shared_setting = excluded.shared_setting, owner_name = excluded.owner_name
     returning *, (xmax = 0) as created`,
    // xmax is 0 for a row this statement inserted, and the updating transaction's id for one it replaced.
    [randomUUID(), input.ownerSubject, input.ownerName ?? null, name, JSON.stringify(query), sharedSetting],
  );
  const row = rows[0]!;
  return { ...viewOf(row, input.ownerSubject), created: row.created };
}

/**
 * The person's own views, and the views others have shared with a setting the person works in (while their owner
 * still works there), by name.
 */
export async function listWorklistViews(
  store: Store,
  who: { subject: string; settings: readonly string[] },
): Promise<WorklistView[]> {
  const knex = knexOf(store);
  const rows = await knex('saved_worklist_views as v')
    .where('v.owner_subject', who.subject)
    .orWhere((shared) => {
      void shared
        .whereIn('v.shared_setting', [...who.settings])
        .whereExists(
          knex('staff as s')
            .join('staff_settings as ss', 'ss.staff_id', 's.id')
            .join('settings as t', 't.id', 'ss.setting_id')
            .whereRaw('s.subject = v.owner_subject')
            .whereRaw('t.ods_code = v.shared_setting')
            .where('s.active', true)
            .select(knex.raw('1')),
        );
    })
    .orderByRaw('lower(v.name), v.name, v.created_at, v.id')
    .select<Row[]>('v.*');
  return rows.map((row) => viewOf(row, who.subject));
}

/** Deletes one of the person's own views; anyone else's (shared with them or not) is not found. */
export async function deleteWorklistView(store: Store, input: { id: string; subject: string }): Promise<WorklistView> {
  // A preference, not a record: deleted outright (see the migration 20261207180000-saved-worklist-views).
  const [row] = await knexOf(store)('saved_worklist_views')
    .where({ id: input.id, owner_subject: input.subject })
    .delete()
    .returning<Row[]>('*');
  if (!row) throw new NotFoundError(`No saved worklist view ${input.id} of yours`);
  return viewOf(row, input.subject);
}
