/**
 * Finding a person on PDS by demographics, for someone not yet (or not knowingly) in our record: the rules PDS
 * sets on a search (REFERENCE 1.5) are checked first, so a search PDS would refuse is a problem with the query,
 * never a call; PDS's own refusals and outages become ours. Nothing is recorded here: a result becomes part of
 * the record only when a case is started for them.
 */
import { isSpineError, type PdsSearchQuery, type SpineClient } from '../activities/spine';
import { DependencyUnavailableError, ValidationError, type FieldProblem } from '../domain/errors';
import type { Store } from '../store';
import { knexOf } from './case-settings';

export interface PatientSearchInput {
  readonly family?: string;
  readonly given?: string;
  /** `YYYY-MM-DD`: PDS requires a date of birth. */
  readonly birthdate: string;
  readonly gender?: 'male' | 'female' | 'other' | 'unknown';
  readonly postcode?: string;
  /** Soundex and transposed names; no wildcards. */
  readonly fuzzy?: boolean;
  /** 1-50 (healthcare worker access). */
  readonly limit: number;
}

export interface PatientSearchResult {
  readonly nhsNumber: string;
  readonly name: { readonly given: string[]; readonly family?: string; readonly prefix: string[] } | null;
  readonly birthDate: string | null;
  readonly gender: string | null;
  readonly deceasedAt: string | null;
  /** PDS `R`/`V`: no address, telephone, email or GP, whatever PDS sent. */
  readonly restricted: boolean;
  /** 1 is an exact match. */
  readonly score: number;
  readonly address?: { readonly lines: string[]; readonly postcode?: string };
  readonly phone?: string;
  readonly email?: string;
  readonly gpOdsCode?: string;
  /** Our record's id of the person, when we already hold a record of this NHS number. */
  readonly patientId: string | null;
}

/** The combinations PDS accepts for a fuzzy search (REFERENCE 1.5). */
const FUZZY_COMBINATIONS: readonly (readonly (keyof PatientSearchInput)[])[] = [
  ['given', 'family', 'birthdate'],
  ['family', 'birthdate', 'gender', 'postcode'],
  ['given', 'birthdate', 'gender', 'postcode'],
];

function searchProblems(input: PatientSearchInput): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const wildcard = (name: 'family' | 'given' | 'postcode') => input[name]?.includes('*') ?? false;
  if (input.fuzzy) {
    const fits = FUZZY_COMBINATIONS.some((fields) => fields.every((field) => input[field] !== undefined));
    if (!fits)
      problems.push({
        pointer: '/query/fuzzy',
        detail:
          'a fuzzy search needs given, family and birthdate; or family, birthdate, gender and postcode; or given, birthdate, gender and postcode',
      });
    for (const name of ['family', 'given', 'postcode'] as const)
      if (wildcard(name)) problems.push({ pointer: `/query/${name}`, detail: 'takes no * in a fuzzy search' });
  } else if (input.family === undefined) {
    problems.push({ pointer: '/query/family', detail: 'is required (with birthdate) unless the search is fuzzy' });
  }
  // PDS: a wildcard, but not in the first two characters.
  for (const name of ['family', 'given'] as const) {
    const value = input[name];
    if (value !== undefined && value.slice(0, 2).includes('*'))
      problems.push({ pointer: `/query/${name}`, detail: 'may end with *, but only after its first two characters' });
  }
  return problems;
}

function pdsQueryOf(input: PatientSearchInput): PdsSearchQuery {
  return {
    birthDate: input.birthdate,
    ...(input.family !== undefined ? { family: input.family } : {}),
    ...(input.given !== undefined ? { given: [input.given] } : {}),
    ...(input.gender !== undefined ? { gender: input.gender } : {}),
    ...(input.postcode !== undefined ? { postcode: input.postcode } : {}),
    ...(input.fuzzy ? { fuzzy: true } : {}),
    maxResults: input.limit,
  };
}

export type PatientSearchOutcome =
  | { readonly outcome: 'matches'; readonly matches: PatientSearchResult[] }
  /** More people matched than the limit: PDS names none of them; refine the search. */
  | { readonly outcome: 'too-many-matches'; readonly matches: [] };

export async function searchPatientsOnPds(
  spine: SpineClient,
  store: Store,
  input: PatientSearchInput,
): Promise<PatientSearchOutcome> {
  const problems = searchProblems(input);
  if (problems.length) throw new ValidationError('PDS would refuse this search', problems);
  let result;
  try {
    result = await spine.searchPatients(pdsQueryOf(input));
  } catch (error) {
    if (isSpineError(error) && error.code === 'PDS_INVALID_SEARCH')
      throw new ValidationError('PDS refused the search', [
        { pointer: '/query', detail: 'PDS did not accept this combination of parameters' },
      ]);
    if (isSpineError(error))
      throw new DependencyUnavailableError(`PDS could not be searched (${error.code}): try again shortly`, {
        cause: error,
      });
    throw error;
  }
  if (result.outcome === 'too-many-matches') return { outcome: 'too-many-matches', matches: [] };
  const numbers = result.matches.map((m) => m.nhsNumber);
  const known = numbers.length
    ? await knexOf(store)('patients')
        .whereIn('nhs_number', numbers)
        .select<{ id: string; nhs_number: string }[]>('id', 'nhs_number')
    : [];
  return {
    outcome: 'matches',
    matches: result.matches.map((m) => {
      const restricted = m.isRestricted;
      return {
        nhsNumber: m.nhsNumber,
        name: m.name
          ? { given: m.name.given, prefix: m.name.prefix, ...(m.name.family ? { family: m.name.family } : {}) }
          : null,
        birthDate: m.birthDate ?? null,
        gender: m.gender ?? null,
        deceasedAt: m.deceasedAt ?? null,
        restricted,
        score: m.score,
        // A restricted record's location is never passed on, even were PDS to send it (REFERENCE 1.9).
        ...(!restricted && m.address
          ? { address: { lines: m.address.lines, ...(m.address.postcode ? { postcode: m.address.postcode } : {}) } }
          : {}),
        ...(!restricted && m.phone ? { phone: m.phone } : {}),
        ...(!restricted && m.email ? { email: m.email } : {}),
        ...(!restricted && m.gpOdsCode ? { gpOdsCode: m.gpOdsCode } : {}),
        patientId: known.find((k) => k.nhs_number === m.nhsNumber)?.id ?? null,
      };
    }),
  };
}
