/**
 * The browser sign-in: OpenID Connect authorization code flow with PKCE (S256), done by openid-client, with a
 * server-side session (session.ts). The person is mapped to the staff directory exactly as a bearer token is
 * (staff-directory.ts), at sign-in and again at every request, so a member of staff made inactive is signed out
 * at once.
 *
 * - `GET /sign-in[?returnTo=/path]` keeps state, nonce and the PKCE verifier in the session and sends the browser
 *   to the issuer.
 * - `GET /auth/callback` exchanges the code, verifies the ID token (signature, issuer, audience, nonce), checks
 *   the staff directory, starts a new session id (no session fixation) holding the claims and the tokens, and
 *   returns to `returnTo`.
 * - `POST /sign-out` (CSRF token required) ends the session and, when the issuer has an end_session_endpoint,
 *   signs out there too.
 * - `GET /` says who is signed in, with the sign-out form; the worklist's pages replace it.
 *
 * Loading this file loads openid-client (an ES module, through require): `throughcare up` requires it only when
 * it runs a browser sign-in, so the app and its tests load without it.
 */
import express, { Router, type Request, type RequestHandler } from 'express';
import * as oidc from 'openid-client';
import { DependencyUnavailableError, ThroughcareError } from '../../domain/errors';
import type { Logger } from '../../log';
import type { Store } from '../../store';
import { sameOriginReturnTo } from './return-to';
import {
  destroySession,
  regenerateSession,
  saveSession,
  SESSION_COOKIE,
  type SessionLocals,
  type Sessions,
  type SignedInSession,
} from './session';
import { claimsToKeep, principalForClaims, type ClaimNames } from './staff-directory';

import { CALLBACK_PATH, SIGN_IN_PATH, SIGN_OUT_PATH } from './paths';

export { CALLBACK_PATH, SIGN_IN_PATH, SIGN_OUT_PATH };
const SCOPE = 'openid profile email';

export interface BrowserSignInOptions {
  /** The OpenID Connect issuer, exactly as its discovery document names itself. */
  readonly issuer: string;
  readonly clientId: string;
  /** Unset for a public client (PKCE alone), as the development issuer's `throughcare-web` is. */
  readonly clientSecret?: string;
  /** Where people reach Throughcare (PUBLIC_URL, or the server's own address): the callback is under it. */
  readonly baseUrl: string;
  /** Lets openid-client talk to an http:// issuer: the development issuer only. */
  readonly allowHttpIssuer?: boolean;
  readonly store: Store;
  readonly claims: ClaimNames;
  readonly sessions: Sessions;
  readonly logger: Logger;
}

export interface BrowserSignIn {
  /** The session and the principal it carries (`res.locals.principal`): before the web pages and /api/v1. */
  readonly session: RequestHandler;
  /** `/sign-in`, `/auth/callback` and `/sign-out` (the pages, `/` included, are web/'s). */
  readonly routes: RequestHandler;
  /** The session's synchronizer token, for a form that posts. */
  csrfToken(req: Request): string;
  /** Refuses (403) a post without the session's token: before every page's form handler. */
  readonly requireCsrf: RequestHandler;
  readonly signInUrl: string;
  close(): Promise<void>;
}

