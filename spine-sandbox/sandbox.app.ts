/**
 * The Spine sandbox's composition root: request id and correlation id rules, optional bearer-token checks (the
 * INT-like mode), injected transient faults for retry tests, faults set for chosen NHS numbers (and their control
 * plane under /_sandbox), then the PDS, SCR and token routers.
 */
import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { type Logger, silentLogger } from '../log';
import { injectFaults } from './fault-injection';
import { checkFaultList, checkFaultsFor, FaultValidationError } from './fault-validation';
import { createFaultRegistry, type ListedFault, type SandboxFault, type SandboxFaultEntry } from './faults';
import { createFaultsRouter } from './faults.router';
import { loadSandboxData } from './fixtures';
import { createTokenRouter, createTokenStore, type RegisteredClient, type TokenStore } from './oauth.router';
import { sendFhir, sendPdsError, sendScrError } from './operation-outcome';
import { createPdsRouter, PDS_BASE_PATH } from './pds.router';
import { createScrRouter, SCR_BASE_PATH } from './scr.router';

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** The platform issues application-restricted tokens for 10 minutes and reports 599 seconds. */
const DEFAULT_TOKEN_LIFETIME_SECONDS = 599;

export interface TransientFailure {
  /** 408, 429, 500 or 503 as the platform answers them (503 and 429 with Retry-After). */
  status: 408 | 429 | 500 | 503;
  /** How many attempts of each distinct X-Request-ID fail before the request succeeds. */
  times: number;
  retryAfterSeconds?: number;
}

export interface SpineSandboxAppOptions {
  logger?: Logger;
  /**
   * INT-like mode: PDS and SCR demand a bearer token from `/oauth2/token`, and callers are application-restricted
   * (search gives one unique match at most). The default, like the public sandbox, is open access.
   */
  requireAuth?: boolean;
  /** Applications whose signed-JWT assertions the token endpoint verifies; with none, only the shape is checked. */
  clients?: RegisteredClient[];
  tokenLifetimeSeconds?: number;
  /** Makes the first attempts of every request fail, to exercise clients' retries (same X-Request-ID, same answer). */
  transientFailure?: TransientFailure;
  /** Delay before every PDS/SCR answer, to exercise clients' timeouts. */
  responseDelayMs?: number;
  /** Faults set from the start, each for its `nhsNumber` (or `*`); see README.md. Throws FaultValidationError. */
  faults?: readonly SandboxFaultEntry[];
}

/** Faults for chosen NHS numbers, set and read while the sandbox runs (also over HTTP, under /_sandbox/faults). */
export interface SpineSandboxFaults {
  /**
   * Replaces the faults of `nhsNumber` (`*`: every number) with this one, or these in order. Throws
   * FaultValidationError, naming each problem, when one is not valid.
   */
  setFault: (nhsNumber: string, fault: SandboxFault | readonly SandboxFault[]) => void;
  /** Clears the faults of one number (or of `*`), or every fault. */
  clearFaults: (nhsNumber?: string) => void;
  /** The faults set, with defaults filled in, how often each has acted and whether it still does. */
  listFaults: (nhsNumber?: string) => ListedFault[];
}

export type SpineSandboxApp = Express & SpineSandboxFaults;

function mirrorTracingHeaders(req: Request, res: Response, next: NextFunction): void {
  const requestId = req.get('X-Request-ID');
  const correlationId = req.get('X-Correlation-ID');
  if (requestId !== undefined) res.set('X-Request-ID', requestId);
  if (correlationId !== undefined) res.set('X-Correlation-ID', correlationId);
  next();
}

/** PDS requires a UUID X-Request-ID; SCR documents it as optional but it must still be a UUID when sent. */
function checkRequestId(api: 'pds' | 'scr'): RequestHandler {
  return (req, res, next) => {
    const requestId = req.get('X-Request-ID');
    if (requestId === undefined || requestId === '') {
      if (api === 'scr') return next();
      return sendPdsError(
        res,
        'MISSING_VALUE',
        'Invalid request with error - X-Request-ID header must be supplied to access this resource',
      );
    }
    if (UUID.test(requestId)) return next();
    const diagnostics = `Invalid value - '${requestId}' in header 'X-Request-ID'`;
    if (api === 'pds') return sendPdsError(res, 'INVALID_VALUE', diagnostics);
    return sendScrError(res, 400, 'value', diagnostics);
  };
}

function checkBearer(api: 'pds' | 'scr', tokens: TokenStore): RequestHandler {
  return (req, res, next) => {
    const header = req.get('Authorization');
    let problem: string | undefined;
    if (header === undefined) problem = 'Missing Authorization header';
    else if (header.trim() === '') problem = 'Empty Authorization header';
    else {
      const [scheme, token, ...rest] = header.split(' ');
      if (scheme !== 'Bearer' || !token || rest.length > 0) problem = 'Missing access token';
      else if (!tokens.isValid(token)) problem = 'Invalid Access Token';
    }
    if (problem === undefined) return next();
    if (api === 'pds') return sendPdsError(res, 'ACCESS_DENIED', problem);
    return sendScrError(res, 401, 'forbidden', problem);
  };
}

