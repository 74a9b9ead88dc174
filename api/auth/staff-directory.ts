/**
 * From a signed-in person's claims to a Principal, the same for a bearer token and a browser sign-in: the staff
 * directory is the source of truth. The claims can narrow the roles and settings the directory holds (they
 * intersect them), never widen them; a claim the issuer did not send leaves the directory's as they are; someone
 * the directory does not know, or has made inactive, is refused.
 */
import { ThroughcareError } from '../../domain/errors';
import { listStaff } from '../../engine';
import type { Store } from '../../store';
import { isRole, type Principal, type Role } from './principal';

export interface ClaimNames {
  /** Claim with the roles; a dotted path reaches a nested claim (`realm_access.roles`). */
  readonly rolesClaim: string;
  /** Claim with the settings' ODS codes. */
  readonly settingsClaim: string;
}

/** The verified claims of a token: `sub` names the person. */
export type VerifiedClaims = { readonly sub: string } & Readonly<Record<string, unknown>>;

/** The member of staff the claims name, as a Principal; a FORBIDDEN error when the directory does not allow them. */
export async function principalForClaims(claims: VerifiedClaims, store: Store, names: ClaimNames): Promise<Principal> {
  const subject = claims.sub;
  const [staff] = await listStaff(store, { subject });
  if (!staff)
    throw new ThroughcareError(
      'FORBIDDEN',
      'You are signed in, but not in the Throughcare staff directory: ask an administrator to add you',
    );
  if (!staff.active)
    throw new ThroughcareError('FORBIDDEN', 'Your Throughcare account is inactive: ask an administrator');
  const directoryRoles = staff.roles.filter(isRole);
  const claimedRoles = stringsAt(claims, names.rolesClaim);
  const claimedSettings = stringsAt(claims, names.settingsClaim)?.map((code) => code.toUpperCase());
  const roles: Role[] = claimedRoles ? directoryRoles.filter((role) => claimedRoles.includes(role)) : directoryRoles;
  const settings = claimedSettings ? staff.settings.filter((code) => claimedSettings.includes(code)) : staff.settings;
  return { subject, staffId: staff.staffId, name: staff.name, roles, settings };
}

/**
 * The strings of a claim: a JSON array, or one string of values separated by spaces or commas. A dotted path
 * reaches into nested objects when no claim has the whole name. Undefined when the token lacks the claim.
 */
export function stringsAt(claims: Readonly<Record<string, unknown>>, claim: string): string[] | undefined {
  let value: unknown = claims[claim];
  if (value === undefined && claim.includes('.')) {
    value = claim.split('.').reduce<unknown>((node, key) => {
      return node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    }, claims);
  }
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value.split(/[\s,]+/).filter(Boolean);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/** The subset of claims a session keeps to map the person again at each request (roles and settings only). */
export function claimsToKeep(claims: VerifiedClaims, names: ClaimNames): VerifiedClaims {
  const roles = stringsAt(claims, names.rolesClaim);
  const settings = stringsAt(claims, names.settingsClaim);
  return {
    sub: claims.sub,
    ...(roles ? { [names.rolesClaim]: roles } : {}),
    ...(settings ? { [names.settingsClaim]: settings } : {}),
  };
}
