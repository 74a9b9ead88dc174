/**
 * The Spine sandbox behind a recorder, on a free port: tests see every request the client really sent (path,
 * X-Request-ID, ODS and Authorization headers) without replacing fetch or the sandbox.
 */
import { type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import { createSpineSandboxApp, type SpineSandboxAppOptions } from '../../spine-sandbox';

export interface RecordedRequest {
  method: string;
  path: string;
  requestId?: string;
  odsCode?: string;
  authorization?: string;
}

export interface RecordingSandbox {
  baseUrl: string;
  requests: RecordedRequest[];
  /** Requests to PDS and SCR, without the token endpoint's. */
  apiRequests(): RecordedRequest[];
  tokenRequests(): RecordedRequest[];
  stop(): Promise<void>;
}

/**
 * Starts the sandbox behind a recorder. `intercept` answers before the sandbox when it wants to (a fault the
 * sandbox's fixed data cannot give: an empty SCR Bundle, a 400), and calls `next()` otherwise.
 */
export async function startRecordingSandbox(
  options: SpineSandboxAppOptions = {},
  port = 0,
  intercept?: RequestHandler,
): Promise<RecordingSandbox> {
  const requests: RecordedRequest[] = [];
  const app = express();
  app.use((req, _res, next) => {
    requests.push({
      method: req.method,
      path: req.path,
      requestId: req.get('X-Request-ID'),
      odsCode: req.get('NHSD-End-User-Organisation-ODS'),
      authorization: req.get('Authorization'),
    });
    next();
  });
  if (intercept) app.use(intercept);
  app.use(createSpineSandboxApp(options));
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(port, '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve(listening)));
  });
  const { port: boundPort } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${boundPort}`,
    requests,
    apiRequests: () => requests.filter((r) => r.path !== '/oauth2/token'),
    tokenRequests: () => requests.filter((r) => r.path === '/oauth2/token'),
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
