/**
 * A time-skipping test environment on the embedded server: the same shape as @temporalio/testing's
 * TestWorkflowEnvironment.createTimeSkipping(), without downloading the Java test server.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Logger } from 'pino';
import { startTemporalServer, type TemporalServer } from './server';

export interface EmbeddedTestWorkflowEnvironment {
  /** The SDK's environment: env.client (time-skipping), env.nativeConnection, env.sleep, env.currentTimeMs(). */
  readonly env: TestWorkflowEnvironment;
  readonly client: TestWorkflowEnvironment['client'];
  readonly nativeConnection: TestWorkflowEnvironment['nativeConnection'];
  readonly address: string;
  sleep(durationMs: number | string): Promise<void>;
  currentTimeMs(): Promise<number>;
  /**
   * Sets the virtual clock to `at`, back as well as forward, once no workflow is running (refused otherwise); only
   * for a server this environment started (TemporalServer.restartClock).
   */
  restartClock(at: Date): Promise<void>;
  /** Closes both connections and stops the server it started (not one it was given by address). */
  teardown(): Promise<void>;
}

interface CreateOptions {
  server: { type: 'existing' };
  address: string;
  namespace: string;
  supportsTimeSkipping: boolean;
}

/**
 * Either starts a time-skipping server in this process on `databaseUrl`, or connects to one already running at
 * `address` (`throughcare temporal-server --time-skipping`), which teardown then leaves running.
 */
export type TestWorkflowEnvironmentOptions =
  | {
      databaseUrl: string;
      logger?: Logger;
      schema?: string;
      searchAttributes?: Readonly<Record<string, number>>;
      /** The virtual clock's time at start (default now); it may be in the past. */
      startsAt?: Date;
    }
  | { address: string };

export async function createTestWorkflowEnvironment(
  options: TestWorkflowEnvironmentOptions,
): Promise<EmbeddedTestWorkflowEnvironment> {
  let server: TemporalServer | undefined;
  let address: string;
  if ('address' in options) {
    address = options.address;
  } else {
    server = await startTemporalServer({
      address: '127.0.0.1:0',
      databaseUrl: options.databaseUrl,
      schema: options.schema,
      timeSkipping: true,
      ...(options.startsAt ? { timeSkippingStartsAt: options.startsAt } : {}),
      logger: options.logger,
      ...(options.searchAttributes ? { searchAttributes: options.searchAttributes } : {}),
    });
    address = server.address;
  }
  let env: TestWorkflowEnvironment;
  try {
    // createFromExistingServer() turns time skipping off; the private create() is the path the SDK itself uses
    // for its time-skipping server, and it accepts an existing address.
    const sdk = TestWorkflowEnvironment as unknown as {
      create: (this: typeof TestWorkflowEnvironment, o: CreateOptions) => Promise<TestWorkflowEnvironment>;
    };
    env = await sdk.create.call(TestWorkflowEnvironment, {
      server: { type: 'existing' },
      address,
      namespace: 'default',
      supportsTimeSkipping: true,
    });
  } catch (err) {
    await server?.stop();
    throw err;
  }
  return {
    env,
    client: env.client,
    nativeConnection: env.nativeConnection,
    address,
    sleep: (d) => env.sleep(d as never),
    currentTimeMs: () => env.currentTimeMs(),
    restartClock: (at) =>
      server ? server.restartClock(at) : Promise.reject(new Error('Only a server this environment started')),
    teardown: async () => {
      await env.teardown();
      await server?.stop();
    },
  };
}
