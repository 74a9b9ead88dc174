/**
 * The directory, for administrators: settings (list, add) and staff (list, add or update, deactivate). Not a
 * person's record, but every change is audited (who changed the directory) in the same audit events. An admin
 * lists the staff of the settings they work in and changes only staff all of whose settings are theirs
 * (api/policy.ts, `staff.change`).
 */
import { ConflictError, NotFoundError, ThroughcareError } from '../../domain/errors';
import {
  addSetting,
  addStaff,
  deactivateStaff,
  listSettings,
  listStaff,
  pageInMemory,
  type StaffSummary,
} from '../../engine';
import { authorize } from '../policy';
import { allowInstallationAction, decide, listScope, pageOf, requireRole, type RouteSpec } from './operation';
import { PARAMETER_SCHEMAS } from './schemas';

const staffIdParam = { staffId: PARAMETER_SCHEMAS.uuid };

export const DIRECTORY_ROUTES: readonly RouteSpec[] = [
  {
    method: 'get',
    path: '/settings',
    operationId: 'listSettings',
    summary: 'The settings (custody suites, courts, prisons, community services), by ODS code',
    tag: 'directory',
    action: 'setting.list',
    patientData: false,
    query: 'SettingListQuery',
    success: { status: 200, schema: 'SettingList', description: 'settings by ODS code, a page at a time' },
    async handle(ctx) {
      allowInstallationAction(ctx, 'setting.list');
      const kind = ctx.query['kind'] as string | undefined;
      const items = await listSettings(ctx.engine.store, kind ? { kind } : {});
      return { body: pageInMemory(items, (s) => [s.odsCode], { ...pageOf(ctx.query), keyLength: 1 }) };
    },
  },
  {
    method: 'post',
    path: '/settings',
    operationId: 'addSetting',
    summary: 'Add a setting; you are made a member of it, so that you can add its staff',
    tag: 'directory',
    action: 'setting.add',
    patientData: false,
    body: 'AddSettingRequest',
    success: { status: 201, schema: 'Setting', description: 'the setting' },
    async handle(ctx) {
      const decision = allowInstallationAction(ctx, 'setting.add');
      const prisonType = ctx.body['prisonType'] as string | undefined;
      const added = await addSetting(
        ctx.engine.store,
        {
          odsCode: ctx.body['odsCode'] as string,
          name: ctx.body['name'] as string,
          kind: ctx.body['kind'] as string,
          ...(prisonType !== undefined ? { prisonType } : {}),
        },
        { memberStaffId: ctx.principal.staffId },
      );
      await ctx.audit([
        {
          decision,
          action: 'create',
          operation: 'setting.add',
          entityType: 'Setting',
          entityId: added.odsCode,
          patientId: null,
          reason: `added setting ${added.odsCode} (${added.kind})`,
        },
      ]);
      return { status: 201, body: added };
    },
  },
  {
    method: 'get',
    path: '/staff',
    operationId: 'listStaff',
    summary: 'The staff of the settings you work in, by name',
    tag: 'directory',
    action: 'staff.list',
    patientData: false,
    query: 'StaffListQuery',
    success: { status: 200, schema: 'StaffList', description: 'the staff by name, a page at a time' },
    async handle(ctx) {
      listScope(ctx.principal, 'staff.list', ctx.query['setting']);
      const active = ctx.query['active'] as boolean | undefined;
      const found = await listStaff(ctx.engine.store, {
        ...(typeof ctx.query['setting'] === 'string' ? { settingOdsCode: ctx.query['setting'] } : {}),
        ...(typeof ctx.query['duty'] === 'string' ? { duty: ctx.query['duty'] } : {}),
      });
      const items = found.filter(
        (s) =>
          (active === undefined || s.active === active) &&
          authorize(ctx.principal, 'staff.list', { settings: s.settings }).allowed,
      );
      return { body: pageInMemory(items, (s) => [s.name, s.staffId], { ...pageOf(ctx.query), keyLength: 2 }) };
    },
  },
  {
    method: 'post',
    path: '/staff',
    operationId: 'putStaff',
    summary:
      'Add a member of staff, or update the one with the same subject (201 added, 200 updated); ' +
      'every setting they work in, before and after, must be one of yours',
    tag: 'directory',
    action: 'staff.change',
    patientData: false,
    body: 'StaffRequest',
    success: { status: 201, schema: 'StaffMember', description: 'the member of staff as the directory now holds them' },
    async handle(ctx) {
      requireRole(ctx.principal, 'staff.change');
      const email = ctx.body['email'] as string;
      const subject = (ctx.body['subject'] as string | undefined)?.trim() || `mailto:${email.trim().toLowerCase()}`;
      const settings = [...new Set((ctx.body['settings'] as string[]).map((s) => s.toUpperCase()))];
      const outside = settings.filter((code) => !ctx.principal.settings.includes(code));
      if (outside.length)
        throw new ThroughcareError(
          'FORBIDDEN',
          `You may not give anyone settings you do not work in (${outside.join(', ')})`,
        );
      const [existing] = await listStaff(ctx.engine.store, { subject });
      const decision = authorize(ctx.principal, 'staff.change', {
        settings: [...new Set([...settings, ...(existing?.settings ?? [])])],
      });
      // Their other settings are not named: the admin does not work there.
      if (!decision.allowed)
        throw new ThroughcareError(
          'FORBIDDEN',
          decision.denied === 'role'
            ? decision.reason
            : 'This member of staff also works in settings you do not work in',
        );
      const saved = await addStaff(ctx.engine.store, {
        name: ctx.body['name'] as string,
        email,
        duties: (ctx.body['duties'] as string[] | undefined) ?? [],
        settings,
        ...(ctx.body['roles'] ? { roles: ctx.body['roles'] as string[] } : {}),
        subject,
      });
      await ctx.audit([
        {
          decision,
          action: saved.created ? 'create' : 'update',
          operation: 'staff.change',
          entityType: 'Staff',
          entityId: saved.staffId,
          patientId: null,
          reason:
            `${saved.created ? 'added' : 'updated'}: ` +
            `roles ${saved.roles.join(', ')}; settings ${saved.settings.join(', ')}`,
        },
      ]);
      return { status: saved.created ? 201 : 200, body: saved };
    },
  },
  {
    method: 'post',
    path: '/staff/{staffId}/deactivate',
    operationId: 'deactivateStaff',
    summary: 'Make a member of staff inactive: they can no longer sign in, and receive no notices',
    tag: 'directory',
    action: 'staff.change',
    patientData: false,
    params: staffIdParam,
    body: 'EmptyRequest',
    success: { status: 200, schema: 'StaffMember', description: 'the member of staff, inactive' },
    async handle(ctx) {
      requireRole(ctx.principal, 'staff.change');
      const staffId = ctx.params['staffId']!;
      const [target]: (StaffSummary | undefined)[] = await listStaff(ctx.engine.store, { staffId });
      if (!target) throw new NotFoundError(`No member of staff ${staffId}`);
      // Staff the admin may not change are answered as not found, as records outside one's settings are.
      const decision = decide(
        ctx.principal,
        'staff.change',
        { settings: target.settings },
        `No member of staff ${staffId} in the settings you work in`,
      );
      if (staffId === ctx.principal.staffId)
        throw new ConflictError('You cannot deactivate yourself: ask another administrator');
      const deactivated = await deactivateStaff(ctx.engine.store, staffId);
      await ctx.audit([
        {
          decision,
          action: 'update',
          operation: 'staff.change',
          entityType: 'Staff',
          entityId: staffId,
          patientId: null,
          reason: 'deactivated',
        },
      ]);
      return { body: deactivated };
    },
  },
];
