/**
 * Tokenizer for Temporal's List Filter. It follows the MySQL-flavoured SQL that Temporal's own parser reads:
 * strings in single or double quotes (a doubled quote or a backslash escapes), names bare or in backticks,
 * numbers, comparison operators, parentheses and commas. Keywords are ordinary words here; the parser
 * recognises them case-insensitively, and a backticked name is never a keyword.
 */
import { VisibilityQueryError } from './visibility.errors';

export type TokenType = 'word' | 'quotedName' | 'string' | 'number' | 'now' | 'operator' | 'end';

export interface Token {
  readonly type: TokenType;
  /**
   * The word or name as written, the unescaped string, the number's digits, or the operator. For `now`
   * (Temporal's `NOW()`, optionally `+` or `-` a duration such as `1h30m`) it is the signed duration, or ''.
   */
  readonly value: string;
  /** 0-based offset of the token's first character in the query. */
  readonly position: number;
}

const OPERATORS = ['<=', '>=', '!=', '<>', '=', '<', '>', '(', ')', ',', '+', '-'] as const;

const BACKSLASH_ESCAPES: Record<string, string> = {
  '0': '\0',
  b: '\b',
  n: '\n',
  r: '\r',
  t: '\t',
  Z: '\x1a',
};

const isWordStart = (c: string) => /[A-Za-z_]/.test(c);
const isWordPart = (c: string) => /[A-Za-z0-9_.]/.test(c);
const isDigit = (c: string) => c >= '0' && c <= '9';

export function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < query.length) {
    const c = query[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === "'" || c === '"') {
      const { value, end } = readQuoted(query, i, c, 'string');
      tokens.push({ type: 'string', value, position: start });
      i = end;
    } else if (c === '`') {
      const { value, end } = readQuoted(query, i, '`', 'name');
      if (value === '') throw new VisibilityQueryError(`malformed SQL query: empty name at position ${start}`, start);
      tokens.push({ type: 'quotedName', value, position: start });
      i = end;
    } else if (isDigit(c) || (c === '.' && isDigit(query[i + 1] ?? ''))) {
      const match = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(query.slice(i))!;
      i += match[0].length;
      if (isWordPart(query[i] ?? '')) {
        throw new VisibilityQueryError(`malformed SQL query: unexpected character '${query[i]}' at position ${i}`, i);
      }
      tokens.push({ type: 'number', value: match[0], position: start });
    } else if (isWordStart(c)) {
      while (i < query.length && isWordPart(query[i]!)) i++;
      const word = query.slice(start, i);
      const now = word.toUpperCase() === 'NOW' ? readNow(query, i) : undefined;
      if (now) {
        tokens.push({ type: 'now', value: now.offset, position: start });
        i = now.end;
      } else {
        tokens.push({ type: 'word', value: word, position: start });
      }
    } else {
      const operator = OPERATORS.find((op) => query.startsWith(op, i));
      if (!operator) {
        throw new VisibilityQueryError(`malformed SQL query: unexpected character '${c}' at position ${i}`, i);
      }
      tokens.push({ type: 'operator', value: operator === '<>' ? '!=' : operator, position: start });
      i += operator.length;
    }
  }
  tokens.push({ type: 'end', value: '', position: query.length });
  return tokens;
}

/**
 * After the word NOW: `()` and an optional `+ 1h` / `- 30m`. Temporal resolves these before parsing, so a
 * duration is a run of letters and digits rather than SQL tokens. Returns undefined when no `()` follows.
 */
function readNow(query: string, afterWord: number): { offset: string; end: number } | undefined {
  const call = /^\s*\(\s*\)/.exec(query.slice(afterWord));
  if (!call) return undefined;
  let end = afterWord + call[0].length;
  const offset = /^\s*([+-])\s*([0-9A-Za-zµμ]+)/.exec(query.slice(end));
  if (!offset) return { offset: '', end };
  end += offset[0].length;
  return { offset: `${offset[1]}${offset[2]}`, end };
}

function readQuoted(query: string, start: number, quote: string, what: 'string' | 'name') {
  let value = '';
  let i = start + 1;
  while (i < query.length) {
    const c = query[i]!;
    if (c === quote) {
      // A doubled quote stands for one quote character, as in SQL.
      if (query[i + 1] === quote) {
        value += quote;
        i += 2;
        continue;
      }
      return { value, end: i + 1 };
    }
    if (c === '\\' && what === 'string' && i + 1 < query.length) {
      const next = query[i + 1]!;
      value += BACKSLASH_ESCAPES[next] ?? next;
      i += 2;
      continue;
    }
    value += c;
    i++;
  }
  throw new VisibilityQueryError(`malformed SQL query: unterminated ${what} starting at position ${start}`, start);
}
