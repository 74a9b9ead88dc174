/**
 * The sandbox's own control plane for faults, under `/_sandbox/faults`: not part of any NHS API, so it sits off
 * the PDS and SCR paths, takes plain JSON and answers errors as `application/problem+json` (RFC 9457) naming
 * each field at fault.
 */
import express, { type NextFunction, type Request, type Response, Router } from 'express';
import { type Logger } from '../log';
import { type FaultProblem } from './fault-validation';
import { type ListedFault } from './faults';

export const FAULTS_PATH = '/_sandbox/faults';
const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const PROBLEM_BASE = 'https://throughcare.dev/problems/';

/** What the control plane drives: the app's fault control, which validates what it is given. */
export interface FaultControl {
  /** Replaces the faults of `nhsNumber` (or `*`); answers the problems instead when they are not valid. */
  trySetFaults: (nhsNumber: string, body: unknown) => { ok: true } | { ok: false; problems: FaultProblem[] };
  clearFaults: (nhsNumber?: string) => void;
  listFaults: (nhsNumber?: string) => ListedFault[];
}

function sendProblem(
  req: Request,
  res: Response,
  status: number,
  slug: string,
  title: string,
  detail: string,
  errors?: readonly FaultProblem[],
): void {
  res
    .status(status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(
      JSON.stringify({
        type: PROBLEM_BASE + slug,
        title,
        status,
        detail,
        instance: req.originalUrl,
        ...(errors ? { errors } : {}),
      }),
    );
}

function sendInvalid(req: Request, res: Response, problems: readonly FaultProblem[]): void {
  const first = problems[0];
  const where = first?.pointer !== undefined ? `${first.pointer || 'the body'}` : (first?.parameter ?? '');
  sendProblem(
    req,
    res,
    400,
    'validation-failed',
    'Your request has problems',
    problems.length === 1 ? `${where} ${first?.detail ?? ''}` : `${problems.length} problems, listed in errors`,
    problems,
  );
}

export function createFaultsRouter(control: FaultControl, logger: Logger): Router {
  const router = Router();
  // Any content type is read as JSON: `curl -d '{…}'` without a Content-Type header is the common case.
  router.use(FAULTS_PATH, express.json({ limit: '1mb', type: () => true }));

  router.get(FAULTS_PATH, (_req, res) => {
    res.json({ faults: control.listFaults() });
  });

  router.get(`${FAULTS_PATH}/:nhsNumber`, (req, res) => {
    res.json({ nhsNumber: req.params.nhsNumber, faults: control.listFaults(req.params.nhsNumber) });
  });

  router.put(`${FAULTS_PATH}/:nhsNumber`, (req, res) => {
    const { nhsNumber } = req.params;
    const outcome = control.trySetFaults(nhsNumber, req.body);
    if (!outcome.ok) return sendInvalid(req, res, outcome.problems);
    const listed = control.listFaults(nhsNumber);
    // Never the number: sandbox logs follow the product's rule of no NHS numbers in logs.
    logger.info({ kinds: listed.map((l) => l.fault.kind) }, 'spine sandbox faults set');
    res.json({ nhsNumber, faults: listed });
  });

  router.delete(FAULTS_PATH, (_req, res) => {
    control.clearFaults();
    logger.info('spine sandbox faults cleared');
    res.status(204).end();
  });

  router.delete(`${FAULTS_PATH}/:nhsNumber`, (req, res) => {
    control.clearFaults(req.params.nhsNumber);
    res.status(204).end();
  });

  router.all(['/_sandbox', '/_sandbox/*rest'], (req, res) => {
    sendProblem(
      req,
      res,
      404,
      'not-found',
      'Not found',
      `No sandbox control route for ${req.method} ${req.path}: use GET, PUT or DELETE ${FAULTS_PATH}[/{nhsNumber}]`,
    );
  });

  // express.json's errors (a body that is not JSON, too large) as problems, like every other control-plane error.
  router.use(FAULTS_PATH, (error: unknown, req: Request, res: Response, next: NextFunction) => {
    const status = (error as { status?: unknown }).status;
    if (typeof status !== 'number' || status >= 500) return next(error);
    sendInvalid(req, res, [{ pointer: '', detail: `could not be read as JSON: ${(error as Error).message}` }]);
  });

  return router;
}
