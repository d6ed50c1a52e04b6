/**
 * A hook's task in the cost estimate (issue 17), against DynamoDB Local: the hook step adds its
 * task's billed seconds once, whatever retries and duplicates, without touching the running
 * count's task-time (whose writes pin it by `since`/`count`).
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetClients } from '../../functions/adapters/aws-clients.ts';
import { dynamodbClient } from '../../functions/adapters/clients/dynamodb.ts';
import { recordHookTaskTime } from '../../functions/adapters/hook-task-time.ts';
import { completeOperation } from '../../functions/adapters/operation-store.ts';
import { estimateCost, taskHourPrice } from '../../functions/domain/cost.ts';
import type { EnvironmentRecord } from '../../functions/domain/environment.ts';
import { resetConfig } from '../../functions/runtime/config.ts';
import { spec } from '../support/records.ts';
import { startDynamoDbLocal, type DynamoDbLocal } from './support/dynamodb-local.ts';

let db: DynamoDbLocal;
const saved = { ...process.env };

beforeAll(async () => {
  db = await startDynamoDbLocal('fledge-hook-task-time');
  Object.assign(process.env, { TABLE_NAME: db.tableName, FLEDGE_DYNAMODB_ENDPOINT: db.endpoint });
  resetConfig();
  resetClients();
});

afterAll(async () => {
  await db?.stop();
  process.env = saved;
  resetConfig();
  resetClients();
});

const T0 = Date.parse('2026-12-01T00:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
const NAME = 'pr-7';
const PRICE = { vcpuHour: 0.04048, gbHour: 0.004445 };
const hookTask = (id: string, seconds: number) => ({ taskArn: `arn:aws:ecs:eu-west-1:123456789012:task/fledge/${id}`, pullStartedAt: at(0), stoppedAt: at(seconds) });

async function stored(): Promise<EnvironmentRecord> {
  const { Item } = await dynamodbClient().send(new GetCommand({ TableName: db.tableName, Key: { pk: `ENV#${NAME}`, sk: 'ENV' }, ConsistentRead: true }));
  return Item as EnvironmentRecord;
}

describe('recordHookTaskTime', () => {
  it('adds each hook task\'s billed seconds once, however often the step runs, beside the running task-time', async () => {
    await dynamodbClient().send(new PutCommand({
      TableName: db.tableName,
      Item: {
        pk: `ENV#${NAME}`, sk: 'ENV', name: NAME, spec: spec(), specVersion: 1, status: 'CREATING', version: 2, runningCount: 0,
        createdAt: at(0), updatedAt: at(0), expiresAt: at(86_400), operation: { id: 'op-1', type: 'create', status: 'RUNNING', startedAt: at(0) },
        taskTime: { seconds: 0, count: 0, since: at(0) },
      },
    }));
    const seed = hookTask('seed', 125.5);
    const results = await Promise.all([recordHookTaskTime(NAME, seed), recordHookTaskTime(NAME, seed), recordHookTaskTime(NAME, seed)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await recordHookTaskTime(NAME, seed)).toBe(false);
    expect(await recordHookTaskTime(NAME, hookTask('short', 3))).toBe(true);
    let item = await stored();
    expect(item.hookSeconds).toBe(126 + 60);
    // the create then completes: its count change still folds, the hook seconds stay
    await completeOperation({ name: NAME, operationId: 'op-1', specVersion: 1, status: 'RUNNING', url: 'http://pr-7', runningCount: 1, now: at(100), events: [] });
    item = await stored();
    expect(item.taskTime).toEqual({ seconds: 0, count: 1, since: at(100) });
    expect(item.hookSeconds).toBe(186);
    const cost = estimateCost(item, PRICE, new Date(T0 + 100_000 + 3_600_000));
    expect(cost.toDate).toBeCloseTo(taskHourPrice(item.spec, PRICE) * (3600 + 186) / 3600, 4);
  });

  it('adds nothing to an environment that is gone', async () => {
    expect(await recordHookTaskTime('gone', hookTask('x', 100))).toBe(false);
  });
});