function injectFailures(api: 'pds' | 'scr', failure: TransientFailure): RequestHandler {
  const attempts = new Map<string, number>();
  return (req, res, next) => {
    const key = req.get('X-Request-ID') ?? '';
    const attempt = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, attempt);
    if (attempt > failure.times) return next();
    const retryAfter = failure.retryAfterSeconds ?? (failure.status === 503 ? 5 : undefined);
    if (retryAfter !== undefined && (failure.status === 503 || failure.status === 429))
      res.set('Retry-After', String(retryAfter));
    if (api === 'scr')
      return sendScrError(res, failure.status, 'transient', `Code: ${failure.status}, Display: Service Not Available`);
    switch (failure.status) {
      case 408:
        return sendPdsError(res, 'UNABLE_TO_CALL_SERVICE');
      case 429:
        return sendPdsError(
          res,
          'TOO_MANY_REQUESTS',
          'Your application has exceeded its quota and is being rate limited. Please see: https://digital.nhs.uk/developer/guides-and-documentation/reference-guide#rate-limits for more details.',
        );
      case 500:
        return sendPdsError(res, 'UNKNOWN_ERROR', 'An unknown error occurred processing this request.');
      case 503:
        return sendPdsError(
          res,
          'SERVICE_UNAVAILABLE',
          "The downstream domain processing has not completed within the configured timeout period. Using the same 'X-Request-ID' header, retry your request after the time specified by the 'Retry-After' response header.",
        );
    }
  };
}

function delay(ms: number): RequestHandler {
  return (_req, _res, next) => {
    setTimeout(next, ms);
  };
}

/**
 * Builds the sandbox as an Express app without listening (for supertest, or to mount inside another app), with
 * the fault control methods on it.
 */
export function createSpineSandboxApp(options: SpineSandboxAppOptions = {}): SpineSandboxApp {
  const logger = (options.logger ?? silentLogger).child({ component: 'spine-sandbox' });
  const data = loadSandboxData();
  const tokens = createTokenStore();
  const registry = createFaultRegistry();
  const checkContext = { data, now: Date.now };
  if (options.faults) {
    const initial = checkFaultList(options.faults, checkContext);
    if (!initial.ok) throw new FaultValidationError(initial.problems);
    for (const [nhsNumber, faults] of initial.value) registry.set(nhsNumber, faults);
  }
  const control: SpineSandboxFaults = {
    setFault: (nhsNumber, fault) => {
      const checked = checkFaultsFor(nhsNumber, fault, checkContext);
      if (!checked.ok) throw new FaultValidationError(checked.problems);
      registry.set(nhsNumber, checked.value);
    },
    clearFaults: (nhsNumber) => registry.clear(nhsNumber),
    listFaults: (nhsNumber) => registry.list(nhsNumber),
  };
  const app = express();
  app.disable('x-powered-by');
  // Only Patient reads carry an ETag, and it is the record's version, not a hash of the body.
  app.set('etag', false);

  app.use((req, res, next) => {
    const started = Date.now();
    // Paths carry NHS numbers: log the API and status only.
    res.on('finish', () => {
      const api = req.path.startsWith(PDS_BASE_PATH) ? 'pds' : req.path.startsWith(SCR_BASE_PATH) ? 'scr' : 'other';
      logger.debug(
        {
          api,
          method: req.method,
          status: res.statusCode,
          requestId: req.get('X-Request-ID'),
          ms: Date.now() - started,
        },
        'spine sandbox request',
      );
    });
    next();
  });
  app.use(mirrorTracingHeaders);
  // The control plane is the sandbox's own, never an NHS API path, and answers in every mode (see README.md).
  app.use(
    createFaultsRouter(
      {
        trySetFaults(nhsNumber, body) {
          const checked = checkFaultsFor(nhsNumber, body, checkContext);
          if (!checked.ok) return checked;
          registry.set(nhsNumber, checked.value);
          return { ok: true };
        },
        clearFaults: control.clearFaults,
        listFaults: control.listFaults,
      },
      logger,
    ),
  );

  app.use(
    createTokenRouter({
      clients: options.clients ?? [],
      tokens,
      tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS,
    }),
  );

  for (const [api, base] of [
    ['pds', PDS_BASE_PATH],
    ['scr', SCR_BASE_PATH],
  ] as const) {
    const guards: RequestHandler[] = [checkRequestId(api)];
    if (options.requireAuth) guards.push(checkBearer(api, tokens));
    if (options.responseDelayMs) guards.push(delay(options.responseDelayMs));
    if (options.transientFailure) guards.push(injectFailures(api, options.transientFailure));
    guards.push(injectFaults(api, registry));
    app.use(base, ...guards);
  }

  app.use(createPdsRouter({ data, applicationRestricted: options.requireAuth === true, faults: registry }));
  app.use(createScrRouter({ data }));

  app.use((req, res) => {
    sendFhir(res, 404, {
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'not-found', diagnostics: `Unsupported path - '${req.path}'` }],
    });
  });
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    logger.error({ err: error }, 'spine sandbox failed');
    sendPdsError(res, 'UNKNOWN_ERROR', 'An unknown error occurred processing this request.');
  });
  return Object.assign(app, control);
}
