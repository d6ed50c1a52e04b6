/**
 * Local mode answers only loopback Host names (docs/security.md "Local mode"): a DNS-rebinding
 * page, whose requests carry its own host name, gets 421 on every route, and nothing runs.
 */
import { connect } from 'node:net';
import { request } from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import { isLoopbackHost, type HttpFront } from '../../../infra/local/http-front.ts';
import type { Simulator } from '../../../infra/local/simulator/index.ts';
import { startTestFront } from '../../support/local-front.ts';

describe('isLoopbackHost', () => {
  it.each(['localhost', 'localhost:4000', 'LOCALHOST:4000', 'localhost.', 'pr-42.localhost:4000', 'a.b.localhost', '127.0.0.1', '127.0.0.1:4000', '[::1]', '[::1]:4000', '::1'])(
    'allows %s',
    (host) => expect(isLoopbackHost(host)).toBe(true),
  );
  it.each([undefined, '', 'evil.example', 'evil.example:4000', 'localhost.evil.example', 'evil-localhost', 'x.localhost.evil.example', '127.0.0.1.nip.io', '127.0.0.2', '0.0.0.0:4000', '192.168.1.10:4000', '[::2]:4000', 'localhost:4000@evil.example', 'localhost:99999999', 'localhost:4000 evil'])(
    'refuses %s',
    (host) => expect(isLoopbackHost(host)).toBe(false),
  );
});

describe('the HTTP front with a foreign Host', () => {
  let front: HttpFront;
  let sim: Simulator;
  let handled = 0;
  let pagesRead = 0;

  beforeAll(async () => {
    const started = await startTestFront({
      handle: async (event) => {
        handled++;
        return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ route: event.routeKey }) };
      },
      readEnvironment: async (name) => {
        pagesRead++;
        return name === 'pr-1' ? { name, status: 'SLEEPING', spec: { image: 'nginx:1', desiredCount: 1 } } : undefined;
      },
    });
    ({ front, sim } = started);
    return started.stop;
  });

  const send = (method: string, path: string, host: string, body?: unknown) =>
    new Promise<{ status: number; type: string | undefined; body: string }>((resolve, reject) => {
      const text = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        { host: '127.0.0.1', port: front.port, method, path, headers: { host, ...(text ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } : {}) } },
        (res) => {
          let data = '';
          res.on('data', (chunk: Buffer) => (data += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body: data }));
        },
      );
      req.on('error', reject);
      req.end(text);
    });

  it.each([
    ['GET', '/v1/health', undefined],
    ['PUT', '/v1/environments/pr-9', { image: 'nginx' }],
    ['POST', '/_local/faults', { fault: 'hostile', enabled: true }],
    ['POST', '/_local/aws', { service: 'ecs', action: 'CreateService', params: { serviceName: 'rebound' } }],
    ['GET', '/_local/resources', undefined],
  ])('refuses %s %s with Host: evil.example: 421 problem, nothing runs', async (method, path, body) => {
    for (const host of ['evil.example', `evil.example:${front.port}`, `localhost.evil.example:${front.port}`]) {
      const before = { handled, resources: JSON.stringify(sim.resources()) };
      const answer = await send(method, path, host, body);
      expect(answer.status).toBe(421);
      expect(answer.type).toBe('application/problem+json');
      expect(JSON.parse(answer.body)).toMatchObject({ status: 421, title: 'Misdirected Request', detail: expect.stringContaining('localhost') });
      expect(handled).toBe(before.handled);
      expect(JSON.stringify(sim.resources())).toBe(before.resources);
    }
    expect(sim.resources().faults.hostile).toBe(false);
  });

  it("refuses an environment page under a foreign name (a rebinding page cannot wake or read it)", async () => {
    const reads = pagesRead;
    expect((await send('GET', '/', `pr-1.localhost.evil.example:${front.port}`)).status).toBe(421);
    expect(pagesRead).toBe(reads);
  });

  it('refuses a request without a Host header (HTTP/1.0)', async () => {
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(front.port, '127.0.0.1', () => socket.end('GET /v1/health HTTP/1.0\r\n\r\n'));
      let data = '';
      socket.on('data', (chunk) => (data += chunk.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.[01] 421 /);
  });

  it('serves loopback names: the API on localhost, 127.0.0.1 and [::1], environment pages on <name>.localhost:<port>', async () => {
    for (const host of [`localhost:${front.port}`, `127.0.0.1:${front.port}`, `[::1]:${front.port}`, 'localhost']) {
      const answer = await send('GET', '/v1/health', host);
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toEqual({ route: 'GET /v1/health' });
    }
    const page = await send('GET', '/', `pr-1.localhost:${front.port}`);
    expect(page.status).toBe(503);
    expect(page.body).toContain('SLEEPING');
    expect((await send('GET', '/', `ghost.localhost:${front.port}`)).status).toBe(404);
  });
});
