import { workerConnectionOptions } from './index';

describe('workerConnectionOptions', () => {
  it.each(['127.0.0.1:7233', 'localhost:7233', '[::1]:7233', '127.0.1.1:7233'])(
    'turns gzip off on the loopback address %s',
    (address) => {
      expect(workerConnectionOptions(address)).toEqual({ address, grpcCompression: { codec: 'none' } });
    },
  );

  it.each(['temporal.internal:7233', '10.0.0.5:7233', 'my-ns.tmprl.cloud:7233'])(
    'keeps the SDK default (gzip) for %s',
    (address) => {
      expect(workerConnectionOptions(address)).toEqual({ address });
    },
  );
});
