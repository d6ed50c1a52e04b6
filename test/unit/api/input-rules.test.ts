/**
 * Strict input rules of the http wrapper and the list routes (issue 12 "No 5xx on any input"):
 * JSON depth, content types of state-changing requests, If-Match compared strongly,
 * x-request-id, cursors validated in full, bounded query parameters, and list pages that
 * shrink to fit Lambda's response limit. A rejected request never reaches DynamoDB or Step Functions.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { handler as putHandler } from '../../../functions/api/put-environment.ts';
import { handler as patchHandler } from '../../../functions/api/patch-environment.ts';
import { handler as deleteHandler } from '../../../functions/api/delete-environment.ts';
import { handler as healHandler } from '../../../functions/api/heal-environment.ts';
import { handler as listHandler } from '../../../functions/api/list-environments.ts';
import { handler as eventsHandler } from '../../../functions/api/list-events.ts';
import { handler as getHandler } from '../../../functions/api/get-environment.ts';
import { MARSHALL_OPTIONS } from '../../../functions/adapters/clients/dynamodb.ts';
import { encodeCursor, MAX_CURSOR_LENGTH } from '../../../functions/domain/cursors.ts';
import { jsonDepth, MAX_JSON_DEPTH, REQUEST_ID_PATTERN } from '../../../functions/lambda/http-handler.ts';
import { RESPONSE_ITEMS_BUDGET_BYTES } from '../../../functions/api/responses.ts';
import { mockApiAws } from '../../support/api-aws.ts';
import { apiEvent, call, lambdaContext } from '../../support/api-events.ts';
import { item, record, spec } from '../../support/records.ts';

const { dynamodb, sfn, stored } = mockApiAws();

const NO_CONTENT_TYPE = { 'content-type': undefined } as unknown as Record<string, string>;
const put = (options: { body?: unknown; rawBody?: string; headers?: Record<string, string> }, name = 'pr-1') =>
  call(putHandler, { method: 'PUT', path: `/v1/environments/${name}`, pathParameters: { name }, ...options });
const patch = (options: { body?: unknown; rawBody?: string; headers?: Record<string, string> }, name = 'pr-1') =>
  call(patchHandler, { method: 'PATCH', path: `/v1/environments/${name}`, pathParameters: { name }, ...options });
const heal = (headers: Record<string, string> = {}, rawBody?: string) =>
  call(healHandler, { method: 'POST', path: '/v1/environments/pr-1/heal', routeKey: 'POST /v1/environments/{name}/heal', pathParameters: { name: 'pr-1' }, headers, rawBody });
const del = (headers: Record<string, string> = {}, rawBody?: string) =>
  call(deleteHandler, { method: 'DELETE', path: '/v1/environments/pr-1', pathParameters: { name: 'pr-1' }, headers, rawBody });
const list = (query: Record<string, string>) => call(listHandler, { method: 'GET', path: '/v1/environments', query });
const events = (query: Record<string, string>, name = 'pr-1') =>
  call(eventsHandler, { method: 'GET', path: `/v1/environments/${name}/events`, pathParameters: { name }, query });
const nothingWritten = () => {
  expect(dynamodb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  expect(dynamodb.commandCalls(PutCommand)).toHaveLength(0);
  expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
};

describe('UTF-8 bodies', () => {
  it('refuses a body that is not valid UTF-8 (400), rather than replacing bytes unseen', async () => {
    const event = apiEvent({ method: 'PUT', path: '/v1/environments/pr-1', pathParameters: { name: 'pr-1' } });
    const bytes = Buffer.concat([Buffer.from('{"image":"web","environment":{"A":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}}')]);
    const result = (await putHandler({ ...event, body: bytes.toString('base64'), isBase64Encoded: true }, lambdaContext)) as { statusCode: number; body: string };
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body)).toMatchObject({ detail: 'the request body is not valid UTF-8' });
    nothingWritten();
    const valid = Buffer.from('{"image":"web","environment":{"A":"é ✓"}}');
    const accepted = (await putHandler({ ...event, body: valid.toString('base64'), isBase64Encoded: true }, lambdaContext)) as { statusCode: number };
    expect(accepted.statusCode).toBe(201);
  });
});

describe('JSON depth limit', () => {
  const nestedArrays = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

  it('measures nesting in one pass, ignoring brackets inside strings', () => {
    expect(jsonDepth('{"a":[1,{"b":2}]}')).toBe(3);
    expect(jsonDepth('{"a":"[[[[\\"{{{{"}')).toBe(1);
    expect(jsonDepth('"x"')).toBe(0);
    expect(jsonDepth('['.repeat(60_000))).toBe(60_000);
  });

  it(`accepts ${MAX_JSON_DEPTH} levels and refuses ${MAX_JSON_DEPTH + 1} with a 400 and errors[]`, async () => {
    const atLimit = await put({ rawBody: `{"image":"web","labels":${nestedArrays(MAX_JSON_DEPTH - 1)}}` });
    expect(atLimit.status).toBe(400);
    expect(atLimit.body.errors[0].path).toBe('labels'); // reached the schema
    const deeper = await put({ rawBody: `{"image":"web","labels":${nestedArrays(MAX_JSON_DEPTH)}}` });
    expect(deeper.status).toBe(400);
    expect(deeper.body).toMatchObject({ detail: expect.stringContaining(`deeper than ${MAX_JSON_DEPTH} levels`), errors: [{ path: '' }] });
    nothingWritten();
  });

  it('answers a PATCH thousands of levels deep, with an Idempotency-Key, with 400 (no stack overflow, nothing written)', async () => {
    stored(record());
    const deep = `{"healthCheck":{"path":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}}`;
    const response = await patch({ rawBody: deep, headers: { 'idempotency-key': 'deep-1' } });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ path: '', message: `nested deeper than ${MAX_JSON_DEPTH} levels` }]);
    nothingWritten();
  });

  it('refuses strings that are not Unicode (lone surrogate escapes) with 400', async () => {
    const response = await put({ rawBody: '{"image":"web","environment":{"A":"\\ud800"}}' });
    expect(response.status).toBe(400);
    expect(response.body.errors[0].message).toBe('lone surrogate escape');
    expect((await put({ rawBody: '{"image":"web","labels":{"emoji":"\\ud83d\\ude00"}}' })).status).toBe(201);
  });
});

describe('constructor and prototype as variable names', () => {
  it('are stored as given: the written item holds them as ordinary keys', async () => {
    const response = await put({ rawBody: '{"image":"web","environment":{"constructor":"c","prototype":"p"},"labels":{"repository":"acme/web"}}' });
    expect(response.status).toBe(201);
    expect(response.body.environment).toEqual({ constructor: 'c', prototype: 'p' });
    const written = dynamodb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems![0]!.Put!.Item!;
    expect(Object.entries((written.spec as { environment: object }).environment)).toEqual([['constructor', 'c'], ['prototype', 'p']]);
  });

  it('survive the DynamoDB marshaller both ways, with the options the document client uses', () => {
    const environment = JSON.parse('{"constructor":"c","prototype":"p","hasOwnProperty":"h"}');
    // without convertClassInstanceToMap the marshaller throws on an own `constructor` key (a 500 on every write)
    expect(() => marshall({ environment })).toThrow(/Unsupported type/);
    expect(Object.entries(unmarshall(marshall({ environment }, MARSHALL_OPTIONS)).environment)).toEqual(Object.entries(environment));
  });
});

describe('content types of state-changing requests', () => {
  it('is 415 for a POST without a JSON content type, even with no body (a cross-site form cannot start a heal)', async () => {
    stored(record());
    expect((await heal(NO_CONTENT_TYPE)).status).toBe(415);
    expect((await heal({ 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
    expect((await heal({ 'content-type': 'text/plain' }, 'x=1')).status).toBe(415);
    nothingWritten();
    expect((await heal()).status).toBe(202); // application/json, no body
  });

  it('is 415 for PUT and PATCH without a JSON content type, whatever the body', async () => {
    stored(record());
    expect((await put({ body: spec(), headers: NO_CONTENT_TYPE })).status).toBe(415);
    expect((await patch({ body: { ttl: '7d' }, headers: { 'content-type': 'multipart/form-data; boundary=x' } })).status).toBe(415);
    expect((await patch({ headers: NO_CONTENT_TYPE })).status).toBe(415);
    nothingWritten();
    expect((await patch({ body: { ttl: '7d' }, headers: { 'content-type': 'application/merge-patch+json' } })).status).toBe(202);
  });

  it('lets a DELETE without a body through without a content type (no cross-site DELETE without a CORS preflight), but not a non-JSON body', async () => {
    stored(record());
    expect((await del({ 'content-type': 'text/plain' }, 'please')).status).toBe(415);
    nothingWritten();
    expect((await del(NO_CONTENT_TYPE)).status).toBe(202);
  });
});

describe('If-Match, compared strongly (RFC 9110 section 13.1.1)', () => {
  beforeEach(() => stored(record({ version: 4 })));

  it('matches the strong tag of the current version only', async () => {
    expect((await heal({ 'if-match': '"4"' })).status).toBe(202);
  });

  it('never matches a weak tag, even of the current version: 412', async () => {
    const weak = await heal({ 'if-match': 'W/"4"' });
    expect(weak.status).toBe(412);
    expect(weak.body.currentVersion).toBe(4);
    expect((await heal({ 'if-match': 'W/"3", W/"4"' })).status).toBe(412);
    nothingWritten();
  });

  it('takes * as any current environment, but "*" as an entity tag that matches nothing', async () => {
    expect((await heal({ 'if-match': '"*"' })).status).toBe(412);
    expect((await put({ body: { image: 'web' }, headers: { 'if-match': '*' } }, 'pr-9')).status).toBe(412); // nothing exists
    nothingWritten();
    expect((await heal({ 'if-match': '*' })).status).toBe(202);
  });

  it('uses the one strong tag of a list with weak ones', async () => {
    expect((await heal({ 'if-match': 'W/"4", "3"' })).status).toBe(412);
    expect((await heal({ 'if-match': 'W/"3" , "4"' })).status).toBe(202);
  });

  it.each([
    ['unquoted', '4'],
    ['unterminated', '"4'],
    ['weak, unquoted', 'W/4'],
    ['two tags without a comma', '"4" "5"'],
    ['two strong tags', '"3", "4"'],
    ['only commas', ','],
    ['over 1024 characters', `"${'9'.repeat(1100)}"`],
    ['with a quote inside', '"a\\"b"'],
  ])('is 400 naming the header for a malformed If-Match (%s)', async (_what, value) => {
    const response = await heal({ 'if-match': value });
    expect(response.status).toBe(400);
    expect(response.body.errors[0].path).toBe('header:If-Match');
  });
});

describe('x-request-id', () => {
  const get = (requestId: string) => call(getHandler, { method: 'GET', path: '/v1/environments/pr-1', pathParameters: { name: 'pr-1' }, headers: { 'x-request-id': requestId } });

  it("keeps the caller's id when it is a short token of safe characters", async () => {
    expect((await get('ci-run_9.1:a')).headers['x-request-id']).toBe('ci-run_9.1:a');
    expect((await get('x'.repeat(128))).headers['x-request-id']).toBe('x'.repeat(128));
  });

  it.each(['', 'has space', 'x'.repeat(129), '<script>', 'a\r\nset-cookie: x', 'ünïcode', 'a/b'])('replaces %j with a new safe id', async (given) => {
    const answered = (await get(given)).headers['x-request-id']!;
    expect(answered).not.toBe(given);
    expect(answered).toMatch(/^[A-Za-z0-9+/=._:-]{1,128}$/);
  });

  it('makes a new one when API Gateway gave none either', async () => {
    const event = apiEvent({ method: 'GET', path: '/v1/health', headers: { 'x-request-id': 'bad id' } });
    (event.requestContext as { requestId?: string }).requestId = undefined;
    const { handler } = await import('../../../functions/api/get-health.ts');
    const result = (await handler(event, lambdaContext)) as { headers: Record<string, string> };
    expect(result.headers['x-request-id']).toMatch(REQUEST_ID_PATTERN);
    expect(result.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('cursors', () => {
  const allQuery = JSON.stringify(['all', 'ENV', {}]);
  const listCursor = (k: Record<string, unknown>, queryId = allQuery) => encodeCursor(queryId, k);
  const good = { pk: 'ENV#pr-2', sk: 'ENV', gsiAllPk: 'ENV', name: 'pr-2' };

  it('continues a list from a cursor it handed out', async () => {
    expect((await list({ cursor: listCursor(good) })).status).toBe(200);
    expect(dynamodb.commandCalls(QueryCommand)[0]!.args[0].input.ExclusiveStartKey).toEqual(good);
  });

  it.each([
    ['an empty name', { ...good, name: '' }],
    ['an empty pk', { ...good, pk: '' }],
    ['a pk of another environment', { ...good, pk: 'ENV#pr-3' }],
    ['a pk outside the environments', { ...good, pk: 'COUNTER#live', sk: 'COUNTER' }],
    ['a number for a key', { ...good, sk: 7 }],
    ['a key as a map', { ...good, name: { S: 'pr-2' } }],
    ['an extra attribute', { ...good, status: 'RUNNING' }],
    ['a missing attribute', { pk: good.pk, sk: good.sk, name: good.name }],
    ['another index partition', { ...good, gsiAllPk: 'REPO#x' }],
    ['a name that is no environment name', { ...good, pk: 'ENV#A_B', name: 'A_B' }],
    ['a sort key over 1,024 bytes', { ...good, pk: `ENV#${'a'.repeat(1100)}`, name: 'a'.repeat(1100) }],
  ])('is 400 naming cursor for a forged list cursor with %s, never a Query', async (_what, key) => {
    const response = await list({ cursor: listCursor(key as Record<string, unknown>) });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ path: 'cursor', message: 'not a cursor returned by this list' }]);
    expect(dynamodb.commandCalls(QueryCommand)).toHaveLength(0);
  });

  it.each([
    ['of another query', listCursor({ ...good, gsiRepoPk: 'REPO#a/b' }, JSON.stringify(['byRepository', 'REPO#a/b', {}]))],
    ['that is an array', Buffer.from('[1,2]').toString('base64url')],
    ['with extra fields', Buffer.from(JSON.stringify({ q: 'x', k: good, x: 1 })).toString('base64url')],
    ['of base64 with padding and +/', 'ab+/=='],
    ['of invalid JSON', Buffer.from('{"q":').toString('base64url')],
    ['longer than any cursor handed out', 'A'.repeat(MAX_CURSOR_LENGTH + 1)],
    ['that is empty', ''],
  ])('is 400 naming cursor for a list cursor %s', async (_what, cursor) => {
    const response = await list({ cursor });
    expect(response.status).toBe(400);
    expect(response.body.errors[0].path).toBe('cursor');
    expect(dynamodb.commandCalls(QueryCommand)).toHaveLength(0);
  });

  it('validates event cursors in full too: the environment partition and an event sort key, nothing else', async () => {
    stored(record());
    const eventCursor = (k: Record<string, unknown>, name = 'pr-1') => encodeCursor(`events:${name}`, k);
    const valid = { pk: 'ENV#pr-1', sk: 'EVT#2026-11-01T10:05:00.000Z#0001' };
    expect((await events({ cursor: eventCursor(valid) })).status).toBe(200);
    for (const forged of [
      { ...valid, sk: `EVT#${'x'.repeat(1100)}#0001` },
      { ...valid, sk: 'ENV' },
      { ...valid, pk: '' },
      { ...valid, sk: '' },
      { ...valid, extra: 'x' },
      { pk: 'ENV#pr-1', sk: 12 },
    ]) {
      const response = await events({ cursor: eventCursor(forged) });
      expect(response.status, JSON.stringify(forged)).toBe(400);
      expect(response.body.errors[0].path).toBe('cursor');
    }
    expect((await events({ cursor: eventCursor({ pk: 'ENV#pr-2', sk: valid.sk }, 'pr-2') })).status).toBe(400);
    expect(dynamodb.commandCalls(QueryCommand)).toHaveLength(1);
  });
});

describe('query parameters', () => {
  it.each([
    [{ repository: 'r'.repeat(257) }, 'repository'],
    [{ repository: '' }, 'repository'],
    [{ branch: 'b'.repeat(257) }, 'branch'],
    [{ branch: '' }, 'branch'],
    [{ limit: '0010' }, 'limit'],
    [{ limit: '9'.repeat(400) }, 'limit'],
    [{ status: 'x'.repeat(5000) }, 'status'],
  ])('are bounded: %o is 400', async (query, path) => {
    const response = await list(query);
    expect(response.status).toBe(400);
    expect(response.body.errors[0].path).toBe(path);
    expect(dynamodb.commandCalls(QueryCommand)).toHaveLength(0);
  });

  it('are known to the route: a misspelt or prototype-named parameter is 400 on lists and on events, never ignored', async () => {
    // parsed from JSON, as API Gateway's event is: `__proto__` is then an own key
    for (const json of ['{"__proto__":"1"}', '{"toString":"1"}', '{"Repository":"acme/web"}']) {
      const own = JSON.parse(json) as Record<string, string>;
      const response = await list(own);
      expect([Object.keys(own)[0], response.status]).toEqual([Object.keys(own)[0], 400]);
      expect(response.body.errors[0].path).toBe(Object.keys(own)[0]);
    }
    const misspelt = await events({ since: '2026-01-01T00:00:00Z' });
    expect(misspelt.status).toBe(400);
    expect(misspelt.body.errors).toEqual([{ path: 'since', message: 'not a parameter of the events list' }]);
    expect(dynamodb.commandCalls(QueryCommand)).toHaveLength(0);
  });

  it('accept a 256-character repository and branch (label values)', async () => {
    expect((await list({ repository: 'r'.repeat(256), branch: 'b'.repeat(256) })).status).toBe(200);
  });
});

describe('list pages that fit the response limit', () => {
  // 100 specs with ~15,000 quotes in their variables (30 KiB, near the 32 KiB limit): each quote
  // is escaped twice on its way into the Lambda payload, so a full page would be ~6 MB
  const big = (name: string) =>
    record({ name, spec: spec({ environment: Object.fromEntries(Array.from({ length: 3 }, (_, i) => [`V${i}`, '"'.repeat(5000)])) }) });

  it('returns fewer items and a cursor after the last one, so the Lambda payload stays under 6 MB', async () => {
    const records = Array.from({ length: 100 }, (_, i) => big(`env-${String(i).padStart(3, '0')}`));
    dynamodb.on(QueryCommand).resolves({ Items: records.map(item), LastEvaluatedKey: { pk: 'ENV#env-099', sk: 'ENV', gsiAllPk: 'ENV', name: 'env-099' } });
    const result = (await listHandler(apiEvent({ method: 'GET', path: '/v1/environments', query: { limit: '100' } }), lambdaContext)) as { statusCode: number; body: string };
    expect(result.statusCode).toBe(200);
    const payloadBytes = Buffer.byteLength(JSON.stringify(result), 'utf8');
    expect(payloadBytes).toBeLessThan(6 * 1024 * 1024);
    expect(payloadBytes).toBeGreaterThan(RESPONSE_ITEMS_BUDGET_BYTES * 0.9);
    const page = JSON.parse(result.body) as { items: { name: string }[]; nextCursor: string };
    expect(page.items.length).toBeGreaterThan(10);
    expect(page.items.length).toBeLessThan(100);
    const last = page.items.at(-1)!.name;

    dynamodb.on(QueryCommand).resolves({ Items: [] });
    expect((await list({ limit: '100', cursor: page.nextCursor })).status).toBe(200);
    const continued = dynamodb.commandCalls(QueryCommand).at(-1)!.args[0].input;
    expect(continued.ExclusiveStartKey).toEqual({ pk: `ENV#${last}`, sk: 'ENV', gsiAllPk: 'ENV', name: last });
  });

  it('keeps the whole page and its own cursor when it fits', async () => {
    dynamodb.on(QueryCommand).resolves({ Items: [item(record({ name: 'a' }))], LastEvaluatedKey: { pk: 'ENV#a', sk: 'ENV', gsiAllPk: 'ENV', name: 'a' } });
    const page = await list({ limit: '1' });
    expect(page.body.items).toHaveLength(1);
    expect(page.body.nextCursor).toEqual(expect.any(String));
  });
});
