/**
 * The one policy module: what a signed-in person may do with a person's record, asked by every route
 * (`authorize(principal, action, resource)`), FHIR included when it comes. Deny by default: an action is
 * allowed only when a rule in ACCESS_RULES grants it to one of the person's roles and every guard in GUARDS
 * passes; what an allowed person then sees is decided by VIEW_RULES. The rules are data, so the test that
 * removes each of them in turn (test/api/policy.test.ts) shows every line is needed.
 *
 * - clinician: cases and tasks of the settings they work in, and of cases handed over to those settings
 *   along a journey (a case's settings: engine/case-settings.ts), and the people of those cases;
 * - team-lead: as clinician, plus assigning the team's tasks to someone else;
 * - commissioner: no identifiable patient data (pathways and aggregate reports come with their own actions);
 * - ops: case state (where a case is, tasks, timers, incidents) of their settings, no clinical content (form
 *   answers, notes, variables holding answers are withheld), and the incident tasks offered to `ops`;
 * - admin: settings and staff only.
 * A restricted record (PDS `R`/`V`) never shows an address or contact details, to anyone.
 */
import type { Principal, Role } from './auth/principal';

export const ACTIONS = [
  'case.read',
  'case.list',
  'case.start',
  'case.message',
  'task.list',
  'task.read',
  'task.complete',
  'task.claim',
  'task.assign',
  'patient.read',
  'patient.access-log',
] as const;
export type Action = (typeof ACTIONS)[number];

/** What an action is about, as far as the policy needs to know. */
export interface PolicyResource {
  /**
   * ODS codes of the settings the record belongs to: a case's settings (opened in, handed over to); for a task,
   * its case's; for a person, those of all their cases; for starting a case or a list, the setting asked for.
   */
  readonly settings: readonly string[];
  /** The person's record is restricted (PDS `R`/`V`). */
  readonly restricted?: boolean;
  /** For a task: the groups it is offered to. */
  readonly candidateGroups?: readonly string[];
}

/** What an allowed person sees of the record. */
export interface View {
  /** Form answers, notes and variables holding answers. */
  readonly clinicalContent: boolean;
  /** Address, telephone, email, contacts. */
  readonly contactDetails: boolean;
}

export type Decision =
  | {
      readonly allowed: true;
      /** The rule that allowed it. */
      readonly rule: string;
      /** A setting the person works in that the record belongs to: the one the access is audited under. */
      readonly setting: string | null;
      readonly view: View;
      /** HL7 v3 PurposeOfUse for the audit event: TREAT for care, HOPERAT for operations. */
      readonly purpose: 'TREAT' | 'HOPERAT';
    }
  | {
      readonly allowed: false;
      /** `role`: none of their roles may ever do this; `scope`: not for this record (another setting...). */
      readonly denied: 'role' | 'scope';
      readonly reason: string;
    };

export interface AccessRule {
  readonly id: string;
  readonly roles: readonly Role[];
  readonly actions: readonly Action[];
  /** A further condition on the record, beyond the guards. */
  readonly when?: (resource: PolicyResource) => boolean;
  /** Whether this rule gives sight of clinical content. */
  readonly clinicalContent: boolean;
  readonly purpose: 'TREAT' | 'HOPERAT';
}

/** Ordered: the first rule that allows an action decides what is seen, so the clinical ones come first. */
export const ACCESS_RULES: readonly AccessRule[] = [
  {
    id: 'clinician-care',
    roles: ['clinician', 'team-lead'],
    actions: [
      'case.read',
      'case.list',
      'case.start',
      'case.message',
      'task.list',
      'task.read',
      'task.complete',
      'task.claim',
      'patient.read',
      'patient.access-log',
    ],
    clinicalContent: true,
    purpose: 'TREAT',
  },
  {
    id: 'team-lead-assigns',
    roles: ['team-lead'],
    actions: ['task.assign'],
    clinicalContent: true,
    purpose: 'TREAT',
  },
  {
    id: 'ops-case-state',
    roles: ['ops'],
    actions: ['case.read', 'case.list', 'task.list', 'task.read'],
    clinicalContent: false,
    purpose: 'HOPERAT',
  },
  {
    id: 'ops-incident-tasks',
    roles: ['ops'],
    actions: ['task.claim', 'task.complete'],
    when: (resource) => resource.candidateGroups?.includes('ops') ?? false,
    clinicalContent: false,
    purpose: 'HOPERAT',
  },
];

export interface Guard {
  readonly id: string;
  /** Undefined when it passes, else why not. */
  readonly check: (principal: Principal, resource: PolicyResource) => string | undefined;
}

/** Every allowed action passes every guard. */
export const GUARDS: readonly Guard[] = [
  {
    id: 'own-settings',
    check: (principal, resource) =>
      resource.settings.some((code) => principal.settings.includes(code))
        ? undefined
        : 'it is not a record of a setting you work in',
  },
];

