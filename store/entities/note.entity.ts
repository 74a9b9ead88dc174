/**
 * Contemporaneous notes. Append-only, enforced by the database: an amendment is a new note that points at the
 * one it corrects, and the original stays readable as it was written.
 */
import { defineEntity, p, type EntitySchema, type InferEntity } from '@mikro-orm/core';
import { CaseSchema } from './case.entity';
import { PatientSchema } from './patient.entity';

export interface AmendedNote {
  id: string;
}

function noteSchemaForSelfReference(): EntitySchema<AmendedNote> {
  return NoteSchema as unknown as EntitySchema<AmendedNote>;
}

export const NoteSchema = defineEntity({
  name: 'Note',
  tableName: 'notes',
  properties: {
    /** Chosen by the caller: the idempotency key of the note. */
    id: p.uuid().primary(),
    patient: () => p.manyToOne(PatientSchema).index(),
    case: () => p.manyToOne(CaseSchema).nullable().index(),
    body: p.text(),
    authorId: p.string().length(255),
    authorRole: p.string().length(64),
    writtenAt: p.datetime().defaultRaw('now()'),
    /** The note this one amends; each note can be amended once, so amendments form a chain. */
    amends: () => p.manyToOne(noteSchemaForSelfReference()).nullable().unique(),
    amendmentReason: p.text().nullable(),
  },
  checks: [{ name: 'notes_amendment_has_reason', expression: '(amends_id is null) = (amendment_reason is null)' }],
});
export type Note = InferEntity<typeof NoteSchema>;
