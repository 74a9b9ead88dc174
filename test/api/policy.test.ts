/**
 * The authorisation matrix: every role x every action x a record of their own setting, of another setting,
 * and a restricted record of their own setting (and an ops incident task, and what belongs to no setting: a
 * pathway, the list of settings), against a table written by hand. A record of two settings stands for a member
 * of staff working in one of the admin's settings and one other, whom the admin may see but not change.
 * 0 leaks: nothing allowed that the table denies, no clinical content or contact details seen that it
 * withholds. And every line of the policy is needed: removing any one rule, guard or view rule changes at
 * least one cell of the matrix, so the test fails (shown by table, for each line in turn).
 */
import type { Principal, Role } from '../../api/auth/principal';
import {
  ACCESS_RULES,
  ACTION_SCOPES,
  ACTIONS,
  GUARDS,
  VIEW_RULES,
  createPolicy,
  variablesFor,
  withoutContactDetails,
  type Action,
  type Policy,
  type PolicyResource,
} from '../../api/policy';

const OWN = 'XOWN01';
const OTHER = 'XOTH01';
const ROLES: Role[] = ['clinician', 'team-lead', 'commissioner', 'ops', 'admin'];

const RECORDS: Record<string, PolicyResource> = {
  own: { settings: [OWN], candidateGroups: ['sms-team'] },
  other: { settings: [OTHER], candidateGroups: ['sms-team'] },
  'restricted own': { settings: [OWN], restricted: true, candidateGroups: ['sms-team'] },
  'handed over to own': { settings: [OTHER, OWN], candidateGroups: ['sms-team'] },
  'ops task own': { settings: [OWN], candidateGroups: ['ops'] },
  'ops task other': { settings: [OTHER], candidateGroups: ['ops'] },
  installation: { settings: [] },
};

/** Written by hand from the issue, not from the policy: what each role may do to a record of its own setting. */
const CARE: Action[] = [
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
];
/** Saved worklist views: filters, nobody's record, so allowed without sight of clinical content or contact details. */
const WORKLIST_VIEWS: Action[] = ['worklist-view.list', 'worklist-view.save'];
const PATHWAYS: Action[] = [
  'pathway.list',
  'pathway.read',
  'pathway.lint',
  'pathway.deploy',
  'pathway.design',
  'pathway.simulate',
  'form.install',
];
const DIRECTORY: Action[] = ['setting.list', 'setting.add', 'staff.list', 'staff.change'];
/** Reports seen without clinical content: workloads and due dates, and aggregate outcomes. */
const REPORTS_WITHOUT_ANSWERS: Action[] = ['report.operational', 'report.outcomes'];
const ALLOWED_OWN: Record<Role, Action[]> = {
  clinician: [...CARE, ...WORKLIST_VIEWS],
  // The NDTMS extract is person-level: the team lead's (the provider makes the return), never the commissioner's.
  'team-lead': [...CARE, 'task.assign', ...WORKLIST_VIEWS, ...REPORTS_WITHOUT_ANSWERS, 'report.extract'],
  commissioner: [...PATHWAYS, 'report.outcomes'],
  ops: [
    'case.read',
    'case.list',
    // ending a case early is an operational action
    'case.terminate',
    'task.list',
    'task.read',
    'pathway.list',
    'pathway.read',
    'case.timeline',
    'appointment.list',
    // that a case has notes and when; the bodies are clinical content, withheld
    'note.list',
    // the ops console: engine state and acting on it, no clinical content
    'ops.read',
    'ops.act',
  ],
  admin: DIRECTORY,
};
/** Ops may also take and complete the incident tasks offered to the ops group, in their settings. */
const ALLOWED_OPS_TASK: Record<Role, Action[]> = {
  ...ALLOWED_OWN,
  ops: [...ALLOWED_OWN.ops, 'task.claim', 'task.complete'],
};
/** Pathways and the list of settings belong to no setting: whoever may, may wherever they work. */
const ANYWHERE: Action[] = [
  'pathway.list',
  'pathway.read',
  'pathway.lint',
  'pathway.deploy',
  'pathway.design',
  'pathway.simulate',
  'form.install',
  'setting.list',
  'setting.add',
];
/** Changing a member of staff needs every setting they work in to be one of the admin's. */
const ALL_SETTINGS_MINE: Action[] = ['staff.change'];

