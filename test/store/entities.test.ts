/**
 * The entity schemas through the ORM, as the API and the pathway engine will use them: relations load,
 * arrays and JSON round-trip, and the database's own checks hold.
 */
import { createHash, randomUUID } from 'node:crypto';
import { PathwayVersionSchema, SettingSchema, StaffSchema } from '../../store';
import { seedSetting } from './seed';
import { useMigratedStore } from './store-fixture';

const db = useMigratedStore('entities');

describe('settings', () => {
  it('require an establishment type for a prison and refuse one for anything else', async () => {
    const em = db.store.fork();
    em.create(SettingSchema, { odsCode: 'P1', name: 'HMP X', kind: 'prison' });
    await expect(em.flush()).rejects.toThrow(/settings_prison_type_only_for_prisons/);

    const other = db.store.fork();
    other.create(SettingSchema, { odsCode: 'C1', name: 'Leeds Crown Court', kind: 'court', prisonType: 'HMP' });
    await expect(other.flush()).rejects.toThrow(/settings_prison_type_only_for_prisons/);
  });
});

describe('staff', () => {
  it('keeps roles and the settings a person works in', async () => {
    const em = db.store.fork();
    const leeds = await seedSetting(em, { odsCode: 'YLEEDS', name: 'HMP Leeds' });
    const wealstun = await seedSetting(em, { odsCode: 'YWEALS', name: 'HMP Wealstun' });
    const staff = em.create(StaffSchema, { subject: 'oidc|nurse-1', displayName: 'Nurse One', roles: ['clinician'] });
    staff.settings.add(leeds, wealstun);
    await em.flush();

    const loaded = await db.store
      .fork()
      .findOneOrFail(StaffSchema, { subject: 'oidc|nurse-1' }, { populate: ['settings'] });

    expect(loaded.roles).toEqual(['clinician']);
    expect(
      loaded.settings
        .getItems()
        .map((s) => s.odsCode)
        .sort(),
    ).toEqual(['YLEEDS', 'YWEALS']);
  });

  it('refuses an unknown role', async () => {
    const em = db.store.fork();
    em.create(StaffSchema, { subject: 'oidc|x', displayName: 'X', roles: ['superuser' as 'admin'] });
    await expect(em.flush()).rejects.toThrow(/staff_roles_known/);
  });
});

describe('pathway versions', () => {
  const bpmn = (n: number) => `<definitions id="sms-${n}"/>`;
  const checksum = (xml: string) => createHash('sha256').update(xml).digest('hex');

  async function deploy(pathwayId: string, version: number, xml: string) {
    const em = db.store.fork();
    const row = em.create(PathwayVersionSchema, {
      pathwayId,
      version,
      checksum: checksum(xml),
      bpmnXml: xml,
      ir: { elements: [{ id: 'FiveDayReview', type: 'userTask' }] },
      deployedBy: 'commissioner-1',
    });
    await em.flush();
    return row;
  }

  it('stores the BPMN and its IR as deployed', async () => {
    const { id } = await deploy('sms', 1, bpmn(1));
    const loaded = await db.store.fork().findOneOrFail(PathwayVersionSchema, { id });
    expect(loaded).toMatchObject({ pathwayId: 'sms', version: 1, bpmnXml: bpmn(1), checksum: checksum(bpmn(1)) });
    expect(loaded.ir).toEqual({ elements: [{ id: 'FiveDayReview', type: 'userTask' }] });
    expect(loaded.deployedAt).toBeInstanceOf(Date);
  });

  it('refuses a second version with the same number or the same file', async () => {
    await deploy('custody', 1, bpmn(10));
    await expect(deploy('custody', 1, bpmn(11))).rejects.toThrow(/pathway_versions_pathway_id_version_unique/);
    await expect(deploy('custody', 2, bpmn(10))).rejects.toThrow(/pathway_versions_pathway_id_checksum_unique/);
  });

  it('is immutable once deployed', async () => {
    const { id } = await deploy('release', 1, bpmn(20));
    const em = db.store.fork();
    const loaded = await em.findOneOrFail(PathwayVersionSchema, { id });
    loaded.bpmnXml = '<definitions id="changed"/>';
    await expect(em.flush()).rejects.toThrow('pathway_versions is append-only: UPDATE refused');
  });

  it('refuses a checksum that is not a sha256 in hex', async () => {
    const em = db.store.fork();
    em.create(PathwayVersionSchema, {
      pathwayId: 'bad',
      version: 1,
      checksum: randomUUID(),
      bpmnXml: '<x/>',
      ir: {},
      deployedBy: 'c',
    });
    await expect(em.flush()).rejects.toThrow(/pathway_versions_checksum_sha256_hex/);
  });
});
