/**
 * Hostile input against every route of local mode's HTTP front (issue 12 "No 5xx on any input"):
 * a property-based test (fast-check) sends generated requests — random methods and paths,
 * environment names valid and not, headers (content-type, If-Match, Idempotency-Key,
 * x-request-id, Host), bodies (JSON nested far too deep, huge strings, wrong types, `__proto__`
 * keys, unicode and lone surrogates, invalid JSON, `sidecars` and `hooks` valid and not), query
 * strings (the lists' filters, `limit`, the logs route's `since`) and forged cursors (lists,
 * events, logs) — to the API routes of functions/contract/routes.ts and the local-only routes of
 * local mode without `--auth` (`/_local/resources`, `/_local/executions`, `/_local/faults`,
 * `/_local/aws`), over HTTP as a caller would. A second, short run does the same against a server
 * started with `--auth oidc`, whose own routes (`POST /_local/token`, the JWKS and the issuer's
 * discovery document) get generated requests too, and whose API routes get tokens good and bad.
 *
 * Properties, for every request:
 *  - no 5xx, ever;
 *  - a rejected request (4xx) changes nothing: a snapshot of what a request could change
 *    (every environment's status and version, live and deleted; the workflow executions; the
 *    simulated AWS resources, by identity and settings) is the same before and after it. The
 *    snapshot is taken while nothing runs: after a request that was accepted, the test waits
 *    for its workflows to end and the state to settle before the next request;
 *  - API answers carry an x-request-id that is a safe token, and 4xx answers are problem+json.
 *
 * The runs are bounded (FLEDGE_FUZZ_RUNS, default 400: about 35 s with the server start;
 * FLEDGE_FUZZ_OIDC_RUNS, default 150: a few seconds more) and seeded: the seed is printed, and a
 * failure says how to replay it:
 *   FLEDGE_FUZZ_SEED=<seed> npm exec -- vitest run test/e2e/fuzz.test.ts --project default
 * (add FLEDGE_FUZZ_PATH=<path> to replay only the failing case). Shrinking is off: the server
 * keeps state between cases, so a shrunk case would not be the one that failed.
 */
import { request as httpRequest } from 'node:http';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { routes } from '../../functions/contract/routes.ts';
import { reached, useLocalServer, type LocalApi } from './local-api.ts';