type Cell =
  'denied' | 'allowed: clinical, contact' | 'allowed: clinical, no contact' | 'allowed: no clinical, no contact';

function expected(role: Role, record: string, action: Action): Cell {
  const inScope = ANYWHERE.includes(action)
    ? true
    : ALL_SETTINGS_MINE.includes(action)
      ? record === 'own' || record === 'restricted own' || record === 'ops task own'
      : record === 'own' || record === 'restricted own' || record === 'handed over to own' || record === 'ops task own';
  const allowedActions = record.startsWith('ops task') ? ALLOWED_OPS_TASK[role] : ALLOWED_OWN[role];
  if (!inScope || !allowedActions.includes(action)) return 'denied';
  if (
    role === 'ops' ||
    role === 'commissioner' ||
    role === 'admin' ||
    WORKLIST_VIEWS.includes(action) ||
    REPORTS_WITHOUT_ANSWERS.includes(action)
  )
    return 'allowed: no clinical, no contact';
  return record === 'restricted own' ? 'allowed: clinical, no contact' : 'allowed: clinical, contact';
}

const principal = (role: Role): Principal => ({
  subject: `${role}@test`,
  staffId: `staff-${role}`,
  name: role,
  roles: [role],
  settings: [OWN],
});

function actual(policy: Policy, role: Role, record: string, action: Action): Cell {
  const decision = policy.authorize(principal(role), action, RECORDS[record]!);
  if (!decision.allowed) return 'denied';
  const { clinicalContent, contactDetails } = decision.view;
  if (clinicalContent) return contactDetails ? 'allowed: clinical, contact' : 'allowed: clinical, no contact';
  return contactDetails ? ('allowed: no clinical, contact' as Cell) : 'allowed: no clinical, no contact';
}

function matrix(policy: Policy): string[] {
  const differences: string[] = [];
  for (const role of ROLES)
    for (const action of ACTIONS)
      for (const record of Object.keys(RECORDS)) {
        const want = expected(role, record, action);
        const got = actual(policy, role, record, action);
        if (want !== got) differences.push(`${role} ${action} ${record}: expected ${want}, got ${got}`);
      }
  return differences;
}

describe('the authorisation matrix', () => {
  it(`has ${ROLES.length} roles x ${ACTIONS.length} actions x ${Object.keys(RECORDS).length} records with 0 leaks`, () => {
    expect(matrix(createPolicy())).toEqual([]);
  });

  it('allows something and denies something for each record, so it tests both ways', () => {
    const policy = createPolicy();
    for (const record of Object.keys(RECORDS)) {
      const cells = ROLES.flatMap((role) => ACTIONS.map((action) => actual(policy, role, record, action)));
      expect(cells).toContain('denied');
      if (!record.includes('other')) expect(cells.some((c) => c.startsWith('allowed'))).toBe(true);
    }
  });

  it('denies a person with no roles, and one with no settings, everything', () => {
    const policy = createPolicy();
    const none: Principal = { ...principal('clinician'), roles: [] };
    const nowhere: Principal = { ...principal('team-lead'), settings: [] };
    for (const action of ACTIONS) {
      expect(policy.authorize(none, action, RECORDS['own']!)).toMatchObject({ allowed: false, denied: 'role' });
      expect(policy.authorize(nowhere, action, RECORDS['own']!).allowed).toBe(false);
    }
  });

  it('gives a person with two roles the wider of them, and audits under the setting that allowed it', () => {
    const both: Principal = { ...principal('ops'), roles: ['ops', 'clinician'], settings: ['XELS01', OWN] };
    const decision = createPolicy().authorize(both, 'case.read', RECORDS['handed over to own']!);
    expect(decision).toMatchObject({ allowed: true, rule: 'clinician-care', setting: OWN, purpose: 'TREAT' });
  });

  it('lets pathways be deployed by a commissioner of no setting, audited under none', () => {
    const nowhere: Principal = { ...principal('commissioner'), settings: [] };
    const decision = createPolicy().authorize(nowhere, 'pathway.deploy', RECORDS['installation']!);
    expect(decision).toMatchObject({ allowed: true, rule: 'commissioner-pathways', setting: null });
  });

  it('lets an admin change a member of staff only within the settings the admin works in, and says which are not', () => {
    const admin: Principal = { ...principal('admin'), settings: [OWN, 'XTWO01'] };
    const policy = createPolicy();
    expect(policy.authorize(admin, 'staff.change', { settings: [OWN, 'XTWO01'] }).allowed).toBe(true);
    expect(policy.authorize(admin, 'staff.change', { settings: [OWN, OTHER] })).toMatchObject({
      allowed: false,
      denied: 'scope',
      reason: expect.stringContaining(OTHER),
    });
    expect(policy.authorize(admin, 'staff.list', { settings: [OWN, OTHER] }).allowed).toBe(true);
  });
});

