/**
 * Sign-in for the API: bearer tokens verified against an OpenID Connect issuer and tied to the staff directory.
 * The development issuer (dev-issuer.ts, which loads oidc-provider) is not exported here: `throughcare up`
 * requires it only when it runs it.
 */
export { createBearerAuth, jwksFromIssuer, type BearerAuthOptions } from './bearer';
export { ROLES, isRole, principalOf, type Principal, type Role } from './principal';
export { DEV_ISSUER_PATH, devIssuerUrl, devJwks, loadOrCreateDevKeys, signDevToken, type DevKeys } from './dev-keys';
export { whoamiRouter } from './whoami.router';
// The browser sign-in itself (browser-sign-in.ts, which loads openid-client) is required only by who runs it.
export { createSessions, loadOrCreateSessionSecret, sessionOrBearer, type Sessions } from './session';
