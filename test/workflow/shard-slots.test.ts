/**
 * Slots on the pool's load balancers (functions/adapters/shard-slots.ts) against DynamoDB Local:
 * its conditional transactions decide the races, as DynamoDB does.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { resetClients } from '../../functions/adapters/aws-clients.ts';
import { dynamodbClient } from '../../functions/adapters/clients/dynamodb.ts';
import { claimShardSlot, shardSlotRelease, shardUsage, slotHeld } from '../../functions/adapters/shard-slots.ts';
import { transactWrite } from '../../functions/adapters/environment-store.ts';
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

async function seedUsage(id: string, used: number): Promise<void> {
  await dynamodbClient().send(new PutCommand({ TableName: db.tableName, Item: { pk: `SHARD#${id}`, sk: 'SHARD', kind: 'SHARD', shard: id, used } }));
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

  it('a retried step keeps the shard it holds and claims nothing again, even on a shard closed since', async () => {
    const pool = [shardOf(ids(1)), shardOf(ids(2))];
    const name = `retry${run}`;
    await seedEnvironment(name);
    const first = await claimShardSlot(name, `op-${name}`, pool);
    const again = await claimShardSlot(name, `op-${name}`, [{ ...pool[0]!, closed: true }, pool[1]!]);
    expect(again.id).toBe(first.id);
    expect((await shardUsage(pool)).get(first.id)).toBe(1);
  });

  it('skips a closed shard, however empty', async () => {
    const pool = [shardOf(ids(1), true), shardOf(ids(2))];
    await seedUsage(ids(2), 90);
    await seedEnvironment(`closed${run}`);
    expect((await claimShardSlot(`closed${run}`, `op-closed${run}`, pool)).id).toBe(ids(2));
  });

  it('fails with LoadBalancersFull (QUOTA_EXCEEDED) when every open shard holds 99, recording nothing', async () => {
    const pool = [shardOf(ids(1)), shardOf(ids(2), true)];
    await seedUsage(ids(1), ENVIRONMENTS_PER_SHARD);
    await seedEnvironment(`full${run}`);
    await expect(claimShardSlot(`full${run}`, `op-full${run}`, pool)).rejects.toMatchObject({
      name: 'LoadBalancersFull', message: expect.stringMatching(/^the installation's 2 load balancers are full/),
    });
    expect(await environmentShard(`full${run}`)).toBeUndefined();
    expect((await shardUsage(pool)).get(ids(1))).toBe(ENVIRONMENTS_PER_SHARD);
  });

  it('two creates racing for the last slot: exactly one wins it, the other finds the pool full', async () => {
    const pool = [shardOf(ids(1))];
    await seedUsage(ids(1), ENVIRONMENTS_PER_SHARD - 1);
    const names = [`race-a${run}`, `race-b${run}`];
    await Promise.all(names.map((name) => seedEnvironment(name)));
    const results = await Promise.allSettled(names.map((name) => claimShardSlot(name, `op-${name}`, pool)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.name)).toEqual(['LoadBalancersFull']);
    expect((await shardUsage(pool)).get(ids(1))).toBe(ENVIRONMENTS_PER_SHARD);
    expect((await Promise.all(names.map(environmentShard))).filter(Boolean)).toEqual([ids(1)]);
  });

  it('a create that loses the last slot of one shard takes the next shard with room', async () => {
    const pool = [shardOf(ids(1)), shardOf(ids(2))];
    await seedUsage(ids(1), ENVIRONMENTS_PER_SHARD - 1);
    await seedUsage(ids(2), ENVIRONMENTS_PER_SHARD - 1);
    const names = Array.from({ length: 4 }, (_, i) => `many${i}-${run}`);
    await Promise.all(names.map((name) => seedEnvironment(name)));
    const results = await Promise.allSettled(names.map((name) => claimShardSlot(name, `op-${name}`, pool)));
    const placed = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.id] : []));
    expect(placed.sort()).toEqual([ids(1), ids(2)].sort());
    expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason.name === 'LoadBalancersFull')).toBe(true);
    expect(await shardUsage(pool)).toEqual(new Map([[ids(1), ENVIRONMENTS_PER_SHARD], [ids(2), ENVIRONMENTS_PER_SHARD]]));
  });

  it('a burst of 150 creates on a pool with 118 free slots: exactly 118 placed, none past 99 on a shard, the rest told the pool is full', async () => {
    const pool = [shardOf(ids(1)), shardOf(ids(2))];
    await seedUsage(ids(1), 40);
    await seedUsage(ids(2), 40);
    const names = Array.from({ length: 150 }, (_, i) => `burst${i}-${run}`);
    await Promise.all(names.map((name) => seedEnvironment(name)));
    // as the step's Retry would: a claim whose transactions kept conflicting runs again
    const claim = async (name: string): Promise<string> => {
      for (;;) {
        try {
          return (await claimShardSlot(name, `op-${name}`, pool)).id;
        } catch (error) {
          if ((error as Error).name !== 'TransactionConflictException') return (error as Error).name;
        }
      }
    };
    const started = Date.now();
    const outcomes = await Promise.all(names.map(claim));
    console.info(`shard slots: 150 concurrent claims for 118 free slots on DynamoDB Local in ${Date.now() - started} ms`);
    expect(outcomes.filter((o) => o === 'LoadBalancersFull')).toHaveLength(32);
    expect(outcomes.filter((o) => o === ids(1))).toHaveLength(59);
    expect(outcomes.filter((o) => o === ids(2))).toHaveLength(59);
    expect(await shardUsage(pool)).toEqual(new Map([[ids(1), ENVIRONMENTS_PER_SHARD], [ids(2), ENVIRONMENTS_PER_SHARD]]));
    // every slot counted is an environment's recorded shard, and the other way round
    const recorded = await Promise.all(names.map(environmentShard));
    expect(recorded.filter((shard) => shard === ids(1))).toHaveLength(59);
    expect(recorded.filter((shard) => shard === undefined)).toHaveLength(32);
  }, 120_000);

  it('an operation that is no longer current claims nothing', async () => {
    const pool = [shardOf(ids(1))];
    await seedEnvironment(`gone${run}`, 'op-newer');
    await expect(claimShardSlot(`gone${run}`, 'op-older', pool)).rejects.toThrow(/no longer current/);
    expect((await shardUsage(pool)).get(ids(1))).toBe(0);
  });
});

describe('an installation upgraded to the pool', () => {
  it('counts the environments already on s1 (a listener priority, no shard, live) at the first claim, once', async () => {
    const legacy = (name: string, extra: Record<string, unknown>) => dynamodbClient().send(new PutCommand({
      TableName: db.tableName,
      Item: { pk: `ENV#${name}`, sk: 'ENV', name, gsiAllPk: 'ENV', status: 'RUNNING', version: 3, operation: { id: 'op-old', type: 'create', status: 'SUCCEEDED' }, ...extra },
    }));
    await Promise.all([
      legacy('old-1', { listenerPriority: 11 }),
      legacy('old-2', { listenerPriority: 12 }),
      legacy('old-sleeping', { listenerPriority: 13, status: 'SLEEPING' }),
      // not on s1's ALB any more: deleted, never placed (a create that failed first), or placed by the pool
      legacy('old-deleted', { listenerPriority: 14, status: 'DELETED' }),
      legacy('never-placed', { status: 'FAILED' }),
      legacy('placed', { listenerPriority: 15, shard: 's2' }),
    ]);
    const pool = [shardOf('s1'), shardOf('s2')];
    await dynamodbClient().send(new PutCommand({ TableName: db.tableName, Item: { pk: 'SHARD#s2', sk: 'SHARD', kind: 'SHARD', shard: 's2', used: 1 } }));
    await seedEnvironment('first-after-upgrade');
    // s1 holds 3 already: s2 (1) has the most room
    expect((await claimShardSlot('first-after-upgrade', 'op-first-after-upgrade', pool)).id).toBe('s2');
    expect(await shardUsage(pool)).toEqual(new Map([['s1', 3], ['s2', 2]]));
    await seedEnvironment('second-after-upgrade');
    await claimShardSlot('second-after-upgrade', 'op-second-after-upgrade', pool);
    // counted once: s2 had 2 against s1's 3
    expect(await shardUsage(pool)).toEqual(new Map([['s1', 3], ['s2', 3]]));
    // their teardown gives s1's slot back; a record never placed holds none
    expect(slotHeld({ listenerPriority: 11 })).toBe('s1');
    expect(slotHeld({ listenerPriority: 15, shard: 's2' })).toBe('s2');
    expect(slotHeld({})).toBeUndefined();
  });
});

describe('releasing a slot', () => {
  it('gives one back; a counter already at 0 (an inconsistency) is left alone rather than go negative or block the write', async () => {
    await seedUsage(ids(1), 3);
    await transactWrite({ TransactItems: [await shardSlotRelease(ids(1)) as never] });
    expect((await shardUsage([shardOf(ids(1))])).get(ids(1))).toBe(2);
    await seedUsage(ids(2), 0);
    const release = await shardSlotRelease(ids(2));
    expect(release).toHaveProperty('ConditionCheck');
    await transactWrite({ TransactItems: [release as never, await shardSlotRelease(ids(3)) as never] });
    expect(await shardUsage([shardOf(ids(2)), shardOf(ids(3))])).toEqual(new Map([[ids(2), 0], [ids(3), 0]]));
  });
});
