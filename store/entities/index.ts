/** Every entity schema the ORM knows, in one list; the migrations are generated from these. */
import { AlertSchema } from './alert.entity';
import { AppointmentSchema, AppointmentStatusChangeSchema } from './appointment.entity';
import { AssessmentSchema } from './assessment.entity';
import { AuditEventSchema } from './audit-event.entity';
import { CaseSchema } from './case.entity';
import { CaseSettingSchema } from './case-setting.entity';
import { ContactConsentEventSchema, ContactSchema } from './contact.entity';
import { FormVersionSchema } from './form-version.entity';
import { IncidentResolutionSchema, IncidentSchema } from './incident.entity';
import { NoteSchema } from './note.entity';
import { InboxMessageSchema, NotificationSchema } from './notification.entity';
import { PathwayDraftSchema } from './pathway-draft.entity';
import { PathwayVersionSchema } from './pathway-version.entity';
import { PatientSchema } from './patient.entity';
import { PatientFlagSchema } from './patient-flag.entity';
import { PatientIdentifierSchema } from './patient-identifier.entity';
import { SettingSchema } from './setting.entity';
import { StaffSchema } from './staff.entity';
import { WorklistTaskSchema } from './worklist-task.entity';
import { TaskDraftSchema } from './task-draft.entity';

export * from './alert.entity';
export * from './appointment.entity';
export * from './assessment.entity';
export * from './audit-event.entity';
export * from './case.entity';
export * from './case-setting.entity';
export * from './contact.entity';
export * from './form-version.entity';
export * from './incident.entity';
export * from './note.entity';
export * from './notification.entity';
export * from './pathway-draft.entity';
export * from './pathway-version.entity';
export * from './patient.entity';
export * from './patient-flag.entity';
export * from './patient-identifier.entity';
export * from './setting.entity';
export * from './staff.entity';
export * from './worklist-task.entity';
export * from './task-draft.entity';

export const ENTITIES = [
  SettingSchema,
  StaffSchema,
  PatientSchema,
  CaseSchema,
  CaseSettingSchema,
  PatientFlagSchema,
  PatientIdentifierSchema,
  WorklistTaskSchema,
  TaskDraftSchema,
  AssessmentSchema,
  NoteSchema,
  AlertSchema,
  ContactSchema,
  ContactConsentEventSchema,
  AppointmentSchema,
  AppointmentStatusChangeSchema,
  NotificationSchema,
  InboxMessageSchema,
  AuditEventSchema,
  PathwayVersionSchema,
  PathwayDraftSchema,
  FormVersionSchema,
  IncidentSchema,
  IncidentResolutionSchema,
];
