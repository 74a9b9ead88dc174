/**
 * The one policy module: what a signed-in person may do with a person's record, asked by every route
 * (`authorize(principal, action, resource)`), FHIR included when it comes. Deny by default: an action is
 * allowed only when a rule in ACCESS_RULES grants it to one of the person's roles and every guard in GUARDS
 * of the action's scope (ACTION_SCOPES) passes; what an allowed person then sees is decided by VIEW_RULES. The
 * rules are data, so the test that removes each of them in turn (test/api/policy.test.ts) shows every line is
 * needed.
 *
 * - clinician: cases and tasks of the settings they work in, and of cases handed over to those settings
 *   along a journey (a case's settings: engine/case-settings.ts), and the people of those cases;
 * - team-lead: as clinician, plus assigning the team's tasks to someone else;
 * - clinician and team-lead also keep saved worklist views (filters, no one's data), their own and those shared with
 *   a setting they work in;
 * - commissioner: pathways (list, read, lint, deploy, design, simulate), no identifiable patient data; pathways belong to
 *   the installation, not to a setting; and the outcome reports of the settings they commission (aggregate, small
 *   numbers suppressed), as team leads have them for theirs;
 * - team-lead, besides: the workforce reports of their settings (people and their due work, no form answers) and the
 *   NDTMS extract (person-level, with consent: the treatment provider makes that return, never a commissioner);
 * - ops: case state (where a case is, tasks, timers, incidents) of their settings, no clinical content (form
 *   answers, notes, variables holding answers are withheld), the incident tasks offered to `ops`, and reading
 *   pathway versions; a case's timeline and appointments too, without clinical content or where (no drafts,
 *   contacts, bookings, outcomes or PDS searches: those are care);
 * - admin: settings and staff only. Any admin lists and adds settings (the directory of organisations holds
 *   nobody's data; the admin who adds one is made a member of it, so that they can staff it); they list the
 *   staff of their settings, and add, change or deactivate a member of staff only when every setting that person
 *   works in, before and after the change, is one the admin works in: an admin never grants or takes away
 *   access to a setting they do not work in.
 * A restricted record (PDS `R`/`V`) never shows an address or contact details, to anyone.
 */
import type { Principal, Role } from './auth/principal';

export const ACTIONS = [
  'case.read',
  'case.list',
  'case.start',
  'case.message',
  'case.terminate',
  'task.list',
  'task.read',
  'task.complete',
  'task.claim',
  'task.assign',
  'patient.read',
  'patient.access-log',
  'case.timeline',
  'task.draft',
  'appointment.list',
  'appointment.book',
  'appointment.record',
  'contact.list',
  'contact.create',
  'contact.consent',
  'patient.search',
  'pathway.list',
  'pathway.read',
  'pathway.lint',
  'pathway.deploy',
  // The designer: drafts (saved, discarded; publishing one is pathway.deploy), each version's history with how many
  // cases run it (counts, never which cases), and the installed forms with a preview of a form being designed.
  'pathway.design',
  // Simulating a pathway on the time-skipping server, in a scratch world of made-up cases (simulation/).
  'pathway.simulate',
  // Installing a form (a new one, or a new version of one) for every pathway and setting to use.
  'form.install',
  'setting.list',
  'setting.add',
  'staff.list',
  'staff.change',
  // Reading a person's alerts (/api/v1 and FHIR Flag), care plans (FHIR CarePlan), notifications (FHIR Communication).
  'alert.list',
  'care-plan.list',
  'notification.list',
  // Notes (append-only; an amendment is a new note) and raising and resolving a person's alerts.
  'note.list',
  'note.create',
  'alert.raise',
  'alert.resolve',
  // One's saved worklist views (filters, not records): listing them, and saving, replacing or deleting one's own.
  'worklist-view.list',
  'worklist-view.save',
  // The ops console: stuck-case views, a pathway's heatmap, a case's engine state and history (no clinical content),
  // and acting on cases (retry, deliver, cancel, reassign, bulk actions); asked about the settings one works in.
  'ops.read',
  'ops.act',
  // Reports (engine/reports/): workforce reports naming people of one's settings; aggregate outcomes with small numbers
  // suppressed; the NDTMS extract, person-level with consent.
  'report.operational',
  'report.outcomes',
  'report.extract',
] as const;
export type Action = (typeof ACTIONS)[number];

