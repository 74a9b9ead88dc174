/**
 * The ops team's saved searches: named List Filter conditions shared with a setting, so the team finds stuck
 * cases the same way. A search is a query, not a record; saving a name the setting already has replaces it.
 */
import { ValidationError } from '../domain/errors';
import type { CaseEngine } from './case-engine';
import { knexOf } from './case-settings';
import type { OpsActor } from './ops';

export interface OpsSavedSearch {
  readonly id: string;
  readonly name: string;
  readonly query: string;
  readonly sharedSetting: string;
  readonly createdByName: string | null;
  readonly createdAt: string;
}

interface Row {
  id: string;
  name: string;
  query: string;
  shared_setting: string;
  created_by_name: string | null;
  created_at: Date;
}

const toSearch = (row: Row): OpsSavedSearch => ({
  id: row.id,
  name: row.name,
  query: row.query,
  sharedSetting: row.shared_setting,
  createdByName: row.created_by_name,
  createdAt: new Date(row.created_at).toISOString(),
});

export async function listOpsSavedSearches(engine: CaseEngine, settings: readonly string[]): Promise<OpsSavedSearch[]> {
  const rows = await knexOf(engine.store)('ops_saved_searches')
    .whereIn('shared_setting', [...settings])
    .orderBy('name')
    .select<Row[]>('*');
  return rows.map(toSearch);
}

/** Saves (or replaces, by name within the setting) a search; the query is checked by running it first. */
export async function saveOpsSearch(
  engine: CaseEngine,
  search: { name: string; query: string; sharedSetting: string },
  actor: OpsActor,
): Promise<OpsSavedSearch> {
  const name = search.name.trim();
  if (name === '') throw new ValidationError('The search has no name', [{ pointer: '/name', detail: 'is required' }]);
  const [row] = await knexOf(engine.store)('ops_saved_searches')
    .insert({
      name,
      query: search.query.trim(),
      shared_setting: search.sharedSetting,
      created_by: actor.id,
      created_by_name: actor.name ?? null,
    })
    .onConflict(['shared_setting', 'name'])
    .merge(['query', 'created_by', 'created_by_name', 'created_at'])
    .returning<Row[]>('*');
  return toSearch(row!);
}
