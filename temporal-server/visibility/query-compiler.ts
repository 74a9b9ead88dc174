/**
 * Compiles a parsed List Filter into a parameterised PostgreSQL condition over the core's `executions` table:
 * system attributes read their columns, custom and predefined ones read the decoded values in the
 * `search_attributes` jsonb column. Values always travel as parameters; only registered attribute names
 * (which must match SEARCH_ATTRIBUTE_NAME_PATTERN) are written into the SQL, as quoted literals.
 *
 * Missing values follow SQL: a comparison with an attribute the execution does not have is unknown, so
 * neither `X = 'a'` nor `X != 'a'` nor `NOT (X = 'a')` selects it; `X IS NULL` does.
 */
import {
  EXECUTION_STATUSES,
  IndexedValueTypes,
  PREDEFINED_SEARCH_ATTRIBUTES,
  SEARCH_ATTRIBUTE_NAME_PATTERN,
  SYSTEM_SEARCH_ATTRIBUTE_COLUMNS,
  SYSTEM_SEARCH_ATTRIBUTES,
  UNSPECIFIED_INDEXED_VALUE_TYPE,
  indexedValueTypeName,
  type IndexedValueType,
} from './search-attribute-types';
import {
  parseVisibilityQuery,
  type AttributeRef,
  type ComparisonOperator,
  type Expression,
  type Literal,
  type Predicate,
} from './query-parser';
import { normaliseRfc3339 } from './rfc3339';
import { VisibilityQueryError } from './visibility.errors';

export interface CompileVisibilityQueryOptions {
  /** The namespace's registered custom attributes (from the registry's `list`). */
  readonly customAttributes: Readonly<Record<string, IndexedValueType>>;
  /** Number of the first `$n` placeholder, so the caller can put its own parameters first. Default 1. */
  readonly firstParam?: number;
  /** What `NOW()` means; pass the server's (possibly skipped) clock. Default: the wall clock. */
  readonly now?: Date;
  /** 'list' refuses GROUP BY, as Temporal's ListWorkflowExecutions does. Default: accept it. */
  readonly operation?: 'list' | 'count';
}

export interface CompiledVisibilityQuery {
  /** A condition for `WHERE`, 'TRUE' for an empty filter. The caller adds `namespace = $x` itself. */
  readonly where: string;
  readonly params: unknown[];
  /** For `ORDER BY`: the query's keys then `run_id`, or 'start_time DESC, run_id' when it names none. */
  readonly orderBy: string;
  /** Set when the query ends in `GROUP BY ExecutionStatus` (CountWorkflowExecutions). */
  readonly groupBy?: 'ExecutionStatus';
}

export const DEFAULT_ORDER_BY = 'start_time DESC, run_id';

export function compileVisibilityQuery(
  query: string | null | undefined,
  options: CompileVisibilityQueryOptions,
): CompiledVisibilityQuery {
  // proto3 leaves an unset query as '' but a hand-built request may carry null.
  const parsed = parseVisibilityQuery(query ?? '');
  const compiler = new Compiler(options);
  const where = parsed.where ? compiler.compile(parsed.where, false) : 'TRUE';

  if (parsed.groupBy.length > 1) {
    throw new VisibilityQueryError("operation is not supported: 'GROUP BY' clause supports only a single field");
  }
  let groupBy: 'ExecutionStatus' | undefined;
  const [groupKey] = parsed.groupBy;
  if (groupKey) {
    compiler.resolve(groupKey);
    if (groupKey.name !== 'ExecutionStatus') {
      throw new VisibilityQueryError(
        `operation is not supported: 'GROUP BY' clause is only supported for ExecutionStatus (at position ${groupKey.position})`,
        groupKey.position,
      );
    }
    if (options.operation === 'list') throw new VisibilityQueryError("operation is not supported: 'GROUP BY' clause");
    groupBy = 'ExecutionStatus';
  }

  let orderBy = DEFAULT_ORDER_BY;
  if (parsed.orderBy.length > 0) {
    const keys = parsed.orderBy.map((key) => {
      const attribute = compiler.resolve(key.attribute);
      if (attribute.type === IndexedValueTypes.Text) {
        throw new VisibilityQueryError(
          `operation is not supported: unable to sort by search attribute type Text ('${attribute.name}' at position ${key.attribute.position})`,
          key.attribute.position,
        );
      }
      // Missing values sort last either way, as Elasticsearch-backed Temporal does.
      return `${valueOf(attribute)} ${key.descending ? 'DESC' : 'ASC'} NULLS LAST`;
    });
    // run_id breaks ties so that pages never overlap or skip.
    orderBy = [...keys, 'run_id'].join(', ');
  }

  return { where, params: compiler.params, orderBy, ...(groupBy ? { groupBy } : {}) };
}

