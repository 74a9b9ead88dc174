/** `GET /api/v1/whoami`: who the bearer token signs in, as the API sees them (roles and settings included). */
import { Router } from 'express';
import { principalOf } from './principal';

export function whoamiRouter(): Router {
  const router = Router();
  router.get('/whoami', (_req, res) => {
    res.json(principalOf(res));
  });
  return router;
}
