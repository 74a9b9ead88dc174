/** The designer's form preview: the worklist's renderer on a form being designed, whatever it holds. */
import fc from 'fast-check';
import { ValidationError } from '../../domain/errors';
import { checkForm, readFormExamples, readFormSchema, invalidSubmission, type FormSchema } from '../../pathways';
import { renderFormPreview } from './form-preview';

describe('renderFormPreview', () => {
  const schema = readFormSchema('sms-review');
  const { valid, invalid } = readFormExamples('sms-review');

  it('renders the form as the task page does, with the answers filled in', () => {
    const html = renderFormPreview(schema, valid, []);
    expect(html).toContain(`<h2>${schema.title}</h2>`);
    expect(html).toContain('name="reviewType"');
    expect(html).toMatch(/value="five-day"[^>]*checked|checked[^>]*value="five-day"/);
    expect(html).not.toContain('There is a problem');
  });

  it('shows a refused answer at its question and in the error summary', () => {
    const example = invalid[0]!;
    const { submissionProblems } = checkForm(schema, invalidSubmission(valid, example));
    const message = submissionProblems.find((p) => p.pointer === `/${example.field}`)!.detail;
    const html = renderFormPreview(schema, invalidSubmission(valid, example), submissionProblems);
    expect(html).toContain('There is a problem');
    expect(html.split(message).length - 1).toBeGreaterThanOrEqual(2);
  });

  it('escapes what a schema says', () => {
    const html = renderFormPreview({ ...schema, title: '<script>alert(1)</script>' }, undefined, []);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;');
  });

  it('never fails on a schema that compiles, whatever it holds, nor on any submission', () => {
    const name = fc.constantFrom('a', 'b', 'dose', 'when', 'list', 'x.y', 'a/b', '0');
    // Questions of each type with the keywords that type takes (strict mode refuses the others).
    const title = fc.string({ maxLength: 12 });
    const question = fc.letrec((tie) => ({
      question: fc.oneof(
        { depthSize: 'small' },
        fc.record(
          {
            type: fc.constantFrom('string', ['string', 'null']),
            title,
            format: fc.constantFrom('date', 'date-time'),
            maxLength: fc.nat(1000),
            enum: fc.array(fc.oneof(fc.string({ maxLength: 6 }), fc.constant(null)), { minLength: 1, maxLength: 12 }),
            'x-enum-titles': fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 })),
          },
          { requiredKeys: ['type'] },
        ),
        fc.record(
          { type: fc.constantFrom('integer', 'number'), title, minimum: fc.integer(), maximum: fc.integer() },
          { requiredKeys: ['type'] },
        ),
        fc.record({ type: fc.constant('boolean'), title }, { requiredKeys: ['type'] }),
        fc.record(
          { type: fc.constant('array'), title, items: tie('question'), minItems: fc.nat(3), maxItems: fc.nat(14) },
          { requiredKeys: ['type'] },
        ),
        fc.record(
          {
            type: fc.constant('object'),
            title,
            properties: fc.dictionary(name, tie('question'), { maxKeys: 3 }),
            required: fc.uniqueArray(name, { maxLength: 2 }),
          },
          { requiredKeys: ['type'] },
        ),
      ),
    })).question;
    const form = fc.record(
      {
        type: fc.constant('object'),
        title: fc.string({ maxLength: 12 }),
        properties: fc.dictionary(name, question, { maxKeys: 5 }),
        required: fc.uniqueArray(name, { maxLength: 3 }),
        allOf: fc.array(
          fc.record({
            if: fc.record({
              properties: fc.dictionary(name, fc.record({ const: fc.jsonValue({ maxDepth: 0 }) }), {
                minKeys: 1,
                maxKeys: 1,
              }),
              required: fc.uniqueArray(name, { maxLength: 1 }),
            }),
            then: fc.record({ required: fc.uniqueArray(name, { maxLength: 2 }) }),
          }),
          { maxLength: 2 },
        ),
        dependentRequired: fc.dictionary(name, fc.uniqueArray(name, { maxLength: 2 }), { maxKeys: 2 }),
        'x-error-messages': fc.dictionary(name, fc.jsonValue({ maxDepth: 0 })),
      },
      { requiredKeys: ['type', 'properties'] },
    );
    const anything = fc.dictionary(
      fc.constantFrom('type', 'title', 'properties', 'required', 'enum', 'items', 'x-error-messages', 'allOf'),
      fc.jsonValue({ maxDepth: 3 }),
    );
    const answers = fc.oneof(fc.dictionary(name, fc.jsonValue({ maxDepth: 2 })), fc.jsonValue({ maxDepth: 2 }));
    let rendered = 0;
    fc.assert(
      fc.property(fc.oneof(form, form, anything), answers, (candidate, submission) => {
        let check;
        try {
          check = checkForm(candidate, submission);
        } catch (error) {
          if (error instanceof ValidationError) return;
          throw error;
        }
        const given =
          typeof submission === 'object' && submission !== null && !Array.isArray(submission)
            ? (submission as Record<string, unknown>)
            : undefined;
        expect(typeof renderFormPreview(candidate as FormSchema, given, check.submissionProblems)).toBe('string');
        rendered++;
      }),
      { numRuns: 200, seed: 20261207 },
    );
    // Most of them compiled, so the renderer was put to the test.
    expect(rendered).toBeGreaterThan(100);
  });
});