interface ResolvedAttribute {
  readonly name: string;
  readonly type: IndexedValueType;
  /** A column of `executions` for system attributes; undefined for those read from `search_attributes`. */
  readonly column?: string;
  readonly position: number;
}

/** A value checked against the attribute's type, ready to be a parameter. */
type TypedValue = string | number | boolean;

class Compiler {
  readonly params: unknown[] = [];
  private readonly firstParam: number;
  private readonly now: Date;

  constructor(private readonly options: CompileVisibilityQueryOptions) {
    this.firstParam = options.firstParam ?? 1;
    if (!Number.isInteger(this.firstParam) || this.firstParam < 1) {
      throw new RangeError(`firstParam must be a positive integer, got ${options.firstParam}`);
    }
    this.now = options.now ?? new Date();
  }

  /**
   * `negated` carries NOTs down to the predicates (De Morgan), so that each predicate knows whether it sits
   * under a negation: only outside one may it use the index-friendly `@>` forms, which answer false rather
   * than unknown for a missing attribute.
   */
  compile(expression: Expression, negated: boolean): string {
    switch (expression.kind) {
      case 'and':
      case 'or': {
        // A chain `a OR b OR c` parses left-deep; walking it in a loop keeps long chains off the stack.
        const operands: Expression[] = [];
        let node: Expression = expression;
        while (node.kind === expression.kind) {
          operands.push(node.right);
          node = node.left;
        }
        operands.push(node);
        const joiner = (expression.kind === 'and') !== negated ? ' AND ' : ' OR ';
        return `(${operands
          .reverse()
          .map((operand) => this.compile(operand, negated))
          .join(joiner)})`;
      }
      case 'not':
        return this.compile(expression.operand, !negated);
      case 'comparison':
      case 'in':
      case 'between':
      case 'startsWith':
      case 'isNull':
        return this.compilePredicate(expression, negated);
    }
  }

  resolve(ref: AttributeRef): ResolvedAttribute {
    const { name, position } = ref;
    const systemType = own(SYSTEM_SEARCH_ATTRIBUTES, name);
    if (systemType !== undefined) {
      return { name, type: systemType, column: SYSTEM_SEARCH_ATTRIBUTE_COLUMNS[name], position };
    }
    const type = own(PREDEFINED_SEARCH_ATTRIBUTES, name) ?? own(this.options.customAttributes, name);
    if (type === undefined) {
      throw new VisibilityQueryError(
        `invalid expression: column name '${name}' is not a valid search attribute (at position ${position})`,
        position,
      );
    }
    // The registry only accepts names matching the pattern, which is what makes quoting them into SQL safe.
    if (!SEARCH_ATTRIBUTE_NAME_PATTERN.test(name)) {
      throw new VisibilityQueryError(
        `invalid expression: search attribute name '${name}' cannot be queried (at position ${position})`,
        position,
      );
    }
    return { name, type, position };
  }

  private compilePredicate(predicate: Predicate, outerNegated: boolean): string {
    const attribute = this.resolve(predicate.attribute);
    // `!=`, NOT IN, NOT BETWEEN, NOT STARTS_WITH and IS NOT NULL are the negations of their positive forms.
    let negated = outerNegated;
    let positive: Predicate = predicate;
    if (predicate.kind === 'comparison' && predicate.operator === '!=') {
      negated = !negated;
      positive = { ...predicate, operator: '=' };
    } else if (predicate.kind !== 'comparison' && predicate.negated) {
      negated = !negated;
      positive = { ...predicate, negated: false };
    }
    this.checkOperator(attribute, predicate);
    if (!negated) {
      const indexed = this.indexedForm(attribute, positive);
      if (indexed) return indexed;
    }
    const sql = this.nullPropagatingForm(attribute, positive);
    return negated ? `NOT ${sql}` : sql;
  }