const RUNS = Number(process.env.FLEDGE_FUZZ_RUNS ?? 400);
/** the short second run against a server started with --auth oidc */
const OIDC_RUNS = Number(process.env.FLEDGE_FUZZ_OIDC_RUNS ?? 150);
const SEED = Number(process.env.FLEDGE_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const PATH = process.env.FLEDGE_FUZZ_PATH;
process.stdout.write(`fuzz: FLEDGE_FUZZ_SEED=${SEED} FLEDGE_FUZZ_RUNS=${RUNS} FLEDGE_FUZZ_OIDC_RUNS=${OIDC_RUNS}\n`);

// no cleanup or idle sleep while the fuzz runs: nothing may change the state but the requests
const local = useLocalServer({ FLEDGE_CLEANUP_INTERVAL: '1h', FLEDGE_QUOTA_PER_REPOSITORY: '50' });

/** environments that exist (created in beforeAll), so generated requests reach real records too */
const EXISTING = ['fz-running', 'fz-asleep'];
const REPOSITORY = 'acme/fuzz';

// ------------------------------------------------------------------ raw HTTP (fetch cannot set Host or odd methods)

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

function send(req: FuzzRequest, server: LocalApi = local): Promise<RawAnswer> {
  const { port } = server.server();
  return new Promise((resolve, reject) => {
    const r = httpRequest(
      { host: '127.0.0.1', port, method: req.method, path: req.path, headers: { ...req.headers, ...(req.body !== undefined ? { 'content-length': String(Buffer.byteLength(req.body)) } : {}) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    r.setTimeout(40_000, () => r.destroy(new Error(`no answer to ${req.method} ${req.path.slice(0, 200)} within 40 s`)));
    r.on('error', reject);
    r.end(req.body);
  });
}

// ------------------------------------------------------------------ what a request could change

async function allPages(query: string): Promise<string[]> {
  const rows: string[] = [];
  let cursor: string | null = null;
  do {
    const answer = await local.api('GET', `/v1/environments?limit=100&${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(answer.status, answer.text).toBe(200);
    for (const env of answer.body.items as { name: string; status: string; version: number }[]) rows.push(`${env.name}:${env.status}:${env.version}`);
    cursor = answer.body.nextCursor;
  } while (cursor);
  return rows;
}

async function snapshot(): Promise<string> {
  const [live, deleted, executions, resources] = await Promise.all([
    allPages(''),
    allPages('status=DELETED'),
    local.api('GET', '/_local/executions'),
    local.api('GET', '/_local/resources'),
  ]);
  const r = resources.body;
  return JSON.stringify({
    live: live.sort(),
    deleted: deleted.sort(),
    executions: (executions.body.items as { name: string; status: string }[]).map((e) => `${e.name}:${e.status}`).sort(),
    services: r.services.map((s: { arn: string; desiredCount: number; taskDefinition: string }) => `${s.arn}:${s.desiredCount}:${s.taskDefinition}`).sort(),
    taskDefinitions: r.taskDefinitions.map((t: { arn: string; status: string }) => `${t.arn}:${t.status}`).sort(),
    targetGroups: r.targetGroups.map((t: { arn: string; healthCheck: unknown }) => `${t.arn}:${JSON.stringify(t.healthCheck)}`).sort(),
    listenerRules: r.listenerRules.map((l: { arn: string; targetGroupArns: string[] }) => `${l.arn}:${l.targetGroupArns.join()}`).sort(),
    alarms: r.alarms.map((a: { name: string }) => a.name).sort(),
    scalableTargets: r.scalableTargets.map((s: { resourceId: string; minCapacity: number; maxCapacity: number }) => `${s.resourceId}:${s.minCapacity}:${s.maxCapacity}`).sort(),
    faults: r.faults,
    notifications: r.notifications.length,
  });
}

const running = async () => ((await local.api('GET', '/_local/executions')).body.items as { status: string }[]).some((e) => e.status === 'RUNNING');

/** waits until no workflow runs and two snapshots 150 ms apart agree; returns that snapshot */
async function settled(): Promise<string> {
  const deadline = Date.now() + 30_000;
  let previous = '';
  for (;;) {
    while (await running()) {
      if (Date.now() > deadline) throw new Error('workflows still running after 30 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const current = await snapshot();
    if (current === previous) return current;
    if (Date.now() > deadline) throw new Error('the state kept changing for 30 s with no workflow running');
    previous = current;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

// ------------------------------------------------------------------ generators

/** percent-encodes every byte but the unreserved ones (so any string, lone surrogates too, makes a valid request line) */
const encode = (text: string) =>
  [...Buffer.from(text, 'utf8')].map((b) => (/[A-Za-z0-9._~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
const rawBytes = fc.uint8Array({ maxLength: 12 }).map((bytes) => [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''));

const anyText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }), // lone surrogates included
  fc.constantFrom('', ' ', '__proto__', 'constructor', 'prototype', 'null', '0', '-1', '1e309', 'NaN', '../..', '%', '%00', '\u0000', '\u202e', '😀'),
);
const hugeText = fc.oneof(
  fc.nat({ max: 70_000 }).map((n) => 'x'.repeat(n)),
  fc.nat({ max: 17_000 }).map((n) => '"\\'.repeat(n)),
  fc.nat({ max: 20_000 }).map((n) => 'é'.repeat(n)),
);

const name = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...EXISTING) },
  { weight: 3, arbitrary: fc.stringMatching(/^fz-[a-z0-9]{1,6}$/) },
  { weight: 3, arbitrary: anyText.map(encode) },
  { weight: 1, arbitrary: rawBytes },
  { weight: 1, arbitrary: fc.constantFrom('A', 'a_b', 'internal-x', 'x'.repeat(33), 'x'.repeat(5000), '-a', '%2F', '%2e%2e', '.', '..') },
);

const validSpec = fc.record(
  {
    image: fc.constantFrom('nginx:1.27', 'ghcr.io/acme/web:1'),
    port: fc.integer({ min: 1, max: 65535 }),
    desiredCount: fc.integer({ min: 0, max: 2 }),
    // names that are also Object.prototype members: valid, and stored as they are
    environment: fc.dictionary(fc.oneof(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,8}$/), fc.constantFrom('constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf')), fc.string({ maxLength: 20 }), { maxKeys: 3 }),
    ttl: fc.constantFrom('72h', '7d'),
    labels: fc.dictionary(fc.constantFrom('branch', 'constructor', 'team'), fc.string({ maxLength: 20 }), { maxKeys: 2 }).map((labels) => ({ ...labels, repository: REPOSITORY })),
    // at most one of each, valid: the simulator runs them (a hook is a one-off task that exits at once)
    sidecars: fc.constantFrom([], [{ name: 'cache', image: 'redis:7', port: 6379 }], [{ name: 'worker', image: 'ghcr.io/acme/worker:1', essential: false }]),
    hooks: fc.constantFrom({}, { afterCreate: { command: ['echo', 'seeded'] } }, { beforeUpdate: { command: ['sh', '-c', 'echo migrated'], timeoutSeconds: 60 } }),
  },
  { requiredKeys: ['image', 'labels'] },
);

/** a value of the wrong type, or an edge of the right one */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  anyText,
  hugeText,
  fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, -0, Number.MAX_SAFE_INTEGER + 2, [], {}, [[]], { '': '' }),
  fc.integer(),
  fc.double(),
  fc.array(anyText, { maxLength: 3 }),
  fc.dictionary(anyText, anyText, { maxKeys: 3 }),
);

/** a sidecar, or something posing as one: bad names (`app`, duplicates, capitals), ports, images (another repository's of the account's ECR too), secrets */
const hostileSidecar = fc.record(
  {
    name: fc.oneof(fc.constantFrom('db', 'cache', 'app', 'Db', '1db', 'x'.repeat(32), ''), hostileValue),
    image: fc.oneof(fc.constantFrom('postgres:16', 'redis:fail-pull', '000000000000.dkr.ecr.eu-west-1.amazonaws.com/fledge/acme/other/db:1', '000000000000.dkr.ecr.eu-west-1.amazonaws.com/fledge/acme/fuzz/db:1', `a/${'b'.repeat(260)}`), hostileValue),
    port: fc.oneof(fc.constantFrom(80, 5432, 0, 65536), hostileValue),
    environment: fc.oneof(fc.dictionary(fc.oneof(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,8}$/), anyText), fc.oneof(fc.string({ maxLength: 20 }), hostileValue), { maxKeys: 3 }), hostileValue),
    secrets: fc.oneof(fc.constant({ PASSWORD: 'arn:aws:secretsmanager:eu-west-1:000000000000:secret:fledge/acme/other/db' }), hostileValue),
    essential: fc.oneof(fc.boolean(), hostileValue),
    extra: hostileValue,
  },
  { requiredKeys: [] },
);

/** a hook, or something posing as one: empty or NUL words, a command past RunTask's 8 KiB override, timeouts out of range */
const hostileHook = fc.record(
  {
    command: fc.oneof(
      fc.array(fc.oneof(fc.constantFrom('echo', 'fail-seed', 'sleep', '5', '', 'a\u0000b'), anyText), { maxLength: 4 }),
      fc.nat({ max: 70 }).map((n) => Array.from({ length: n }, () => 'w'.repeat(150))),
      hostileValue,
    ),
    timeoutSeconds: fc.oneof(fc.constantFrom(9, 10, 3600, 3601, 1.5), hostileValue),
    extra: hostileValue,
  },
  { requiredKeys: [] },
);

const hostileSpec = fc.record(
  {
    name: fc.oneof(name, hostileValue),
    image: fc.oneof(fc.constantFrom('nginx:1.27', `a/${'b'.repeat(260)}`, 'UPPER:x', 'web@sha256:bad', 'web:tag with space'), hostileValue),
    port: fc.oneof(fc.integer({ min: -5, max: 70_000 }), hostileValue),
    cpu: fc.oneof(fc.constantFrom(256, 512, 300), hostileValue),
    memory: fc.oneof(fc.constantFrom(512, 4096, 3), hostileValue),
    desiredCount: fc.oneof(fc.integer({ min: -2, max: 12 }), hostileValue),
    autoscaling: fc.oneof(fc.record({ minCount: fc.integer({ min: -1, max: 11 }), maxCount: fc.integer({ min: -1, max: 11 }) }), hostileValue),
    environment: fc.oneof(
      fc.dictionary(fc.oneof(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,8}$/), anyText), fc.oneof(fc.string({ maxLength: 20 }), hostileValue), { maxKeys: 4 }),
      fc.constant(JSON.parse('{"__proto__":"x","constructor":"y"}')),
      hostileValue,
    ),
    secrets: fc.oneof(
      fc.constant({ DB: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:fledge/db-AbCdEf' }),
      fc.constant(JSON.parse('{"__proto__":{"DB":"arn:aws:ssm:eu-west-1:123456789012:parameter/x"}}')),
      hostileValue,
    ),
    healthCheck: fc.oneof(fc.record({ path: fc.oneof(fc.constantFrom('/', '/a b', '/é', `/${'p'.repeat(1100)}`), anyText) }), hostileValue),
    ttl: fc.oneof(fc.constantFrom('72h', '0m', '9999d', '1x'), hostileValue),
    labels: fc.oneof(fc.constant({ repository: REPOSITORY }), fc.dictionary(anyText, fc.oneof(anyText, hostileValue), { maxKeys: 3 }), hostileValue),
    sidecars: fc.oneof(fc.array(hostileSidecar, { maxLength: 6 }), hostileValue),
    hooks: fc.oneof(
      fc.dictionary(fc.oneof(fc.constantFrom('afterCreate', 'beforeUpdate', 'afterUpdate', 'beforeDelete', 'beforeCreate', '__proto__'), anyText), fc.oneof(hostileHook, hostileValue), { maxKeys: 3 }),
      hostileValue,
    ),
    extra: hostileValue,
  },
  { requiredKeys: [] },
);

/** JSON text nested `depth` levels, of objects or arrays (as text: a deep value cannot be stringified) */
const deepJson = fc.record({ depth: fc.oneof(fc.integer({ min: 28, max: 40 }), fc.integer({ min: 1000, max: 10_000 })), kind: fc.constantFrom('object', 'array', 'patch') }).map(({ depth, kind }) =>
  kind === 'array'
    ? '['.repeat(depth) + ']'.repeat(depth)
    : kind === 'object'
      ? '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
      : `{"healthCheck":{"path":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}}`,
);

const body: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: validSpec.map((spec) => JSON.stringify(spec)) },
  { weight: 5, arbitrary: hostileSpec.map((spec) => JSON.stringify(spec)) },
  { weight: 2, arbitrary: fc.record({ desiredCount: fc.oneof(fc.integer({ min: -1, max: 11 }), hostileValue), autoscaling: fc.oneof(fc.constant(null), hostileValue) }, { requiredKeys: [] }).map((b) => JSON.stringify(b)) },
  { weight: 2, arbitrary: deepJson },
  { weight: 1, arbitrary: hostileValue.map((value) => JSON.stringify(value) ?? 'undefined') },
  { weight: 1, arbitrary: fc.constantFrom('', '{', '{"image":', 'null', '[]', '"x"', '{"image":"web",}', '\ufeff{}', '{"a":"\\ud800"}', '{"__proto__":{"image":"x"}}', 'image=nginx&port=80') },
  { weight: 1, arbitrary: anyText },
  { weight: 1, arbitrary: fc.record({ fault: fc.oneof(fc.constantFrom('crash', 'crashloop', 'unhealthy', 'delete-service', 'drift-scale', 'melt'), hostileValue), environment: fc.oneof(fc.constant('fz-nobody'), hostileValue), count: hostileValue }, { requiredKeys: ['fault'] }).map((b) => JSON.stringify(b)) },
  { weight: 1, arbitrary: fc.record({ service: fc.oneof(fc.constantFrom('ecs', 'elbv2', 'cloudwatch', 'nope'), hostileValue), action: fc.oneof(fc.constantFrom('DescribeServices', 'DescribeTargetGroups', 'Explode'), hostileValue), params: hostileValue }, { requiredKeys: [] }).map((b) => JSON.stringify(b)) },
);

const cursor = fc.oneof(
  anyText,
  fc.base64String({ maxLength: 60 }),
  fc.record({ q: fc.oneof(anyText, hostileValue), k: fc.oneof(hostileValue, fc.record({ pk: fc.constantFrom('', 'ENV#fz-running', 'ENV#'), sk: fc.oneof(fc.constantFrom('', 'ENV', `EVT#${'x'.repeat(1100)}#0001`), hostileValue), name: fc.oneof(fc.constantFrom('', 'fz-running'), hostileValue), gsiAllPk: fc.constantFrom('ENV', ''), extra: hostileValue }, { requiredKeys: [] })) }, { requiredKeys: [] }).map((c) => Buffer.from(JSON.stringify(c)).toString('base64url')),
  fc.nat({ max: 9000 }).map((n) => 'A'.repeat(n)),
  // a logs cursor ({q, t, n}) with a forged name hash, time or count
  fc.record({ q: fc.oneof(anyText, fc.constant('')), t: fc.oneof(fc.constantFrom(0, -1, 253_402_300_800_000, 1.5), hostileValue), n: fc.oneof(fc.constantFrom(0, -1, 1_000_001), hostileValue) }, { requiredKeys: [] }).map((c) => Buffer.from(JSON.stringify(c)).toString('base64url')),
);

/** the logs route's `since`: ISO times with a zone, not in the future (functions/domain/log-query.ts), and everything around that */
const since = fc.oneof(
  fc.constantFrom('2026-01-05T10:00:00Z', '2026-01-05T10:00:00.123456789+02:00', '1970-01-01T00:00Z', '2026-02-30T10:00:00Z', '2026-01-05T10:00:00', '2026-01-05', '9999-12-31T23:59:59Z', '+275760-09-13T00:00:00Z', '0', '-1', ''),
  fc.date({ min: new Date('1960-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()),
  anyText,
  fc.nat({ max: 3000 }).map((n) => `2026-01-05T10:00:00.${'1'.repeat(n)}Z`),
);

const queryPair = fc.oneof(
  fc.tuple(fc.constantFrom('repository', 'branch'), fc.oneof(fc.constant(REPOSITORY), anyText, fc.nat({ max: 3000 }).map((n) => 'r'.repeat(n)))),
  fc.tuple(fc.constant('status'), fc.oneof(fc.constantFrom('RUNNING', 'DELETED', 'running', ''), anyText)),
  fc.tuple(fc.constant('limit'), fc.oneof(fc.constantFrom('1', '100', '101', '1000', '1001', '0', '-1', '1.5', '1e2', '0x10', ' 5', '9'.repeat(400)), anyText)),
  fc.tuple(fc.constant('since'), since),
  fc.tuple(fc.constant('cursor'), cursor),
  fc.tuple(anyText, anyText),
);
// at most 12,000 characters: a request line past Node's 16 KiB header limit is refused by the HTTP parser (431), before any route
const query = fc.array(queryPair, { maxLength: 3 }).map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&')}`.slice(0, 12_000) : ''));

const path = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(fc.constantFrom(...routes.map((r) => r.path)), name).map(([template, n]) => template.replace('{name}', n)) },
  { weight: 2, arbitrary: fc.constantFrom('/_local/resources', '/_local/executions', '/_local/faults', '/_local/aws', '/_local/nothing') },
  { weight: 1, arbitrary: fc.array(fc.oneof(anyText.map(encode), rawBytes), { maxLength: 4 }).map((segments) => `/${segments.join('/')}`) },
  { weight: 1, arbitrary: fc.constantFrom('/', '//v1/environments', '/v1/environments/', '/v1/environments/fz-running/events/', '/v1//environments', '/v1/environments/fz-running/../fz-asleep', '/V1/ENVIRONMENTS') },
);

const method = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom('GET', 'PUT', 'POST', 'PATCH', 'DELETE') },
  { weight: 1, arbitrary: fc.constantFrom('HEAD', 'OPTIONS', 'TRACE', 'PURGE', 'get', 'MKCOL') },
);

/** header values a client can send (visible latin-1, spaces, tabs) */
const headerValue = (arb: fc.Arbitrary<string>) => arb.map((v) => v.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?'));
const optional = <T,>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 3 });

const headers = fc.record({
  'content-type': optional(headerValue(fc.oneof(fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/merge-patch+json', 'APPLICATION/JSON', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx', 'json', ''), anyText))),
  'if-match': optional(headerValue(fc.oneof(fc.constantFrom('"1"', '"2"', '"3"', 'W/"1"', 'W/"2"', '*', '"*"', '1', '"1', '"1", "2"', 'W/"1", "2"', ''), anyText))),
  'idempotency-key': optional(headerValue(fc.oneof(fc.constantFrom('fz-key-1', 'fz-key-2', 'k'.repeat(256), 'bad key', ''), anyText))),
  'x-request-id': optional(headerValue(fc.oneof(fc.constantFrom('ci-1', 'x'.repeat(200), 'a b', '<x>'), anyText))),
  host: optional(headerValue(fc.constantFrom('127.0.0.1', 'localhost', 'example.com', '[::1]', ''))),
});

const withoutUndefined = (h: Record<string, string | undefined>) => Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined)) as Record<string, string>;

/** anything at all: a method, path, query, headers and body drawn independently */
const anyRequest: fc.Arbitrary<FuzzRequest> = fc.record({ method, path: fc.tuple(path, query).map(([p, q]) => p + q), headers, body }).map(({ method: m, path: p, headers: h, body: b }) => ({
  method: m,
  path: p,
  headers: withoutUndefined(h),
  body: b,
}));

/** a request to one route with its own method, mostly with a JSON content type: what gets past the router to the handlers */
const routeRequest: fc.Arbitrary<FuzzRequest> = fc
  .record({
    route: fc.constantFrom(...routes),
    name,
    query,
    headers,
    json: fc.boolean(),
    body,
  })
  .map(({ route, name: n, query: q, headers: h, json, body: b }) => ({
    method: route.method,
    path: route.path.replace('{name}', n) + (route.method === 'GET' ? q : ''),
    headers: withoutUndefined({ ...h, ...(json && route.method !== 'GET' ? { 'content-type': 'application/json' } : {}) }),
    body: route.method === 'GET' ? undefined : b,
  }));

/** a well-formed mutation (some with a stale If-Match or a reused Idempotency-Key): the state moves, so later requests meet new states */
const mutation: fc.Arbitrary<FuzzRequest> = fc
  .record({
    kind: fc.constantFrom('put', 'patch', 'scale', 'heal', 'delete'),
    target: fc.oneof(fc.constantFrom(...EXISTING), fc.stringMatching(/^fz-[a-z0-9]{1,3}$/)),
    spec: validSpec,
    count: fc.integer({ min: 0, max: 2 }),
    ifMatch: optional(fc.constantFrom('"1"', '"2"', '"3"', '"4"', '"5"', '"6"', 'W/"3"', '*')),
    key: optional(fc.constantFrom('fz-m-1', 'fz-m-2')),
  })
  .map(({ kind, target, spec, count, ifMatch, key }) => {
    const headers = withoutUndefined({ 'content-type': 'application/json', 'if-match': ifMatch, 'idempotency-key': key });
    const path = `/v1/environments/${target}`;
    if (kind === 'put') return { method: 'PUT', path, headers, body: JSON.stringify(spec) };
    if (kind === 'patch') return { method: 'PATCH', path, headers, body: JSON.stringify({ ttl: '7d', environment: spec.environment ?? {} }) };
    if (kind === 'scale') return { method: 'POST', path: `${path}/scale`, headers, body: JSON.stringify({ desiredCount: count }) };
    if (kind === 'heal') return { method: 'POST', path: `${path}/heal`, headers };
    return { method: 'DELETE', path, headers };
  });

/** the attacks issue 12 names: deep bodies on existing environments, forged cursors, over-long filters */
const attack: fc.Arbitrary<FuzzRequest> = fc.oneof(
  fc.record({ target: fc.constantFrom(...EXISTING), body: deepJson, method: fc.constantFrom('PATCH', 'PUT'), key: optional(fc.constantFrom('fz-deep-1', 'fz-deep-2')) }).map(({ target, body: b, method: m, key }) => ({
    method: m,
    path: `/v1/environments/${target}`,
    headers: withoutUndefined({ 'content-type': 'application/json', 'idempotency-key': key }),
    body: b,
  })),
  fc.record({ target: fc.constantFrom(...EXISTING), c: cursor, list: fc.constantFrom('', '?repository=acme%2Ffuzz&', '?status=RUNNING&', '?branch=main&') }).map(({ target, c, list }) => ({
    method: 'GET',
    path: list === '' ? `/v1/environments/${target}/events?cursor=${encode(c)}`.slice(0, 12_000) : `/v1/environments${list}cursor=${encode(c)}`.slice(0, 12_000),
    headers: {},
  })),
  fc.record({ target: fc.constantFrom(...EXISTING), since: optional(since), limit: optional(fc.oneof(fc.constantFrom('1', '1000', '1001', '0', '-5', '2.5'), anyText)), c: optional(cursor) }).map(({ target, since: t, limit: l, c }) => ({
    method: 'GET',
    path: `/v1/environments/${target}/logs?${[t === undefined ? '' : `since=${encode(t)}`, l === undefined ? '' : `limit=${encode(l)}`, c === undefined ? '' : `cursor=${encode(c)}`].filter(Boolean).join('&')}`.slice(0, 12_000),
    headers: {},
  })),
  fc.record({ key: fc.constantFrom('repository', 'branch'), length: fc.integer({ min: 200, max: 3000 }), char: fc.constantFrom('r', 'é', '😀', '"') }).map(({ key, length, char }) => ({
    method: 'GET',
    path: `/v1/environments?${key}=${encode(char.repeat(length))}`.slice(0, 12_000),
    headers: {},
  })),
);

const fuzzRequest = fc.oneof({ weight: 6, arbitrary: routeRequest }, { weight: 2, arbitrary: anyRequest }, { weight: 1, arbitrary: mutation }, { weight: 1, arbitrary: attack });

// ------------------------------------------------------------------ the property

const describeRequest = (req: FuzzRequest) =>
  `${req.method} ${req.path.slice(0, 300)}\n  headers ${JSON.stringify(req.headers).slice(0, 500)}\n  body ${req.body === undefined ? '(none)' : `${req.body.length} chars: ${req.body.slice(0, 300)}`}`;

/** fc.assert with the seed (and the failing path) printed in a failure, and its counterexample cut to a readable size. */
async function assertReplayable<T>(property: fc.IAsyncPropertyWithHooks<T>, numRuns: number): Promise<void> {
  try {
    await fc.assert(property, { numRuns, seed: SEED, endOnFailure: true, ...(PATH ? { path: PATH } : {}) });
  } catch (error) {
    // the counterexample can be 70 kB of body: keep its start and the error that failed it
    const message = (error as Error).message;
    const cause = (error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : '';
    const details = `${message.slice(0, 2500)}${message.length > 2500 ? ' [...]' : ''}\n\nfailed because: ${cause.slice(0, 3000)}`;
    const failedPath = /path: "([^"]*)"/.exec(details)?.[1];
    throw new Error(
      `${details}\n\nreplay: FLEDGE_FUZZ_SEED=${SEED}${failedPath ? ` FLEDGE_FUZZ_PATH=${failedPath}` : ''} npm exec -- vitest run test/e2e/fuzz.test.ts --project default`,
      { cause: error },
    );
  }
}

