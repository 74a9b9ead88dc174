/**
 * Client bundles: TypeScript (and the CSS it imports, fonts included) for the pages' richer scripts, bundled with
 * esbuild in memory when the first page is asked for, and served from memory at content-hashed addresses that browsers
 * may cache for good. There is no build step: `npm start` and the tests run the product from a clean clone, so
 * the bundles are made by the process that serves them. The pathway heatmap bundles bpmn-js's viewer this way, and
 * the pathway designer its modeller.
 */
import path from 'node:path';
import { build, type BuildResult, type OutputFile } from 'esbuild';
import { Router } from 'express';
import { requestContext } from '../api/request-context';
import { DependencyUnavailableError } from '../domain/errors';

/** One script a page loads: its TypeScript entry, and the name its files are served under (`<name>-<hash>.js`). */
export interface ClientBundle {
  readonly name: string;
  /** Absolute path of the entry; CSS it imports becomes the bundle's style sheet. */
  readonly entry: string;
}

/** Where a page finds a bundle's files. */
export interface BundleUrls {
  readonly script: string;
  /** Present when the entry imports CSS. */
  readonly style?: string;
}

export interface ClientBundles {
  /** Serves the bundles' files at BUNDLES_PATH; use it on the web router. */
  readonly router: Router;
  /** The addresses of a bundle's files, once built; undefined (and logged) when the build failed. */
  urlsOf(name: string): Promise<BundleUrls | undefined>;
}

/** Where the files are served: under /assets, with the design system's. */
export const BUNDLES_PATH = '/assets/bundles';

const ROOT = path.join(__dirname, '..');
// esbuild needs an output directory to name files by, even when it writes nothing.
const OUT_DIR = path.join(__dirname, '.bundles');
// Named by their content, so a file at an address never changes: cached for a year, never asked again.
const IMMUTABLE = 'public, max-age=31536000, immutable';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.eot': 'application/vnd.ms-fontobject',
  '.svg': 'image/svg+xml',
};

interface Built {
  readonly files: ReadonlyMap<string, OutputFile>;
  readonly urls: ReadonlyMap<string, BundleUrls>;
}

// Built once per process however many routers are made (the tests make an app per suite, some per test).
const builds = new Map<string, Promise<Built>>();

export function createClientBundles(bundles: readonly ClientBundle[]): ClientBundles {
  const key = JSON.stringify(bundles);
  // Built on the first page request, not when the router is made: building the modeller takes seconds of CPU, which
  // an API-only process (and every test suite that makes an app) need not spend; by the time someone reaches a page
  // with a diagram, the build started by their first page has usually finished.
  const ready = (): Promise<Built> => {
    let built = builds.get(key);
    if (!built) {
      built = buildBundles(bundles);
      builds.set(key, built);
      // Handled where it is awaited (urlsOf, the router); this only keeps an unawaited failure from being unhandled.
      built.catch(() => undefined);
    }
    return built;
  };

  const router = Router();
  router.use((req, res, next) => {
    // A browser asking for a page (API clients ask for JSON).
    if (req.headers.accept?.includes('text/html')) void ready();
    next();
  });
  router.get(`${BUNDLES_PATH}/:file`, async (req, res, next) => {
    let files: Built['files'];
    try {
      files = (await ready()).files;
    } catch (error) {
      return next(new DependencyUnavailableError('The page scripts could not be built', { cause: error }));
    }
    const file = files.get(req.params.file);
    if (!file) return next();
    res
      .set('Cache-Control', IMMUTABLE)
      .set('ETag', `"${file.hash}"`)
      .type(TYPES[path.extname(file.path)] ?? 'application/octet-stream');
    if (req.fresh) return void res.status(304).end();
    res.send(Buffer.from(file.contents));
  });

  return {
    router,
    async urlsOf(name) {
      try {
        return (await ready()).urls.get(name);
      } catch (error) {
        // The page still works without its script; the failure is a bug to fix, so it is logged every time.
        requestContext()?.logger.error({ err: error, bundle: name }, 'client bundle failed to build');
        return undefined;
      }
    },
  };
}

async function buildBundles(bundles: readonly ClientBundle[]): Promise<Built> {
  const result: BuildResult<{ write: false; metafile: true }> = await build({
    absWorkingDir: ROOT,
    entryPoints: bundles.map((bundle) => ({ in: bundle.entry, out: bundle.name })),
    bundle: true,
    write: false,
    metafile: true,
    outdir: OUT_DIR,
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    publicPath: BUNDLES_PATH,
    platform: 'browser',
    format: 'iife',
    target: 'es2020',
    minify: true,
    // Fonts (bpmn-js's icon font) are files of their own, referenced from the CSS by address.
    loader: { '.woff2': 'file', '.woff': 'file', '.ttf': 'file', '.eot': 'file', '.svg': 'file' },
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  });
  const files = new Map(result.outputFiles.map((file) => [path.basename(file.path), file]));
  const urlOf = (output: string) => `${BUNDLES_PATH}/${path.basename(output)}`;
  const urls = new Map<string, BundleUrls>();
  for (const [output, meta] of Object.entries(result.metafile.outputs)) {
    const bundle = bundles.find((b) => meta.entryPoint && path.resolve(ROOT, meta.entryPoint) === b.entry);
    if (!bundle || !output.endsWith('.js')) continue;
    urls.set(bundle.name, { script: urlOf(output), ...(meta.cssBundle ? { style: urlOf(meta.cssBundle) } : {}) });
  }
  for (const bundle of bundles)
    if (!urls.has(bundle.name)) throw new Error(`esbuild produced no script for the client bundle ${bundle.name}`);
  return { files, urls };
}
