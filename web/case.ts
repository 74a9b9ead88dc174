/**
 * The case page: the patient banner, what is next (open tasks, planned milestones, timers, messages awaited),
 * notes, alerts, appointments and the timeline, each with its small form. Every read and change is an /api/v1
 * operation, so the policy decides and the audit records exactly as for the API; a form the operation refuses
 * is shown again with what was entered and the NHS error summary (status 400).
 */
import { NotFoundError, ValidationError } from '../domain/errors';
import type { AppointmentView, IncidentSummary, NoteItem, PatientBanner, TimelineEvent, WorklistItem } from '../engine';
import type { PageContext } from './index';
import {
  call,
  dateTimeValuesOf,
  errorSummaryOf,
  fieldErrorsOf,
  fieldsOf,
  isBlank,
  londonInstantOf,
  problemsOr,
  written,
  type DateTimeValues,
  type FieldErrors,
} from './page-helpers';
import { pathwayName } from './patients';
import { londonDateTime } from './render';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TIMELINE_PAGE = '20';

/** The alert codes the shipped pathways raise, with the words the banner shows when no other wording is given. */
export const ALERT_TYPES: readonly { code: string; text: string }[] = [
  { code: 'SELF_HARM_RISK', text: 'Self-harm or suicide risk' },
  { code: 'ACCT_OPEN', text: 'ACCT document open' },
  { code: 'OVERDOSE_RISK', text: 'Overdose risk' },
  { code: 'WITHDRAWAL_RISK', text: 'Withdrawal risk' },
  { code: 'ALCOHOL_WITHDRAWAL_RISK', text: 'Alcohol withdrawal risk' },
  { code: 'SUBSTANCE_DEPENDENCE', text: 'Possibly drug dependent' },
  { code: 'ROUSING_REQUIRED', text: 'Rousing required' },
  { code: 'LEARNING_DISABILITY_AUTISM', text: 'Known or suspected learning disability, autism or ADHD' },
];

export const APPOINTMENT_KINDS: readonly { value: string; text: string }[] = [
  { value: 'community-substance-misuse', text: 'Community substance misuse service' },
  { value: 'gp', text: 'GP' },
  { value: 'probation', text: 'Probation' },
  { value: 'housing', text: 'Housing' },
  { value: 'mental-health', text: 'Mental health' },
];

const STATUS_TEXT: Record<string, string> = {
  booked: 'Booked',
  attended: 'Attended',
  missed: 'Missed',
  cancelled: 'Cancelled',
};

/** What a form sent back holds: values and messages by field id (ids are unique on the page). */
interface FormState {
  readonly values: Record<string, string | DateTimeValues>;
  readonly errors: FieldErrors;
}

interface CaseDetail {
  case: {
    caseId: string;
    pathwayId: string;
    pathwayVersion: number;
    status: 'open' | 'closed';
    settingOdsCode: string;
    settings: string[];
    nhsNumber: string;
    openedAt: string;
    closedAt: string | null;
    closeReason: string | null;
  };
  executionStatus: string;
  pathwayStatus: string;
  failure?: { message?: string };
  error?: { message?: string };
  termination?: { reason?: string };
  openTasks: WorklistItem[];
  plannedWork: WorklistItem[];
  pendingTimers: { timerId: string; elementId: string; name?: string; dueAt: string }[];
  waitingFor: { subscriptionId: string; elementId: string; messageName: string; correlationKey: string | null }[];
  incidents: IncidentSummary[];
}

function caseIdOf(ctx: PageContext): string {
  return String(ctx.req.params['caseId'] ?? '');
}

/** A case id that is not a UUID is a page not found, as the operation's 400 for the path would be to a person. */
function notFoundFor(error: unknown, caseId: string): unknown {
  return error instanceof ValidationError ? new NotFoundError(`No case ${caseId}`) : error;
}

/** `GET /cases/:caseId` */
export async function casePage(ctx: PageContext): Promise<void> {
  await renderCase(ctx, { values: {}, errors: {} }, 200);
}

