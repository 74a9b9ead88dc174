/**
 * Per-request context (request id and a child logger carrying it), available anywhere in the request's
 * async call tree through AsyncLocalStorage, so deep code logs with the request id without threading it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../log';

export interface RequestContext {
  readonly requestId: string;
  readonly logger: Logger;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function requestContext(): RequestContext | undefined {
  return storage.getStore();
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Takes a well-formed incoming `X-Request-ID` (so traces join up across services) or makes one. */
export function requestContextMiddleware(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get('x-request-id');
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-ID', requestId);
    const child = logger.child({ requestId });
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      child.debug({ method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms) }, 'request');
    });
    storage.run({ requestId, logger: child }, next);
  };
}
