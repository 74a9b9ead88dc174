/**
 * FEEL for pathways, on feelin: syntax checks for lint, and evaluation for the interpreter. Evaluation is
 * deterministic: `now()` and `today()` answer the instant the caller passes in instead of the machine clock
 * (feelin's own read the system clock and zone), and results are turned into plain JSON before they reach
 * process variables, so state survives continue-as-new, queries and replay unchanged. Sandbox-safe.
 */
import { dateAndTime, evaluate, parseExpression, parseUnaryTests, type FeelDateTime } from 'feelin';

import { DEFAULT_TIME_ZONE, calendarDeadline, nextSlot } from './calendar';
import { addIsoDuration, parseIsoDateTime, parseIsoDuration } from './iso8601';
import { type ValueExpression } from './ir';

export type FeelContext = Record<string, unknown>;

/** Raised when a FEEL expression cannot be evaluated to what the element needs. */
export class FeelEvaluationError extends Error {
  readonly code = 'FEEL_EVALUATION_FAILED';
  readonly retryable = false;
  constructor(
    message: string,
    readonly expression: string,
  ) {
    super(message);
    this.name = 'FeelEvaluationError';
  }
}

/**
 * Returns a description of the first syntax error in `expression`, or undefined when it parses.
 * `unaryTests` is the grammar of decision table cells; pathways use `expression` everywhere.
 */
