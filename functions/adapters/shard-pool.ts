/**
 * The pool of load balancers in the state table (functions/contract/shard-pool-item.ts): the
 * item the CDK stack writes on every deploy, read when FLEDGE_SHARD_POOL=table. A Lambda's 4 KB
 * of environment variables hold 2 shards at most (about 740 bytes each at AWS's longest ARNs);
 * an item holds 400 KB. Read consistently: a deploy that just closed a shard is seen at once.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { parseShardPool, type Shard } from '#domain/shards.ts';
import { SHARD_POOL_ATTRIBUTE, SHARD_POOL_ITEM_NAME, SHARD_POOL_KEY, SHARD_POOL_UPDATED_AT } from '#contract/shard-pool-item.ts';
import { dynamodbClient } from './clients/dynamodb.ts';
import { tableName } from './table-keys.ts';

/** The pool item is missing or does not hold a valid pool: a deployment error, named as such. */
export class ShardPoolUnavailable extends Error {
  override readonly name = 'ShardPoolUnavailable';
}

/** The pool as the item holds it; throws ShardPoolUnavailable naming the item when it is missing or invalid. */
export async function readShardPool(): Promise<Shard[]> {
  const table = tableName();
  const where = `the pool of load balancers (item ${SHARD_POOL_ITEM_NAME} of table ${table}, FLEDGE_SHARD_POOL=table)`;
  const { Item } = await dynamodbClient().send(new GetCommand({ TableName: table, Key: SHARD_POOL_KEY, ConsistentRead: true }));
  if (!Item) throw new ShardPoolUnavailable(`${where} is missing: the stack writes it on every deploy (custom resource ShardPool); deploy the stack again`);
  if (Item[SHARD_POOL_ATTRIBUTE] === undefined) throw new ShardPoolUnavailable(`${where} has no attribute "${SHARD_POOL_ATTRIBUTE}"`);
  try {
    return parseShardPool(Item[SHARD_POOL_ATTRIBUTE]);
  } catch (error) {
    throw new ShardPoolUnavailable(`${where} is invalid: "${SHARD_POOL_ATTRIBUTE}" ${(error as Error).message}`);
  }
}

/** Writes the pool item (local mode at startup; on AWS the stack's custom resource writes the same shape). */
export async function writeShardPool(shards: readonly Shard[], now = new Date()): Promise<void> {
  await dynamodbClient().send(new PutCommand({
    TableName: tableName(),
    Item: { ...SHARD_POOL_KEY, [SHARD_POOL_ATTRIBUTE]: JSON.stringify(shards), [SHARD_POOL_UPDATED_AT]: now.toISOString() },
  }));
}
