/**
 * /fhir/R4: the FHIR R4 read API, built from the resource table (resources.ts): for each resource type a read
 * (`GET /{type}/{id}`) and a search (`GET /{type}?...`) answering a searchset Bundle. Behind the same bearer
 * sign-in as /api/v1; each read asks the policy module (api/policy.ts) with the action of its REST equivalent,
 * a record outside one's settings is not found (read) or absent (search), and every resource returned writes
 * an audit event. Errors are application/problem+json from the one error handler (api/problem.ts): see README.md.
 */
import { Router, type Request, type RequestHandler, type Response } from 'express';
import type { Bundle, BundleEntry, BundleLink, Resource } from 'fhir/r4';
import { DependencyUnavailableError, NotFoundError, ValidationError } from '../../domain/errors';
import { recordAccess, searchFhirRecords, type CaseEngine, type RecordRow } from '../../engine';
import { principalOf, type Principal } from '../auth/principal';
import { authorize, type Action, type Decision, type PolicyResource } from '../policy';
import { requestContext } from '../request-context';
import { accessRecordOf, decide, listScope, requireRole } from '../v1/operation';
import { buildCapabilityStatement } from './capability-statement';
import { FHIR_RESOURCES, resourceFor, type FhirResourceSpec } from './resources';
import { FHIR_ID_PATTERN, parseSearchQuery } from './search';

export const FHIR_CONTENT_TYPE = 'application/fhir+json';

export interface FhirOptions {
  /** The engine, once the database and Temporal are up; until then reads answer 503. */
  readonly engine: () => CaseEngine | undefined;
}

function sendFhir(res: Response, body: Resource): void {
  res.status(200).type(FHIR_CONTENT_TYPE).send(JSON.stringify(body));
}

/** The base URL the client used: `https://host/fhir/R4`. */
function baseUrlOf(req: Request): string {
  return `${req.protocol}://${req.get('host') ?? 'localhost'}${req.baseUrl}`;
}

/** `/metadata`: the CapabilityStatement, without sign-in (it holds nobody's data). */
export function fhirMetadataRouter(): Router {
  const router = Router();
  router.get('/metadata', (req, res) => sendFhir(res, buildCapabilityStatement(baseUrlOf(req))));
  return router;
}

/** Everything else under /fhir/R4: signed in first, then the reads. */
export function fhirR4Router(options: FhirOptions & { readonly authenticate: RequestHandler }): Router {
  const router = Router();
  router.use(options.authenticate);
  router.use(fhirOperationsRouter(options));
  return router;
}

function policyResourceOf(row: RecordRow): PolicyResource {
  const groups = row.data['candidate_groups'];
  return {
    settings: row.settings,
    restricted: row.restricted,
    ...(Array.isArray(groups) ? { candidateGroups: groups as string[] } : {}),
  };
}

interface Shown {
  readonly row: RecordRow;
  readonly decision: Decision & { allowed: true };
}

/** One audit event per resource returned, as the /api/v1 lists write them. */
async function audit(
  engine: CaseEngine,
  principal: Principal,
  spec: FhirResourceSpec,
  action: Action,
  shown: readonly Shown[],
  how: 'read' | 'search',
): Promise<void> {
  const requestId = requestContext()?.requestId ?? null;
  await recordAccess(
    engine.store,
    shown.map(({ row, decision }) =>
      accessRecordOf(
        { principal, requestId },
        {
          decision,
          action: 'read',
          operation: action,
          entityType: spec.entityType,
          entityId: row.key,
          patientId: row.patientId,
          reason: `FHIR R4 ${spec.type} ${how}`,
        },
      ),
    ),
  );
}

function engineOf(options: FhirOptions): CaseEngine {
  const engine = options.engine();
  if (!engine) throw new DependencyUnavailableError('Throughcare is still starting: try again shortly');
  return engine;
}

