import { createActivities, ACTIVITY_NAMES, SHELL_ACTIVITY_NAMES } from '.';
import { createLocalInboxTransport, createSpineClient } from '.';
import { silentLogger } from '../log';
import { SERVICE_TASK_TYPES } from '../pathways';
import { openStore, type Store } from '../store';
import { useFreshDatabase } from '../test/support/database';

const db = useFreshDatabase('activity_registry');

describe('the activity registry', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore(db.url);
  });
  afterAll(async () => {
    await store.close();
  });

  it('provides exactly every service task type, the shell activities and notification delivery', () => {
    const activities = createActivities({
      store,
      spine: createSpineClient({ baseUrl: 'http://127.0.0.1:9' }),
      transport: createLocalInboxTransport({ store, logger: silentLogger }),
      logger: silentLogger,
    });

    expect(Object.keys(activities).sort()).toEqual(
      [...SERVICE_TASK_TYPES, ...SHELL_ACTIVITY_NAMES, 'deliverNotification'].sort(),
    );
    expect([...ACTIVITY_NAMES].sort()).toEqual(Object.keys(activities).sort());
    for (const activity of Object.values(activities)) expect(typeof activity).toBe('function');
  });
});
