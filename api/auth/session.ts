/**
 * Browser sessions: express-session with its records in PostgreSQL (connect-pg-simple, table `web_sessions`), so
 * a signed-in person stays signed in across a restart and across API processes. The cookie holds only the signed
 * session id: httpOnly, SameSite=Lax, Secure when the request came over TLS. A session ends after
 * SESSION_IDLE_TIMEOUT without a request (the cookie and the record expire, renewed at each request) and
 * SESSION_MAX_LIFETIME after sign-in however active it is. Form posts carry a synchronizer CSRF token (csrf-sync)
 * kept in the session.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import connectPgSimple from 'connect-pg-simple';
import { csrfSync } from 'csrf-sync';
import type { Request, RequestHandler } from 'express';
import session from 'express-session';
import { Pool } from 'pg';
import { ThroughcareError } from '../../domain/errors';
import type { Logger } from '../../log';
import type { Principal } from './principal';
import type { VerifiedClaims } from './staff-directory';

export const SESSION_COOKIE = 'throughcare.sid';
export const SESSION_TABLE = 'web_sessions';
/** The form field and the header a CSRF token travels in. */
export const CSRF_FIELD = '_csrf';
export const CSRF_HEADER = 'x-csrf-token';

/** A sign-in this browser started at `/sign-in` and the callback must match. */
export interface PendingSignIn {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  readonly returnTo: string;
}

/** A person signed in by the browser flow. */
export interface SignedInSession {
  /** The verified ID token's subject and the role and setting claims, mapped again at each request. */
  readonly claims: VerifiedClaims;
  /** Epoch milliseconds of the sign-in, for the absolute lifetime. */
  readonly signedInAt: number;
  /** The issuer's tokens: server-side only, never sent to the browser. */
  readonly tokens: { readonly idToken?: string; readonly accessToken: string; readonly refreshToken?: string };
}

declare module 'express-session' {
  interface SessionData {
    signIn?: PendingSignIn;
    signedIn?: SignedInSession;
    /** The setting a person who works in several has said they are working in now (web/setting.ts). */
    workingSetting?: string;
  }
}

/** How this request's principal was established: `session` when by the session cookie, not a bearer token. */
export interface SessionLocals {
  principal?: Principal;
  signedInWith?: 'session';
}

export interface SessionOptions {
  readonly databaseUrl: string;
  /** Signs the cookie (SESSION_SECRET, or the one kept in DATA_DIR). */
  readonly secret: string;
  readonly idleTimeoutSeconds: number;
  readonly maxLifetimeSeconds: number;
  /**
   * True when PUBLIC_URL is https: the cookie is always Secure and express-session trusts X-Forwarded-Proto from
   * the proxy in front. Otherwise Secure follows the request (`trust proxy` is set for loopback).
   */
  readonly behindTls: boolean;
  readonly logger: Logger;
}

export interface Sessions {
  readonly middleware: RequestHandler;
  readonly maxLifetimeMs: number;
  /** A CSRF token for the session, made on first use; the same until sign-in or sign-out. */
  csrfToken(req: Request): string;
  /** Passes on when the request carries the session's CSRF token (form field or header), else a 403 problem. */
  readonly requireCsrf: RequestHandler;
  close(): Promise<void>;
}

