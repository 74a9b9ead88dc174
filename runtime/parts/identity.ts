/**
 * The identity part of `throughcare up`: who signs people in, and how `/api/v1` checks their bearer tokens.
 * - OIDC_ISSUER_URL set: that issuer (keys through its discovery document); nothing runs here.
 * - Else with NODE_ENV=development: the development issuer at `/dev-oidc` on the same HTTP server, its
 *   accounts the active staff, its keys kept in DATA_DIR/dev-oidc.
 * - Else (NODE_ENV=test; production requires OIDC_ISSUER_URL): no issuer, and `/api/v1` answers 503 saying so.
 */
import type { RequestHandler } from 'express';
import { createBearerAuth, devJwks, jwksFromIssuer, loadOrCreateDevKeys, type ApiDependencies } from '../../api';
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
  deps: { store: Store; httpUrl: string },
  logger: Logger,
): Promise<StartedIdentity> {
  const log = logger.child({ component: 'identity' });
  const claims = { rolesClaim: config.oidc.rolesClaim, settingsClaim: config.oidc.settingsClaim };
  const none = { stop: () => Promise.resolve() };
  if (config.oidc.issuerUrl) {
    if (config.nodeEnv === 'development')
      log.info('OIDC_ISSUER_URL is set: the development issuer is not started, tokens come from that issuer');
    return {
      ...none,
      store: deps.store,
      location: `OIDC issuer ${config.oidc.issuerUrl}`,
      authenticate: createBearerAuth({
        issuer: config.oidc.issuerUrl,
        audience: config.oidc.audience,
        jwks: jwksFromIssuer(config.oidc.issuerUrl),
        store: deps.store,
        ...claims,
      }),
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
  const { createDevIssuer } = require('../../api/auth/dev-issuer') as typeof DevIssuerModule;
  const devIssuer = createDevIssuer({
    httpUrl: deps.httpUrl,
    audience: config.oidc.audience,
    keys,
    store: deps.store,
    logger,
  });
  return {
    ...none,
    store: deps.store,
    location: `development OIDC issuer at ${devIssuer.issuer} (throughcare dev-token --list shows its demo users)`,
    authenticate: createBearerAuth({
      issuer: devIssuer.issuer,
      audience: config.oidc.audience,
      jwks: devJwks(keys),
      store: deps.store,
      ...claims,
    }),
    devIssuer: devIssuer.handler,
  };
}
