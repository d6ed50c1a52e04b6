/**
 * How the dashboard's built files (dashboard/dist/) are served, by local mode's front
 * (infra/local/http-front.ts) and by `fledge dashboard` (cli/fledge/dashboard.ts): `GET /`
 * is index.html, `GET /assets/app.js` and `/assets/app.css` the bundle, each with its content
 * type and a Content-Security-Policy that lets the page load and call nothing but its own
 * origin (no inline script or style, no frames, no other site).
 */
import { readFile } from 'node:fs/promises';

/**
 * `../dashboard/dist/` from here (dashboard/serve.ts) and from the CLI's bundle (dist/fledge.mjs,
 * one folder below the package root as well) is the same folder.
 */
export const DASHBOARD_DIST = new URL('../dashboard/dist/', import.meta.url);

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/assets/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/assets/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export interface DashboardAsset {
  statusCode: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Whether a path is one of the dashboard's (`/`, `/index.html`, `/assets/...`), to answer rather than route to the API. */
export function isDashboardPath(path: string): boolean {
  return path === '/' || path === '/index.html' || path.startsWith('/assets/');
}

/** The answer to `GET` (or `HEAD`) of a dashboard path: the file, 404 for another asset, 405 for another method. */
export async function dashboardAsset(method: string, path: string, dist: URL = DASHBOARD_DIST): Promise<DashboardAsset> {
  const headers: Record<string, string> = {
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache',
  };
  if (method !== 'GET' && method !== 'HEAD') {
    return { statusCode: 405, headers: { ...headers, allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }, body: Buffer.from('method not allowed\n') };
  }
  const entry = FILES[path];
  if (!entry) return { statusCode: 404, headers: { ...headers, 'content-type': 'text/plain; charset=utf-8' }, body: Buffer.from('not found\n') };
  try {
    const body = await readFile(new URL(entry.file, dist));
    return { statusCode: 200, headers: { ...headers, 'content-type': entry.type }, body };
  } catch {
    return {
      statusCode: 404,
      headers: { ...headers, 'content-type': 'text/plain; charset=utf-8' },
      body: Buffer.from('the dashboard is not built: run npm run build:dashboard\n'),
    };
  }
}

/**
 * Loopback names only (docs/security.md "Local mode"): `localhost`, `*.localhost`, `127.0.0.1`
 * and `[::1]`, with or without a port. A page on another site reaching this server through DNS
 * rebinding carries its own host name and is refused.
 */
const LOOPBACK_HOST = /^(?:localhost|(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+localhost|127\.0\.0\.1|\[::1\]|::1)\.?(?::\d{1,5})?$/i;

export function isLoopbackHost(host: string | undefined): boolean {
  return host !== undefined && LOOPBACK_HOST.test(host.trim());
}
