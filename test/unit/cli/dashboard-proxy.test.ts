/**
 * `fledge dashboard` (cli/fledge/dashboard.ts): the page from dashboard/dist/, and `/v1/*`
 * forwarded to the endpoint with the CLI's credentials, for loopback Hosts and same-origin
 * pages only.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bearerAuth, sigV4Signer } from '../../../cli/api-client.ts';
import { main } from '../../../cli/fledge.ts';
import type { FledgeIo } from '../../../cli/fledge/commands.ts';
import { startDashboardServer, type DashboardServer } from '../../../cli/fledge/dashboard.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let upstream: Server;
let upstreamUrl: string;
const seen: Seen[] = [];

beforeAll(async () => {
  upstream = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.writeHead(409, { 'content-type': 'application/problem+json', etag: '"3"', 'x-request-id': 'req-1', 'set-cookie': 'a=b' });
      res.end(JSON.stringify({ type: 'about:blank', title: 'Conflict', status: 409, detail: 'it is FAILED' }));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}/prod/`;
});
afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));
beforeEach(() => {
  seen.length = 0;
});

/** A request with a Host and headers of our choosing (fetch would not let us set Host). */
function send(server: DashboardServer, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<{ status: number; headers: IncomingHttpHeaders; text: string }>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: server.port, path, method: init.method ?? 'GET', headers: { host: `127.0.0.1:${server.port}`, ...init.headers } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

describe('fledge dashboard', () => {
  let signed: DashboardServer;
  beforeAll(async () => {
    signed = await startDashboardServer({
      endpoint: new URL(upstreamUrl),
      signer: sigV4Signer('eu-west-1', { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }),
      port: 0,
    });
    return () => signed.close();
  });

  it('listens on 127.0.0.1 only', () => {
    expect((signed.server.address() as { address: string }).address).toBe('127.0.0.1');
    expect(signed.url).toBe(`http://127.0.0.1:${signed.port}/`);
  });

  it('forwards /v1/* under the endpoint\'s path, signed with SigV4, and hands back the answer (status, problem, ETag)', async () => {
    const answer = await send(signed, '/v1/environments/pr-1/scale?x=1', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'if-match': '"2"', cookie: 'session=1', authorization: 'Bearer from-the-page', origin: `http://127.0.0.1:${signed.port}` },
      body: '{"desiredCount":0}',
    });
    expect(answer.status).toBe(409);
    expect(JSON.parse(answer.text)).toMatchObject({ title: 'Conflict', detail: 'it is FAILED' });
    expect(answer.headers.etag).toBe('"3"');
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(answer.headers['set-cookie']).toBeUndefined();
    // an answer the endpoint labels text/html (a gateway's error page) must not run in the page's origin
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect(answer.headers['content-security-policy']).toMatch(/^default-src 'self';/);
    expect(seen).toHaveLength(1);
    const [request] = seen;
    expect(request).toMatchObject({ method: 'POST', url: '/prod/v1/environments/pr-1/scale?x=1', body: '{"desiredCount":0}' });
    expect(request!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=.*if-match.*, Signature=[0-9a-f]{64}$/);
    expect(request!.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(request!.headers['if-match']).toBe('"2"');
    expect(request!.headers.cookie).toBeUndefined();
    expect(request!.headers.origin).toBeUndefined();
  });

  it('refuses a request to a non-loopback Host (DNS rebinding) and forwards nothing', async () => {
    for (const path of ['/v1/environments', '/']) {
      const answer = await send(signed, path, { headers: { host: 'evil.example:4400' } });
      expect(answer.status, path).toBe(421);
    }
    expect(seen).toHaveLength(0);
  });

  it('refuses /v1 calls from a page of another origin', async () => {
    const answer = await send(signed, '/v1/environments/pr-1', { method: 'DELETE', headers: { origin: 'https://evil.example' } });
    expect(answer.status).toBe(403);
    expect(seen).toHaveLength(0);
  });

  it('refuses /v1 calls from another loopback origin (a preview at pr-1.localhost:4000, another local server) and cross-site requests without an Origin', async () => {
    const refused: Record<string, string>[] = [
      { origin: 'http://pr-1.localhost:4000' },
      { origin: `http://localhost:${signed.port}` }, // the page at 127.0.0.1 is another origin
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
    ];
    for (const headers of refused) {
      const answer = await send(signed, '/v1/environments/pr-1/sleep', { method: 'POST', headers: { 'content-type': 'text/plain', ...headers }, body: '{}' });
      expect(answer.status, JSON.stringify(headers)).toBe(403);
    }
    expect(seen).toHaveLength(0);
    // the page itself (same origin), the address bar and a client that sends neither header
    const allowed: Record<string, string>[] = [{ origin: `http://127.0.0.1:${signed.port}`, 'sec-fetch-site': 'same-origin' }, { 'sec-fetch-site': 'none' }, {}];
    for (const headers of allowed) {
      expect((await send(signed, '/v1/environments/pr-1', { headers })).status, JSON.stringify(headers)).toBe(409);
    }
    expect(seen).toHaveLength(3);
  });

  it('serves the page and its assets itself, and forwards no other path', async () => {
    const page = await send(signed, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toMatch(/^default-src 'self';/);
    expect((await send(signed, '/assets/app.js')).headers['content-type']).toBe('text/javascript; charset=utf-8');
    for (const path of ['/_local/resources', '/v2/health', '/v1x', '/openapi.json', '/assets/nope.js']) {
      expect((await send(signed, path)).status, path).toBe(404);
    }
    expect(seen).toHaveLength(0);
  });
});

describe('fledge dashboard with FLEDGE_TOKEN, or none', () => {
  it('sends the token as the bearer, in place of the page\'s', async () => {
    const server = await startDashboardServer({ endpoint: new URL(upstreamUrl), signer: bearerAuth('cli-token'), port: 0 });
    try {
      await send(server, '/v1/environments', { headers: { authorization: 'Bearer from-the-page' } });
      expect(seen[0]!.headers.authorization).toBe('Bearer cli-token');
    } finally {
      await server.close();
    }
  });

  it('without credentials (local mode) passes the page\'s own token on', async () => {
    const server = await startDashboardServer({ endpoint: new URL(upstreamUrl), port: 0 });
    try {
      await send(server, '/v1/environments', { headers: { authorization: 'Bearer pasted' } });
      expect(seen[0]!.headers.authorization).toBe('Bearer pasted');
    } finally {
      await server.close();
    }
  });
});

describe('the fledge dashboard command', () => {
  function io(env: Record<string, string | undefined>) {
    const out: string[] = [];
    const err: string[] = [];
    let interrupt: (() => void) | undefined;
    const value: FledgeIo = {
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      env,
      platform: 'linux',
      onInterrupt: (handler) => {
        interrupt = handler;
        return () => (interrupt = undefined);
      },
      exit: (code) => {
        throw new Error(`exit ${code}`);
      },
    };
    return { value, out, err, interrupt: () => interrupt?.() };
  }

  async function freePort(): Promise<number> {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    return port;
  }

  it('prints its URL, forwards with FLEDGE_TOKEN, and stops on Ctrl-C with exit 0', async () => {
    const port = await freePort();
    const term = io({ FLEDGE_TOKEN: 'tok' });
    const running = main(['--endpoint', upstreamUrl, 'dashboard', '--port', String(port)], term.value);
    await expect.poll(() => term.out.join('\n')).toContain(`http://127.0.0.1:${port}/`);
    const answer = await fetch(`http://127.0.0.1:${port}/v1/environments`);
    expect(answer.status).toBe(409);
    await answer.text();
    expect(seen[0]!.headers.authorization).toBe('Bearer tok');
    term.interrupt();
    expect(await running).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });

  it('says so when the port is taken (exit 2), and refuses a port out of range', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    try {
      const term = io({ FLEDGE_TOKEN: 'tok' });
      expect(await main(['--endpoint', upstreamUrl, 'dashboard', '--port', String(port)], term.value)).toBe(2);
      expect(term.err.join('\n')).toContain(`port ${port} is in use`);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
    const term = io({ FLEDGE_TOKEN: 'tok' });
    expect(await main(['--endpoint', upstreamUrl, 'dashboard', '--port', '70000'], term.value)).toBe(2);
  });
});
