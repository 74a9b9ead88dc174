/**
 * The browser sign-in over real HTTP: the app with the real development issuer (oidc-provider) and the real
 * identity part, run as its own process (test/support/sign-in-server.ts) on this file's own PostgreSQL, whose
 * `web_sessions` table keeps the sessions. A browser is a cookie jar that follows redirects step by step.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { addStaff, deactivateStaff, listStaff } from '../../engine';
import { silentLogger } from '../../log';
import { ensureDemoSettings } from '../../runtime/default-content';
import { migrateDatabase, openStore } from '../../store';
import { freePort } from '../../store/embedded-postgres';
import { Browser, csrfTokenOf, signIn, signInAtIssuer } from '../support/browser-session';
import { useFreshDatabase } from '../support/database';
import { useMigratedStore } from '../store/store-fixture';

jest.setTimeout(120_000);

const SERVER = path.resolve(__dirname, '../support/sign-in-server.ts');
const SESSION_COOKIE = 'throughcare.sid';

interface RunningServer {
  readonly base: string;
  stop(): Promise<void>;
}

async function startServer(
  env: Record<string, string>,
  args: string[] = [],
): Promise<RunningServer & { child: ChildProcessWithoutNullStreams }> {
  const child = spawn(process.execPath, ['-r', 'tsx/cjs', SERVER, ...args], {
    env: { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'warn', LOG_FORMAT: 'json', ...env },
    stdio: 'pipe',
  });
  let output = '';
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sign-in server did not start:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening (\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sign-in server exited (${code}):\n${output}`));
    });
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    base,
    child,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function sessionCookieOf(headers: Headers): string | undefined {
  return headers.getSetCookie().find((cookie) => cookie.startsWith(`${SESSION_COOKIE}=`));
}

describe('browser sign-in', () => {
  const db = useMigratedStore('browser_sign_in');
  let dataDir: string;
  let port: number;
  let server: RunningServer;
  const env = (extra: Record<string, string> = {}) => ({
    DATABASE_URL: db.url,
    DATA_DIR: dataDir,
    PORT: String(port),
    ...extra,
  });

  async function sessionRows(): Promise<number> {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      return (await client.query('select count(*)::int as n from web_sessions')).rows[0].n as number;
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    await ensureDemoSettings(db.store);
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'throughcare-browser-'));
    port = await freePort();
    server = await startServer(env());
    // Stopped before the database is dropped (onClose runs first), and the data directory removed after.
    db.onClose(async () => {
      await server?.stop();
      await fs.rm(dataDir, { recursive: true, force: true });
    });
  });

  it('signs a demo user in with the authorization code flow and PKCE, and shows who is signed in', async () => {
    // Given a browser with no session
    const browser = new Browser(server.base);

    // When it starts the sign-in
    const { start, callbackUrl } = await signInAtIssuer(browser, 'Sam Patel', '/sign-in?returnTo=/?from=test');

    // Then it went to the issuer with PKCE S256, state and nonce, for the development client
    const authorize = new URL(start.location!);
    expect(authorize.origin + authorize.pathname).toBe(`${server.base}/dev-oidc/auth`);
    expect(Object.fromEntries(authorize.searchParams)).toMatchObject({
      client_id: 'throughcare-web',
      response_type: 'code',
      redirect_uri: `${server.base}/auth/callback`,
      code_challenge_method: 'S256',
      code_challenge: expect.stringMatching(/^[\w-]{43}$/),
      state: expect.stringMatching(/.{20,}/),
      nonce: expect.stringMatching(/.{20,}/),
    });
    expect(authorize.searchParams.get('scope')!.split(' ')).toContain('openid');
    const before = browser.cookies.get(SESSION_COOKIE);
    expect(before).toBeDefined();

    // And when the issuer sends it back with the code
    const callback = await browser.request(callbackUrl.href);
    expect(callback.status).toBe(303);
    expect(callback.location).toBe(`${server.base}/?from=test`);
    // a new session id once signed in: a session id known before sign-in is worth nothing after it
    expect(browser.cookies.get(SESSION_COOKIE)).not.toBe(before);

    // Then the start page and /api/v1 know who it is, from the directory
    const home = await browser.request('/');
    expect(home.body).toContain('Signed in as <strong>Sam Patel</strong> (clinician; XCOM01, XPRS01)');
    expect(home.headers.get('cache-control')).toBe('no-store');
    const whoami = await browser.request('/api/v1/whoami');
    expect(whoami.status).toBe(200);
    expect(JSON.parse(whoami.body)).toMatchObject({ name: 'Sam Patel', roles: ['clinician'] });
    // The tokens stay on the server: nothing in the browser's cookies or pages is a JWT.
    expect([...browser.cookies.values()].join(' ') + home.body).not.toMatch(/eyJ[\w-]+\.eyJ/);
  });

  it('sets the session cookie HttpOnly and SameSite=Lax, Secure only when the request came over TLS', async () => {
    const plain = await new Browser(server.base).request('/sign-in');
    const cookie = sessionCookieOf(plain.headers)!;
    expect(cookie).toMatch(/; HttpOnly/i);
    expect(cookie).toMatch(/; SameSite=Lax/i);
    expect(cookie).not.toMatch(/; Secure/i);
    expect(cookie).toMatch(/; Path=\//);

    // A TLS proxy on the loopback interface says so with X-Forwarded-Proto (trust proxy is loopback).
    const proxied = await new Browser(server.base).request('/sign-in', { headers: { 'x-forwarded-proto': 'https' } });
    expect(sessionCookieOf(proxied.headers)).toMatch(/; Secure/i);
  });

  it('keeps a session across a restart of the app on the same database', async () => {
    const browser = new Browser(server.base);
    expect((await signIn(browser, 'Morgan Lead')).status).toBe(303);

    await server.stop();
    server = await startServer(env());

    const home = await browser.request('/');
    expect(home.body).toContain('Signed in as <strong>Morgan Lead</strong> (team-lead; XCOM01, XPRS01)');
  });

  it('refuses sign-out without the CSRF token, and signs out with it, at the issuer too', async () => {
    const browser = new Browser(server.base);
    await signIn(browser, 'Oakley Ops');
    const token = csrfTokenOf((await browser.request('/')).body);

    const forged = await browser.request('/sign-out', { form: {} });
    expect(forged.status).toBe(403);
    expect(forged.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(forged.body).detail).toMatch(/CSRF token/);
    const wrong = await browser.request('/sign-out', { form: { _csrf: `${token}x` } });
    expect(wrong.status).toBe(403);
    expect((await browser.request('/')).body).toContain('Signed in as <strong>Oakley Ops</strong>');

    const rowsBefore = await sessionRows();
    const signedOut = await browser.request('/sign-out', { form: { _csrf: token } });
    expect(signedOut.status).toBe(303);
    const endSession = new URL(signedOut.location!);
    expect(endSession.origin + endSession.pathname).toBe(`${server.base}/dev-oidc/session/end`);
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${server.base}/`);
    expect(endSession.searchParams.get('id_token_hint')).toMatch(/^eyJ/);
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
    expect(await sessionRows()).toBe(rowsBefore - 1);
    expect((await browser.request('/')).body).toContain('You are not signed in');
    expect((await browser.request('/api/v1/whoami')).status).toBe(401);
  });

  it('lets a signed-in browser call /api/v1 with its cookie, unsafe methods only with the CSRF header', async () => {
    const browser = new Browser(server.base);
    await signIn(browser, 'Sam Patel');
    const token = csrfTokenOf((await browser.request('/')).body);
    const json = { 'content-type': 'application/json' };

    const forged = await fetch(`${server.base}/api/v1/cases`, {
      method: 'POST',
      headers: { ...json, cookie: `${SESSION_COOKIE}=${browser.cookies.get(SESSION_COOKIE)}` },
      body: '{}',
    });
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as { detail: string }).detail).toMatch(/CSRF token/);

    const sent = await fetch(`${server.base}/api/v1/cases`, {
      method: 'POST',
      headers: { ...json, cookie: `${SESSION_COOKIE}=${browser.cookies.get(SESSION_COOKIE)}`, 'x-csrf-token': token },
      body: '{}',
    });
    // Past sign-in and CSRF: what remains is the body, which is invalid.
    expect(sent.status).toBe(400);
  });

  it('refuses a callback whose state is not the one this browser was given', async () => {
    const browser = new Browser(server.base);
    const { callbackUrl } = await signInAtIssuer(browser, 'Sam Patel');
    callbackUrl.searchParams.set('state', 'forged-state');

    const callback = await browser.request(callbackUrl.href);
    expect(callback.status).toBe(401);
    expect(callback.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = JSON.parse(callback.body) as { detail: string };
    expect(problem.detail).toMatch(/does not match the sign-in this browser started/);
    expect(callback.body).not.toMatch(/\bat \w+ \(|node_modules/);
    expect((await browser.request('/')).body).toContain('You are not signed in');

    // Nor does a callback reach a browser that never started a sign-in.
    const stranger = await new Browser(server.base).request(callbackUrl.href);
    expect(stranger.status).toBe(401);
    expect(JSON.parse(stranger.body).detail).toMatch(/No sign-in was started in this browser/);
  });

  it('refuses to return anywhere but a path on this site', async () => {
    for (const returnTo of ['https://evil.example/', '//evil.example/', '/\\evil.example']) {
      const browser = new Browser(server.base);
      const res = await browser.request(`/sign-in?returnTo=${encodeURIComponent(returnTo)}`);
      expect(res.status).toBe(400);
      expect(res.location).toBeUndefined();
      expect(JSON.parse(res.body)).toMatchObject({ errors: [{ pointer: '/returnTo' }] });
    }
  });

  it('signs out a person made inactive in the directory at their next request', async () => {
    const browser = new Browser(server.base);
    await addStaff(db.store, {
      name: 'Lee Leaving',
      email: 'lee.leaving@demo.throughcare.test',
      duties: [],
      settings: ['XPRS01'],
    });
    await signIn(browser, 'Lee Leaving');
    expect((await browser.request('/')).body).toContain('Signed in as <strong>Lee Leaving</strong>');

    const [lee] = await listStaff(db.store, { subject: 'mailto:lee.leaving@demo.throughcare.test' });
    await deactivateStaff(db.store, lee!.staffId);

    expect((await browser.request('/')).body).toContain('You are not signed in');
    expect((await browser.request('/api/v1/whoami')).status).toBe(401);
  });

  describe('with an issuer that knows people the staff directory does not', () => {
    let separate: RunningServer;
    // Declared before the issuer's database, so it runs before that database is dropped.
    afterAll(async () => {
      await separate?.stop();
    });
    const issuerDb = useFreshDatabase('browser_sign_in_issuer');

    beforeAll(async () => {
      await migrateDatabase(issuerDb.url, silentLogger);
      const issuerStore = await openStore(issuerDb.url);
      try {
        await ensureDemoSettings(issuerStore);
        await addStaff(issuerStore, {
          name: 'Sasha Stranger',
          email: 'sasha.stranger@elsewhere.test',
          duties: [],
          settings: ['XPRS01'],
        });
      } finally {
        await issuerStore.close();
      }
      separate = await startServer({ ...env(), PORT: String(await freePort()) }, ['--issuer-database', issuerDb.url]);
    });

    it('refuses a person who signed in at the issuer but is not in the staff directory', async () => {
      const browser = new Browser(separate.base);
      const callback = await signIn(browser, 'Sasha Stranger');
      expect(callback.status).toBe(403);
      expect(callback.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(callback.body).detail).toMatch(/not in the Throughcare staff directory/);
      expect((await browser.request('/')).body).toContain('You are not signed in');

      // Someone the directory knows signs in through the same issuer.
      expect((await signIn(new Browser(separate.base), 'Ali Khan')).status).toBe(303);
    });
  });

  describe('with a three-second idle timeout and a seven-second lifetime', () => {
    let idle: RunningServer;

    beforeAll(async () => {
      idle = await startServer({
        ...env(),
        PORT: String(await freePort()),
        SESSION_IDLE_TIMEOUT: '3',
        SESSION_MAX_LIFETIME: '7',
      });
    });

    afterAll(async () => {
      await idle?.stop();
    });

    it('keeps a session that is used, and ends one left idle longer than the timeout', async () => {
      const browser = new Browser(idle.base);
      const callback = await signIn(browser, 'Ada Admin');
      expect(sessionCookieOf(callback.headers)).toMatch(/; Expires=/);

      // Each request renews it: 4 s after sign-in, with a request every 2 s, it is still there.
      await sleep(2_000);
      expect((await browser.request('/')).body).toContain('Signed in as <strong>Ada Admin</strong>');
      await sleep(2_000);
      expect((await browser.request('/')).body).toContain('Signed in as <strong>Ada Admin</strong>');

      // Left alone past the timeout, the server no longer honours it, even with the cookie still sent.
      const cookie = browser.cookies.get(SESSION_COOKIE);
      await sleep(4_000);
      const home = await fetch(`${idle.base}/`, { headers: { cookie: `${SESSION_COOKIE}=${cookie}` } });
      expect(await home.text()).toContain('You are not signed in');
    });

    it('ends a session at its lifetime however busy it is', async () => {
      const browser = new Browser(idle.base);
      await signIn(browser, 'Ada Admin');
      for (let second = 2; second <= 6; second += 2) {
        await sleep(2_000);
        expect((await browser.request('/')).body).toContain('Signed in as <strong>Ada Admin</strong>');
      }
      await sleep(2_000);
      expect((await browser.request('/')).body).toContain('You are not signed in');
    });
  });
});
