/**
 * The HTTP app with the real identity part, for the browser sign-in tests: run as its own process
 * (`node -r tsx/cjs`), because the development issuer and openid-client are ES modules that load under tsx and
 * not in jest. No Temporal or worker: the sign-in needs only the database, so a restart takes a second.
 * Configuration comes from the environment as for `throughcare up` (DATABASE_URL, DATA_DIR, PORT, SESSION_*).
 *
 * `--issuer-database URL` gives the development issuer a directory of its own: an issuer that knows people
 * Throughcare's staff directory does not, as a real one does.
 *
 * Prints `listening <url>` once it answers; stops on SIGTERM.
 */
import {
  createApp,
  createBearerAuth,
  createSessions,
  devJwks,
  loadOrCreateDevKeys,
  loadOrCreateSessionSecret,
  sessionOrBearer,
  type ApiDependencies,
} from '../../api';
import type * as BrowserSignInModule from '../../api/auth/browser-sign-in';
import type * as DevIssuerModule from '../../api/auth/dev-issuer';
import { createHttpServer } from '../../api/http-server';
import { loadConfig } from '../../config';
import { createLogger } from '../../log';
import { startIdentity } from '../../runtime/parts/identity';
import { Readiness } from '../../runtime/readiness';
import { localUrl } from '../../runtime/up';
import { openStore, type Store } from '../../store';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.log);
  const databaseUrl = config.databaseUrl;
  if (!databaseUrl) throw new Error('DATABASE_URL is required');
  const flag = process.argv.indexOf('--issuer-database');
  const issuerDatabaseUrl = flag > 0 ? process.argv[flag + 1] : undefined;

  // Set once the identity part is up; until then /api/v1 answers 503, as under `throughcare up`.
  const current: { api?: ApiDependencies } = {};
  const server = createHttpServer(createApp({ readiness: new Readiness(), logger, api: () => current.api }));
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const url = localUrl(config.host, config.port);

  const store = await openStore(databaseUrl, logger);
  const issuerStore = issuerDatabaseUrl ? await openStore(issuerDatabaseUrl, logger) : undefined;
  const identity = issuerStore
    ? await withSeparateIssuer(url, databaseUrl, store, issuerStore)
    : await startIdentity(config, { store, httpUrl: url, databaseUrl }, logger);
  current.api = identity;
  process.stdout.write(`listening ${url}\n`);

  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close();
    void identity
      .stop()
      .then(() => store.close())
      .then(() => issuerStore?.close())
      .then(() => process.exit(0));
  });

  /** The parts `startIdentity` puts together in development, but with the issuer reading another directory. */
  async function withSeparateIssuer(
    httpUrl: string,
    appDatabaseUrl: string,
    appStore: Store,
    issuerDirectory: Store,
  ): Promise<ApiDependencies & { stop(): Promise<void> }> {
    const keys = await loadOrCreateDevKeys(config.dataDir);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createDevIssuer, DEV_WEB_CLIENT_ID } = require('../../api/auth/dev-issuer') as typeof DevIssuerModule;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createBrowserSignIn } = require('../../api/auth/browser-sign-in') as typeof BrowserSignInModule;
    const devIssuer = createDevIssuer({
      httpUrl,
      audience: config.oidc.audience,
      keys,
      store: issuerDirectory,
      logger,
    });
    const claims = { rolesClaim: config.oidc.rolesClaim, settingsClaim: config.oidc.settingsClaim };
    const sessions = createSessions({
      databaseUrl: appDatabaseUrl,
      secret: await loadOrCreateSessionSecret(config.dataDir),
      idleTimeoutSeconds: config.session.idleTimeoutSeconds,
      maxLifetimeSeconds: config.session.maxLifetimeSeconds,
      behindTls: false,
      logger,
    });
    const browser = createBrowserSignIn({
      issuer: devIssuer.issuer,
      clientId: DEV_WEB_CLIENT_ID,
      baseUrl: httpUrl,
      allowHttpIssuer: true,
      store: appStore,
      claims,
      sessions,
      logger,
    });
    const bearer = createBearerAuth({
      issuer: devIssuer.issuer,
      audience: config.oidc.audience,
      jwks: devJwks(keys),
      store: appStore,
      ...claims,
    });
    return {
      store: appStore,
      authenticate: sessionOrBearer(bearer, sessions),
      devIssuer: devIssuer.handler,
      browser,
      stop: () => browser.close(),
    };
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
