import { ValidationError } from '../../domain/errors';
import { sameOriginReturnTo } from './return-to';

describe('sameOriginReturnTo', () => {
  it('keeps a path on this site, with its query', () => {
    expect(sameOriginReturnTo('/tasks?mine=true#top')).toBe('/tasks?mine=true#top');
    expect(sameOriginReturnTo('/cases/../tasks')).toBe('/tasks');
  });

  it('returns to the start page when none is given', () => {
    expect(sameOriginReturnTo(undefined)).toBe('/');
    expect(sameOriginReturnTo('')).toBe('/');
  });

  it.each([
    'https://evil.example/',
    '//evil.example/path',
    '/\\evil.example',
    '\\\\evil.example',
    '/\t/evil.example',
    'javascript:alert(1)',
    'tasks',
    `/${'a'.repeat(2048)}`,
  ])('refuses %j as an open redirect', (value) => {
    expect(() => sameOriginReturnTo(value)).toThrow(ValidationError);
  });

  it('refuses a returnTo given twice', () => {
    expect(() => sameOriginReturnTo(['/a', '/b'])).toThrow(/returnTo must be a path on this site/);
  });
});
