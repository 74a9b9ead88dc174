/**
 * Pathway forms on the web: a form's JSON Schema (draft 2020-12) as NHS.UK form fields, and the posted form back
 * as the typed JSON the schema validates.
 *
 * - `formView` describes the fields as plain data for `form-fields.njk`;
 * - `readSubmission` reads an `urlencoded({ extended: false })` body back into JSON;
 * - `formValues` turns saved JSON (a draft, a submission) into the display values `formView` takes;
 * - `fieldErrors` maps the API's problems (JSON Pointers) to fields and to the NHS error summary.
 *
 * Control names follow the JSON: nested properties joined with dots (`prescription.dailyDoseMg`), rows of a list
 * by index (`medicines.0.medicationName`). A date is posted as `<name>-day`, `-month`, `-year`, and a date-time
 * adds `<name>-time`, London wall-clock time.
 *
 * A question the schema requires only under a simple condition on one choice (`allOf` / `if` / `then.required`,
 * or `dependentRequired`) is revealed under that choice, as NHS.UK radios and checkboxes do; its answer is dropped
 * when the choice is not made. Any other conditional question stays in place with a hint saying when it is needed.
 */
import { instantOfWallClock, wallClockAt } from '../../bpmn/calendar';
import { type FormSchema } from '../../pathways/catalogue';

export type FieldKind =
  'text' | 'number' | 'textarea' | 'radios' | 'checkboxes' | 'select' | 'date' | 'dateTime' | 'fieldset' | 'list';

/** One choice of a radios, checkboxes or select field, with the questions revealed when it is chosen. */
export interface OptionView {
  readonly value: string;
  readonly text: string;
  readonly checked: boolean;
  /** A checkbox that unticks the others ("None"). */
  readonly exclusive: boolean;
  /** Text of a divider shown before this choice ("or"). */
  readonly dividerBefore?: string;
  readonly fields: readonly FieldView[];
}

export interface DateParts {
  readonly day: string;
  readonly month: string;
  readonly year: string;
  /** Only for a date-time: HH:MM. */
  readonly time?: string;
}

export interface FieldView {
  readonly kind: FieldKind;
  /** The control name (`prescription.dailyDoseMg`); a date's inputs add `-day`, `-month`, `-year`, `-time`. */
  readonly name: string;
  readonly id: string;
  /** The id the error summary links to: the first radio, the day of a date, the first control of a group. */
  readonly firstControlId: string;
  /** The question, with " (optional)" when it need not be answered. */
  readonly label: string;
  readonly hint?: string;
  readonly required: boolean;
  readonly error?: string;
  /** 0 for a question of the form itself, 1 inside a group or a revealed choice, and so on. */
  readonly level: number;
  /** The answer as shown: text, number, textarea, radios, select. */
  readonly value?: string;
  /** The ticked values of checkboxes. */
  readonly values?: readonly string[];
  readonly date?: DateParts;
  readonly options?: readonly OptionView[];
  /** A group's questions; a list's rows (each a fieldset). */
  readonly fields?: readonly FieldView[];
  readonly inputmode?: 'numeric' | 'decimal';
  /** An NHS.UK fixed input width (`nhsuk-input--width-N`) for short answers. */
  readonly width?: number;
  /** Radios side by side: two short choices with nothing revealed. */
  readonly inline?: boolean;
}

export interface FormView {
  readonly title: string;
  readonly description?: string;
  /** A problem with the form as a whole (API pointer `/data`), shown above the fields as `#form-error`. */
  readonly error?: string;
  readonly fields: readonly FieldView[];
}

/** The `byField` key of a problem with the whole form rather than one field. */
export const FORM_ERROR_KEY = '_form';
const FORM_ERROR_ID = 'form-error';

export type DisplayValues = Record<string, string | string[]>;

// ---------------------------------------------------------------------------------------------------------------
// The schema, as far as forms read it

interface JsonSchema {
  readonly type?: string | readonly string[];
  readonly title?: string;
  readonly description?: string;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly format?: string;
  readonly maxLength?: number;
  readonly properties?: Readonly<Record<string, JsonSchema | boolean>>;
  readonly required?: readonly string[];
  readonly items?: JsonSchema | boolean;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly contains?: JsonSchema | boolean;
  readonly allOf?: readonly (JsonSchema | boolean)[];
  readonly if?: JsonSchema | boolean;
  readonly then?: JsonSchema | boolean;
  readonly else?: JsonSchema | boolean;
  readonly dependentRequired?: Readonly<Record<string, readonly string[]>>;
  readonly 'x-enum-titles'?: Readonly<Record<string, string>>;
}

function asSchema(schema: JsonSchema | boolean | undefined): JsonSchema | undefined {
  return typeof schema === 'object' ? schema : undefined;
}

/** The types a value may have, without null. */
function typesOf(schema: JsonSchema): string[] {
  const types = schema.type === undefined ? [] : typeof schema.type === 'string' ? [schema.type] : [...schema.type];
  return types.filter((t) => t !== 'null');
}