export function createBrowserSignIn(options: BrowserSignInOptions): BrowserSignIn {
  const log = options.logger.child({ component: 'browser-sign-in' });
  const base = options.baseUrl.replace(/\/+$/, '');
  const redirectUri = `${base}${CALLBACK_PATH}`;
  const { sessions, store, claims: names } = options;

  // Discovery at the first sign-in, not at start-up, so an issuer that is down does not stop Throughcare;
  // a failure is not kept, the next sign-in tries again.
  let discovered: Promise<oidc.Configuration> | undefined;
  const configuration = (): Promise<oidc.Configuration> => {
    discovered ??= discover().catch((error: unknown) => {
      discovered = undefined;
      throw error;
    });
    return discovered;
  };
  const discover = async () => {
    try {
      return await oidc.discovery(
        new URL(options.issuer),
        options.clientId,
        undefined,
        options.clientSecret === undefined ? oidc.None() : oidc.ClientSecretPost(options.clientSecret),
        { timeout: 10, ...(options.allowHttpIssuer ? { execute: [oidc.allowInsecureRequests] } : {}) },
      );
    } catch (cause) {
      log.warn({ err: cause, issuer: options.issuer }, 'sign-in service discovery failed');
      throw new DependencyUnavailableError(`The sign-in service at ${options.issuer} could not be reached`, {
        cause,
      });
    }
  };

  const attachPrincipal: RequestHandler = async (req, res, next) => {
    const signedIn = req.session?.signedIn;
    if (!signedIn) return next();
    try {
      if (Date.now() - signedIn.signedInAt > sessions.maxLifetimeMs) {
        log.info('session reached its maximum lifetime');
        await destroySession(req);
        return next();
      }
      const locals = res.locals as SessionLocals;
      locals.principal = await principalForClaims(signedIn.claims, store, names);
      locals.signedInWith = 'session';
      next();
    } catch (error) {
      // Removed from the directory or made inactive since signing in: the session ends here.
      if (error instanceof ThroughcareError && error.code === 'FORBIDDEN') {
        await destroySession(req).then(next, next);
        return;
      }
      next(error);
    }
  };
  const session = Router();
  session.use(sessions.middleware, attachPrincipal);

  const routes = Router();
  routes.get(SIGN_IN_PATH, async (req, res, next) => {
    try {
      const returnTo = sameOriginReturnTo(req.query.returnTo);
      const config = await configuration();
      const codeVerifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      req.session.signIn = { state, nonce, codeVerifier, returnTo };
      // Kept before the browser leaves: the callback may come back before a late save would finish.
      await saveSession(req);
      const authorization = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: SCOPE,
        code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      res.set('Cache-Control', 'no-store').redirect(303, authorization.href);
    } catch (error) {
      next(error);
    }
  });

  routes.get(CALLBACK_PATH, async (req, res, next) => {
    try {
      const pending = req.session?.signIn;
      if (!pending)
        throw new ThroughcareError(
          'UNAUTHENTICATED',
          `No sign-in was started in this browser, or it has expired: start again at ${SIGN_IN_PATH}`,
        );
      // One use only: a replayed callback finds nothing to match.
      delete req.session.signIn;
      const config = await configuration();
      // The callback as registered with the issuer, with the parameters it sent: never built from the Host header.
      const callbackUrl = new URL(redirectUri);
      callbackUrl.search = new URL(req.originalUrl, base).search;
      let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
      try {
        tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: pending.codeVerifier,
          expectedState: pending.state,
          expectedNonce: pending.nonce,
          idTokenExpected: true,
        });
      } catch (error) {
        throw callbackError(error, log);
      }
      const idClaims = tokens.claims()!;
      const claims = claimsToKeep({ ...idClaims, sub: idClaims.sub }, names);
      const principal = await principalForClaims(claims, store, names);
      // A new session id for the signed-in session: an id planted before sign-in is worth nothing after it.
      await regenerateSession(req);
      const signedIn: SignedInSession = {
        claims,
        signedInAt: Date.now(),
        tokens: {
          accessToken: tokens.access_token,
          ...(tokens.id_token ? { idToken: tokens.id_token } : {}),
          ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
        },
      };
      req.session.signedIn = signedIn;
      await saveSession(req);
      log.info({ staffId: principal.staffId }, 'signed in (browser)');
      res.set('Cache-Control', 'no-store').redirect(303, pending.returnTo);
    } catch (error) {
      next(error);
    }
  });

  routes.post(
    SIGN_OUT_PATH,
    express.urlencoded({ extended: false, limit: '4kb' }),
    sessions.requireCsrf,
    async (req, res, next) => {
      try {
        const idToken = req.session.signedIn?.tokens.idToken;
        await destroySession(req);
        res.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: req.secure });
        res.set('Cache-Control', 'no-store').redirect(303, await endSessionUrl(idToken));
      } catch (error) {
        next(error);
      }
    },
  );
  /** Where to send the browser after sign-out: the issuer's end_session_endpoint when it has one, else home. */
  const endSessionUrl = async (idToken: string | undefined): Promise<string> => {
    if (!idToken) return '/';
    try {
      const config = await configuration();
      if (!config.serverMetadata().end_session_endpoint) return '/';
      return oidc.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: `${base}/` }).href;
    } catch (error) {
      // Signed out of Throughcare already; the issuer's own session ends with its lifetime.
      log.warn({ err: error }, 'could not sign out at the sign-in service');
      return '/';
    }
  };

  return {
    session,
    routes,
    csrfToken: (req) => sessions.csrfToken(req),
    requireCsrf: sessions.requireCsrf,
    signInUrl: `${base}${SIGN_IN_PATH}`,
    close: () => sessions.close(),
  };
}

/** Why the callback failed, in words safe to show; the issuer's own description is logged, not echoed. */
function callbackError(error: unknown, log: Logger): ThroughcareError {
  const again = `start again at ${SIGN_IN_PATH}`;
  if (error instanceof oidc.AuthorizationResponseError) {
    log.info({ error: error.error, description: error.error_description }, 'sign-in refused by the issuer');
    return new ThroughcareError(
      'UNAUTHENTICATED',
      `The sign-in service refused the sign-in (${safeCode(error.error)}): ${again}`,
    );
  }
  if (error instanceof oidc.ResponseBodyError) {
    log.warn({ error: error.error, status: error.status }, 'sign-in code refused by the issuer');
    if (error.status >= 500)
      return new DependencyUnavailableError('The sign-in service failed to complete the sign-in', { cause: error });
    return new ThroughcareError(
      'UNAUTHENTICATED',
      `The sign-in service did not accept the sign-in code (${safeCode(error.error)}): ${again}`,
    );
  }
  if (error instanceof oidc.ClientError) {
    log.warn({ code: error.code, reason: error.message }, 'sign-in response failed verification');
    return new ThroughcareError(
      'UNAUTHENTICATED',
      `The sign-in response does not match the sign-in this browser started (state, nonce or ID token): ${again}`,
    );
  }
  log.warn({ err: error }, 'sign-in service unreachable at the callback');
  return new DependencyUnavailableError('The sign-in service could not be reached to complete the sign-in', {
    cause: error,
  });
}

function safeCode(code: string): string {
  return /^[a-z_]{1,64}$/.test(code) ? code : 'error';
}