async function renderCase(ctx: PageContext, form: FormState, status: number): Promise<void> {
  const caseId = caseIdOf(ctx);
  const detail = (
    await call(ctx, 'getCase', { params: { caseId } }).catch((error: unknown) => {
      throw notFoundFor(error, caseId);
    })
  ).body as CaseDetail;
  const cursor = fieldsOf(ctx.req.query)('timeline');
  const timelineQuery = (withCursor: boolean) => ({
    params: { caseId },
    query: { limit: TIMELINE_PAGE, ...(withCursor && cursor ? { cursor } : {}) },
  });
  const [patient, timeline, notes, appointments] = await Promise.all([
    call(ctx, 'getPatient', { params: { nhsNumber: detail.case.nhsNumber } })
      .then((r) => r.body as PatientBanner)
      .catch((error: unknown) => {
        if (error instanceof NotFoundError) return null;
        throw error;
      }),
    // A link to older entries that was changed by hand: the newest entries instead.
    call(ctx, 'getCaseTimeline', timelineQuery(true))
      .catch((error: unknown) => {
        if (error instanceof ValidationError && cursor) return call(ctx, 'getCaseTimeline', timelineQuery(false));
        throw error;
      })
      .then((r) => r.body as { items: TimelineEvent[]; nextCursor: string | null; total: number }),
    call(ctx, 'listCaseNotes', { params: { caseId }, query: { limit: '100' } }).then(
      (r) => (r.body as { items: Omit<NoteItem, 'settings' | 'patientId'>[] }).items,
    ),
    call(ctx, 'listCaseAppointments', { params: { caseId }, query: { limit: '50' } }).then(
      (r) => (r.body as { items: Partial<AppointmentView>[] }).items,
    ),
  ]);
  const base = `/cases/${encodeURIComponent(caseId)}`;
  const writtenAt = new Map(notes.map((n) => [n.noteId, n.writtenAt]));
  const title = `${pathwayName(detail.case.pathwayId)} case`;
  ctx.render(
    'case.njk',
    {
      title,
      base,
      detail,
      pathwayName: pathwayName(detail.case.pathwayId),
      patient,
      openTasks: detail.openTasks.map((t) => ({ ...t, href: `/tasks/${encodeURIComponent(t.taskId)}` })),
      notes: notes.map((n) => ({ ...n, amendsWrittenAt: n.amends ? (writtenAt.get(n.amends) ?? null) : null })),
      appointments: appointments.map((a) => ({
        ...a,
        kindText: APPOINTMENT_KINDS.find((k) => k.value === a.kind)?.text ?? a.kind ?? 'Appointment',
        statusText: STATUS_TEXT[a.status ?? ''] ?? a.status,
      })),
      alertTypes: ALERT_TYPES,
      appointmentKinds: APPOINTMENT_KINDS,
      timeline: timeline.items.map((event) => ({ ...describeEvent(event), by: whoDid(ctx, event.by) })),
      timelineTotal: timeline.total,
      olderHref: timeline.nextCursor ? `${base}?timeline=${encodeURIComponent(timeline.nextCursor)}#timeline` : null,
      newestHref: cursor ? `${base}#timeline` : null,
      values: form.values,
      errors: form.errors,
      csrfToken: ctx.csrfToken,
      ...(Object.keys(form.errors).length ? { errorSummary: errorSummaryOf(form.errors) } : {}),
    },
    status,
  );
}

/** Who acted, as the timeline records them: you, the pathway, or the staff id or subject it gives (not a name). */
function whoDid(ctx: PageContext, by: string | null): string | null {
  if (by === null) return null;
  if (by === ctx.principal.subject || by === ctx.principal.staffId) return 'you';
  return by.startsWith('system:') ? 'the pathway' : by;
}

