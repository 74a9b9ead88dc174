/** Liveness (`/health`: the process answers) and readiness (`/ready`: every dependency is up). */
import { Router } from 'express';
import type { Readiness } from '../runtime/readiness';

export function healthRouter(readiness: Readiness): Router {
  const router = Router();
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/ready', async (_req, res) => {
    const report = await readiness.report();
    res.status(report.ready ? 200 : 503).json({ status: report.ready ? 'ready' : 'not ready', ...report });
  });
  return router;
}
