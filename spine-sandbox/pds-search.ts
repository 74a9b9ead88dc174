/**
 * PDS patient search as the published rules describe it: parameter validation (unknown parameters, both postcode
 * parameters, date and gender formats, `_max-results` bounds, minimum parameters, wildcard and fuzzy rules) and a
 * small matcher over the sandbox's records (wildcards, `_history`, Soundex fuzzy matching, scores, `_exact-match`,
 * too many matches). Pure: the router turns the outcome into HTTP.
 */
import { type PdsErrorName } from './operation-outcome';
import { type FhirPatient } from './fixtures';

export type SearchQuery = Record<string, string | string[] | undefined>;

export type SearchOutcome =
  | { kind: 'error'; error: PdsErrorName; diagnostics?: string }
  | { kind: 'too-many-matches' }
  | { kind: 'matches'; matches: Array<{ patient: FhirPatient; score: number }> };

export interface SearchMode {
  /** Application-restricted callers (signed-JWT tokens) may only ask for, and only get, a single unique match. */
  applicationRestricted: boolean;
}

const KNOWN_PARAMS = [
  '_fuzzy-match',
  '_exact-match',
  '_history',
  '_max-results',
  'family',
  'given',
  'gender',
  'birthdate',
  'death-date',
  'address-postcode',
  'address-postalcode',
  'general-practitioner',
  'email',
  'phone',
] as const;

const GENDERS = ['male', 'female', 'other', 'unknown'];
const MAX_NAME_LENGTH = 35;
const MAX_RESULTS_HEALTHCARE_WORKER = 50;
const PARTIAL_MATCH_FACTOR = 0.9;
const SCORE_MISMATCH_FACTOR = 0.8;

const invalidSearch = (reason: string): SearchOutcome => ({
  kind: 'error',
  error: 'INVALID_SEARCH_DATA',
  diagnostics: `Invalid search data provided - '${reason}'`,
});
const invalidValue = (value: string, field: string): SearchOutcome => ({
  kind: 'error',
  error: 'INVALID_VALUE',
  diagnostics: `Invalid value - '${value}' in field '${field}'`,
});

