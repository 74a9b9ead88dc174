import { compileVisibilityQuery, type CompileVisibilityQueryOptions } from './query-compiler';
import { normaliseRfc3339 } from './rfc3339';
import { IndexedValueTypes } from './search-attribute-types';
import { VisibilityQueryError } from './visibility.errors';

const customAttributes = {
  PathwayId: IndexedValueTypes.KeywordList,
  CaseSetting: IndexedValueTypes.Keyword,
  Notes: IndexedValueTypes.Text,
  ReviewCount: IndexedValueTypes.Int,
  RiskScore: IndexedValueTypes.Double,
  Urgent: IndexedValueTypes.Bool,
  DueAt: IndexedValueTypes.Datetime,
};

function compile(query: string, options: Partial<CompileVisibilityQueryOptions> = {}) {
  return compileVisibilityQuery(query, { customAttributes: { ...customAttributes, "Odd'Name": 2 }, ...options });
}

function refusal(query: string, options: Partial<CompileVisibilityQueryOptions> = {}): VisibilityQueryError {
  try {
    compile(query, options);
  } catch (error) {
    if (error instanceof VisibilityQueryError) return error;
    throw error;
  }
  throw new Error(`expected ${query} to be refused`);
}

describe('compileVisibilityQuery', () => {
  it('compiles an empty query to TRUE with the default order', () => {
    expect(compile('')).toEqual({ where: 'TRUE', params: [], orderBy: 'start_time DESC, run_id' });
    expect(compileVisibilityQuery(undefined, { customAttributes })).toEqual(compile(''));
  });

  it('maps system attributes to their columns and keeps every value in a parameter', () => {
    // given the first example
    const compiled = compile(
      "WorkflowType = 'RunPathway' AND ExecutionStatus = 'Running' AND StartTime > '2026-01-01T00:00:00Z' ORDER BY StartTime DESC",
    );
    // then
    expect(compiled.where).toBe(
      '((workflow_type = $1::text) AND (status = $2::smallint) AND (start_time > $3::timestamptz))',
    );
    expect(compiled.params).toEqual(['RunPathway', 1, '2026-01-01T00:00:00Z']);
    expect(compiled.orderBy).toBe('start_time DESC NULLS LAST, run_id');
  });

  it('numbers parameters from firstParam', () => {
    const compiled = compile("WorkflowId = 'a' OR RunId = 'b'", { firstParam: 3 });
    expect(compiled.where).toBe('((workflow_id = $3::text) OR (run_id = $4::text))');
  });

  it('never writes a value into the SQL, however it is quoted', () => {
    const hostile = "x'); DROP TABLE executions; --";
    const compiled = compile(`WorkflowId = "${hostile}" OR CaseSetting = "${hostile}"`);
    expect(compiled.where).not.toContain('DROP');
    expect(compiled.params).toEqual([hostile, JSON.stringify({ CaseSetting: hostile })]);
  });

  it('uses jsonb containment for Keyword, KeywordList and Bool equality so a GIN index can serve it', () => {
    const compiled = compile("CaseSetting = 'HMP-LEEDS' AND PathwayId IN ('sms', 'custody') AND Urgent = true");
    expect(compiled.where).toBe(
      '(search_attributes @> $1::jsonb AND (search_attributes @> $2::jsonb OR search_attributes @> $3::jsonb) AND search_attributes @> $4::jsonb)',
    );
    expect(compiled.params).toEqual([
      '{"CaseSetting":"HMP-LEEDS"}',
      '{"PathwayId":["sms"]}',
      '{"PathwayId":["custody"]}',
      '{"Urgent":true}',
    ]);
  });

  it('casts Int, Double and Datetime values read from jsonb, guarded by their JSON type', () => {
    const compiled = compile("ReviewCount >= 2 AND RiskScore < 0.5 AND DueAt <= '2026-03-01T09:00:00+01:00'");
    expect(compiled.where).toContain(
      "(CASE WHEN jsonb_typeof(search_attributes->'ReviewCount') = 'number' THEN (search_attributes->>'ReviewCount')::numeric END) >= $1::numeric",
    );
    expect(compiled.where).toContain("THEN (search_attributes->>'RiskScore')::numeric END) < $2::numeric");
    expect(compiled.where).toContain("THEN (search_attributes->>'DueAt')::timestamptz END) <= $3::timestamptz");
    expect(compiled.params).toEqual(['2', '0.5', '2026-03-01T09:00:00+01:00']);
  });

  it('matches Text attributes word by word, any word matching, with PostgreSQL splitting both sides', () => {
    const compiled = compile("Notes = 'Missed appointment, HMP-Leeds'");
    expect(compiled.where).toBe(
      "(to_tsvector('simple', (search_attributes->>'Notes')) @@ replace(plainto_tsquery('simple', $1::text)::text, ' & ', ' | ')::tsquery)",
    );
    expect(compiled.params).toEqual(['Missed appointment, HMP-Leeds']);
  });

  it('compiles != and the NOT forms as negations that stay unknown for a missing attribute', () => {
    expect(compile("CaseSetting != 'a'").where).toBe("NOT ((search_attributes->>'CaseSetting') = $1::text)");
    expect(compile("PathwayId NOT IN ('sms')").where).toBe(
      "NOT ((CASE WHEN jsonb_typeof(search_attributes->'PathwayId') = 'array' THEN search_attributes->'PathwayId' END) @> $1::jsonb)",
    );
    expect(compile('ReviewCount NOT BETWEEN 1 AND 2').where).toMatch(
      /^NOT \(\(CASE .* BETWEEN \$1::numeric AND \$2::numeric\)$/,
    );
    expect(compile("WorkflowId NOT STARTS_WITH 'case-'").where).toBe('NOT (workflow_id LIKE $1::text)');
    expect(compile('CloseTime IS NOT NULL').where).toBe('NOT (close_time IS NULL)');
  });

  it('pushes NOT through AND and OR', () => {
    const compiled = compile("NOT (CaseSetting = 'a' OR NOT WorkflowId = 'b')");
    // NOT (A OR NOT B) = NOT A AND B; B is back in positive form
    expect(compiled.where).toBe("(NOT ((search_attributes->>'CaseSetting') = $1::text) AND (workflow_id = $2::text))");
  });

  it('compiles a chain of thousands of ORs without exhausting the stack', () => {
    const query = Array.from({ length: 20_000 }, (_, i) => `WorkflowId = 'case-${i}'`).join(' OR ');
    const compiled = compile(query);
    expect(compiled.params).toHaveLength(20_000);
    expect(compiled.where.startsWith('((workflow_id = $1::text) OR (workflow_id = $2::text) OR')).toBe(true);
  });

  it('escapes LIKE wildcards in a STARTS_WITH prefix', () => {
    expect(compile("CaseSetting STARTS_WITH '50%_a\\\\'").params).toEqual(['50\\%\\_a\\\\%']);
  });

  it('compares Keyword ranges by code point', () => {
    expect(compile("WorkflowId > 'case-5' AND CaseSetting BETWEEN 'A' AND 'M'").where).toBe(
      '((workflow_id COLLATE "C" > $1::text) AND ((search_attributes->>\'CaseSetting\') COLLATE "C" BETWEEN $2::text AND $3::text))',
    );
  });

  it('reads ExecutionStatus names, proto names and numbers, and STARTS_WITH on the names', () => {
    expect(compile("ExecutionStatus IN ('Completed', 'WORKFLOW_EXECUTION_STATUS_TIMED_OUT', 4)").params).toEqual([
      2, 7, 4,
    ]);
    const prefix = compile("ExecutionStatus STARTS_WITH 'C'");
    expect(prefix.where).toBe('(status IN ($1::smallint, $2::smallint, $3::smallint))');
    expect(prefix.params).toEqual([2, 4, 6]);
    expect(compile("ExecutionStatus STARTS_WITH 'X'").where).toBe('FALSE');
  });

  it('accepts predefined TemporalChangeVersion without registration', () => {
    const compiled = compile("TemporalChangeVersion = 'review-timers-v2'", { customAttributes: {} });
    expect(compiled.params).toEqual(['{"TemporalChangeVersion":["review-timers-v2"]}']);
  });

  it('reads Datetime values as RFC 3339, Unix nanoseconds or NOW() with an offset', () => {
    const now = new Date('2026-05-01T12:00:00.000Z');
    const compiled = compile(
      "StartTime > '2026-01-01T00:00:00.123456789Z' AND StartTime > 1767225600123456789 AND StartTime > NOW() - 1d12h",
      { now },
    );
    expect(compiled.params).toEqual([
      '2026-01-01T00:00:00.123456Z',
      '2026-01-01T00:00:00.123456Z',
      '2026-04-30T00:00:00.000Z',
    ]);
  });

  it('orders by several keys, each either way, with missing values last and run_id breaking ties', () => {
    const compiled = compile('ORDER BY CaseSetting, CloseTime DESC, ReviewCount ASC');
    expect(compiled.orderBy).toBe(
      "(search_attributes->>'CaseSetting') ASC NULLS LAST, close_time DESC NULLS LAST, (CASE WHEN jsonb_typeof(search_attributes->'ReviewCount') = 'number' THEN (search_attributes->>'ReviewCount')::numeric END) ASC NULLS LAST, run_id",
    );
  });

  it('reports GROUP BY ExecutionStatus for Count and refuses it for List', () => {
    expect(compile("ExecutionStatus != 'Completed' GROUP BY ExecutionStatus")).toMatchObject({
      where: 'NOT (status = $1::smallint)',
      groupBy: 'ExecutionStatus',
    });
    expect(refusal('GROUP BY ExecutionStatus', { operation: 'list' }).message).toBe(
      "invalid query: operation is not supported: 'GROUP BY' clause",
    );
  });

  it.each([
    ['Missing = 1', "invalid expression: column name 'Missing' is not a valid search attribute (at position 0)"],
    ['constructor = 1', "column name 'constructor' is not a valid search attribute"],
    ["`Odd'Name` = 'x'", "search attribute name 'Odd'Name' cannot be queried"],
    [
      "ReviewCount = 'two'",
      "invalid expression: invalid value type for search attribute ReviewCount of type Int: 'two' (type: string) (at position 14)",
    ],
    ['CaseSetting = 5', 'invalid value type for search attribute CaseSetting of type Keyword: 5 (type: int64)'],
    ["Urgent = 'yes'", 'invalid value type for search attribute Urgent of type Bool'],
    ['PathwayId = true', 'invalid value type for search attribute PathwayId of type KeywordList: true (type: bool)'],
    ["DueAt > '2026-01-01'", "unable to parse datetime '2026-01-01' for search attribute DueAt"],
    ["DueAt > '2026-02-30T00:00:00Z'", "unable to parse datetime '2026-02-30T00:00:00Z'"],
    ['DueAt > 1.5', 'invalid value type for search attribute DueAt of type Datetime: 1.5 (type: float64)'],
    ["ExecutionStatus = 'Done'", "invalid ExecutionStatus value 'Done'"],
    ['ExecutionStatus = 42', 'invalid ExecutionStatus value 42'],
    ["ExecutionStatus > 'Running'", "operator '>' not supported for Keyword type search attribute 'ExecutionStatus'"],
    ["Notes > 'a'", "operator '>' not supported for Text type search attribute 'Notes'"],
    [
      "PathwayId STARTS_WITH 'a'",
      "operator 'STARTS_WITH' not supported for KeywordList type search attribute 'PathwayId'",
    ],
    ['ReviewCount STARTS_WITH 1', "operator 'STARTS_WITH' not supported for Int type"],
    ['Urgent > false', "operator '>' not supported for Bool type"],
    ['Urgent BETWEEN false AND true', "cannot do range condition on search attribute 'Urgent' of type Bool"],
    ["Notes = ' ,; '", 'no tokens found filtering on Text type search attribute Notes'],
    ['StartTime > NOW() - 3fortnights', "invalid NOW() duration '3fortnights'"],
    ['ORDER BY Notes', 'unable to sort by search attribute type Text'],
    ['GROUP BY CaseSetting', "'GROUP BY' clause is only supported for ExecutionStatus"],
    ['GROUP BY ExecutionStatus, WorkflowType', "'GROUP BY' clause supports only a single field"],
  ])('refuses %s', (query, message) => {
    expect(refusal(query).message).toContain(message);
  });
});

describe('normaliseRfc3339', () => {
  it('keeps offsets and truncates to microseconds', () => {
    expect(normaliseRfc3339('2026-06-30T23:59:59.9876543+05:30')).toBe('2026-06-30T23:59:59.987654+05:30');
    expect(normaliseRfc3339('2024-02-29t10:00:00z')).toBe('2024-02-29T10:00:00Z');
  });

  it.each([
    '2026-13-01T00:00:00Z',
    '2025-02-29T00:00:00Z',
    '2026-01-01T24:00:00Z',
    '2026-01-01 00:00:00Z',
    'yesterday',
  ])('refuses %s', (text) => {
    expect(normaliseRfc3339(text)).toBeUndefined();
  });
});
