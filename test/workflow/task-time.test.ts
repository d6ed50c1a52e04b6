/**
 * The task-time behind cost estimates (README "Cost"), against DynamoDB Local: the workflow
 * writes that record a running count fold the seconds since the last change in the same
 * conditional write, so duplicate invocations of a step, racing writers and replays after the
 * operation ended count every second exactly once.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resetClients } from '../../functions/adapters/aws-clients.ts';
import { dynamodbClient } from '../../functions/adapters/clients/dynamodb.ts';
import { completeOperation, failOperation, recordConvergence } from '../../functions/adapters/operation-store.ts';
import type { TaskTime } from '../../functions/domain/cost.ts';
import { resetConfig } from '../../functions/runtime/config.ts';
import { spec } from '../support/records.ts';
import { startDynamoDbLocal, type DynamoDbLocal } from './support/dynamodb-local.ts';

let db: DynamoDbLocal;
const saved = { ...process.env };

beforeAll(async () => {
  db = await startDynamoDbLocal('fledge-task-time');
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

/** pr-7 in the middle of operation op-1, running `count` tasks since T0 (with `taskTime`, or as a record from before it) */
async function running(count: number, taskTime: TaskTime | undefined = { seconds: 0, count, since: at(0) }) {
  await dynamodbClient().send(new PutCommand({
    TableName: db.tableName,
    Item: {
      pk: `ENV#${NAME}`, sk: 'ENV', name: NAME, spec: spec(), specVersion: 1, status: 'SCALING', version: 3, runningCount: count,
      createdAt: at(0), updatedAt: at(0), expiresAt: at(86_400), operation: { id: 'op-1', type: 'scale', status: 'RUNNING', startedAt: at(0) },
      ...(taskTime ? { taskTime } : {}),
    },
  }));
}

async function stored(): Promise<{ runningCount: number; taskTime: TaskTime; status: string }> {
  const { Item } = await dynamodbClient().send(new GetCommand({ TableName: db.tableName, Key: { pk: `ENV#${NAME}`, sk: 'ENV' }, ConsistentRead: true }));
  return Item as never;
}

const converge = (runningCount: number, second: number) =>
  recordConvergence({ name: NAME, operationId: 'op-1', specVersion: 1, runningCount, now: at(second), events: [] });
const complete = (runningCount: number, second: number, status: 'RUNNING' | 'SLEEPING' = 'RUNNING') =>
  completeOperation({ name: NAME, operationId: 'op-1', specVersion: 1, status, url: 'http://pr-7', runningCount, now: at(second), events: [] });

describe('task-time on the environment item', () => {
  beforeEach(() => running(1));

  it('a change of count folds the seconds so far in; a write of the same count leaves it alone', async () => {
    expect(await converge(3, 600)).toBe(true);
    expect((await stored()).taskTime).toEqual({ seconds: 600, count: 3, since: at(600) });
    expect(await converge(3, 900)).toBe(true);
    expect((await stored()).taskTime).toEqual({ seconds: 600, count: 3, since: at(600) });
    expect(await complete(0, 1200, 'SLEEPING')).toBe(true);
    expect(await stored()).toMatchObject({ status: 'SLEEPING', runningCount: 0, taskTime: { seconds: 600 + 3 * 600, count: 0, since: at(1200) } });
  });

  it('duplicate invocations of one step, all at once, fold the change once', async () => {
    const results = await Promise.all([100, 101, 102, 103, 104].map((second) => converge(4, second)));
    expect(results.every(Boolean)).toBe(true);
    const { taskTime } = await stored();
    expect(taskTime.count).toBe(4);
    // one task from T0 to whichever invocation folded: never the sum of several folds
    expect([100, 101, 102, 103, 104].map((second) => ({ seconds: second, count: 4, since: at(second) }))).toContainEqual(taskTime);
  });

  it('two writers of different counts at once: the task-time is one of the two orders, exactly', async () => {
    await Promise.all([converge(2, 300), converge(5, 400)]);
    const { taskTime, runningCount } = await stored();
    expect(taskTime.count).toBe(runningCount);
    const twoThenFive = { seconds: 300 + 2 * 100, count: 5, since: at(400) };
    // 5 first (at 400), then 2 stamped earlier (300): nothing accrues backwards
    const fiveThenTwo = { seconds: 400, count: 2, since: at(400) };
    expect([twoThenFive, fiveThenTwo]).toContainEqual(taskTime);
  });

  it('a replayed step after the operation ended records nothing, so nothing is counted twice', async () => {
    expect(await complete(0, 500, 'SLEEPING')).toBe(true);
    const first = (await stored()).taskTime;
    expect(await complete(0, 800, 'SLEEPING')).toBe(false);
    expect(await failOperation({ name: NAME, operationId: 'op-1', status: 'SLEEPING', error: { code: 'TIMEOUT', message: 'late' }, now: at(900), events: [] })).toBe(false);
    expect((await stored()).taskTime).toEqual(first);
  });

  it('a record from before task-time gets one, counted from its creation, at its first change', async () => {
    await running(2, undefined);
    expect(await converge(1, 60)).toBe(true);
    expect((await stored()).taskTime).toEqual({ seconds: 120, count: 1, since: at(60) });
  });

  it('a settled sleep (a lost scale, or its fallback) is free: the count goes to 0 with the task-time', async () => {
    expect(await failOperation({ name: NAME, operationId: 'op-1', status: 'SLEEPING', error: { code: 'TIMEOUT', message: 'lost' }, now: at(30), events: [] })).toBe(true);
    expect(await stored()).toMatchObject({ status: 'SLEEPING', runningCount: 0, taskTime: { seconds: 30, count: 0, since: at(30) } });
  });
});
