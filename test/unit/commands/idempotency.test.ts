/**
 * `Idempotency-Key` end to end through the http wrapper, with the real claim protocol
 * (functions/commands/idempotency.ts) against DynamoDB Local: replay, 422, key order, concurrent
 * duplicates, release on failure, takeover of a lapsed claim, scope per caller (an IAM role
 * across its sessions, an OIDC sub), the 24 h window.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import fc from 'fast-check';
import { resetClients } from '../../../functions/adapters/aws-clients.ts';
import { httpHandler, type HttpRequest, type HttpResponse } from '../../../functions/lambda/http-handler.ts';
import { resetConfig } from '../../../functions/runtime/config.ts';
import { CLAIM_SECONDS, IDEMPOTENCY_WINDOW_SECONDS, requestFingerprint } from '../../../functions/commands/idempotency.ts';
import { canonicalJson } from '../../../functions/domain/canonical-json.ts';
import { Conflict } from '../../../functions/domain/errors.ts';
import { apiEvent, lambdaContext } from '../../support/api-events.ts';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../workflow/support/dynamodb-local.ts';

let db: DynamoDbLocal;

beforeAll(async () => {
  db = await startDynamoDbLocal('fledge-idempotency');
  Object.assign(process.env, { TABLE_NAME: db.tableName, FLEDGE_DYNAMODB_ENDPOINT: db.endpoint });
  resetClients();
});

afterAll(async () => {
  resetClients();
  delete process.env.FLEDGE_DYNAMODB_ENDPOINT;
  await db?.stop();
});

afterEach(() => {
  vi.useRealTimers();
});

/** A mutating route whose behaviour each test decides; counts its runs. */
function route(behaviour: (request: HttpRequest, run: number) => Promise<HttpResponse>) {
  const runs: unknown[] = [];
  const handler = httpHandler(
    async (request) => {
      runs.push(request.body);
      return behaviour(request, runs.length);
    },
    { requiresBody: true, idempotent: true },
  );
  return { runs, handler };
}

const created = async (_request: HttpRequest, run: number): Promise<HttpResponse> => ({ status: 201, body: { run }, headers: { etag: `"${run}"` } });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function send(
  handler: ReturnType<typeof route>['handler'],
  body: unknown,
  key: string,
  options: { path?: string; caller?: string; claims?: Record<string, string>; rawBody?: string } = {},
) {
  const event = apiEvent({ method: 'POST', path: options.path ?? '/v1/environments', body, rawBody: options.rawBody, headers: { 'idempotency-key': key } });
  if (options.caller) (event.requestContext as unknown as { authorizer: unknown }).authorizer = { iam: { userArn: options.caller } };
  if (options.claims) (event.requestContext as unknown as { authorizer: unknown }).authorizer = { jwt: { claims: options.claims, scopes: null } };
  const result = (await handler(event, lambdaContext)) as { statusCode: number; headers: Record<string, string>; body: string };
  return { status: result.statusCode, headers: result.headers, body: result.body ? JSON.parse(result.body) : undefined };
}

const newKey = () => `key-${randomUUID()}`;

