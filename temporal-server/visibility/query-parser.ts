/**
 * Recursive-descent parser for Temporal's List Filter, producing a small AST that knows nothing of types or
 * SQL. Grammar (keywords case-insensitive):
 *
 *   query      := [expression] { ORDER BY orderKey {, orderKey} | GROUP BY name {, name} }
 *   expression := and { OR and }
 *   and        := not { AND not }
 *   not        := NOT not | '(' expression ')' | predicate
 *   predicate  := name ( '=' | '!=' | '<>' | '<' | '<=' | '>' | '>=' ) value
 *               | name [NOT] IN '(' value {, value} ')'
 *               | name [NOT] BETWEEN value AND value
 *               | name [NOT] STARTS_WITH value
 *               | name IS [NOT] NULL
 *   orderKey   := name [ASC | DESC]
 *   value      := 'string' | "string" | [-|+] number | TRUE | FALSE | NOW() [(+|-) duration]
 *   name       := bare-word | `backticked`
 */
import { tokenize, type Token } from './query-lexer';
import { VisibilityQueryError } from './visibility.errors';

export type ComparisonOperator = '=' | '!=' | '<' | '<=' | '>' | '>=';

export interface AttributeRef {
  readonly name: string;
  readonly position: number;
}

export type Literal =
  | { readonly kind: 'string'; readonly value: string; readonly position: number }
  /** Digits as written (with a leading '-' when negative), so that int64 nanosecond values keep precision. */
  | { readonly kind: 'number'; readonly text: string; readonly position: number }
  | { readonly kind: 'bool'; readonly value: boolean; readonly position: number }
  /** `NOW()` shifted by `offset` (e.g. '-1h30m', or '' for none). */
  | { readonly kind: 'now'; readonly offset: string; readonly position: number };

export type Predicate =
  | {
      readonly kind: 'comparison';
      readonly attribute: AttributeRef;
      readonly operator: ComparisonOperator;
      readonly value: Literal;
    }
  | { readonly kind: 'in'; readonly attribute: AttributeRef; readonly negated: boolean; readonly values: Literal[] }
  | {
      readonly kind: 'between';
      readonly attribute: AttributeRef;
      readonly negated: boolean;
      readonly from: Literal;
      readonly to: Literal;
    }
  | {
      readonly kind: 'startsWith';
      readonly attribute: AttributeRef;
      readonly negated: boolean;
      readonly prefix: Literal;
    }
  | { readonly kind: 'isNull'; readonly attribute: AttributeRef; readonly negated: boolean };

export type Expression =
  | Predicate
  | { readonly kind: 'and' | 'or'; readonly left: Expression; readonly right: Expression }
  | { readonly kind: 'not'; readonly operand: Expression };

export interface OrderKey {
  readonly attribute: AttributeRef;
  readonly descending: boolean;
}

export interface ParsedQuery {
  readonly where?: Expression;
  readonly orderBy: readonly OrderKey[];
  readonly groupBy: readonly AttributeRef[];
}

const KEYWORDS = new Set([
  'AND',
  'OR',
  'NOT',
  'IN',
  'BETWEEN',
  'IS',
  'NULL',
  'STARTS_WITH',
  'ORDER',
  'GROUP',
  'BY',
  'ASC',
  'DESC',
  'TRUE',
  'FALSE',
  'LIMIT',
  'LIKE',
]);

const COMPARISON_OPERATORS = new Set<string>(['=', '!=', '<', '<=', '>', '>=']);

export function parseVisibilityQuery(query: string): ParsedQuery {
  return new Parser(tokenize(query)).parseQuery();
}

/** Parentheses and NOTs nest at most this deep, so a hostile query cannot exhaust the stack. */
export const MAX_NESTING = 100;

class Parser {
  private index = 0;
  private depth = 0;

  constructor(private readonly tokens: Token[]) {}

