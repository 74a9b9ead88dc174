/**
 * PDS FHIR resources (UK Core Patient, RelatedPerson, searchset Bundles) to the client's plain objects. Defensive:
 * any field may be missing (PDS's minimal records hold little more than an identifier).
 */
import { SpineError } from './spine-errors';
import {
  type Coding,
  type Gender,
  type PdsPatient,
  type PdsRelatedPerson,
  type PdsSearchMatch,
  type PersonName,
  type PostalAddress,
} from './spine.types';

interface FhirName {
  use?: string;
  given?: string[];
  family?: string;
  prefix?: string[];
  suffix?: string[];
  period?: { start?: string; end?: string };
}
interface FhirAddress {
  use?: string;
  line?: string[];
  postalCode?: string;
  period?: { start?: string; end?: string };
}
interface FhirTelecom {
  system?: string;
  value?: string;
  use?: string;
  period?: { start?: string; end?: string };
}
interface FhirExtension {
  url?: string;
  valueBoolean?: boolean;
  valuePositiveInt?: number;
}
export interface FhirPatient {
  resourceType?: string;
  id?: string;
  meta?: { versionId?: string; security?: Array<{ code?: string }> };
  name?: FhirName[];
  gender?: string;
  birthDate?: string;
  deceasedDateTime?: string;
  address?: FhirAddress[];
  telecom?: FhirTelecom[];
  generalPractitioner?: Array<{ identifier?: { value?: string } }>;
}
interface FhirRelatedPerson {
  resourceType?: string;
  id?: string;
  active?: boolean;
  name?: FhirName[];
  relationship?: Array<{ coding?: Coding[] }>;
  telecom?: FhirTelecom[];
  address?: FhirAddress[];
  extension?: FhirExtension[];
}
interface FhirBundle<T> {
  resourceType?: string;
  type?: string;
  total?: number;
  entry?: Array<{ resource?: T; search?: { score?: number } }>;
}

const GENDERS: readonly string[] = ['male', 'female', 'other', 'unknown'];
const RESTRICTED_CODES = new Set(['R', 'V', 'REDACTED']);

function isCurrent(period: { end?: string } | undefined, today: string): boolean {
  return period?.end === undefined || period.end.slice(0, 10) >= today;
}

function toName(name: FhirName | undefined): PersonName | undefined {
  if (!name) return undefined;
  return { prefix: name.prefix ?? [], given: name.given ?? [], family: name.family, suffix: name.suffix ?? [] };
}

function pickName(names: FhirName[] | undefined, today: string): PersonName | undefined {
  const candidates = names ?? [];
  const usual = candidates.filter((n) => (n.use === 'usual' || n.use === undefined) && isCurrent(n.period, today));
  return toName(usual[0] ?? candidates.find((n) => n.use === 'usual') ?? candidates.find((n) => n.use !== 'old'));
}

function pickAddress(addresses: FhirAddress[] | undefined, today: string): PostalAddress | undefined {
  const list = addresses ?? [];
  const home = list.find((a) => (a.use === 'home' || a.use === undefined) && isCurrent(a.period, today));
  if (!home) return undefined;
  return { lines: home.line ?? [], postcode: home.postalCode, from: home.period?.start };
}

function pickTelecom(telecom: FhirTelecom[] | undefined, system: string, today: string): string | undefined {
  return (telecom ?? []).find((t) => t.system === system && t.value && isCurrent(t.period, today))?.value;
}

function todayOf(fetchedAt: string): string {
  return fetchedAt.slice(0, 10);
}

/** Maps a Patient. `requestedNhsNumber` (reads only) detects a superseded number: PDS answers with another id. */
export function toPdsPatient(resource: unknown, fetchedAt: string, requestedNhsNumber?: string): PdsPatient {
  const patient = resource as FhirPatient | undefined;
  if (patient?.resourceType !== 'Patient' || typeof patient.id !== 'string')
    throw new SpineError('SPINE_INVALID_RESPONSE', 'PDS answered without a Patient resource');
  const today = todayOf(fetchedAt);
  const confidentiality = patient.meta?.security?.[0]?.code;
  const isRestricted = confidentiality !== undefined && RESTRICTED_CODES.has(confidentiality);
  const result: PdsPatient = {
    nhsNumber: patient.id,
    name: pickName(patient.name, today),
    birthDate: patient.birthDate,
    gender: patient.gender !== undefined && GENDERS.includes(patient.gender) ? (patient.gender as Gender) : undefined,
    deceasedAt: patient.deceasedDateTime,
    isRestricted,
    confidentiality,
    versionId: patient.meta?.versionId,
    fetchedAt,
  };
  if (requestedNhsNumber !== undefined && requestedNhsNumber !== patient.id)
    result.supersededNhsNumber = requestedNhsNumber;
  // PDS withholds these for restricted patients; never pass on any that slip through.
  if (!isRestricted) {
    result.address = pickAddress(patient.address, today);
    result.phone = pickTelecom(patient.telecom, 'phone', today);
    result.email = pickTelecom(patient.telecom, 'email', today);
    result.gpOdsCode = patient.generalPractitioner?.[0]?.identifier?.value;
  }
  return dropUndefined(result);
}

function asBundle<T>(body: unknown, what: string): FhirBundle<T> {
  const bundle = body as FhirBundle<T> | undefined;
  if (bundle?.resourceType !== 'Bundle') throw new SpineError('SPINE_INVALID_RESPONSE', `${what} was not a Bundle`);
  return bundle;
}

export function toSearchMatches(body: unknown, fetchedAt: string): PdsSearchMatch[] {
  const bundle = asBundle<FhirPatient>(body, 'The PDS search answer');
  return (bundle.entry ?? []).map((entry) => ({
    ...toPdsPatient(entry.resource, fetchedAt),
    score: entry.search?.score ?? 0,
  }));
}

const CONTACT_RANK = 'Extension-UKCore-ContactRank';
const COPY_CORRESPONDENCE = 'Extension-UKCore-CopyCorrespondenceIndicator';

export function toRelatedPersons(body: unknown, fetchedAt: string): PdsRelatedPerson[] {
  const bundle = asBundle<FhirRelatedPerson>(body, 'The PDS RelatedPerson answer');
  const today = todayOf(fetchedAt);
  return (bundle.entry ?? [])
    .map((entry) => entry.resource)
    .filter((r): r is FhirRelatedPerson => r?.resourceType === 'RelatedPerson')
    .map((person) => {
      const extension = (suffix: string) => person.extension?.find((e) => e.url?.endsWith(suffix));
      return dropUndefined({
        id: person.id ?? '',
        relationship: (person.relationship ?? []).flatMap((r) => r.coding ?? []),
        name: pickName(person.name, today),
        phone: pickTelecom(person.telecom, 'phone', today),
        email: pickTelecom(person.telecom, 'email', today),
        address: pickAddress(person.address, today),
        contactRank: extension(CONTACT_RANK)?.valuePositiveInt,
        copyCorrespondence: extension(COPY_CORRESPONDENCE)?.valueBoolean,
        isActive: person.active !== false,
      });
    });
}

/** Temporal payloads and test equality are simpler without keys whose value is undefined. */
function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
