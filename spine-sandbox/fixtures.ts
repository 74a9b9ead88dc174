/**
 * The sandbox's records: fixture JSON under data/, shaped as PDS and SCR hold them. Loaded once per app and
 * deep-copied on every read so that a handler trimming a restricted record never edits the fixture itself.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface FhirPatient {
  resourceType: 'Patient';
  id: string;
  meta: { versionId: string; security?: Array<{ system: string; code: string; display?: string }> };
  name?: Array<{ use?: string; given?: string[]; family?: string; prefix?: string[]; suffix?: string[] }>;
  gender?: string;
  birthDate?: string;
  deceasedDateTime?: string;
  address?: Array<{ use?: string; postalCode?: string; line?: string[]; period?: { start?: string; end?: string } }>;
  telecom?: Array<{ system?: string; value?: string; use?: string }>;
  contact?: unknown[];
  generalPractitioner?: Array<{ identifier?: { value?: string } }>;
  extension?: Array<{ url: string }>;
  [key: string]: unknown;
}

export interface ScrFixture {
  scrId: string;
  /** SCR-ACSPermission code as the DocumentReference carries it. */
  permission: 'Yes' | 'No' | 'Ask';
  bundle: Record<string, unknown> | null;
  /** When true, GET /Bundle answers as Spine's access control does for this patient (PSIS-30418). */
  accessDenied?: boolean;
}

export interface SandboxData {
  patients: ReadonlyMap<string, FhirPatient>;
  /** Superseded NHS number -> the number of the record that replaced it. */
  superseded: ReadonlyMap<string, string>;
  invalidated: ReadonlySet<string>;
  relatedPersons: ReadonlyMap<string, unknown[]>;
  scr: ReadonlyMap<string, ScrFixture>;
}

export const DATA_DIR = path.join(__dirname, 'data');

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

function readFolder<T>(folder: string): Map<string, T> {
  const dir = path.join(DATA_DIR, folder);
  const entries = readdirSync(dir).filter((name) => name.endsWith('.json'));
  return new Map(entries.map((name) => [path.basename(name, '.json'), readJson<T>(path.join(dir, name))]));
}

export function loadSandboxData(): SandboxData {
  const status = readJson<{ superseded: Record<string, string>; invalidated: string[] }>(
    path.join(DATA_DIR, 'number-status.json'),
  );
  return {
    patients: readFolder<FhirPatient>('patients'),
    superseded: new Map(Object.entries(status.superseded)),
    invalidated: new Set(status.invalidated),
    relatedPersons: readFolder<unknown[]>('related-persons'),
    scr: readFolder<ScrFixture>('scr'),
  };
}

export function copyOf<T>(value: T): T {
  return structuredClone(value);
}
