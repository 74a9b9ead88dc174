/**
 * The one place that reads the environment. Every variable is declared once below (name, meaning,
 * default), validated together with ajv, and every problem is reported at once so an operator fixes
 * them in one go. The result is frozen and passed down; nothing else reads `process.env`.
 *
 * Embedded defaults (PostgreSQL, the Temporal-compatible server, the Spine sandbox) are for development:
 * with NODE_ENV=production their variables are required, so a default never reaches production silently.
 */
import path from 'node:path';
import Ajv, { type ErrorObject } from 'ajv';
import { LOG_LEVELS, type LogLevel } from '../log';

export interface Config {
  readonly nodeEnv: 'development' | 'test' | 'production';
  readonly host: string;
  readonly port: number;
  /** Where embedded parts keep their data (PostgreSQL cluster, ...). Absolute. */
  readonly dataDir: string;
  /** Unset means: run the embedded PostgreSQL under `dataDir`. */
  readonly databaseUrl: string | undefined;
  /** The scratch database pathway simulations run in; unset: `<database>_simulation` beside the record store's. */
  readonly simulationDatabaseUrl: string | undefined;
  readonly temporal: {
    /** Unset means: run the embedded Temporal-compatible server. */
    readonly address: string | undefined;
    readonly namespace: string;
    readonly taskQueue: string;
  };
  readonly spine: {
    /** Unset means: run the embedded Spine sandbox. */
    readonly baseUrl: string | undefined;
    readonly tokenUrl: string | undefined;
    readonly apiKey: string | undefined;
    readonly privateKeyPath: string | undefined;
    readonly keyId: string | undefined;
    readonly odsCode: string | undefined;
  };
  readonly notify: {
    readonly apiKey: string | undefined;
    readonly smtpUrl: string | undefined;
  };
  readonly oidc: {
    /** Unset means: the development issuer at `/dev-oidc` (NODE_ENV=development only). */
    readonly issuerUrl: string | undefined;
    /** The `aud` bearer tokens must carry. */
    readonly audience: string;
    /** Claim holding the roles (a dotted path reaches into nested claims: `realm_access.roles`). */
    readonly rolesClaim: string;
    /** Claim holding the ODS codes of the settings the person acts in. */
    readonly settingsClaim: string;
    /** For the browser sign-in (authorization code flow with PKCE). */
    readonly clientId: string | undefined;
    readonly clientSecret: string | undefined;
  };
  /** The address people reach Throughcare at (scheme, host, port), when it is not the server's own (a TLS proxy). */
  readonly publicUrl: string | undefined;
  /** Browser sessions (cookie and server-side record) after the browser sign-in. */
  readonly session: {
    /** Signs the session cookie; unset outside production: generated and kept in DATA_DIR. */
    readonly secret: string | undefined;
    readonly idleTimeoutSeconds: number;
    readonly maxLifetimeSeconds: number;
  };
  /** Where the `case`, `task` and `pathway` commands send their requests, and the bearer token they send. */
  readonly client: {
    /** Unset: the `throughcare up` running on DATA_DIR, else http://localhost:PORT. */
    readonly url: string | undefined;
    readonly token: string | undefined;
  };
  readonly log: { readonly level: LogLevel; readonly pretty: boolean };
  /** `/metrics` (Prometheus): when a token is set, a scrape must send it as a bearer token. */
  readonly metrics: { readonly token: string | undefined };
}

export interface VariableSpec {
  readonly name: string;
  readonly description: string;
  /** Shown in help and the README; `undefined` means unset by default. */
  readonly default?: string;
  /** What a valid value looks like, for error messages. */
  readonly expects: string;
  readonly schema: Record<string, unknown>;
  readonly secret?: boolean;
  readonly requiredInProduction?: boolean;
}

const url = (protocols: string[]) => ({ type: 'string', pattern: `^(${protocols.join('|')})://[^\\s]+$` });
const hostPort = { type: 'string', pattern: '^[^\\s:/]+:\\d{1,5}$' };
const CLAIM = { type: 'string', pattern: '^[A-Za-z0-9_:./-]{1,255}$' };

