/**
 * Slots on the pool's load balancers (functions/domain/shards.ts): `SHARD#<id>` / `SHARD` counts
 * the environments placed on a shard (`used`). A create's PlanResources claims a slot and records
 * the shard on the environment in one transaction: the counter's `used < 99` and the environment
 * holding no shard yet are its conditions, so two creates can never both take a shard's last slot,
 * and a retried step finds its shard recorded and claims nothing again. The slot is released in
 * the transaction that gives back the listener priority (a create's compensation, the teardown's
 * DELETED): `shardSlotRelease`.
 */
import { BatchGetCommand, GetCommand, PutCommand, QueryCommand, type BatchGetCommandOutput, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import {
  ENVIRONMENTS_PER_SHARD, FIRST_SHARD_ID, chooseShard, LoadBalancersFull, poolFullMessage, shardNamed, type Shard,
} from '#domain/shards.ts';
import { dynamodbClient } from './clients/dynamodb.ts';
import { cancellationCodes, transactWrite } from './environment-store.ts';
import { envKey, shardKey, tableName } from './table-keys.ts';

/** BatchGetItem reads at most 100 keys per call. */
const BATCH_GET_LIMIT = 100;

/** How many environments each shard holds now (a shard never claimed from: 0). */
export async function shardUsage(shards: readonly Pick<Shard, 'id'>[]): Promise<Map<string, number>> {
  const counted = await shardCounters(shards);
  return new Map(shards.map((shard) => [shard.id, counted.get(shard.id) ?? 0]));
}

/** The counters that exist (one BatchGetItem per 100 shards). */
async function shardCounters(shards: readonly Pick<Shard, 'id'>[]): Promise<Map<string, number>> {
  const used = new Map<string, number>();
  for (let start = 0; start < shards.length; start += BATCH_GET_LIMIT) {
    let keys: Record<string, unknown>[] | undefined = shards.slice(start, start + BATCH_GET_LIMIT).map((shard) => shardKey(shard.id));
    while (keys?.length) {
      const page: BatchGetCommandOutput = await dynamodbClient().send(new BatchGetCommand({ RequestItems: { [tableName()]: { Keys: keys, ConsistentRead: true } } }));
      for (const item of page.Responses?.[tableName()] ?? []) {
        if (typeof item.shard === 'string' && typeof item.used === 'number') used.set(item.shard, item.used);
      }
      keys = page.UnprocessedKeys?.[tableName()]?.Keys;
    }
  }
  return used;
}

/**
 * The slot a record holds: its `shard`, or, for a record placed before the pool (a listener
 * priority but no `shard`), s1's, which `seedFirstShard` counted.
 */
export function slotHeld(record: { shard?: string; listenerPriority?: number }): string | undefined {
  return record.shard ?? (record.listenerPriority !== undefined ? FIRST_SHARD_ID : undefined);
}

/**
 * The first claim of an installation upgraded to the pool counts the environments already on
 * s1 (live records holding a listener priority without a `shard`): without it s1 would look
 * empty while its ALB holds them. Their teardown gives the slot back (`slotHeld`). A teardown
 * racing the count may leave s1 one slot short, never over-full. The `all` index is read
 * eventually consistent: a seed is the best reading of it, once.
 */
async function seedFirstShard(): Promise<void> {
  let used = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page: QueryCommandOutput = await dynamodbClient().send(new QueryCommand({
      TableName: tableName(),
      IndexName: 'all',
      KeyConditionExpression: 'gsiAllPk = :all',
      FilterExpression: 'attribute_exists(listenerPriority) AND attribute_not_exists(#shard) AND #status <> :deleted',
      ExpressionAttributeNames: { '#shard': 'shard', '#status': 'status' },
      ExpressionAttributeValues: { ':all': 'ENV', ':deleted': 'DELETED' },
      Select: 'COUNT',
      ExclusiveStartKey: start,
    }));
    used += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  try {
    await dynamodbClient().send(new PutCommand({
      TableName: tableName(),
      Item: { ...shardKey(FIRST_SHARD_ID), kind: 'SHARD', shard: FIRST_SHARD_ID, used },
      ConditionExpression: 'attribute_not_exists(pk)',
    }));
  } catch (error) {
    // another create seeded it first, or claimed from it: that counter stands
    if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
  }
}

/** The environment item's `shard` and whether `operationId` is its running operation. */
async function placement(name: string): Promise<{ shard?: string; operation?: { id?: string; status?: string } } | undefined> {
  const { Item } = await dynamodbClient().send(new GetCommand({
    TableName: tableName(), Key: envKey(name), ConsistentRead: true, ProjectionExpression: '#shard, #op', ExpressionAttributeNames: { '#shard': 'shard', '#op': 'operation' },
  }));
  return Item as { shard?: string; operation?: { id?: string; status?: string } } | undefined;
}

const notCurrent = (name: string, operationId: string) => new Error(`operation ${operationId} of "${name}" is no longer current`);

/**
 * The shard `name` is placed on: the one it holds (a retried step, a retried create whose
 * compensation left resources), else a slot claimed on the open shard with the most room.
 * A lost race for a shard's last slot reads the counters again and tries the next shard.
 * Throws LoadBalancersFull (QUOTA_EXCEEDED) when every open shard is full, before any AWS call.
 */
export async function claimShardSlot(name: string, operationId: string, shards: readonly Shard[]): Promise<Shard> {
  const item = await placement(name);
  if (!item) throw new Error(`environment "${name}" does not exist`);
  if (item.shard !== undefined) return shardNamed(shards, item.shard);
  if (item.operation?.id !== operationId || item.operation.status !== 'RUNNING') throw notCurrent(name, operationId);
  // at most one attempt per shard lost to another create, plus one for a read that was already stale
  if (shards.some((shard) => shard.id === FIRST_SHARD_ID) && !(await shardCounters(shards)).has(FIRST_SHARD_ID)) await seedFirstShard();
  for (let attempt = 0; attempt <= shards.length; attempt++) {
    const shard = chooseShard(shards, await shardUsage(shards));
    if (!shard) throw new LoadBalancersFull(poolFullMessage(shards));
    try {
      await transactWrite({
        TransactItems: [
          {
            Update: {
              TableName: tableName(),
              Key: shardKey(shard.id),
              UpdateExpression: 'SET #kind = :kind, #shard = :id ADD #used :one',
              ConditionExpression: 'attribute_not_exists(#used) OR #used < :max',
              ExpressionAttributeNames: { '#kind': 'kind', '#shard': 'shard', '#used': 'used' },
              ExpressionAttributeValues: { ':kind': 'SHARD', ':id': shard.id, ':one': 1, ':max': ENVIRONMENTS_PER_SHARD },
            },
          },
          {
            Update: {
              TableName: tableName(),
              Key: envKey(name),
              UpdateExpression: 'SET #shard = :id',
              // no shard yet: a concurrent attempt of the same step that won keeps its slot, and this one takes none
              ConditionExpression: '#op.#opid = :op AND #op.#status = :running AND attribute_not_exists(#shard)',
              ExpressionAttributeNames: { '#op': 'operation', '#opid': 'id', '#status': 'status', '#shard': 'shard' },
              ExpressionAttributeValues: { ':id': shard.id, ':op': operationId, ':running': 'RUNNING' },
            },
          },
        ],
      });
      return shard;
    } catch (error) {
      const [counter, environment] = cancellationCodes(error) ?? [];
      if (environment === 'ConditionalCheckFailed') {
        const now = await placement(name);
        if (now?.shard !== undefined) return shardNamed(shards, now.shard);
        throw notCurrent(name, operationId);
      }
      if (counter !== 'ConditionalCheckFailed') {
        // other transactions held the counter through every retry (a burst of creates): named as
        // DynamoDB names a lost race, so the step's Retry runs the claim again
        if (cancellationCodes(error)?.includes('TransactionConflict')) {
          throw Object.assign(new Error(`the load balancer slot counters were busy; retry`, { cause: error }), { name: 'TransactionConflictException' });
        }
        throw error;
      }
      // the shard filled up since the read: read again, the next shard with room is chosen
    }
  }
  throw Object.assign(new Error(`lost the race for a load balancer slot ${shards.length + 1} times; retry`), { name: 'TransactionConflictException' });
}

/**
 * The transaction item that gives back a slot on `shardId`, for the write that ends the
 * environment's hold on it (with `REMOVE shard` on the environment item). A counter that is
 * missing or at 0 (an inconsistency) is left alone rather than go negative or block the
 * teardown: only checked to be still so, like the live counters' release.
 */
export async function shardSlotRelease(shardId: string): Promise<Record<string, unknown>> {
  const { Item } = await dynamodbClient().send(new GetCommand({ TableName: tableName(), Key: shardKey(shardId), ConsistentRead: true }));
  const used = typeof Item?.used === 'number' ? Item.used : 0;
  const names = { '#used': 'used' };
  if (used > 0) {
    return {
      Update: {
        TableName: tableName(),
        Key: shardKey(shardId),
        UpdateExpression: 'SET #used = #used - :one',
        ConditionExpression: '#used > :zero',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':one': 1, ':zero': 0 },
      },
    };
  }
  return {
    ConditionCheck: {
      TableName: tableName(),
      Key: shardKey(shardId),
      ConditionExpression: 'attribute_not_exists(#used) OR #used <= :zero',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ':zero': 0 },
    },
  };
}
