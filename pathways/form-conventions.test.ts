/** The forms' conventions, and a form being designed checked as the product would use it. */
import { ValidationError } from '../domain/errors';
import { readFormSchema } from './catalogue';
import { readFormExamples } from './form-examples';
import { checkForm, formConventionProblems } from './form-conventions';

/** A small form that keeps every convention. */
function goodForm(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://throughcare.example/pathways/forms/designer-test.schema.json',
    title: 'Designer test',
    type: 'object',
    additionalProperties: false,
    required: ['seen'],
    properties: {
      seen: { type: 'boolean', title: 'Seen?', 'x-throughcare-source': { rule: 'local' } },
      dose: {
        type: 'integer',
        minimum: 0,
        maximum: 500,
        title: 'Dose (mg)',
        'x-throughcare-source': { rule: 'national', sources: ['S14'], evidence: 'READ' },
      },
    },
    'x-error-messages': { seen: 'Say whether the person was seen.', dose: 'Enter the dose in mg.' },
  };
}

describe('formConventionProblems', () => {
  it('finds nothing wrong with a form that keeps every convention, or with a shipped form', () => {
    expect(formConventionProblems(goodForm())).toEqual([]);
    expect(formConventionProblems(readFormSchema('sms-review'))).toEqual([]);
  });

  it('names each convention broken by its pointer into the schema', () => {
    const form = goodForm();
    const properties = form['properties'] as Record<string, Record<string, unknown>>;
    const broken = {
      ...form,
      $schema: 'http://json-schema.org/draft-07/schema#',
      title: ' ',
      additionalProperties: true,
      required: [],
      'x-error-messages': { seen: 'Say whether the person was seen.', colour: 'Choose a colour.' },
      properties: {
        seen: { type: 'boolean' },
        dose: { ...properties['dose'], 'x-throughcare-source': { rule: 'national', sources: ['S99'] } },
      },
    };
    expect(formConventionProblems(broken).map((p) => p.pointer)).toEqual([
      '/$schema',
      '/title',
      '/additionalProperties',
      '/x-error-messages/dose',
      '/x-error-messages/colour',
      '/required',
      '/properties/seen/x-throughcare-source',
      '/properties/dose/x-throughcare-source/sources/0',
      '/properties/dose/x-throughcare-source/evidence',
    ]);
  });

  it('lets a start form require nothing, and no other', () => {
    const { required: _none, ...form } = goodForm();
    expect(formConventionProblems(form, { startForm: true })).toEqual([]);
    expect(formConventionProblems(form)).toEqual([
      { pointer: '/required', detail: 'must name at least one answer the form needs' },
    ]);
  });

  it('asks for questions when there are none, and for an object when given something else', () => {
    expect(formConventionProblems({ ...goodForm(), type: 'array', properties: {} }).map((p) => p.pointer)).toEqual([
      '/type',
      '/properties',
    ]);
    expect(formConventionProblems([])).toEqual([{ pointer: '', detail: 'must be a JSON Schema object' }]);
  });
});

function refusalOf(schema: Record<string, unknown>) {
  try {
    checkForm(schema);
  } catch (error) {
    if (error instanceof ValidationError) return { code: error.code, problems: error.problems };
    throw error;
  }
  return undefined;
}

describe('checkForm', () => {
  it('checks a submission with the messages a clinician is given', () => {
    expect(checkForm(goodForm(), { seen: true, dose: 70 })).toEqual({ problems: [], submissionProblems: [] });
    const { problems, submissionProblems } = checkForm(goodForm(), { dose: 700 });
    expect(submissionProblems).toEqual([
      { pointer: '/seen', detail: 'Say whether the person was seen.' },
      { pointer: '/dose', detail: 'This answer must be 500 or less.' },
    ]);
    expect(problems.map((p) => p.pointer)).toEqual(['/submission/seen', '/submission/dose']);
  });

  it('checks a shipped form against its own examples', () => {
    const { valid, invalid } = readFormExamples('sms-review');
    expect(checkForm(readFormSchema('sms-review'), valid).problems).toEqual([]);
    expect(invalid.length).toBeGreaterThan(0);
  });

  it('refuses a schema that does not compile, at /schema with ajv’s message, as unprocessable', () => {
    expect(refusalOf({ ...goodForm(), properties: { seen: { type: 'yes-or-no' } } })).toEqual({
      code: 'UNPROCESSABLE',
      problems: [{ pointer: '/schema', detail: expect.stringContaining('schema is invalid') }],
    });
    // strict mode: a keyword ajv does not know is a mistake, not an annotation
    expect(refusalOf({ ...goodForm(), colour: 'blue' })).toEqual({
      code: 'UNPROCESSABLE',
      problems: [{ pointer: '/schema', detail: 'strict mode: unknown keyword: "colour"' }],
    });
    expect(refusalOf({ ...goodForm(), $async: true })?.problems).toEqual([
      { pointer: '/schema/$async', detail: expect.any(String) },
    ]);
  });

  it('compiles a shipped form twice over without its $id clashing', () => {
    const schema = readFormSchema('sms-review') as unknown as Record<string, unknown>;
    expect(() => [checkForm(schema), checkForm(schema)]).not.toThrow();
  });
});
