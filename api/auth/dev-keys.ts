/**
 * The development issuer's keys, made once and kept in `DATA_DIR/dev-oidc/keys.json` (readable by its owner
 * only), so that tokens survive a restart of `throughcare up` and `throughcare dev-token` can sign with the
 * same key. Development only: a production deployment uses its own OpenID Connect provider.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  SignJWT,
  type JWK,
  type JWTVerifyGetKey,
} from 'jose';
import type { Role } from './principal';

export const DEV_ISSUER_PATH = '/dev-oidc';
/** The resource indicator (RFC 8707) of the API at the development issuer; tokens for it carry OIDC_AUDIENCE. */
export const DEV_API_RESOURCE = 'urn:throughcare:api';
/** The scope of the API at the development issuer. */
export const DEV_API_SCOPE = 'api';
const SIGNING_ALG = 'RS256';

export interface DevKeys {
  /** Private signing keys (JWK), the first the current one. */
  readonly signing: JWK[];
  /** Secrets that sign the issuer's cookies. */
  readonly cookieKeys: string[];
}

/** The development issuer of a server at `httpUrl` (`http://localhost:3000` → `http://localhost:3000/dev-oidc`). */
export function devIssuerUrl(httpUrl: string): string {
  return `${httpUrl.replace(/\/+$/, '')}${DEV_ISSUER_PATH}`;
}

export function devKeysFile(dataDir: string): string {
  return path.join(dataDir, 'dev-oidc', 'keys.json');
}

/** Reads the kept keys, or makes and keeps them when there are none yet. */
export async function loadOrCreateDevKeys(dataDir: string): Promise<DevKeys> {
  const file = devKeysFile(dataDir);
  const existing = await readKeys(file);
  if (existing) return existing;
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { modulusLength: 2048, extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: SIGNING_ALG, use: 'sig' };
  const keys: DevKeys = { signing: [jwk], cookieKeys: [randomBytes(32).toString('base64url')] };
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    // `wx`: when two processes make keys at once, the first kept wins and the other reads it.
    await fs.writeFile(file, JSON.stringify(keys, null, 2), { flag: 'wx', mode: 0o600 });
    return keys;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const kept = await readKeys(file);
    if (!kept) throw new Error(`${file} is not a development issuer key file; remove it to make new keys`);
    return kept;
  }
}

async function readKeys(file: string): Promise<DevKeys | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const parsed = JSON.parse(text) as Partial<DevKeys>;
  if (!Array.isArray(parsed.signing) || parsed.signing.length === 0 || !Array.isArray(parsed.cookieKeys))
    return undefined;
  return { signing: parsed.signing, cookieKeys: parsed.cookieKeys };
}

/** The public half of the signing keys, as the issuer's JWKS serves them. */
export function publicJwks(keys: DevKeys): { keys: JWK[] } {
  return {
    // Without the private members (d, p, q, dp, dq, qi; k of a symmetric key).
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    keys: keys.signing.map(({ d, p, q, dp, dq, qi, k, ...publicMembers }) => publicMembers),
  };
}

/** A key getter for `createBearerAuth` that checks tokens against the development keys without fetching them. */
export function devJwks(keys: DevKeys): JWTVerifyGetKey {
  return createLocalJWKSet(publicJwks(keys));
}

export interface DevTokenClaims {
  readonly subject: string;
  readonly name: string;
  readonly roles: readonly Role[] | readonly string[];
  readonly settings: readonly string[];
}

/**
 * An access token as the development issuer issues one (same key, issuer, audience and claims), signed here.
 * `throughcare dev-token` uses it: holding the key file is holding the data directory, which already gives
 * the database.
 */
export async function signDevToken(
  keys: DevKeys,
  options: { issuer: string; audience: string; ttlSeconds: number; clientId?: string } & DevTokenClaims,
): Promise<string> {
  const [jwk] = keys.signing;
  const key = await importJWK(jwk!, jwk!.alg ?? SIGNING_ALG);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    name: options.name,
    roles: [...options.roles],
    settings: [...options.settings],
    scope: DEV_API_SCOPE,
    client_id: options.clientId ?? 'throughcare-cli',
  })
    .setProtectedHeader({ alg: jwk!.alg ?? SIGNING_ALG, kid: jwk!.kid, typ: 'at+jwt' })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setSubject(options.subject)
    .setIssuedAt(now)
    .setExpirationTime(now + options.ttlSeconds)
    .setJti(randomUUID())
    .sign(key);
}
