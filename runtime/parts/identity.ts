/**
 * The identity part of `throughcare up`: who signs people in, and how `/api/v1` checks their bearer tokens.
 * - OIDC_ISSUER_URL set: that issuer (keys through its discovery document); nothing runs here.
 * - Else with NODE_ENV=development: the development issuer at `/dev-oidc` on the same HTTP server, its
 *   accounts the active staff, its keys kept in DATA_DIR/dev-oidc.
 * - Else (NODE_ENV=test; production requires OIDC_ISSUER_URL): no issuer, and `/api/v1` answers 503 saying so.
 * The browser sign-in (`/sign-in`, a session cookie) runs with the development issuer's client `throughcare-web`,
 * or with OIDC_CLIENT_ID at OIDC_ISSUER_URL; `/api/v1` then accepts that session as well as bearer tokens.
 */
import type { RequestHandler } from 'express';
import {
  createBearerAuth,
  createSessions,
  devJwks,
  jwksFromIssuer,
  loadOrCreateDevKeys,
  loadOrCreateSessionSecret,
  sessionOrBearer,
  type ApiDependencies,
} from '../../api';
import type * as BrowserSignInModule from '../../api/auth/browser-sign-in';
import type * as DevIssuerModule from '../../api/auth/dev-issuer';
import type { Config } from '../../config';
import { DependencyUnavailableError } from '../../domain/errors';
import type { Logger } from '../../log';
import type { Store } from '../../store';
import type { StartedPart } from '../part';

export type StartedIdentity = StartedPart & ApiDependencies;

/** Whether `up` will have an identity provider (then `/ready` shows it as a part). */
export function hasIdentityProvider(config: Config): boolean {
  return config.oidc.issuerUrl !== undefined || config.nodeEnv === 'development';
}

export async function startIdentity(
  config: Config,
  deps: { store: Store; httpUrl: string; databaseUrl: string },
  logger: Logger,
): Promise<StartedIdentity> {
  const log = logger.child({ component: 'identity' });
  const claims = { rolesClaim: config.oidc.rolesClaim, settingsClaim: config.oidc.settingsClaim };
  const none = { stop: () => Promise.resolve() };
  if (config.oidc.issuerUrl) {
    if (config.nodeEnv === 'development')
      log.info('OIDC_ISSUER_URL is set: the development issuer is not started, tokens come from that issuer');
    const bearer = createBearerAuth({
      issuer: config.oidc.issuerUrl,
      audience: config.oidc.audience,
      jwks: jwksFromIssuer(config.oidc.issuerUrl),
      store: deps.store,
      ...claims,
    });
    if (!config.oidc.clientId) {
      log.info('OIDC_CLIENT_ID is unset: no browser sign-in, /api/v1 takes bearer tokens only');
      return { ...none, store: deps.store, location: `OIDC issuer ${config.oidc.issuerUrl}`, authenticate: bearer };
    }
    const browser = await startBrowserSignIn(config, deps, logger, {
      issuer: config.oidc.issuerUrl,
      clientId: config.oidc.clientId,
      ...(config.oidc.clientSecret ? { clientSecret: config.oidc.clientSecret } : {}),
      baseUrl: config.publicUrl ?? deps.httpUrl,
    });
    return {
      stop: () => browser.close(),
      store: deps.store,
      location: `OIDC issuer ${config.oidc.issuerUrl} (browser sign-in at ${browser.signInUrl})`,
      authenticate: sessionOrBearer(bearer, browser.sessions),
      browser,
    };
  }
  if (config.nodeEnv !== 'development') {
    const why =
      config.nodeEnv === 'production'
        ? 'the development issuer is refused with NODE_ENV=production'
        : `the development issuer runs only with NODE_ENV=development (this is ${config.nodeEnv})`;
    log.warn(`no identity provider: /api/v1 refuses every request; set OIDC_ISSUER_URL (${why})`);
    const refuse: RequestHandler = (_req, _res, next) =>
      next(new DependencyUnavailableError(`No sign-in service is configured: set OIDC_ISSUER_URL (${why})`));
    return { ...none, store: deps.store, location: 'no identity provider', authenticate: refuse };
  }
  const keys = await loadOrCreateDevKeys(config.dataDir);
  // Required here, not imported: oidc-provider is loaded only by a process that runs the development issuer.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createDevIssuer, DEV_WEB_CLIENT_ID } = require('../../api/auth/dev-issuer') as typeof DevIssuerModule;
  const devIssuer = createDevIssuer({
    httpUrl: deps.httpUrl,
    audience: config.oidc.audience,
    keys,
    store: deps.store,
    logger,
  });
  // The development issuer registers `<httpUrl>/auth/callback` for throughcare-web: the callback is on httpUrl.
  const browser = await startBrowserSignIn(config, deps, logger, {
    issuer: devIssuer.issuer,
    clientId: DEV_WEB_CLIENT_ID,
    baseUrl: deps.httpUrl,
    allowHttpIssuer: true,
  });
  const bearer = createBearerAuth({
    issuer: devIssuer.issuer,
    audience: config.oidc.audience,
    jwks: devJwks(keys),
    store: deps.store,
    ...claims,
  });
  return {
    stop: () => browser.close(),
    store: deps.store,
    location: `development OIDC issuer at ${devIssuer.issuer} (throughcare dev-token --list shows its demo users; browser sign-in at ${browser.signInUrl})`,
    authenticate: sessionOrBearer(bearer, browser.sessions),
    devIssuer: devIssuer.handler,
    browser,
  };
}

type BrowserSignInPart = BrowserSignInModule.BrowserSignIn & { readonly sessions: ReturnType<typeof createSessions> };

/** The session store and the browser sign-in routes for one issuer and client. */
async function startBrowserSignIn(
  config: Config,
  deps: { store: Store; databaseUrl: string },
  logger: Logger,
  client: Pick<
    BrowserSignInModule.BrowserSignInOptions,
    'issuer' | 'clientId' | 'clientSecret' | 'baseUrl' | 'allowHttpIssuer'
  >,
): Promise<BrowserSignInPart> {
  // Production requires SESSION_SECRET with a browser client (config/index.ts); elsewhere one is kept in DATA_DIR.
  const secret = config.session.secret ?? (await loadOrCreateSessionSecret(config.dataDir));
  const sessions = createSessions({
    databaseUrl: deps.databaseUrl,
    secret,
    idleTimeoutSeconds: config.session.idleTimeoutSeconds,
    maxLifetimeSeconds: config.session.maxLifetimeSeconds,
    behindTls: (config.publicUrl ?? client.baseUrl).startsWith('https:'),
    logger,
  });
  // Required here, not imported: openid-client (an ES module) is loaded only by a process that signs browsers in.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createBrowserSignIn } = require('../../api/auth/browser-sign-in') as typeof BrowserSignInModule;
  const browser = createBrowserSignIn({
    ...client,
    store: deps.store,
    claims: { rolesClaim: config.oidc.rolesClaim, settingsClaim: config.oidc.settingsClaim },
    sessions,
    logger,
  });
  return { ...browser, sessions };
}
