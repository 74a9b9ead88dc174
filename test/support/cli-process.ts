/**
 * Runs the real `throughcare` command as a child process, the way a person or CI does, and watches its
 * output. Used by tests of `up` and of other long-running commands.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';

const BIN = path.resolve(__dirname, '../../bin/throughcare.js');

export interface CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Only what was written to stdout (results; logs go to stderr). */
  stdout(): string;
  /** Resolves with the first match of `pattern` in the output; rejects if the process exits first or time runs out. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  exited(): Promise<number | string>;
}

export function runCli(args: string[], env: Record<string, string | undefined> = {}): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, LOG_FORMAT: 'json', LOG_LEVEL: 'info', ...env },
    stdio: 'pipe',
  });
  let output = '';
  let stdout = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const l of listeners) l();
  };
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    onData(chunk);
  });
  child.stderr.on('data', onData);
  const exit = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve(code ?? signal ?? 'unknown');
      for (const l of listeners) l();
    });
  });

  return {
    child,
    output: () => output,
    stdout: () => stdout,
    exited: () => exit,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = output.match(pattern);
          if (match) return finish(() => resolve(match));
          if (child.exitCode !== null || child.signalCode !== null) {
            return finish(() => reject(new Error(`process exited before ${pattern} appeared:\n${output}`)));
          }
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`timed out waiting for ${pattern}:\n${output}`))),
          timeoutMs,
        );
        const finish = (fn: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          fn();
        };
        listeners.add(check);
        check();
      });
    },
  };
}