  parseQuery(): ParsedQuery {
    let where: Expression | undefined;
    let orderBy: OrderKey[] | undefined;
    let groupBy: AttributeRef[] | undefined;
    if (!this.atEnd() && !this.atKeyword('ORDER') && !this.atKeyword('GROUP')) where = this.parseOr();
    while (!this.atEnd()) {
      if (this.atKeyword('ORDER') && !orderBy) {
        this.next();
        this.expectKeyword('BY');
        orderBy = this.parseList(() => this.parseOrderKey());
      } else if (this.atKeyword('GROUP') && !groupBy) {
        this.next();
        this.expectKeyword('BY');
        groupBy = this.parseList(() => this.parseName());
      } else if (this.atKeyword('LIMIT')) {
        throw this.error("operation is not supported: 'LIMIT' clause");
      } else {
        throw this.unexpected(where ? 'AND, OR, ORDER BY or GROUP BY' : 'a condition');
      }
    }
    return { where, orderBy: orderBy ?? [], groupBy: groupBy ?? [] };
  }

  private parseOr(): Expression {
    let left = this.parseAnd();
    while (this.atKeyword('OR')) {
      this.next();
      left = { kind: 'or', left, right: this.parseAnd() };
    }
    return left;
  }

  private parseAnd(): Expression {
    let left = this.parseNot();
    while (this.atKeyword('AND')) {
      this.next();
      left = { kind: 'and', left, right: this.parseNot() };
    }
    return left;
  }

  private parseNot(): Expression {
    if (this.atKeyword('NOT') || this.atOperator('(')) {
      if (++this.depth > MAX_NESTING) throw this.error(`malformed SQL query: nested more than ${MAX_NESTING} deep`);
      try {
        if (this.atKeyword('NOT')) {
          this.next();
          return { kind: 'not', operand: this.parseNot() };
        }
        this.next();
        const inner = this.parseOr();
        this.expectOperator(')');
        return inner;
      } finally {
        this.depth--;
      }
    }
    return this.parsePredicate();
  }

  private parsePredicate(): Predicate {
    const attribute = this.parseName();
    const token = this.peek();
    if (token.type === 'operator' && COMPARISON_OPERATORS.has(token.value)) {
      this.next();
      return { kind: 'comparison', attribute, operator: token.value as ComparisonOperator, value: this.parseValue() };
    }
    if (this.atKeyword('IS')) {
      this.next();
      const negated = this.acceptKeyword('NOT');
      if (!this.atKeyword('NULL')) {
        throw this.error("invalid expression: 'IS' operator can only be used as 'IS NULL' or 'IS NOT NULL'");
      }
      this.next();
      return { kind: 'isNull', attribute, negated };
    }
    const negated = this.acceptKeyword('NOT');
    if (this.acceptKeyword('IN')) {
      this.expectOperator('(');
      const values = this.parseList(() => this.parseValue());
      this.expectOperator(')');
      return { kind: 'in', attribute, negated, values };
    }
    if (this.acceptKeyword('BETWEEN')) {
      const from = this.parseValue();
      this.expectKeyword('AND');
      return { kind: 'between', attribute, negated, from, to: this.parseValue() };
    }
    if (this.acceptKeyword('STARTS_WITH')) {
      return { kind: 'startsWith', attribute, negated, prefix: this.parseValue() };
    }
    if (this.atKeyword('LIKE')) throw this.error("invalid expression: operator 'LIKE' is not supported");
    if (negated) throw this.unexpected('IN, BETWEEN or STARTS_WITH after NOT');
    if (this.atEnd() || this.atKeyword('AND') || this.atKeyword('OR') || this.atOperator(')')) {
      throw this.error(`invalid expression: incomplete expression after '${attribute.name}'`);
    }
    throw this.unexpected('an operator');
  }

  private parseOrderKey(): OrderKey {
    const attribute = this.parseName();
    if (this.acceptKeyword('DESC')) return { attribute, descending: true };
    this.acceptKeyword('ASC');
    return { attribute, descending: false };
  }