  /** Forms a GIN index on `search_attributes` can serve; false (not unknown) when the attribute is missing. */
  private indexedForm(attribute: ResolvedAttribute, predicate: Predicate): string | undefined {
    if (attribute.column) return undefined;
    const containable: readonly number[] = [
      IndexedValueTypes.Keyword,
      IndexedValueTypes.KeywordList,
      IndexedValueTypes.Bool,
    ];
    if (!containable.includes(attribute.type)) return undefined;
    const values =
      predicate.kind === 'comparison' && predicate.operator === '='
        ? [predicate.value]
        : predicate.kind === 'in'
          ? predicate.values
          : undefined;
    if (!values) return undefined;
    const documents = values.map((literal) => {
      const value = this.typedValue(attribute, literal);
      const stored = attribute.type === IndexedValueTypes.KeywordList ? [value] : value;
      return `search_attributes @> ${this.param(JSON.stringify({ [attribute.name]: stored }), 'jsonb')}`;
    });
    return documents.length === 1 ? documents[0]! : `(${documents.join(' OR ')})`;
  }

  /** Forms that are unknown (NULL) when the attribute is missing, so that NOT keeps SQL's meaning. */
  private nullPropagatingForm(attribute: ResolvedAttribute, predicate: Predicate): string {
    const value = valueOf(attribute);
    switch (predicate.kind) {
      case 'isNull':
        return `(${value} IS NULL)`;
      case 'comparison':
        return this.comparison(attribute, predicate.operator, predicate.value);
      case 'in': {
        if (attribute.type === IndexedValueTypes.KeywordList || attribute.type === IndexedValueTypes.Text) {
          const parts = predicate.values.map((literal) => this.comparison(attribute, '=', literal));
          return parts.length === 1 ? parts[0]! : `(${parts.join(' OR ')})`;
        }
        const list = predicate.values.map((literal) => this.valueParam(attribute, literal));
        return `(${value} IN (${list.join(', ')}))`;
      }
      case 'between': {
        const from = this.valueParam(attribute, predicate.from);
        const to = this.valueParam(attribute, predicate.to);
        return `(${ordered(attribute)} BETWEEN ${from} AND ${to})`;
      }
      case 'startsWith':
        return this.startsWith(attribute, predicate.prefix);
    }
  }

  private comparison(attribute: ResolvedAttribute, operator: ComparisonOperator, literal: Literal): string {
    const value = valueOf(attribute);
    if (attribute.type === IndexedValueTypes.KeywordList) {
      // `=` on a KeywordList means "contains".
      const element = this.typedValue(attribute, literal);
      return `(${value} @> ${this.param(JSON.stringify([element]), 'jsonb')})`;
    }
    if (attribute.type === IndexedValueTypes.Text) {
      // PostgreSQL splits both the stored text and the query, so they always agree on what a word is
      // ('HMP-Leeds' gives hmp-leeds, hmp and leeds); joining the words with | makes any word enough.
      const words = `plainto_tsquery('simple', ${this.param(textQuery(attribute, literal), 'text')})`;
      return `(to_tsvector('simple', ${value}) @@ replace(${words}::text, ' & ', ' | ')::tsquery)`;
    }
    const left = operator === '=' || operator === '!=' ? value : ordered(attribute);
    return `(${left} ${operator} ${this.valueParam(attribute, literal)})`;
  }

