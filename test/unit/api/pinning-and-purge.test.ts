/**
 * Pinning (the `fledge.dev/pin` label keeps an environment out of the expiry index, unless
 * the operator forbids it) and DynamoDB-TTL-expired records (gone for readers before
 * DynamoDB deletes them), at the API.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { handler as putHandler } from '../../../functions/api/put-environment.ts';
import { handler as patchHandler } from '../../../functions/api/patch-environment.ts';
import { handler as getHandler } from '../../../functions/api/get-environment.ts';
import { handler as listHandler } from '../../../functions/api/list-environments.ts';
import { handler as eventsHandler } from '../../../functions/api/list-events.ts';
import { resetConfig } from '../../../functions/runtime/config.ts';
import { mockApiAws } from '../../support/api-aws.ts';
import { call } from '../../support/api-events.ts';
import { item, record, spec } from '../../support/records.ts';

const { dynamodb, sfn } = mockApiAws();
const PIN = 'fledge.dev/pin';

const put = (body: unknown, name = 'pr-1') => call(putHandler, { method: 'PUT', path: `/v1/environments/${name}`, pathParameters: { name }, body });
const putItem = () => dynamodb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems![0]!.Put!.Item!;

beforeEach(() => {
  delete process.env.FLEDGE_ALLOW_PINNING;
});

describe('pinning', () => {
  it('keeps a pinned environment out of the expiry index; an unpinned one is in it, sorted by expiresAt', async () => {
    expect((await put({ image: 'ghcr.io/acme/web:1', labels: { repository: 'acme/web', [PIN]: 'true' } })).status).toBe(201);
    expect(putItem().gsiExpiryPk).toBeUndefined();
    expect(putItem().spec.labels[PIN]).toBe('true');

    dynamodb.resetHistory();
    expect((await put({ image: 'ghcr.io/acme/web:1', labels: { repository: 'acme/web', [PIN]: 'false' } }, 'pr-2')).status).toBe(201);
    expect(putItem()).toMatchObject({ gsiExpiryPk: 'EXPIRY', expiresAt: expect.any(String) });
  });

  it('puts an environment back in the expiry index when a PATCH removes the pin', async () => {
    const pinned = record({ spec: spec({ labels: { repository: 'acme/web', [PIN]: 'true' } }) });
    dynamodb.on(GetCommand, { Key: { pk: 'ENV#pr-1', sk: 'ENV' } }).resolves({ Item: item(pinned) });
    const response = await call(patchHandler, {
      method: 'PATCH', path: '/v1/environments/pr-1', pathParameters: { name: 'pr-1' }, body: { labels: { [PIN]: null } },
    });
    expect(response.status).toBe(202);
    expect(putItem()).toMatchObject({ gsiExpiryPk: 'EXPIRY', status: 'UPDATING' });
  });

  it('is a 400 naming the label when the operator forbids pinning (FLEDGE_ALLOW_PINNING=false), and writes nothing', async () => {
    process.env.FLEDGE_ALLOW_PINNING = 'false';
    resetConfig();
    const response = await put({ image: 'ghcr.io/acme/web:1', labels: { [PIN]: 'true' } });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ path: `labels.${PIN}`, message: expect.stringMatching(/does not allow pinning/) }]);
    expect(dynamodb.commandCalls(TransactWriteCommand)).toHaveLength(0);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    // the label with any other value is no pin
    expect((await put({ image: 'ghcr.io/acme/web:1', labels: { [PIN]: 'false' } })).status).toBe(201);
  });
});

describe('records past their DynamoDB TTL', () => {
  const expired = () => ({ ...item(record({ status: 'DELETED', version: 7 })), purgeAt: Math.floor(Date.now() / 1000) - 60 });

  it('are not found by GET, even though DynamoDB still returns them', async () => {
    dynamodb.on(GetCommand, { Key: { pk: 'ENV#pr-1', sk: 'ENV' } }).resolves({ Item: expired() });
    expect((await call(getHandler, { method: 'GET', path: '/v1/environments/pr-1', pathParameters: { name: 'pr-1' } })).status).toBe(404);
    expect((await call(eventsHandler, { method: 'GET', path: '/v1/environments/pr-1/events', pathParameters: { name: 'pr-1' } })).status).toBe(404);
  });

  it('are still readable while their purgeAt lies ahead', async () => {
    dynamodb.on(GetCommand, { Key: { pk: 'ENV#pr-1', sk: 'ENV' } }).resolves({ Item: { ...expired(), purgeAt: Math.floor(Date.now() / 1000) + 3600 } });
    const response = await call(getHandler, { method: 'GET', path: '/v1/environments/pr-1', pathParameters: { name: 'pr-1' } });
    expect(response.status).toBe(200);
    expect(response.body.status).toBe('DELETED');
  });

  it('are created anew by a PUT, over the item DynamoDB has not deleted yet (the condition accepts a passed purgeAt)', async () => {
    dynamodb.on(GetCommand, { Key: { pk: 'ENV#pr-1', sk: 'ENV' } }).resolves({ Item: expired() });
    const response = await put({ image: 'ghcr.io/acme/web:2' });
    expect(response.status).toBe(201);
    const envPut = dynamodb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems![0]!.Put!;
    expect(envPut.ConditionExpression).toBe('attribute_not_exists(pk) OR #purgeAt <= :now');
    expect(envPut.ExpressionAttributeValues![':now']).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) - 5);
    expect(envPut.Item).toMatchObject({ version: 1, status: 'CREATING' });
    expect(envPut.Item!.purgeAt).toBeUndefined();
  });

  it('are filtered out of lists and event pages', async () => {
    dynamodb.on(QueryCommand).resolves({ Items: [] });
    expect((await call(listHandler, { method: 'GET', path: '/v1/environments', query: { status: 'DELETED' } })).status).toBe(200);
    const list = dynamodb.commandCalls(QueryCommand)[0]!.args[0].input;
    expect(list.FilterExpression).toContain('(attribute_not_exists(#purgeAt) OR #purgeAt > :now)');
    expect(list.ExpressionAttributeNames!['#purgeAt']).toBe('purgeAt');

    dynamodb.on(GetCommand, { Key: { pk: 'ENV#pr-1', sk: 'ENV' } }).resolves({ Item: item(record()) });
    expect((await call(eventsHandler, { method: 'GET', path: '/v1/environments/pr-1/events', pathParameters: { name: 'pr-1' } })).status).toBe(200);
    const events = dynamodb.commandCalls(QueryCommand)[1]!.args[0].input;
    expect(events.FilterExpression).toBe('attribute_not_exists(purgeAt) OR purgeAt > :now');
  });
});
