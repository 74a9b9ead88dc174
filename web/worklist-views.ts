/**
 * Saved worklist views on the worklist page: one's own and those colleagues shared with a setting one works in,
 * each a link to the worklist with its filters; saving the filters in use under a name, for oneself or for a
 * setting; deleting one's own. Kept on the server (engine/worklist-views.ts), so they follow the person to any
 * desk. The worklist page lists them (web/worklist.ts, worklist.njk); these are its forms. A problem with a save
 * shows the worklist again, with the NHS error summary linked to the field.
 */
import type { Request } from 'express';
import { sameOriginReturnTo } from '../api/auth/return-to';
import { WORKLIST_VIEW_PARAMETERS, type WorklistView } from '../engine';
import type { PageContext } from './index';
import { call, errorSummaryOf, fieldsOf, problemsOr, type FieldErrors } from './page-helpers';
import { worklistPage } from './worklist';

const NAME = 'view-name';
const SHARE = 'view-share';

/** A view's worklist address. */
const hrefOf = (query: Record<string, string>) => `/worklist?${new URLSearchParams(query).toString()}`;

/** POST /worklist/views: saves the worklist's filters (hidden fields) under a name, then opens the saved view. */
export async function saveWorklistViewPost(ctx: PageContext): Promise<void> {
  const field = fieldsOf(ctx.req.body);
  const query = Object.fromEntries(
    WORKLIST_VIEW_PARAMETERS.map((name) => [name, field(name)] as const).filter(([, value]) => value !== ''),
  );
  const name = field('name');
  const sharedSetting = field('sharedSetting');
  const errors: FieldErrors = {};
  if (name.trim() === '') errors[NAME] = 'Enter a name for this view';
  else {
    // Saving a name again replaces that view (the API's way of updating one); here it is more likely a slip.
    const { items } = (await call(ctx, 'listWorklistViews', {})).body as { items: WorklistView[] };
    if (items.some((v) => v.mine && v.name === name.trim()))
      errors[NAME] = `You already have a view called ‘${name.trim()}’: give this one another name, or delete that one`;
  }
  if (Object.keys(errors).length === 0) {
    const saved = await problemsOr(() =>
      call(ctx, 'saveWorklistView', {
        body: { name, query, ...(sharedSetting ? { sharedSetting } : {}) },
      }),
    );
    if ('ok' in saved) return ctx.redirect(hrefOf(query));
    for (const problem of saved.problems) {
      const id = problem.pointer === '/sharedSetting' || problem.pointer === '/query/patient' ? SHARE : NAME;
      errors[id] ??=
        problem.pointer === '/query/patient'
          ? 'A view shared with a setting cannot hold a patient’s NHS number: keep it to yourself, or remove the NHS number from the filters'
          : problem.pointer === '/sharedSetting'
            ? 'Select a setting you work in, or only you'
            : problem.pointer === '/name'
              ? `Enter a name of 80 characters or fewer`
              : `This view cannot be saved: ${problem.detail}`;
    }
  }
  // The worklist with these filters again, the form as it was sent and what is wrong with it.
  const address = hrefOf(query);
  const req = Object.create(ctx.req, {
    query: { value: query },
    originalUrl: { value: address },
  }) as Request;
  await worklistPage({
    ...ctx,
    req,
    render: (view, values) =>
      ctx.render(
        view,
        {
          ...values,
          saveView: { errors, name, sharedSetting },
          errorSummary: [...((values['errorSummary'] as unknown[] | undefined) ?? []), ...errorSummaryOf(errors)],
        },
        400,
      ),
  });
}

/** POST /worklist/views/:viewId/delete: deletes one of one's own views, then back to the worklist as it was. */
export async function deleteWorklistViewPost(ctx: PageContext): Promise<void> {
  const field = fieldsOf(ctx.req.body);
  await call(ctx, 'deleteWorklistView', { params: { viewId: String(ctx.req.params['viewId']) }, body: {} });
  ctx.redirect(sameOriginReturnTo(field('returnTo') || '/worklist'));
}