  private parseName(): AttributeRef {
    const token = this.peek();
    if (token.type === 'quotedName' || (token.type === 'word' && !KEYWORDS.has(token.value.toUpperCase()))) {
      this.next();
      return { name: token.value, position: token.position };
    }
    if (token.type === 'string' || token.type === 'number') {
      throw this.error(`invalid expression: must be a search attribute name but was ${describe(token)}`);
    }
    throw this.unexpected('a search attribute name');
  }

  private parseValue(): Literal {
    const token = this.peek();
    switch (token.type) {
      case 'string':
        this.next();
        return { kind: 'string', value: token.value, position: token.position };
      case 'number':
        this.next();
        return { kind: 'number', text: token.value, position: token.position };
      case 'now':
        this.next();
        return { kind: 'now', offset: token.value, position: token.position };
      case 'operator':
        if (token.value === '-' || token.value === '+') {
          this.next();
          const digits = this.peek();
          if (digits.type !== 'number') throw this.unexpected('a number');
          this.next();
          return {
            kind: 'number',
            text: token.value === '-' ? `-${digits.value}` : digits.value,
            position: token.position,
          };
        }
        break;
      case 'word': {
        const upper = token.value.toUpperCase();
        if (upper === 'TRUE' || upper === 'FALSE') {
          this.next();
          return { kind: 'bool', value: upper === 'TRUE', position: token.position };
        }
        if (upper === 'NULL') {
          throw this.error("invalid expression: compare with NULL using 'IS NULL' or 'IS NOT NULL'");
        }
        if (!KEYWORDS.has(upper)) {
          // Temporal's own hint: a bare word on the right is read as a column, which is nearly always a missing quote.
          throw this.error(
            `operation is not supported: column name on the right side of comparison expression (did you forget to quote '${token.value}'?)`,
          );
        }
        break;
      }
      case 'quotedName':
        throw this.error(
          `operation is not supported: column name on the right side of comparison expression (did you forget to quote '${token.value}'?)`,
        );
      case 'end':
        break;
    }
    throw this.unexpected('a value');
  }

  private parseList<T>(parseItem: () => T): T[] {
    const items = [parseItem()];
    while (this.atOperator(',')) {
      this.next();
      items.push(parseItem());
    }
    return items;
  }

  private peek(): Token {
    return this.tokens[this.index]!;
  }

  private next(): Token {
    const token = this.peek();
    if (token.type !== 'end') this.index++;
    return token;
  }

  private atEnd(): boolean {
    return this.peek().type === 'end';
  }

  private atKeyword(keyword: string): boolean {
    const token = this.peek();
    return token.type === 'word' && token.value.toUpperCase() === keyword;
  }

  private acceptKeyword(keyword: string): boolean {
    if (!this.atKeyword(keyword)) return false;
    this.next();
    return true;
  }

  private expectKeyword(keyword: string): void {
    if (!this.acceptKeyword(keyword)) throw this.unexpected(keyword);
  }

  private atOperator(operator: string): boolean {
    const token = this.peek();
    return token.type === 'operator' && token.value === operator;
  }

  private expectOperator(operator: string): void {
    if (!this.atOperator(operator)) throw this.unexpected(`'${operator}'`);
    this.next();
  }

  private error(detail: string): VisibilityQueryError {
    const { position } = this.peek();
    return new VisibilityQueryError(`${detail} (at position ${position})`, position);
  }

  private unexpected(expected: string): VisibilityQueryError {
    const token = this.peek();
    return new VisibilityQueryError(
      `malformed SQL query: expected ${expected} but found ${describe(token)} at position ${token.position}`,
      token.position,
    );
  }
}

function describe(token: Token): string {
  switch (token.type) {
    case 'end':
      return 'the end of the query';
    case 'string':
      return `string '${token.value}'`;
    case 'quotedName':
      return `\`${token.value}\``;
    case 'now':
      return 'NOW()';
    case 'word':
    case 'number':
    case 'operator':
      return `'${token.value}'`;
  }
}
