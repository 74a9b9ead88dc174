/**
 * Who may be told what about a person after release, and how what was (and was not) sent is put into words.
 *
 * An agency is told only with a recorded basis for sharing: the person's consent (with the date it was
 * recorded) or a legal basis the release team chose (`legalBasis`). A notification that asks for this
 * (`requireSharingBasis`) tells nobody without one, and says so on the case: nobody is skipped in silence
 * (REFERENCE §6 and §9.7: model consent and information-sharing explicitly).
 */
import { InvalidInputError } from '../errors';
import { isRecord, optionalString } from './task-context';

/** The legal bases a release plan may record for telling an agency without consent (local list, INFERRED). */
export const LEGAL_BASES: Readonly<Record<string, string>> = {
  'direct-care': 'direct care',
  'statutory-duty': 'a statutory duty',
  'information-sharing-agreement': 'an information-sharing agreement',
};

/** The agency kinds the pathways name, as a sentence names them. */
export const AGENCY_KIND_NAMES: Readonly<Record<string, string>> = {
  gp: 'registered GP',
  'community-substance-misuse': 'community treatment provider',
  probation: 'probation',
  housing: 'housing',
  'mental-health': 'mental health service',
  reconnect: 'resettlement service (RECONNECT)',
  pharmacy: 'community pharmacy',
};

export type SharingBasis = { kind: 'consent'; recordedOn: string } | { kind: 'legal'; basis: string };

/** The agency's recorded basis for sharing, or undefined when it has none. */
export function sharingBasisOf(agency: Record<string, unknown>, index: number): SharingBasis | undefined {
  const consentedOn = optionalString(agency['consentRecordedOn'], `agencies[${index}].consentRecordedOn`);
  if (agency['consentToShare'] === true && consentedOn) return { kind: 'consent', recordedOn: consentedOn };
  const legal = optionalString(agency['legalBasis'], `agencies[${index}].legalBasis`);
  if (legal && legal.trim() !== '') return { kind: 'legal', basis: legal.trim() };
  return undefined;
}

export function describeBasis(basis: SharingBasis): string {
  return basis.kind === 'consent'
    ? `consent recorded ${basis.recordedOn}`
    : `legal basis: ${LEGAL_BASES[basis.basis] ?? basis.basis}`;
}

/** Someone the notification was for who was not told, and why. */
export interface NotTold {
  readonly name: string | null;
  readonly kind: string;
  readonly reason: string;
}

/** A recipient who was told, with the basis for it. */
export interface Told {
  readonly name: string;
  readonly kind: string;
  readonly basis: string;
}

export const SKIPPED_BECAUSE: Readonly<Record<string, string>> = {
  'no-consent': 'no consent recorded',
  'consent-withdrawn': 'consent withdrawn',
  'restricted-record': 'the record is restricted',
};

/** Each expected kind of agency the notification names none of: "no registered GP in the release plan". */
export function missingKinds(expected: readonly string[], agencies: readonly unknown[]): NotTold[] {
  const present = new Set(agencies.flatMap((a) => (isRecord(a) && typeof a['kind'] === 'string' ? [a['kind']] : [])));
  return expected
    .filter((kind) => !present.has(kind))
    .map((kind) => ({ name: null, kind, reason: `no ${AGENCY_KIND_NAMES[kind] ?? kind} in the release plan` }));
}

/** The note on the case: who was told, who was not and why. */
export function outcomeNote(template: string, told: readonly Told[], notTold: readonly NotTold[]): string {
  const who = (entry: { name: string | null; kind: string }) =>
    entry.name
      ? `${entry.name} (${AGENCY_KIND_NAMES[entry.kind] ?? entry.kind})`
      : (AGENCY_KIND_NAMES[entry.kind] ?? entry.kind);
  const toldText = told.length > 0 ? told.map((t) => `${who(t)}, ${t.basis}`).join('; ') : 'nobody';
  const notToldText = notTold.length > 0 ? notTold.map((n) => `${who(n)}: ${n.reason}`).join('; ') : 'nobody';
  return `[notification:${template}] Told: ${toldText}. Not told: ${notToldText}.`;
}

const LONDON_DAY = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  weekday: 'long',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
});

const LONDON_TIME = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  hour: '2-digit',
  minute: '2-digit',
});

const MEDICINES: Readonly<Record<string, string>> = {
  methadone: 'Methadone',
  buprenorphine: 'Buprenorphine',
  'buprenorphine-naloxone': 'Buprenorphine with naloxone',
  'buprenorphine-prolonged-release': 'Prolonged-release buprenorphine injection',
};

/** A calendar date (`2027-10-29`) as London reads it: "Friday 29 October 2027". */
export function formatDay(date: string): string {
  const noon = new Date(`${date}T12:00:00Z`);
  return Number.isNaN(noon.getTime()) ? date : LONDON_DAY.format(noon).replace(',', '');
}

/**
 * The release details a release-day notice carries: the release date, the last dose of opioid substitution
 * treatment and whether take-home naloxone was supplied. Absent details are said to be not recorded.
 */
export function releaseDetails(notification: Record<string, unknown>): Record<string, string> {
  const releaseDate = optionalString(notification['releaseDate'], 'notification.releaseDate');
  const ost = notification['opioidSubstitution'];
  let lastDose = 'not recorded';
  if (ost !== undefined && ost !== null) {
    if (!isRecord(ost)) throw new InvalidInputError('notification.opioidSubstitution must be an object');
    if (ost['onTreatment'] === false) lastDose = 'not on opioid substitution treatment';
    else if (ost['onTreatment'] === true) {
      const medicine = optionalString(ost['medicine'], 'opioidSubstitution.medicine');
      const dose = typeof ost['lastDoseMg'] === 'number' ? `${ost['lastDoseMg']} mg` : 'dose not recorded';
      const at = optionalString(ost['lastDoseAt'], 'opioidSubstitution.lastDoseAt');
      const when = at && !Number.isNaN(new Date(at).getTime()) ? new Date(at) : undefined;
      lastDose = [
        medicine ? (MEDICINES[medicine] ?? medicine) : 'Opioid substitution treatment',
        dose,
        when ? `at ${LONDON_TIME.format(when)} on ${LONDON_DAY.format(when).replace(',', '')}` : 'time not recorded',
      ].join(' ');
    }
  }
  const naloxone = notification['naloxoneIssued'];
  return {
    ...(releaseDate ? { releaseDate: formatDay(releaseDate) } : {}),
    lastOpioidSubstitutionDose: lastDose,
    naloxoneSupplied: naloxone === true ? 'yes' : naloxone === false ? 'no' : 'not recorded',
  };
}
