/**
 * Composition root of the HTTP interface: builds the Express app from its dependencies without
 * listening, so tests drive it with supertest and `throughcare up` mounts it on a real port.
 */
import express, { type Express } from 'express';
import type { Logger } from '../log';
import type { Readiness } from '../runtime/readiness';
import { healthRouter } from './health.router';
import { notFoundHandler, problemHandler } from './problem';
import { requestContextMiddleware } from './request-context';

export interface AppDependencies {
  readiness: Readiness;
  logger: Logger;
}

export function createApp(deps: AppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(requestContextMiddleware(deps.logger));
  app.use(express.json({ limit: '1mb', type: ['application/json', 'application/*+json'] }));
  app.use(healthRouter(deps.readiness));
  app.use(notFoundHandler);
  app.use(problemHandler);
  return app;
}
