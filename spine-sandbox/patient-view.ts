/**
 * What PDS lets a caller see of a stored record: restricted (R/V) records lose their location-sensitive fields on
 * every read, and search results are a subset of the full record (PDS spec: patient-get, patient-search, Meta).
 */
import { copyOf, type FhirPatient } from './fixtures';
import { isRestricted } from './pds-search';

const UKCORE = 'https://fhir.hl7.org.uk/StructureDefinition/';
const BIRTH_PLACE = 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace';
const PHARMACY_EXTENSIONS = [
  `${UKCORE}Extension-UKCore-NominatedPharmacy`,
  `${UKCORE}Extension-UKCore-PreferredDispenserOrganization`,
  `${UKCORE}Extension-UKCore-MedicalApplianceSupplier`,
];
/** Excluded from search results: place of birth, pharmacies, communication details, contact preferences. */
const NOT_IN_SEARCH = [
  BIRTH_PLACE,
  ...PHARMACY_EXTENSIONS,
  `${UKCORE}Extension-UKCore-NHSCommunication`,
  `${UKCORE}Extension-UKCore-ContactPreference`,
];
const SEARCH_NAME_USES = new Set(['usual', 'nickname', 'temp', undefined]);

function withoutExtensions(patient: FhirPatient, urls: string[]): void {
  if (!patient.extension) return;
  patient.extension = patient.extension.filter((e) => !urls.includes(e.url));
  if (patient.extension.length === 0) delete patient.extension;
}

function withholdRestricted(patient: FhirPatient): FhirPatient {
  if (!isRestricted(patient)) return patient;
  delete patient.address;
  delete patient.telecom;
  delete patient.contact;
  delete patient.generalPractitioner;
  withoutExtensions(patient, [BIRTH_PLACE, ...PHARMACY_EXTENSIONS]);
  return patient;
}

/** The record as GET /Patient/{id} returns it. */
export function toReadView(stored: FhirPatient): FhirPatient {
  return withholdRestricted(copyOf(stored));
}

/** The record as a search result entry carries it. */
export function toSearchView(stored: FhirPatient): FhirPatient {
  const patient = copyOf(stored);
  if (patient.name) patient.name = patient.name.filter((n) => SEARCH_NAME_USES.has(n.use));
  if (patient.address) patient.address = patient.address.filter((a) => a.use === 'home' || a.use === undefined);
  withoutExtensions(patient, NOT_IN_SEARCH);
  delete patient.managingOrganization;
  return withholdRestricted(patient);
}