function isNullable(schema: JsonSchema): boolean {
  const types = schema.type === undefined ? [] : typeof schema.type === 'string' ? [schema.type] : schema.type;
  return types.includes('null') || (schema.enum?.includes(null) ?? false);
}

// ---------------------------------------------------------------------------------------------------------------
// Fields: what the schema asks, before any answer

/** How a typed-in answer becomes JSON. */
type Encoding = 'string' | 'integer' | 'number' | 'json' | 'lines';

interface Choice {
  readonly value: string;
  readonly text: string;
  readonly data: unknown;
  readonly exclusive: boolean;
  readonly revealed: readonly Field[];
}

interface FieldBase {
  /** The property name, or the index of a tuple's item. */
  readonly key: string;
  readonly name: string;
  readonly id: string;
  readonly label: string;
  readonly description?: string;
  /** When a conditional question is needed, for a question not revealed under a choice. */
  readonly neededWhen?: string;
  /** Asked unconditionally, or required whenever it is revealed. */
  readonly required: boolean;
  readonly nullable: boolean;
}

interface InputField extends FieldBase {
  readonly kind: 'text' | 'textarea' | 'number';
  readonly encoding: Encoding;
  readonly width?: number;
}

interface DateField extends FieldBase {
  readonly kind: 'date' | 'dateTime';
}

interface ChoiceField extends FieldBase {
  readonly kind: 'radios' | 'select' | 'checkboxes';
  readonly choices: readonly Choice[];
}

interface GroupField extends FieldBase {
  readonly kind: 'fieldset';
  /** An object's properties, or a fixed-length array's items. */
  readonly shape: 'object' | 'tuple';
  readonly fields: readonly Field[];
}

interface ListField extends FieldBase {
  readonly kind: 'list';
  readonly rowSchema: JsonSchema;
  readonly minItems: number;
  readonly maxItems: number;
}

type Field = InputField | DateField | ChoiceField | GroupField | ListField;

/** Beyond this many choices a select is shorter to scan than radios. */
const MAX_RADIOS = 10;
/** Text allowed this long or longer gets a textarea. */
const TEXTAREA_FROM_LENGTH = 500;
/** A fixed-length array up to this long is asked as one input per item. */
const MAX_TUPLE_LENGTH = 12;

function controlId(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '-');
}

function childName(prefix: string, key: string): string {
  return prefix === '' ? key : `${prefix}.${key}`;
}

