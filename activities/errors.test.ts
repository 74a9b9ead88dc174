import { ApplicationFailure } from '@temporalio/common';
import { InvalidNhsNumberError } from '../store/errors';
import {
  ActivityError,
  DeliveryError,
  NotFoundError,
  toActivityError,
  toApplicationFailure,
  withFailureConversion,
} from './errors';

describe('toApplicationFailure', () => {
  it('maps code to type and retryable to the opposite of nonRetryable', () => {
    const failure = toApplicationFailure(new NotFoundError('case', 'c-1'));
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'NOT_FOUND', nonRetryable: true, details: [{ what: 'case', id: 'c-1' }] });
    expect(toApplicationFailure(new DeliveryError('smtp 421', true))).toMatchObject({
      type: 'DELIVERY_FAILED',
      nonRetryable: false,
    });
  });

  it('keeps the code and retryable flag of the store errors', () => {
    expect(toApplicationFailure(new InvalidNhsNumberError())).toMatchObject({
      type: 'INVALID_NHS_NUMBER',
      nonRetryable: true,
    });
  });

  it('classifies PostgreSQL errors by SQLSTATE', () => {
    const sqlError = (code: string) => Object.assign(new Error('db'), { code });
    expect(toActivityError(sqlError('23505'))).toMatchObject({ code: 'RECORD_REFUSED', retryable: false });
    expect(toActivityError(sqlError('40001'))).toMatchObject({ code: 'DATABASE_UNAVAILABLE', retryable: true });
    expect(toActivityError(sqlError('57P01'))).toMatchObject({ code: 'DATABASE_UNAVAILABLE', retryable: true });
    expect(toActivityError(sqlError('22001'))).toMatchObject({ code: 'INVALID_INPUT', retryable: false });
    expect(toActivityError(sqlError('ECONNREFUSED'))).toMatchObject({ code: 'DATABASE_UNAVAILABLE', retryable: true });
  });

  it('treats an unforeseen error as retryable', () => {
    expect(toApplicationFailure(new TypeError('boom'))).toMatchObject({ type: 'UNEXPECTED', nonRetryable: false });
  });

  it('passes an ApplicationFailure through unchanged', () => {
    const failure = ApplicationFailure.nonRetryable('x', 'CUSTOM');
    expect(toApplicationFailure(failure)).toBe(failure);
  });
});

describe('withFailureConversion', () => {
  it('turns whatever an activity throws into an ApplicationFailure and leaves results alone', async () => {
    const activities = withFailureConversion({
      ok: async () => Promise.resolve(42),
      bad: async () => Promise.reject(new ActivityError('no', 'SOME_CODE', false)),
    });
    await expect(activities.ok()).resolves.toBe(42);
    await expect(activities.bad()).rejects.toMatchObject({ type: 'SOME_CODE', nonRetryable: true });
    expect(activities.bad.name).toBe('bad');
  });
});