/** Every environment variable Throughcare reads. */
export const VARIABLES: readonly VariableSpec[] = [
  {
    name: 'NODE_ENV',
    description: 'Deployment kind; `production` refuses embedded defaults',
    default: 'development',
    expects: 'one of development, test, production',
    schema: { enum: ['development', 'test', 'production'] },
  },
  {
    name: 'HOST',
    description: 'Interface the HTTP server binds to',
    default: '127.0.0.1',
    expects: 'a host name or IP address',
    schema: { type: 'string', minLength: 1 },
  },
  {
    name: 'PORT',
    description: 'HTTP port of the health and readiness endpoints (`/health`, `/ready`)',
    default: '3000',
    expects: 'an integer from 1 to 65535',
    schema: { type: 'integer', minimum: 1, maximum: 65535 },
  },
  {
    name: 'DATA_DIR',
    description: 'Directory for embedded parts’ data (PostgreSQL cluster, ...)',
    default: '.data',
    expects: 'a directory path',
    schema: { type: 'string', minLength: 1 },
  },
  {
    name: 'DATABASE_URL',
    description: 'PostgreSQL to use instead of the embedded one',
    expects: 'a postgres:// or postgresql:// URL',
    schema: url(['postgres', 'postgresql']),
    secret: true,
    requiredInProduction: true,
  },
  {
    name: 'SIMULATION_DATABASE_URL',
    description:
      'PostgreSQL database for pathway simulations (the designer, `pathway test`), never the record store’s; unset: `<database>_simulation` on the same server, created on first use',
    expects: 'a postgres:// or postgresql:// URL',
    schema: url(['postgres', 'postgresql']),
    secret: true,
  },
  {
    name: 'TEMPORAL_ADDRESS',
    description: 'Temporal frontend to use instead of the embedded server',
    expects: 'host:port, e.g. temporal.example.org:7233',
    schema: hostPort,
    requiredInProduction: true,
  },
  {
    name: 'TEMPORAL_NAMESPACE',
    description: 'Temporal namespace for cases',
    default: 'default',
    expects: 'a namespace name',
    schema: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,255}$' },
  },
  {
    name: 'TEMPORAL_TASK_QUEUE',
    description: 'Task queue the workers poll',
    default: 'throughcare',
    expects: 'a task queue name',
    schema: { type: 'string', minLength: 1 },
  },
  {
    name: 'SPINE_BASE_URL',
    description: 'NHS API platform base URL instead of the embedded Spine sandbox',
    expects: 'an http(s) URL, e.g. https://int.api.service.nhs.uk',
    schema: url(['http', 'https']),
    requiredInProduction: true,
  },
  {
    name: 'SPINE_TOKEN_URL',
    description: 'OAuth2 token endpoint for application-restricted access',
    expects: 'an http(s) URL',
    schema: url(['http', 'https']),
  },
  {
    name: 'SPINE_API_KEY',
    description: 'NHS API platform application key (JWT iss/sub)',
    expects: 'a non-empty string',
    schema: { type: 'string', minLength: 1 },
    secret: true,
  },
  {
    name: 'SPINE_PRIVATE_KEY_PATH',
    description: 'PEM file of the RSA key that signs the client assertion',
    expects: 'a file path',
    schema: { type: 'string', minLength: 1 },
  },
  {
    name: 'SPINE_KEY_ID',
    description: 'Key id (`kid`) registered for that key',
    expects: 'a non-empty string',
    schema: { type: 'string', minLength: 1 },
  },
  {
    name: 'SPINE_ODS_CODE',
    description: 'ODS code sent as NHSD-End-User-Organisation-ODS',
    expects: 'an ODS code such as Y12345',
    schema: { type: 'string', pattern: '^[A-Z0-9]{3,10}$' },
  },
  {
    name: 'NOTIFY_API_KEY',
    description: 'GOV.UK Notify API key; notifications go through Notify when set',
    expects: 'a Notify API key',
    schema: { type: 'string', minLength: 1 },
    secret: true,
  },
  {
    name: 'SMTP_URL',
    description: 'SMTP server for notifications when Notify is not configured',
    expects: 'an smtp:// or smtps:// URL',
    schema: url(['smtp', 'smtps']),
    secret: true,
  },
  {
    name: 'OIDC_ISSUER_URL',
    description:
      'OpenID Connect issuer whose bearer tokens the API accepts (keys found through its discovery document); unset in development runs the built-in development issuer at /dev-oidc',
    expects: 'an http(s) URL, the issuer exactly as its tokens name it',
    schema: url(['http', 'https']),
    requiredInProduction: true,
  },
  {
    name: 'OIDC_AUDIENCE',
    description: 'Audience (`aud`) the API requires in bearer tokens',
    default: 'throughcare-api',
    expects: 'a non-empty string',
    schema: { type: 'string', minLength: 1 },
  },
  {
    name: 'OIDC_ROLES_CLAIM',
    description: 'Token claim carrying the roles (a dotted path for a nested claim, e.g. realm_access.roles)',
    default: 'roles',
    expects: 'a claim name or dotted path',
    schema: CLAIM,
  },
  {
    name: 'OIDC_SETTINGS_CLAIM',
    description: 'Token claim carrying the ODS codes of the settings the person works in',
    default: 'settings',
    expects: 'a claim name or dotted path',
    schema: CLAIM,
  },
  {
    name: 'OIDC_CLIENT_ID',
    description: 'Client id Throughcare signs people in with at OIDC_ISSUER_URL (browser sign-in)',
    expects: 'a non-empty string',
    schema: { type: 'string', minLength: 1 },
  },
  {
    name: 'OIDC_CLIENT_SECRET',
    description: 'Secret of OIDC_CLIENT_ID at the issuer, when it has one',
    expects: 'a non-empty string',
    schema: { type: 'string', minLength: 1 },
    secret: true,
  },
  {
    name: 'PUBLIC_URL',
    description:
      'Address people reach Throughcare at, e.g. https://throughcare.example.nhs.uk behind a TLS proxy: the browser sign-in returns to PUBLIC_URL/auth/callback, and an https address makes the session cookie Secure',
    default: 'the server’s own http://HOST:PORT',
    expects: 'an http(s) URL without a path, e.g. https://throughcare.example.nhs.uk',
    schema: { type: 'string', pattern: '^https?://[^\\s/?#]+/?$' },
  },
  {
    name: 'SESSION_SECRET',
    description:
      'Signs the browser session cookie; required in production with OIDC_CLIENT_ID, else generated once and kept in DATA_DIR/session/secret',
    expects: 'a random string of at least 32 characters',
    schema: { type: 'string', minLength: 32 },
    secret: true,
  },
  {
    name: 'SESSION_IDLE_TIMEOUT',
    description: 'Seconds a browser session lasts without a request before it must sign in again',
    default: '1800',
    expects: 'a number of seconds from 1 to 86400',
    schema: { type: 'integer', minimum: 1, maximum: 86400 },
  },
  {
    name: 'SESSION_MAX_LIFETIME',
    description: 'Seconds after sign-in a browser session ends however active it is',
    default: '43200',
    expects: 'a number of seconds from 1 to 604800',
    schema: { type: 'integer', minimum: 1, maximum: 604800 },
  },
  {
    name: 'THROUGHCARE_URL',
    description:
      'Where the `case`, `task` and `pathway` commands send their requests (the API of a Throughcare server); `--url` overrides it',
    default: 'the `throughcare up` running on DATA_DIR, else http://localhost:PORT',
    expects: 'an http(s) URL, e.g. https://throughcare.example.nhs.uk',
    schema: { type: 'string', pattern: '^https?://[^\\s/?#]+(/[^\\s?#]*)?$' },
  },
  {
    name: 'THROUGHCARE_TOKEN',
    description:
      'The bearer token the `case`, `task` and `pathway` commands sign in with (from your organisation’s OIDC sign-in, or `throughcare dev-token` in development); `--token` overrides it',
    expects: 'a bearer token (a JWT)',
    schema: { type: 'string', minLength: 1 },
    secret: true,
  },
  {
    name: 'METRICS_TOKEN',
    description:
      'Bearer token a Prometheus scrape of /metrics must send (Authorization: Bearer ...); unset, /metrics needs no sign-in (it holds no personal data)',
    expects: 'a random token of at least 16 characters (letters, digits and ._~+/- only)',
    schema: { type: 'string', minLength: 16, pattern: '^[A-Za-z0-9._~+/-]+=*$' },
    secret: true,
  },
  {
    name: 'LOG_LEVEL',
    description: 'Least severe log level written',
    default: 'info',
    expects: `one of ${LOG_LEVELS.join(', ')}`,
    schema: { enum: [...LOG_LEVELS] },
  },
  {
    name: 'LOG_FORMAT',
    description: '`pretty` for terminals, `json` for log shippers',
    default: 'pretty on a terminal, json otherwise',
    expects: 'pretty or json',
    schema: { enum: ['pretty', 'json'] },
  },
];