/** `dailyDoseMg` → "Daily dose mg", `not-asked` → "Not asked". */
function humanise(identifier: string): string {
  const words = identifier
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[-_]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The questions of an object, with conditional ones nested under the choice that reveals them. */
function objectFields(schema: JsonSchema, prefix: string): Field[] {
  const required = new Set(schema.required ?? []);
  const fields: Field[] = [];
  for (const [key, property] of Object.entries(schema.properties ?? {})) {
    const propertySchema = asSchema(property);
    // `false` forbids a property outright; there is nothing to ask
    if (!propertySchema) continue;
    fields.push(fieldOf(propertySchema, key, childName(prefix, key), required.has(key)));
  }
  return arrangeConditions(schema, fields);
}

function fieldOf(schema: JsonSchema, key: string, name: string, required: boolean): Field {
  const base: FieldBase = {
    key,
    name,
    id: controlId(name),
    label: schema.title ?? humanise(key),
    description: schema.description,
    required,
    nullable: isNullable(schema),
  };
  // a question with no type is asked as text
  const type = typesOf(schema)[0] ?? 'string';
  if (schema.enum) {
    const choices = enumChoices(schema, schema.enum);
    return { ...base, kind: choices.length > MAX_RADIOS ? 'select' : 'radios', choices };
  }
  switch (type) {
    case 'boolean':
      return { ...base, kind: 'radios', choices: BOOLEAN_CHOICES };
    case 'integer':
    case 'number':
      return { ...base, kind: 'number', encoding: type, width: 4 };
    case 'object':
      return schema.properties
        ? { ...base, kind: 'fieldset', shape: 'object', fields: objectFields(schema, name) }
        : { ...base, kind: 'textarea', encoding: 'json' };
    case 'array':
      return arrayField(base, schema);
    default:
      if (schema.format === 'date') return { ...base, kind: 'date' };
      if (schema.format === 'date-time') return { ...base, kind: 'dateTime' };
      if (schema.maxLength !== undefined && schema.maxLength >= TEXTAREA_FROM_LENGTH)
        return { ...base, kind: 'textarea', encoding: 'string' };
      return { ...base, kind: 'text', encoding: 'string', width: textWidth(schema.maxLength) };
  }
}

function textWidth(maxLength: number | undefined): number | undefined {
  if (maxLength === undefined) return undefined;
  if (maxLength <= 10) return 10;
  if (maxLength <= 40) return 20;
  return undefined;
}

const BOOLEAN_CHOICES: readonly Choice[] = [
  { value: 'true', text: 'Yes', data: true, exclusive: false, revealed: [] },
  { value: 'false', text: 'No', data: false, exclusive: false, revealed: [] },
];

/** An enum's choices, titled by `x-enum-titles`; a "none" checkbox goes last and unticks the rest. */
function enumChoices(schema: JsonSchema, values: readonly unknown[], exclusiveNone = false): Choice[] {
  const titles = schema['x-enum-titles'] ?? {};
  const choices = values
    .filter((value) => value !== null)
    .map((value): Choice => {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      const exclusive = exclusiveNone && value === 'none' && values.length > 1;
      return { value: text, text: titles[text] ?? humanise(text), data: value, exclusive, revealed: [] };
    });
  return [...choices.filter((c) => !c.exclusive), ...choices.filter((c) => c.exclusive)];
}

function arrayField(base: FieldBase, schema: JsonSchema): Field {
  const items = asSchema(schema.items) ?? {};
  const [itemType] = typesOf(items);
  if (items.enum) return { ...base, kind: 'checkboxes', choices: enumChoices(items, items.enum, true) };
  if (itemType === 'object' && items.properties)
    return {
      ...base,
      kind: 'list',
      rowSchema: items,
      minItems: schema.minItems ?? 0,
      maxItems: schema.maxItems ?? Number.POSITIVE_INFINITY,
    };
  const length = schema.minItems;
  if (length !== undefined && length > 0 && length === schema.maxItems && length <= MAX_TUPLE_LENGTH) {
    const itemFields = Array.from({ length }, (_, index) => {
      const key = String(index);
      const item = fieldOf(items, key, childName(base.name, key), base.required);
      // an item has no title of its own: number it within the group's legend
      return { ...item, label: `${items.title ?? 'Item'} ${String(index + 1)}`, description: undefined };
    });
    return { ...base, kind: 'fieldset', shape: 'tuple', fields: itemFields };
  }
  return { ...base, kind: 'textarea', encoding: 'lines' };
}

// ---------------------------------------------------------------------------------------------------------------
// Conditional questions

/** A condition on one answer: it is one of `values`, or (without values) it is given at all. */
interface SimpleCondition {
  readonly trigger: string;
  readonly values?: readonly unknown[];
  readonly contains: boolean;
}
type Need = { readonly simple: SimpleCondition } | { readonly complex: true };

/** Why each property is required only sometimes: `if`/`then`, `else`, and `dependentRequired`. */
function conditionalNeeds(schema: JsonSchema): Map<string, Need[]> {
  const needs = new Map<string, Need[]>();
  const add = (names: readonly string[] | undefined, need: Need): void => {
    for (const name of names ?? []) needs.set(name, [...(needs.get(name) ?? []), need]);
  };
  const branches = [schema, ...(schema.allOf ?? []).map(asSchema)].filter((s): s is JsonSchema => !!s?.if);
  for (const branch of branches) {
    const condition = simpleCondition(asSchema(branch.if));
    add(asSchema(branch.then)?.required, condition ? { simple: condition } : { complex: true });
    // the `else` of a simple condition is its negation: not a single choice
    add(asSchema(branch.else)?.required, { complex: true });
  }
  for (const [trigger, names] of Object.entries(schema.dependentRequired ?? {}))
    add(names, { simple: { trigger, contains: false } });
  return needs;
}

/** `{ properties: { X: { const | enum | contains: { const } } }, required: [X] }`, else undefined. */
function simpleCondition(condition: JsonSchema | undefined): SimpleCondition | undefined {
  if (!condition) return undefined;
  const extraKeywords = Object.keys(condition).filter((k) => !['properties', 'required', 'type'].includes(k));
  const entries = Object.entries(condition.properties ?? {});
  if (extraKeywords.length > 0 || entries.length !== 1) return undefined;
  const [trigger, test] = entries[0] as [string, JsonSchema | boolean];
  // without `required`, the condition also holds when the answer is missing
  if (!condition.required?.includes(trigger) || typeof test !== 'object') return undefined;
  if ('const' in test) return { trigger, values: [test.const], contains: false };
  if (test.enum) return { trigger, values: test.enum, contains: false };
  const contained = asSchema(test.contains);
  if (contained && 'const' in contained) return { trigger, values: [contained.const], contains: true };
  return undefined;
}

/** The choices of `trigger` that meet a condition. */
function choicesMeeting(trigger: ChoiceField, condition: SimpleCondition): Choice[] {
  if (!condition.values) return [...trigger.choices];
  const values = condition.values;
  return trigger.choices.filter((choice) => values.some((value) => value === choice.data));
}

/**
 * Nests each question needed under exactly one choice of a radios or checkboxes question inside that choice,
 * and gives the other conditional questions a hint saying when they are needed.
 */
function arrangeConditions(schema: JsonSchema, fields: Field[]): Field[] {
  const needs = conditionalNeeds(schema);
  const byKey = new Map(fields.map((f) => [f.key, f]));
  const revealedBy = new Map<string, { trigger: string; value: string }>();

  for (const field of fields) {
    const fieldNeeds = needs.get(field.key);
    if (!fieldNeeds || field.required) continue;
    byKey.set(field.key, { ...field, neededWhen: neededWhen(fieldNeeds, byKey) });
    const [only] = fieldNeeds;
    if (fieldNeeds.length !== 1 || !only || !('simple' in only)) continue;
    const trigger = byKey.get(only.simple.trigger);
    if (!trigger || trigger.key === field.key || (trigger.kind !== 'radios' && trigger.kind !== 'checkboxes')) continue;
    const [choice, ...others] = choicesMeeting(trigger, only.simple);
    if (choice && others.length === 0) revealedBy.set(field.key, { trigger: trigger.key, value: choice.value });
  }
  breakCycles(revealedBy);

  const nest = (field: Field, revealed: boolean): Field => {
    const arranged = byKey.get(field.key) ?? field;
    // a revealed question is asked only under its choice, and then it must be answered
    const current = revealed ? { ...arranged, required: true, neededWhen: undefined } : arranged;
    if (current.kind !== 'radios' && current.kind !== 'checkboxes') return current;
    const choices = current.choices.map((choice) => ({
      ...choice,
      revealed: fields
        .filter((f) => {
          const parent = revealedBy.get(f.key);
          return parent?.trigger === current.key && parent.value === choice.value;
        })
        .map((f) => nest(f, true)),
    }));
    return { ...current, choices };
  };
  return fields.filter((f) => !revealedBy.has(f.key)).map((f) => nest(f, false));
}

/** A question cannot be revealed, directly or not, by its own answer. */
function breakCycles(revealedBy: Map<string, { trigger: string }>): void {
  for (const start of [...revealedBy.keys()]) {
    const seen = new Set<string>([start]);
    let current = revealedBy.get(start)?.trigger;
    while (current !== undefined) {
      if (seen.has(current)) {
        revealedBy.delete(start);
        break;
      }
      seen.add(current);
      current = revealedBy.get(current)?.trigger;
    }
  }
}

function quoted(text: string): string {
  return `“${text}”`;
}

function neededWhen(needs: readonly Need[], byKey: ReadonlyMap<string, Field>): string {
  const phrases: string[] = [];
  let dependsOnOthers = false;
  for (const need of needs) {
    if ('complex' in need) {
      dependsOnOthers = true;
      continue;
    }
    const { trigger: key, values, contains } = need.simple;
    const trigger = byKey.get(key);
    const question = quoted(trigger?.label ?? humanise(key));
    if (!values) {
      phrases.push(`you answer ${question}`);
      continue;
    }
    const answers =
      trigger && 'choices' in trigger
        ? choicesMeeting(trigger, need.simple).map((c) => c.text)
        : values.map((v) => String(v));
    phrases.push(`the answer to ${question} ${contains ? 'includes' : 'is'} ${answers.map(quoted).join(' or ')}`);
  }
  if (phrases.length === 0) return 'Needed for some answers to other questions.';
  return `Needed if ${phrases.join(', or if ')}${dependsOnOthers ? ', and for some other answers' : ''}.`;
}

/** Every question of the same JSON object, including those revealed under choices. */
function sameLevelFields(fields: readonly Field[]): Field[] {
  return fields.flatMap((f) => [f, ...('choices' in f ? f.choices.flatMap((c) => sameLevelFields(c.revealed)) : [])]);
}

function rowFields(list: ListField, index: number): Field[] {
  return objectFields(list.rowSchema, childName(list.name, String(index)));
}

// ---------------------------------------------------------------------------------------------------------------
// Posted values

function firstText(value: unknown): string {
  const first: unknown = Array.isArray(value) ? value[0] : value;
  if (typeof first === 'string') return first;
  if (typeof first === 'number' || typeof first === 'boolean') return String(first);
  return '';
}

function allTexts(value: unknown): string[] {
  const values: unknown[] = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return values.map(firstText).filter((v) => v !== '');
}

/** Answers are trimmed, and a textarea's CRLF line ends (as browsers post them) become LF. */
function cleaned(value: unknown): string {
  return firstText(value).replace(/\r\n?/g, '\n').trim();
}

/** The row indexes posted for a list, in order: from `<list>.<index>.` names. */
function rowIndexes(values: Readonly<Record<string, unknown>>, list: string): number[] {
  const prefix = `${list}.`;
  const indexes = new Set<number>();
  for (const key of Object.keys(values)) {
    if (!key.startsWith(prefix)) continue;
    const index = /^(\d+)(?:[.-]|$)/.exec(key.slice(prefix.length))?.[1];
    if (index !== undefined) indexes.add(Number(index));
  }
  return [...indexes].sort((a, b) => a - b);
}

function rowIsEmpty(values: Readonly<Record<string, unknown>>, rowPrefix: string): boolean {
  return Object.entries(values)
    .filter(([key]) => key.startsWith(`${rowPrefix}.`))
    .every(([, value]) => allTexts(value).every((text) => text.trim() === ''));
}

/** The posted rows that have any answer, renamed as rows 0, 1, 2… the order the JSON array will have. */
function compactRows(values: Readonly<Record<string, unknown>>, list: string): Record<string, unknown> {
  const kept = rowIndexes(values, list).filter((index) => !rowIsEmpty(values, `${list}.${String(index)}`));
  const renamed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    if (!key.startsWith(`${list}.`)) {
      renamed[key] = value;
      continue;
    }
    const match = /^(\d+)([.-].*)?$/.exec(key.slice(list.length + 1));
    const position = match ? kept.indexOf(Number(match[1])) : -1;
    if (position >= 0) renamed[`${list}.${String(position)}${match?.[2] ?? ''}`] = value;
  }
  return renamed;
}