export function findFeelSyntaxError(
  expression: string,
  grammar: 'expression' | 'unaryTests' = 'expression',
): string | undefined {
  if (expression.trim() === '') return 'the expression is empty';
  let tree;
  try {
    tree =
      grammar === 'expression'
        ? parseExpression(expression, {}, undefined)
        : parseUnaryTests(expression, {}, undefined);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  let problem: string | undefined;
  tree.iterate({
    enter(node) {
      if (problem !== undefined) return false;
      if (node.type.isError) {
        const near = expression.slice(node.from, node.from + 12);
        problem = near ? `unexpected input at position ${node.from + 1} ('${near}')` : 'the expression ends too early';
        return false;
      }
      return undefined;
    },
  });
  return problem;
}

/** Strips Zeebe's leading `=` marker. */
export function stripFeelMarker(text: string): string {
  return text.trim().startsWith('=') ? text.trim().slice(1).trim() : text;
}

function feelClock(nowMs: number): FeelContext {
  const iso = new Date(nowMs).toISOString();
  return {
    now: () => dateAndTime(iso),
    today: () => dateAndTime(`${iso.slice(0, 10)}T00:00:00Z`),
    ...CALENDAR_FUNCTIONS,
  };
}

/** An instant argument: a FEEL date and time or an ISO string with a zone. */
function instantArgument(value: unknown, name: string): number {
  const plain = toPlainValue(value);
  const ms = typeof plain === 'string' ? parseIsoDateTime(plain) : undefined;
  if (ms === undefined)
    throw new TypeError(`${name} must be a date and time with a zone, not ${JSON.stringify(plain)}`);
  return ms;
}

function durationArgument(value: unknown, name: string) {
  const plain = toPlainValue(value);
  const duration = typeof plain === 'string' ? parseIsoDuration(plain) : undefined;
  if (!duration) throw new TypeError(`${name} must be an ISO 8601 duration, not ${JSON.stringify(plain)}`);
  return duration;
}

/**
 * Throughcare's FEEL functions for clinical timing (see calendar.ts). They throw on bad arguments, which feelin
 * reports as FUNCTION_INVOCATION_FAILURE, so the element raises an incident instead of computing a wrong date.
 * - `deadline(anchor, offset[, zone])`: the end of the local day (23:59:59) `offset` calendar days, weeks or
 *   months after the anchor's local date, in Europe/London unless `zone` is given (`deadline(receptionDate, "P5D")`).
 * - `nextSlot(anchor, interval, after)`: the first `anchor + k × interval` (k ≥ 1) after `after`.
 */
const CALENDAR_FUNCTIONS: FeelContext = {
  deadline: (anchor: unknown, offset: unknown, zone?: unknown) => {
    const due = calendarDeadline(
      instantArgument(anchor, 'deadline: the anchor'),
      durationArgument(offset, 'deadline: the offset'),
      typeof zone === 'string' ? zone : DEFAULT_TIME_ZONE,
    );
    return dateAndTime(new Date(due).toISOString());
  },
  nextSlot: (anchor: unknown, interval: unknown, after: unknown) => {
    const anchorMs = instantArgument(anchor, 'nextSlot: the anchor');
    const every = durationArgument(interval, 'nextSlot: the interval');
    const slot = nextSlot(
      anchorMs,
      addIsoDuration(anchorMs, every) - anchorMs,
      instantArgument(after, 'nextSlot: after'),
    );
    return dateAndTime(new Date(slot).toISOString());
  },
};

/**
 * Evaluates a FEEL expression over `context` with `now()` fixed at `nowMs`. Syntax errors and evaluation
 * warnings that make the result meaningless (unknown function, invalid types) raise FeelEvaluationError;
 * a missing variable is null, as in Zeebe.
 */
export function evaluateFeel(expression: string, context: FeelContext, nowMs: number): unknown {
  let result;
  try {
    result = evaluate(expression, { ...context, ...feelClock(nowMs) });
  } catch (error) {
    throw new FeelEvaluationError(
      `FEEL expression '${expression}' failed: ${error instanceof Error ? error.message : String(error)}`,
      expression,
    );
  }
  const fatal = result.warnings.find(
    (w) => w.type === 'NO_FUNCTION_FOUND' || w.type === 'FUNCTION_INVOCATION_FAILURE' || w.type === 'INVALID_TYPE',
  );
  if (fatal && (result.value === null || result.value === undefined)) {
    throw new FeelEvaluationError(`FEEL expression '${expression}' failed: ${fatal.message}`, expression);
  }
  return result.value;
}

/** A ValueExpression's value: the literal string, or the FEEL result as plain JSON. */
export function evaluateValue(value: ValueExpression, context: FeelContext, nowMs: number): unknown {
  if ('literal' in value) return value.literal;
  return toPlainValue(evaluateFeel(value.feel, context, nowMs));
}

/** Text for messages and lint: `=expr` for FEEL, the literal otherwise. */
export function describeValue(value: ValueExpression): string {
  return 'literal' in value ? value.literal : `=${value.feel}`;
}

/** Converts FEEL values (dates, durations, ranges, functions) to JSON: temporal values become ISO strings. */
export function toPlainValue(value: unknown): unknown {
  if (value === undefined || typeof value === 'function') return null;
  if (value === null || typeof value !== 'object') {
    return typeof value === 'number' && !Number.isFinite(value) ? null : value;
  }
  if (isFeelDateTime(value)) return instantOfFeelDateTime(value) ?? value.toString();
  if (Array.isArray(value)) return value.map(toPlainValue);
  if ('toJSON' in value && typeof value.toJSON === 'function') return (value as { toJSON(): unknown }).toJSON();
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) out[key] = toPlainValue(entry);
  return out;
}

function isFeelDateTime(value: object): value is FeelDateTime {
  return (
    'unwrap' in value &&
    'zone' in value &&
    'hour' in value &&
    typeof (value as { unwrap: unknown }).unwrap === 'function'
  );
}

function instantOfFeelDateTime(value: FeelDateTime): string | undefined {
  try {
    // A local date-time (no zone) is read as UTC so the same pathway computes the same instant everywhere.
    const zoned = value.unwrap().toZonedDateTime(value.zone ?? 'UTC');
    return new Date(zoned.epochMilliseconds).toISOString();
  } catch {
    return undefined;
  }
}

/**
 * Reads an evaluated due date: an ISO date-time (zoned, or a bare date meaning midnight UTC), or, as a
 * convenience, an ISO duration counted from `nowMs`. Returns epoch ms, or undefined when unreadable.
 */
export function resolveInstant(value: unknown, nowMs: number): number | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  const instant =
    parseIsoDateTime(text) ?? (/^\d{4}-\d{2}-\d{2}$/.test(text) ? parseIsoDateTime(`${text}T00:00:00Z`) : undefined);
  if (instant !== undefined) return instant;
  const duration = parseIsoDuration(text);
  return duration ? addIsoDuration(nowMs, duration) : undefined;
}
