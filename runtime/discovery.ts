/**
 * A running `throughcare up` writes where its embedded parts listen to DATA_DIR/runtime.json, so that
 * one-shot commands (`throughcare case start`, ...) can reach them without being told.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

export interface RuntimeInfo {
  readonly pid: number;
  readonly httpUrl: string;
  readonly temporalAddress?: string;
  readonly spineBaseUrl?: string;
}

const FILE = 'runtime.json';

export async function writeRuntimeInfo(dataDir: string, info: RuntimeInfo): Promise<void> {
  await fs.mkdir(dataDir, { recursive: true });
  await fs.writeFile(path.join(dataDir, `${FILE}.tmp`), JSON.stringify(info, null, 2));
  await fs.rename(path.join(dataDir, `${FILE}.tmp`), path.join(dataDir, FILE));
}

export async function removeRuntimeInfo(dataDir: string): Promise<void> {
  await fs.rm(path.join(dataDir, FILE), { force: true });
}

/** What the running `throughcare up` for this DATA_DIR published, or undefined when none is running. */
export async function readRuntimeInfo(dataDir: string): Promise<RuntimeInfo | undefined> {
  let info: RuntimeInfo;
  try {
    info = JSON.parse(await fs.readFile(path.join(dataDir, FILE), 'utf8')) as RuntimeInfo;
  } catch {
    return undefined;
  }
  try {
    process.kill(info.pid, 0);
    return info;
  } catch {
    return undefined;
  }
}
