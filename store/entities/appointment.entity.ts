/**
 * The appointment diary after release: when, where, with which agency, and what happened. The row carries
 * the current status; every change of status is kept as an append-only event.
 */
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { CaseSchema } from './case.entity';
import { ContactSchema } from './contact.entity';
import { PatientSchema } from './patient.entity';

export const AppointmentStatus = {
  Booked: 'booked',
  Attended: 'attended',
  Missed: 'missed',
  Cancelled: 'cancelled',
} as const;
export type AppointmentStatus = (typeof AppointmentStatus)[keyof typeof AppointmentStatus];

export const AppointmentSchema = defineEntity({
  name: 'Appointment',
  tableName: 'appointments',
  properties: {
    id: p.uuid().primary(),
    patient: () => p.manyToOne(PatientSchema).index(),
    case: () => p.manyToOne(CaseSchema).nullable().index(),
    startsAt: p.datetime(),
    endsAt: p.datetime().nullable(),
    location: p.string().length(500),
    /** The agency the appointment is with, by name, and as a contact when one is on record. */
    agency: p.string().length(255),
    agencyContact: () => p.manyToOne(ContactSchema).nullable(),
    /** What kind of appointment (`gp`, `probation`, `community-substance-misuse`...), when it was booked with one. */
    kind: p.string().length(64).nullable(),
    status: p.enum(Object.values(AppointmentStatus)).default(AppointmentStatus.Booked),
    bookedBy: p.string().length(255),
    createdAt: p.datetime().defaultRaw('now()'),
    updatedAt: p.datetime().defaultRaw('now()'),
  },
  indexes: [
    {
      name: 'appointments_booked_by_start',
      expression: `create index "appointments_booked_by_start" on "appointments" ("starts_at") where status = 'booked'`,
    },
  ],
});
export type Appointment = InferEntity<typeof AppointmentSchema>;

export const AppointmentStatusChangeSchema = defineEntity({
  name: 'AppointmentStatusChange',
  tableName: 'appointment_status_changes',
  properties: {
    /** Chosen by the caller: the idempotency key of the change. */
    id: p.uuid().primary(),
    appointment: () => p.manyToOne(AppointmentSchema).index(),
    fromStatus: p.enum(Object.values(AppointmentStatus)).nullable(),
    toStatus: p.enum(Object.values(AppointmentStatus)),
    changedAt: p.datetime().defaultRaw('now()'),
    changedBy: p.string().length(255),
    reason: p.text().nullable(),
  },
});
export type AppointmentStatusChange = InferEntity<typeof AppointmentStatusChangeSchema>;
