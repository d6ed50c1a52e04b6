import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { handler } from '../../../functions/api/heal-environment.ts';
import { resetClients } from '../../../functions/adapters/aws-clients.ts';
import { resetConfig } from '../../../functions/runtime/config.ts';
import type { EnvironmentRecord } from '../../../functions/domain/environment.ts';
import { routes } from '../../../functions/contract/routes.ts';
import { call } from '../../support/api-events.ts';
import { item, record } from '../../support/records.ts';
import { completedIdempotencyItem } from '../../support/idempotency-mock.ts';

const dynamodb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);
const HEAL_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:fledge-heal';
const CI = 'arn:aws:iam::123456789012:role/ci';

function stored(r: EnvironmentRecord | undefined, name = r?.name ?? 'pr-1') {
  dynamodb.on(GetCommand, { Key: { pk: `ENV#${name}`, sk: 'ENV' } }).resolves({ Item: r && item(r) });
}

const heal = (headers: Record<string, string> = {}, name = 'pr-1') =>
  call(handler, { method: 'POST', path: `/v1/environments/${name}/heal`, routeKey: 'POST /v1/environments/{name}/heal', pathParameters: { name }, headers });

const written = () => dynamodb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems!);

beforeEach(() => {
  dynamodb.reset();
  sfn.reset();
  resetClients();
  resetConfig();
  Object.assign(process.env, { TABLE_NAME: 'fledge', FLEDGE_HEAL_STATE_MACHINE_ARN: HEAL_ARN, FLEDGE_HEAL_MAX_PER_HOUR: '3', FLEDGE_HEAL_BACKOFF: '30s' });
  dynamodb.on(GetCommand).resolves({});
  dynamodb.on(TransactWriteCommand).resolves({});
  dynamodb.on(PutCommand).resolves({});
  sfn.on(StartExecutionCommand).callsFake((input) => ({ executionArn: `${input.stateMachineArn}:${input.name}` }));
});

describe('POST /v1/environments/{name}/heal', () => {
  it('is a mutating route of the route table', () => {
    expect(routes).toContainEqual({ method: 'POST', path: '/v1/environments/{name}/heal', handler: 'heal-environment', mutates: true });
  });

  it('heals a RUNNING environment: 202, HEALING, the heal workflow started once by a deterministic name', async () => {
    stored(record());
    const response = await heal();

    expect(response.status).toBe(202);
    expect(response.headers).toMatchObject({ etag: '"5"' });
    expect(response.body).toMatchObject({ name: 'pr-1', status: 'HEALING', version: 5, operation: { type: 'heal', status: 'RUNNING' } });
    const [[put, evt]] = written() as unknown as [[{ Put: { Item: Record<string, unknown>; ExpressionAttributeValues: Record<string, unknown> } }, { Put: { Item: Record<string, unknown> } }]];
    expect(put.Put.ExpressionAttributeValues).toEqual({ ':expected': 4 });
    expect(put.Put.Item).toMatchObject({ status: 'HEALING', gsiStatusPk: 'STATUS#HEALING', healAttempts: [] });
    expect(evt.Put.Item).toMatchObject({ type: 'heal-requested', actor: CI, message: 'heal requested (from RUNNING)' });
    const starts = sfn.commandCalls(StartExecutionCommand);
    expect(starts).toHaveLength(1);
    expect(starts[0]!.args[0].input).toMatchObject({ stateMachineArn: HEAL_ARN, name: `pr-1--${response.body.operation.id}` });
    expect(JSON.parse(starts[0]!.args[0].input.input!)).toMatchObject({ name: 'pr-1', operationId: response.body.operation.id, actor: CI, trigger: { source: 'api' } });
  });

  it('heals a DEGRADED environment and resets the bound: alarms may start heals again', async () => {
    const attempts = [1, 2, 3].map((m) => new Date(Date.now() - m * 60_000).toISOString());
    stored(record({ status: 'DEGRADED', healAttempts: attempts, operation: { id: 'op-3-x', type: 'heal', status: 'FAILED', startedAt: attempts[2]! } }));
    const response = await heal();
    expect(response.status).toBe(202);
    const [[put, evt]] = written() as unknown as [[{ Put: { Item: Record<string, unknown> } }, { Put: { Item: Record<string, unknown> } }]];
    expect(put.Put.Item).toMatchObject({ status: 'HEALING', healAttempts: [] });
    expect(evt.Put.Item).toMatchObject({ message: 'heal requested (from DEGRADED)', details: { boundReset: true, from: 'DEGRADED' } });
  });

  it('answers 404 for an unknown environment and starts nothing', async () => {
    const response = await heal({}, 'nobody');
    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toBe('application/problem+json');
    expect(sfn.commandCalls(StartExecutionCommand)).toEqual([]);
  });

  it.each([
    ['UPDATING', /another operation \(update/],
    ['HEALING', /another operation/],
    ['CREATING', /another operation/],
    ['DELETING', /another operation/],
    ['SLEEPING', /SLEEPING: there is nothing running to heal/],
    ['FAILED', /PUT the spec to retry/],
    ['DELETED', /deleted/],
  ] as const)('answers 409 for a %s environment and changes nothing', async (status, detail) => {
    stored(record({ status, operation: { id: 'op-9-x', type: status === 'UPDATING' ? 'update' : 'create', status: 'RUNNING', startedAt: '2026-11-01T10:00:00.000Z' } }));
    const response = await heal();
    expect(response.status).toBe(409);
    expect(response.body.detail).toMatch(detail);
    expect(written()).toEqual([]);
    expect(sfn.commandCalls(StartExecutionCommand)).toEqual([]);
  });

  it('answers 412 when If-Match names another version, and heals when it names the current one', async () => {
    stored(record());
    expect((await heal({ 'if-match': '"3"' })).status).toBe(412);
    expect(written()).toEqual([]);
    expect((await heal({ 'if-match': '"4"' })).status).toBe(202);
  });

  it('replays the first answer for a repeated Idempotency-Key', async () => {
    stored(record());
    const first = await heal({ 'idempotency-key': 'heal-1' });
    expect(first.status).toBe(202);
    completedIdempotencyItem(dynamodb, `IDEM#${CI}#heal-1`);
    const again = await heal({ 'idempotency-key': 'heal-1' });
    expect(again.status).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.operation.id).toBe(first.body.operation.id);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });
});