describe('hostile input on every route of the local HTTP front', () => {
  const statuses = new Map<number, number>();
  let before = '';

  beforeAll(async () => {
    for (const env of EXISTING) {
      const created = await local.api('PUT', `/v1/environments/${env}`, { body: { image: 'nginx:1.27', port: 80, labels: { repository: REPOSITORY } } });
      expect(created.status, created.text).toBe(201);
    }
    await reached(() => local.api('GET', '/v1/environments/fz-running'), (a) => a.body?.status === 'RUNNING', 60_000, 100, 'fz-running RUNNING');
    await reached(() => local.api('GET', '/v1/environments/fz-asleep'), (a) => a.body?.status === 'RUNNING', 60_000, 100, 'fz-asleep RUNNING');
    expect((await local.api('POST', '/v1/environments/fz-asleep/scale', { body: { desiredCount: 0 } })).status).toBe(202);
    before = await settled();
  }, 120_000);

  it('refuses the attacks of issue 12 over the wire, changing nothing', async () => {
    const cases: [FuzzRequest, number][] = [
      // a cross-site HTML form: no JSON content type, no body
      [{ method: 'POST', path: '/v1/environments/fz-running/heal', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415],
      [{ method: 'POST', path: '/v1/environments/fz-running/heal', headers: {} }, 415],
      [{ method: 'PATCH', path: '/v1/environments/fz-running', headers: { 'content-type': 'application/json', 'if-match': 'W/"1"' }, body: '{"ttl":"7d"}' }, 412],
      [{ method: 'PATCH', path: '/v1/environments/fz-running', headers: { 'content-type': 'application/json', 'if-match': '1' }, body: '{"ttl":"7d"}' }, 400],
      [{ method: 'PATCH', path: '/v1/environments/fz-running', headers: { 'content-type': 'application/json', 'idempotency-key': 'deep' }, body: `{"healthCheck":{"path":${'{"":'.repeat(12_000)}1${'}'.repeat(12_000)}}}` }, 400],
      [{ method: 'GET', path: `/v1/environments?cursor=${Buffer.from(JSON.stringify({ q: 'x', k: { pk: '', sk: 'ENV', gsiAllPk: 'ENV', name: '' } })).toString('base64url')}`, headers: {} }, 400],
      [{ method: 'GET', path: `/v1/environments?repository=${'r'.repeat(3000)}`, headers: {} }, 400],
      [{ method: 'PUT', path: '/v1/environments/fz-new', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ image: `ghcr.io/${'a'.repeat(260)}`, labels: { repository: REPOSITORY } }) }, 400],
      [{ method: 'PUT', path: '/v1/environments/fz-new', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ image: 'nginx:1', healthCheck: { path: '/health check' } }) }, 400],
      [{ method: 'PUT', path: '/v1/environments/fz-new', headers: { 'content-type': 'application/json' }, body: '{"image":"nginx:1","environment":{"__proto__":"x"}}' }, 400],
    ];
    for (const [req, status] of cases) {
      const answer = await send(req);
      expect(answer.status, `${describeRequest(req)}\n  answer ${answer.text.slice(0, 300)}`).toBe(status);
      expect(String(answer.headers['content-type'])).toMatch(/^application\/problem\+json/);
    }
    expect(await snapshot()).toBe(before);
  });

  it(`answers no 5xx and changes nothing on a 4xx (${RUNS} generated requests)`, async () => {
    const started = Date.now();
    const property = fc.asyncProperty(fuzzRequest, async (req) => {
      const answer = await send(req);
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      const fail = (what: string) => `${what}\n  ${describeRequest(req)}\n  answer ${answer.status} ${answer.text.slice(0, 500)}`;
      expect(answer.status < 500, fail('a 5xx')).toBe(true);
      if (answer.headers['apigw-requestid'] && req.path.startsWith('/v1/')) {
        expect(String(answer.headers['x-request-id']), fail('an unsafe x-request-id')).toMatch(/^[A-Za-z0-9+/=._:-]{1,128}$/);
        if (answer.status >= 400) expect(String(answer.headers['content-type']), fail('a 4xx that is not problem+json')).toMatch(/^application\/problem\+json/);
      }
      if (answer.status >= 400) {
        const after = await snapshot();
        expect(after, fail('a rejected request changed the state')).toBe(before);
      } else if (req.method !== 'GET') {
        before = await settled();
      }
    });
    try {
      await assertReplayable(property, RUNS);
    } finally {
      const summary = [...statuses.entries()].sort(([a], [b]) => a - b).map(([status, count]) => `${status}x${count}`).join(' ');
      process.stdout.write(`fuzz: ${RUNS} requests in ${Date.now() - started} ms (seed ${SEED}); answers ${summary}\n`);
    }
    // the run must have reached the handlers, not only the router
    expect([...statuses.keys()].some((status) => status >= 200 && status < 300)).toBe(true);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
  }, 240_000);
});

