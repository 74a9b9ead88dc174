/**
 * Bearer tokens: every request under `/api/v1` carries `Authorization: Bearer <JWT>` from an OpenID Connect
 * issuer (the development issuer at `/dev-oidc`, or `OIDC_ISSUER_URL`). jose verifies the signature against
 * the issuer's keys, the issuer, the audience and the expiry; the staff directory then says who the subject
 * is. The directory is the source of truth: a token can narrow the roles and settings it holds there (the
 * claims intersect them), never widen them, and a member of staff made inactive is refused at once, whatever
 * their token says.
 */
import type { RequestHandler, Response } from 'express';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { DependencyUnavailableError, ThroughcareError } from '../../domain/errors';
import type { Store } from '../../store';
import type { Principal } from './principal';
import { principalForClaims } from './staff-directory';

// Kept here too: callers and tests read the claim rule from the bearer module.
export { stringsAt } from './staff-directory';

export interface BearerAuthOptions {
  /** The `iss` tokens must carry, exactly. */
  readonly issuer: string;
  /** The `aud` tokens must carry (OIDC_AUDIENCE, default `throughcare-api`). */
  readonly audience: string;
  /** The issuer's signing keys: `jwksFromIssuer(issuer)`, or the development issuer's own. */
  readonly jwks: JWTVerifyGetKey;
  readonly store: Store;
  /** Claim with the roles; a dotted path reaches a nested claim (`realm_access.roles`). Default `roles`. */
  readonly rolesClaim?: string;
  /** Claim with the settings' ODS codes. Default `settings`. */
  readonly settingsClaim?: string;
}

/** Asymmetric algorithms only: a token signed with a shared secret or none at all is never accepted. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const REALM = 'throughcare';

/**
 * Express middleware: verifies the bearer token, finds the active member of staff it names, and sets
 * `res.locals.principal`. Answers 401 (with `WWW-Authenticate`) for a missing, malformed, expired or foreign
 * token, 403 for someone the staff directory does not know or has made inactive, 503 when the issuer's keys
 * cannot be fetched.
 */
export function createBearerAuth(options: BearerAuthOptions): RequestHandler {
  const rolesClaim = options.rolesClaim ?? 'roles';
  const settingsClaim = options.settingsClaim ?? 'settings';
  return async (req, res, next) => {
    try {
      const token = bearerToken(req.get('authorization'));
      if (token === undefined) {
        res.setHeader('WWW-Authenticate', `Bearer realm="${REALM}"`);
        throw new ThroughcareError(
          'UNAUTHENTICATED',
          'Send a bearer token (Authorization: Bearer <token>) from the sign-in service',
        );
      }
      const payload = await verify(token, options, res);
      const claims = { ...payload, sub: payload.sub! };
      const principal = await principalForClaims(claims, options.store, { rolesClaim, settingsClaim });
      (res.locals as { principal?: Principal }).principal = principal;
      next();
    } catch (error) {
      next(error);
    }
  };
}

function bearerToken(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i);
  return match?.[1];
}

async function verify(token: string, options: BearerAuthOptions, res: Response): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(token, options.jwks, {
      issuer: options.issuer,
      audience: options.audience,
      algorithms: ALGORITHMS,
      requiredClaims: ['sub', 'exp'],
      clockTolerance: 5,
    });
    return payload;
  } catch (error) {
    if (
      !(error instanceof errors.JOSEError) ||
      error instanceof errors.JWKSTimeout ||
      error instanceof errors.JWKSInvalid
    )
      throw keysUnavailable(error);
    const detail = invalidTokenDetail(error);
    res.setHeader('WWW-Authenticate', `Bearer realm="${REALM}", error="invalid_token", error_description="${detail}"`);
    throw new ThroughcareError('UNAUTHENTICATED', detail);
  }
}

function keysUnavailable(error: unknown): ThroughcareError {
  if (error instanceof ThroughcareError) return error;
  return new DependencyUnavailableError('The sign-in service’s keys could not be fetched to check the token', {
    cause: error,
  });
}

/** Why a token was refused, in words safe to send back (never the token's content). */
function invalidTokenDetail(error: errors.JOSEError): string {
  if (error instanceof errors.JWTExpired) return 'The bearer token has expired; get a new one';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return 'The bearer token is not for this API (wrong audience)';
    if (error.claim === 'iss') return 'The bearer token is from another issuer';
    if (error.claim === 'nbf') return 'The bearer token is not valid yet';
    return `The bearer token's ${error.claim} claim is missing or invalid`;
  }
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWSSignatureVerificationFailed)
    return 'The bearer token is not signed by the sign-in service';
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported)
    return 'The bearer token is signed with an algorithm this API does not accept';
  return 'The bearer token is malformed';
}

/**
 * The signing keys of an OpenID Connect issuer: its discovery document (`/.well-known/openid-configuration`)
 * names its `jwks_uri`, whose keys jose fetches and caches (and fetches again for a key id it has not seen,
 * so the issuer can rotate keys). Discovery happens at the first token, and again after a failure.
 */
export function jwksFromIssuer(issuerUrl: string, options: { timeoutMs?: number } = {}): JWTVerifyGetKey {
  const timeoutMs = options.timeoutMs ?? 5_000;
  let keys: Promise<JWTVerifyGetKey> | undefined;
  const discover = async (): Promise<JWTVerifyGetKey> => {
    const location = `${issuerUrl.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    let document: { issuer?: unknown; jwks_uri?: unknown };
    try {
      const response = await fetch(location, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!response.ok) throw new Error(`it answered ${response.status}`);
      document = (await response.json()) as typeof document;
    } catch (cause) {
      throw new DependencyUnavailableError(
        `The sign-in service’s discovery document ${location} could not be read: ${(cause as Error).message}`,
        { cause },
      );
    }
    if (typeof document.issuer !== 'string' || document.issuer.replace(/\/+$/, '') !== issuerUrl.replace(/\/+$/, ''))
      throw new DependencyUnavailableError(
        `The discovery document at ${location} names another issuer (${String(document.issuer)}): check OIDC_ISSUER_URL`,
      );
    if (typeof document.jwks_uri !== 'string')
      throw new DependencyUnavailableError(`The discovery document at ${location} has no jwks_uri`);
    return createRemoteJWKSet(new URL(document.jwks_uri), { timeoutDuration: timeoutMs });
  };
  return async (header, token) => {
    keys ??= discover().catch((error: unknown) => {
      keys = undefined;
      throw error;
    });
    return (await keys)(header, token);
  };
}
