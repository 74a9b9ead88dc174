/**
 * `GET /metrics`: the Prometheus text exposition. The metrics hold no personal data, so no sign-in is needed; when
 * METRICS_TOKEN is set a scrape must send it (`Authorization: Bearer <token>`, Prometheus's `authorization`
 * setting). A source that fails or is too slow fails the scrape with 503, so Prometheus records it as down.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Router } from 'express';
import { DependencyUnavailableError, ThroughcareError } from '../domain/errors';
import type { Metrics } from './metrics';

export function metricsRouter(metrics: Metrics): Router {
  const router = Router();
  router.get('/metrics', async (req, res, next) => {
    if (metrics.token !== undefined && !tokenMatches(req.get('authorization'), metrics.token)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="throughcare-metrics"');
      return next(new ThroughcareError('UNAUTHENTICATED', 'Send the metrics token (Authorization: Bearer <token>)'));
    }
    let text: string;
    try {
      text = await metrics.scrape();
    } catch (cause) {
      // The message names the source and the wait, nothing from the data; scrape() has logged the cause.
      return next(
        new DependencyUnavailableError(`Metrics could not be collected: ${(cause as Error).message}`, { cause }),
      );
    }
    res.setHeader('Cache-Control', 'no-store');
    res.type(metrics.contentType).send(text);
  });
  return router;
}

/** Compares digests, so the time taken says nothing about how much of the token matched. */
function tokenMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer +(\S+) *$/i.exec(header ?? '')?.[1];
  if (given === undefined) return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(token));
}
