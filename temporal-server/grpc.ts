/**
 * The gRPC face: grpc-js services generated from the reflected descriptors in @temporalio/proto, each method
 * bound to a handler or answered UNIMPLEMENTED (with the wording sdk-core tolerates), errors mapped to statuses.
 */
import {
  type Server,
  ServerCredentials,
  status,
  type ServerUnaryCall,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type * as protobuf from 'protobufjs';
import type { Logger } from 'pino';
import { TemporalServiceError, unimplemented, wellFormed } from './errors';
import { decodeMessage, encodeResponse, protoRoot, type Msg } from './proto';
import type { CallContext } from './workflow-service';

export type Handler = (req: Msg, ctx: CallContext) => Msg | Promise<Msg>;

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

export function addProtoService(
  server: Server,
  serviceName: string,
  handlers: Record<string, Handler>,
  logger: Logger,
): void {
  const service = protoRoot.lookupService(serviceName);
  const definition: Record<string, unknown> = {};
  const impl: UntypedServiceImplementation = {};
  for (const method of Object.values<protobuf.Method>(service.methods)) {
    if (method.requestStream || method.responseStream) continue;
    const requestType = service.lookupType(method.requestType).fullName.slice(1);
    const responseType = service.lookupType(method.responseType).fullName.slice(1);
    definition[method.name] = {
      path: `/${serviceName}/${method.name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: (v: Msg) => encodeResponse(requestType, v),
      requestDeserialize: (b: Buffer) => decodeMessage(requestType, b),
      responseSerialize: (v: Msg) => encodeResponse(responseType, v),
      responseDeserialize: (b: Buffer) => decodeMessage(responseType, b),
    };
    const handler = handlers[lowerFirst(method.name)];
    impl[method.name] = (call: ServerUnaryCall<Msg, Msg>, callback: sendUnaryData<Msg>) => {
      if (!handler) {
        callback(unimplemented(`${serviceName.split('.').pop()}/${method.name}`).toGrpc());
        return;
      }
      const deadline = call.getDeadline();
      let markCancelled: () => void = () => undefined;
      const cancelled = new Promise<void>((resolve) => (markCancelled = resolve));
      call.on('cancelled', () => markCancelled());
      const ctx: CallContext = {
        cancelled,
        deadline:
          deadline instanceof Date ? deadline.getTime() : Number.isFinite(deadline) ? Number(deadline) : undefined,
        isCancelled: () => call.cancelled,
      };
      Promise.resolve()
        .then(() => handler(call.request, ctx))
        .then(
          (res) => callback(null, res),
          (err: unknown) => {
            if (err instanceof TemporalServiceError) {
              callback(err.toGrpc());
              return;
            }
            logger.error({ err, method: method.name }, 'temporal rpc failed');
            callback({ code: status.INTERNAL, details: wellFormed(err instanceof Error ? err.message : String(err)) });
          },
        );
    };
  }
  server.addService(definition as never, impl);
}

/** Binds host:port; for 127.0.0.1 or localhost also binds ::1 on the same port when the host has IPv6. */
export async function bindServer(server: Server, address: string): Promise<string> {
  const idx = address.lastIndexOf(':');
  const host = address.slice(0, idx).replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = Number(address.slice(idx + 1));
  const bind = (target: string): Promise<number> =>
    new Promise((resolve, reject) =>
      server.bindAsync(target, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
  const primaryHost = host === 'localhost' ? '127.0.0.1' : host;
  const bound = await bind(`${primaryHost.includes(':') ? `[${primaryHost}]` : primaryHost}:${port}`);
  if (primaryHost === '127.0.0.1') {
    await bind(`[::1]:${bound}`).catch(() => undefined);
  }
  return `${primaryHost.includes(':') ? `[${primaryHost}]` : primaryHost}:${bound}`;
}
