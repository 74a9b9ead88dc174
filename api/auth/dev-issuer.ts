/**
 * The development OpenID Connect issuer, mounted by `throughcare up` at `/dev-oidc` when NODE_ENV=development
 * and OIDC_ISSUER_URL is unset: a real provider (oidc-provider, certified) so that the API, the browser
 * sign-in and scripts meet real OIDC from the first `npm start`, with no account to set up anywhere.
 *
 * - Its accounts are the active staff of the directory (`throughcare staff list`); the sign-in page lists
 *   them, and a click signs in as one. There are no passwords: it is for development only.
 * - Access tokens are JWTs for the API (resource `urn:throughcare:api`, audience OIDC_AUDIENCE) carrying
 *   `roles` and `settings` claims from the directory.
 * - The client `throughcare-web` (public, authorization code with PKCE S256) is registered for the browser.
 * - Keys are kept in `DATA_DIR/dev-oidc/keys.json` (dev-keys.ts), so tokens survive a restart.
 *
 * Loading this file loads oidc-provider (an ES module, through require): `throughcare up` requires it only
 * when it runs the development issuer.
 */
import express, { Router, type RequestHandler } from 'express';
import Provider, {
  errors as oidcErrors,
  type Adapter,
  type AdapterPayload,
  type Configuration,
  type KoaContextWithOIDC,
} from 'oidc-provider';
import { listStaff, type StaffSummary } from '../../engine';
import type { Logger } from '../../log';
import type { Store } from '../../store';
import { DEV_API_RESOURCE, DEV_API_SCOPE, DEV_ISSUER_PATH, type DevKeys } from './dev-keys';
import { isRole } from './principal';

export const DEV_WEB_CLIENT_ID = 'throughcare-web';

export interface DevIssuerOptions {
  /** Where `throughcare up` listens, e.g. `http://localhost:3000`; the issuer is `<httpUrl>/dev-oidc`. */
  readonly httpUrl: string;
  /** The `aud` of access tokens for the API (OIDC_AUDIENCE). */
  readonly audience: string;
  readonly keys: DevKeys;
  readonly store: Store;
  readonly logger: Logger;
  /** Access token lifetime in seconds; default one hour. */
  readonly accessTokenTtl?: number;
}

export interface DevIssuer {
  readonly issuer: string;
  /** Mount at `/dev-oidc` (before any body parser: the provider reads its own bodies). */
  readonly handler: RequestHandler;
}