describe('Idempotency-Key against DynamoDB Local', () => {
  it('replays the first answer for the same key and body without running the route again', async () => {
    const { runs, handler } = route(created);
    const key = newKey();
    const first = await send(handler, { name: 'pr-1', image: 'web' }, key);
    const again = await send(handler, { name: 'pr-1', image: 'web' }, key);
    expect(first).toMatchObject({ status: 201, body: { run: 1 } });
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(again).toMatchObject({ status: 201, body: { run: 1 } });
    expect(again.headers).toMatchObject({ 'idempotent-replayed': 'true', etag: '"1"' });
    expect(runs).toHaveLength(1);
  });

  it('replays when the same JSON comes with its keys in another order, at every level', async () => {
    const { runs, handler } = route(created);
    const key = newKey();
    await send(handler, { name: 'pr-1', spec: { image: 'web', labels: { b: '2', a: '1' } }, list: [{ x: 1, y: 2 }] }, key);
    const reordered = await send(handler, undefined, key, { rawBody: '{"list":[{"y":2,"x":1}],"spec":{"labels":{"a":"1","b":"2"},"image":"web"},"name":"pr-1"}' });
    expect(reordered.status).toBe(201);
    expect(reordered.headers['idempotent-replayed']).toBe('true');
    expect(runs).toHaveLength(1);
  });

  it('is 422 for the same key with another body, another array order or another path, and changes nothing', async () => {
    const { runs, handler } = route(created);
    const key = newKey();
    await send(handler, { name: 'pr-1', tags: ['a', 'b'] }, key);
    for (const [body, path] of [
      [{ name: 'pr-2', tags: ['a', 'b'] }, undefined],
      [{ name: 'pr-1', tags: ['b', 'a'] }, undefined],
      [{ name: 'pr-1', tags: ['a', 'b'] }, '/v1/environments/pr-1/scale'],
    ] as const) {
      const answer = await send(handler, body, key, { path });
      expect(answer.status).toBe(422);
      expect(answer.headers['content-type']).toBe('application/problem+json');
      expect(answer.body).toMatchObject({ status: 422, title: 'Idempotency-Key reused' });
    }
    expect(runs).toHaveLength(1);
    // the first answer is still the one replayed
    expect((await send(handler, { name: 'pr-1', tags: ['a', 'b'] }, key)).body).toEqual({ run: 1 });
  });

  it('runs two concurrent identical requests once: the other is a replay or a 409 with Retry-After, never a second run', async () => {
    const { runs, handler } = route(async (request, run) => {
      await sleep(300);
      return created(request, run);
    });
    const key = newKey();
    const answers = await Promise.all([send(handler, { name: 'pr-1' }, key), send(handler, { name: 'pr-1' }, key)]);
    expect(runs).toHaveLength(1);
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses[0]).toBe(201);
    const other = answers.find((a) => a.status !== 201 || a.headers['idempotent-replayed'])!;
    if (other.status === 409) {
      expect(other.headers['retry-after']).toMatch(/^[1-9]\d*$/);
      expect(other.headers['content-type']).toBe('application/problem+json');
      expect(other.body).toMatchObject({ status: 409, title: 'Idempotency-Key in progress', code: 'IDEMPOTENCY_KEY_IN_PROGRESS' });
      expect(other.body.detail).toMatch(/still in progress; retry after \d+ s/);
    } else {
      expect(other).toMatchObject({ status: 201, body: { run: 1 }, headers: { 'idempotent-replayed': 'true' } });
    }
    // once the first is done, a retry is its replay
    expect(await send(handler, { name: 'pr-1' }, key)).toMatchObject({ status: 201, body: { run: 1 }, headers: { 'idempotent-replayed': 'true' } });
  });

  it('answers a duplicate with another body while the first is in progress with 422, not 409', async () => {
    let finish!: () => void;
    const { runs, handler } = route(async (request, run) => {
      await new Promise<void>((resolve) => (finish = resolve));
      return created(request, run);
    });
    const key = newKey();
    const first = send(handler, { name: 'pr-1' }, key);
    await vi.waitFor(() => expect(runs).toHaveLength(1));
    expect((await send(handler, { name: 'pr-2' }, key)).status).toBe(422);
    finish();
    expect((await first).status).toBe(201);
  });

  it('releases the key when the request fails (4xx thrown, 5xx), so a retry runs again', async () => {
    const { runs, handler } = route(async (request, run) => {
      if (run === 1) throw new Conflict('a live environment is named "pr-1"');
      if (run === 2) throw new Error('DynamoDB is having a bad day');
      return created(request, run);
    });
    const key = newKey();
    expect((await send(handler, { name: 'pr-1' }, key)).status).toBe(409);
    expect((await send(handler, { name: 'pr-1' }, key)).status).toBe(500);
    const third = await send(handler, { name: 'pr-1' }, key);
    expect(third).toMatchObject({ status: 201, body: { run: 3 } });
    expect(third.headers['idempotent-replayed']).toBeUndefined();
    expect(runs).toHaveLength(3);
  });

  it('keeps only answers below 300: a 3xx/4xx answer is not replayed', async () => {
    const { runs, handler } = route(async (_request, run) => (run === 1 ? { status: 409, body: { run } } : { status: 202, body: { run } }));
    const key = newKey();
    expect(await send(handler, { name: 'pr-1' }, key)).toMatchObject({ status: 409, body: { run: 1 } });
    expect(await send(handler, { name: 'pr-1' }, key)).toMatchObject({ status: 202, body: { run: 2 } });
    expect(await send(handler, { name: 'pr-1' }, key)).toMatchObject({ status: 202, body: { run: 2 }, headers: { 'idempotent-replayed': 'true' } });
    expect(runs).toHaveLength(2);
  });

  it('lets a retry take over a claim that lapsed (a crashed request), and the late first request cannot overwrite its answer', async () => {
    let finishFirst!: () => void;
    const { runs, handler } = route(async (request, run) => {
      if (run === 1) await new Promise<void>((resolve) => (finishFirst = resolve));
      return created(request, run);
    });
    const key = newKey();
    const first = send(handler, { name: 'pr-1' }, key);
    await vi.waitFor(() => expect(runs).toHaveLength(1));
    // while the claim holds: 409, a problem with Retry-After and when the claim lapses
    const busy = await send(handler, { name: 'pr-1' }, key);
    expect(busy).toMatchObject({
      status: 409,
      headers: { 'content-type': 'application/problem+json', 'retry-after': '1' },
      body: {
        type: 'https://fledge.dev/problems/idempotency-key-in-progress', title: 'Idempotency-Key in progress', status: 409, code: 'IDEMPOTENCY_KEY_IN_PROGRESS',
        detail: expect.stringMatching(/^a request with this Idempotency-Key is still in progress; retry after 1 s to get its answer\. If that request never finishes, its claim lapses at \d{4}-\d\d-\d\dT/),
      },
    });

    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + (CLAIM_SECONDS + 1) * 1000);
    const takeover = await send(handler, { name: 'pr-1' }, key);
    expect(takeover).toMatchObject({ status: 201, body: { run: 2 } });
    expect(takeover.headers['idempotent-replayed']).toBeUndefined();

    finishFirst();
    expect((await first).status).toBe(201);
    // the answer kept is the taker's, not the late first request's
    expect(await send(handler, { name: 'pr-1' }, key)).toMatchObject({ status: 201, body: { run: 2 }, headers: { 'idempotent-replayed': 'true' } });
    expect(runs).toHaveLength(2);
  });

  it('scopes keys per caller: the same key from another caller is another request', async () => {
    const { runs, handler } = route(created);
    const key = newKey();
    const a = await send(handler, { name: 'pr-1' }, key, { caller: 'arn:aws:iam::123456789012:role/team-a' });
    const b = await send(handler, { name: 'pr-9' }, key, { caller: 'arn:aws:iam::123456789012:role/team-b' });
    expect(a).toMatchObject({ status: 201, body: { run: 1 } });
    expect(b).toMatchObject({ status: 201, body: { run: 2 } });
    expect(b.headers['idempotent-replayed']).toBeUndefined();
    // a very long caller (an OIDC subject can be long) still fits DynamoDB's key limit
    const long = await send(handler, { name: 'pr-1' }, key, { caller: `arn:aws:iam::123456789012:role/${'x'.repeat(3000)}` });
    expect(long).toMatchObject({ status: 201, body: { run: 3 } });
    expect(runs).toHaveLength(3);
  });

  it('scopes an IAM role\'s keys by the role, not the session: a retry from a new AssumeRole session is a replay', async () => {
    const actors: string[] = [];
    const { runs, handler } = route(async (request, run) => {
      actors.push(request.actor);
      return created(request, run);
    });
    const key = newKey();
    const session = (name: string, role = 'ci-web') => `arn:aws:sts::123456789012:assumed-role/${role}/${name}`;
    const first = await send(handler, { name: 'pr-1' }, key, { caller: session('GitHubActions-1001-1') });
    const retry = await send(handler, { name: 'pr-1' }, key, { caller: session('GitHubActions-1001-2') });
    expect(first).toMatchObject({ status: 201, body: { run: 1 } });
    expect(retry).toMatchObject({ status: 201, body: { run: 1 }, headers: { 'idempotent-replayed': 'true' } });
    // the same key with another body from another session of the role: 422, as for one session
    expect((await send(handler, { name: 'pr-2' }, key, { caller: session('GitHubActions-1001-3') })).status).toBe(422);
    // another role (or the same role name in another account) is another caller
    expect(await send(handler, { name: 'pr-1' }, key, { caller: session('x', 'ci-api') })).toMatchObject({ status: 201, body: { run: 2 } });
    expect(await send(handler, { name: 'pr-1' }, key, { caller: 'arn:aws:sts::210987654321:assumed-role/ci-web/GitHubActions-1001-1' })).toMatchObject({ status: 201, body: { run: 3 } });
    expect(runs).toHaveLength(3);
    // what ran, ran as the session (the events' actor)
    expect(actors[0]).toBe(session('GitHubActions-1001-1'));
  });

  it('scopes an OIDC caller\'s keys by its sub: another token of the same workflow (new jti) replays', async () => {
    process.env.FLEDGE_OIDC_OWNERS = 'acme';
    resetConfig();
    onTestFinished(() => {
      delete process.env.FLEDGE_OIDC_OWNERS;
      resetConfig();
    });
    const { runs, handler } = route(created);
    const key = newKey();
    const token = (sub: string, jti: string) => ({ sub, jti, repository: 'acme/web', repository_owner: 'acme', event_name: 'push', aud: 'fledge' });
    const main = 'repo:acme/web:ref:refs/heads/main';
    expect(await send(handler, { name: 'pr-1' }, key, { claims: token(main, 'a') })).toMatchObject({ status: 201, body: { run: 1 } });
    expect(await send(handler, { name: 'pr-1' }, key, { claims: token(main, 'b') })).toMatchObject({ status: 201, body: { run: 1 }, headers: { 'idempotent-replayed': 'true' } });
    expect(await send(handler, { name: 'pr-1' }, key, { claims: token('repo:acme/web:pull_request', 'c') })).toMatchObject({ status: 201, body: { run: 2 } });
    expect(runs).toHaveLength(2);
  });

  it('forgets an answer after 24 h: the key can then carry another request', async () => {
    const { runs, handler } = route(created);
    const key = newKey();
    await send(handler, { name: 'pr-1' }, key);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + (IDEMPOTENCY_WINDOW_SECONDS - 60) * 1000);
    expect((await send(handler, { name: 'pr-2' }, key)).status).toBe(422);
    vi.setSystemTime(Date.now() + 120 * 1000);
    expect(await send(handler, { name: 'pr-2' }, key)).toMatchObject({ status: 201, body: { run: 2 } });
    expect(runs).toHaveLength(2);
  });

  it('never answers 5xx for a deeply nested body with a key (the fingerprint does not recurse)', async () => {
    const { handler } = route(created);
    // 30,000 levels in 60 kB (under the 64 KiB limit): JSON.stringify overflows the stack at ~5,000
    const depth = 30_000;
    const rawBody = `{"name":"pr-1","deep":${'['.repeat(depth)}1${']'.repeat(depth)}}`;
    const key = newKey();
    const first = await send(handler, undefined, key, { rawBody });
    // 201 here; a 400 once body parsing limits the depth, but never a 5xx
    expect([201, 400]).toContain(first.status);
    if (first.status === 201) expect((await send(handler, undefined, key, { rawBody })).headers['idempotent-replayed']).toBe('true');
  });

  it('is 400 for a malformed key, without running the route or storing anything', async () => {
    const { runs, handler } = route(created);
    for (const key of ['has space', 'x'.repeat(256), 'ünïcode']) {
      const answer = await send(handler, { name: 'pr-1' }, key);
      expect(answer.status).toBe(400);
      expect(answer.body.errors).toEqual([{ path: 'header:Idempotency-Key', message: 'invalid' }]);
    }
    expect(runs).toHaveLength(0);
  });
});

