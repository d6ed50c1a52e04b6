/**
 * Slots on the pool's load balancers (functions/adapters/shard-slots.ts) against DynamoDB Local:
 * its conditional transactions decide the races, as DynamoDB does.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { resetClients } from '../../functions/adapters/aws-clients.ts';
import { dynamodbClient } from '../../functions/adapters/clients/dynamodb.ts';
import { claimShardSlot, shardUsage } from '../../functions/adapters/shard-slots.ts';
import { ENVIRONMENTS_PER_SHARD, type Shard } from '../../functions/domain/shards.ts';
import { resetConfig } from '../../functions/runtime/config.ts';
import { startDynamoDbLocal, type DynamoDbLocal } from './support/dynamodb-local.ts';

let db: DynamoDbLocal;
let run = 0;
const shardOf = (id: string, closed?: boolean): Shard => ({
  id,
  listenerArn: `arn:aws:elasticloadbalancing:eu-west-1:000000000000:listener/app/fledge-${id}/0123/4567`,
  loadBalancerArn: `arn:aws:elasticloadbalancing:eu-west-1:000000000000:loadbalancer/app/fledge-${id}/0123`,
  loadBalancerDimension: `app/fledge-${id}/0123`,
  wakerTargetGroupArn: `arn:aws:elasticloadbalancing:eu-west-1:000000000000:targetgroup/waker-${id}/89ab`,
  dnsName: `fledge-${id}.eu-west-1.elb.amazonaws.com`,
  canonicalHostedZoneId: 'Z32O12XQLNTSW2',
  ...(closed ? { closed } : {}),
});

beforeAll(async () => {
  db = await startDynamoDbLocal('fledge-shards');
  Object.assign(process.env, { TABLE_NAME: db.tableName, FLEDGE_DYNAMODB_ENDPOINT: db.endpoint, AWS_REGION: 'eu-west-1' });
  resetConfig();
  resetClients();
}, 90_000);
afterAll(async () => {
  resetClients();
  await db?.stop();
});

/** Shard ids unique to this test (the table is shared by the tests of this file). */
let ids: (n: number) => string;
beforeEach(() => {
  run++;
  ids = (n) => `s${run * 10 + n}`;
});

async function seedEnvironment(name: string, operationId = `op-${name}`): Promise<void> {
  await dynamodbClient().send(new PutCommand({
    TableName: db.tableName,
    Item: { pk: `ENV#${name}`, sk: 'ENV', name, status: 'CREATING', version: 1, operation: { id: operationId, type: 'create', status: 'RUNNING' } },
  }));
}

const environmentShard = async (name: string) =>
  (await dynamodbClient().send(new GetCommand({ TableName: db.tableName, Key: { pk: `ENV#${name}`, sk: 'ENV' } }))).Item?.shard as string | undefined;

describe('claiming a slot', () => {
  it('places an environment on the open shard with the most room, records it, and counts it', async () => {
    const pool = [shardOf(ids(1)), shardOf(ids(2))];
    await seedEnvironment(`a${run}`);
    const shard = await claimShardSlot(`a${run}`, `op-a${run}`, pool);
    expect(shard.id).toBe(ids(1));
    expect(await environmentShard(`a${run}`)).toBe(ids(1));
    expect(await shardUsage(pool)).toEqual(new Map([[ids(1), 1], [ids(2), 0]]));
  });
});
