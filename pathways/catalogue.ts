/**
 * The shipped pathways and their forms, as files on disk: where they are, what they are called, and the
 * service task types they may call. The BPMN files and JSON Schemas are the source of truth (commissioners
 * edit them in a modeler); this module only finds and reads them.
 */
import fs from 'node:fs';
import path from 'node:path';

export const PATHWAYS_DIRECTORY = __dirname;
export const FORMS_DIRECTORY = path.join(__dirname, 'forms');

/** The shipped pathways: file name and the BPMN process id inside it. */
export const PATHWAYS = [
  { file: 'custody-reception.bpmn', processId: 'custody-reception', name: 'Custody reception' },
  { file: 'sms-prison.bpmn', processId: 'sms-prison', name: 'Prison substance misuse service' },
  { file: 'release-support.bpmn', processId: 'release-support', name: 'Release support' },
  { file: 'journey.bpmn', processId: 'journey', name: 'Journey across settings' },
  { file: 'identify-person.bpmn', processId: 'identify-person', name: 'Identify person' },
] as const;
export type PathwayId = (typeof PATHWAYS)[number]['processId'];

/**
 * Every service task type the shipped pathways use. The worker's activity registry must provide each
 * of these names; pathways/README.md gives their input and output variables.
 */
export const SERVICE_TASK_TYPES = [
  'pds.lookupPatient',
  'pds.traceByDemographics',
  'scr.fetchSummary',
  'records.raiseAlert',
  'records.resolveAlert',
  'records.saveAssessment',
  'records.addNote',
  'records.bookAppointment',
  'records.updateAppointment',
  'notify.notifyContacts',
  'notify.notifyTeam',
  'records.recordHandover',
  'records.referLiaisonDiversion',
  'reports.clinicalReport',
  'records.reviewDuplicateRecord',
  'records.withdrawOpenTasks',
  'notify.notifyStaff',
  'worklist.planTasks',
  'records.readHandover',
] as const;
export type ServiceTaskType = (typeof SERVICE_TASK_TYPES)[number];

export interface FormSchema {
  readonly $id: string;
  readonly title: string;
  readonly properties: Readonly<Record<string, unknown>>;
  readonly required?: readonly string[];
  readonly 'x-error-messages'?: Readonly<Record<string, string>>;
  readonly 'x-throughcare-form'?: {
    readonly formId: string;
    readonly fhirProfile?: string;
    readonly sources?: string[];
  };
  readonly [keyword: string]: unknown;
}

export function readPathwayXml(processId: PathwayId): string {
  const entry = PATHWAYS.find((p) => p.processId === processId);
  if (!entry) throw new Error(`Unknown pathway ${String(processId)}`);
  return fs.readFileSync(path.join(PATHWAYS_DIRECTORY, entry.file), 'utf8');
}

export function listFormIds(directory: string = FORMS_DIRECTORY): string[] {
  return fs
    .readdirSync(directory)
    .filter((f) => f.endsWith('.schema.json'))
    .map((f) => f.slice(0, -'.schema.json'.length))
    .sort();
}

export function readFormSchema(formId: string, directory: string = FORMS_DIRECTORY): FormSchema {
  if (!/^[a-z0-9-]+$/.test(formId)) throw new Error(`Not a form id: ${formId}`);
  return JSON.parse(fs.readFileSync(path.join(directory, `${formId}.schema.json`), 'utf8')) as FormSchema;
}
