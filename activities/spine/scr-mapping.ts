/**
 * Summary Care Record answers to plain objects. The SCR API carries allergies and medications only as XHTML
 * tables in the Composition's section narrative (no AllergyIntolerance or MedicationStatement resources), so the
 * tables are read by their column headings.
 */
import { SpineError } from './spine-errors';
import { type ScrAllergy, type ScrMedication, type ScrMedicationKind, type ScrPermissionCode } from './spine.types';

const SCR_ID_SYSTEM = 'https://fhir.nhs.uk/Id/nhsSCRUUID';
const PERMISSION_SYSTEM = 'https://fhir.nhs.uk/CodeSystem/SCR-ACSPermission';
const PERMISSIONS: readonly string[] = ['Yes', 'No', 'Ask'];

interface DocumentReferenceBundle {
  resourceType?: string;
  total?: number;
  entry?: Array<{
    resource?: {
      resourceType?: string;
      masterIdentifier?: { system?: string; value?: string };
      securityLabel?: Array<{ coding?: Array<{ system?: string; code?: string }> }>;
    };
  }>;
}

interface Section {
  title?: string;
  code?: { coding?: Array<{ code?: string }> };
  text?: { div?: string };
}

interface ScrBundle {
  resourceType?: string;
  entry?: Array<{
    resource?: { resourceType?: string; date?: string; meta?: { lastUpdated?: string }; section?: Section[] };
  }>;
}

/** The latest SCR's id and permission code, or undefined when the patient has no SCR. */
export function readScrPointer(body: unknown): { scrId: string; permission: ScrPermissionCode } | undefined {
  const bundle = body as DocumentReferenceBundle | undefined;
  if (bundle?.resourceType !== 'Bundle')
    throw new SpineError('SPINE_INVALID_RESPONSE', 'The SCR DocumentReference answer was not a Bundle');
  const document = bundle.entry?.find((e) => e.resource?.resourceType === 'DocumentReference')?.resource;
  if (!document) return undefined;
  const scrId = document.masterIdentifier?.system === SCR_ID_SYSTEM ? document.masterIdentifier.value : undefined;
  const permission = document.securityLabel
    ?.flatMap((label) => label.coding ?? [])
    .find((c) => c.system === PERMISSION_SYSTEM)?.code;
  if (!scrId || permission === undefined || !PERMISSIONS.includes(permission))
    throw new SpineError('SPINE_INVALID_RESPONSE', 'The SCR DocumentReference lacks an SCR id or a permission code');
  return { scrId, permission: permission as ScrPermissionCode };
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function textOf(html: string): string {
  return html
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#\d+|#x[0-9a-f]+|[a-z]+);/gi, (whole, entity: string) => {
      if (entity.startsWith('#x') || entity.startsWith('#X'))
        return String.fromCodePoint(parseInt(entity.slice(2), 16));
      if (entity.startsWith('#')) return String.fromCodePoint(Number(entity.slice(1)));
      return ENTITIES[entity.toLowerCase()] ?? whole;
    })
    .replace(/\s+/g, ' ')
    .trim();
}

/** Rows of the first table in a section's XHTML, keyed by column heading. Rows spanning all columns are notes. */
export function readTable(div: string | undefined): Array<Record<string, string>> {
  if (!div) return [];
  const headings = [
    ...(/<thead>([\s\S]*?)<\/thead>/i.exec(div)?.[1] ?? '').matchAll(/<th[^>]*>([\s\S]*?)<\/th>/gi),
  ].map((m) => textOf(m[1] ?? ''));
  const tbody = /<tbody>([\s\S]*?)<\/tbody>/i.exec(div)?.[1] ?? '';
  const rows: Array<Record<string, string>> = [];
  for (const row of tbody.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/gi)) {
    const cells = [...(row[1] ?? '').matchAll(/<td([^>]*?)(?:\/>|>([\s\S]*?)<\/td>)/gi)];
    // "No relevant information available for this category." spans the whole row.
    if (cells.some((cell) => /colspan/i.test(cell[1] ?? ''))) continue;
    const record: Record<string, string> = {};
    cells.forEach((cell, index) => {
      const heading = headings[index];
      const value = textOf(cell[2] ?? '');
      if (heading !== undefined && value !== '') record[heading] = value;
    });
    rows.push(record);
  }
  return rows;
}

const MEDICATION_SECTIONS: Record<string, ScrMedicationKind> = {
  AcuteMedsHeader: 'acute',
  RepeatMedsHeader: 'repeat',
  DiscRepeatMedsHeader: 'discontinued-repeat',
};

export interface ScrContent {
  lastUpdated?: string;
  allergies: ScrAllergy[];
  medications: ScrMedication[];
}

/** The SCR's allergies and medications; undefined when the Bundle is empty (the SCR id is no longer the latest). */
export function readScrContent(body: unknown): ScrContent | undefined {
  const bundle = body as ScrBundle | undefined;
  if (bundle?.resourceType !== 'Bundle')
    throw new SpineError('SPINE_INVALID_RESPONSE', 'The SCR answer was not a Bundle');
  const composition = bundle.entry?.find((e) => e.resource?.resourceType === 'Composition')?.resource;
  if (!composition) return undefined;
  const allergies: ScrAllergy[] = [];
  const medications: ScrMedication[] = [];
  for (const section of composition.section ?? []) {
    const code = section.code?.coding?.[0]?.code ?? '';
    if (code === 'AllergiesHeader') {
      for (const row of readTable(section.text?.div)) {
        if (!row.Description) continue;
        allergies.push(
          compact({
            date: row.Date,
            description: row.Description,
            certainty: row.Certainty,
            severity: row.Severity,
            supportingInformation: row['Supporting Information'],
          }),
        );
      }
    }
    const kind = MEDICATION_SECTIONS[code];
    if (kind) {
      for (const row of readTable(section.text?.div)) {
        const item = row['Medication Item'];
        if (!item) continue;
        medications.push(
          compact({ kind, date: row.Date, item, dosage: row['Dosage Instructions'], quantity: row.Quantity }),
        );
      }
    }
  }
  return { lastUpdated: composition.meta?.lastUpdated ?? composition.date, allergies, medications };
}

function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