/** The reads of the resource table; mount behind the bearer middleware (it sets `res.locals.principal`). */
export function fhirOperationsRouter(options: FhirOptions): Router {
  const router = Router();
  const idPattern = new RegExp(FHIR_ID_PATTERN);
  for (const spec of FHIR_RESOURCES) {
    router.get(`/${spec.type}`, async (req, res, next) => {
      try {
        const principal = principalOf(res);
        const search = parseSearchQuery(spec, req.query);
        const engine = engineOf(options);
        const scope = listScope(principal, spec.searchAction, undefined);
        const page = await searchFhirRecords(engine.store, spec.type, {
          scope,
          ...(search.ids ? { ids: search.ids } : {}),
          ...(search.nhsNumber ? { nhsNumber: search.nhsNumber } : {}),
          ...(search.statuses ? { statuses: search.statuses } : {}),
          ...(search.updated ? { updated: search.updated } : {}),
          limit: search.count,
          ...(search.cursor ? { cursor: search.cursor } : {}),
        }).catch((error: unknown) => {
          if (error instanceof ValidationError)
            throw new ValidationError(
              error.message,
              error.problems.map((p) => ({ ...p, pointer: p.pointer === '/cursor' ? '/query/_cursor' : p.pointer })),
            );
          throw error;
        });
        // Each row asked of the policy again: the query's scope and the policy must agree, or the row is left out.
        const shown = page.items.flatMap((row): Shown[] => {
          const decision = authorize(principal, spec.searchAction, policyResourceOf(row));
          return decision.allowed ? [{ row, decision }] : [];
        });
        await audit(engine, principal, spec, spec.searchAction, shown, 'search');
        const base = baseUrlOf(req);
        const self = new URL(`${base}/${spec.type}`);
        for (const [name, value] of Object.entries(req.query as Record<string, string | string[]>))
          for (const one of Array.isArray(value) ? value : [value]) self.searchParams.append(name, one);
        const link: BundleLink[] = [{ relation: 'self', url: self.toString() }];
        if (page.nextCursor) {
          const nextUrl = new URL(self);
          nextUrl.searchParams.set('_cursor', page.nextCursor);
          link.push({ relation: 'next', url: nextUrl.toString() });
        }
        const bundle: Bundle = {
          resourceType: 'Bundle',
          type: 'searchset',
          total: page.total,
          link,
          entry: shown.map(({ row, decision }): BundleEntry => ({
            fullUrl: `${base}/${spec.type}/${row.id}`,
            resource: resourceFor(spec, row, decision.view),
            search: { mode: 'match' },
          })),
        };
        sendFhir(res, bundle);
      } catch (error) {
        next(error);
      }
    });
    router.get(`/${spec.type}/:id`, async (req, res, next) => {
      try {
        const principal = principalOf(res);
        const id = req.params['id'] ?? '';
        const problems = [
          ...(idPattern.test(id) ? [] : [{ pointer: '/path/id', detail: 'must be a FHIR id: [A-Za-z0-9.-]{1,64}' }]),
          ...Object.keys(req.query as object).map((name) => ({
            pointer: `/query/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`,
            detail: 'is not a parameter of a read',
          })),
        ];
        if (problems.length) throw new ValidationError(`The read has ${problems.length} problem(s)`, problems);
        const engine = engineOf(options);
        requireRole(principal, spec.readAction);
        const notFound = `No ${spec.type}/${id} in the settings you work in`;
        const page = await searchFhirRecords(engine.store, spec.type, {
          scope: principal.settings,
          ids: [id],
          limit: 1,
        });
        const row = page.items[0];
        if (!row) throw new NotFoundError(notFound);
        const decision = decide(principal, spec.readAction, policyResourceOf(row), notFound);
        await audit(engine, principal, spec, spec.readAction, [{ row, decision }], 'read');
        sendFhir(res, resourceFor(spec, row, decision.view));
      } catch (error) {
        next(error);
      }
    });
  }
  return router;
}
