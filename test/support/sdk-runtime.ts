/**
 * The Temporal SDK's native runtime can be installed once per process, and jest runs several test files in
 * one worker process: the first call installs it with a quiet logger, later calls keep that one.
 */
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';

export function installQuietRuntime(level: LogLevel = 'WARN'): void {
  try {
    Runtime.install({ logger: new DefaultLogger(level) });
  } catch {
    // Already installed in this process.
  }
}
