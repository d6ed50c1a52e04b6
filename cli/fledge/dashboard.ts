/**
 * `fledge dashboard`: the dashboard (dashboard/dist/) for an installation on AWS, without
 * exposing anything new there. A server on 127.0.0.1 serves the page and forwards its `/v1/*`
 * calls to the endpoint, each signed as the CLI signs (SigV4 from the AWS credential chain, or
 * FLEDGE_TOKEN as a bearer token). Since it signs for whoever reaches it, it answers only
 * requests addressed to a loopback name (a site using DNS rebinding carries its own Host) and
 * refuses calls from a page of another origin; nothing but `/v1/*` is forwarded.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { RequestSigner } from '../api-client.ts';
import { CONTENT_SECURITY_POLICY, dashboardAsset, isDashboardPath, isLoopbackHost } from '../../dashboard/serve.ts';
import type { FledgeIo } from './commands.ts';
import { CliError, describeNetworkError, EXIT_OK } from './connection.ts';

const MAX_BODY_BYTES = 10 * 1024 * 1024;
const UPSTREAM_TIMEOUT_MS = 30_000;
/** what the page may tell the API; cookies, Origin and the like stay here */
const FORWARDED_REQUEST_HEADERS = ['accept', 'content-type', 'if-match', 'idempotency-key', 'x-request-id'];
/** what the page needs of the API's answer */
const FORWARDED_RESPONSE_HEADERS = ['content-type', 'etag', 'retry-after', 'x-request-id', 'idempotent-replayed', 'www-authenticate', 'location'];

export interface DashboardServerOptions {
  endpoint: URL;
  /** undefined: requests go as the page sends them (local mode, open or with a pasted token) */
  signer?: RequestSigner;
  port: number;
  dist?: URL;
  userAgent?: string;
}

export interface DashboardServer {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

function problem(status: number, title: string, detail: string): Answer {
  return { status, headers: { 'content-type': 'application/problem+json' }, body: Buffer.from(JSON.stringify({ type: 'about:blank', title, status, detail })) };
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * Only the dashboard's own page may drive the signing proxy. A browser names the page behind a
 * request in Origin (every cross-origin request, every POST/PUT/DELETE) and Sec-Fetch-Site; the
 * page must be this server's own origin, not merely a loopback one: a preview's page at
 * `pr-1.localhost:4000` or another local server is loopback too, and a form POST (text/plain,
 * no preflight) from it would be signed with the user's credentials. A request with neither
 * header (curl, the address bar in an old browser) comes from no page and passes.
 */
function foreignCaller(req: IncomingMessage, host: string): string | undefined {
  const origin = req.headers.origin;
  if (typeof origin === 'string' && origin.toLowerCase() !== `http://${host.trim().toLowerCase()}`) return origin;
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return `a ${site} page`;
  return undefined;
}

async function forward(options: DashboardServerOptions, req: IncomingMessage, target: URL): Promise<Answer> {
  const body = await readBody(req);
  if (body === undefined) return problem(413, 'Content Too Large', 'the request body exceeds 10 MiB');
  const base = options.endpoint.href.endsWith('/') ? options.endpoint.href : `${options.endpoint.href}/`;
  const url = new URL(`${target.pathname.slice(1)}${target.search}`, base);
  const method = (req.method ?? 'GET').toUpperCase();
  let headers: Record<string, string> = { 'user-agent': options.userAgent ?? 'fledge-dashboard' };
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  const text = body.length > 0 ? body.toString('utf8') : undefined;
  if (options.signer) {
    const signed = await options.signer({ method, url, headers, ...(text !== undefined ? { body: text } : {}) });
    // fetch derives Host from the URL (the signed value)
    headers = Object.fromEntries(Object.entries(signed).filter(([name]) => name.toLowerCase() !== 'host'));
  } else if (typeof req.headers.authorization === 'string') {
    headers.authorization = req.headers.authorization;
  }
  let response: Response;
  try {
    response = await fetch(url, { method, headers, body: text, redirect: 'manual', signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS) });
  } catch (error) {
    return problem(502, 'Bad Gateway', describeNetworkError(error, options.endpoint));
  }
  // whatever the endpoint labels its answer (a gateway's text/html error page), nothing in it runs in the page's origin
  const answerHeaders: Record<string, string> = { 'content-security-policy': CONTENT_SECURITY_POLICY, 'x-content-type-options': 'nosniff' };
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const value = response.headers.get(name);
    if (value !== null) answerHeaders[name] = value;
  }
  return { status: response.status, headers: answerHeaders, body: Buffer.from(await response.arrayBuffer()) };
}

async function answer(options: DashboardServerOptions, req: IncomingMessage): Promise<Answer> {
  const host = typeof req.headers.host === 'string' ? req.headers.host : undefined;
  if (!isLoopbackHost(host)) return problem(421, 'Misdirected Request', 'fledge dashboard answers only requests to 127.0.0.1 or localhost');
  let target: URL;
  try {
    target = new URL(`http://localhost${(req.url ?? '/').startsWith('/') ? req.url : '/'}`);
  } catch {
    return problem(400, 'Bad Request', 'the request target is not a valid URL path');
  }
  if (target.pathname === '/v1' || target.pathname.startsWith('/v1/')) {
    const caller = foreignCaller(req, host!);
    if (caller !== undefined) return problem(403, 'Forbidden', `fledge dashboard signs only the dashboard's own calls, not those of ${caller}`);
    return forward(options, req, target);
  }
  if (isDashboardPath(target.pathname)) {
    const asset = await dashboardAsset((req.method ?? 'GET').toUpperCase(), target.pathname, options.dist);
    return { status: asset.statusCode, headers: asset.headers, body: asset.body };
  }
  return problem(404, 'Not Found', `fledge dashboard serves the page and forwards /v1/ only, not ${target.pathname}`);
}

/** Listening on 127.0.0.1 (port 0: any free port). */
export async function startDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  const server = createServer((req, res) => {
    answer(options, req)
      .catch((error: unknown) => problem(500, 'Internal Server Error', error instanceof Error ? error.message : String(error)))
      .then((result) => {
        res.writeHead(result.status, { ...result.headers, 'content-length': String(result.body.length) });
        res.end(req.method === 'HEAD' ? undefined : result.body);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The command: serve until Ctrl-C. */
export async function serveDashboard(
  io: FledgeIo,
  connection: { endpoint: URL; signer?: RequestSigner; userAgent: string },
  flags: { port: number },
): Promise<number> {
  let running: DashboardServer;
  try {
    running = await startDashboardServer({ ...connection, port: flags.port });
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new CliError(code === 'EADDRINUSE' ? `port ${flags.port} is in use: pass --port <n>` : `cannot listen on 127.0.0.1:${flags.port}: ${(error as Error).message}`);
  }
  io.out(`Fledge dashboard: ${running.url} (API ${connection.endpoint.href}, ${connection.signer ? 'calls carry your credentials: SigV4 or FLEDGE_TOKEN' : 'calls sent as the page makes them'}); Ctrl-C stops it`);
  await new Promise<void>((resolve) => {
    const release = io.onInterrupt(() => {
      release();
      resolve();
    });
  });
  await running.close();
  return EXIT_OK;
}
