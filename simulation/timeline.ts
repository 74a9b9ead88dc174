/**
 * What happened in a simulated case, when, on the simulated clock. The workflows' trails say when each element was
 * entered and left (tasks, timers, messages caught) and their state the incidents; the record store says what the
 * steps wrote (team and staff notices, the local inbox's messages), and each of those rows is keyed by the step
 * that wrote it (`<workflow id>/<instance id>`, activities/pathway-tasks/task-context.ts), which dates it.
 */
import type { Client } from '@temporalio/client';
import { uuidFromKey } from '../activities';
import type { EventTriggerType, PathwayIR } from '../bpmn';
import { worklistTaskId } from '../domain/worklist-task-id';
import { STATE_QUERY } from '../engine/case-engine';
import type { Store } from '../store';
import type { PathwayView, TrailEntry } from '../workflows';

export const SIMULATION_EVENT_KINDS = [
  'task-opened',
  'task-completed',
  'task-cancelled',
  'timer',
  'reminder',
  'overdue',
  'notice',
  'notification',
  'message',
  'incident',
  'case-ended',
  'expectation',
] as const;
export type SimulationEventKind = (typeof SIMULATION_EVENT_KINDS)[number];

export interface SimulationEvent {
  /** When, on the simulated clock (ISO 8601, UTC). */
  readonly at: string;
  readonly kind: SimulationEventKind;
  /** What happened, for people. */
  readonly text: string;
  readonly elementId?: string;
  /** The pathway it happened in (the simulated one, or one it called). */
  readonly pathwayId?: string;
  /** A task's due instant. */
  readonly dueAt?: string;
  /** A notification's recipient as the local inbox wrote it (`Name <address>`), or the team a team notice is for. */
  readonly recipient?: string;
  readonly subject?: string;
  /** A notice's kind (`reminder`, `overdue`, `escalation`...). */
  readonly noticeKind?: string;
  /** An expectation's outcome. */
  readonly passed?: boolean;
}

/** An event and where it sorts among those at the same instant. */
export interface OrderedEvent {
  readonly event: SimulationEvent;
  readonly order: number;
}

/** Steps the simulator takes itself sort before what follows from them at the same instant; expectations after. */
export const ORDER = { step: 0, pathway: 1_000_000, expectation: 1_000_000_000 } as const;

export function sortEvents(events: readonly OrderedEvent[]): SimulationEvent[] {
  return [...events].sort((a, b) => a.event.at.localeCompare(b.event.at) || a.order - b.order).map((e) => e.event);
}

export interface CaseTimelineSource {
  readonly client: Client;
  readonly store: Store;
  readonly caseId: string;
  readonly rootWorkflowId: string;
  /** The IR of a pathway the case runs (itself or one it calls), to tell a timer from a message. */
  irOf(processId: string): PathwayIR | undefined;
}

export interface CaseTimeline {
  readonly root: PathwayView;
  readonly events: OrderedEvent[];
}

const SKIPPED_KINDS = new Set(['sequenceFlow', 'exclusiveGateway', 'parallelGateway', 'eventBasedGateway']);

const label = (entry: { elementId: string; name?: string }) =>
  entry.name ? `${entry.name} (${entry.elementId})` : entry.elementId;

/** The case's workflow and the pathways it called, each with its state, the case's own first. */
async function caseWorkflows(source: CaseTimelineSource): Promise<{ workflowId: string; view: PathwayView }[]> {
  const found: { workflowId: string; view: PathwayView }[] = [];
  const queue = [source.rootWorkflowId];
  for (let workflowId = queue.shift(); workflowId; workflowId = queue.shift()) {
    let view: PathwayView;
    try {
      view = await source.client.workflow.getHandle(workflowId).query<PathwayView>(STATE_QUERY);
    } catch (error) {
      // A call activity that failed before its pathway started has no workflow to ask.
      if (workflowId === source.rootWorkflowId) throw error;
      continue;
    }
    found.push({ workflowId, view });
    for (const entry of view.trail)
      if (entry.kind === 'callActivity' && entry.instanceId) queue.push(`${workflowId}/${entry.instanceId}`);
  }
  return found;
}

interface NoteRow {
  id: string;
  body: string;
}
interface InboxRow {
  notification_id: string;
  recipient: string;
  subject: string;
  issued_at: string | null;
  notice_kind: string | null;
  delivered_at: Date | string;
}
interface TaskRow {
  id: string;
  due_at: Date | string | null;
}

const TEAM_NOTICE = /^\[team-notice:([a-z-]+)\] Team notice \([a-z-]+\) to ([^;]+)(?:; (.*))?$/s;
const STAFF_NOTICE = /^\[staff-notice:([a-z-]+)\] ([^;]+)(?:; (.*))?$/s;

function noticeEventKind(kind: string): SimulationEventKind {
  return kind === 'reminder' || kind === 'overdue' ? kind : 'notice';
}

