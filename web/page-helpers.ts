/**
 * What the patient and case pages share: calling an operation for the signed-in person, reading a posted form,
 * turning the NHS date input (and a 24-hour time) into an instant on London's clock, and turning an operation's
 * ValidationError into the NHS error summary and messages beside the fields.
 */
import { instantOfWallClock, wallClockAt } from '../bpmn/calendar';
import { ValidationError, type FieldProblem } from '../domain/errors';
import { parseDateParts } from './forms/form-view';
import type { PageContext } from './index';

/** Calls an operation as the signed-in person: the API's validation, policy and audit apply. */
export async function call(
  ctx: PageContext,
  operationId: string,
  request: { params?: Record<string, string>; query?: Record<string, string>; body?: Record<string, unknown> },
): Promise<{ status: number; body: unknown }> {
  return ctx.operations.invoke(operationId, ctx.principal, {
    params: request.params ?? {},
    query: request.query ?? {},
    ...(request.body ? { body: request.body } : {}),
    header: () => undefined,
  });
}

/** A form's (or a query string's) text fields; a name sent twice or not at all is ''. */
export function fieldsOf(source: unknown): (name: string) => string {
  const sent = (source ?? {}) as Record<string, unknown>;
  return (name) => (typeof sent[name] === 'string' ? sent[name] : '');
}

/** The text a person wrote, or nothing when they wrote nothing but white space (the operation says it is required). */
export function written(value: string): { value?: string } {
  return value.trim() === '' ? {} : { value };
}

/** The values of an NHS date input (`<prefix>[day]`...) and its time field, as sent. */
export interface DateTimeValues {
  readonly day: string;
  readonly month: string;
  readonly year: string;
  readonly time?: string;
}

export function dateTimeValuesOf(field: (name: string) => string, prefix: string, withTime = true): DateTimeValues {
  return {
    day: field(`${prefix}[day]`).trim(),
    month: field(`${prefix}[month]`).trim(),
    year: field(`${prefix}[year]`).trim(),
    ...(withTime ? { time: field(`${prefix}[time]`).trim() } : {}),
  };
}

export const isBlank = (v: DateTimeValues) => !v.day && !v.month && !v.year && !v.time;

/** `YYYY-MM-DD` of a real calendar date, or undefined (the same rule as a task form's date input). */
export function calendarDateOf(v: DateTimeValues): string | undefined {
  const date = parseDateParts(v.day, v.month, v.year);
  if (!date) return undefined;
  return `${String(date.year).padStart(4, '0')}-${String(date.month).padStart(2, '0')}-${String(date.day).padStart(2, '0')}`;
}

/**
 * The instant (ISO 8601, UTC) of a date and a 24-hour time read on London's clock, or undefined when either is not
 * real (30 February, 25:00, or an hour the clocks skip in March).
 */
export function londonInstantOf(v: DateTimeValues): string | undefined {
  const date = parseDateParts(v.day, v.month, v.year);
  const time = /^(\d{1,2})[:.](\d{2})$/.exec(v.time ?? '');
  if (!date || !time) return undefined;
  const { year, month, day } = date;
  const [hour, minute] = [Number(time[1]), Number(time[2])];
  if (hour > 23 || minute > 59) return undefined;
  const instant = instantOfWallClock({ year, month, day, hour, minute, second: 0 });
  const back = wallClockAt(instant);
  if (back.year !== year || back.month !== month || back.day !== day || back.hour !== hour || back.minute !== minute)
    return undefined;
  return new Date(instant).toISOString();
}

/** The message beside each field, by the id of the field's (first) control, in the order they were found. */
export type FieldErrors = Record<string, string>;

/** The NHS error summary's list: each message linking to its field. */
export function errorSummaryOf(errors: FieldErrors): { text: string; href: string }[] {
  return Object.entries(errors).map(([id, text]) => ({ text, href: `#${id}` }));
}

/**
 * The messages of an operation's problems: each pointer the form knows becomes its field's message (the form's own
 * words for a field left empty, else the operation's); any other problem is put on `fallback`, with its words.
 */
export function fieldErrorsOf(
  problems: readonly FieldProblem[],
  fields: Record<string, { id: string; label: string; missing?: string }>,
  fallback: string,
): FieldErrors {
  const errors: FieldErrors = {};
  for (const problem of problems) {
    const field = fields[problem.pointer];
    const id = field?.id ?? fallback;
    if (errors[id]) continue;
    const missing = /^is required$|fewer than 1 character|must match pattern "\\S"/.test(problem.detail);
    errors[id] =
      field?.missing && missing ? field.missing : `${field?.label ?? 'This form'}: ${problem.detail.replace(/"/g, '')}`;
  }
  return errors;
}

/** Runs an operation that changes something; a ValidationError comes back as its problems instead of being thrown. */
export async function problemsOr<T>(run: () => Promise<T>): Promise<{ ok: T } | { problems: readonly FieldProblem[] }> {
  try {
    return { ok: await run() };
  } catch (error) {
    if (error instanceof ValidationError) return { problems: error.problems };
    throw error;
  }
}