export interface ViewRule {
  readonly id: string;
  /** Narrows what is seen; never widens it. */
  readonly apply: (view: View, resource: PolicyResource, rule: AccessRule) => View;
}

export const VIEW_RULES: readonly ViewRule[] = [
  {
    id: 'clinical-content-only-for-care',
    apply: (view, _resource, rule) => (rule.clinicalContent ? view : { ...view, clinicalContent: false }),
  },
  {
    id: 'contact-details-only-for-care',
    apply: (view, _resource, rule) => (rule.clinicalContent ? view : { ...view, contactDetails: false }),
  },
  {
    id: 'restricted-record-hides-contact-details',
    apply: (view, resource) => (resource.restricted ? { ...view, contactDetails: false } : view),
  },
];

export interface Policy {
  authorize(principal: Principal, action: Action, resource: PolicyResource): Decision;
  /** Whether any of the person's roles may ever do the action (asked before loading a record). */
  mayEver(principal: Principal, action: Action): boolean;
}

export function createPolicy(
  rules: readonly AccessRule[] = ACCESS_RULES,
  guards: readonly Guard[] = GUARDS,
  viewRules: readonly ViewRule[] = VIEW_RULES,
): Policy {
  const granting = (principal: Principal, action: Action) =>
    rules.filter((rule) => rule.actions.includes(action) && rule.roles.some((role) => principal.roles.includes(role)));
  return {
    mayEver: (principal, action) => granting(principal, action).length > 0,
    authorize(principal, action, resource) {
      const candidates = granting(principal, action);
      if (candidates.length === 0)
        return {
          allowed: false,
          denied: 'role',
          reason: `Your role${principal.roles.length === 1 ? '' : 's'} (${principal.roles.join(', ') || 'none'}) may not ${action}`,
        };
      const failed = guards.map((guard) => guard.check(principal, resource)).find((why) => why !== undefined);
      if (failed) return { allowed: false, denied: 'scope', reason: `You may not ${action} here: ${failed}` };
      const rule = candidates.find((r) => !r.when || r.when(resource));
      if (!rule) return { allowed: false, denied: 'scope', reason: `You may not ${action} for this record` };
      const view = viewRules.reduce<View>((v, viewRule) => viewRule.apply(v, resource, rule), {
        clinicalContent: true,
        contactDetails: true,
      });
      return {
        allowed: true,
        rule: rule.id,
        setting: resource.settings.find((code) => principal.settings.includes(code)) ?? null,
        view,
        purpose: rule.purpose,
      };
    },
  };
}

const policy = createPolicy();

/** The policy in force: allowed (with what may be seen) or why not. */
export function authorize(principal: Principal, action: Action, resource: PolicyResource): Decision {
  return policy.authorize(principal, action, resource);
}

export function mayEver(principal: Principal, action: Action): boolean {
  return policy.mayEver(principal, action);
}

/** The principal's role that an audit event names: the one whose rule allowed it, else their first. */
export function roleFor(principal: Principal, decision: Decision): string {
  if (!decision.allowed) return principal.roles[0] ?? 'none';
  const rule = ACCESS_RULES.find((r) => r.id === decision.rule);
  return rule?.roles.find((role) => principal.roles.includes(role)) ?? principal.roles[0] ?? 'none';
}

const CONTACT_KEYS = new Set([
  'address',
  'addresses',
  'telecom',
  'contact',
  'contacts',
  'phone',
  'email',
  'postcode',
  'postalcode',
]);

/**
 * A copy of `value` without address and contact details at any depth (FHIR `address`, `telecom`, `contact`;
 * `phone`, `email`, `postcode`...): what a restricted record's data looks like in any response.
 */
export function withoutContactDetails(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutContactDetails);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([key]) => !CONTACT_KEYS.has(key.toLowerCase()))
      .map(([key, v]) => [key, withoutContactDetails(v)]),
  );
}

/** Variables ops may see the value of: how the case is keyed and routed, nothing a person answered. */
export const OPERATIONAL_VARIABLES: ReadonlySet<string> = new Set([
  'caseId',
  'nhsNumber',
  'settingOdsCode',
  'prisonOdsCode',
  'handoverId',
]);

export const WITHHELD = '[withheld]';

/** A case's variables as the view allows: without clinical values for ops, without contact details when not allowed. */
export function variablesFor(view: View, variables: Record<string, unknown>): Record<string, unknown> {
  const visible = view.clinicalContent
    ? variables
    : Object.fromEntries(
        Object.entries(variables).map(([name, value]) => [name, OPERATIONAL_VARIABLES.has(name) ? value : WITHHELD]),
      );
  return view.contactDetails ? visible : (withoutContactDetails(visible) as Record<string, unknown>);
}
