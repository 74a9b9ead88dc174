/**
 * Temporal activities over the Spine client. Their names are persisted in workflow histories: never rename them.
 * Each converts a SpineError once into an ApplicationFailure (type = code, nonRetryable = !retryable) so that
 * workflows branch on the failure's type and Temporal's retry policy does the waiting.
 */
import { Context } from '@temporalio/activity';
import { type Logger } from '../../log';
import { toApplicationFailure } from '../errors';
import { isSpineError } from './spine-errors';
import { type SpineCallOptions, type SpineClient } from './spine.client';
import { type PdsPatient, type PdsRelatedPerson, type PdsSearchQuery, type ScrSummary } from './spine.types';

export type PatientMatch =
  | { outcome: 'unique-match'; patient: PdsPatient & { score: number } }
  | { outcome: 'no-match' }
  /** Several people match: a person must trace the patient (application-restricted access cannot list them). */
  | { outcome: 'too-many-matches' };

/**
 * A PDS related person offered to pre-fill a nominated contact. It is never a consented contact itself: the
 * patient must confirm who may be told what, and the consented contact stays the record of truth.
 */
export interface ContactSuggestion extends PdsRelatedPerson {
  source: 'pds-related-person';
  consentRequired: true;
}

export interface SpineActivityDeps {
  spine: SpineClient;
  logger: Logger;
}

export interface SpineActivities {
  lookupPatient(nhsNumber: string): Promise<PdsPatient>;
  searchPatient(query: PdsSearchQuery): Promise<PatientMatch>;
  fetchRelatedPersons(nhsNumber: string): Promise<ContactSuggestion[]>;
  fetchSummaryCareRecord(nhsNumber: string): Promise<ScrSummary>;
}

/**
 * Identifies this activity execution across its attempts (workflow run + activity id; not the attempt number),
 * so the client re-sends the same X-Request-IDs when Temporal retries the activity. Undefined outside Temporal.
 */
function currentRequestKey(): string | undefined {
  let info;
  try {
    info = Context.current().info;
  } catch {
    return undefined;
  }
  const run = info.workflowExecution;
  return `${run?.workflowId ?? 'standalone'}/${run?.runId ?? ''}/${info.activityId}`;
}

async function asActivity<T>(
  logger: Logger,
  activity: string,
  run: (options: SpineCallOptions) => Promise<T>,
): Promise<T> {
  try {
    return await run({ requestKey: currentRequestKey() });
  } catch (error) {
    // Anything else (a bug, an unforeseen failure) still leaves as an ApplicationFailure, retryable UNEXPECTED.
    if (!isSpineError(error)) throw toApplicationFailure(error);
    logger.warn(
      { activity, code: error.code, retryable: error.retryable, requestId: error.requestId },
      'spine activity failed',
    );
    throw error.toApplicationFailure();
  }
}

export function createSpineActivities({ spine, logger: parent }: SpineActivityDeps): SpineActivities {
  const logger = parent.child({ component: 'spine-activities' });
  return {
    /** Reads the patient's PDS record. A superseded number comes back with `supersededNhsNumber` set. */
    lookupPatient: (nhsNumber) =>
      asActivity(logger, 'lookupPatient', (options) => spine.getPatient(nhsNumber, options)),

    /**
     * Application-restricted trace: PDS gives at most one unique match, so this always asks for one result and
     * reports several matches as `too-many-matches` rather than choosing among them.
     */
    searchPatient: (query) =>
      asActivity(logger, 'searchPatient', async (options): Promise<PatientMatch> => {
        const result = await spine.searchPatients({ ...query, maxResults: 1 }, options);
        if (result.outcome === 'too-many-matches') return { outcome: 'too-many-matches' };
        const [patient, ...others] = result.matches;
        if (!patient) return { outcome: 'no-match' };
        if (others.length > 0) return { outcome: 'too-many-matches' };
        return { outcome: 'unique-match', patient };
      }),

    /** Active related people, as suggestions for the consented-contacts form; never stored as contacts as they are. */
    fetchRelatedPersons: (nhsNumber) =>
      asActivity(logger, 'fetchRelatedPersons', async (options) => {
        const people = await spine.getRelatedPersons(nhsNumber, options);
        return people
          .filter((person) => person.isActive)
          .map((person): ContactSuggestion => ({ ...person, source: 'pds-related-person', consentRequired: true }));
      }),

    /** The SCR's permission and content; `status` says whether there is one, and whether the patient opted out. */
    fetchSummaryCareRecord: (nhsNumber) =>
      asActivity(logger, 'fetchSummaryCareRecord', (options) => spine.getSummaryCareRecord(nhsNumber, options)),
  };
}
