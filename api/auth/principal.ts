/**
 * Who is making a request: the signed-in member of staff, as the bearer token and the staff directory agree.
 * `createBearerAuth` puts one on `res.locals.principal`; the policy module decides what it may do.
 */
import type { Response } from 'express';
import { ThroughcareError } from '../../domain/errors';

export type Role = 'clinician' | 'team-lead' | 'commissioner' | 'ops' | 'admin';

/** Every role, in the order people are shown them. */
export const ROLES: readonly Role[] = ['clinician', 'team-lead', 'commissioner', 'ops', 'admin'];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export interface Principal {
  /** The token's `sub`, the staff record's `subject`. */
  subject: string;
  staffId: string;
  /** As the staff directory has it. */
  name: string;
  roles: Role[];
  /** ODS codes of the settings they act in. */
  settings: string[];
}

/** The principal `createBearerAuth` established for this request; a 401 problem when there is none. */
export function principalOf(res: Response): Principal {
  const principal = (res.locals as { principal?: Principal }).principal;
  if (!principal) throw new ThroughcareError('UNAUTHENTICATED', 'This request is not signed in');
  return principal;
}
