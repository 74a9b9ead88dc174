/**
 * `throughcare up` as a newcomer runs it: a real process with the embedded PostgreSQL, stopped with the
 * signal Ctrl-C sends, started again on the same data.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { freePort } from '../../store/embedded-postgres';
import { runCli } from '../support/cli-process';

jest.setTimeout(120_000);

async function instanceUrl(dataDir: string): Promise<string> {
  const instance = JSON.parse(await fs.readFile(path.join(dataDir, 'postgres', 'instance.json'), 'utf8')) as {
    port: number;
    user: string;
    password: string;
  };
  return `postgres://${instance.user}:${encodeURIComponent(instance.password)}@127.0.0.1:${instance.port}/throughcare`;
}

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('throughcare up', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'throughcare-up-'));
  });

  afterAll(async () => {
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('starts the embedded database, reports ready, stops cleanly on SIGINT and reuses the data next time', async () => {
    const port = await freePort();
    const first = runCli(['up'], { PORT: String(port), DATA_DIR: dataDir });
    await first.waitFor(/Throughcare is ready at http:\/\/localhost:\d+/);

    const ready = await fetch(`http://127.0.0.1:${port}/ready`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { dependencies: Record<string, { status: string; embedded: boolean }> };
    expect(body.dependencies.database).toMatchObject({ status: 'up', embedded: true });
    expect(body.dependencies.spine).toMatchObject({ status: 'up', embedded: true });
    expect(body.dependencies.temporal).toMatchObject({ status: 'up', embedded: true });
    expect(first.output()).toMatch(/deployed shipped pathway sms-prison v1/);
    const runtime = JSON.parse(await fs.readFile(path.join(dataDir, 'runtime.json'), 'utf8'));
    expect(runtime).toMatchObject({
      pid: first.child.pid,
      httpUrl: `http://localhost:${port}`,
      temporalAddress: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
    });

    const url = await instanceUrl(dataDir);
    await query(url, "CREATE TABLE kept (note text); INSERT INTO kept VALUES ('still here')");
    const postgresPid = Number(
      (await fs.readFile(path.join(dataDir, 'postgres', 'pgdata', 'postmaster.pid'), 'utf8')).split('\n')[0],
    );

    first.child.kill('SIGINT');
    expect(await first.exited()).toBe(0);
    expect(first.output()).toMatch(/embedded PostgreSQL stopped/);
    expect(isRunning(postgresPid)).toBe(false);

    const second = runCli(['up'], { PORT: String(port), DATA_DIR: dataDir });
    await second.waitFor(/Throughcare is ready/);
    expect(second.output()).not.toMatch(/initialising embedded PostgreSQL cluster/);
    expect(second.output()).not.toMatch(/deployed shipped pathway/);
    expect(await query(url, 'SELECT note FROM kept')).toEqual([{ note: 'still here' }]);
    second.child.kill('SIGTERM');
    expect(await second.exited()).toBe(0);
  });

  it('recovers the database left running when the previous process was killed', async () => {
    const port = await freePort();
    const killed = runCli(['up'], { PORT: String(port), DATA_DIR: dataDir });
    await killed.waitFor(/Throughcare is ready/);
    killed.child.kill('SIGKILL');
    await killed.exited();

    const next = runCli(['up'], { PORT: String(port), DATA_DIR: dataDir });
    await next.waitFor(/Throughcare is ready/);
    expect(next.output()).toMatch(/stopping a PostgreSQL server left running by a previous process/);
    expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(200);
    next.child.kill('SIGINT');
    expect(await next.exited()).toBe(0);
  });

  it('refuses a second process on the same data directory', async () => {
    const first = runCli(['up'], { PORT: String(await freePort()), DATA_DIR: dataDir });
    await first.waitFor(/Throughcare is ready/);
    const second = runCli(['up'], { PORT: String(await freePort()), DATA_DIR: dataDir });
    expect(await second.exited()).toBe(1);
    expect(second.output()).toMatch(/in use by another Throughcare process/);
    first.child.kill('SIGINT');
    expect(await first.exited()).toBe(0);
  });

  it('stops what has started when interrupted during start-up', async () => {
    const run = runCli(['up'], { PORT: String(await freePort()), DATA_DIR: dataDir });
    await run.waitFor(/embedded PostgreSQL ready/);
    const postgresPid = Number(
      (await fs.readFile(path.join(dataDir, 'postgres', 'pgdata', 'postmaster.pid'), 'utf8')).split('\n')[0],
    );
    run.child.kill('SIGINT');
    expect(await run.exited()).toBe(0);
    expect(run.output()).toMatch(/start-up interrupted|embedded PostgreSQL stopped/);
    expect(isRunning(postgresPid)).toBe(false);
  });

  it('exits with status 2 naming PORT when PORT is not a number', async () => {
    const run = runCli(['up'], { PORT: 'abc', DATA_DIR: dataDir });
    expect(await run.exited()).toBe(2);
    expect(run.output()).toContain('PORT must be an integer from 1 to 65535 (got "abc")');
  });

  it('exits with status 1 and a clear message when the port is taken', async () => {
    const port = await freePort();
    const first = runCli(['up'], { PORT: String(port), DATA_DIR: dataDir });
    await first.waitFor(/HTTP server listening/);
    const second = runCli(['up'], { PORT: String(port), DATA_DIR: path.join(dataDir, 'other') });
    expect(await second.exited()).toBe(1);
    expect(second.output()).toContain(`Port ${port} on 127.0.0.1 is already in use`);
    first.child.kill('SIGINT');
    await first.exited();
  });
});

describe('throughcare migrate', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'throughcare-migrate-'));
  });

  afterAll(async () => {
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('lists pending migrations, applies them once, then reports the database up to date', async () => {
    const status = runCli(['migrate', '--status', '--json'], { DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
    expect(await status.exited()).toBe(0);
    const { pending } = JSON.parse(status.stdout()) as { pending: string[] };
    expect(pending.length).toBeGreaterThan(0);

    const apply = runCli(['migrate', '--json'], { DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
    expect(await apply.exited()).toBe(0);
    expect(JSON.parse(apply.stdout())).toEqual({ kind: 'applied', applied: pending });

    const again = runCli(['migrate'], { DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
    expect(await again.exited()).toBe(0);
    expect(again.output()).toContain('Database is up to date.');
  });

  it('talks to the embedded PostgreSQL of a running `throughcare up`', async () => {
    const up = runCli(['up'], { PORT: String(await freePort()), DATA_DIR: dataDir });
    await up.waitFor(/Throughcare is ready/);
    expect(up.output()).toMatch(/database schema is up to date|applied \d+ migration/);
    const status = runCli(['migrate', '--status'], { DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
    expect(await status.exited()).toBe(0);
    expect(status.output()).toContain('No pending migrations.');
    up.child.kill('SIGINT');
    expect(await up.exited()).toBe(0);
  });
});

describe('throughcare spine-sandbox', () => {
  it('prints its base URL and serves the PDS sandbox test patient until stopped', async () => {
    const sandbox = runCli(['spine-sandbox', '--port', '0']);
    const [, baseUrl] = await sandbox.waitFor(/Spine sandbox listening on (http:\/\/\S+)/);
    const res = await fetch(`${baseUrl}/personal-demographics/FHIR/R4/Patient/9000000009`, {
      headers: { 'X-Request-ID': '60e4a7c2-5a1c-4d0c-a6f4-0f5a8d2e7b11' },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { id: string }).id).toBe('9000000009');
    sandbox.child.kill('SIGINT');
    expect(await sandbox.exited()).toBe(0);
  });
});