const SPINE_AUTH = ['SPINE_TOKEN_URL', 'SPINE_API_KEY', 'SPINE_PRIVATE_KEY_PATH', 'SPINE_KEY_ID'] as const;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const ajv = new Ajv({ allErrors: true, coerceTypes: true, strict: true });
const validateEnv = ajv.compile({
  type: 'object',
  properties: Object.fromEntries(VARIABLES.map((v) => [v.name, v.schema])),
});

type Env = Record<string, string | undefined>;

/**
 * Reads and validates the configuration. Throws {@link ConfigError} listing every problem, each naming
 * the variable, what it expects and what it got (secrets are never echoed).
 */
export function loadConfig(env: Env = process.env, options: { cwd?: string; isTty?: boolean } = {}): Config {
  // Empty strings count as unset: `PORT= npm start` should mean "default", not "invalid".
  const raw: Record<string, unknown> = {};
  for (const v of VARIABLES) {
    const value = env[v.name];
    if (value !== undefined && value.trim() !== '') raw[v.name] = value.trim();
  }
  const given = { ...raw };

  const problems: string[] = [];
  if (!validateEnv(raw)) {
    for (const error of validateEnv.errors ?? []) problems.push(describe(error, given));
  }
  if (raw.NODE_ENV === 'production') {
    for (const v of VARIABLES.filter((x) => x.requiredInProduction && raw[x.name] === undefined)) {
      problems.push(
        `${v.name} is required when NODE_ENV=production (embedded defaults are for development); expected ${v.expects}`,
      );
    }
  }
  const authSet = SPINE_AUTH.filter((name) => raw[name] !== undefined);
  if (authSet.length > 0 && authSet.length < SPINE_AUTH.length) {
    const missing = SPINE_AUTH.filter((name) => raw[name] === undefined);
    problems.push(
      `${missing.join(', ')} must be set together with ${authSet.join(', ')} for Spine application-restricted access`,
    );
  }
  // The browser sign-in in production: its callback must be the public address, its cookie signed by a kept secret.
  if (raw.NODE_ENV === 'production' && raw.OIDC_CLIENT_ID !== undefined) {
    for (const name of ['PUBLIC_URL', 'SESSION_SECRET'].filter((n) => raw[n] === undefined))
      problems.push(`${name} is required when NODE_ENV=production and OIDC_CLIENT_ID is set (browser sign-in)`);
  }
  // Simulated cases are made up: they must never land among real people's records.
  if (raw.SIMULATION_DATABASE_URL !== undefined && raw.SIMULATION_DATABASE_URL === raw.DATABASE_URL)
    problems.push('SIMULATION_DATABASE_URL must not be DATABASE_URL: simulations need a database of their own');
  if (problems.length > 0) throw new ConfigError(problems);

  const str = (name: string): string | undefined => raw[name] as string | undefined;
  const logFormat = str('LOG_FORMAT');
  const config: Config = {
    nodeEnv: (str('NODE_ENV') ?? 'development') as Config['nodeEnv'],
    host: str('HOST') ?? '127.0.0.1',
    port: (raw.PORT as number | undefined) ?? 3000,
    dataDir: path.resolve(options.cwd ?? process.cwd(), str('DATA_DIR') ?? '.data'),
    databaseUrl: str('DATABASE_URL'),
    simulationDatabaseUrl: str('SIMULATION_DATABASE_URL'),
    temporal: {
      address: str('TEMPORAL_ADDRESS'),
      namespace: str('TEMPORAL_NAMESPACE') ?? 'default',
      taskQueue: str('TEMPORAL_TASK_QUEUE') ?? 'throughcare',
    },
    spine: {
      baseUrl: str('SPINE_BASE_URL'),
      tokenUrl: str('SPINE_TOKEN_URL'),
      apiKey: str('SPINE_API_KEY'),
      privateKeyPath: str('SPINE_PRIVATE_KEY_PATH'),
      keyId: str('SPINE_KEY_ID'),
      odsCode: str('SPINE_ODS_CODE'),
    },
    notify: { apiKey: str('NOTIFY_API_KEY'), smtpUrl: str('SMTP_URL') },
    oidc: {
      issuerUrl: str('OIDC_ISSUER_URL'),
      audience: str('OIDC_AUDIENCE') ?? 'throughcare-api',
      rolesClaim: str('OIDC_ROLES_CLAIM') ?? 'roles',
      settingsClaim: str('OIDC_SETTINGS_CLAIM') ?? 'settings',
      clientId: str('OIDC_CLIENT_ID'),
      clientSecret: str('OIDC_CLIENT_SECRET'),
    },
    publicUrl: str('PUBLIC_URL')?.replace(/\/+$/, ''),
    session: {
      secret: str('SESSION_SECRET'),
      idleTimeoutSeconds: (raw.SESSION_IDLE_TIMEOUT as number | undefined) ?? 1800,
      maxLifetimeSeconds: (raw.SESSION_MAX_LIFETIME as number | undefined) ?? 43200,
    },
    client: { url: str('THROUGHCARE_URL')?.replace(/\/+$/, ''), token: str('THROUGHCARE_TOKEN') },
    log: {
      level: (str('LOG_LEVEL') ?? 'info') as LogLevel,
      pretty: logFormat ? logFormat === 'pretty' : (options.isTty ?? process.stdout.isTTY === true),
    },
    metrics: { token: str('METRICS_TOKEN') },
  };
  return deepFreeze(config);
}