// ------------------------------------------------------------------ the same with --auth oidc: the issuer's routes, tokens good and bad

/** what a token can be: one the local issuer handed out (a repository's, an operator's), or one API Gateway's JWT authorizer refuses */
type TokenKind = 'repository' | 'operator' | 'expired' | 'wrong-audience' | 'unsigned' | 'tampered' | 'garbage' | 'none';
const ACCEPTED: readonly TokenKind[] = ['repository', 'operator'];

const tokenRequestBody = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .record(
        {
          repository: fc.oneof(fc.constantFrom('acme/fuzz', 'acme', 'a/b/c', '', `${'o'.repeat(101)}/x`), hostileValue),
          actor: fc.oneof(fc.constantFrom('dev', 'bot[bot]', 'a b'), hostileValue),
          audience: fc.oneof(fc.constantFrom('fledge', 'other', ''), hostileValue),
          expiresIn: fc.oneof(fc.integer({ min: -200_000, max: 200_000 }), hostileValue),
          ref: fc.oneof(fc.constantFrom('refs/heads/main', 'main', 'refs/'), hostileValue),
          operator: fc.oneof(fc.boolean(), hostileValue),
          issuer: fc.oneof(fc.constantFrom('http://127.0.0.1/_local/issuer', 'evil'), hostileValue),
          repositoryOwnerId: fc.oneof(fc.constantFrom('1', '123456789', 'x', '1'.repeat(21)), hostileValue),
          eventName: fc.oneof(fc.constantFrom('push', 'pull_request_target', 'Push'), hostileValue),
          extra: hostileValue,
        },
        { requiredKeys: [] },
      )
      .map((b) => JSON.stringify(b)),
  },
  { weight: 1, arbitrary: body },
);

