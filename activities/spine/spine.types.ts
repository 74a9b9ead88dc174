/**
 * The plain objects the Spine client returns: what the case engine needs from PDS and SCR, not the FHIR resources.
 * They cross Temporal's payload boundary, so they hold only JSON values.
 */

export type Gender = 'male' | 'female' | 'other' | 'unknown';

export interface PersonName {
  prefix: string[];
  given: string[];
  family?: string;
  suffix: string[];
}

export interface PostalAddress {
  lines: string[];
  postcode?: string;
  /** When the person started living there, if PDS records it. */
  from?: string;
}

/** A PDS patient, as read by NHS number or found by search. */
export interface PdsPatient {
  /** The record's NHS number: after a merge this is the superseding number, not the one asked for. */
  nhsNumber: string;
  /**
   * Set when the number asked for has been superseded (merged): PDS answered with the record of `nhsNumber`.
   * Callers must replace the old number with `nhsNumber` and make sure no other person holds it.
   */
  supersededNhsNumber?: string;
  /** The usual name; absent when PDS holds none (poor data quality). */
  name?: PersonName;
  birthDate?: string;
  gender?: Gender;
  /** When PDS records a death. */
  deceasedAt?: string;
  /** Current home address. Always absent for restricted patients. */
  address?: PostalAddress;
  /** Current home or mobile phone. Always absent for restricted patients. */
  phone?: string;
  /** Always absent for restricted patients. */
  email?: string;
  /** ODS code of the registered GP practice (in prison, possibly the prison's practice). Absent when restricted. */
  gpOdsCode?: string;
  /**
   * PDS confidentiality `R` (or `V`): location-sensitive data is withheld and must never be stored, shown or
   * passed on (address, telephone, GP, related people).
   */
  isRestricted: boolean;
  /** `meta.security` code as PDS gave it: `U`, `R`, `V`. */
  confidentiality?: string;
  /** `meta.versionId` (the ETag's number). */
  versionId?: string;
  /** ISO timestamp of when this client read the record. */
  fetchedAt: string;
}

export interface PdsSearchMatch extends PdsPatient {
  /** 1 is an exact match; lower is partial. Results are ordered best first. */
  score: number;
}

/** A PDS search. Names accept `*` after the first two characters (not with `fuzzy`). */
export interface PdsSearchQuery {
  family?: string;
  /** First name first; a compound first name stays one item (`['John Paul', 'James']`). */
  given?: string[];
  gender?: Gender;
  /** A date (`YYYY-MM-DD`), or a range. Required by PDS. */
  birthDate: string | { from?: string; to?: string };
  postcode?: string;
  gpOdsCode?: string;
  email?: string;
  phone?: string;
  fuzzy?: boolean;
  exactMatch?: boolean;
  /** Also match previous names and addresses. */
  history?: boolean;
  /** 1-50 for healthcare-worker access; application-restricted access allows only 1. */
  maxResults?: number;
}

export type PdsSearchResult =
  | { outcome: 'matches'; matches: PdsSearchMatch[] }
  /** More patients matched than `maxResults`: refine the search. */
  | { outcome: 'too-many-matches' };

export interface Coding {
  system?: string;
  code?: string;
  display?: string;
}

/** A person PDS records as related to the patient (next of kin, guardian...). */
export interface PdsRelatedPerson {
  id: string;
  relationship: Coding[];
  name?: PersonName;
  phone?: string;
  email?: string;
  address?: PostalAddress;
  /** PDS contact rank: 1 is contacted first. */
  contactRank?: number;
  /** Whether they receive copies of the patient's correspondence. */
  copyCorrespondence?: boolean;
  isActive: boolean;
}

/** SCR-ACSPermission as the API gives it. */
export type ScrPermissionCode = 'Yes' | 'No' | 'Ask';

export interface ScrAllergy {
  date?: string;
  description: string;
  certainty?: string;
  severity?: string;
  supportingInformation?: string;
}

export const SCR_MEDICATION_KINDS = ['acute', 'repeat', 'discontinued-repeat'] as const;
export type ScrMedicationKind = (typeof SCR_MEDICATION_KINDS)[number];

export interface ScrMedication {
  kind: ScrMedicationKind;
  /** As the GP system wrote it, e.g. `Prescribed: 12-May-2020` or `Last Issued: 12-May-2020`. */
  date?: string;
  item: string;
  dosage?: string;
  quantity?: string;
}

/** A patient's Summary Care Record, reduced to what medicines reconciliation needs. */
export interface ScrSummary {
  nhsNumber: string;
  /**
   * `none`: no SCR. `opted-out`: the patient has an SCR opt-out (permission `No`): content was not fetched.
   * `no-current-record`: the DocumentReference named an SCR whose Bundle was empty (out of date), twice: no
   * current summary can be read now. `available`: content below, to be shown only once the patient's permission
   * to view has been recorded (permission `Ask`; the legacy `Yes` must be treated the same).
   */
  status: 'none' | 'opted-out' | 'no-current-record' | 'available';
  scrId?: string;
  permission?: ScrPermissionCode;
  /** When the GP summary was last updated. */
  lastUpdated?: string;
  allergies: ScrAllergy[];
  medications: ScrMedication[];
  fetchedAt: string;
}