export function createSessions(options: SessionOptions): Sessions {
  const log = options.logger.child({ component: 'sessions' });
  const pool = new Pool({ connectionString: options.databaseUrl, max: 4 });
  // An idle client whose server goes away emits 'error'; unhandled, that would end the process.
  pool.on('error', (error) => log.warn({ err: error }, 'session store connection lost'));
  const PgStore = connectPgSimple(session);
  const store = new PgStore({
    pool,
    tableName: SESSION_TABLE,
    // The table comes from a migration (20261207092000), not created at run time.
    createTableIfMissing: false,
    pruneSessionInterval: 15 * 60,
    errorLog: (...args: unknown[]) => log.warn({ detail: args.map(String).join(' ') }, 'session store error'),
  });
  const middleware = session({
    name: SESSION_COOKIE,
    secret: options.secret,
    store,
    resave: false,
    // No record (and no cookie) until there is something to keep: a sign-in started.
    saveUninitialized: false,
    // Each response renews the cookie and the record's expiry: the idle timeout counts from the last request.
    rolling: true,
    ...(options.behindTls ? { proxy: true } : {}),
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: options.behindTls ? true : 'auto',
      maxAge: options.idleTimeoutSeconds * 1000,
      path: '/',
    },
  });
  const csrf = csrfSync({
    size: 32,
    getTokenFromRequest: (req) => {
      const field = (req.body as Record<string, unknown> | undefined)?.[CSRF_FIELD];
      return typeof field === 'string' ? field : req.get(CSRF_HEADER);
    },
  });
  return {
    middleware,
    maxLifetimeMs: options.maxLifetimeSeconds * 1000,
    csrfToken: (req) => csrf.generateToken(req),
    requireCsrf: (req, _res, next) => {
      if (req.session && csrf.isRequestValid(req)) return next();
      next(
        new ThroughcareError(
          'FORBIDDEN',
          'This request carries no valid CSRF token (the form is out of date or was not sent by Throughcare): reload the page and try again',
        ),
      );
    },
    close: async () => {
      // Stops its pruning timer; the pool is ours to end.
      store.close();
      await pool.end();
    },
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Sign-in for /api/v1. A request with an `Authorization` header is a bearer request, checked by `bearer` alone,
 * and needs no CSRF token (a browser never adds that header on its own). Without one, a browser signed in by its
 * session cookie is accepted too, so the web pages' scripts call the API with no token in reach of JavaScript;
 * since a browser sends the cookie with requests another site makes it send, its unsafe methods must carry the
 * session's CSRF token in `X-CSRF-Token` (SameSite=Lax already keeps the cookie off other sites' posts; this is
 * the second lock). Anything else goes to `bearer`, which answers 401.
 */
export function sessionOrBearer(bearer: RequestHandler, sessions: Sessions): RequestHandler {
  return (req, res, next) => {
    const locals = res.locals as SessionLocals;
    if (req.get('authorization') !== undefined || locals.signedInWith !== 'session') {
      // The bearer token decides alone, whatever cookie came with it.
      delete locals.principal;
      delete locals.signedInWith;
      void bearer(req, res, next);
    } else if (SAFE_METHODS.has(req.method)) next();
    else void sessions.requireCsrf(req, res, next);
  };
}

export function sessionSecretFile(dataDir: string): string {
  return path.join(dataDir, 'session', 'secret');
}

/**
 * The cookie-signing secret outside production when SESSION_SECRET is unset: made once and kept in
 * DATA_DIR/session/secret (readable by its owner only), so sessions survive a restart, as the development
 * issuer's keys do.
 */
export async function loadOrCreateSessionSecret(dataDir: string): Promise<string> {
  const file = sessionSecretFile(dataDir);
  const kept = await readSecret(file);
  if (kept) return kept;
  const secret = randomBytes(32).toString('base64url');
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    // `wx`: when two processes make one at once, the first kept wins and the other reads it.
    await fs.writeFile(file, secret, { flag: 'wx', mode: 0o600 });
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const winner = await readSecret(file);
    if (!winner) throw new Error(`${file} is empty; remove it to make a new session secret`);
    return winner;
  }
}

async function readSecret(file: string): Promise<string | undefined> {
  try {
    return (await fs.readFile(file, 'utf8')).trim() || undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Promise forms of express-session's callback methods. */
export function regenerateSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) =>
    req.session.regenerate((error) => (error ? reject(error as Error) : resolve())),
  );
}

export function saveSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.save((error) => (error ? reject(error as Error) : resolve())));
}

export function destroySession(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.destroy((error) => (error ? reject(error as Error) : resolve())));
}
