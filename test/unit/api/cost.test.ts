/**
 * Cost in the API's answers (README "Cost"): every environment view has `cost`, a repository's
 * list totals all its live environments (not only the page), the operator's prices win over the
 * table's, and a region without a price shows none.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { handler as getHandler } from '../../../functions/api/get-environment.ts';
import { handler as listHandler } from '../../../functions/api/list-environments.ts';
import { handler as scaleHandler } from '../../../functions/api/scale-environment.ts';
import { resetConfig } from '../../../functions/runtime/config.ts';
import { mockApiAws } from '../../support/api-aws.ts';
import { call } from '../../support/api-events.ts';
import { item, record, spec } from '../../support/records.ts';

const { dynamodb, stored } = mockApiAws();

const HOUR_MS = 3_600_000;
const ago = (hours: number) => new Date(Date.now() - hours * HOUR_MS).toISOString();
/** 1 vCPU / 2 GB: 0.04048 + 2 x 0.004445 = 0.04937 an hour in eu-west-1 (the tests' region) */
const size = { cpu: 1024, memory: 2048 };
const TASK_HOUR = 0.04937;

/** running `count` tasks for the last `hours` hours, after `seconds` task-seconds before that */
const running = (name: string, count: number, hours: number, seconds = 0, repository = 'acme/web') => record({
  name, spec: spec({ ...size, labels: { repository } }), runningCount: count, createdAt: ago(hours + 24),
  taskTime: { seconds, count, since: ago(hours) },
});

const get = (name = 'pr-1') => call(getHandler, { method: 'GET', path: `/v1/environments/${name}`, pathParameters: { name } });
const list = (query: Record<string, string>) => call(listHandler, { method: 'GET', path: '/v1/environments', query });

afterEach(() => {
  delete process.env.FLEDGE_FARGATE_PRICES;
  process.env.AWS_REGION = 'eu-west-1';
});

describe('the environment view', () => {
  it('has its cost: the hourly rate of its running tasks and what they cost so far, in USD', async () => {
    stored(running('pr-1', 2, 3, 3600));
    const { status, body } = await get();
    expect(status).toBe(200);
    expect(body.cost).toEqual({ perHour: 0.0987, toDate: expect.closeTo(7 * TASK_HOUR, 3), currency: 'USD' });
  });

  it('a sleeping environment costs nothing an hour, and keeps what it cost', async () => {
    stored(record({ status: 'SLEEPING', runningCount: 0, spec: spec(size), taskTime: { seconds: 5 * 3600, count: 0, since: ago(10) } }));
    expect((await get()).body.cost).toEqual({ perHour: 0, toDate: 0.2469, currency: 'USD' });
  });

  it('at the operator\'s prices when set (FLEDGE_FARGATE_PRICES), also in a region the table lacks; none without a price', async () => {
    stored(running('pr-1', 1, 1));
    process.env.AWS_REGION = 'xx-nowhere-1';
    resetConfig();
    expect((await get()).body).not.toHaveProperty('cost');
    process.env.FLEDGE_FARGATE_PRICES = JSON.stringify({ vcpuHour: 1, gbHour: 0.5 });
    resetConfig();
    expect((await get()).body.cost).toEqual({ perHour: 2, toDate: expect.closeTo(2, 3), currency: 'USD' });
  });

  it('an invalid FLEDGE_FARGATE_PRICES costs the answer its cost, never the request (the command has run)', async () => {
    stored(running('pr-1', 1, 1));
    process.env.FLEDGE_FARGATE_PRICES = '{"vcpuHour": 3600, "gbHour": 0}';
    resetConfig();
    const { status, body } = await call(scaleHandler, {
      method: 'POST', path: '/v1/environments/pr-1/scale', pathParameters: { name: 'pr-1' }, body: { desiredCount: 2 },
    });
    expect(status).toBe(202);
    expect(body).not.toHaveProperty('cost');
  });

  it('is in the answers of mutations too (a scale)', async () => {
    stored(running('pr-1', 1, 1));
    const { status, body } = await call(scaleHandler, {
      method: 'POST', path: '/v1/environments/pr-1/scale', pathParameters: { name: 'pr-1' }, body: { desiredCount: 3 },
    });
    expect(status).toBe(202);
    // the rate changes when the scale has run, not when it is asked for
    expect(body.cost).toEqual({ perHour: 0.0494, toDate: expect.any(Number), currency: 'USD' });
  });
});

describe('GET /v1/environments?repository=', () => {
  beforeEach(() => {
    dynamodb.on(GetCommand).resolves({});
  });

  it('totals every live environment of the repository, read through its index, not only the page', async () => {
    const all = [running('pr-1', 1, 2), running('pr-2', 2, 1), record({ name: 'pr-3', status: 'SLEEPING', runningCount: 0, spec: spec(size), taskTime: { seconds: 3600, count: 0, since: ago(5) } })];
    // the page (limit 1), then the whole repository: pages of up to 100, the second one continuing after two items
    dynamodb.on(QueryCommand, { Limit: 1 }).resolves({ Items: [item(all[0]!)], LastEvaluatedKey: { pk: 'ENV#pr-1', sk: 'ENV', gsiRepoPk: 'REPO#acme/web', name: 'pr-1' } });
    dynamodb.on(QueryCommand, { Limit: 100 }).resolves({ Items: [item(all[0]!), item(all[1]!)], LastEvaluatedKey: { pk: 'ENV#pr-2', sk: 'ENV', gsiRepoPk: 'REPO#acme/web', name: 'pr-2' } });
    dynamodb.on(QueryCommand, { Limit: 98 }).resolves({ Items: [item(all[2]!)] });
    const { status, body } = await list({ repository: 'acme/web', limit: '1' });
    expect(status).toBe(200);
    expect(body.items).toHaveLength(1);
    expect(body.cost).toEqual({ perHour: 0.1481, toDate: expect.closeTo(5 * TASK_HOUR, 3), currency: 'USD' });
    const totals = dynamodb.commandCalls(QueryCommand).map((c) => c.args[0].input).filter((input) => input.Limit !== 1);
    expect(totals).toHaveLength(2);
    for (const input of totals) {
      expect(input).toMatchObject({ IndexName: 'byRepository', ExpressionAttributeValues: { ':pk': 'REPO#acme/web', ':deleted': 'DELETED' } });
    }
  });

  it('has no total without a repository, and a zero total for a repository the caller does not act for (read nothing)', async () => {
    expect((await list({})).body).not.toHaveProperty('cost');
    process.env.FLEDGE_IAM_REPOSITORIES = JSON.stringify({ 'arn:aws:iam::123456789012:role/ci': 'acme/api' });
    resetConfig();
    try {
      const calls = dynamodb.commandCalls(QueryCommand).length;
      const { body } = await list({ repository: 'acme/web' });
      expect(body).toEqual({ items: [], nextCursor: null, cost: { perHour: 0, toDate: 0, currency: 'USD' } });
      expect(dynamodb.commandCalls(QueryCommand)).toHaveLength(calls);
    } finally {
      delete process.env.FLEDGE_IAM_REPOSITORIES;
    }
  });
});