  private startsWith(attribute: ResolvedAttribute, literal: Literal): string {
    if (literal.kind !== 'string') {
      throw new VisibilityQueryError(
        `invalid expression: right-hand side of 'STARTS_WITH' must be a literal string (at position ${literal.position})`,
        literal.position,
      );
    }
    if (attribute.name === 'ExecutionStatus') {
      // The column holds numbers, so the prefix is matched against the status names here.
      const codes = Object.entries(EXECUTION_STATUSES)
        .filter(([name]) => name.startsWith(literal.value))
        .map(([, code]) => code);
      return codes.length === 0
        ? 'FALSE'
        : `(status IN (${codes.map((code) => this.param(code, 'smallint')).join(', ')}))`;
    }
    const pattern = `${literal.value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    return `(${valueOf(attribute)} LIKE ${this.param(pattern, 'text')})`;
  }

  private checkOperator(attribute: ResolvedAttribute, predicate: Predicate): void {
    const typeName = indexedValueTypeName(attribute.type) ?? String(attribute.type);
    const operator = operatorName(predicate);
    if (predicate.kind === 'between') {
      const rangeTypes: readonly number[] = [
        IndexedValueTypes.Keyword,
        IndexedValueTypes.Int,
        IndexedValueTypes.Double,
        IndexedValueTypes.Datetime,
      ];
      if (!rangeTypes.includes(attribute.type) || attribute.name === 'ExecutionStatus') {
        throw new VisibilityQueryError(
          `invalid expression: cannot do range condition on search attribute '${attribute.name}' of type ${typeName} (at position ${attribute.position})`,
          attribute.position,
        );
      }
      return;
    }
    if (predicate.kind === 'isNull') return;
    const allowed = allowedOperators(attribute);
    if (!allowed.has(operator)) {
      throw new VisibilityQueryError(
        `invalid expression: operator '${operator}' not supported for ${typeName} type search attribute '${attribute.name}' (at position ${attribute.position})`,
        attribute.position,
      );
    }
  }

  private valueParam(attribute: ResolvedAttribute, literal: Literal): string {
    const value = this.typedValue(attribute, literal);
    switch (attribute.type) {
      case IndexedValueTypes.Int:
      case IndexedValueTypes.Double:
        return this.param(value, 'numeric');
      case IndexedValueTypes.Bool:
        return this.param(value, 'boolean');
      case IndexedValueTypes.Datetime:
        return this.param(value, 'timestamptz');
      case IndexedValueTypes.Keyword:
      case IndexedValueTypes.KeywordList:
      case IndexedValueTypes.Text:
      case UNSPECIFIED_INDEXED_VALUE_TYPE:
        return attribute.name === 'ExecutionStatus' ? this.param(value, 'smallint') : this.param(value, 'text');
    }
  }

  /** Checks a literal against the attribute's type, as Temporal's validateValueType does. */
  private typedValue(attribute: ResolvedAttribute, literal: Literal): TypedValue {
    if (attribute.name === 'ExecutionStatus') return executionStatusValue(literal);
    switch (attribute.type) {
      case IndexedValueTypes.Keyword:
      case IndexedValueTypes.KeywordList:
      case IndexedValueTypes.Text:
        if (literal.kind === 'string') return literal.value;
        break;
      case IndexedValueTypes.Int:
      case IndexedValueTypes.Double:
        if (literal.kind === 'number') {
          if (!Number.isFinite(Number(literal.text))) break;
          // Kept as text: PostgreSQL's numeric reads it exactly, where a JS number would round int64s.
          return literal.text;
        }
        break;
      case IndexedValueTypes.Bool:
        if (literal.kind === 'bool') return literal.value;
        break;
      case IndexedValueTypes.Datetime:
        return datetimeValue(attribute, literal, this.now);
      case UNSPECIFIED_INDEXED_VALUE_TYPE:
        break;
    }
    throw wrongValueType(attribute, literal);
  }

  private param(
    value: unknown,
    type: 'text' | 'numeric' | 'boolean' | 'timestamptz' | 'jsonb' | 'tsquery' | 'smallint',
  ) {
    this.params.push(value);
    return `$${this.firstParam + this.params.length - 1}::${type}`;
  }
}

/** Own properties only: a query naming `constructor` must not find Object.prototype's. */
function own<T>(record: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(record, name) ? record[name] : undefined;
}

/** The SQL for an attribute's value: its column, or the typed value in `search_attributes` (NULL if absent or of another type). */
function valueOf(attribute: ResolvedAttribute): string {
  return attribute.column ?? customAttributeValueSql(attribute.name, attribute.type);
}

/**
 * The SQL expression for a custom attribute's typed value in `search_attributes`, exactly as compiled queries read
 * it, so that an index on it (visibility-indexes.ts) serves them. `name` must match SEARCH_ATTRIBUTE_NAME_PATTERN.
 */
export function customAttributeValueSql(name: string, type: IndexedValueType): string {
  if (!SEARCH_ATTRIBUTE_NAME_PATTERN.test(name)) throw new RangeError(`not a search attribute name: ${name}`);
  const json = `search_attributes->'${name}'`;
  const text = `search_attributes->>'${name}'`;
  switch (type) {
    case IndexedValueTypes.KeywordList:
      return `(CASE WHEN jsonb_typeof(${json}) = 'array' THEN ${json} END)`;
    case IndexedValueTypes.Int:
    case IndexedValueTypes.Double:
      // The type guard keeps a value left behind by an attribute re-registered with another type from failing the cast.
      return `(CASE WHEN jsonb_typeof(${json}) = 'number' THEN (${text})::numeric END)`;
    case IndexedValueTypes.Bool:
      return `(CASE WHEN jsonb_typeof(${json}) = 'boolean' THEN (${text})::boolean END)`;
    case IndexedValueTypes.Datetime:
      return `(CASE WHEN jsonb_typeof(${json}) = 'string' THEN (${text})::timestamptz END)`;
    case IndexedValueTypes.Keyword:
    case IndexedValueTypes.Text:
    case UNSPECIFIED_INDEXED_VALUE_TYPE:
      return `(${text})`;
  }
}

/** Keyword ranges compare code points (C collation), as Elasticsearch's keyword ordering does, whatever the database locale. */
function ordered(attribute: ResolvedAttribute): string {
  return attribute.type === IndexedValueTypes.Keyword && attribute.name !== 'ExecutionStatus'
    ? `${valueOf(attribute)} COLLATE "C"`
    : valueOf(attribute);
}

function operatorName(predicate: Predicate): string {
  switch (predicate.kind) {
    case 'comparison':
      return predicate.operator;
    case 'in':
      return predicate.negated ? 'NOT IN' : 'IN';
    case 'between':
      return predicate.negated ? 'NOT BETWEEN' : 'BETWEEN';
    case 'startsWith':
      return predicate.negated ? 'NOT STARTS_WITH' : 'STARTS_WITH';
    case 'isNull':
      return predicate.negated ? 'IS NOT NULL' : 'IS NULL';
  }
}

const COMPARE = ['=', '!=', '<', '<=', '>', '>=', 'IN', 'NOT IN'];
const EQUALITY = ['=', '!=', 'IN', 'NOT IN'];
const STARTS = ['STARTS_WITH', 'NOT STARTS_WITH'];

function allowedOperators(attribute: ResolvedAttribute): ReadonlySet<string> {
  if (attribute.name === 'ExecutionStatus') return new Set([...EQUALITY, ...STARTS]);
  switch (attribute.type) {
    case IndexedValueTypes.Keyword:
      return new Set([...COMPARE, ...STARTS]);
    case IndexedValueTypes.KeywordList:
    case IndexedValueTypes.Bool:
      return new Set(EQUALITY);
    case IndexedValueTypes.Text:
      return new Set(['=', '!=']);
    case IndexedValueTypes.Int:
    case IndexedValueTypes.Double:
    case IndexedValueTypes.Datetime:
      return new Set(COMPARE);
    case UNSPECIFIED_INDEXED_VALUE_TYPE:
      return new Set();
  }
}

function executionStatusValue(literal: Literal): number {
  if (literal.kind === 'string') {
    const code = EXECUTION_STATUSES[literal.value] ?? screamingStatus(literal.value);
    if (code !== undefined) return code;
    throw new VisibilityQueryError(
      `invalid expression: invalid ExecutionStatus value '${literal.value}' (at position ${literal.position})`,
      literal.position,
    );
  }
  if (literal.kind === 'number' && /^\d+$/.test(literal.text)) {
    const code = Number(literal.text);
    if (Object.values(EXECUTION_STATUSES).includes(code)) return code;
    throw new VisibilityQueryError(
      `invalid expression: invalid ExecutionStatus value ${literal.text} (at position ${literal.position})`,
      literal.position,
    );
  }
  throw new VisibilityQueryError(
    `invalid expression: unexpected value type ${literalType(literal)} for search attribute ExecutionStatus (at position ${literal.position})`,
    literal.position,
  );
}

/** 'WORKFLOW_EXECUTION_STATUS_RUNNING', the proto spelling, is accepted too, as Temporal's parser does. */
function screamingStatus(value: string): number | undefined {
  const prefix = 'WORKFLOW_EXECUTION_STATUS_';
  if (!value.startsWith(prefix)) return undefined;
  const wanted = value.slice(prefix.length).replace(/_/g, '');
  const entry = Object.entries(EXECUTION_STATUSES).find(([name]) => name.toUpperCase() === wanted);
  return entry?.[1];
}

function datetimeValue(attribute: ResolvedAttribute, literal: Literal, now: Date): string {
  switch (literal.kind) {
    case 'string': {
      const value = normaliseRfc3339(literal.value);
      if (value) return value;
      throw new VisibilityQueryError(
        `invalid expression: unable to parse datetime '${literal.value}' for search attribute ${attribute.name} (at position ${literal.position})`,
        literal.position,
      );
    }
    case 'number':
      // Temporal reads an integer as nanoseconds since the Unix epoch.
      if (/^-?\d+$/.test(literal.text)) return fromUnixNanos(BigInt(literal.text));
      break;
    case 'now':
      return new Date(now.getTime() + parseDuration(literal.offset, literal.position)).toISOString();
    case 'bool':
      break;
  }
  throw wrongValueType(attribute, literal);
}

function fromUnixNanos(nanos: bigint): string {
  const millis = nanos / 1_000_000n - (nanos % 1_000_000n < 0n ? 1n : 0n);
  const extraMicros = (nanos - millis * 1_000_000n) / 1_000n;
  const iso = new Date(Number(millis)).toISOString();
  return `${iso.slice(0, -1)}${extraMicros.toString().padStart(3, '0')}Z`;
}

const DURATION_UNITS_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Temporal's NOW() offsets: '+1h30m', '-2w3d' ('' for none), in milliseconds. */
function parseDuration(offset: string, position: number): number {
  if (offset === '') return 0;
  const sign = offset.startsWith('-') ? -1 : 1;
  const body = offset.slice(1);
  let total = 0;
  const part = /(\d+)([^\d]+)/gy;
  let consumed = 0;
  for (let match = part.exec(body); match; match = part.exec(body)) {
    const scale = DURATION_UNITS_MS[match[2]!.toLowerCase()];
    if (scale === undefined) break;
    total += Number(match[1]) * scale;
    consumed = part.lastIndex;
  }
  if (consumed !== body.length || body.length === 0) {
    throw new VisibilityQueryError(
      `invalid expression: invalid NOW() duration '${body}' (at position ${position})`,
      position,
    );
  }
  return sign * total;
}

/** A Text query must hold at least one word, as Temporal insists. */
function textQuery(attribute: ResolvedAttribute, literal: Literal): string {
  if (literal.kind !== 'string') throw wrongValueType(attribute, literal);
  if (!/[\p{L}\p{N}]/u.test(literal.value)) {
    throw new VisibilityQueryError(
      `invalid expression: no tokens found filtering on Text type search attribute ${attribute.name} (at position ${literal.position})`,
      literal.position,
    );
  }
  return literal.value;
}

function wrongValueType(attribute: ResolvedAttribute, literal: Literal): VisibilityQueryError {
  const typeName = indexedValueTypeName(attribute.type) ?? String(attribute.type);
  return new VisibilityQueryError(
    `invalid expression: invalid value type for search attribute ${attribute.name} of type ${typeName}: ${literalText(literal)} (type: ${literalType(literal)}) (at position ${literal.position})`,
    literal.position,
  );
}

function literalText(literal: Literal): string {
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

function literalType(literal: Literal): string {
  switch (literal.kind) {
    case 'string':
      return 'string';
    case 'number':
      return /^-?\d+$/.test(literal.text) ? 'int64' : 'float64';
    case 'bool':
      return 'bool';
    case 'now':
      return 'datetime';
  }
}