const issuerRequest: fc.Arbitrary<FuzzRequest> = fc
  .record({
    method: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('GET', 'POST') }, { weight: 1, arbitrary: fc.constantFrom('PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH') }),
    path: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('/_local/token', '/_local/jwks.json', '/_local/issuer/.well-known/openid-configuration') },
      { weight: 1, arbitrary: fc.constantFrom('/_local/issuer', '/_local/issuer/', '/_local/jwks', '/_local/token/x', '/_local/issuer/.well-known/jwks.json', '/_local/TOKEN') },
    ),
    query,
    headers,
    json: fc.boolean(),
    body: tokenRequestBody,
  })
  .map(({ method: m, path: p, query: q, headers: h, json, body: b }) => ({
    method: m,
    path: p + q,
    headers: withoutUndefined({ ...h, ...(json ? { 'content-type': 'application/json' } : {}) }),
    body: m === 'GET' || m === 'HEAD' ? undefined : b,
  }));

const oidcRequest = fc.oneof(
  { weight: 2, arbitrary: issuerRequest.map((req) => ({ req, token: 'none' as TokenKind })) },
  {
    weight: 3,
    arbitrary: fc.tuple(fc.oneof(routeRequest, anyRequest), fc.constantFrom<TokenKind>('repository', 'operator', 'expired', 'wrong-audience', 'unsigned', 'tampered', 'garbage', 'none')).map(([req, token]) => ({ req, token })),
  },
);

