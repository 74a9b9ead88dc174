import { tokenize } from './query-lexer';
import { parseVisibilityQuery, type Expression, type Literal } from './query-parser';
import { VisibilityQueryError } from './visibility.errors';

function parseError(query: string): VisibilityQueryError {
  try {
    parseVisibilityQuery(query);
  } catch (error) {
    if (error instanceof VisibilityQueryError) return error;
    throw error;
  }
  throw new Error(`expected ${query} to be refused`);
}

function showValue(literal: Literal): string {
  switch (literal.kind) {
    case 'string':
      return `'${literal.value}'`;
    case 'number':
      return literal.text;
    case 'bool':
      return String(literal.value);
    case 'now':
      return `NOW()${literal.offset}`;
  }
}

/** A compact rendering of the AST, so precedence reads at a glance. */
function show(expression: Expression | undefined): string {
  if (!expression) return '';
  switch (expression.kind) {
    case 'and':
    case 'or':
      return `(${show(expression.left)} ${expression.kind.toUpperCase()} ${show(expression.right)})`;
    case 'not':
      return `NOT ${show(expression.operand)}`;
    case 'comparison':
      return `${expression.attribute.name}${expression.operator}${showValue(expression.value)}`;
    case 'in':
      return `${expression.attribute.name} ${expression.negated ? 'NOT IN' : 'IN'} ${expression.values.length}`;
    case 'between':
      return `${expression.attribute.name} ${expression.negated ? 'NOT BETWEEN' : 'BETWEEN'}`;
    case 'startsWith':
      return `${expression.attribute.name} ${expression.negated ? 'NOT STARTS_WITH' : 'STARTS_WITH'}`;
    case 'isNull':
      return `${expression.attribute.name} ${expression.negated ? 'IS NOT NULL' : 'IS NULL'}`;
  }
}

describe('tokenize', () => {
  it('reads single- and double-quoted strings with doubled quotes and backslash escapes', () => {
    // given a query with every quoting form
    const tokens = tokenize(`A = 'it''s' AND B = "say ""hi""" AND C = 'a\\'b\\n'`);
    // then the strings come back unescaped
    expect(tokens.filter((t) => t.type === 'string').map((t) => t.value)).toEqual(["it's", 'say "hi"', "a'b\n"]);
  });

  it('reads backticked names, numbers and operators with their positions', () => {
    const tokens = tokenize('`Case Setting` <> -1.5e3');
    expect(tokens.map((t) => [t.type, t.value, t.position])).toEqual([
      ['quotedName', 'Case Setting', 0],
      ['operator', '!=', 15],
      ['operator', '-', 18],
      ['number', '1.5e3', 19],
      ['end', '', 24],
    ]);
  });

  it('reads NOW() with an optional signed duration as one token', () => {
    const tokens = tokenize('StartTime > now ( ) - 1h30m AND X < NOW()');
    expect(tokens.filter((t) => t.type === 'now').map((t) => t.value)).toEqual(['-1h30m', '']);
  });

  it('refuses an unterminated string, naming where it starts', () => {
    expect(() => tokenize("WorkflowId = 'case-1")).toThrow(/unterminated string starting at position 13/);
  });

  it('refuses a character outside the language', () => {
    expect(() => tokenize('WorkflowId ~ 1')).toThrow(/unexpected character '~' at position 11/);
  });
});

