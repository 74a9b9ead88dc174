import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, describeConfig, loadConfig, VARIABLES } from '.';

const load = (env: Record<string, string>) => loadConfig(env, { cwd: '/srv/throughcare', isTty: false });

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('uses the embedded defaults when nothing is set', () => {
    const config = load({});
    expect(config).toMatchObject({
      nodeEnv: 'development',
      host: '127.0.0.1',
      port: 3000,
      dataDir: path.resolve('/srv/throughcare', '.data'),
      databaseUrl: undefined,
      temporal: { address: undefined, namespace: 'default', taskQueue: 'throughcare' },
      spine: { baseUrl: undefined },
      log: { level: 'info', pretty: false },
    });
  });

  it('reads each variable that is set', () => {
    const config = load({
      PORT: '8080',
      DATA_DIR: '/var/lib/throughcare',
      DATABASE_URL: 'postgres://u:p@db:5432/tc',
      TEMPORAL_ADDRESS: 'temporal:7233',
      TEMPORAL_NAMESPACE: 'health',
      SPINE_BASE_URL: 'https://int.api.service.nhs.uk',
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'pretty',
    });
    expect(config.port).toBe(8080);
    expect(config.dataDir).toBe('/var/lib/throughcare');
    expect(config.databaseUrl).toBe('postgres://u:p@db:5432/tc');
    expect(config.temporal).toMatchObject({ address: 'temporal:7233', namespace: 'health' });
    expect(config.spine.baseUrl).toBe('https://int.api.service.nhs.uk');
    expect(config.log).toEqual({ level: 'debug', pretty: true });
  });

  it('treats an empty value as unset', () => {
    expect(load({ PORT: '' }).port).toBe(3000);
  });

  it('names the variable and what it expects when PORT is not a number', () => {
    expect(problemsOf({ PORT: 'abc' })).toEqual(['PORT must be an integer from 1 to 65535 (got "abc")']);
  });

  it('rejects a port out of range', () => {
    expect(problemsOf({ PORT: '70000' })[0]).toMatch(/^PORT must be an integer from 1 to 65535/);
  });

  it('reports every problem at once', () => {
    const problems = problemsOf({
      PORT: 'abc',
      LOG_LEVEL: 'loud',
      TEMPORAL_ADDRESS: 'no-port',
      DATABASE_URL: 'mysql://x',
    });
    expect(problems.map((p) => p.split(' ')[0]).sort()).toEqual([
      'DATABASE_URL',
      'LOG_LEVEL',
      'PORT',
      'TEMPORAL_ADDRESS',
    ]);
  });

  it('never echoes a secret in an error', () => {
    const [problem] = problemsOf({ DATABASE_URL: 'not a url with password hunter2' });
    expect(problem).toBe('DATABASE_URL must be a postgres:// or postgresql:// URL');
  });

  it('refuses embedded defaults in production', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    expect(problems).toEqual([
      expect.stringMatching(/^DATABASE_URL is required when NODE_ENV=production/),
      expect.stringMatching(/^TEMPORAL_ADDRESS is required when NODE_ENV=production/),
      expect.stringMatching(/^SPINE_BASE_URL is required when NODE_ENV=production/),
      expect.stringMatching(/^OIDC_ISSUER_URL is required when NODE_ENV=production/),
    ]);
  });

  it('reads the sign-in settings, with the development issuer when no issuer is set', () => {
    expect(load({}).oidc).toEqual({
      issuerUrl: undefined,
      audience: 'throughcare-api',
      rolesClaim: 'roles',
      settingsClaim: 'settings',
      clientId: undefined,
      clientSecret: undefined,
    });
    const config = load({
      OIDC_ISSUER_URL: 'https://login.example.org/realms/nhs',
      OIDC_ROLES_CLAIM: 'realm_access.roles',
      OIDC_CLIENT_SECRET: 'hunter2',
    });
    expect(config.oidc).toMatchObject({
      issuerUrl: 'https://login.example.org/realms/nhs',
      rolesClaim: 'realm_access.roles',
    });
    expect(JSON.stringify(describeConfig(config))).not.toContain('hunter2');
    expect(problemsOf({ OIDC_ROLES_CLAIM: 'roles claim' })[0]).toMatch(/^OIDC_ROLES_CLAIM must be a claim name/);
  });

  it('reads the simulation database, refusing the record store’s own and masking its password', () => {
    expect(load({}).simulationDatabaseUrl).toBeUndefined();
    const config = load({ SIMULATION_DATABASE_URL: 'postgres://sim:hunter2@db:5432/tc_sim' });
    expect(config.simulationDatabaseUrl).toBe('postgres://sim:hunter2@db:5432/tc_sim');
    expect(JSON.stringify(describeConfig(config))).not.toContain('hunter2');
    expect(
      problemsOf({ DATABASE_URL: 'postgres://u:p@db:5432/tc', SIMULATION_DATABASE_URL: 'postgres://u:p@db:5432/tc' }),
    ).toEqual(['SIMULATION_DATABASE_URL must not be DATABASE_URL: simulations need a database of their own']);
    expect(problemsOf({ SIMULATION_DATABASE_URL: 'mysql://db/tc' })[0]).toMatch(
      /^SIMULATION_DATABASE_URL must be a postgres/,
    );
  });

  it('reads the browser session settings, and requires PUBLIC_URL and SESSION_SECRET for a production client', () => {
    expect(load({})).toMatchObject({
      publicUrl: undefined,
      session: { secret: undefined, idleTimeoutSeconds: 1800, maxLifetimeSeconds: 43200 },
    });
    const secret = 's'.repeat(40);
    const config = load({
      PUBLIC_URL: 'https://tc.example.nhs.uk/',
      SESSION_SECRET: secret,
      SESSION_IDLE_TIMEOUT: '600',
    });
    expect(config.publicUrl).toBe('https://tc.example.nhs.uk');
    expect(config.session.idleTimeoutSeconds).toBe(600);
    expect(JSON.stringify(describeConfig(config))).not.toContain(secret);
    expect(problemsOf({ PUBLIC_URL: 'https://tc.example.nhs.uk/app' })[0]).toMatch(
      /^PUBLIC_URL must be an http\(s\) URL without a path/,
    );
    expect(problemsOf({ SESSION_SECRET: 'short' })).toEqual([
      'SESSION_SECRET must be a random string of at least 32 characters',
    ]);
    const production = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://db/tc',
      TEMPORAL_ADDRESS: 'temporal:7233',
      SPINE_BASE_URL: 'https://int.api.service.nhs.uk',
      OIDC_ISSUER_URL: 'https://login.example.org/realms/nhs',
    };
    expect(() => load(production)).not.toThrow();
    expect(problemsOf({ ...production, OIDC_CLIENT_ID: 'throughcare' })).toEqual([
      expect.stringMatching(/^PUBLIC_URL is required when NODE_ENV=production and OIDC_CLIENT_ID is set/),
      expect.stringMatching(/^SESSION_SECRET is required when NODE_ENV=production and OIDC_CLIENT_ID is set/),
    ]);
  });

  it('requires the Spine credentials together', () => {
    expect(problemsOf({ SPINE_API_KEY: 'k' })).toEqual([
      'SPINE_TOKEN_URL, SPINE_PRIVATE_KEY_PATH, SPINE_KEY_ID must be set together with SPINE_API_KEY for Spine application-restricted access',
    ]);
  });

  it('returns a frozen object', () => {
    const config = load({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.temporal)).toBe(true);
  });
});

describe('describeConfig', () => {
  it('masks passwords and secrets', () => {
    const shown = describeConfig(load({ DATABASE_URL: 'postgres://tc:hunter2@db/tc', NOTIFY_API_KEY: 'key-123' }));
    expect(JSON.stringify(shown)).not.toMatch(/hunter2|key-123/);
    expect(shown.DATABASE_URL).toBe('postgres://tc:****@db/tc');
  });

  it('documents every variable it reads', () => {
    for (const v of VARIABLES) expect(v.description.length).toBeGreaterThan(10);
  });
});

describe('README', () => {
  it('documents every variable Throughcare reads', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
    for (const v of VARIABLES) expect(readme).toContain(`\`${v.name}\``);
  });
});
