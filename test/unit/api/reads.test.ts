import { describe, expect, it } from 'vitest';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { handler as getHandler } from '../../../functions/api/get-environment.ts';
import { handler as listHandler } from '../../../functions/api/list-environments.ts';
import { handler as eventsHandler } from '../../../functions/api/list-events.ts';
import { handler as healthHandler } from '../../../functions/api/get-health.ts';
import { encodeCursor } from '../../../functions/domain/cursors.ts';
import { mockApiAws } from '../../support/api-aws.ts';
import { call } from '../../support/api-events.ts';
import { item, record } from '../../support/records.ts';

const { dynamodb } = mockApiAws();

const list = (query: Record<string, string> = {}) => call(listHandler, { method: 'GET', path: '/v1/environments', query });

describe('GET /v1/environments/{name}', () => {
  it('returns the environment with its ETag, never secret values, and x-request-id', async () => {
    dynamodb.on(GetCommand, { Key: { pk: 'ENV#pr-1', sk: 'ENV' } }).resolves({ Item: item(record({ version: 7 })) });
    const response = await call(getHandler, { method: 'GET', path: '/v1/environments/pr-1', pathParameters: { name: 'pr-1' }, headers: { 'x-request-id': 'ci-run-9' } });
    expect(response.status).toBe(200);
    expect(response.headers.etag).toBe('"7"');
    expect(response.headers['x-request-id']).toBe('ci-run-9');
    expect(response.body).toMatchObject({ name: 'pr-1', status: 'RUNNING', version: 7, url: 'https://pr-1.preview.example.com' });
    expect(response.body).not.toHaveProperty('pk');
    expect(response.body).not.toHaveProperty('gsiStatusPk');
    expect(dynamodb.commandCalls(GetCommand)[0]!.args[0].input).toMatchObject({ ConsistentRead: true });
  });

  it('is 404 problem+json for an unknown name', async () => {
    const response = await call(getHandler, { method: 'GET', path: '/v1/environments/nope', pathParameters: { name: 'nope' } });
    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toBe('application/problem+json');
    expect(response.body).toMatchObject({ status: 404, title: 'Environment not found', detail: 'no environment named "nope"' });
  });
});

describe('GET /v1/environments', () => {
  it('queries the repository index (never a Scan), hiding deleted records', async () => {
    dynamodb.on(QueryCommand).resolves({ Items: [item(record())] });
    const response = await list({ repository: 'acme/web', limit: '5' });
    expect(response.status).toBe(200);
    // with the repository's cost total (test/unit/api/cost.test.ts checks the figures)
    expect(response.body).toEqual({ items: [expect.objectContaining({ name: 'pr-1' })], nextCursor: null, cost: expect.objectContaining({ currency: 'USD' }) });
    const input = dynamodb.commandCalls(QueryCommand)[0]!.args[0].input;
    expect(input).toMatchObject({ IndexName: 'byRepository', ExpressionAttributeValues: { ':pk': 'REPO#acme/web', ':deleted': 'DELETED' }, Limit: 5 });
  });

  it('uses the status index for a status filter and the all index otherwise', async () => {
    await list({ status: 'FAILED' });
    await list({ branch: 'main' });
    const [byStatus, all] = dynamodb.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(byStatus).toMatchObject({ IndexName: 'byStatus', ExpressionAttributeValues: { ':pk': 'STATUS#FAILED' } });
    expect(all).toMatchObject({ IndexName: 'all', ExpressionAttributeValues: { ':pk': 'ENV', ':branch': 'main' } });
  });

  it('returns an opaque cursor that continues the same query', async () => {
    const lastKey = { pk: 'ENV#b', sk: 'ENV', gsiAllPk: 'ENV', name: 'b' };
    dynamodb.on(QueryCommand).resolvesOnce({ Items: [item(record({ name: 'a' })), item(record({ name: 'b' }))], LastEvaluatedKey: lastKey });
    const first = await list({ limit: '2' });
    expect(first.body.nextCursor).toEqual(expect.any(String));
    expect(first.body.nextCursor).not.toContain('ENV#');
    await list({ limit: '2', cursor: first.body.nextCursor });
    expect(dynamodb.commandCalls(QueryCommand)[1]!.args[0].input.ExclusiveStartKey).toEqual(lastKey);
  });

  it.each([
    [{ limit: '0' }, 'limit'],
    [{ limit: '101' }, 'limit'],
    [{ limit: 'ten' }, 'limit'],
    [{ status: 'ASLEEP' }, 'status'],
    [{ cursor: 'not-a-cursor' }, 'cursor'],
    [{ cursor: Buffer.from(JSON.stringify({ q: 'x', k: {} })).toString('base64url') }, 'cursor'],
    [{ colour: 'blue' }, 'colour'],
  ])('is 400 for %o', async (query, path) => {
    const response = await list(query as Record<string, string>);
    expect(response.status).toBe(400);
    expect(response.body.errors[0].path).toBe(path);
    expect(dynamodb.commandCalls(QueryCommand)).toHaveLength(0);
  });

  it('is 400 for a cursor of another query (tampered to read another partition)', async () => {
    const queryId = JSON.stringify(['byRepository', 'REPO#acme/web', {}]);
    const forged = encodeCursor(queryId, { pk: 'ENV#x', sk: 'ENV', gsiRepoPk: 'REPO#other/repo', name: 'x' });
    const response = await list({ repository: 'acme/web', cursor: forged });
    expect(response.status).toBe(400);
  });
});

