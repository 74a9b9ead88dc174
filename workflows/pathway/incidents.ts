/**
 * Incidents, read and checked: the form a person resolves one with, what a submission of it asks for, and
 * whether an incident can be skipped. Pure: the `completeTask` validator and the interpreter use the same rules.
 */
import { type PathwayIR } from '../../bpmn/ir';
import { type PathwayIncident, type PathwayState, type Variables } from './types';

/** The form of the worklist task an incident opens (pathways/forms/incident-resolution.schema.json). */
export const INCIDENT_FORM_ID = 'incident-resolution';

/** The candidate group of the task an incident opens: the people who look after integrations. */
export const INCIDENT_CANDIDATE_GROUP = 'ops';

/** What the resolution form offers: `correct-and-retry` is a retry with corrected variables merged in first. */
export const INCIDENT_ACTIONS = ['retry', 'skip', 'correct-and-retry'] as const;
export type IncidentAction = (typeof INCIDENT_ACTIONS)[number];

/** A submission of the resolution form, as the interpreter takes it. */
export interface IncidentResolutionRequest {
  readonly action: 'retry' | 'skip';
  readonly reason?: string;
  readonly variables?: Variables;
}

function isObject(value: unknown): value is Variables {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads a resolution form submission; a string says what is wrong with it. */
export function readIncidentResolution(data: Variables | undefined): IncidentResolutionRequest | string {
  const action = data?.['action'];
  if (typeof action !== 'string' || !(INCIDENT_ACTIONS as readonly string[]).includes(action))
    return `action must be one of ${INCIDENT_ACTIONS.join(', ')}`;
  const reason = data?.['reason'];
  if (reason !== undefined && typeof reason !== 'string') return 'reason must be text';
  const trimmed = typeof reason === 'string' && reason.trim() !== '' ? reason.trim() : undefined;
  const variables = data?.['variables'];
  switch (action as IncidentAction) {
    case 'skip':
      if (!trimmed) return 'a reason is required to skip: it is kept with the case';
      return { action: 'skip', reason: trimmed };
    case 'correct-and-retry':
      if (!isObject(variables) || Object.keys(variables).length === 0)
        return 'correct-and-retry needs the corrected variables, as an object';
      return { action: 'retry', variables, ...(trimmed ? { reason: trimmed } : {}) };
    case 'retry':
      if (variables !== undefined) return 'variables are only taken with correct-and-retry';
      return { action: 'retry', ...(trimmed ? { reason: trimmed } : {}) };
  }
}

/** The incident with this id while it is open, or undefined (unknown, resolved, or the pathway has ended). */
export function findOpenIncident(state: PathwayState, incidentId: string): PathwayIncident | undefined {
  const incident = state.incidents?.[incidentId];
  if (!incident || incident.resolution || state.status !== 'active') return undefined;
  return state.instances[incident.instanceId]?.incidentId === incidentId ? incident : undefined;
}

/** The incidents still open, oldest first. */
export function openIncidents(state: PathwayState): PathwayIncident[] {
  return Object.values(state.incidents ?? {})
    .filter((incident) => !incident.resolution)
    .sort((a, b) => a.raisedAt.localeCompare(b.raisedAt) || a.id.localeCompare(b.id));
}

/**
 * Why an open incident cannot be skipped, or undefined when it can. Skipping leaves the element without output
 * and takes its outgoing flows, which is undefined for a gateway that must choose (an exclusive gateway without
 * a default flow, an event-based gateway) and would silently drop the meaning of an end event that terminates,
 * throws an error or escalates.
 */
export function whyNotSkippable(ir: PathwayIR, state: PathwayState, incidentId: string): string | undefined {
  const incident = state.incidents?.[incidentId];
  const instance = incident ? state.instances[incident.instanceId] : undefined;
  const element = instance ? ir.elements[instance.elementId] : undefined;
  if (!instance || !element) return `incident '${incidentId}' is not open`;
  if (instance.wait.type !== 'entering') return undefined;
  if (element.kind === 'exclusiveGateway')
    return element.defaultFlow !== undefined || element.outgoing.length === 1
      ? undefined
      : `gateway '${element.id}' has no default flow to skip along: retry it, correcting the variables its conditions read`;
  if (element.kind === 'eventBasedGateway') return `event-based gateway '${element.id}' cannot be skipped: retry it`;
  if (element.kind === 'endEvent' && element.trigger.type !== 'none')
    return `end event '${element.id}' (${element.trigger.type}) cannot be skipped: retry it`;
  return undefined;
}
