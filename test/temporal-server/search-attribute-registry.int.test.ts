/**
 * The search attribute registry against a real PostgreSQL: idempotent DDL, per-namespace attributes,
 * Temporal's refusals, and all-or-nothing changes under concurrency.
 */
import { Pool } from 'pg';
import { useFreshDatabase } from '../support/database';
import {
  createSearchAttributeRegistry,
  IndexedValueTypes,
  VisibilityError,
  type SearchAttributeRegistry,
} from '../../temporal-server/visibility';

let pool: Pool | undefined;
// Registered before useFreshDatabase's hooks so the pool closes before its database is dropped.
afterAll(async () => {
  await pool?.end();
});
const db = useFreshDatabase('registry');

function registry(): SearchAttributeRegistry {
  if (!pool) throw new Error('the pool is created in beforeAll');
  return createSearchAttributeRegistry(pool, 'temporal');
}

async function refusal(attempt: Promise<unknown>): Promise<VisibilityError> {
  try {
    await attempt;
  } catch (error) {
    if (error instanceof VisibilityError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

beforeAll(async () => {
  pool = new Pool({ connectionString: db.url, max: 4 });
  await registry().ensureSchema();
});

describe('search attribute registry', () => {
  it('creates its schema idempotently, even when several starts race', async () => {
    await Promise.all([registry().ensureSchema(), registry().ensureSchema(), registry().ensureSchema()]);
    expect(await registry().list('nobody')).toEqual({});
  });

  it('lists what a namespace registered, and nothing of other namespaces', async () => {
    // given
    await registry().add('ns-list', {
      CaseSetting: IndexedValueTypes.Keyword,
      PathwayId: IndexedValueTypes.KeywordList,
    });
    await registry().add('ns-other', { Score: IndexedValueTypes.Int });
    // then
    expect(await registry().list('ns-list')).toEqual({
      CaseSetting: IndexedValueTypes.Keyword,
      PathwayId: IndexedValueTypes.KeywordList,
    });
    expect(await registry().list('ns-other')).toEqual({ Score: IndexedValueTypes.Int });
  });

  it('accepts every indexed value type', async () => {
    const all = {
      AText: IndexedValueTypes.Text,
      AKeyword: IndexedValueTypes.Keyword,
      AnInt: IndexedValueTypes.Int,
      ADouble: IndexedValueTypes.Double,
      ABool: IndexedValueTypes.Bool,
      ADatetime: IndexedValueTypes.Datetime,
      AKeywordList: IndexedValueTypes.KeywordList,
    };
    await registry().add('ns-types', all);
    expect(await registry().list('ns-types')).toEqual(all);
  });

  it('treats adding a name again with the same type as done', async () => {
    await registry().add('ns-again', { CaseSetting: IndexedValueTypes.Keyword });
    await registry().add('ns-again', { CaseSetting: IndexedValueTypes.Keyword, Notes: IndexedValueTypes.Text });
    expect(await registry().list('ns-again')).toEqual({
      CaseSetting: IndexedValueTypes.Keyword,
      Notes: IndexedValueTypes.Text,
    });
  });

  it('refuses a name registered with another type as ALREADY_EXISTS, applying nothing of the request', async () => {
    // given
    await registry().add('ns-conflict', { CaseSetting: IndexedValueTypes.Keyword });
    // when
    const error = await refusal(
      registry().add('ns-conflict', { Fresh: IndexedValueTypes.Bool, CaseSetting: IndexedValueTypes.Text }),
    );
    // then
    expect(error).toMatchObject({ code: 'SEARCH_ATTRIBUTE_ALREADY_EXISTS', grpcStatus: 6 });
    expect(error.message).toBe('Search attribute CaseSetting already exists with type Keyword.');
    expect(await registry().list('ns-conflict')).toEqual({ CaseSetting: IndexedValueTypes.Keyword });
  });

  it('lets exactly one of two concurrent adds of a name with different types win', async () => {
    const results = await Promise.allSettled([
      registry().add('ns-race', { Contended: IndexedValueTypes.Int }),
      registry().add('ns-race', { Contended: IndexedValueTypes.Keyword }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    // the loser is told why, not handed a unique-key violation
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected?.reason).toMatchObject({ code: 'SEARCH_ATTRIBUTE_ALREADY_EXISTS' });
    expect(Object.keys(await registry().list('ns-race'))).toEqual(['Contended']);
  });

  it.each([
    ['a system attribute', 'WorkflowId', 'Search attribute WorkflowId is reserved by system.'],
    ['the predefined TemporalChangeVersion', 'TemporalChangeVersion', 'is reserved by system'],
    ['a Temporal-prefixed name', 'TemporalAnything', 'is reserved by system'],
    ["another of Temporal's system names", 'HistoryLength', 'is reserved by system'],
    ['a name with a space', 'Case Setting', 'is invalid'],
    ['a name starting with a digit', '1Case', 'is invalid'],
  ])('refuses to register %s', async (_what, name, message) => {
    const error = await refusal(registry().add('ns-refuse', { [name]: IndexedValueTypes.Keyword }));
    expect(error).toMatchObject({ code: 'INVALID_SEARCH_ATTRIBUTE_DEFINITION', grpcStatus: 3 });
    expect(error.message).toContain(message);
  });

  it('refuses an unknown type and an empty request', async () => {
    expect((await refusal(registry().add('ns-refuse', { Odd: 9 as never }))).message).toBe(
      'Unknown search attribute type: 9.',
    );
    expect((await refusal(registry().add('ns-refuse', { Odd: 0 }))).message).toBe('Unknown search attribute type: 0.');
    expect((await refusal(registry().add('ns-refuse', {}))).message).toBe('SearchAttributes are not set on request.');
    expect(await registry().list('ns-refuse')).toEqual({});
  });

  it('removes registered attributes', async () => {
    await registry().add('ns-remove', {
      A: IndexedValueTypes.Keyword,
      B: IndexedValueTypes.Int,
      C: IndexedValueTypes.Bool,
    });
    await registry().remove('ns-remove', ['A', 'C']);
    expect(await registry().list('ns-remove')).toEqual({ B: IndexedValueTypes.Int });
  });

  it('refuses to remove an unknown name as NOT_FOUND, removing nothing', async () => {
    await registry().add('ns-remove-missing', { Kept: IndexedValueTypes.Keyword });
    const error = await refusal(registry().remove('ns-remove-missing', ['Kept', 'Missing']));
    expect(error).toMatchObject({ code: 'SEARCH_ATTRIBUTE_NOT_FOUND', grpcStatus: 5 });
    expect(error.message).toBe("Search attribute Missing doesn't exist.");
    expect(await registry().list('ns-remove-missing')).toEqual({ Kept: IndexedValueTypes.Keyword });
  });

  it('refuses to remove a system attribute', async () => {
    const error = await refusal(registry().remove('ns-remove-missing', ['ExecutionStatus']));
    expect(error.message).toBe('Unable to remove non-custom search attributes: ExecutionStatus.');
  });

  it('lets a removed name be registered again with another type', async () => {
    await registry().add('ns-readd', { Flexible: IndexedValueTypes.Keyword });
    await registry().remove('ns-readd', ['Flexible']);
    await registry().add('ns-readd', { Flexible: IndexedValueTypes.Int });
    expect(await registry().list('ns-readd')).toEqual({ Flexible: IndexedValueTypes.Int });
  });
});