/** One line of the timeline, in words: what happened, and what was written or found when one may see it. */
function describeEvent(event: TimelineEvent): { at: string; by: string | null; title: string; lines: string[] } {
  const d = event.detail as Record<string, string | number | boolean | undefined>;
  const c = event.clinical ?? {};
  const lines: string[] = [];
  const say = (label: string, value: unknown) => {
    if (typeof value === 'string' && value) lines.push(`${label}${value}`);
  };
  let title: string;
  const [category, what] = event.kind.split('.') as [string, string | undefined];
  switch (category) {
    case 'case':
      title =
        what === 'opened'
          ? `Case opened: ${pathwayName(String(d['pathwayId']))}, version ${String(d['pathwayVersion'])}`
          : what === 'closed'
            ? 'Case closed'
            : `Setting added: ${String(d['settingOdsCode'])}`;
      say('Reason: ', d['reason']);
      break;
    case 'task':
      title = `Task ${what ?? ''}: ${String(d['name'] ?? d['elementId'])}`;
      if (d['completedLate'] === true) lines.push('Completed after it was due');
      say('Reason: ', d['reason']);
      break;
    case 'assessment':
      title = `Assessment submitted: ${String(d['formId'])}`;
      break;
    case 'note':
      title = d['amends'] ? 'Note amended' : 'Note written';
      say('', c['body']);
      say('Why it was amended: ', c['amendmentReason']);
      break;
    case 'alert':
      title = `Alert ${what ?? ''}${typeof c['display'] === 'string' ? `: ${c['display']}` : ''} (${String(d['severity'])})`;
      say('Reason: ', c['reason']);
      break;
    case 'appointment':
      title = `Appointment ${what ?? ''}: ${String(d['agency'])}`;
      if (typeof d['startsAt'] === 'string') lines.push(`For ${londonDateTime(d['startsAt'])}`);
      say('Reason: ', c['reason']);
      break;
    case 'notification':
      title = `Notification ${what ?? ''}: ${String(d['template'])} by ${String(d['channel'])}`;
      break;
    case 'incident':
      title = `Incident ${what ?? ''}${d['kind'] ? `: ${String(d['kind'])}` : ''}`;
      say('', d['message']);
      say('Outcome: ', d['outcome']);
      break;
    case 'message':
      title = 'Message delivered';
      say('', d['result']);
      break;
    default:
      title = event.kind;
  }
  return { at: event.at, by: event.by, title, lines };
}

/**
 * A form's post: run the operation; on problems, show the case again with what was entered and where each
 * problem is (400); otherwise back to the form's section of the case (303).
 */
async function submit(
  ctx: PageContext,
  section: string,
  state: FormState,
  run: () => Promise<unknown>,
  fields: Parameters<typeof fieldErrorsOf>[1],
  fallback: string,
): Promise<void> {
  const caseId = caseIdOf(ctx);
  if (!UUID.test(caseId)) throw new NotFoundError(`No case ${caseId}`);
  if (Object.keys(state.errors).length) return renderCase(ctx, state, 400);
  const result = await problemsOr(run);
  if ('problems' in result)
    return renderCase(ctx, { values: state.values, errors: fieldErrorsOf(result.problems, fields, fallback) }, 400);
  ctx.redirect(`/cases/${caseId}#${section}`);
}

/** `POST /cases/:caseId/notes` */
export async function addNotePost(ctx: PageContext): Promise<void> {
  const body = fieldsOf(ctx.req.body)('body');
  await submit(
    ctx,
    'notes',
    { values: { 'note-body': body }, errors: {} },
    () => call(ctx, 'addCaseNote', { params: { caseId: caseIdOf(ctx) }, body: bodyOf({ body }) }),
    { '/body': { id: 'note-body', label: 'Note', missing: 'Enter the note' } },
    'note-body',
  );
}

/** `POST /cases/:caseId/notes/:noteId/amend` */
export async function amendNotePost(ctx: PageContext): Promise<void> {
  const field = fieldsOf(ctx.req.body);
  const noteId = String(ctx.req.params['noteId'] ?? '');
  const id = `amend-${noteId}`;
  const [body, reason] = [field('body'), field('reason')];
  await submit(
    ctx,
    'notes',
    { values: { [`${id}-body`]: body, [`${id}-reason`]: reason }, errors: {} },
    () => call(ctx, 'amendNote', { params: { noteId }, body: bodyOf({ body, reason }) }),
    {
      '/body': { id: `${id}-body`, label: 'Amended note', missing: 'Enter the amended note' },
      '/reason': { id: `${id}-reason`, label: 'Reason', missing: 'Enter why the note is amended' },
    },
    `${id}-body`,
  );
}

