import { beforeAll, describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { environmentHost, fromApiGatewayResult, matchRoute, toApiGatewayEvent, type HttpFront } from '../../../infra/local/http-front.ts';
import { routes } from '../../../functions/contract/routes.ts';
import { startTestFront } from '../../support/local-front.ts';

describe('route matching', () => {
  it('matches the route table with path parameters, 405 on a known path, 404 otherwise', () => {
    const put = matchRoute(routes, 'PUT', '/v1/environments/pr-42');
    expect(put).toMatchObject({ kind: 'route', route: { handler: 'put-environment' }, pathParameters: { name: 'pr-42' } });
    expect(matchRoute(routes, 'GET', '/v1/environments/pr-42/events')).toMatchObject({ kind: 'route', route: { handler: 'list-events' } });
    expect(matchRoute(routes, 'GET', '/v1/environments/a%20b')).toMatchObject({ pathParameters: { name: 'a b' } });
    expect(matchRoute(routes, 'POST', '/v1/health')).toEqual({ kind: 'method-not-allowed', allowed: ['GET'] });
    expect(matchRoute(routes, 'GET', '/v1/environments/x/y')).toEqual({ kind: 'not-found' });
  });

  it('recognises environment hosts', () => {
    expect(environmentHost('pr-42.localhost:4000')).toBe('pr-42');
    expect(environmentHost('PR-42.localhost')).toBe('pr-42');
    expect(environmentHost('localhost:4000')).toBeUndefined();
    expect(environmentHost('127.0.0.1:4000')).toBeUndefined();
    expect(environmentHost('a.b.localhost')).toBeUndefined();
  });
});

describe('API Gateway v2 event mapping', () => {
  const route = routes.find((r) => r.handler === 'put-environment')!;

  it('passes every query parameter as an own key, also __proto__ and toString (the handler refuses them as unknown)', () => {
    const event = toApiGatewayEvent(
      { method: 'GET', url: '/v1/environments?__proto__=1&toString=2&toString=3', headers: { host: '127.0.0.1:4000' }, body: Buffer.alloc(0), sourceIp: '127.0.0.1' },
      routes.find((r) => r.handler === 'list-environments')!,
      {},
      'req-2',
      new Date('2025-03-12T19:03:58Z'),
    );
    expect(Object.keys(event.queryStringParameters ?? {})).toEqual(['__proto__', 'toString']);
    expect(event.queryStringParameters?.toString).toBe('2,3');
  });

  it('hands a JSON body that is not valid UTF-8 over base64-encoded, so no byte is replaced unseen', () => {
    const bytes = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]);
    const event = toApiGatewayEvent(
      { method: 'PUT', url: '/v1/environments/pr-1', headers: { host: '127.0.0.1:4000', 'content-type': 'application/json' }, body: bytes, sourceIp: '127.0.0.1' },
      route, { name: 'pr-1' }, 'req-3', new Date('2025-03-12T19:03:58Z'),
    );
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body!, 'base64')).toEqual(bytes);
  });

  it('builds a payload 2.0 event', () => {
    const event = toApiGatewayEvent(
      {
        method: 'PUT',
        url: '/v1/environments/pr-42?dryRun=1&tag=a&tag=b',
        headers: { host: '127.0.0.1:4000', 'content-type': 'application/json', 'idempotency-key': 'k1', cookie: 'a=1; b=2', 'user-agent': 'curl/8' },
        body: Buffer.from('{"image":"nginx"}'),
        sourceIp: '127.0.0.1',
      },
      route,
      { name: 'pr-42' },
      'req-1',
      new Date('2025-03-12T19:03:58Z'),
    );
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'PUT /v1/environments/{name}',
      rawPath: '/v1/environments/pr-42',
      rawQueryString: 'dryRun=1&tag=a&tag=b',
      cookies: ['a=1', 'b=2'],
      queryStringParameters: { dryRun: '1', tag: 'a,b' },
      pathParameters: { name: 'pr-42' },
      body: '{"image":"nginx"}',
      isBase64Encoded: false,
      requestContext: {
        requestId: 'req-1',
        routeKey: 'PUT /v1/environments/{name}',
        stage: '$default',
        http: { method: 'PUT', path: '/v1/environments/pr-42', sourceIp: '127.0.0.1', userAgent: 'curl/8', protocol: 'HTTP/1.1' },
        time: '12/Mar/2025:19:03:58 +0000',
        timeEpoch: Date.parse('2025-03-12T19:03:58Z'),
      },
    });
    expect(event.headers).toMatchObject({ 'idempotency-key': 'k1', 'content-type': 'application/json' });
    expect(event.headers.cookie).toBeUndefined();
  });

  it('base64-encodes binary bodies and leaves out what is absent', () => {
    const binary = toApiGatewayEvent(
      { method: 'PUT', url: '/v1/environments/x', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from([0xff, 0x00, 0xfe]), sourceIp: '127.0.0.1' },
      route,
      { name: 'x' },
      'r',
    );
    expect(binary.isBase64Encoded).toBe(true);
    expect(Buffer.from(binary.body!, 'base64')).toEqual(Buffer.from([0xff, 0x00, 0xfe]));
    const empty = toApiGatewayEvent({ method: 'GET', url: '/v1/health', headers: {}, body: Buffer.alloc(0), sourceIp: '::1' }, routes[0]!, {}, 'r');
    expect(empty.body).toBeUndefined();
    expect(empty.queryStringParameters).toBeUndefined();
    expect(empty.pathParameters).toBeUndefined();
  });

  it('maps results back like API Gateway', () => {
    const answer = fromApiGatewayResult({ statusCode: 201, headers: { 'Content-Type': 'application/json', ETag: '"1"' }, cookies: ['a=1', 'b=2'], body: '{"ok":true}' });
    expect(answer.statusCode).toBe(201);
    expect(answer.headers).toMatchObject({ 'content-type': 'application/json', etag: '"1"', 'set-cookie': ['a=1', 'b=2'] });
    expect(answer.body.toString()).toBe('{"ok":true}');
    expect(fromApiGatewayResult({ statusCode: 200, body: Buffer.from('hi').toString('base64'), isBase64Encoded: true }).body.toString()).toBe('hi');
    const bare = fromApiGatewayResult({ hello: 'world' } as never);
    expect(bare).toMatchObject({ statusCode: 200, headers: { 'content-type': 'application/json' } });
    expect(bare.body.toString()).toBe('{"hello":"world"}');
  });
});

