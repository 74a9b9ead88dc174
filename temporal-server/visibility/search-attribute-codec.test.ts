import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import {
  searchAttributePayloadConverter,
  decodeTypedSearchAttributes,
  encodeUnifiedSearchAttributes,
} from '@temporalio/common/lib/converter/payload-search-attributes';
import {
  applySearchAttributeUpdate,
  decodeSearchAttributes,
  encodeExecutionStatusGroupValue,
  encodeSearchAttributes,
  type SearchAttributePayload,
} from './search-attribute-codec';
import { IndexedValueTypes } from './search-attribute-types';
import { BadSearchAttributesError } from './visibility.errors';

const types = {
  PathwayId: IndexedValueTypes.KeywordList,
  CaseSetting: IndexedValueTypes.Keyword,
  Notes: IndexedValueTypes.Text,
  ReviewCount: IndexedValueTypes.Int,
  RiskScore: IndexedValueTypes.Double,
  Urgent: IndexedValueTypes.Bool,
  DueAt: IndexedValueTypes.Datetime,
};

const keys = {
  PathwayId: defineSearchAttributeKey('PathwayId', SearchAttributeType.KEYWORD_LIST),
  CaseSetting: defineSearchAttributeKey('CaseSetting', SearchAttributeType.KEYWORD),
  Notes: defineSearchAttributeKey('Notes', SearchAttributeType.TEXT),
  ReviewCount: defineSearchAttributeKey('ReviewCount', SearchAttributeType.INT),
  RiskScore: defineSearchAttributeKey('RiskScore', SearchAttributeType.DOUBLE),
  Urgent: defineSearchAttributeKey('Urgent', SearchAttributeType.BOOL),
  DueAt: defineSearchAttributeKey('DueAt', SearchAttributeType.DATETIME),
};

function payload(json: string, metadata: Record<string, string> = { encoding: 'json/plain' }): SearchAttributePayload {
  const encoder = new TextEncoder();
  return {
    metadata: Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, encoder.encode(v)])),
    data: encoder.encode(json),
  };
}

function badAttributes(fields: Record<string, SearchAttributePayload>): BadSearchAttributesError {
  try {
    decodeSearchAttributes(fields, types);
  } catch (error) {
    if (error instanceof BadSearchAttributesError) return error;
    throw error;
  }
  throw new Error('expected the attributes to be refused');
}

describe('decodeSearchAttributes', () => {
  it('reads every type as the SDK encodes typed search attributes', () => {
    // given payloads made by the SDK itself
    const fields = encodeUnifiedSearchAttributes(undefined, [
      { key: keys.PathwayId, value: ['sms', 'custody'] },
      { key: keys.CaseSetting, value: 'HMP-LEEDS' },
      { key: keys.Notes, value: 'Missed appointment' },
      { key: keys.ReviewCount, value: 3 },
      { key: keys.RiskScore, value: 0.75 },
      { key: keys.Urgent, value: true },
      { key: keys.DueAt, value: new Date('2026-02-01T09:00:00.000Z') },
    ]);
    // when / then
    expect(decodeSearchAttributes(fields, types)).toEqual({
      PathwayId: ['sms', 'custody'],
      CaseSetting: 'HMP-LEEDS',
      Notes: 'Missed appointment',
      ReviewCount: 3,
      RiskScore: 0.75,
      Urgent: true,
      DueAt: '2026-02-01T09:00:00.000Z',
    });
  });

  it('reads the deprecated untyped form, where every value is wrapped in a list', () => {
    const fields = encodeUnifiedSearchAttributes({
      CaseSetting: ['HMP-LEEDS'],
      ReviewCount: [3],
      DueAt: [new Date('2026-02-01T09:00:00.000Z')],
      PathwayId: ['sms', 'custody'],
    });
    expect(decodeSearchAttributes(fields, types)).toEqual({
      CaseSetting: 'HMP-LEEDS',
      ReviewCount: 3,
      DueAt: '2026-02-01T09:00:00.000Z',
      PathwayId: ['sms', 'custody'],
    });
  });

  it("accepts the TemporalChangeVersion that the SDK's patched() upserts without it being registered", () => {
    // as sdk-core writes it: json/plain, type KeywordList
    const fields = {
      TemporalChangeVersion: payload('["review-timers-v2"]', { encoding: 'json/plain', type: 'KeywordList' }),
    };
    expect(decodeSearchAttributes(fields, {})).toEqual({ TemporalChangeVersion: ['review-timers-v2'] });
  });

  it('reads a removal as null: a JSON null, binary/null, or an empty list', () => {
    const fields = {
      ...encodeUnifiedSearchAttributes(undefined, [{ key: keys.CaseSetting, value: null }]),
      Notes: payload('', { encoding: 'binary/null' }),
      PathwayId: payload('[]'),
    };
    expect(decodeSearchAttributes(fields, types)).toEqual({ CaseSetting: null, Notes: null, PathwayId: null });
  });

  it('follows the registered type rather than the metadata type', () => {
    const fields = { ReviewCount: payload('4', { encoding: 'json/plain', type: 'Keyword' }) };
    expect(decodeSearchAttributes(fields, types)).toEqual({ ReviewCount: 4 });
  });

  it('stores Datetime values in UTC whatever offset they were written with', () => {
    expect(decodeSearchAttributes({ DueAt: payload('"2026-02-01T10:00:00+01:00"') }, types)).toEqual({
      DueAt: '2026-02-01T09:00:00.000Z',
    });
  });

  it("refuses values beyond Temporal's size limits", () => {
    // given a value over 2 KiB, and thirty of 1.5 KiB (45 KiB in all)
    const big = { CaseSetting: payload(JSON.stringify('x'.repeat(2048))) };
    const many = Object.fromEntries(
      Array.from({ length: 30 }, (_, i) => [`K${i}`, payload(JSON.stringify('y'.repeat(1500)))]),
    );
    const manyTypes = Object.fromEntries(Object.keys(many).map((name) => [name, IndexedValueTypes.Keyword]));
    // then
    expect(() => decodeSearchAttributes(big, types)).toThrow(
      'search attribute CaseSetting value size 2050 exceeds size limit 2048',
    );
    expect(() => decodeSearchAttributes(many, manyTypes)).toThrow(
      'total size of search attributes exceeds size limit 40960',
    );
    expect(() =>
      decodeSearchAttributes(many, manyTypes, { maxKeys: 10, maxValueBytes: 2048, maxTotalBytes: 1e6 }),
    ).toThrow('number of search attributes 30 exceeds limit 10');
  });

  it.each([
    ['an unknown attribute', { Unknown: payload('"x"') }, 'search attribute Unknown is not defined'],
    ['a system attribute', { WorkflowId: payload('"x"') }, "WorkflowId attribute can't be set in SearchAttributes"],
    [
      'a string for an Int',
      { ReviewCount: payload('"3"') },
      'invalid value for search attribute ReviewCount of type Int: "3"',
    ],
    ['a fraction for an Int', { ReviewCount: payload('3.5') }, 'of type Int: 3.5'],
    ['a number for a Keyword', { CaseSetting: payload('5') }, 'of type Keyword: 5'],
    ['a string for a Bool', { Urgent: payload('"true"') }, 'of type Bool'],
    ['a date without a time', { DueAt: payload('"2026-02-01"') }, 'of type Datetime: "2026-02-01"'],
    ['numbers in a KeywordList', { PathwayId: payload('[1, 2]') }, 'of type KeywordList: [1,2]'],
    ['two values for a Keyword', { CaseSetting: payload('["a", "b"]') }, 'list of values not allowed'],
    ['a NUL character', { CaseSetting: payload('"a\\u0000b"') }, 'of type Keyword'],
    ['malformed JSON', { CaseSetting: payload('{') }, 'value is not valid JSON'],
    [
      'another encoding',
      { CaseSetting: payload('x', { encoding: 'binary/protobuf' }) },
      'unsupported encoding binary/protobuf',
    ],
  ])('refuses %s as BAD_SEARCH_ATTRIBUTES', (_what, fields, message) => {
    const error = badAttributes(fields);
    expect(error.message).toContain(message);
    expect(error.code).toBe('BAD_SEARCH_ATTRIBUTES');
    expect(error.grpcStatus).toBe(3);
    expect(error.attribute).toBe(Object.keys(fields)[0]);
  });
});

