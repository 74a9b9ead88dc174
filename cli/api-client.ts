/**
 * The CLI as a client of the HTTP API: `case`, `task` and `pathway` send the user's bearer token to a Throughcare
 * server (THROUGHCARE_URL, else the `throughcare up` running on DATA_DIR, else http://localhost:PORT), so the
 * command line is signed in, scoped and audited like any other client. A problem+json answer becomes the domain
 * error it describes, so failures print as every command prints them (each bad field named; `--json` carries the
 * problem itself).
 */
import type { Command } from 'commander';
import {
  ConflictError,
  DependencyUnavailableError,
  NotFoundError,
  ThroughcareError,
  ValidationError,
  type FieldProblem,
} from '../domain/errors';
import { readRuntimeInfo } from '../runtime/discovery';
import { CommandFailure, EXIT, type CommandContext } from './context';

export interface ApiOptions {
  /** `--url`: overrides THROUGHCARE_URL. */
  readonly url?: string;
  /** `--token`: overrides THROUGHCARE_TOKEN. */
  readonly token?: string;
}

export interface ApiRequest {
  readonly query?: Record<string, string | number | boolean | undefined>;
  /** Sent as JSON, unless `xml` is given. */
  readonly json?: unknown;
  readonly xml?: string;
  readonly headers?: Record<string, string>;
}

export interface ApiClient {
  readonly baseUrl: string;
  request<T>(method: 'GET' | 'POST', path: string, request?: ApiRequest): Promise<T>;
  /** Every item of a paged list, following `nextCursor`. */
  listAll<T>(path: string, query?: ApiRequest['query']): Promise<T[]>;
}

/** A problem+json answer, as RFC 9457 has it. */
export interface Problem {
  readonly type?: string;
  readonly title?: string;
  readonly status: number;
  readonly detail?: string;
  readonly requestId?: string;
  readonly errors?: readonly FieldProblem[];
}

/** The domain error a problem stands for, carrying the problem for `--json`. */
export type ProblemError = ThroughcareError & { readonly problem: Problem };

/** Adds `--url` and `--token` to a command that talks to the API. */
export function withApiOptions(command: Command): Command {
  return command
    .option('--url <url>', 'the Throughcare server (default: THROUGHCARE_URL, else the one running on DATA_DIR)')
    .option('--token <token>', 'the bearer token to sign in with (default: THROUGHCARE_TOKEN)');
}

/** Where to send requests, and with which token; exit status 2 when there is no token, saying how to get one. */
export async function apiClient({ config }: CommandContext, options: ApiOptions = {}): Promise<ApiClient> {
  const token = options.token ?? config.client.token;
  if (!token) {
    const development = config.nodeEnv !== 'production' && config.oidc.issuerUrl === undefined;
    throw new CommandFailure(
      development
        ? 'Sign in first: this command sends your bearer token to the Throughcare API. In development get one with\n' +
            '  export THROUGHCARE_TOKEN=$(npx throughcare dev-token --user "Sam Patel")\n' +
            '(`npx throughcare dev-token --list` shows who you can sign in as), or pass --token'
        : 'Sign in first: set THROUGHCARE_TOKEN to a bearer token from your organisation’s sign-in, or pass --token',
      EXIT.usage,
    );
  }
  const url = options.url ?? config.client.url ?? (await readRuntimeInfo(config.dataDir))?.httpUrl;
  const baseUrl = (url ?? `http://localhost:${config.port}`).replace(/\/+$/, '');
  if (!/^https?:\/\//.test(baseUrl))
    throw new CommandFailure(`--url must be an http(s) URL, not '${baseUrl}'`, EXIT.usage);

  async function request<T>(method: 'GET' | 'POST', path: string, req: ApiRequest = {}): Promise<T> {
    const target = new URL(`${baseUrl}/api/v1${path}`);
    for (const [name, value] of Object.entries(req.query ?? {}))
      if (value !== undefined) target.searchParams.set(name, String(value));
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      ...req.headers,
    };
    let body: string | undefined;
    if (req.xml !== undefined) {
      headers['content-type'] = 'application/xml';
      body = req.xml;
    } else if (req.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(req.json);
    }
    let response: Response;
    try {
      response = await fetch(target, { method, headers, ...(body !== undefined ? { body } : {}) });
    } catch (error) {
      throw new NotRunningError(baseUrl, error);
    }
    const text = await response.text();
    if (response.ok) return (text === '' ? undefined : JSON.parse(text)) as T;
    throw errorOf(response.status, text, baseUrl);
  }

  return {
    baseUrl,
    request,
    async listAll<T>(path: string, query: ApiRequest['query'] = {}) {
      const items: T[] = [];
      let cursor: string | undefined;
      do {
        const page = await request<{ items: T[]; nextCursor: string | null }>('GET', path, {
          query: { ...query, limit: 200, ...(cursor ? { cursor } : {}) },
        });
        items.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return items;
    },
  };
}

/** Nothing answered at the address (refused, reset, unknown host). */
export class NotRunningError extends DependencyUnavailableError {
  constructor(baseUrl: string, cause: unknown) {
    // fetch says only "fetch failed"; why is in its cause (ECONNREFUSED, ENOTFOUND, "bad port"...).
    const why = (cause as { cause?: { code?: string; message?: string } }).cause;
    const reason = why?.code ?? why?.message ?? (cause as Error).message;
    super(
      `Throughcare is not running at ${baseUrl} (${reason}): start it with \`npm start\`, or point THROUGHCARE_URL (or --url) at a running server`,
      { cause },
    );
  }
}

function errorOf(status: number, text: string, baseUrl: string): ProblemError {
  let problem: Problem;
  try {
    problem = JSON.parse(text) as Problem;
    if (typeof problem !== 'object' || problem === null || typeof problem.status !== 'number') throw new Error();
  } catch {
    problem = { status, title: `HTTP ${status}`, detail: `${baseUrl} answered ${status} without a problem document` };
  }
  const detail = problem.detail ?? problem.title ?? `HTTP ${status}`;
  const error: ThroughcareError =
    problem.errors && problem.errors.length > 0 && (status === 400 || status === 422)
      ? new ValidationError(detail, problem.errors, { unprocessable: status === 422 })
      : status === 401
        ? new ThroughcareError('UNAUTHENTICATED', `${detail} (sign in again: THROUGHCARE_TOKEN or --token)`)
        : status === 403
          ? new ThroughcareError('FORBIDDEN', detail)
          : status === 404
            ? new NotFoundError(detail)
            : status === 409
              ? new ConflictError(detail)
              : status === 503
                ? new DependencyUnavailableError(detail)
                : new ThroughcareError(
                    status >= 500 ? 'INTERNAL' : 'VALIDATION_FAILED',
                    `${detail}${problem.requestId ? ` (request id ${problem.requestId})` : ''}`,
                  );
  return Object.assign(error, { problem });
}

/** The problem an error carries, when it came from the API. */
export function problemOf(error: unknown): Problem | undefined {
  return error instanceof ThroughcareError ? (error as Partial<ProblemError>).problem : undefined;
}
