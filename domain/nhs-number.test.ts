import { formatNhsNumber, isValidNhsNumber } from './nhs-number';

describe('isValidNhsNumber', () => {
  it.each(['9000000009', '9000000017', '9111231130', '4010232137', '943 476 5919'])('accepts %s', (n) => {
    expect(isValidNhsNumber(n)).toBe(true);
  });

  it.each([
    ['9000000000', 'wrong check digit'],
    ['9111111111', 'wrong check digit'],
    ['1234567890', 'check value of 10 is never issued'],
    ['1000000000', 'wrong check digit'],
    ['123456789', 'nine digits'],
    ['12345678901', 'eleven digits'],
    ['900000000A', 'a letter'],
    ['', 'empty'],
  ])('rejects %s (%s)', (n) => {
    expect(isValidNhsNumber(n)).toBe(false);
  });
});

describe('formatNhsNumber', () => {
  it('groups digits 3-3-4', () => {
    expect(formatNhsNumber('9434765919')).toBe('943 476 5919');
  });
});
