/**
 * Public face of the Spine sandbox: local PDS and SCR FHIR R4 endpoints with the NHS API platform sandbox's test
 * patients, plus a mock signed-JWT token endpoint. See README.md for the endpoints and test patients.
 */
import { type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { type Logger, silentLogger } from '../log';
import { createSpineSandboxApp, type SpineSandboxAppOptions, type SpineSandboxFaults } from './sandbox.app';

export { createSpineSandboxApp } from './sandbox.app';
export type { SpineSandboxApp, SpineSandboxAppOptions, SpineSandboxFaults, TransientFailure } from './sandbox.app';
export { FaultValidationError } from './fault-validation';
export type { FaultProblem } from './fault-validation';
export { FAULT_KINDS, WILDCARD } from './faults';
export type { FaultApi, FaultKind, ListedFault, SandboxFault, SandboxFaultEntry } from './faults';
export { FAULTS_PATH } from './faults.router';
export type { RegisteredClient } from './oauth.router';
export { PDS_BASE_PATH } from './pds.router';
export { SCR_BASE_PATH } from './scr.router';
export { TOKEN_PATH } from './oauth.router';

export interface StartSpineSandboxOptions extends SpineSandboxAppOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Defaults to 127.0.0.1: the sandbox is for this machine. */
  host?: string;
  logger?: Logger;
}

export interface RunningSpineSandbox extends SpineSandboxFaults {
  /** `http://host:port`, to which the PDS, SCR, token and `/_sandbox/faults` paths are appended. */
  baseUrl: string;
  stop(): Promise<void>;
}

export async function startSpineSandbox(options: StartSpineSandboxOptions = {}): Promise<RunningSpineSandbox> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? silentLogger;
  const app = createSpineSandboxApp({ ...options, logger });
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(options.port ?? 0, host, (error?: Error) =>
      error ? reject(error) : resolve(listening),
    );
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const baseUrl = `http://${urlHost}:${port}`;
  logger.info({ baseUrl }, 'spine sandbox listening');
  return {
    baseUrl,
    setFault: app.setFault,
    clearFaults: app.clearFaults,
    listFaults: app.listFaults,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        // Keep-alive sockets from clients would otherwise hold close() open.
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