describe('encodeSearchAttributes', () => {
  it('writes payloads that the SDK decodes back to the same typed values', () => {
    // given stored values of every type
    const stored = {
      PathwayId: ['sms'],
      CaseSetting: 'HMP-LEEDS',
      Notes: 'Missed appointment',
      ReviewCount: 3,
      RiskScore: 0.5,
      Urgent: false,
      DueAt: '2026-02-01T09:00:00.000Z',
      TemporalChangeVersion: ['review-timers-v2'],
    };
    // when
    const encoded = encodeSearchAttributes(stored, types);
    // then the SDK reads them as it would from a real server
    const typed = decodeTypedSearchAttributes(encoded);
    expect(typed.get(keys.PathwayId)).toEqual(['sms']);
    expect(typed.get(keys.CaseSetting)).toBe('HMP-LEEDS');
    expect(typed.get(keys.Notes)).toBe('Missed appointment');
    expect(typed.get(keys.ReviewCount)).toBe(3);
    expect(typed.get(keys.RiskScore)).toBe(0.5);
    expect(typed.get(keys.Urgent)).toBe(false);
    expect(typed.get(keys.DueAt)).toEqual(new Date('2026-02-01T09:00:00.000Z'));
    expect(new TextDecoder().decode(encoded.TemporalChangeVersion?.metadata?.type ?? undefined)).toBe('KeywordList');
  });

  it('round-trips through decodeSearchAttributes', () => {
    const stored = { CaseSetting: 'HMP-LEEDS', ReviewCount: 3, PathwayId: ['a', 'b'] };
    expect(decodeSearchAttributes(encodeSearchAttributes(stored, types), types)).toEqual(stored);
  });

  it('leaves out attributes that are no longer registered, and nulls', () => {
    expect(Object.keys(encodeSearchAttributes({ Removed: 'x', CaseSetting: null, Notes: 'n' }, types))).toEqual([
      'Notes',
    ]);
  });
});

describe('applySearchAttributeUpdate', () => {
  it('replaces values and removes those set to null', () => {
    expect(applySearchAttributeUpdate({ A: 1, B: 'b', C: true }, { B: null, C: false, D: ['d'] })).toEqual({
      A: 1,
      C: false,
      D: ['d'],
    });
  });
});

describe('encodeExecutionStatusGroupValue', () => {
  it('writes the status name as a Keyword, which the client reads back as the group value', () => {
    const payload = encodeExecutionStatusGroupValue(6);
    // the client's count() decodes group values with this converter
    expect(searchAttributePayloadConverter.fromPayload(payload)).toEqual(['ContinuedAsNew']);
    expect(new TextDecoder().decode(payload.metadata?.type ?? undefined)).toBe('Keyword');
  });

  it('refuses a status number that does not exist', () => {
    expect(() => encodeExecutionStatusGroupValue(42)).toThrow(RangeError);
  });
});
