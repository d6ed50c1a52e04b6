/**
 * Where the pool of load balancers lives when it is too big for a Lambda's environment: one item
 * of the state table that the CDK stack writes on every deploy (infra/aws/shards.ts, a custom
 * resource) and local mode at startup (infra/local/shard-pool.ts), and that the Lambdas read
 * when `FLEDGE_SHARD_POOL=table` (functions/adapters/shard-pool.ts). The pool is the same
 * JSON array of `Shard` as FLEDGE_SHARDS (functions/domain/shards.ts).
 */

/** The item's key: one item per installation (its own table). */
export const SHARD_POOL_KEY = { pk: 'POOL#shards', sk: 'POOL' } as const;

/** The attribute holding the pool: the JSON text of the array (or, as written by hand, the list itself). */
export const SHARD_POOL_ATTRIBUTE = 'shards';

/** When the item was last written (ISO 8601). */
export const SHARD_POOL_UPDATED_AT = 'updatedAt';

/** The value of FLEDGE_SHARD_POOL that makes the Lambdas read the pool from the item. */
export const SHARD_POOL_IN_TABLE = 'table';

/** `POOL#shards/POOL`, for messages. */
export const SHARD_POOL_ITEM_NAME = `${SHARD_POOL_KEY.pk}/${SHARD_POOL_KEY.sk}`;