export function createDevIssuer(options: DevIssuerOptions): DevIssuer {
  const base = options.httpUrl.replace(/\/+$/, '');
  const issuer = `${base}${DEV_ISSUER_PATH}`;
  const accessTokenTtl = options.accessTokenTtl ?? 3600;
  const activeStaff = async (subject: string): Promise<StaffSummary | undefined> =>
    (await listStaff(options.store, { subject, activeOnly: true }))[0];

  const configuration: Configuration = {
    adapter: memoryAdapter(),
    clients: [
      {
        client_id: DEV_WEB_CLIENT_ID,
        client_name: 'Throughcare',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [`${base}/auth/callback`],
        post_logout_redirect_uris: [`${base}/`],
      },
    ],
    // The authorization code flow only (with PKCE); no implicit or hybrid responses.
    responseTypes: ['code'],
    pkce: { required: () => true, methods: ['S256'] },
    jwks: { keys: options.keys.signing },
    cookies: { keys: options.keys.cookieKeys },
    scopes: ['openid', 'offline_access', 'profile', 'email', 'throughcare'],
    claims: { openid: ['sub'], profile: ['name'], email: ['email'], throughcare: ['roles', 'settings'] },
    async findAccount(_ctx, subject) {
      const staff = await activeStaff(subject);
      if (!staff) return undefined;
      return {
        accountId: staff.subject,
        claims: () => ({
          sub: staff.subject,
          name: staff.name,
          ...(staff.email ? { email: staff.email } : {}),
          roles: staff.roles.filter(isRole),
          settings: staff.settings,
        }),
      };
    },
    async extraTokenClaims(_ctx, token) {
      const accountId = (token as { accountId?: string }).accountId;
      if (!accountId) return undefined;
      const staff = await activeStaff(accountId);
      if (!staff) return undefined;
      return { name: staff.name, roles: staff.roles.filter(isRole), settings: staff.settings };
    },
    // Throughcare's own client: what it asks for is granted without a consent screen.
    async loadExistingGrant(ctx) {
      const oidc = ctx.oidc;
      const grantId = oidc.result?.consent?.grantId ?? oidc.session!.grantIdFor(oidc.client!.clientId);
      if (grantId) return oidc.provider.Grant.find(grantId);
      const grant = new oidc.provider.Grant({ clientId: oidc.client!.clientId, accountId: oidc.session!.accountId });
      grant.addOIDCScope('openid offline_access profile email throughcare');
      grant.addResourceScope(DEV_API_RESOURCE, DEV_API_SCOPE);
      await grant.save();
      return grant;
    },
    features: {
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => DEV_API_RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => {
          if (resource !== DEV_API_RESOURCE) throw new oidcErrors.InvalidTarget();
          return {
            scope: DEV_API_SCOPE,
            audience: options.audience,
            accessTokenFormat: 'jwt',
            accessTokenTTL: accessTokenTtl,
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => {
          ctx.body = page(
            'Sign out',
            `<p>Sign out of the development issuer?</p>${form}
            <button form="op.logoutForm" name="logout" value="yes">Sign out</button>`,
          );
        },
        postLogoutSuccessSource: (ctx) => {
          ctx.body = page('Signed out', '<p>You are signed out of the development issuer.</p>');
        },
      },
    },
    interactions: { url: (_ctx, interaction) => `${DEV_ISSUER_PATH}/interaction/${interaction.uid}` },
    clientBasedCORS: () => false,
    ttl: {
      AccessToken: accessTokenTtl,
      AuthorizationCode: 60,
      ClientCredentials: 600,
      IdToken: 3600,
      Interaction: 3600,
      RefreshToken: 14 * 24 * 3600,
      Session: 14 * 24 * 3600,
      Grant: 14 * 24 * 3600,
    },
    renderError: (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page(
        'Sign-in error',
        `<p>${escapeHtml(String(out.error))}: ${escapeHtml(String(out.error_description ?? ''))}</p>`,
      );
    },
  };

  const provider = new Provider(issuer, configuration);
  const log = options.logger.child({ component: 'dev-oidc' });
  provider.on('server_error', (_ctx: KoaContextWithOIDC, error: Error) =>
    log.error({ err: error }, 'development issuer error'),
  );

  const router = Router();
  router.get('/interaction/:uid', async (req, res, next) => {
    try {
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name !== 'login') {
        // Consent is granted by loadExistingGrant; this is reached only for an unusual request.
        const grant = new provider.Grant({
          clientId: details.params.client_id as string,
          accountId: details.session?.accountId,
        });
        grant.addOIDCScope('openid offline_access profile email throughcare');
        grant.addResourceScope(DEV_API_RESOURCE, DEV_API_SCOPE);
        const grantId = await grant.save();
        await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
        return;
      }
      const staff = await listStaff(options.store, { activeOnly: true });
      res.type('html').send(signInPage(details.uid, staff));
    } catch (error) {
      next(error);
    }
  });
  router.post(
    '/interaction/:uid/login',
    express.urlencoded({ extended: false, limit: '4kb' }),
    async (req, res, next) => {
      try {
        const details = await provider.interactionDetails(req, res);
        const subject = (req.body as { subject?: unknown } | undefined)?.subject;
        const staff = typeof subject === 'string' ? await activeStaff(subject) : undefined;
        if (details.uid !== req.params.uid || !staff) {
          res.status(400).type('html').send(page('Sign in', '<p>Choose someone from the list.</p>'));
          return;
        }
        log.info({ staffId: staff.staffId }, 'signed in at the development issuer');
        await provider.interactionFinished(
          req,
          res,
          { login: { accountId: staff.subject } },
          { mergeWithLastSubmission: false },
        );
      } catch (error) {
        next(error);
      }
    },
  );
  router.get('/interaction/:uid/abort', async (req, res, next) => {
    try {
      await provider.interactionFinished(
        req,
        res,
        { error: 'access_denied', error_description: 'Sign-in was cancelled' },
        { mergeWithLastSubmission: false },
      );
    } catch (error) {
      next(error);
    }
  });
  const callback = provider.callback();
  router.use((req, res) => {
    void callback(req, res);
  });
  return { issuer, handler: router };
}