describe('hostile input with --auth oidc: the local issuer\'s routes, and the API behind tokens good and bad', () => {
  const oidc = useLocalServer({ FLEDGE_CLEANUP_INTERVAL: '1h', FLEDGE_QUOTA_PER_REPOSITORY: '50' }, { auth: 'oidc' });
  const tokens = new Map<TokenKind, string>();

  /** what a request could change, seen without a token: the workflow executions and the simulated AWS resources */
  async function localState(): Promise<string> {
    const [executions, resources] = await Promise.all([oidc.api('GET', '/_local/executions'), oidc.api('GET', '/_local/resources')]);
    const r = resources.body;
    return JSON.stringify({
      executions: (executions.body.items as { name: string; status: string }[]).map((e) => `${e.name}:${e.status}`).sort(),
      services: r.services.map((x: { arn: string; desiredCount: number; taskDefinition: string }) => `${x.arn}:${x.desiredCount}:${x.taskDefinition}`).sort(),
      taskDefinitions: r.taskDefinitions.map((t: { arn: string; status: string }) => `${t.arn}:${t.status}`).sort(),
      faults: r.faults,
    });
  }
  async function settledLocalState(): Promise<string> {
    await reached(oidc.api.bind(null, 'GET', '/_local/executions'), (a) => !(a.body.items as { status: string }[]).some((e) => e.status === 'RUNNING'), 30_000, 50, 'no workflow running');
    return localState();
  }

  beforeAll(async () => {
    const issue = async (request: Record<string, unknown>) => {
      const answer = await oidc.api('POST', '/_local/token', { body: request });
      expect(answer.status, answer.text).toBe(200);
      return answer.body.token as string;
    };
    const good = await issue({ repository: REPOSITORY, actor: 'fuzz' });
    const [header, payload] = good.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    tokens.set('repository', good);
    tokens.set('operator', await issue({ operator: true, repository: 'acme/ops', actor: 'ops' }));
    tokens.set('expired', await issue({ repository: REPOSITORY, expiresIn: -60 }));
    tokens.set('wrong-audience', await issue({ repository: REPOSITORY, audience: 'not-fledge' }));
    tokens.set('unsigned', `${b64({ ...JSON.parse(Buffer.from(header, 'base64url').toString('utf8')), alg: 'none' })}.${payload}.`);
    tokens.set('tampered', `${header}.${b64({ ...claims, repository: 'acme/other' })}.${good.split('.')[2]}`);
    tokens.set('garbage', 'not.a.jwt');
  }, 60_000);

  it(`answers no 5xx, refuses every token API Gateway would with 401, and changes nothing on a 4xx (${OIDC_RUNS} generated requests)`, async () => {
    const statuses = new Map<number, number>();
    let state = await settledLocalState();
    const property = fc.asyncProperty(oidcRequest, async ({ req, token }) => {
      const headers = { ...req.headers };
      delete headers.authorization;
      const withToken: FuzzRequest = { ...req, headers: token === 'none' ? headers : { ...headers, authorization: `Bearer ${tokens.get(token)!}` } };
      const answer = await send(withToken, oidc);
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      const fail = (what: string) => `${what}\n  token ${token}\n  ${describeRequest(withToken)}\n  answer ${answer.status} ${answer.text.slice(0, 500)}`;
      expect(answer.status < 500, fail('a 5xx')).toBe(true);
      // a token API Gateway's JWT authorizer refuses never reaches a handler: 401, unless no route matched first (404, 405) or the Host was refused (421)
      if (req.path.startsWith('/v1/') && !ACCEPTED.includes(token)) expect([401, 404, 405, 421], fail('an API route answered a refused token')).toContain(answer.status);
      if (req.path.startsWith('/_local/token') && answer.status === 200) expect(typeof JSON.parse(answer.text).token, fail('a token answer without a token')).toBe('string');
      if (answer.status >= 400) expect(await localState(), fail('a rejected request changed the state')).toBe(state);
      else if (req.method !== 'GET') state = await settledLocalState();
    });
    const started = Date.now();
    try {
      await assertReplayable(property, OIDC_RUNS);
    } finally {
      const summary = [...statuses.entries()].sort(([a], [b]) => a - b).map(([status, count]) => `${status}x${count}`).join(' ');
      process.stdout.write(`fuzz --auth oidc: ${OIDC_RUNS} requests in ${Date.now() - started} ms (seed ${SEED}); answers ${summary}\n`);
    }
    // the issuer's routes answered (a token, the JWKS or the discovery document) and tokens were refused
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(401) ?? 0).toBeGreaterThan(0);
  }, 180_000);
});
