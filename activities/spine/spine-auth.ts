/**
 * Application-restricted access to the NHS API platform: a client assertion signed with the application's private
 * key (RS512, `kid`, `iss` = `sub` = API key, unique `jti`, `aud` = token URL, `exp` = now + 5 minutes) exchanged
 * at the token endpoint for a bearer token, which is cached until shortly before it expires.
 */
import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { type Logger } from '../../log';
import { SpineError } from './spine-errors';

export interface SpineAuthOptions {
  /** e.g. `https://int.api.service.nhs.uk/oauth2/token`. */
  tokenUrl: string;
  /** The application's API key from the developer portal. */
  apiKey: string;
  /** The application's RSA private key, PKCS#8 or PKCS#1 PEM. */
  privateKeyPem: string;
  /** The `kid` under which the public key is registered. */
  keyId: string;
}

export interface TokenProvider {
  /** A bearer token, from the cache while it is fresh. */
  getToken(): Promise<string>;
  /** Forget the cached token (after the API refused it). */
  invalidate(): void;
}

const ASSERTION_LIFETIME_SECONDS = 300;
/** Refresh a minute early, or at half-life for short-lived tokens, so a token never expires mid-request. */
const MAX_REFRESH_MARGIN_SECONDS = 60;

export function createTokenProvider(
  options: SpineAuthOptions & { timeoutMs: number; logger: Logger; now?: () => number },
): TokenProvider {
  const now = options.now ?? Date.now;
  let key: KeyObject | undefined;
  let cached: { token: string; refreshAt: number } | undefined;
  let pending: Promise<string> | undefined;

  async function signAssertion(): Promise<string> {
    key ??= createPrivateKey(options.privateKeyPem);
    const issuedAt = Math.floor(now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: 'RS512', kid: options.keyId, typ: 'JWT' })
      .setIssuer(options.apiKey)
      .setSubject(options.apiKey)
      .setJti(randomUUID())
      .setAudience(options.tokenUrl)
      .setExpirationTime(issuedAt + ASSERTION_LIFETIME_SECONDS)
      .sign(key);
  }

  async function requestToken(): Promise<string> {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await signAssertion(),
    });
    let response: Response;
    try {
      response = await fetch(options.tokenUrl, {
        method: 'POST',
        body: form,
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (error) {
      const timedOut = (error as { name?: unknown } | null)?.name === 'TimeoutError';
      throw new SpineError(
        timedOut ? 'SPINE_TIMEOUT' : 'SPINE_UNAVAILABLE',
        timedOut ? 'The token endpoint did not answer in time' : 'The token endpoint could not be reached',
        { cause: error },
      );
    }
    const body = (await response.json().catch(() => undefined)) as
      { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown } | undefined;
    if (!response.ok) {
      const reason = typeof body?.error_description === 'string' ? `: ${body.error_description}` : '';
      if (response.status === 429)
        throw new SpineError('SPINE_RATE_LIMITED', 'The token endpoint is rate limiting', { status: 429 });
      if (response.status >= 500)
        throw new SpineError('SPINE_UNAVAILABLE', `The token endpoint failed with ${response.status}`, {
          status: response.status,
        });
      throw new SpineError('SPINE_AUTH_FAILED', `The token endpoint refused the client assertion${reason}`, {
        status: response.status,
      });
    }
    // The platform sends expires_in as a string of seconds.
    const expiresIn = Number(body?.expires_in);
    if (typeof body?.access_token !== 'string' || !Number.isFinite(expiresIn) || expiresIn <= 0)
      throw new SpineError('SPINE_INVALID_RESPONSE', 'The token endpoint answered without a usable token', {
        status: response.status,
      });
    const margin = Math.min(MAX_REFRESH_MARGIN_SECONDS, expiresIn / 2);
    cached = { token: body.access_token, refreshAt: now() + (expiresIn - margin) * 1000 };
    options.logger.debug({ expiresIn }, 'spine access token issued');
    return body.access_token;
  }

  return {
    async getToken() {
      if (cached && now() < cached.refreshAt) return cached.token;
      // Concurrent callers share one token request instead of each signing an assertion.
      pending ??= requestToken().finally(() => {
        pending = undefined;
      });
      return pending;
    },
    invalidate() {
      cached = undefined;
    },
  };
}