/** `POST /cases/:caseId/alerts`: raised on the case's person, in this case. */
export async function raiseAlertPost(ctx: PageContext): Promise<void> {
  const field = fieldsOf(ctx.req.body);
  const [code, wording, severity, reason, nhsNumber] = [
    field('code'),
    field('display'),
    field('severity'),
    field('reason'),
    field('nhsNumber'),
  ];
  // No wording given: the alert type's own name, as the hint says.
  const display = wording.trim() ? wording : (ALERT_TYPES.find((t) => t.code === code)?.text ?? '');
  await submit(
    ctx,
    'alerts',
    {
      values: { 'alert-code': code, 'alert-display': wording, 'alert-severity': severity, 'alert-reason': reason },
      errors: {},
    },
    () =>
      call(ctx, 'raiseAlert', {
        params: { nhsNumber },
        body: { ...bodyOf({ code, display, severity, reason }), caseId: caseIdOf(ctx) },
      }),
    {
      '/code': { id: 'alert-code', label: 'Type of alert', missing: 'Select the type of alert' },
      '/display': { id: 'alert-display', label: 'Wording', missing: 'Enter what the alert says' },
      '/severity': { id: 'alert-severity', label: 'Severity', missing: 'Select how severe the risk is' },
      '/reason': { id: 'alert-reason', label: 'Reason' },
    },
    'alert-code',
  );
}

/** `POST /cases/:caseId/alerts/:alertId/resolve` */
export async function resolveAlertPost(ctx: PageContext): Promise<void> {
  const alertId = String(ctx.req.params['alertId'] ?? '');
  const reason = fieldsOf(ctx.req.body)('reason');
  const id = `resolve-${alertId}-reason`;
  await submit(
    ctx,
    'alerts',
    { values: { [id]: reason }, errors: {} },
    () => call(ctx, 'resolveAlert', { params: { alertId }, body: bodyOf({ reason }) }),
    { '/reason': { id, label: 'Reason', missing: 'Enter why the alert no longer applies' } },
    id,
  );
}

/** `POST /cases/:caseId/appointments` */
export async function bookAppointmentPost(ctx: PageContext): Promise<void> {
  const field = fieldsOf(ctx.req.body);
  const when = dateTimeValuesOf(field, 'startsAt');
  const [kind, location, agency] = [field('kind'), field('location'), field('agency')];
  const startsAt = isBlank(when) ? undefined : londonInstantOf(when);
  const errors: FieldErrors =
    !isBlank(when) && !startsAt
      ? { 'appointment-startsAt-day': 'The appointment must be on a real date, at a time such as 14:30' }
      : {};
  await submit(
    ctx,
    'appointments',
    {
      values: {
        'appointment-kind': kind,
        'appointment-startsAt': when,
        'appointment-location': location,
        'appointment-agency': agency,
      },
      errors,
    },
    () =>
      call(ctx, 'bookAppointment', {
        params: { caseId: caseIdOf(ctx) },
        body: { ...bodyOf({ kind, location, agency }), ...(startsAt ? { startsAt } : {}) },
      }),
    {
      '/kind': { id: 'appointment-kind', label: 'Type of appointment', missing: 'Select the type of appointment' },
      '/startsAt': {
        id: 'appointment-startsAt-day',
        label: 'Date and time',
        missing: 'Enter the date and time of the appointment',
      },
      '/location': { id: 'appointment-location', label: 'Where', missing: 'Enter where the appointment is' },
      '/agency': { id: 'appointment-agency', label: 'With', missing: 'Enter who the appointment is with' },
    },
    'appointment-kind',
  );
}

/** `POST /cases/:caseId/appointments/:appointmentId/outcome`: attended, missed or cancelled. */
export async function appointmentOutcomePost(ctx: PageContext): Promise<void> {
  const field = fieldsOf(ctx.req.body);
  const appointmentId = String(ctx.req.params['appointmentId'] ?? '');
  const id = `outcome-${appointmentId}`;
  const [outcome, reason] = [field('outcome'), field('reason')];
  await submit(
    ctx,
    'appointments',
    { values: { [id]: outcome, [`${id}-reason`]: reason }, errors: {} },
    () => call(ctx, 'recordAppointmentOutcome', { params: { appointmentId }, body: bodyOf({ outcome, reason }) }),
    {
      '/outcome': { id, label: 'Outcome', missing: 'Select what happened' },
      '/reason': { id: `${id}-reason`, label: 'Reason' },
    },
    id,
  );
}

/** The fields a person filled in: one left empty (or only white space) is not sent, so a required one is named. */
function bodyOf(fields: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(fields).flatMap(([name, value]) => {
      const w = written(value);
      return w.value === undefined ? [] : [[name, w.value]];
    }),
  );
}
