/**
 * A migrated record store on the test file's own fresh database. Hooks are registered so that the store
 * (and anything passed to `onClose`) closes before the database is dropped: jest runs `afterAll` hooks in
 * the order they were declared.
 */
import { silentLogger } from '../../log';
import { migrateDatabase, openStore, type Store } from '../../store';
import { useFreshDatabase } from '../support/database';

export interface MigratedStore {
  readonly url: string;
  readonly store: Store;
  onClose(cleanup: () => Promise<unknown>): void;
}

export function useMigratedStore(prefix?: string): MigratedStore {
  let store: Store | undefined;
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await store?.close();
  });
  const db = useFreshDatabase(prefix);
  beforeAll(async () => {
    await migrateDatabase(db.url, silentLogger);
    store = await openStore(db.url);
  });
  return {
    get url() {
      return db.url;
    },
    get store() {
      if (!store) throw new Error('useMigratedStore().store read before beforeAll ran');
      return store;
    },
    onClose: (cleanup) => cleanups.push(cleanup),
  };
}
