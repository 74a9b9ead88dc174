/**
 * Builders for the record store's tests: valid rows with overrides, written through a forked EntityManager.
 */
import { randomUUID } from 'node:crypto';
import { type StoreEntityManager } from '../../store';
import { CaseSchema, PatientSchema, SettingSchema, type Case, type Patient, type Setting } from '../../store';

/** Valid NHS numbers from the PDS sandbox (REFERENCE §1.8), so the Modulus 11 check passes. */
export const SANDBOX_NHS_NUMBERS = ['9000000009', '9000000017', '9000000025', '9000000033', '9000000041'];

let nhsIndex = 0;
/** A valid NHS number not used before in this test process (Modulus 11 computed, not guessed). */
export function nextValidNhsNumber(): string {
  for (;;) {
    const stem = String(900_000_100 + nhsIndex++).padStart(9, '0');
    const sum = [...stem].reduce((acc, d, i) => acc + Number(d) * (10 - i), 0);
    const check = 11 - (sum % 11);
    if (check === 10) continue;
    return `${stem}${check === 11 ? 0 : check}`;
  }
}

export async function seedSetting(em: StoreEntityManager, overrides: Partial<Setting> = {}): Promise<Setting> {
  const setting = em.create(SettingSchema, {
    odsCode: `T${randomUUID().slice(0, 6).toUpperCase()}`,
    name: 'HMP Test',
    kind: 'prison',
    prisonType: 'HMP',
    ...overrides,
  });
  await em.persistAndFlush(setting);
  return setting;
}

export async function seedPatient(em: StoreEntityManager, overrides: Partial<Patient> = {}): Promise<Patient> {
  const patient = em.create(PatientSchema, { nhsNumber: nextValidNhsNumber(), ...overrides });
  await em.persistAndFlush(patient);
  return patient;
}

export async function seedCase(
  em: StoreEntityManager,
  overrides: Partial<Case> = {},
): Promise<{ patient: Patient; setting: Setting; case: Case }> {
  const patient = await seedPatient(em);
  const setting = await seedSetting(em);
  const id = randomUUID();
  const kase = em.create(CaseSchema, {
    id,
    patient,
    setting,
    pathwayId: 'sms',
    pathwayVersion: 1,
    workflowId: `case-${id}`,
    openedAt: new Date(),
    ...overrides,
  });
  await em.persistAndFlush(kase);
  return { patient, setting, case: kase };
}