function signInPage(uid: string, staff: readonly StaffSummary[]): string {
  const rows = staff
    .map(
      (s) => `<li><form method="post" action="${DEV_ISSUER_PATH}/interaction/${escapeHtml(uid)}/login">
        <input type="hidden" name="subject" value="${escapeHtml(s.subject)}">
        <button type="submit">${escapeHtml(s.name)}</button>
        <span>${escapeHtml(s.roles.join(', ') || 'no role')} · ${escapeHtml(s.settings.join(', '))}</span>
      </form></li>`,
    )
    .join('\n');
  return page(
    'Sign in (development)',
    `<p>This is Throughcare’s development sign-in: choose who to be. Each person is a member of the staff
    directory (<code>throughcare staff list</code>); their roles and settings come from there.</p>
    <ul class="people">${rows || '<li>No active staff: add someone with <code>throughcare staff add</code>.</li>'}</ul>
    <p><a href="${DEV_ISSUER_PATH}/interaction/${escapeHtml(uid)}/abort">Cancel</a></p>`,
  );
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} – Throughcare</title>
<style>
  body { font-family: Arial, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #212b32; }
  h1 { font-size: 1.75rem; } ul.people { list-style: none; padding: 0; }
  ul.people li { margin: 0 0 .75rem; } ul.people span { color: #4c6272; margin-left: .5rem; }
  button { font-size: 1rem; padding: .5rem 1rem; background: #007f3b; color: #fff; border: 0; border-radius: 4px; cursor: pointer; }
</style></head>
<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The provider's sessions, interactions, codes and grants, in memory (lost at a restart, which only signs
 * browsers out; tokens are JWTs and stay valid). Expired entries are dropped when read.
 */
function memoryAdapter(): (name: string) => Adapter {
  const entries = new Map<string, { payload: AdapterPayload; expiresAt: number | undefined }>();
  const uids = new Map<string, string>();
  const userCodes = new Map<string, string>();
  const grants = new Map<string, Set<string>>();
  return (name) => {
    const key = (id: string) => `${name}:${id}`;
    const read = (k: string | undefined): AdapterPayload | undefined => {
      if (k === undefined) return undefined;
      const entry = entries.get(k);
      if (!entry) return undefined;
      if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
        entries.delete(k);
        return undefined;
      }
      return entry.payload;
    };
    return {
      upsert: (id, payload, expiresIn) => {
        const k = key(id);
        entries.set(k, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined });
        if (payload.uid) uids.set(payload.uid, k);
        if (payload.userCode) userCodes.set(payload.userCode, k);
        if (payload.grantId) {
          const set = grants.get(payload.grantId) ?? new Set<string>();
          grants.set(payload.grantId, set.add(k));
        }
        return Promise.resolve();
      },
      find: (id) => Promise.resolve(read(key(id))),
      findByUid: (uid) => Promise.resolve(read(uids.get(uid))),
      findByUserCode: (userCode) => Promise.resolve(read(userCodes.get(userCode))),
      consume: (id) => {
        const payload = read(key(id));
        if (payload) payload.consumed = Math.floor(Date.now() / 1000);
        return Promise.resolve();
      },
      destroy: (id) => {
        entries.delete(key(id));
        return Promise.resolve();
      },
      revokeByGrantId: (grantId) => {
        for (const k of grants.get(grantId) ?? []) entries.delete(k);
        grants.delete(grantId);
        return Promise.resolve();
      },
    };
  };
}
