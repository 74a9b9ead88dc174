/**
 * What `/ready` reports: each dependency the process needs (database, workflow engine, Spine, worker),
 * whether it is embedded or external, where it is, and its state. A dependency that is up is checked
 * live on each report, so a database that goes away later turns `/ready` back to 503.
 */

export const DEPENDENCY_STATUSES = ['starting', 'up', 'down', 'stopped'] as const;
export type DependencyStatus = (typeof DEPENDENCY_STATUSES)[number];

export interface DependencyReport {
  status: DependencyStatus;
  embedded: boolean;
  location?: string;
  detail?: string;
}

export interface ReadinessReport {
  ready: boolean;
  dependencies: Record<string, DependencyReport>;
}

interface Entry extends DependencyReport {
  check?: () => Promise<void>;
}

const CHECK_TIMEOUT_MS = 2_000;

export class Readiness {
  private readonly entries = new Map<string, Entry>();

  declare(name: string, embedded: boolean): void {
    this.entries.set(name, { status: 'starting', embedded });
  }

  markUp(name: string, location: string, check?: () => Promise<void>): void {
    this.entries.set(name, { ...this.entry(name), status: 'up', location, check, detail: undefined });
  }

  markDown(name: string, detail: string): void {
    this.entries.set(name, { ...this.entry(name), status: 'down', detail, check: undefined });
  }

  markStopped(name: string): void {
    this.entries.set(name, { ...this.entry(name), status: 'stopped', check: undefined });
  }

  async report(): Promise<ReadinessReport> {
    const dependencies: Record<string, DependencyReport> = {};
    await Promise.all(
      [...this.entries].map(async ([name, { check, ...report }]) => {
        dependencies[name] = report;
        if (report.status !== 'up' || !check) return;
        try {
          await withTimeout(check(), CHECK_TIMEOUT_MS);
        } catch (error) {
          dependencies[name] = { ...report, status: 'down', detail: (error as Error).message };
        }
      }),
    );
    const ready = this.entries.size > 0 && Object.values(dependencies).every((d) => d.status === 'up');
    return { ready, dependencies };
  }

  private entry(name: string): Entry {
    const found = this.entries.get(name);
    if (!found) throw new Error(`readiness: dependency ${name} was never declared`);
    return found;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
