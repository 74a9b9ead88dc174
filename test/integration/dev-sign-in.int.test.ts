/**
 * Development sign-in as a newcomer meets it: `throughcare up` with NODE_ENV=development serves the development
 * OpenID Connect issuer at /dev-oidc, and `throughcare dev-token` gives a token that /api/v1 accepts.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../store/embedded-postgres';
import { Browser, csrfTokenOf, signIn } from '../support/browser-session';
import { runCli, type CliProcess } from '../support/cli-process';

jest.setTimeout(180_000);

describe('development sign-in', () => {
  let dataDir: string;
  let port: number;
  let base: string;
  let up: CliProcess;
  const env = () => ({ NODE_ENV: 'development', DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn' });

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'throughcare-sign-in-'));
    port = await freePort();
    base = `http://localhost:${port}`;
    up = runCli(['up'], { ...env(), LOG_LEVEL: 'info' });
    await up.waitFor(/Throughcare is ready at/, 150_000);
  });

  afterAll(async () => {
    up?.child.kill('SIGINT');
    await up?.exited();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('serves the issuer’s discovery document and public keys, the keys kept in the data directory', async () => {
    const discovery = await fetch(`${base}/dev-oidc/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
    const document = (await discovery.json()) as Record<string, unknown>;
    expect(document).toMatchObject({
      issuer: `${base}/dev-oidc`,
      jwks_uri: `${base}/dev-oidc/jwks`,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
    });
    const jwks = (await (await fetch(document.jwks_uri as string)).json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(jwks.keys[0]).not.toHaveProperty('d');
    const keyFile = path.join(dataDir, 'dev-oidc', 'keys.json');
    const kept = JSON.parse(await fs.readFile(keyFile, 'utf8')) as { signing: { kid: string }[] };
    expect(kept.signing[0]!.kid).toBe(jwks.keys[0]!.kid);
    expect((await fs.stat(keyFile)).mode & 0o077).toBe(0);
    expect(up.output()).toMatch(/identity: development OIDC issuer at http:\/\/localhost:\d+\/dev-oidc/);
  });

  it('lists the demo users, and gives a token for one that /api/v1/whoami accepts', async () => {
    const list = runCli(['dev-token', '--list'], env());
    expect(await list.exited()).toBe(0);
    expect(list.stdout()).toMatch(/^Morgan Lead +roles: team-lead +settings: XCOM01, XPRS01$/m);
    for (const role of ['clinician', 'commissioner', 'ops', 'admin'])
      expect(list.stdout()).toMatch(new RegExp(`roles: ${role} `));

    const issued = runCli(['dev-token', '--user', 'Sam Patel', '--ttl', '10m'], env());
    expect(await issued.exited()).toBe(0);
    const token = issued.stdout().trim();
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);

    const whoami = await fetch(`${base}/api/v1/whoami`, { headers: { Authorization: `Bearer ${token}` } });
    expect(whoami.status).toBe(200);
    expect(await whoami.json()).toEqual({
      subject: 'mailto:sam.patel@demo.throughcare.test',
      staffId: expect.any(String),
      name: 'Sam Patel',
      roles: ['clinician'],
      settings: ['XCOM01', 'XPRS01'],
    });

    const without = await fetch(`${base}/api/v1/whoami`);
    expect(without.status).toBe(401);
    expect(without.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });

  it('signs a person in through the browser flow (authorization code with PKCE) from its list of demo users', async () => {
    const cookies = new Map<string, string>();
    const go = async (url: string, init: RequestInit = {}) => {
      const res = await fetch(url, {
        ...init,
        redirect: 'manual',
        headers: {
          ...(init.headers as Record<string, string>),
          cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        },
      });
      for (const cookie of res.headers.getSetCookie()) {
        const [pair] = cookie.split(';');
        const [name, value] = pair!.split('=');
        cookies.set(name!, value ?? '');
      }
      return res;
    };
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const redirectUri = `${base}/auth/callback`;
    const authorize = await go(
      `${base}/dev-oidc/auth?${new URLSearchParams({
        client_id: 'throughcare-web',
        response_type: 'code',
        scope: 'openid profile',
        redirect_uri: redirectUri,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        state: 'xyz',
      }).toString()}`,
    );
    expect(authorize.status).toBe(303);
    const signIn = await go(new URL(authorize.headers.get('location')!, base).href);
    const page = await signIn.text();
    for (const name of ['Morgan Lead', 'Sam Patel', 'Casey Commissioner', 'Oakley Ops', 'Ada Admin'])
      expect(page).toContain(name);
    const action = /action="([^"]+)"/.exec(page)![1]!;
    const subject = /name="subject" value="(mailto:morgan\.lead[^"]*)"/.exec(page)![1]!;

    const chosen = await go(new URL(action, base).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ subject }).toString(),
    });
    expect(chosen.status).toBe(303);
    const resumed = await go(new URL(chosen.headers.get('location')!, base).href);
    const callback = new URL(resumed.headers.get('location')!);
    expect(callback.origin + callback.pathname).toBe(redirectUri);
    const tokens = await fetch(`${base}/dev-oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: callback.searchParams.get('code')!,
        redirect_uri: redirectUri,
        client_id: 'throughcare-web',
        code_verifier: verifier,
      }).toString(),
    });
    expect(tokens.status).toBe(200);
    const { access_token: accessToken } = (await tokens.json()) as { access_token: string };
    const whoami = await fetch(`${base}/api/v1/whoami`, { headers: { Authorization: `Bearer ${accessToken}` } });
    expect(await whoami.json()).toMatchObject({ name: 'Morgan Lead', roles: ['team-lead'] });
  });

  it('signs a person in at /sign-in with a session cookie, the way a browser uses the product', async () => {
    const browser = new Browser(base);
    const callback = await signIn(browser, 'Casey Commissioner');
    expect(callback.status).toBe(303);
    expect(callback.location).toBe(`${base}/`);

    const home = await browser.request('/');
    expect(home.body).toContain(
      'Signed in as <strong>Casey Commissioner</strong> (commissioner; XCOM01, XCRT01, XCUS01, XPRS01)',
    );
    const whoami = await browser.request('/api/v1/whoami');
    expect(JSON.parse(whoami.body)).toMatchObject({ name: 'Casey Commissioner', roles: ['commissioner'] });
    // The cookie-signing secret is made once and kept, readable by its owner only.
    expect((await fs.stat(path.join(dataDir, 'session', 'secret'))).mode & 0o077).toBe(0);

    const signedOut = await browser.request('/sign-out', { form: { _csrf: csrfTokenOf(home.body) } });
    expect(signedOut.location).toMatch(new RegExp(`^${base}/dev-oidc/session/end\\?`));
    expect((await browser.request('/api/v1/whoami')).status).toBe(401);
  });

  it('refuses dev-token with NODE_ENV=production', async () => {
    const refused = runCli(['dev-token', '--user', 'Sam Patel'], {
      ...env(),
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      TEMPORAL_ADDRESS: '127.0.0.1:1',
      SPINE_BASE_URL: 'http://127.0.0.1:1',
      OIDC_ISSUER_URL: 'https://login.example.org/realms/nhs',
    });
    expect(await refused.exited()).toBe(1);
    expect(refused.output()).toContain('dev-token is for development: it is refused with NODE_ENV=production');
  });
});
