import { soundex } from './pds-search';

describe('soundex', () => {
  it.each([
    ['Smith', 'S530'],
    ['Smythe', 'S530'],
    ['Robert', 'R163'],
    ['Rupert', 'R163'],
    ['Ashcraft', 'A261'],
    ['Pfister', 'P236'],
    ['Tymczak', 'T522'],
    ['Lee', 'L000'],
    ["O'Reilly", 'O640'],
  ])('codes %s as %s', (name, code) => {
    expect(soundex(name)).toBe(code);
  });
});