// ---------------------------------------------------------------------------------------------------------------
// Dates and times: London wall-clock time in the form, UTC instants in the JSON

/**
 * The instant at a London wall-clock time (bpmn/calendar, as pathways count deadlines). In the hour repeated when
 * clocks go back, the later (GMT) one; a time skipped when clocks go forward is read on the clock before the
 * change (01:30 is 02:30 BST).
 */
function londonTimeToInstant(year: number, month: number, day: number, hour: number, minute: number): Date {
  return new Date(instantOfWallClock({ year, month, day, hour, minute, second: 0 }));
}

function pad(value: number, length = 2): string {
  return String(value).padStart(length, '0');
}

function isRealDate(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

interface ParsedDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

/** The NHS date input's three boxes as a real calendar date (1–2 digit day and month, 4-digit year), or undefined. */
export function parseDateParts(day: string, month: string, year: string): ParsedDate | undefined {
  if (!/^\d{1,2}$/.test(day) || !/^\d{1,2}$/.test(month) || !/^\d{4}$/.test(year)) return undefined;
  const parsed = { year: Number(year), month: Number(month), day: Number(day) };
  return isRealDate(parsed.year, parsed.month, parsed.day) ? parsed : undefined;
}

/** "14:30", "14.30", "1430" or "9:05", on the 24-hour clock. */
function parseTime(time: string): { hour: number; minute: number } | undefined {
  const match = /^(\d{1,2})[:.]?(\d{2})$/.exec(time);
  if (!match) return undefined;
  const hour = Number(match[1]);
  const minute = Number(match[2]);
  return hour < 24 && minute < 60 ? { hour, minute } : undefined;
}

function postedDate(name: string, values: Readonly<Record<string, unknown>>): DateParts {
  return {
    day: cleaned(values[`${name}-day`]),
    month: cleaned(values[`${name}-month`]),
    year: cleaned(values[`${name}-year`]),
    time: cleaned(values[`${name}-time`]),
  };
}

/**
 * `YYYY-MM-DD`, or for a date-time the UTC instant. A date that is incomplete or not a real day is kept as
 * the text it was ("31/2/2026"), which fails the schema's `format` so the question's own error is shown.
 */
function readDate(kind: 'date' | 'dateTime', parts: DateParts): string | undefined {
  const time = kind === 'dateTime' ? (parts.time ?? '') : '';
  if (!parts.day && !parts.month && !parts.year && !time) return undefined;
  const asTyped = `${parts.day}/${parts.month}/${parts.year} ${time}`.trim();
  const date = parseDateParts(parts.day, parts.month, parts.year);
  if (!date) return asTyped;
  if (kind === 'date') return `${pad(date.year, 4)}-${pad(date.month)}-${pad(date.day)}`;
  const clock = parseTime(time);
  if (!clock) return asTyped;
  return londonTimeToInstant(date.year, date.month, date.day, clock.hour, clock.minute).toISOString();
}

/** A saved date or date-time as the inputs show it, London time for an instant, or as typed if unreadable. */
function displayDate(kind: 'date' | 'dateTime', value: unknown): DateParts | undefined {
  if (typeof value !== 'string') return undefined;
  // what `readDate` kept of a date it could not read, so the form shows it again as it was typed
  const typed = /^([^/]*)\/([^/]*)\/(\S*)(?: (.*))?$/.exec(value);
  if (typed) {
    const [, day = '', month = '', year = '', time = ''] = typed;
    return { day, month, year, time: kind === 'dateTime' ? time : undefined };
  }
  if (kind === 'date') {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
    return match ? { day: String(Number(match[3])), month: String(Number(match[2])), year: match[1] ?? '' } : undefined;
  }
  const instant = Date.parse(value);
  if (Number.isNaN(instant)) return undefined;
  const wall = wallClockAt(instant);
  return {
    day: String(wall.day),
    month: String(wall.month),
    year: pad(wall.year, 4),
    time: `${pad(wall.hour)}:${pad(wall.minute)}`,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// readSubmission: the posted form back to JSON

/** Marks an answer left empty, which the JSON leaves out. */
const NO_ANSWER = Symbol('no answer');
type Answer = unknown;

/**
 * The typed JSON of a posted form (an `urlencoded({ extended: false })` body: strings and arrays of strings).
 * Empty answers are left out (or null, where the schema requires the question but allows null); an answer that
 * cannot be read as its type is kept as posted so the schema reports it against its question.
 */
export function readSubmission(schema: FormSchema, body: Record<string, unknown>): Record<string, unknown> {
  const answers = readObject(objectFields(toJsonSchema(schema), ''), body);
  return answers === NO_ANSWER ? {} : (answers as Record<string, unknown>);
}

function toJsonSchema(schema: FormSchema): JsonSchema {
  return schema as unknown as JsonSchema;
}

/** The answers of an object's questions; those revealed under a choice only when it was chosen. */
function readObject(fields: readonly Field[], body: Readonly<Record<string, unknown>>): Answer {
  const object: Record<string, unknown> = {};
  const readInto = (field: Field): void => {
    const answer = orNull(field, readField(field, body));
    if (answer !== NO_ANSWER) object[field.key] = answer;
    if (!('choices' in field)) return;
    for (const choice of field.choices)
      if (choice.revealed.length > 0 && isChosen(choice, answer)) choice.revealed.forEach(readInto);
  };
  fields.forEach(readInto);
  return Object.keys(object).length > 0 ? object : NO_ANSWER;
}

/** A question the schema requires but allows to be null ("not disclosed") is null when left empty. */
function orNull(field: Field, answer: Answer): Answer {
  return answer === NO_ANSWER && field.required && field.nullable ? null : answer;
}

function isChosen(choice: Choice, answer: Answer): boolean {
  return Array.isArray(answer) ? answer.includes(choice.data) : answer === choice.data;
}

function readField(field: Field, body: Readonly<Record<string, unknown>>): Answer {
  switch (field.kind) {
    case 'text':
    case 'textarea':
    case 'number':
      return readTyped(field.encoding, cleaned(body[field.name]));
    case 'date':
    case 'dateTime':
      return readDate(field.kind, postedDate(field.name, body)) ?? NO_ANSWER;
    case 'radios':
    case 'select': {
      const posted = cleaned(body[field.name]);
      return posted === '' ? NO_ANSWER : choiceData(field, posted);
    }
    case 'checkboxes': {
      const ticked = allTexts(body[field.name]).map((value) => choiceData(field, value));
      return ticked.length > 0 ? ticked : NO_ANSWER;
    }
    case 'fieldset':
      return field.shape === 'object' ? readObject(field.fields, body) : readTuple(field, body);
    case 'list':
      return readList(field, body);
  }
}

/** The JSON value of a choice; a value the form does not offer stays as posted, for the schema to refuse. */
function choiceData(field: ChoiceField, posted: string): unknown {
  const choice = field.choices.find((c) => c.value === posted);
  return choice ? choice.data : posted;
}

function readTyped(encoding: Encoding, text: string): Answer {
  if (text === '') return NO_ANSWER;
  switch (encoding) {
    case 'string':
      return text;
    case 'integer':
    case 'number':
      return readNumber(text);
    case 'json':
      return readJson(text);
    case 'lines': {
      const lines = text
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== '');
      return lines.length > 0 ? lines : NO_ANSWER;
    }
  }
}

/** A number as people type it ("1,000", " 2.5 "); anything else stays text, for the schema to refuse. */
function readNumber(text: string): number | string {
  const digits = text.replace(/,/g, '');
  return /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(digits) ? Number(digits) : text;
}

function readJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** A fixed-length array: every position kept, an empty one as null (or as empty text for the schema to refuse). */
function readTuple(group: GroupField, body: Readonly<Record<string, unknown>>): Answer {
  const items = group.fields.map((item) => readField(item, body));
  const nullable = group.fields.every((item) => item.nullable);
  if (items.every((item) => item === NO_ANSWER) && !(group.required && nullable)) return NO_ANSWER;
  return items.map((item, index) => (item !== NO_ANSWER ? item : group.fields[index]?.nullable ? null : ''));
}

function readList(list: ListField, body: Readonly<Record<string, unknown>>): Answer {
  const rows = compactRows(body, list.name);
  const answers = rowIndexes(rows, list.name)
    .map((index) => readObject(rowFields(list, index), rows))
    .filter((row) => row !== NO_ANSWER);
  return answers.length > 0 ? answers : NO_ANSWER;
}

// ---------------------------------------------------------------------------------------------------------------
// formValues: saved JSON as the form shows it

/** Saved answers (a draft, a submission) as display values keyed by control name, the shape a posted form has. */
export function formValues(schema: FormSchema, data: Record<string, unknown>): DisplayValues {
  const values: DisplayValues = {};
  writeObject(objectFields(toJsonSchema(schema), ''), data, values);
  return values;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function writeObject(fields: readonly Field[], data: unknown, values: DisplayValues): void {
  if (!isRecord(data)) return;
  for (const field of sameLevelFields(fields)) writeField(field, data[field.key], values);
}

function writeField(field: Field, value: unknown, values: DisplayValues): void {
  if (value === undefined) return;
  switch (field.kind) {
    case 'text':
    case 'textarea':
    case 'number': {
      const text = displayTyped(field.encoding, value);
      if (text !== '') values[field.name] = text;
      return;
    }
    case 'date':
    case 'dateTime': {
      const parts = displayDate(field.kind, value);
      if (!parts) return;
      values[`${field.name}-day`] = parts.day;
      values[`${field.name}-month`] = parts.month;
      values[`${field.name}-year`] = parts.year;
      if (parts.time !== undefined) values[`${field.name}-time`] = parts.time;
      return;
    }
    case 'radios':
    case 'select': {
      // null is the "Not answered" choice of a question that allows it
      const choice = field.choices.find((c) => c.data === value);
      if (choice) values[field.name] = choice.value;
      else if (value === null) values[field.name] = '';
      else values[field.name] = firstText(value);
      return;
    }
    case 'checkboxes': {
      const ticked = (Array.isArray(value) ? value : [value]).map(
        (item) => field.choices.find((c) => c.data === item)?.value ?? firstText(item),
      );
      values[field.name] = ticked;
      return;
    }
    case 'fieldset':
      if (field.shape === 'object') writeObject(field.fields, value, values);
      else if (Array.isArray(value)) field.fields.forEach((item, index) => writeField(item, value[index], values));
      return;
    case 'list':
      if (Array.isArray(value)) value.forEach((row, index) => writeObject(rowFields(field, index), row, values));
      return;
  }
}

function displayTyped(encoding: Encoding, value: unknown): string {
  if (value === null) return '';
  // text that was not JSON is kept as typed, for the schema to refuse and the form to show again
  if (encoding === 'json') return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  if (encoding === 'lines' && Array.isArray(value)) return value.map(firstText).join('\n');
  return firstText(value);
}

// ---------------------------------------------------------------------------------------------------------------
// formView: the fields as the template shows them

/**
 * The form's fields for `formFields` in form-fields.njk. `values` are display values keyed by control name: the
 * posted body when the form is shown again with errors, or `formValues(schema, saved)`. `errors` are messages
 * by control name, as `fieldErrors(...).byField` gives them.
 */
export function formView(
  schema: FormSchema,
  values: Record<string, unknown>,
  errors: Record<string, string>,
): FormView {
  const json = toJsonSchema(schema);
  const fields = objectFields(json, '');
  const messages = resolveErrors(fields, errors);
  return {
    title: json.title ?? '',
    description: json.description,
    error: messages[FORM_ERROR_KEY],
    fields: fields.map((field) => viewOf(field, values, messages, 0)),
  };
}

const NOT_ANSWERED = 'Not answered';

function viewOf(
  field: Field,
  values: Readonly<Record<string, unknown>>,
  errors: Readonly<Record<string, string>>,
  level: number,
): FieldView {
  const common = {
    kind: field.kind,
    name: field.name,
    id: field.id,
    firstControlId: firstControlId(field),
    label: field.required || field.neededWhen ? field.label : `${field.label} (optional)`,
    hint: hintOf(field),
    required: field.required,
    error: errors[field.name],
    level,
  };
  const inner = (f: Field): FieldView => viewOf(f, values, errors, level + 1);
  switch (field.kind) {
    case 'text':
    case 'textarea':
      return { ...common, value: firstText(values[field.name]), width: field.width };
    case 'number':
      return {
        ...common,
        value: firstText(values[field.name]),
        width: field.width,
        inputmode: field.encoding === 'integer' ? 'numeric' : 'decimal',
      };
    case 'date':
      return { ...common, date: { ...postedDate(field.name, values), time: undefined } };
    case 'dateTime':
      return { ...common, date: postedDate(field.name, values) };
    case 'radios':
    case 'select': {
      const chosen = firstText(values[field.name]);
      const options: OptionView[] = field.choices.map((choice) => ({
        value: choice.value,
        text: choice.text,
        checked: chosen === choice.value,
        exclusive: false,
        fields: choice.revealed.map(inner),
      }));
      if (field.nullable)
        options.push({
          value: '',
          text: NOT_ANSWERED,
          checked: Object.hasOwn(values, field.name) && chosen === '',
          exclusive: false,
          dividerBefore: field.kind === 'radios' ? 'or' : undefined,
          fields: [],
        });
      const inline = options.length === 2 && options.every((o) => o.fields.length === 0 && o.text.length <= 20);
      return { ...common, value: chosen, options, inline };
    }
    case 'checkboxes': {
      const ticked = allTexts(values[field.name]);
      const options = field.choices.map((choice): OptionView => ({
        value: choice.value,
        text: choice.text,
        checked: ticked.includes(choice.value),
        exclusive: choice.exclusive,
        dividerBefore: choice.exclusive ? 'or' : undefined,
        fields: choice.revealed.map(inner),
      }));
      return { ...common, values: ticked, options };
    }
    case 'fieldset':
      return { ...common, fields: field.fields.map(inner) };
    case 'list':
      return listView(field, common, values, errors, level);
  }
}

/** The rows given so far, then one empty row to add another (up to the most allowed), at least the fewest. */
function listView(
  list: ListField,
  common: Omit<FieldView, 'kind'> & { kind: FieldKind },
  values: Readonly<Record<string, unknown>>,
  errors: Readonly<Record<string, string>>,
  level: number,
): FieldView {
  const rows = compactRows(values, list.name);
  const given = rowIndexes(rows, list.name).length;
  const shown = Math.max(given, Math.min(list.maxItems, Math.max(given + 1, list.minItems, 1)));
  const rowViews = Array.from({ length: shown }, (_, index): FieldView => {
    const name = childName(list.name, String(index));
    const fields = rowFields(list, index).map((f) => viewOf(f, rows, errors, level + 2));
    return {
      kind: 'fieldset',
      name,
      id: controlId(name),
      firstControlId: fields[0]?.firstControlId ?? controlId(name),
      label: `${list.rowSchema.title ?? 'Entry'} ${String(index + 1)}`,
      required: false,
      error: errors[name],
      level: level + 1,
      fields,
    };
  });
  const emptyRowsHint = shown > given ? 'Rows left empty are ignored.' : undefined;
  const hint = [common.hint, emptyRowsHint].filter(Boolean).join(' ') || undefined;
  return { ...common, hint, fields: rowViews };
}

function hintOf(field: Field): string | undefined {
  const howToAnswer =
    'encoding' in field && field.encoding === 'lines'
      ? 'One per line.'
      : 'encoding' in field && field.encoding === 'json'
        ? 'As JSON, for example {"name": "value"}.'
        : undefined;
  const parts = [field.description, howToAnswer, field.neededWhen].filter((part): part is string => !!part);
  return parts.length > 0 ? parts.join(' ') : undefined;
}

/** The control the error summary links to: the day of a date, the first radio, a group's first control. */
function firstControlId(field: Field): string {
  switch (field.kind) {
    case 'date':
    case 'dateTime':
      return `${field.id}-day`;
    case 'fieldset':
      return field.fields[0] ? firstControlId(field.fields[0]) : field.id;
    case 'list': {
      const [first] = rowFields(field, 0);
      return first ? firstControlId(first) : field.id;
    }
    case 'text':
    case 'textarea':
    case 'number':
    case 'radios':
    case 'select':
    case 'checkboxes':
      // nhsuk radios and checkboxes give the first item the field's id, unnumbered
      return field.id;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// fieldErrors: the API's problems on the form

interface Located {
  readonly field: Field;
  /** Positions down the tree, to list problems in the order the questions are asked. */
  readonly order: readonly number[];
}

/** The question at a path of JSON keys, or the nearest question holding it (a checkbox's item, a list's row). */
function locate(fields: readonly Field[], segments: readonly string[]): Located | undefined {
  const [head, ...rest] = segments;
  const level = sameLevelFields(fields);
  const position = level.findIndex((f) => f.key === head);
  const field = level[position];
  if (!field) return undefined;
  let inner: Located | undefined;
  if (field.kind === 'fieldset') inner = locate(field.fields, rest);
  else if (field.kind === 'list' && rest[0] !== undefined && /^\d+$/.test(rest[0])) {
    const row = Number(rest[0]);
    const found = locate(rowFields(field, row), rest.slice(1));
    inner = found && { field: found.field, order: [row, ...found.order] };
  }
  return inner ? { field: inner.field, order: [position, ...inner.order] } : { field, order: [position] };
}

function resolveErrors(fields: readonly Field[], errors: Readonly<Record<string, string>>): Record<string, string> {
  const resolved: Record<string, string> = {};
  for (const [name, message] of Object.entries(errors)) {
    const key = name === FORM_ERROR_KEY ? name : (locate(fields, name.split('.'))?.field.name ?? FORM_ERROR_KEY);
    resolved[key] ??= message;
  }
  return resolved;
}

function pointerSegments(pointer: string, prefix: string): string[] | undefined {
  if (pointer !== prefix && !pointer.startsWith(`${prefix}/`)) return undefined;
  return pointer
    .slice(prefix.length)
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function compareOrder(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return (a[i] ?? 0) - (b[i] ?? 0);
  return a.length - b.length;
}

/**
 * The API's problems (`{ pointer: '/data/prescription/dailyDoseMg', detail }`) by control name, and the NHS
 * error summary: one entry per question, linking to its first control. Give the schema so that links reach the
 * day of a date and the question holding an item's problem, and so the summary follows the order of the form;
 * without it each pointer is taken as a control name. A problem with the whole form (`/data`) or outside it
 * is listed under `FORM_ERROR_KEY`.
 */
export function fieldErrors(
  problems: readonly { pointer: string; detail: string }[],
  prefix = '/data',
  schema?: FormSchema,
): { byField: Record<string, string>; summary: { text: string; href: string }[] } {
  const fields = schema ? objectFields(toJsonSchema(schema), '') : undefined;
  const byField: Record<string, string> = {};
  const entries: { text: string; href: string; order: readonly number[] }[] = [];
  for (const { pointer, detail } of problems) {
    const segments = pointerSegments(pointer, prefix) ?? [];
    const located = fields && segments.length > 0 ? locate(fields, segments) : undefined;
    let name = FORM_ERROR_KEY;
    let href = `#${FORM_ERROR_ID}`;
    let order: readonly number[] = [-1];
    if (located) {
      name = located.field.name;
      href = `#${firstControlId(located.field)}`;
      order = located.order;
    } else if (!fields && segments.length > 0) {
      name = segments.join('.');
      href = `#${controlId(name)}`;
      order = [entries.length];
    }
    if (Object.hasOwn(byField, name)) continue;
    byField[name] = detail;
    entries.push({ text: detail, href, order });
  }
  const summary = entries.sort((a, b) => compareOrder(a.order, b.order)).map(({ text, href }) => ({ text, href }));
  return { byField, summary };
}
