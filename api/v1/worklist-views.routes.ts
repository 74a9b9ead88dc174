/**
 * Saved worklist views: a clinician's named worklist filters, theirs on any desk, and shared with a setting they
 * work in when they choose (engine/worklist-views.ts). Not a person's data, so not audited (`patientData: false`):
 * a view is a query string, not a record, and opening one runs the worklist, which asks the policy and audits as
 * ever. A view holding a patient's NHS number (`patient`) stays its owner's: a shared view may not hold one, so no
 * one's NHS number is broadcast to a setting.
 */
import { ThroughcareError } from '../../domain/errors';
import { deleteWorklistView, listWorklistViews, saveWorklistView } from '../../engine';
import { authorize, type Action } from '../policy';
import { requireRole, type RouteContext, type RouteSpec } from './operation';
import { PARAMETER_SCHEMAS } from './schemas';

/** Asked about the settings the person works in: a role without views, or someone of no setting, is refused (403). */
function allowViews(ctx: RouteContext, action: Action): void {
  requireRole(ctx.principal, action);
  const decision = authorize(ctx.principal, action, { settings: ctx.principal.settings });
  if (!decision.allowed) throw new ThroughcareError('FORBIDDEN', decision.reason);
}

export const WORKLIST_VIEW_ROUTES: readonly RouteSpec[] = [
  {
    method: 'get',
    path: '/worklist-views',
    operationId: 'listWorklistViews',
    summary: 'Your saved worklist views, and those shared with a setting you work in, by name',
    tag: 'tasks',
    action: 'worklist-view.list',
    patientData: false,
    success: { status: 200, schema: 'WorklistViewList', description: 'the views, by name' },
    async handle(ctx) {
      allowViews(ctx, 'worklist-view.list');
      // Views shared with any setting one works in are seen.
      const items = await listWorklistViews(ctx.engine.store, {
        subject: ctx.principal.subject,
        settings: ctx.principal.settings,
      });
      return { body: { items } };
    },
  },
  {
    method: 'post',
    path: '/worklist-views',
    operationId: 'saveWorklistView',
    summary:
      'Save a worklist view of yours (201 new, 200 when it replaced your view of the same name), ' +
      'optionally shared with a setting you work in',
    tag: 'tasks',
    action: 'worklist-view.save',
    patientData: false,
    body: 'SaveWorklistViewRequest',
    success: { status: 201, schema: 'WorklistView', description: 'the view as saved' },
    async handle(ctx) {
      allowViews(ctx, 'worklist-view.save');
      const sharedSetting = ctx.body['sharedSetting'] as string | null | undefined;
      const saved = await saveWorklistView(ctx.engine.store, {
        ownerSubject: ctx.principal.subject,
        ownerName: ctx.principal.name,
        name: ctx.body['name'] as string,
        query: ctx.body['query'] as Record<string, unknown>,
        sharedSetting: sharedSetting ?? null,
      });
      return { status: saved.created ? 201 : 200, body: saved };
    },
  },
  {
    method: 'post',
    path: '/worklist-views/{viewId}/delete',
    operationId: 'deleteWorklistView',
    summary: 'Delete a worklist view of yours (a view shared with you is its owner’s to delete)',
    tag: 'tasks',
    action: 'worklist-view.save',
    patientData: false,
    params: { viewId: PARAMETER_SCHEMAS.uuid },
    body: 'EmptyRequest',
    success: { status: 200, schema: 'WorklistView', description: 'the view as it was' },
    async handle(ctx) {
      allowViews(ctx, 'worklist-view.save');
      const deleted = await deleteWorklistView(ctx.engine.store, {
        id: ctx.params['viewId']!,
        subject: ctx.principal.subject,
      });
      return { body: deleted };
    },
  },
];
