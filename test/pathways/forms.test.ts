/**
 * Every shipped form schema compiles under ajv 2020 and keeps the forms' conventions (pathways/form-conventions.ts:
 * a message for every question, a required answer, each question's source), its valid example passes, and each
 * named invalid example fails on the field it names with the form's own plain-English message.
 */
import {
  createFormAjv,
  createFormValidator,
  formConventionProblems,
  invalidSubmission,
  listFormIds,
  PATHWAYS,
  readFormExamples,
  readFormSchema,
} from '../../pathways';
import { ValidationError, NotFoundError } from '../../domain/errors';

const FIXED_NOW = new Date('2026-11-01T12:00:00Z');
const validator = createFormValidator({ now: () => FIXED_NOW });
const formIds = listFormIds();
/** The start forms: the variables each pathway is started with (`<processId>-start`, on its none start event). */
const START_FORM_IDS = PATHWAYS.map((pathway) => `${pathway.processId}-start`);

describe('pathway forms', () => {
  it('ships the forms the pathways name', () => {
    expect(formIds.length).toBeGreaterThanOrEqual(19);
  });

  describe.each(formIds)('%s', (formId) => {
    const schema = readFormSchema(formId);
    const examples = readFormExamples(formId);

    it('compiles under JSON Schema 2020-12 in strict mode', () => {
      expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(() => createFormAjv().compile(schema)).not.toThrow();
    });

    it('keeps the conventions: a message for every question, a required answer, each question a national rule with its sources or a local choice', () => {
      // a pathway may need nothing at start: its start form then only types the variables it accepts
      expect(formConventionProblems(schema, { startForm: START_FORM_IDS.includes(formId) })).toEqual([]);
    });

    it('accepts the valid example', () => {
      expect(validator.validate(formId, examples.valid)).toEqual({ valid: true });
    });

    it('has named invalid examples', () => {
      expect(examples.invalid.length).toBeGreaterThanOrEqual(2);
    });

    it.each(examples.invalid.map((e) => [e.name, e] as const))('rejects %s on the named field', (_name, example) => {
      const result = validator.validate(formId, invalidSubmission(examples.valid, example));
      expect(result.valid).toBe(false);
      if (result.valid) return;
      const problem = result.problems.find(
        (p) => p.pointer === `/${example.field}` || p.pointer.startsWith(`/${example.field}/`),
      );
      expect(problem).toBeDefined();
      expect(problem?.detail).toBe(example.detail ?? schema['x-error-messages']?.[example.field]);
    });
  });

  it('refuses fields the form does not have', () => {
    const result = validator.validate('sms-brief-intervention', {
      ...readFormExamples('sms-brief-intervention').valid,
      favouriteColour: 'blue',
    });
    expect(result).toEqual({
      valid: false,
      problems: [{ pointer: '/favouriteColour', detail: 'This field is not part of the form.' }],
    });
  });

  describe('messages that fit the failure', () => {
    const screening = readFormExamples('custody-health-screening').valid;

    it('tells a field that is missing what to enter', () => {
      const { healthConditions: _omitted, ...withoutConditions } = screening;
      expect(validator.validate('custody-health-screening', withoutConditions)).toEqual({
        valid: false,
        problems: [{ pointer: '/healthConditions', detail: 'Describe the health conditions or injuries.' }],
      });
    });

    it('does not tell a 2,001-character answer to a 2,000-character field that it is missing', () => {
      const result = validator.validate('custody-health-screening', {
        ...screening,
        healthConditions: 'x'.repeat(2001),
      });
      expect(result).toEqual({
        valid: false,
        problems: [
          { pointer: '/healthConditions', detail: 'This answer is too long: it must be 2000 characters or fewer.' },
        ],
      });
    });

    it('treats an answer sent as null as missing', () => {
      expect(validator.validate('custody-health-screening', { ...screening, healthConditions: null })).toEqual({
        valid: false,
        problems: [{ pointer: '/healthConditions', detail: 'Describe the health conditions or injuries.' }],
      });
    });

    it('accepts an answer of exactly the maximum length', () => {
      expect(
        validator.validate('custody-health-screening', { ...screening, healthConditions: 'x'.repeat(2000) }),
      ).toEqual({ valid: true });
    });

    it('names the wrong type, too many items and a value out of range, and keeps the form message for a wrong choice', () => {
      const result = validator.validate('custody-health-screening', {
        ...screening,
        hasAllergies: 'no',
        substances: [...Array<string>(10).fill('opiates')],
        alcoholUse: 'sometimes',
      });
      expect(result.valid).toBe(false);
      if (result.valid) return;
      expect(result.problems).toEqual(
        expect.arrayContaining([
          { pointer: '/hasAllergies', detail: 'This answer must be true or false, not text.' },
          { pointer: '/substances', detail: 'There are too many: give at most 9.' },
          { pointer: '/alcoholUse', detail: 'Choose how the person uses alcohol.' },
        ]),
      );
      const review = readFormExamples('sms-review').valid;
      expect(validator.validate('sms-review', { ...review, attendance: 'attended', dailyDoseMg: 600 })).toMatchObject({
        problems: [{ pointer: '/dailyDoseMg', detail: 'This answer must be 500 or less.' }],
      });
    });
  });

  it('judges "not in the future" against the injected clock', () => {
    const early = createFormValidator({ now: () => new Date('2026-03-01T00:00:00Z') });
    const result = early.validate('sms-brief-intervention', readFormExamples('sms-brief-intervention').valid);
    expect(result.valid).toBe(false);
  });

  it('throws a ValidationError listing the problems, and NotFoundError for an unknown form', () => {
    expect(() => validator.assertValid('sms-review', {})).toThrow(ValidationError);
    expect(() => validator.assertValid('no-such-form', {})).toThrow(NotFoundError);
  });
});