describe('parseVisibilityQuery', () => {
  it('parses an empty query as no condition', () => {
    expect(parseVisibilityQuery('   ')).toEqual({ where: undefined, orderBy: [], groupBy: [] });
  });

  it.each([
    ['=', "A = 'x'"],
    ['!=', "A != 'x'"],
    ['!=', "A <> 'x'"],
    ['<', 'A < 1'],
    ['<=', 'A <= 1'],
    ['>', 'A > 1'],
    ['>=', 'A >= 1'],
  ])('parses the comparison operator %s', (operator, query) => {
    const { where } = parseVisibilityQuery(query);
    expect(where).toMatchObject({ kind: 'comparison', operator, attribute: { name: 'A' } });
  });

  it('parses IN, NOT IN, BETWEEN, NOT BETWEEN, STARTS_WITH, NOT STARTS_WITH, IS NULL and IS NOT NULL', () => {
    const shown = [
      "A IN ('x', 'y')",
      "A NOT IN ('x')",
      'A BETWEEN 1 AND 2',
      'A NOT BETWEEN 1 AND 2',
      "A STARTS_WITH 'x'",
      "A NOT STARTS_WITH 'x'",
      'A IS NULL',
      'A IS NOT NULL',
    ].map((query) => show(parseVisibilityQuery(query).where));
    expect(shown).toEqual([
      'A IN 2',
      'A NOT IN 1',
      'A BETWEEN',
      'A NOT BETWEEN',
      'A STARTS_WITH',
      'A NOT STARTS_WITH',
      'A IS NULL',
      'A IS NOT NULL',
    ]);
  });

  it('binds AND tighter than OR, and NOT tighter than AND', () => {
    const { where } = parseVisibilityQuery('A = 1 OR B = 2 AND NOT C = 3');
    expect(show(where)).toBe('(A=1 OR (B=2 AND NOT C=3))');
  });

  it('accepts nesting up to the limit', () => {
    const { where } = parseVisibilityQuery(`${'('.repeat(100)}WorkflowId IS NULL${')'.repeat(100)}`);
    expect(show(where)).toBe('WorkflowId IS NULL');
  });

  it('lets parentheses override precedence', () => {
    const { where } = parseVisibilityQuery('(A IS NULL OR B IS NULL) AND C IS NULL');
    expect(show(where)).toBe('((A IS NULL OR B IS NULL) AND C IS NULL)');
  });

  it('reads keywords in any case', () => {
    const { where, orderBy, groupBy } = parseVisibilityQuery(
      "a is not null and b not in ('x') or c starts_with 'y' order by a desc, b group by ExecutionStatus",
    );
    expect(show(where)).toBe('((a IS NOT NULL AND b NOT IN 1) OR c STARTS_WITH)');
    expect(orderBy.map((k) => [k.attribute.name, k.descending])).toEqual([
      ['a', true],
      ['b', false],
    ]);
    expect(groupBy.map((g) => g.name)).toEqual(['ExecutionStatus']);
  });

  it('accepts ORDER BY or GROUP BY without a condition', () => {
    expect(parseVisibilityQuery('ORDER BY StartTime ASC').orderBy).toHaveLength(1);
    expect(parseVisibilityQuery('GROUP BY ExecutionStatus').groupBy).toHaveLength(1);
  });

  it('reads values of every kind', () => {
    const { where } = parseVisibilityQuery('A IN (\'s\', "d", 12, -3.5, +4, TRUE, false, NOW() - 2d)');
    expect(where).toMatchObject({
      values: [
        { kind: 'string', value: 's' },
        { kind: 'string', value: 'd' },
        { kind: 'number', text: '12' },
        { kind: 'number', text: '-3.5' },
        { kind: 'number', text: '4' },
        { kind: 'bool', value: true },
        { kind: 'bool', value: false },
        { kind: 'now', offset: '-2d' },
      ],
    });
  });

  it('lets a backticked name be a keyword or contain spaces', () => {
    const { where } = parseVisibilityQuery("`Order` = 'x' AND `Case Setting` = 'y'");
    expect(show(where)).toBe("(Order='x' AND Case Setting='y')");
  });

  it('hints at a missing quote when a bare word stands on the right', () => {
    const error = parseError('ExecutionStatus = Running');
    expect(error.message).toBe(
      "invalid query: operation is not supported: column name on the right side of comparison expression (did you forget to quote 'Running'?) (at position 18)",
    );
    expect(error.position).toBe(18);
    expect(error.code).toBe('INVALID_QUERY');
  });

  it.each([
    ["WorkflowId = 'a' LIMIT 10", "operation is not supported: 'LIMIT' clause"],
    ['WorkflowId IS 1', "'IS' operator can only be used as 'IS NULL' or 'IS NOT NULL'"],
    ["WorkflowId LIKE 'a%'", "operator 'LIKE' is not supported"],
    ['WorkflowId', "incomplete expression after 'WorkflowId'"],
    ["(WorkflowId = 'a'", "expected ')' but found the end of the query at position 17"],
    ["WorkflowId = 'a' WorkflowType = 'b'", "expected AND, OR, ORDER BY or GROUP BY but found 'WorkflowType'"],
    ["'a' = WorkflowId", "must be a search attribute name but was string 'a'"],
    ["WorkflowId = 'a' AND", 'expected a search attribute name but found the end of the query'],
    ['WorkflowId IN ()', "expected a value but found ')'"],
    ["WorkflowId NOT = 'a'", 'expected IN, BETWEEN or STARTS_WITH after NOT'],
    ["WorkflowId BETWEEN 'a' OR 'b'", "expected AND but found 'OR'"],
    ['ORDER StartTime', "expected BY but found 'StartTime'"],
    ['CloseTime = NULL', "compare with NULL using 'IS NULL' or 'IS NOT NULL'"],
    [`${'('.repeat(101)}WorkflowId IS NULL${')'.repeat(101)}`, 'nested more than 100 deep'],
    [`${'NOT '.repeat(101)}WorkflowId IS NULL`, 'nested more than 100 deep'],
  ])('refuses %s', (query, detail) => {
    expect(parseError(query).message).toContain(detail);
  });
});
