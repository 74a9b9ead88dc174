/**
 * A mock of the NHS API platform's token endpoint for application-restricted (signed JWT) access:
 * `POST /oauth2/token` with `grant_type=client_credentials` and a client assertion signed RS512 with a `kid`,
 * `iss` = `sub` = the API key, a unique `jti`, `aud` = this endpoint and `exp` at most 5 minutes ahead.
 * Error bodies and wording follow the platform's own tests. Issued tokens are opaque and held in memory.
 */
import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import express, { type Request, type Response, Router } from 'express';
import { decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import { sendOAuthError } from './operation-outcome';

export const TOKEN_PATH = '/oauth2/token';
const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const MAX_ASSERTION_LIFETIME_SECONDS = 300;

export interface RegisteredClient {
  /** The application's API key: the assertion's `iss` and `sub`. */
  apiKey: string;
  /** The `kid` the application signs with. */
  keyId: string;
  /** The public half of the signing key (SPKI or PKCS#1 PEM), as registered on the developer portal. */
  publicKeyPem: string;
}

export interface TokenStore {
  issue(lifetimeSeconds: number): string;
  isValid(token: string): boolean;
}

export function createTokenStore(now: () => number = Date.now): TokenStore {
  const expiries = new Map<string, number>();
  return {
    issue(lifetimeSeconds) {
      const token = randomBytes(24).toString('base64url');
      expiries.set(token, now() + lifetimeSeconds * 1000);
      return token;
    },
    isValid(token) {
      const expiresAt = expiries.get(token);
      return expiresAt !== undefined && expiresAt > now();
    },
  };
}

class AssertionRejected extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}

const reject = (status: number, description: string): never => {
  throw new AssertionRejected(status, 'invalid_request', description);
};

function decode(assertion: string): { header: ProtectedHeaderParameters; claims: JWTPayload } {
  try {
    return { header: decodeProtectedHeader(assertion), claims: decodeJwt(assertion) };
  } catch {
    return reject(400, 'Malformed JWT in client_assertion');
  }
}

export interface TokenRouterOptions {
  clients: RegisteredClient[];
  tokens: TokenStore;
  tokenLifetimeSeconds: number;
}

/**
 * Builds the token endpoint. With registered clients the signature, `kid` and API key are checked against them;
 * with none (the open sandbox) any well-formed assertion is accepted, as the platform's sandbox has no auth.
 */
export function createTokenRouter(options: TokenRouterOptions): Router {
  const keys = new Map<string, { client: RegisteredClient; key: KeyObject }>(
    options.clients.map((client) => [client.keyId, { client, key: createPublicKey(client.publicKeyPem) }]),
  );
  const seenJtis = new Set<string>();

  async function checkAssertion(req: Request): Promise<void> {
    const form = (req.body ?? {}) as Record<string, unknown>;
    const grantType = form.grant_type;
    if (grantType === undefined || grantType === '') reject(400, 'grant_type is missing');
    if (grantType !== 'client_credentials')
      throw new AssertionRejected(400, 'unsupported_grant_type', 'grant_type is invalid');
    if (form.client_assertion_type !== CLIENT_ASSERTION_TYPE)
      reject(400, `Missing or invalid client_assertion_type - must be '${CLIENT_ASSERTION_TYPE}`);
    const assertion = form.client_assertion;
    if (typeof assertion !== 'string' || assertion === '') return reject(400, 'Missing client_assertion');

    const { header, claims } = decode(assertion);
    if (header.alg !== 'RS512')
      reject(400, "Invalid 'alg' header in JWT - unsupported JWT algorithm - must be 'RS512'");
    if (typeof header.kid !== 'string' || header.kid === '') return reject(400, "Missing 'kid' header in JWT");
    if (typeof claims.iss !== 'string' || claims.iss !== claims.sub)
      reject(400, 'Missing or non-matching iss/sub claims in JWT');
    if (claims.jti === undefined) reject(400, 'Missing jti claim in JWT');
    if (typeof claims.jti !== 'string') reject(400, 'Failed to decode JWT');
    const expectedAudience = `${req.protocol}://${req.get('host') ?? ''}${TOKEN_PATH}`;
    if (claims.aud !== expectedAudience) reject(401, 'Missing or invalid aud claim in JWT');
    if (claims.exp === undefined) reject(400, 'Missing exp claim in JWT');
    if (typeof claims.exp !== 'number') reject(400, 'Failed to decode JWT');
    const nowSeconds = Math.floor(Date.now() / 1000);
    const exp = claims.exp as number;
    if (exp <= nowSeconds) reject(400, 'Invalid exp claim in JWT - JWT has expired');
    if (exp > nowSeconds + MAX_ASSERTION_LIFETIME_SECONDS)
      reject(400, 'Invalid exp claim in JWT - more than 5 minutes in future');

    if (keys.size > 0) {
      const registered = keys.get(header.kid);
      if (!registered) return reject(401, "Invalid 'kid' header in JWT - no matching public key");
      if (registered.client.apiKey !== claims.iss) reject(401, 'Invalid iss/sub claims in JWT');
      try {
        await jwtVerify(assertion, registered.key, { algorithms: ['RS512'] });
      } catch {
        reject(400, 'Malformed JWT in client_assertion');
      }
    }

    const jti = claims.jti as string;
    if (seenJtis.has(jti)) reject(400, 'Non-unique jti claim in JWT');
    seenJtis.add(jti);
  }

  const router = Router();
  router.post(TOKEN_PATH, express.urlencoded({ extended: false }), async (req: Request, res: Response) => {
    try {
      await checkAssertion(req);
    } catch (error) {
      if (error instanceof AssertionRejected) return sendOAuthError(res, error.status, error.error, error.description);
      throw error;
    }
    // The platform answers expires_in as a string of seconds.
    res.status(200).json({
      access_token: options.tokens.issue(options.tokenLifetimeSeconds),
      expires_in: String(options.tokenLifetimeSeconds),
      token_type: 'Bearer',
    });
  });
  return router;
}