describe('canonical JSON', () => {
  /** the same value with the keys of every object in a random order (test data is shallow: recursion is fine here) */
  const shuffled = (value: unknown, random: () => number): unknown => {
    if (Array.isArray(value)) return value.map((v) => shuffled(v, random));
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value).map(([k, v]) => [k, shuffled(v, random)] as const);
    for (let i = entries.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [entries[i], entries[j]] = [entries[j]!, entries[i]!];
    }
    return Object.fromEntries(entries);
  };

  it('is the same text for the same JSON with keys in any order, and still that JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer(), (value, seed) => {
        const json = JSON.parse(JSON.stringify(value));
        let state = seed;
        const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31), Math.abs(state) / 2 ** 31);
        const canonical = canonicalJson(json);
        expect(canonicalJson(shuffled(json, random))).toBe(canonical);
        expect(JSON.parse(canonical)).toEqual(json);
      }),
      { numRuns: 300 },
    );
  });

  it('sorts keys by code unit at every level, keys differing only in case included', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: null }], c: 'x' }, A: true })).toBe('{"A":true,"a":{"c":"x","d":[{"y":null,"z":1}]},"b":1}');
    expect(canonicalJson({ a: 1, A: 2 })).toBe(canonicalJson({ A: 2, a: 1 }));
    expect(canonicalJson(JSON.parse('{"x":2,"__proto__":1}'))).toBe('{"__proto__":1,"x":2}');
  });

  it('handles any depth without recursion (100,000 levels)', () => {
    const depth = 100_000;
    let deep: unknown = 0;
    for (let i = 0; i < depth; i++) deep = i % 2 ? [deep] : { k: deep };
    const text = canonicalJson(deep);
    expect(text.length).toBe(1 + (depth / 2) * ('{"k":}'.length + '[]'.length));
    expect(text.startsWith('[{"k":[{"k":')).toBe(true);
    expect(() => requestFingerprint('POST', '/v1/environments', deep)).not.toThrow();
  });

  it('fingerprints method, path and body', () => {
    const base = requestFingerprint('POST', '/v1/environments', { a: 1 });
    expect(requestFingerprint('POST', '/v1/environments', { a: 1 })).toBe(base);
    expect(requestFingerprint('PUT', '/v1/environments', { a: 1 })).not.toBe(base);
    expect(requestFingerprint('POST', '/v1/environments/x', { a: 1 })).not.toBe(base);
    expect(requestFingerprint('POST', '/v1/environments', { a: 2 })).not.toBe(base);
    expect(requestFingerprint('POST', '/v1/environments', undefined)).toBe(requestFingerprint('POST', '/v1/environments', null));
  });
});