function describe(error: ErrorObject, given: Record<string, unknown>): string {
  const name = error.instancePath.replace(/^\//, '');
  const spec = VARIABLES.find((v) => v.name === name);
  if (!spec) return `configuration ${error.message ?? 'is invalid'}`;
  const got = spec.secret ? '' : ` (got ${JSON.stringify(given[name])})`;
  return `${name} must be ${spec.expects}${got}`;
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (child && typeof child === 'object') deepFreeze(child as object);
  }
  return Object.freeze(value);
}

/** The effective configuration with secrets masked, for `throughcare config` and start-up logs. */
export function describeConfig(config: Config): Record<string, string> {
  const mask = (v: string | undefined) => (v === undefined ? '(unset)' : '****');
  return {
    NODE_ENV: config.nodeEnv,
    HOST: config.host,
    PORT: String(config.port),
    DATA_DIR: config.dataDir,
    DATABASE_URL: config.databaseUrl === undefined ? '(embedded)' : redactUrl(config.databaseUrl),
    SIMULATION_DATABASE_URL:
      config.simulationDatabaseUrl === undefined
        ? '(<database>_simulation beside the record store)'
        : redactUrl(config.simulationDatabaseUrl),
    TEMPORAL_ADDRESS: config.temporal.address ?? '(embedded)',
    TEMPORAL_NAMESPACE: config.temporal.namespace,
    TEMPORAL_TASK_QUEUE: config.temporal.taskQueue,
    SPINE_BASE_URL: config.spine.baseUrl ?? '(embedded sandbox)',
    SPINE_API_KEY: mask(config.spine.apiKey),
    NOTIFY_API_KEY: mask(config.notify.apiKey),
    SMTP_URL: config.notify.smtpUrl === undefined ? '(unset)' : redactUrl(config.notify.smtpUrl),
    OIDC_ISSUER_URL:
      config.oidc.issuerUrl ?? (config.nodeEnv === 'development' ? '(development issuer at /dev-oidc)' : '(unset)'),
    OIDC_AUDIENCE: config.oidc.audience,
    OIDC_ROLES_CLAIM: config.oidc.rolesClaim,
    OIDC_SETTINGS_CLAIM: config.oidc.settingsClaim,
    OIDC_CLIENT_ID: config.oidc.clientId ?? '(unset)',
    OIDC_CLIENT_SECRET: mask(config.oidc.clientSecret),
    PUBLIC_URL: config.publicUrl ?? '(the server’s own address)',
    SESSION_SECRET: mask(config.session.secret),
    SESSION_IDLE_TIMEOUT: String(config.session.idleTimeoutSeconds),
    SESSION_MAX_LIFETIME: String(config.session.maxLifetimeSeconds),
    METRICS_TOKEN: mask(config.metrics.token),
    LOG_LEVEL: config.log.level,
    LOG_FORMAT: config.log.pretty ? 'pretty' : 'json',
  };
}

/** Hides the password of a connection URL. */
export function redactUrl(value: string): string {
  try {
    const parsed = new URL(value);
    if (parsed.password) parsed.password = '****';
    return parsed.toString();
  } catch {
    return '****';
  }
}