/** Everything the case has done so far, with the state of its own workflow. */
export async function collectCaseTimeline(source: CaseTimelineSource): Promise<CaseTimeline> {
  const workflows = await caseWorkflows(source);
  const knex = source.store.orm.em.getConnection().getKnex();
  const [notes, inbox, tasks] = await Promise.all([
    knex('notes')
      .where({ case_id: source.caseId })
      .whereRaw(`(body like '[team-notice:%' or body like '[staff-notice:%')`)
      .select<NoteRow[]>('id', 'body'),
    knex('inbox_messages as i')
      .join('notification_outbox as o', 'o.id', 'i.notification_id')
      .where('o.case_id', source.caseId)
      .orderBy([{ column: 'i.delivered_at' }, { column: 'i.recipient' }])
      .select<InboxRow[]>(
        'i.notification_id',
        'i.recipient',
        'i.subject',
        'i.delivered_at',
        knex.raw(`o.personalisation->>'issuedAt' as issued_at`),
        knex.raw(`case when o.staff_id is not null then o.personalisation->>'kind' end as notice_kind`),
      ),
    knex('worklist_tasks').where({ case_id: source.caseId }).select<TaskRow[]>('id', 'due_at'),
  ]);
  const notesById = new Map(notes.map((n) => [n.id, n]));
  const dueById = new Map(tasks.map((t) => [t.id, t.due_at === null ? undefined : new Date(t.due_at).toISOString()]));

  const events: OrderedEvent[] = [];
  const placed = new Set<string>();
  workflows.forEach(({ workflowId, view }, w) => {
    const ir = source.irOf(view.processId);
    const pathwayId = view.processId;
    const triggerOf = (elementId: string): EventTriggerType | undefined => {
      const element = ir?.elements[elementId];
      return element && 'trigger' in element ? element.trigger.type : undefined;
    };
    view.trail.forEach((entry: TrailEntry, t) => {
      if (SKIPPED_KINDS.has(entry.kind)) return;
      let order = ORDER.pathway + w * 100_000 + t * 10;
      const add = (event: Omit<SimulationEvent, 'pathwayId' | 'elementId'>) =>
        events.push({ event: { ...event, elementId: entry.elementId, pathwayId }, order: order++ });
      if (entry.kind === 'userTask') {
        const dueAt = entry.instanceId ? dueById.get(worklistTaskId(workflowId, entry.instanceId)) : undefined;
        add({
          at: entry.enteredAt,
          kind: 'task-opened',
          text: `${label(entry)} opened${dueAt ? `, due ${dueAt}` : ''}`,
          ...(dueAt ? { dueAt } : {}),
        });
        if (entry.leftAt && entry.outcome === 'completed')
          add({ at: entry.leftAt, kind: 'task-completed', text: `${label(entry)} completed` });
        else if (entry.leftAt && (entry.outcome === 'cancelled' || entry.outcome === 'interrupted'))
          add({ at: entry.leftAt, kind: 'task-cancelled', text: `${label(entry)} ${entry.outcome}` });
        return;
      }
      const trigger = triggerOf(entry.elementId);
      // A boundary event is recorded as it fires; a catch event when it is reached, and left when it fires.
      const firedAt = entry.kind === 'boundaryEvent' ? entry.enteredAt : entry.leftAt;
      if ((entry.kind === 'boundaryEvent' || entry.kind === 'intermediateCatchEvent') && firedAt) {
        if (trigger === 'timer') add({ at: firedAt, kind: 'timer', text: `timer ${label(entry)} fired` });
        if (trigger === 'message') add({ at: firedAt, kind: 'message', text: `message caught at ${label(entry)}` });
        return;
      }
      if (entry.kind !== 'serviceTask' || !entry.instanceId) return;
      // What the step wrote: a team or staff notice (a note), messages in the local inbox.
      const key = `${workflowId}/${entry.instanceId}`;
      for (const noteId of [uuidFromKey(key), uuidFromKey(`${key}/staff-notice`)]) {
        const note = notesById.get(noteId);
        if (!note) continue;
        placed.add(note.id);
        const team = TEAM_NOTICE.exec(note.body);
        const staff = team ? undefined : STAFF_NOTICE.exec(note.body);
        const kind = team?.[1] ?? staff?.[1] ?? 'information';
        add({
          at: entry.enteredAt,
          kind: noticeEventKind(kind),
          noticeKind: kind,
          text: team
            ? `${kind} to ${team[2]}${team[3] ? `: ${team[3]}` : ''}`
            : `${staff?.[2] ?? note.body}${staff?.[3] ? `: ${staff[3]}` : ''}`,
          ...(team ? { recipient: team[2], subject: team[3] ?? kind } : { subject: staff?.[2] ?? note.body }),
        });
      }
      for (const message of inbox.filter((m) => m.notification_id.startsWith(`${key}/`))) {
        placed.add(message.notification_id);
        add({
          at: message.issued_at ? new Date(message.issued_at).toISOString() : entry.enteredAt,
          kind: 'notification',
          text: `to ${message.recipient}: ${message.subject}`,
          recipient: message.recipient,
          subject: message.subject,
          ...(message.notice_kind ? { noticeKind: message.notice_kind } : {}),
        });
      }
    });
    for (const incident of view.incidents)
      events.push({
        event: {
          at: incident.raisedAt,
          kind: 'incident',
          elementId: incident.elementId,
          pathwayId,
          text: `incident at ${incident.elementName ? `${incident.elementName} (${incident.elementId})` : incident.elementId}: ${incident.message}`,
        },
        order: ORDER.pathway + w * 100_000 + 99_999,
      });
  });
  // Anything no step can be found for (none is expected) is still shown, at the wall-clock time it was written.
  for (const message of inbox.filter((m) => !placed.has(m.notification_id)))
    events.push({
      event: {
        at: message.issued_at
          ? new Date(message.issued_at).toISOString()
          : new Date(message.delivered_at).toISOString(),
        kind: 'notification',
        text: `to ${message.recipient}: ${message.subject}`,
        recipient: message.recipient,
        subject: message.subject,
      },
      order: ORDER.pathway + 99_999_999,
    });
  const root = workflows[0]!.view;
  if (root.status !== 'active' && root.endedAt)
    events.push({
      event: {
        at: root.endedAt,
        kind: 'case-ended',
        pathwayId: root.processId,
        text: root.termination
          ? `case ended: terminated by ${root.termination.terminatedBy} (${root.termination.reason})`
          : `case ended: ${root.status}`,
      },
      order: ORDER.pathway + 999_999,
    });
  return { root, events };
}
