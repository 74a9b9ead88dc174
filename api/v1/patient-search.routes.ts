/**
 * Finding a person on PDS by demographics (clinicians and team leads): each NHS number PDS returns is audited as
 * a lookup for care (TREAT), as PDS itself audits every patient a search matches; a restricted result comes
 * without address, telephone, email or GP.
 */
import { searchPatientsOnPds, type PatientSearchInput } from '../../engine';
import { DependencyUnavailableError, ThroughcareError } from '../../domain/errors';
import { authorize } from '../policy';
import { requireRole, type RouteSpec } from './operation';

export const PATIENT_SEARCH_ROUTES: readonly RouteSpec[] = [
  {
    method: 'get',
    path: '/patients',
    operationId: 'searchPatients',
    summary: 'Search PDS by demographics: family name and date of birth at least (or a fuzzy combination)',
    tag: 'patients',
    action: 'patient.search',
    patientData: true,
    query: 'PatientSearchQuery',
    success: { status: 200, schema: 'PatientSearchResults', description: 'the people PDS matched, best first' },
    async handle(ctx) {
      requireRole(ctx.principal, 'patient.search');
      // A search is of nobody in our record yet: it is made through the settings one works in.
      const decision = authorize(ctx.principal, 'patient.search', { settings: ctx.principal.settings });
      if (!decision.allowed) throw new ThroughcareError('FORBIDDEN', decision.reason);
      const spine = ctx.spine();
      if (!spine) throw new DependencyUnavailableError('PDS is not configured here: try again once /ready answers 200');
      const q = ctx.query;
      const text = (name: string) => (typeof q[name] === 'string' ? { [name]: q[name] } : {});
      const found = await searchPatientsOnPds(spine, ctx.engine.store, {
        ...text('family'),
        ...text('given'),
        ...text('postcode'),
        birthdate: q['birthdate'] as string,
        ...(typeof q['gender'] === 'string' ? { gender: q['gender'] as PatientSearchInput['gender'] } : {}),
        ...(q['fuzzy'] === true ? { fuzzy: true } : {}),
        limit: (q['limit'] as number | undefined) ?? 10,
      });
      await ctx.audit(
        found.matches.map((match) => ({
          decision,
          action: 'read' as const,
          operation: 'patient.search' as const,
          entityType: 'Patient',
          entityId: match.patientId ?? match.nhsNumber,
          patientId: match.patientId,
          reason: `PDS search match ${match.nhsNumber} (score ${match.score})`,
        })),
      );
      return { body: { outcome: found.outcome, items: found.matches } };
    },
  },
];
