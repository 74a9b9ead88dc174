/**
 * Composition root of the HTTP interface: builds the Express app from its dependencies without
 * listening, so tests drive it with supertest and `throughcare up` mounts it on a real port.
 */
import express, { Router, type Express, type Request, type RequestHandler } from 'express';
import { createWebRouter } from '../web';
import { DependencyUnavailableError } from '../domain/errors';
import type { Logger } from '../log';
import type { Readiness } from '../runtime/readiness';
import type { SpineClient } from '../activities/spine';
import type { Simulator } from '../simulation';
import { formRegistryOf, type CaseEngine } from '../engine';
import type { Store } from '../store';
import { metricsRouter, type Metrics } from '../metrics';
import { DEV_ISSUER_PATH } from './auth/dev-keys';
import { whoamiRouter } from './auth/whoami.router';
import swaggerUi from 'swagger-ui-express';
import { healthRouter } from './health.router';
import { notFoundHandler, problemHandler } from './problem';
import { requestContextMiddleware } from './request-context';
import { apiV1DocumentsRouter, apiV1OperationsRouter, createOperations, type Operations } from './v1/router';
import { fhirMetadataRouter, fhirR4Router } from './fhir/router';

export interface AppDependencies {
  readiness: Readiness;
  logger: Logger;
  /**
   * What `/api/v1` needs, once it is there: `throughcare up` listens before the database has started, so
   * this is asked at each request, and `/api/v1` answers 503 while it gives nothing.
   */
  api?: () => ApiDependencies | undefined;
  /** Served at `/metrics` (Prometheus) when given: no sign-in, or its METRICS_TOKEN. */
  metrics?: Metrics;
}

export interface ApiDependencies {
  readonly store: Store;
  /** Runs before every `/api/v1` route: `createBearerAuth(...)`, which sets `res.locals.principal`. */
  readonly authenticate: RequestHandler;
  /** The development OIDC issuer, mounted at `/dev-oidc` when `throughcare up` runs it. */
  readonly devIssuer?: RequestHandler;
  /** Cases, tasks and patients (api/v1/routes.ts): the case engine, once Temporal is up; 503 until then. */
  readonly engine?: () => CaseEngine | undefined;
  /** The Spine (PDS) client, for the patient search by demographics; 503 for that search until it is given. */
  readonly spine?: () => SpineClient | undefined;
  /** The pathway simulator (the designer's simulation), made when first used; 503 for it without one. */
  readonly simulator?: () => Simulator | undefined;
  /**
   * The browser sign-in (api/auth/browser-sign-in.ts), when an issuer and a client for it are configured: the
   * session (cookie) that sets `res.locals.principal`, `/sign-in`, `/auth/callback` and `/sign-out`.
   */
  readonly browser?: {
    readonly session: RequestHandler;
    readonly routes: RequestHandler;
    csrfToken(req: Request): string;
    readonly requireCsrf: RequestHandler;
  };
}

export function createApp(deps: AppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(requestContextMiddleware(deps.logger));
  // Before the JSON parser: the issuer reads its own request bodies.
  app.use(DEV_ISSUER_PATH, (req, res, next) => {
    const devIssuer = deps.api?.()?.devIssuer;
    if (!devIssuer) return next();
    devIssuer(req, res, next);
  });
  app.use(express.json({ limit: '1mb', type: ['application/json', 'application/*+json'] }));
  app.use(healthRouter(deps.readiness));
  if (deps.metrics) app.use(metricsRouter(deps.metrics));
  // The OpenAPI document and the forms' JSON Schemas hold nobody's data: no sign-in, so the docs can load them.
  app.use(
    '/api/v1',
    apiV1DocumentsRouter(() => {
      const store = deps.api?.()?.engine?.()?.store;
      return store && formRegistryOf(store);
    }),
  );
  // Reference docs of /api/v1, rendered by Swagger UI from its own package (no CDN).
  app.use(
    '/api/docs',
    swaggerUi.serveFiles(undefined, { swaggerOptions: { url: '/api/v1/openapi.json' } }),
    swaggerUi.setup(undefined, { swaggerOptions: { url: '/api/v1/openapi.json' }, customSiteTitle: 'Throughcare API' }),
  );
  // Browser sessions, for the web pages and for /api/v1 called by a signed-in browser (see sessionOrBearer).
  app.use((req, res, next) => {
    const browser = deps.api?.()?.browser;
    if (!browser) return next();
    browser.session(req, res, next);
  });
  app.use((req, res, next) => {
    const browser = deps.api?.()?.browser;
    if (!browser) return next();
    browser.routes(req, res, next);
  });
  // The pages (web/), on the same operations as /api/v1: one engine, policy and audit for both.
  let operations: Operations | undefined;
  app.use(
    createWebRouter({
      operations: () => {
        const api = deps.api?.();
        if (!api?.engine?.()) return undefined;
        operations ??= createOperations({
          engine: () => api.engine?.(),
          spine: () => api.spine?.(),
          simulator: () => api.simulator?.(),
        });
        return operations;
      },
      csrfToken: (req) => deps.api?.()?.browser?.csrfToken(req),
      requireCsrf: () => deps.api?.()?.browser?.requireCsrf,
    }),
  );
  let v1: Router | undefined;
  app.use('/api/v1', (req, res, next) => {
    const api = deps.api?.();
    if (!api)
      return next(new DependencyUnavailableError('The API is still starting: try again once /ready answers 200'));
    v1 ??= apiV1Router(api);
    v1(req, res, next);
  });
  // FHIR R4 read API (api/fhir/): the CapabilityStatement without sign-in, the reads behind the same bearer sign-in.
  app.use('/fhir/R4', fhirMetadataRouter());
  let fhir: Router | undefined;
  app.use('/fhir/R4', (req, res, next) => {
    const api = deps.api?.();
    if (!api)
      return next(new DependencyUnavailableError('The API is still starting: try again once /ready answers 200'));
    fhir ??= fhirR4Router({ authenticate: api.authenticate, engine: () => api.engine?.() });
    fhir(req, res, next);
  });
  app.use(notFoundHandler);
  app.use(problemHandler);
  return app;
}

/** Everything under `/api/v1`: signed in first, then the routes. */
function apiV1Router(api: ApiDependencies): Router {
  const router = Router();
  router.use(api.authenticate);
  router.use(whoamiRouter());
  router.use(
    apiV1OperationsRouter(
      createOperations({
        engine: () => api.engine?.(),
        spine: () => api.spine?.(),
        simulator: () => api.simulator?.(),
      }),
    ),
  );
  return router;
}