function all(query: SearchQuery, name: string): string[] {
  const value = query[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function first(query: SearchQuery, name: string): string | undefined {
  return all(query, name)[0];
}

interface DateConstraint {
  prefix: 'eq' | 'ge' | 'le';
  date: string;
}

function parseDateConstraint(raw: string): DateConstraint | undefined {
  const match = /^(eq|ge|le)?(\d{4}-\d{2}-\d{2})$/.exec(raw);
  if (!match) return undefined;
  const date = match[2] as string;
  // Reject dates such as 2010-02-31 that match the pattern but do not exist.
  if (
    Number.isNaN(Date.parse(`${date}T00:00:00Z`)) ||
    new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10) !== date
  )
    return undefined;
  return { prefix: (match[1] ?? 'eq') as DateConstraint['prefix'], date };
}

function satisfies(date: string | undefined, constraints: DateConstraint[]): boolean {
  if (date === undefined) return false;
  const day = date.slice(0, 10);
  return constraints.every(({ prefix, date: bound }) => {
    switch (prefix) {
      case 'eq':
        return day === bound;
      case 'ge':
        return day >= bound;
      case 'le':
        return day <= bound;
    }
  });
}

function hasWildcard(value: string): boolean {
  return value.includes('*');
}

/** PDS allows `*` anywhere except within the first two characters. */
function isWildcardAllowed(value: string): boolean {
  const at = value.indexOf('*');
  return at === -1 || at >= 2;
}

function normaliseName(value: string): string {
  return value.trim().toLowerCase();
}

function normalisePostcode(value: string): string {
  return value.replace(/\s+/g, '').toUpperCase();
}

function wildcardRegExp(pattern: string): RegExp {
  const escaped = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${escaped}$`, 'i');
}

/** American Soundex, as PDS fuzzy search uses for homophones (Smith ~ Smythe). */
export function soundex(value: string): string {
  const letters = value.toUpperCase().replace(/[^A-Z]/g, '');
  if (letters.length === 0) return '';
  const codes: Record<string, string> = {
    B: '1', F: '1', P: '1', V: '1',
    C: '2', G: '2', J: '2', K: '2', Q: '2', S: '2', X: '2', Z: '2',
    D: '3', T: '3', L: '4', M: '5', N: '5', R: '6',
  }; // prettier-ignore
  let result = letters[0] as string;
  let previous = codes[result] ?? '';
  for (const letter of letters.slice(1)) {
    const code = codes[letter] ?? '';
    // H and W do not separate letters with the same code; vowels do.
    if (code !== '' && code !== previous) result += code;
    if (letter !== 'H' && letter !== 'W') previous = code;
    if (result.length === 4) break;
  }
  return result.padEnd(4, '0');
}

type FieldMatch = 'exact' | 'partial' | 'none';

function matchText(pattern: string, value: string | undefined, fuzzy: boolean): FieldMatch {
  if (value === undefined) return 'none';
  if (hasWildcard(pattern)) return wildcardRegExp(pattern).test(value) ? 'partial' : 'none';
  if (normaliseName(pattern) === normaliseName(value)) return 'exact';
  if (fuzzy && soundex(pattern) === soundex(value)) return 'partial';
  return 'none';
}

function worst(...matches: FieldMatch[]): FieldMatch {
  if (matches.includes('none')) return 'none';
  return matches.includes('partial') ? 'partial' : 'exact';
}

interface Criteria {
  family?: string;
  given: string[];
  gender?: string;
  birthdate: DateConstraint[];
  deathDate: DateConstraint[];
  postcode?: string;
  gp?: string;
  email?: string;
  phone?: string;
  fuzzy: boolean;
  history: boolean;
  exact: boolean;
  maxResults: number;
}

const CURRENT_NAME_USES = new Set(['usual', 'nickname', 'temp', undefined]);

function matchName(patient: FhirPatient, criteria: Criteria): FieldMatch {
  if (criteria.family === undefined && criteria.given.length === 0) return 'exact';
  const searchHistory = criteria.history || criteria.fuzzy;
  let best: FieldMatch = 'none';
  for (const name of patient.name ?? []) {
    const isCurrent = CURRENT_NAME_USES.has(name.use);
    if (!isCurrent && !searchHistory) continue;
    const given = name.given ?? [];
    const tryOrder = (family: string | undefined, firstGiven: string | undefined): FieldMatch => {
      const familyMatch = criteria.family === undefined ? 'exact' : matchText(criteria.family, family, criteria.fuzzy);
      const firstMatch =
        criteria.given[0] === undefined ? 'exact' : matchText(criteria.given[0], firstGiven, criteria.fuzzy);
      // Later given names must be recorded as middle names, exactly.
      const middles = criteria.given
        .slice(1)
        .map((g): FieldMatch => (given.slice(1).some((n) => normaliseName(n) === normaliseName(g)) ? 'exact' : 'none'));
      return worst(familyMatch, firstMatch, ...middles);
    };
    let match = tryOrder(name.family, given[0]);
    // Fuzzy search also finds transposed names (Adam Thomas for Thomas Adam).
    if (match === 'none' && criteria.fuzzy) match = worst(tryOrder(given[0], name.family), 'partial');
    if (match !== 'none' && !isCurrent) match = 'partial';
    if (match === 'exact') return 'exact';
    if (match === 'partial') best = 'partial';
  }
  return best;
}

function matchPostcode(patient: FhirPatient, criteria: Criteria): FieldMatch {
  if (criteria.postcode === undefined) return 'exact';
  const searchHistory = criteria.history || criteria.fuzzy;
  const pattern = normalisePostcode(criteria.postcode);
  let best: FieldMatch = 'none';
  for (const address of patient.address ?? []) {
    const isHome = address.use === 'home' || address.use === undefined;
    if (!isHome && !searchHistory) continue;
    if (address.postalCode === undefined) continue;
    const value = normalisePostcode(address.postalCode);
    let match: FieldMatch = hasWildcard(pattern)
      ? wildcardRegExp(pattern).test(value)
        ? 'partial'
        : 'none'
      : pattern === value
        ? 'exact'
        : 'none';
    if (match !== 'none' && !isHome) match = 'partial';
    if (match === 'exact') return 'exact';
    if (match === 'partial') best = 'partial';
  }
  return best;
}

function hasTelecom(patient: FhirPatient, system: string, wanted: string): boolean {
  return (patient.telecom ?? []).some(
    (t) => t.system === system && t.value !== undefined && t.value.toLowerCase() === wanted.toLowerCase(),
  );
}

export function isRestricted(patient: FhirPatient): boolean {
  const code = patient.meta.security?.[0]?.code;
  return code === 'R' || code === 'V';
}

function scorePatient(patient: FhirPatient, criteria: Criteria): number | undefined {
  const gp = patient.generalPractitioner?.[0]?.identifier?.value;
  const fields: FieldMatch[] = [
    matchName(patient, criteria),
    matchPostcode(patient, criteria),
    satisfies(patient.birthDate, criteria.birthdate) ? 'exact' : 'none',
  ];
  if (criteria.gender !== undefined) fields.push(patient.gender === criteria.gender ? 'exact' : 'none');
  if (criteria.email !== undefined) fields.push(hasTelecom(patient, 'email', criteria.email) ? 'exact' : 'none');
  if (criteria.phone !== undefined) fields.push(hasTelecom(patient, 'phone', criteria.phone) ? 'exact' : 'none');
  let penalty = 1;
  // Fuzzy search ignores date of death and GP for matching but lowers the score on a mismatch.
  if (criteria.deathDate.length > 0) {
    const ok = satisfies(patient.deceasedDateTime, criteria.deathDate);
    if (criteria.fuzzy) penalty *= ok ? 1 : SCORE_MISMATCH_FACTOR;
    else fields.push(ok ? 'exact' : 'none');
  }
  if (criteria.gp !== undefined) {
    const ok = gp !== undefined && gp.toUpperCase() === criteria.gp.toUpperCase();
    if (criteria.fuzzy) penalty *= ok ? 1 : SCORE_MISMATCH_FACTOR;
    else fields.push(ok ? 'exact' : 'none');
  }
  if (fields.includes('none')) return undefined;
  const partials = fields.filter((f) => f === 'partial').length;
  return Math.round(penalty * PARTIAL_MATCH_FACTOR ** partials * 10_000) / 10_000;
}

function validate(query: SearchQuery, mode: SearchMode): Criteria | SearchOutcome {
  const names = Object.keys(query);
  if (names.length === 0) return { kind: 'error', error: 'UNSUPPORTED_SERVICE' };

  const unknown = names.filter((n) => !(KNOWN_PARAMS as readonly string[]).includes(n));
  if (unknown.length > 0) {
    const list = unknown.map((n) => `'${n}'`).join(', ');
    return {
      kind: 'error',
      error: 'ADDITIONAL_PROPERTIES',
      diagnostics: `Invalid request with error - Additional properties are not allowed (${list} ${unknown.length === 1 ? 'was' : 'were'} unexpected)`,
    };
  }

  if (query['address-postcode'] !== undefined && query['address-postalcode'] !== undefined)
    return invalidSearch('address-postcode and address-postalcode cannot be used together: use address-postalcode');

  const birthdate: DateConstraint[] = [];
  const deathDate: DateConstraint[] = [];
  for (const [field, into] of [
    ['birthdate', birthdate],
    ['death-date', deathDate],
  ] as const) {
    const values = all(query, field);
    if (values.length > 2) return invalidValue(values.join(','), field);
    for (const raw of values) {
      const parsed = parseDateConstraint(raw);
      if (!parsed) return invalidValue(raw, field);
      into.push(parsed);
    }
  }

  const gender = first(query, 'gender');
  if (gender !== undefined && !GENDERS.includes(gender)) return invalidValue(gender, 'gender');

  const flags: Record<'_fuzzy-match' | '_exact-match' | '_history', boolean> = {
    '_fuzzy-match': false,
    '_exact-match': false,
    _history: false,
  };
  for (const flag of Object.keys(flags) as Array<keyof typeof flags>) {
    const raw = first(query, flag);
    if (raw === undefined) continue;
    if (raw !== 'true' && raw !== 'false') return invalidValue(raw, flag);
    flags[flag] = raw === 'true';
  }

  const rawMax = first(query, '_max-results');
  let maxResults = mode.applicationRestricted ? 1 : MAX_RESULTS_HEALTHCARE_WORKER;
  if (rawMax !== undefined) {
    const parsed = /^\d+$/.test(rawMax) ? Number(rawMax) : NaN;
    if (!Number.isInteger(parsed) || parsed < 1 || parsed > MAX_RESULTS_HEALTHCARE_WORKER)
      return invalidValue(rawMax, '_max-results');
    if (mode.applicationRestricted && parsed > 1)
      return {
        kind: 'error',
        error: 'MAX_RESULTS_FORBIDDEN',
        diagnostics: 'Your app has insufficient permissions to perform this search. Please contact support.',
      };
    maxResults = parsed;
  }

  const family = first(query, 'family');
  const given = all(query, 'given');
  const postcode = first(query, 'address-postalcode') ?? first(query, 'address-postcode');
  for (const [field, value] of [['family', family] as const, ...given.map((g) => ['given', g] as const)]) {
    if (value !== undefined && value.length > MAX_NAME_LENGTH) return invalidValue(value, field);
  }

  if (birthdate.length === 0)
    return {
      kind: 'error',
      error: 'MISSING_VALUE',
      diagnostics: "Missing value - 'birth_date/birth_date_range_start/birth_date_range_end'",
    };

  const email = first(query, 'email');
  const phone = first(query, 'phone');
  if ((email !== undefined && hasWildcard(email)) || (phone !== undefined && hasWildcard(phone)))
    return invalidSearch('Wildcards are not supported for email or phone');

  const wildcarded = [family, ...given, postcode].filter((v): v is string => v !== undefined && hasWildcard(v));
  if (flags['_fuzzy-match']) {
    const has = { given: given.length > 0, family: family !== undefined, gender: gender !== undefined };
    const combos = [
      has.given && has.family,
      has.family && has.gender && postcode !== undefined,
      has.given && has.gender && postcode !== undefined,
    ];
    if (wildcarded.length > 0 || !combos.some(Boolean))
      return invalidSearch(
        'A fuzzy search was requested however the data given did not meet the fuzzy search criteria',
      );
  } else {
    if (family === undefined)
      return invalidSearch('No searches were performed as the search criteria did not meet the minimum requirements');
    if (wildcarded.some((v) => !isWildcardAllowed(v)))
      return invalidSearch('Wildcards must be preceded by at least two characters');
    if (given.slice(1).some(hasWildcard)) return invalidSearch('Wildcards are only supported in the first given name');
  }

  return {
    family,
    given,
    gender,
    birthdate,
    deathDate,
    postcode,
    gp: first(query, 'general-practitioner'),
    email,
    phone,
    fuzzy: flags['_fuzzy-match'],
    history: flags._history,
    exact: flags['_exact-match'],
    maxResults,
  };
}

/** Runs a search over current records (superseded and invalidated numbers have no record of their own here). */
export function searchPatients(query: SearchQuery, patients: Iterable<FhirPatient>, mode: SearchMode): SearchOutcome {
  const criteria = validate(query, mode);
  if ('kind' in criteria) return criteria;
  // Searching by location never returns restricted patients, even when they match.
  const excludeRestricted = criteria.postcode !== undefined || criteria.gp !== undefined;
  const matches: Array<{ patient: FhirPatient; score: number }> = [];
  for (const patient of patients) {
    if (excludeRestricted && isRestricted(patient)) continue;
    const score = scorePatient(patient, criteria);
    if (score === undefined) continue;
    if (criteria.exact && score !== 1) continue;
    matches.push({ patient, score });
  }
  matches.sort((a, b) => b.score - a.score || a.patient.id.localeCompare(b.patient.id));
  if (matches.length > criteria.maxResults) return { kind: 'too-many-matches' };
  return { kind: 'matches', matches };
}
