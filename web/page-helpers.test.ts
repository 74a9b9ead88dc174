import { calendarDateOf, fieldErrorsOf, londonInstantOf } from './page-helpers';
import { ageInYears, longDate } from './render';

describe('what the patient and case forms read', () => {
  it('reads a date and a 24-hour time on London’s clock, either side of a clock change', () => {
    // 29 March 2026: clocks go forward at 01:00 GMT; 25 October 2026: back at 02:00 BST.
    expect(londonInstantOf({ day: '28', month: '3', year: '2026', time: '09:30' })).toBe('2026-03-28T09:30:00.000Z');
    expect(londonInstantOf({ day: '30', month: '3', year: '2026', time: '09:30' })).toBe('2026-03-30T08:30:00.000Z');
    expect(londonInstantOf({ day: '1', month: '12', year: '2026', time: '9.05' })).toBe('2026-12-01T09:05:00.000Z');
  });

  it('refuses a date or time that is not real, or an hour the clocks skip', () => {
    expect(londonInstantOf({ day: '30', month: '2', year: '2026', time: '09:30' })).toBeUndefined();
    expect(londonInstantOf({ day: '1', month: '1', year: '2026', time: '24:00' })).toBeUndefined();
    expect(londonInstantOf({ day: '1', month: '1', year: '2026', time: '' })).toBeUndefined();
    expect(londonInstantOf({ day: '29', month: '3', year: '2026', time: '01:30' })).toBeUndefined();
    expect(calendarDateOf({ day: '14', month: '3', year: '1985' })).toBe('1985-03-14');
    expect(calendarDateOf({ day: '29', month: '2', year: '2023' })).toBeUndefined();
    expect(calendarDateOf({ day: '1', month: '1', year: '85' })).toBeUndefined();
  });

  it('puts each problem of an operation on its field, in the form’s words for a field left empty', () => {
    const fields = { '/body': { id: 'note-body', label: 'Note', missing: 'Enter the note' } };
    expect(fieldErrorsOf([{ pointer: '/body', detail: 'is required' }], fields, 'note-body')).toEqual({
      'note-body': 'Enter the note',
    });
    expect(
      fieldErrorsOf([{ pointer: '/body', detail: 'must NOT have more than 10000 characters' }], fields, 'x'),
    ).toEqual({ 'note-body': 'Note: must NOT have more than 10000 characters' });
    expect(fieldErrorsOf([{ pointer: '/other', detail: 'is not valid' }], fields, 'note-body')).toEqual({
      'note-body': 'This form: is not valid',
    });
  });

  it('shows a date of birth as written, and the age on London’s date', () => {
    expect(longDate('1985-03-14')).toBe('14 March 1985');
    expect(longDate(null)).toBe('');
    // 23:30 UTC on 13 March 2026 is still the 13th in London (GMT): not yet 41.
    expect(ageInYears('1985-03-14', new Date('2026-03-13T23:30:00Z'))).toBe(40);
    expect(ageInYears('1985-03-14', new Date('2026-03-14T00:00:00Z'))).toBe(41);
    // 23:30 UTC on 13 June is already the 14th in London (BST).
    expect(ageInYears('1985-06-14', new Date('2026-06-13T23:30:00Z'))).toBe(41);
    expect(ageInYears(null)).toBeUndefined();
  });
});
