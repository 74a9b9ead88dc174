/**
 * The setting switcher: someone who works in several settings (a prison and the community service) says which
 * one they are working in now, and the pages default to it (the worklist's setting filter, a new case's setting).
 * Kept in their session, so it follows them from page to page and ends when they sign out; it narrows what is
 * shown, never what they may see (the API still scopes by every setting of theirs).
 */
import { promisify } from 'node:util';
import type { Request } from 'express';
import type { Principal } from '../api/auth/principal';
import { sameOriginReturnTo } from '../api/auth/return-to';
import type { PageContext } from './index';
import { fieldsOf } from './page-helpers';

/** The working setting of this session, while it is still one of theirs; else none. */
export function workingSettingOf(req: Request, principal: Principal | undefined): string | undefined {
  const chosen = req.session?.workingSetting;
  return chosen && principal?.settings.includes(chosen) ? chosen : undefined;
}

function showSwitcher(ctx: PageContext, returnTo: string, error?: string): void {
  ctx.render(
    'setting.njk',
    {
      title: 'Choose the setting you are working in',
      returnTo,
      items: [
        { value: '', text: 'All my settings', checked: !ctx.workingSetting },
        ...ctx.principal.settings.map((ods) => ({ value: ods, text: ods, checked: ods === ctx.workingSetting })),
      ],
      csrfToken: ctx.csrfToken,
      error,
      errorSummary: error ? [{ text: error, href: '#setting' }] : undefined,
    },
    error ? 400 : 200,
  );
}

export function settingPage(ctx: PageContext): Promise<void> {
  showSwitcher(ctx, sameOriginReturnTo(fieldsOf(ctx.req.query)('returnTo') || '/worklist'));
  return Promise.resolve();
}

export async function changeSetting(ctx: PageContext): Promise<void> {
  const field = fieldsOf(ctx.req.body);
  const chosen = field('setting');
  const returnTo = sameOriginReturnTo(field('returnTo') || '/worklist');
  if (chosen !== '' && !ctx.principal.settings.includes(chosen)) {
    showSwitcher(ctx, returnTo, 'Choose one of the settings you work in');
    return;
  }
  ctx.req.session.workingSetting = chosen || undefined;
  // Saved before the redirect, so the next page already sees the choice.
  await promisify(ctx.req.session.save.bind(ctx.req.session))();
  ctx.redirect(returnTo);
}