describe('the HTTP front', () => {
  let front: HttpFront;
  const seen: APIGatewayProxyEventV2[] = [];

  beforeAll(async () => {
    const started = await startTestFront({
      handle: async (event) => {
        seen.push(event);
        return { statusCode: 200, headers: { 'content-type': 'application/json', 'x-request-id': event.requestContext.requestId }, body: JSON.stringify({ route: event.routeKey }) };
      },
      readEnvironment: async (name) => (name === 'asleep' ? { name, status: 'SLEEPING', spec: { image: 'nginx:1', desiredCount: 1 } } : undefined),
    });
    front = started.front;
    return started.stop;
  });

  it('binds to 127.0.0.1 and dispatches to the route handler', async () => {
    expect((front.server.address() as { address: string }).address).toBe('127.0.0.1');
    const response = await fetch(`${front.url}/v1/environments/pr-1?x=1`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"image":"a"}' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ route: 'PATCH /v1/environments/{name}' });
    expect(seen.at(-1)).toMatchObject({ pathParameters: { name: 'pr-1' }, queryStringParameters: { x: '1' }, body: '{"image":"a"}' });
    expect(response.headers.get('x-request-id')).toBe(seen.at(-1)!.requestContext.requestId);
  });

  it('serves the dashboard at / and /assets/* with its content types and a strict CSP; no handler runs', async () => {
    const before = seen.length;
    const page = await fetch(`${front.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'self';/);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(await page.text()).toContain('<script type="module" src="assets/app.js"></script>');
    const script = await fetch(`${front.url}/assets/app.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('x-content-type-options')).toBe('nosniff');
    expect((await script.text()).length).toBeGreaterThan(1000);
    const style = await fetch(`${front.url}/assets/app.css`);
    expect(style.headers.get('content-type')).toBe('text/css; charset=utf-8');
    await style.text();
    const other = await fetch(`${front.url}/assets/../../package.json`);
    expect(other.status).toBe(404);
    await other.text();
    const post = await fetch(`${front.url}/`, { method: 'POST' });
    expect(post.status).toBe(405);
    await post.text();
    expect(seen.length).toBe(before);
  });

  it('refuses the dashboard to a foreign Host (DNS rebinding) like every other route', async () => {
    const answer = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: front.port, path: '/assets/app.js', headers: { host: 'evil.example:4000' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    expect(answer).toBe(421);
  });

  it('answers 404 and 405 as problems', async () => {
    const missing = await fetch(`${front.url}/nope`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
    const wrong = await fetch(`${front.url}/v1/environments`, { method: 'DELETE' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, POST');
  });

  it('answers 400, not 500, for a request target no URL parser takes, and routes //-paths as paths', async () => {
    const raw = (path: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port: front.port, path, method: 'GET' }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end();
      });
    expect(await raw('//%22bad%5Dhost/v1/health')).toBe(404);
    expect(await raw('//v1/environments')).toBe(404);
    expect(await raw('*')).toBe(400);
    expect(await raw('http://[::1/v1/health')).toBe(400);
  });

  it('validates fault requests and lists resources', async () => {
    const post = (body: unknown) => fetch(`${front.url}/_local/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post({ fault: 'nope' })).status).toBe(400);
    expect((await post({ fault: 'crash' })).status).toBe(400);
    expect((await post({ fault: 'crash', environment: 'ghost' })).status).toBe(404);
    expect((await post({ fault: 'clear', environment: 'ghost' })).status).toBe(404);
    expect((await post({ fault: 'throttle', count: 0 })).status).toBe(400);
    const throttle = await post({ fault: 'throttle', count: 2 });
    expect(throttle.status).toBe(200);
    expect(await throttle.json()).toMatchObject({ fault: 'throttle', throttledCallsRemaining: 2 });
    const resources = await (await fetch(`${front.url}/_local/resources`)).json();
    expect(resources).toMatchObject({ services: [], targetGroups: [], listenerRules: [], alarms: [], dnsRecords: [], faults: { throttledCallsRemaining: 2 } });
    expect((await post({ fault: 'clear' })).status).toBe(200);
  });

  it('switches hostile mode with {"fault":"hostile","enabled":bool}; 400 for a bad body', async () => {
    const post = (body: unknown) => fetch(`${front.url}/_local/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post({ fault: 'hostile' })).status).toBe(400);
    expect((await post({ fault: 'hostile', enabled: 1 })).status).toBe(400);
    expect((await post({ fault: 'hostile', enabled: true, environment: 'pr-1' })).status).toBe(400);
    const on = await post({ fault: 'hostile', enabled: true });
    expect(on.status).toBe(200);
    expect(await on.json()).toMatchObject({ fault: 'hostile', hostile: true });
    expect(((await (await fetch(`${front.url}/_local/resources`)).json()) as { faults: { hostile: boolean } }).faults.hostile).toBe(true);
    expect(await (await post({ fault: 'hostile', enabled: false })).json()).toMatchObject({ hostile: false });
  });

  it('routes environment hosts to the page: 404 unknown, 503 sleeping', async () => {
    const { request } = await import('node:http');
    const get = (host: string) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: front.port, path: '/', headers: { host } }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on('error', reject);
        req.end();
      });
    const unknown = await get(`ghost.localhost:${front.port}`);
    expect(unknown.status).toBe(404);
    expect(unknown.text).toContain('No environment');
    const asleep = await get(`asleep.localhost:${front.port}`);
    expect(asleep.status).toBe(503);
    expect(asleep.text).toContain('SLEEPING');
    expect(asleep.text).toContain('http-equiv="refresh"');
  });
});
