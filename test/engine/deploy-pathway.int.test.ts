import { readFixture } from '../../bpmn/fixtures/load-fixture';
import { deployPathway, getPathwayVersion, listPathwayVersions, PathwayLintError } from '../../engine/pathways';
import { silentLogger } from '../../log';
import { migrateDatabase, openStore, type Store } from '../../store';
import { useFreshDatabase } from '../support/database';

const options = { deployedBy: 'commissioner-1', taskTypes: ['notify-team'], formIds: ['sms-assessment'] };

describe('deployPathway', () => {
  const db = useFreshDatabase();
  let store: Store;

  beforeAll(async () => {
    await migrateDatabase(db.url, silentLogger);
    store = await openStore(db.url);
  });

  afterAll(async () => {
    await store.close();
  });

  it('stores version 1 with its checksum, XML and IR, and returns the same version for the same XML', async () => {
    const xml = readFixture('sequence');
    const first = await deployPathway(store, xml, options);
    expect(first).toMatchObject({
      pathwayId: 'Sequence',
      name: 'Sequence',
      version: 1,
      created: true,
      deployedBy: 'commissioner-1',
    });
    expect(first.checksum).toMatch(/^[0-9a-f]{64}$/);

    const again = await deployPathway(store, xml, { ...options, deployedBy: 'someone-else' });
    expect(again).toMatchObject({ version: 1, created: false, deployedBy: 'commissioner-1', checksum: first.checksum });

    const stored = await getPathwayVersion(store, 'Sequence', 1);
    expect(stored.bpmnXml).toBe(xml);
    expect(stored.ir.processId).toBe('Sequence');
  });

  it('gives changed XML the next version and keeps the earlier one unchanged', async () => {
    const changed = readFixture('sequence').replace('name="Assess needs"', 'name="Assess needs (revised)"');
    const second = await deployPathway(store, changed, options);
    expect(second).toMatchObject({ version: 2, created: true });
    expect((await getPathwayVersion(store, 'Sequence', 1)).bpmnXml).not.toContain('(revised)');
    expect((await getPathwayVersion(store, 'Sequence')).version).toBe(2);
    expect((await listPathwayVersions(store, 'Sequence')).map((v) => v.version)).toEqual([2, 1]);
  });

  it('numbers concurrent deployments of different XML without a gap or a clash', async () => {
    const variants = [1, 2, 3, 4].map((n) => readFixture('sequence').replace('name="Done"', `name="Done ${n}"`));
    const deployed = await Promise.all(variants.map((xml) => deployPathway(store, xml, options)));
    expect(deployed.map((d) => d.version).sort()).toEqual([3, 4, 5, 6]);
  });

  it('refuses a pathway with lint errors, naming each element and its fix, and stores nothing', async () => {
    const before = await listPathwayVersions(store);
    const error: unknown = await deployPathway(store, readFixture('sequence'), { ...options, taskTypes: [] }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PathwayLintError);
    const lint = error as PathwayLintError;
    expect(lint.findings).toContainEqual(
      expect.objectContaining({ id: 'NotifyTeam', severity: 'error', rule: expect.stringContaining('task-type') }),
    );
    expect(lint.problems[0]).toEqual({ pointer: '/elements/NotifyTeam', detail: expect.stringContaining('Fix:') });
    expect(await listPathwayVersions(store)).toEqual(before);
  });

  it('answers NOT_FOUND for a pathway or version that does not exist', async () => {
    await expect(getPathwayVersion(store, 'Nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(getPathwayVersion(store, 'Sequence', 99)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
