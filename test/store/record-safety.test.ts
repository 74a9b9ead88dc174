/**
 * The clinical-safety rules the database enforces itself, tried through raw SQL as a careless script would:
 * append-only notes, assessments and audit events, resolve-only alerts, and valid NHS numbers.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { isValidNhsNumber } from '../../domain/nhs-number';
import { InvalidNhsNumberError, PatientSchema, type Store } from '../../store';
import { seedCase } from './seed';
import { useMigratedStore } from './store-fixture';

const db = useMigratedStore('safety');
let store: Store;
let sql: Client;
let ids: { patient: string; case: string };

beforeAll(async () => {
  store = db.store;
  sql = new Client({ connectionString: db.url });
  await sql.connect();
  db.onClose(() => sql.end());
  const seeded = await seedCase(store.fork());
  ids = { patient: seeded.patient.id, case: seeded.case.id };
});

async function insertNote(amends?: string): Promise<string> {
  const id = randomUUID();
  await sql.query(
    `insert into notes (id, patient_id, case_id, body, author_id, author_role, amends_id, amendment_reason)
     values ($1, $2, $3, 'Seen on the wing; settled.', 'staff-1', 'clinician', $4, $5)`,
    [id, ids.patient, ids.case, amends ?? null, amends ? 'wrong wing recorded' : null],
  );
  return id;
}

describe('patients', () => {
  it('refuses an NHS number that fails Modulus 11 before it reaches the database', async () => {
    const em = store.fork();
    em.create(PatientSchema, { nhsNumber: '9000000001' });
    await expect(em.flush()).rejects.toBeInstanceOf(InvalidNhsNumberError);
    expect(await store.fork().count(PatientSchema, { nhsNumber: '9000000001' })).toBe(0);
  });

  it('stores the NHS number without the spaces of its display form', async () => {
    const em = store.fork();
    const patient = em.create(PatientSchema, { nhsNumber: '943 476 5919' });
    await em.flush();
    expect(patient.nhsNumber).toBe('9434765919');
  });

  it('refuses a second patient with the same NHS number', async () => {
    const em = store.fork();
    em.create(PatientSchema, { nhsNumber: '9434765919' });
    await expect(em.flush()).rejects.toMatchObject({ name: 'UniqueConstraintViolationException' });
  });

  it('refuses through raw SQL an NHS number that is not ten digits', async () => {
    await expect(
      sql.query(`insert into patients (id, nhs_number) values ($1, 'ABC1234567')`, [randomUUID()]),
    ).rejects.toThrow(/patients_nhs_number_(ten_digits|modulus_11)/);
  });

  it('refuses through raw SQL an NHS number whose check digit is wrong', async () => {
    await expect(
      sql.query(`insert into patients (id, nhs_number) values ($1, '9000000001')`, [randomUUID()]),
    ).rejects.toThrow(/patients_nhs_number_modulus_11/);
  });

  it('applies in SQL exactly the Modulus 11 rule the application applies', async () => {
    // every check digit for a spread of stems, including stems whose check value is 10 (never issued)
    const candidates = Array.from({ length: 300 }, (_, i) => String(400_000_000 + i * 1_999_993).slice(0, 9)).flatMap(
      (stem) => Array.from({ length: 10 }, (_, d) => `${stem}${d}`),
    );
    const { rows } = await sql.query<{ n: string; valid: boolean }>(
      'select n, throughcare_is_valid_nhs_number(n) as valid from unnest($1::text[]) as n',
      [candidates],
    );
    const disagreements = rows.filter((r) => r.valid !== isValidNhsNumber(r.n));
    expect(disagreements).toEqual([]);
    expect(rows.filter((r) => r.valid).length).toBeGreaterThan(200);
  });
});

describe.each([
  ['notes', () => insertNote()],
  [
    'assessments',
    async () => {
      const id = randomUUID();
      await sql.query(
        `insert into assessments (id, patient_id, case_id, form_id, form_version, data, submitted_by)
         values ($1, $2, $3, 'risk-assessment', '1', '{"selfHarm": false}', 'staff-1')`,
        [id, ids.patient, ids.case],
      );
      return id;
    },
  ],
  [
    'audit_events',
    async () => {
      const id = randomUUID();
      await sql.query(
        `insert into audit_events (id, actor_id, actor_role, action, entity_type, entity_id, patient_id)
         values ($1, 'staff-1', 'clinician', 'read', 'Patient', $2, $3)`,
        [id, ids.patient, ids.patient],
      );
      return id;
    },
  ],
])('%s', (table, insert) => {
  it('refuses UPDATE through raw SQL', async () => {
    const id = await insert();
    await expect(sql.query(`update ${table} set id = id where id = $1`, [id])).rejects.toThrow(
      `${table} is append-only: UPDATE refused`,
    );
  });

  it('refuses DELETE through raw SQL', async () => {
    const id = await insert();
    await expect(sql.query(`delete from ${table} where id = $1`, [id])).rejects.toThrow(
      `${table} is append-only: DELETE refused`,
    );
    expect((await sql.query(`select 1 from ${table} where id = $1`, [id])).rowCount).toBe(1);
  });

  it('refuses TRUNCATE through raw SQL', async () => {
    await expect(sql.query(`truncate ${table} cascade`)).rejects.toThrow(`${table} is append-only: TRUNCATE refused`);
  });
});

describe('note amendments', () => {
  it('chain each correction to the note it corrects, leaving the original as written', async () => {
    const original = await insertNote();
    const first = await insertNote(original);
    const second = await insertNote(first);
    const { rows } = await sql.query<{ id: string; amends_id: string | null }>(
      `with recursive chain as (
         select id, amends_id, 0 as depth from notes where id = $1
         union all select n.id, n.amends_id, c.depth + 1 from notes n join chain c on n.amends_id = c.id)
       select id, amends_id from chain order by depth`,
      [original],
    );
    expect(rows).toEqual([
      { id: original, amends_id: null },
      { id: first, amends_id: original },
      { id: second, amends_id: first },
    ]);
  });

  it('refuse a second amendment of the same note, so the chain never forks', async () => {
    const original = await insertNote();
    await insertNote(original);
    await expect(insertNote(original)).rejects.toThrow(/notes_amends_id_unique/);
  });

  it('require a reason', async () => {
    const original = await insertNote();
    await expect(
      sql.query(
        `insert into notes (id, patient_id, body, author_id, author_role, amends_id) values ($1, $2, 'x', 's', 'clinician', $3)`,
        [randomUUID(), ids.patient, original],
      ),
    ).rejects.toThrow(/notes_amendment_has_reason/);
  });
});

describe('alerts', () => {
  async function raiseAlert(): Promise<string> {
    const id = randomUUID();
    await sql.query(
      `insert into alerts (id, patient_id, code, code_system, display, severity, raised_by)
       values ($1, $2, 'SH', 'NOMIS', 'Self-harm', 'high', 'staff-1')`,
      [id, ids.patient],
    );
    return id;
  }

  it('can be resolved once and then never re-opened or changed', async () => {
    const id = await raiseAlert();
    await sql.query(
      `update alerts set status = 'resolved', resolved_at = now(), resolved_by = 'staff-2' where id = $1`,
      [id],
    );
    await expect(
      sql.query(`update alerts set status = 'active', resolved_at = null, resolved_by = null where id = $1`, [id]),
    ).rejects.toThrow('alerts can only be resolved, once');
  });

  it('refuses a change to what was raised', async () => {
    const id = await raiseAlert();
    await expect(sql.query(`update alerts set severity = 'low' where id = $1`, [id])).rejects.toThrow(
      'alerts can only be resolved, once',
    );
  });

  it('refuses DELETE', async () => {
    const id = await raiseAlert();
    await expect(sql.query(`delete from alerts where id = $1`, [id])).rejects.toThrow(
      'alerts are kept: DELETE refused',
    );
  });
});
