/**
 * What every answer to a malformed request must look like: never a 5xx; every 4xx an RFC 9457
 * `application/problem+json` body with `type`, `title`, `status` (the response's own) and `detail`, and no stack
 * trace; a validation problem names each bad field by JSON Pointer (RFC 6901). One helper, used by the property
 * test on the real app and by the check that it reports a deliberately broken route.
 */

/** One answer as received over HTTP. */
export interface ReceivedResponse {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly text: string;
}

/** What the request was built to provoke. */
export interface Expectation {
  /** The request is malformed for certain: a 2xx or 3xx answer is wrong. */
  readonly mustFail?: boolean;
  /** A body field made invalid: a 400 must name exactly this pointer among its errors. */
  readonly pointer?: string;
}

const JSON_POINTER = /^(\/([^~/]|~[01])*)*$/;
const STACK_TRACE = /\bat .+\.(ts|js):\d+/;

/** Every way `response` breaks the rules above; empty when it keeps them. */
export function problemViolations(response: ReceivedResponse, expectation: Expectation = {}): string[] {
  const { status } = response;
  if (status >= 500) return [`answered ${status} (5xx)`];
  const violations: string[] = [];
  if (expectation.mustFail && status < 400) violations.push(`answered ${status} to a malformed request`);
  if (status < 400) return violations;
  if (!response.contentType?.toLowerCase().startsWith('application/problem+json'))
    violations.push(`${status} with content type ${response.contentType ?? 'none'}, not application/problem+json`);
  if (STACK_TRACE.test(response.text)) violations.push(`${status} whose body holds a stack trace`);
  let body: unknown;
  try {
    body = JSON.parse(response.text);
  } catch {
    return [...violations, `${status} whose body is not JSON`];
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    return [...violations, `${status} whose body is not a JSON object`];
  const problem = body as Record<string, unknown>;
  for (const member of ['type', 'title', 'detail'])
    if (typeof problem[member] !== 'string' || problem[member] === '')
      violations.push(`${status} problem without a ${member}`);
  if (problem['status'] !== status) violations.push(`${status} problem whose status says ${String(problem['status'])}`);
  const isValidation = typeof problem['type'] === 'string' && problem['type'].endsWith('/validation-failed');
  if (!isValidation) {
    if (expectation.pointer !== undefined && status === 400)
      violations.push(`400 problem of type ${String(problem['type'])} for an invalid field`);
    return violations;
  }
  const errors = problem['errors'];
  if (!Array.isArray(errors) || errors.length === 0) return [...violations, 'validation problem naming no field'];
  for (const error of errors as unknown[]) {
    const { pointer, detail } = (error ?? {}) as { pointer?: unknown; detail?: unknown };
    if (typeof pointer !== 'string' || !JSON_POINTER.test(pointer))
      violations.push(`validation problem with a field named by ${JSON.stringify(pointer)}, not a JSON Pointer`);
    if (typeof detail !== 'string' || detail === '') violations.push('validation problem with a field without detail');
  }
  if (
    expectation.pointer !== undefined &&
    !(errors as { pointer?: unknown }[]).some((error) => error?.pointer === expectation.pointer)
  )
    violations.push(
      `validation problem does not name ${JSON.stringify(expectation.pointer)} (named ${(
        errors as { pointer?: unknown }[]
      )
        .map((e) => JSON.stringify(e?.pointer))
        .join(', ')})`,
    );
  return violations;
}