/**
 * How the settings of what an action is about scope it: `any-setting`, a person's record, which is of one's
 * settings when any of its settings is one of them (a case handed over to one's setting included); `every-setting`,
 * a change to a member of staff, allowed only when every setting they work in, before and after, is one the admin
 * works in (so no admin grants or removes access to a setting they do not work in); `installation`, what belongs
 * to no setting (pathways, the list of settings), for which the setting guards do not apply.
 */
export const ACTION_SCOPES: Record<Action, 'any-setting' | 'every-setting' | 'installation'> = {
  'case.read': 'any-setting',
  'case.list': 'any-setting',
  'case.start': 'any-setting',
  'case.message': 'any-setting',
  'case.terminate': 'any-setting',
  'task.list': 'any-setting',
  'task.read': 'any-setting',
  'task.complete': 'any-setting',
  'task.claim': 'any-setting',
  'task.assign': 'any-setting',
  'patient.read': 'any-setting',
  'patient.access-log': 'any-setting',
  'case.timeline': 'any-setting',
  'task.draft': 'any-setting',
  'appointment.list': 'any-setting',
  'appointment.book': 'any-setting',
  'appointment.record': 'any-setting',
  'contact.list': 'any-setting',
  'contact.create': 'any-setting',
  'contact.consent': 'any-setting',
  // A search of PDS is of nobody in our record yet: it is made through a setting one works in.
  'patient.search': 'any-setting',
  'pathway.list': 'installation',
  'pathway.read': 'installation',
  'pathway.lint': 'installation',
  'pathway.deploy': 'installation',
  'pathway.design': 'installation',
  'pathway.simulate': 'installation',
  'form.install': 'installation',
  'setting.list': 'installation',
  'setting.add': 'installation',
  'staff.list': 'any-setting',
  'staff.change': 'every-setting',
  'alert.list': 'any-setting',
  'care-plan.list': 'any-setting',
  'notification.list': 'any-setting',
  'note.list': 'any-setting',
  'note.create': 'any-setting',
  'alert.raise': 'any-setting',
  'alert.resolve': 'any-setting',
  // Asked about the settings one works in: a view is seen there (or shared with one of them), never elsewhere.
  'worklist-view.list': 'any-setting',
  'worklist-view.save': 'any-setting',
  'ops.read': 'any-setting',
  'ops.act': 'any-setting',
  // A report is asked about settings: each one asked for must be one the person works in.
  'report.operational': 'any-setting',
  'report.outcomes': 'any-setting',
  'report.extract': 'any-setting',
};

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
      'case.terminate',
      'task.list',
      'task.read',
      'task.complete',
      'task.claim',
      'patient.read',
      'patient.access-log',
      'case.timeline',
      'task.draft',
      'appointment.list',
      'appointment.book',
      'appointment.record',
      'contact.list',
      'contact.create',
      'contact.consent',
      'patient.search',
      'alert.list',
      'care-plan.list',
      'notification.list',
      'note.list',
      'note.create',
      'alert.raise',
      'alert.resolve',
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
    // Saved worklist views are preferences: the worklist's filters, holding nobody's record, so they give no sight
    // of clinical content or contact details (what a view finds is the worklist's to decide, under the rules above).
    id: 'clinician-worklist-views',
    roles: ['clinician', 'team-lead'],
    actions: ['worklist-view.list', 'worklist-view.save'],
    clinicalContent: false,
    purpose: 'TREAT',
  },
  {
    id: 'ops-case-state',
    roles: ['ops'],
    // The timeline and the appointment diary without clinical content or where: what happened and when, to see
    // a stuck case or a missed appointment that did not move it on.
    // Notes too, that a case has them and when, never their bodies (clinical content).
    // Ending a case early is an operational action too (a person released before reception), audited as theirs.
    actions: [
      'case.read',
      'case.list',
      'case.terminate',
      'task.list',
      'task.read',
      'case.timeline',
      'appointment.list',
      'note.list',
    ],
    clinicalContent: false,
    purpose: 'HOPERAT',
  },
  {
    // The console reads engine state (where a case is, its activities, timers and history events) and acts on it;
    // what a case's events carry is withheld as clinical content (engine/ops.ts shows event types and times only).
    id: 'ops-console',
    roles: ['ops'],
    actions: ['ops.read', 'ops.act'],
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
  {
    id: 'commissioner-pathways',
    roles: ['commissioner'],
    actions: [
      'pathway.list',
      'pathway.read',
      'pathway.lint',
      'pathway.deploy',
      'pathway.design',
      'pathway.simulate',
      'form.install',
    ],
    clinicalContent: false,
    purpose: 'HOPERAT',
  },
  {
    id: 'ops-pathway-versions',
    roles: ['ops'],
    actions: ['pathway.list', 'pathway.read'],
    clinicalContent: false,
    purpose: 'HOPERAT',
  },
  {
    id: 'admin-directory',
    roles: ['admin'],
    actions: ['setting.list', 'setting.add', 'staff.list', 'staff.change'],
    clinicalContent: false,
    purpose: 'HOPERAT',
  },
  {
    // Caseloads, upcoming and overdue reviews, weekly activity, release continuity: who is due what and when in one's
    // settings, never a form's answers; each person shown is audited.
    id: 'team-lead-operational-reports',
    roles: ['team-lead'],
    actions: ['report.operational'],
    clinicalContent: false,
    purpose: 'HOPERAT',
  },
  {
    // The NDTMS return is person-level and made by the treatment provider with the person's consent (REFERENCE 4.4):
    // the team lead of the setting. It carries clinical items (drugs, exit reason, TOP dates); each row is audited.
    id: 'team-lead-ndtms-extract',
    roles: ['team-lead'],
    actions: ['report.extract'],
    clinicalContent: true,
    purpose: 'HOPERAT',
  },
  {
    // Aggregate only, small numbers suppressed (engine/reports/suppression.ts): nobody's record.
    id: 'outcome-reports',
    roles: ['commissioner', 'team-lead'],
    actions: ['report.outcomes'],
    clinicalContent: false,
    purpose: 'HOPERAT',
  },
];

export interface Guard {
  readonly id: string;
  /** The actions it guards, by their scope (ACTION_SCOPES). */
  readonly scope: 'any-setting' | 'every-setting';
  /** Undefined when it passes, else why not. */
  readonly check: (principal: Principal, resource: PolicyResource) => string | undefined;
}

/** Every allowed action passes every guard of its scope. */
export const GUARDS: readonly Guard[] = [
  {
    id: 'own-settings',
    scope: 'any-setting',
    check: (principal, resource) =>
      resource.settings.some((code) => principal.settings.includes(code))
        ? undefined
        : 'it is not a record of a setting you work in',
  },
  {
    id: 'managed-settings',
    scope: 'every-setting',
    check: (principal, resource) => {
      const outside = resource.settings.filter((code) => !principal.settings.includes(code));
      if (resource.settings.length === 0) return 'it names no setting';
      return outside.length ? `it reaches settings you do not work in (${outside.join(', ')})` : undefined;
    },
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
  scopes: Record<Action, Guard['scope'] | 'installation'> = ACTION_SCOPES,
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
      const failed = guards
        .filter((guard) => guard.scope === scopes[action])
        .map((guard) => guard.check(principal, resource))
        .find((why) => why !== undefined);
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
