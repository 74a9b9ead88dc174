/**
 * Where the browser sign-in lives (api/auth/browser-sign-in.ts serves them): a module of its own, so the pages
 * can link to them without loading openid-client, an ES module.
 */
export const SIGN_IN_PATH = '/sign-in';
export const CALLBACK_PATH = '/auth/callback';
export const SIGN_OUT_PATH = '/sign-out';