describe('every policy line is needed', () => {
  const lines = [
    ...ACCESS_RULES.map((rule) => ({
      kind: 'access rule',
      id: rule.id,
      policy: () => createPolicy(ACCESS_RULES.filter((r) => r !== rule)),
    })),
    ...GUARDS.map((guard) => ({
      kind: 'guard',
      id: guard.id,
      policy: () =>
        createPolicy(
          ACCESS_RULES,
          GUARDS.filter((g) => g !== guard),
        ),
    })),
    ...VIEW_RULES.map((viewRule) => ({
      kind: 'view rule',
      id: viewRule.id,
      policy: () =>
        createPolicy(
          ACCESS_RULES,
          GUARDS,
          VIEW_RULES.filter((v) => v !== viewRule),
        ),
    })),
  ];

  it.each(lines.map((l) => [l.kind, l.id, l] as const))('without the %s %s, the matrix fails', (_kind, _id, line) => {
    expect(matrix(line.policy()).length).toBeGreaterThan(0);
  });

  it('and with any action given another scope, too', () => {
    const scopes = ['any-setting', 'every-setting', 'installation'] as const;
    for (const action of ACTIONS)
      for (const scope of scopes.filter((s) => s !== ACTION_SCOPES[action])) {
        const changed = createPolicy(ACCESS_RULES, GUARDS, VIEW_RULES, { ...ACTION_SCOPES, [action]: scope });
        expect({ action, scope, fails: matrix(changed).length > 0 }).toEqual({ action, scope, fails: true });
      }
  });

  it('and without each action of each access rule, too', () => {
    for (const rule of ACCESS_RULES)
      for (const action of rule.actions) {
        const narrowed = ACCESS_RULES.map((r) =>
          r === rule ? { ...r, actions: r.actions.filter((a) => a !== action) } : r,
        );
        expect({ rule: rule.id, action, fails: matrix(createPolicy(narrowed)).length > 0 }).toEqual({
          rule: rule.id,
          action,
          fails: true,
        });
      }
  });
});

describe('what is withheld', () => {
  const variables = {
    caseId: 'c-1',
    settingOdsCode: OWN,
    screening: { alcoholUse: 'dependent' },
    patient: {
      name: [{ family: 'Brown' }],
      address: [{ line: ['1 Secret Street'] }],
      telecom: [{ value: '07700 900000' }],
    },
  };

  it('ops see how a case is keyed and routed, and no answers', () => {
    expect(variablesFor({ clinicalContent: false, contactDetails: false }, variables)).toEqual({
      caseId: 'c-1',
      settingOdsCode: OWN,
      screening: '[withheld]',
      patient: '[withheld]',
    });
  });

  it('a restricted record shows no address or contact details at any depth', () => {
    const shown = JSON.stringify(variablesFor({ clinicalContent: true, contactDetails: false }, variables));
    expect(shown).toContain('dependent');
    expect(shown).not.toMatch(/Secret Street|07700/);
    expect(withoutContactDetails([{ contact: [{ telecom: 'x' }], Email: 'a@b' }])).toEqual([{}]);
  });
});