describe('GET /v1/environments/{name}/events', () => {
  const events = (name: string, query: Record<string, string> = {}) =>
    call(eventsHandler, { method: 'GET', path: `/v1/environments/${name}/events`, pathParameters: { name }, query });

  it('reads the history newest first', async () => {
    dynamodb.on(GetCommand, { Key: { pk: 'ENV#pr-1', sk: 'ENV' } }).resolves({ Item: item(record()) });
    dynamodb.on(QueryCommand).resolves({
      Items: [{ pk: 'ENV#pr-1', sk: 'EVT#2', at: '2026-11-01T10:05:00.000Z', type: 'running', message: 'RUNNING', actor: 'system', operationId: 'op-1' }],
    });
    const response = await events('pr-1', { limit: '10' });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ items: [{ at: '2026-11-01T10:05:00.000Z', type: 'running', message: 'RUNNING', actor: 'system', operationId: 'op-1' }], nextCursor: null });
    expect(dynamodb.commandCalls(QueryCommand)[0]!.args[0].input).toMatchObject({ ScanIndexForward: false, Limit: 10, ExpressionAttributeValues: { ':pk': 'ENV#pr-1', ':evt': 'EVT#' } });
  });

  it('is 404 for unknown names and 400 for a bad limit or a cursor of another environment', async () => {
    expect((await events('nope')).status).toBe(404);
    expect((await events('pr-1', { limit: '500' })).status).toBe(400);
    const other = encodeCursor('events:pr-2', { pk: 'ENV#pr-2', sk: 'EVT#x' });
    expect((await events('pr-1', { cursor: other })).status).toBe(400);
  });
});

describe('GET /v1/health', () => {
  it('answers liveness and version', async () => {
    const response = await call(healthHandler, { method: 'GET', path: '/v1/health' });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'ok', version: expect.any(String) });
    expect(response.headers['x-request-id']).toBeTruthy();
  });
});

describe('unexpected failures', () => {
  it('answer 500 problem+json with the request id, never a stack trace', async () => {
    dynamodb.on(GetCommand).rejects(new Error('connection reset'));
    const response = await call(getHandler, { method: 'GET', path: '/v1/environments/pr-1', pathParameters: { name: 'pr-1' } });
    expect(response.status).toBe(500);
    expect(response.body.detail).toContain(response.headers['x-request-id']);
    expect(JSON.stringify(response.body)).not.toContain('connection reset');
  });
});
