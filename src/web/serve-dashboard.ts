// The web dashboard at `/`: a Preact app in web/, bundled in memory by esbuild the first time a browser asks
// for it (so servers that never serve a browser never start esbuild), then kept. Users need no build step.
// The page talks to the server only through the public API, with the key the user types.

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

/** Everything the page loads comes from this origin; no inline script or style, no framing. */
export const DASHBOARD_CSP =
  "default-src 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'; form-action 'self'";

interface DashboardAssets {
  html: string;
  js: string;
  css: string;
  icon: string;
}

/** Bundles web/main.tsx (Preact, TSX) and reads the page and stylesheet. */
export async function buildDashboard(webDir: string = WEB_DIR): Promise<DashboardAssets> {
  // Imported here, not at the top: only a server that serves the dashboard loads esbuild.
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [`${webDir}main.tsx`],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const js = result.outputFiles[0]?.text;
  if (js === undefined) throw new Error('esbuild produced no output for web/main.tsx');
  const [html, css, icon] = await Promise.all(
    ['index.html', 'styles.css', 'favicon.svg'].map((name) => readFile(`${webDir}${name}`, 'utf8')),
  );
  return { html: html!, js, css: css!, icon: icon! };
}

/** Serves the dashboard: `GET /` (the page), `/app.js` (the bundle), `/styles.css` and `/favicon.svg`. */
export async function registerDashboard(app: FastifyInstance, webDir: string = WEB_DIR): Promise<void> {
  let assets: Promise<DashboardAssets> | null = null;
  const load = () => {
    if (assets === null) {
      assets = buildDashboard(webDir);
      // A failed build is not cached: the next request tries again (after the file is fixed).
      assets.catch(() => {
        assets = null;
      });
    }
    return assets;
  };

  const send = async (reply: FastifyReply, type: string, pick: (a: DashboardAssets) => string) => {
    const body = pick(await load());
    return reply
      .header('content-security-policy', DASHBOARD_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache')
      .type(type)
      .send(body);
  };

  app.get('/', (_request, reply) => send(reply, 'text/html; charset=utf-8', (a) => a.html));
  app.get('/app.js', (_request, reply) => send(reply, 'text/javascript; charset=utf-8', (a) => a.js));
  app.get('/styles.css', (_request, reply) => send(reply, 'text/css; charset=utf-8', (a) => a.css));
  app.get('/favicon.svg', (_request, reply) => send(reply, 'image/svg+xml', (a) => a.icon));
}
