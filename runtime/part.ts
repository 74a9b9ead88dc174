/** A part of the all-in-one process (database, workflow engine, Spine, worker) once started. */
export interface StartedPart {
  /** Where it is, for people: printed at start-up and shown by `/ready`. Never holds a password. */
  readonly location: string;
  /** A cheap live check used by `/ready`; throws when the part is not usable. */
  readonly check?: () => Promise<void>;
  stop(): Promise<void>;
}
