/**
 * A browser as far as the sign-in needs one, over real HTTP: a cookie jar, redirects followed by hand (so each
 * step can be checked), and the development issuer's sign-in page clicked through by a person's name.
 */

export interface BrowserResponse {
  readonly status: number;
  readonly location: string | undefined;
  readonly headers: Headers;
  readonly body: string;
}

export class Browser {
  /** Cookies by name; one jar for every path of the host, which is all these tests need. */
  readonly cookies = new Map<string, string>();

  constructor(readonly base: string) {}

  async request(
    target: string,
    init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {},
  ): Promise<BrowserResponse> {
    const url = new URL(target, this.base).href;
    const headers: Record<string, string> = { ...init.headers };
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (init.form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(url, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      redirect: 'manual',
      headers,
      ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
    });
    for (const cookie of response.headers.getSetCookie()) this.keep(cookie);
    const location = response.headers.get('location') ?? undefined;
    return {
      status: response.status,
      location: location === undefined ? undefined : new URL(location, url).href,
      headers: response.headers,
      body: await response.text(),
    };
  }

  private keep(setCookie: string): void {
    const [pair, ...attributes] = setCookie.split(';');
    const index = pair!.indexOf('=');
    const name = pair!.slice(0, index).trim();
    const value = pair!.slice(index + 1).trim();
    const expired = attributes.some((a) => {
      const [key, v] = a.trim().split('=');
      if (key!.toLowerCase() === 'max-age') return Number(v) <= 0;
      if (key!.toLowerCase() === 'expires') return Date.parse(v!) <= Date.now();
      return false;
    });
    if (expired) this.cookies.delete(name);
    else this.cookies.set(name, value);
  }
}

export interface SignInSteps {
  /** The answer to `GET /sign-in`: a redirect to the issuer's authorization endpoint. */
  readonly start: BrowserResponse;
  /** The issuer's redirect back to `/auth/callback` with the code. */
  readonly callbackUrl: URL;
}

/** From `/sign-in` through the issuer's page, clicking `name`, up to (not into) the callback. */
export async function signInAtIssuer(browser: Browser, name: string, signInPath = '/sign-in'): Promise<SignInSteps> {
  const start = await browser.request(signInPath);
  if (start.status !== 303 || !start.location) throw new Error(`/sign-in answered ${start.status}: ${start.body}`);
  let step = await browser.request(start.location);
  // The authorization endpoint sends the browser to the issuer's interaction (sign-in) page.
  while (step.status === 303 && step.location && !step.location.includes('/interaction/'))
    step = await browser.request(step.location);
  const page = await browser.request(step.location!);
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const row = new RegExp(
    `<form method="post" action="([^"]+)">\\s*<input type="hidden" name="subject" value="([^"]+)">\\s*<button type="submit">${escaped}</button>`,
  ).exec(page.body);
  if (!row) throw new Error(`${name} is not on the issuer's sign-in page:\n${page.body}`);
  const chosen = await browser.request(row[1]!, { form: { subject: row[2]! } });
  let next = chosen.location!;
  // Back through the authorization endpoint, which answers with the redirect to the callback.
  for (let i = 0; i < 5 && !next.includes('/auth/callback'); i += 1) next = (await browser.request(next)).location!;
  return { start, callbackUrl: new URL(next) };
}

/** The whole sign-in as `name`: the callback's answer (a redirect to returnTo when it worked). */
export async function signIn(browser: Browser, name: string, signInPath = '/sign-in'): Promise<BrowserResponse> {
  const { callbackUrl } = await signInAtIssuer(browser, name, signInPath);
  return browser.request(callbackUrl.href);
}

/** The CSRF token of the sign-out form on the signed-in start page. */
export function csrfTokenOf(page: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(page);
  if (!match) throw new Error(`no CSRF token on the page:\n${page}`);
  return match[1]!;
}
