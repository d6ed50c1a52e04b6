/**
 * Local mode learns its pool of load balancers the way the Lambdas on AWS do (infra/aws/shards.ts):
 * from the state table's item POOL#shards/POOL, with FLEDGE_SHARD_POOL=table. At startup the pool
 * the environment describes (FLEDGE_SHARDS, or the one shard of FLEDGE_LISTENER_ARN and
 * FLEDGE_WAKER_TARGET_GROUP_ARN) is written to DynamoDB Local, as the stack's custom resource
 * writes it at deploy, and loaded; the handlers' wrappers read it again every minute.
 */
import { writeShardPool } from '../../functions/adapters/shard-pool.ts';
import { forgetShardPool, loadShardPool } from '../../functions/commands/shard-pool.ts';
import { readRuntimeConfig, resetConfig, runtimeConfig } from '../../functions/runtime/config.ts';
import type { Shard } from '../../functions/domain/shards.ts';
import { SHARD_POOL_IN_TABLE } from '../../functions/contract/shard-pool-item.ts';

/** Writes the pool of process.env to the table, then switches the process to FLEDGE_SHARD_POOL=table. */
export async function publishShardPool(): Promise<readonly Shard[]> {
  const { shards } = readRuntimeConfig({ ...process.env, FLEDGE_SHARD_POOL: undefined }, undefined);
  await writeShardPool(shards);
  process.env.FLEDGE_SHARD_POOL = SHARD_POOL_IN_TABLE;
  forgetShardPool();
  resetConfig();
  await loadShardPool();
  return runtimeConfig().shards;
}
